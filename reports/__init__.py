"""reports: see DESIGN.md; lands with its own issue."""
