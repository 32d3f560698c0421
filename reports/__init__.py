"""Documents made from the audit record: each audit's Word document, the monthly
QA report (Word, workbook, charts) and the CSV/JSON exports.

Figures are computed from rows the store reads; rendering makes bytes; nothing
here sends anything (the outbox files what these make).
"""
