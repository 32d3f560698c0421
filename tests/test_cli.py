"""The `auditbot` command as a QA officer uses it, run in-process on a real SQLite file."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest

from auditbot.cli import main
from audits.workdays import UK
from store.db import head_revision

README = Path(__file__).parent.parent / "README.md"


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUDITBOT_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.delenv("AUDITBOT_ROLES_FILE", raising=False)
    return tmp_path


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _readme_sample() -> str:
    match = re.search(r"```csv\n(.*?)```", README.read_text(), re.S)
    assert match, "the README shows a sample allocation CSV"
    return match.group(1)


def test_readme_sample_allocates_with_policy_deadlines(env, capsys):
    (env / "sample.csv").write_text(_readme_sample())
    code, out, err = _run(capsys, "allocate", "sample.csv")
    assert code == 0, err
    assert out.strip().endswith("4 audits allocated")

    code, out, _ = _run(capsys, "audits", "--json")
    listed = json.loads(out)
    assert [a["child_id"] for a in listed] == ["1234567", "2345678", "3456789", "4567890"]
    assert all(a["status"] == "allocated" for a in listed)
    # The first deadline of a new audit is the IRO/CP chair's 72 hours.
    assert {a["next_deadline"]["step"] for a in listed} == {"iro_comments"}

    code, out, _ = _run(capsys, "show", listed[0]["id"], "--json")
    shown = json.loads(out)
    deadlines = shown["audit"]["deadlines"]
    assert set(deadlines) == {"iro_comments", "audit_completion"}
    due = datetime.fromisoformat(deadlines["audit_completion"]["due_at"]).astimezone(UK)
    assert due.time() == time(17, 30)  # close of business, UK time
    assert shown["history"][0]["what"] == "allocated"

    # The same file again: every child is already in this month's sample.
    code, out, err = _run(capsys, "allocate", "sample.csv")
    assert code == 1 and out == ""
    assert err.splitlines()[0] == "auditbot: nothing allocated: 4 problems in the file"
    assert "line 2: child 1234567 already has audit" in err


def test_bad_file_is_refused_with_each_line(env, capsys):
    lines = _readme_sample().splitlines()
    lines[2] = lines[2].replace("alex.atm@council.example", "Alex ATM")
    lines[3] = lines[3].replace("gus.group@council.example", "mona.mod@council.example")
    (env / "bad.csv").write_text("\n".join(lines) + "\n")
    code, _, err = _run(capsys, "allocate", "bad.csv")
    assert code == 1
    assert err.splitlines() == [
        "auditbot: nothing allocated: 2 problems in the file",
        "line 3: auditor: 'Alex ATM' is not an e-mail address or user principal name",
        "line 4: the auditor and the moderator must be different people",
    ]
    code, out, _ = _run(capsys, "audits")
    assert out.strip() == "No audits."


def test_errors_are_one_line_with_non_zero_status(env, capsys, monkeypatch):
    assert _run(capsys, "show", "202611-404")[0:3:2] == (
        1,
        "auditbot: There is no audit 202611-404\n",
    )
    assert _run(capsys, "allocate", "missing.csv")[2].startswith(
        "auditbot: missing.csv: cannot be read"
    )
    monkeypatch.setenv("AUDITBOT_DATABASE_URL", "mysql://nope")
    code, _, err = _run(capsys, "audits")
    assert code == 1 and err.count("\n") == 1 and "AUDITBOT_DATABASE_URL" in err


def test_db_upgrade(env, capsys):
    code, out, _ = _run(capsys, "db", "upgrade")
    assert (code, out) == (0, f"database at revision {head_revision()}\n")


def test_demo_then_show_history_of_a_moderated_case(env, capsys, monkeypatch):
    code, out, _ = _run(capsys, "demo", "--exit", "--port", "0")
    assert code == 0 and "Demo data loaded" in out
    monkeypatch.setenv("AUDITBOT_DATABASE_URL", f"sqlite+aiosqlite:///{env / 'var/demo.db'}")
    code, out, _ = _run(capsys, "audits", "--json")
    closed = [a for a in json.loads(out) if a["status"] == "closed"]
    assert len(closed) == 1
    code, out, _ = _run(capsys, "show", closed[0]["id"])
    assert code == 0
    assert "Moderation (complete)" in out
    assert "regraded Good → Requires Improvement" in out
    # The strand in the form's words, not its code.
    assert closed[0]["strand"] not in out.splitlines()[1], out
    # People by their directory names (learnt at the allocation), with the address.
    people = out.split("People\n", 1)[1].split("Deadlines", 1)[0]
    assert "IRO/CP chair" in people and "<ira.iro@council.example>" in people, people
    assert "Ira Iro <ira.iro@council.example>" in people, people
    code, listed_out, _ = _run(capsys, "audits")
    assert "@council.example" not in listed_out, listed_out  # the next step's owner by name
    history = out.split("History\n", 1)[1]
    for step in (
        "allocated",
        "status: in_progress → submitted",
        "moderation.identity",
        "status: submitted → moderated",
        "status: panel_agreed → closed",
    ):
        assert step in history
    code, out, _ = _run(capsys, "audits", "--overdue", "--json")
    assert all(a["overdue"] for a in json.loads(out))


def test_sandbox_print_env(env, capsys):
    code, out, _ = _run(capsys, "sandbox", "--print-env", "--port", "9911")
    assert code == 0
    settings = dict(line.split("=", 1) for line in out.splitlines())
    assert list(settings)[:5] == [
        "AUDITBOT_GRAPH_URL",
        "AUDITBOT_AUTHORITY",
        "AUDITBOT_CLIENT_ID",
        "AUDITBOT_CLIENT_SECRET",
        "AUDITBOT_SHAREPOINT_SITE",
    ]
    assert settings["AUDITBOT_GRAPH_URL"] == "https://127.0.0.1:9911/v1.0"
    assert settings["AUDITBOT_AUTHORITY"].startswith("https://127.0.0.1:9911/")


def test_serve_refuses_to_run_unauthenticated_where_others_can_reach_it(env, capsys, monkeypatch):
    monkeypatch.delenv("MicrosoftAppId", raising=False)
    code, out, err = _run(capsys, "serve", "--host", "0.0.0.0", "--port", "0")
    assert code == 2 and not out
    assert "MicrosoftAppId is not set" in err and "--host 127.0.0.1" in err


def test_serve_on_loopback_says_it_is_unauthenticated_whatever_the_log_level(env):
    """On this machine only, anonymous serving is allowed (the Agents Playground), and the
    warning is on stderr even when logging is set to errors only."""
    environment = {
        k: v for k, v in os.environ.items() if k not in ("MicrosoftAppId", "AUDITBOT_LOG_LEVEL")
    }
    environment |= {
        "AUDITBOT_LOG_LEVEL": "ERROR",
        "AUDITBOT_DATABASE_URL": os.environ["AUDITBOT_DATABASE_URL"],
    }
    command = [sys.executable, "-m", "auditbot.cli", "serve", "--host", "127.0.0.1", "--port", "0"]
    with subprocess.Popen(
        command, env=environment, cwd=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as served:
        try:
            assert served.stdout is not None
            listening = served.stdout.readline()  # printed once serving
            assert "auditbot listening on http://127.0.0.1:" in listening
        finally:
            served.terminate()
        _, err = served.communicate(timeout=30)
    assert "requests are NOT authenticated" in err
    # No roles file here: on this machine it serves, and says what reaches no one.
    assert "AUDITBOT_ROLES_FILE is not set; these reach no one" in err
    assert "policy 'swindon'" in err and "needs a QA manager" in err


def test_the_trail_names_who_ran_allocate_extend_and_reassign(env, capsys, monkeypatch):
    """Issue 20 item 16: CLI actions are recorded as the QA officer or manager who ran
    them (--by, else AUDITBOT_OPERATOR), not as "system"."""
    from auditbot.demo import ROLES_FILE

    monkeypatch.setenv("AUDITBOT_ROLES_FILE", str(ROLES_FILE))
    (env / "sample.csv").write_text(_readme_sample())
    code, _, err = _run(capsys, "allocate", "sample.csv", "--by", "Quinn.QA@council.example")
    assert code == 0, err
    code, out, _ = _run(capsys, "audits", "--json")
    first = json.loads(out)[0]["id"]

    monkeypatch.setenv("AUDITBOT_OPERATOR", "maya.qamanager@council.example")
    code, out, _ = _run(capsys, "show", first, "--json")
    due = datetime.fromisoformat(
        json.loads(out)["audit"]["deadlines"]["audit_completion"]["due_at"]
    )
    later = (due.astimezone(UK).date() + timedelta(days=7)).isoformat()
    code, _, err = _run(
        capsys, "extend", first, "audit_completion", "--to", later, "--reason", "Worker on leave"
    )
    assert code == 0, err
    code, _, err = _run(
        capsys,
        "reassign",
        first,
        "moderator",
        "mona.mod@council.example",
        "--reason",
        "Mo is away",
        "--by",
        "quinn.qa@council.example",
    )
    assert code == 0, err

    code, out, _ = _run(capsys, "show", first, "--json")
    actors = {h["what"]: h["actor"] for h in json.loads(out)["history"]}
    assert actors["allocated"] == "quinn.qa@council.example"
    assert [a for w, a in actors.items() if "audit_completion" in w] == [
        "maya.qamanager@council.example"
    ], actors
    assert actors["participants.moderator"] == "quinn.qa@council.example"
    code, out, _ = _run(capsys, "show", first)
    history = out.split("History\n", 1)[1]
    assert "system" not in history and "quinn.qa@council.example" in history

    # Someone outside the QA team is refused, and nothing changes.
    code, _, err = _run(
        capsys,
        "reassign",
        first,
        "moderator",
        "mo.moderator@council.example",
        "--reason",
        "x",
        "--by",
        "ava.auditor@council.example",
    )
    assert code == 1 and err.startswith("auditbot: ")
    monkeypatch.delenv("AUDITBOT_OPERATOR")
    code, _, err = _run(
        capsys, "extend", first, "audit_completion", "--to", later, "--reason", "Leave"
    )
    assert (code, err) == (
        1,
        "auditbot: say who is doing this: --by EMAIL, or set AUDITBOT_OPERATOR to your account\n",
    )


def test_audits_are_listed_in_columns_that_line_up(env, capsys, monkeypatch):
    """Issue 20 item 15: "Inadequate [case of concern]iro_comments" ran together."""
    assert _run(capsys, "demo", "--exit", "--port", "0")[0] == 0
    monkeypatch.setenv("AUDITBOT_DATABASE_URL", f"sqlite+aiosqlite:///{env / 'var/demo.db'}")
    code, out, _ = _run(capsys, "audits")
    assert code == 0
    header, *rows = out.splitlines()
    assert header.split() == ["AUDIT", "CHILD'S", "ID", "STATUS", "GRADE", "NEXT", "DEADLINE"]
    assert any("[case of concern]" in row for row in rows)
    starts = [header.index(name) for name in ("CHILD'S ID", "STATUS", "GRADE", "NEXT DEADLINE")]
    for row in rows:
        for start in starts:
            assert row[start - 2 : start] == "  " and row[start] != " ", (row, start)
    # `show`: the QA manager's address (30 characters) stays apart from what they did.
    concern = next(row.split()[0] for row in rows if "[case of concern]" in row)
    code, out, _ = _run(capsys, "show", concern)
    history = out.split("History\n", 1)[1].splitlines()
    deadlines = out.split("Deadlines (UK time)\n", 1)[1].split("Answers\n", 1)[0].splitlines()
    assert any("maya.qamanager@council.example" in line for line in history)
    assert all(len(re.split(r"\s{2,}", line.strip())) == 3 for line in history), history
    assert all(len(re.split(r"\s{2,}", line.strip())) == 4 for line in deadlines), deadlines


def test_the_status_choices_are_the_audit_statuses():
    from auditbot.cli import STATUSES
    from audits.model import Status

    assert tuple(s.value for s in Status) == STATUSES


def test_help_loads_neither_the_database_nor_the_cards_nor_the_bot():
    """`auditbot --help` answers without importing what only commands need
    (bench/startup.py measures how long it takes)."""
    probe = (
        "import sys, contextlib, io\n"
        "from auditbot.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['--help'])\n"
        "heavy = ('sqlalchemy', 'alembic', 'cards', 'botbuilder', 'msgraph', 'application')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
