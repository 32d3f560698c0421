"""auditbot: the composition root, the application layer and the command line."""
