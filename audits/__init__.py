"""The audit domain: templates, policies, the workflow and its rules. Pure: no I/O."""
