"""What the tests share, each piece defined once.

- `people`: the people of the tests' council (standing roles, the sample children's
  people, numbered people made up for an allocation).
- `council`: the standing roles file (`roles.yaml`), the four sample children and their
  allocation CSV, the people the directory knows.
- `allocations`: made-up allocations and the rows an upload would give.
- `factories`: audits at a stage (`make_audit(service, stage=...)`, `advance`,
  `fill_audit`, `moderate_audit`), made by the real commands on a real database.
- `clock`: the tests' time (`START`).
- `database`: the PostgreSQL backend when AUDITBOT_TEST_POSTGRES_URL is set.
- `apps`: the whole application, built and started (`started_app`).
- `teams`: plays Microsoft Teams (posts activities, presses card buttons).
- `fake_connector`: a local Bot Connector that records what the bot sends.
"""
