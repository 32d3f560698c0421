"""reports: documents made from the audit record (see DESIGN.md).

`reports.audit_document.render_audit_document` gives the audit as a Word
document laid out like the council's form. The monthly QA report, charts
and exports land with their own issues.
"""
