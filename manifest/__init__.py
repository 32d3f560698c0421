"""The Teams app package's template, icons and schema, installed as package data.

`auditbot manifest build` reads them with importlib.resources (`auditbot.cli_manifest`).
"""
