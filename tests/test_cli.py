"""The `auditbot` command as a QA officer uses it, run in-process on a real SQLite file."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime, time
from pathlib import Path

import pytest

from auditbot.cli import main
from audits.workdays import UK

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
    assert (code, out) == (0, "database at revision 0006\n")


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
