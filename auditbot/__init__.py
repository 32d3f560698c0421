"""auditbot: the entry points and the composition root.

`app.build` makes everything from settings once; `serve` runs the bot's web
server (with the outbox and timers), `cli` the `auditbot` command line,
`demo` the offline demonstration; `settings` reads the environment.
"""
