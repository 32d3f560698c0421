"""A council's SharePoint made and checked: `auditbot setup sharepoint` and `auditbot
doctor` against a fresh sandbox site that has no hand-made list, an allocation filed
into what setup made, and people found by UPN or by mail address.

The sandbox refuses what SharePoint and Graph refuse (fields that are not columns,
values of the wrong type, filters on columns without an index, apps without a site
grant, mailboxes outside the app's scope), so each passes only if the bot is right.
"""

from __future__ import annotations

import asyncio
import os
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from application.effects import tracker_fields
from application.tracker_list import TRACKER_COLUMNS, WRITTEN_COLUMNS, ColumnType
from auditbot.cli import main
from sandbox import SITE_ID, TRACKER_LIST, RunningSandbox, sandbox_user_id
from store import contacts
from tests.support.allocations import allocation
from tests.support.apps import started_app
from tests.support.council import HEADER, ROLES_FILE, allocation_csv
from tests.support.factories import make_audit

LISTS = f"/v1.0/sites/{SITE_ID}/lists"
SENDER = "auditbot@council.example"
TED_UPN, TED_MAIL = "ted.lead@council.example", "ted.lead@newshire.example"
SUE_UPN, SUE_MAIL = "sue.manager@council.example", "sue.marsh@council.example"


@pytest.fixture
def m365_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sandbox: RunningSandbox) -> Path:
    """A working directory without .env, pointed at the sandbox and nothing else."""
    for key in list(os.environ):
        if key.startswith(("AUDITBOT_", "Microsoft")):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUDITBOT_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    for key, value in sandbox.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AUDITBOT_ROLES_FILE", str(ROLES_FILE))
    monkeypatch.setenv("AUDITBOT_MAIL_SENDER", SENDER)
    return tmp_path


async def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], str]:
    # The sandbox serves on this loop; the CLI runs its own loop in a thread, as it would alone.
    code = await asyncio.to_thread(main, list(argv))
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


async def _doctor(capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, str]]:
    code, out, _ = await _cli(capsys, "doctor")
    lines = {}
    for line in out:
        mark, rest = line.split(maxsplit=1)
        name, _, detail = rest.partition("  ")
        lines[name.strip()] = f"{mark} {detail.strip()}"
    return code, lines


@pytest.fixture
async def http(sandbox: RunningSandbox) -> AsyncIterator[httpx.AsyncClient]:
    """Graph as an admin's own tools reach it (to make a list by hand, to look)."""
    token = await asyncio.to_thread(_token, sandbox)
    async with httpx.AsyncClient(
        base_url=sandbox.base_url,
        verify=ssl.create_default_context(cafile=str(sandbox.ca_file)),
        headers={"Authorization": f"Bearer {token}"},
    ) as client:
        yield client


def _token(sandbox: RunningSandbox) -> str:
    env = sandbox.env()
    answer = httpx.post(
        f"{env['AUDITBOT_AUTHORITY']}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": env["AUDITBOT_CLIENT_ID"],
            "client_secret": env["AUDITBOT_CLIENT_SECRET"],
            "scope": "https://graph.microsoft.com/.default",
        },
        verify=ssl.create_default_context(cafile=str(sandbox.ca_file)),
    )
    return str(answer.json()["access_token"])


async def _columns(http: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    found = (await http.get(f"{LISTS}/{TRACKER_LIST}/columns")).json()["value"]
    return {column["name"]: column for column in found}


async def _items(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    answer = await http.get(f"{LISTS}/{TRACKER_LIST}/items", params={"$expand": "fields"})
    return [item["fields"] for item in answer.json()["value"]]


async def _make_list_by_hand(http: httpx.AsyncClient, *columns: dict[str, Any]) -> None:
    made = await http.post(LISTS, json={"displayName": TRACKER_LIST, "columns": list(columns)})
    assert made.status_code == 201, made.text


def _words(column: Any) -> str:
    return column.type.words + (", indexed" if column.indexed else "")


# ------------------------------------------------------------------- the columns


async def test_tracker_fields_are_the_columns_setup_makes_with_values_of_their_types(service):
    allocated = tracker_fields(await make_audit(service))
    assert allocated["Allocated"] is not None and allocated["Closed"] is None
    assert allocated["AuditorGrade"] is None  # null, not "": "" is not one of the choices
    fields = tracker_fields(await make_audit(service, "closed", of=allocation("1000002", 2)))
    written = {c.name: c for c in WRITTEN_COLUMNS}
    assert set(fields) | {"Document"} == set(written)
    for name, value in fields.items():
        kind = written[name].type
        if value is None:
            continue
        if kind is ColumnType.BOOLEAN:
            assert isinstance(value, bool), name
        elif kind is ColumnType.DATE_TIME:
            assert isinstance(value, str) and value.endswith("Z"), name
        elif kind is ColumnType.CHOICE:
            assert value in written[name].choices, name
        else:
            assert isinstance(value, str), name
    assert fields["Closed"] is not None and fields["AuditorGrade"] == "Good"
    assert [c.name for c in TRACKER_COLUMNS if c.indexed] == ["AuditId"]


# --------------------------------------------------------- setup sharepoint


async def test_setup_makes_the_tracker_on_a_fresh_site_then_an_allocation_files_into_it(
    m365_env, capsys, http, sandbox
):
    assert (await http.get(LISTS)).json()["value"] == []  # nothing made by hand
    code, out, err = await _cli(capsys, "setup", "sharepoint")
    assert code == 0, err
    assert out == [f"created list '{TRACKER_LIST}'"] + [
        f"created column {c.name} ({_words(c)})" for c in TRACKER_COLUMNS
    ]
    assert (await _columns(http))["AuditId"]["indexed"] is True
    code, out, _ = await _cli(capsys, "setup", "sharepoint")
    assert (code, out) == (0, ["nothing to change"])

    await http.delete("/_sandbox/requests")
    (m365_env / "month.csv").write_text(allocation_csv(1, 2))
    code, out, err = await _cli(capsys, "allocate", "month.csv")
    assert code == 0, err
    items = {fields["ChildId"]: fields for fields in await _items(http)}
    assert sorted(items) == ["1234567", "2345678"]
    first = items["1234567"]
    assert first["AuditId"].endswith("-001") and first["CaseOfConcern"] is False
    assert first["Allocated"].endswith("Z") and first["Closed"] is None
    log = (await http.get("/_sandbox/requests")).json()["requests"]
    refused = [r for r in log if r["status"] >= 400]
    assert refused == [] and any("/lists/" in r["path"] for r in log)


async def test_setup_adds_what_a_hand_made_list_lacks_and_keeps_its_items(m365_env, capsys, http):
    await _make_list_by_hand(http, {"name": "AuditId", "text": {}}, {"name": "Status", "text": {}})
    await http.post(
        f"{LISTS}/{TRACKER_LIST}/items",
        json={"fields": {"AuditId": "202610-001", "Status": "Closed"}},
    )
    code, out, err = await _cli(capsys, "setup", "sharepoint")
    assert code == 0, err
    added = [c for c in TRACKER_COLUMNS if c.name not in ("AuditId", "Status")]
    assert out == [f"created column {c.name} ({_words(c)})" for c in added] + [
        "indexed column AuditId"
    ]
    assert [f["Status"] for f in await _items(http)] == ["Closed"]
    assert (await _columns(http))["AuditId"]["indexed"] is True


async def test_setup_refuses_a_column_of_another_type_and_changes_nothing(m365_env, capsys, http):
    await _make_list_by_hand(
        http, {"name": "AuditId", "text": {}}, {"name": "CaseOfConcern", "text": {}}
    )
    before = await _columns(http)
    code, out, err = await _cli(capsys, "setup", "sharepoint")
    assert code == 1 and out == []
    assert "refused: column CaseOfConcern is text but auditbot writes yes/no" in err
    assert err.strip().splitlines()[-1].endswith("nothing was changed")
    assert await _columns(http) == before


async def test_setup_without_a_site_grant_says_which_grant(m365_env, capsys, sandbox):
    sandbox.grants.site_granted = False
    code, out, err = await _cli(capsys, "setup", "sharepoint")
    assert code == 1 and out == []
    assert "Sites.Selected" in err and err.count("\n") == 1


# ------------------------------------------------------------------- doctor


async def test_doctor_explains_a_missing_tracker_then_passes_after_setup(m365_env, capsys):
    code, lines = await _doctor(capsys)
    assert code == 1
    assert lines["tracker list"].startswith("FAIL ")
    assert "auditbot setup sharepoint" in lines["tracker list"]
    assert (
        lines["sharepoint site"].startswith("ok ")
        and "document library" in lines["sharepoint site"]
    )
    assert (await _cli(capsys, "setup", "sharepoint"))[0] == 0
    code, lines = await _doctor(capsys)
    assert code == 0, lines
    assert lines["tracker list"] == (
        f"ok list '{TRACKER_LIST}': all {len(TRACKER_COLUMNS)} columns of the right types, "
        "AuditId indexed"
    )
    assert lines["mail sender"].startswith("ok ") and "mailbox" in lines["mail sender"]


async def test_doctor_names_each_missing_column_wrong_type_and_the_index(m365_env, capsys, http):
    await _make_list_by_hand(
        http,
        {"name": "AuditId", "text": {}},
        {"name": "Closed", "boolean": {}},
        *[
            {"name": c.name, c.type.facet: {"choices": list(c.choices)} if c.choices else {}}
            for c in TRACKER_COLUMNS
            if c.name not in ("AuditId", "Closed", "Team", "Strand")
        ],
    )
    code, lines = await _doctor(capsys)
    assert code == 1
    detail = lines["tracker list"]
    assert detail.startswith("FAIL ")
    assert "column Closed is yes/no but auditbot writes date and time" in detail
    assert "it has no column Strand, Team" in detail
    assert "column AuditId is not indexed" in detail


async def test_doctor_finds_a_mail_sender_without_a_mailbox(m365_env, capsys, monkeypatch):
    assert (await _cli(capsys, "setup", "sharepoint"))[0] == 0
    monkeypatch.setenv("AUDITBOT_MAIL_SENDER", "front.desk@council.example")
    code, lines = await _doctor(capsys)
    assert code == 1
    assert lines["mail sender"].startswith("FAIL ")
    assert "without an Exchange Online mailbox" in lines["mail sender"]
    assert "MailboxNotEnabledForRESTAPI" in lines["mail sender"]


async def test_doctor_names_the_grants_the_app_lacks(m365_env, capsys, sandbox):
    assert (await _cli(capsys, "setup", "sharepoint"))[0] == 0
    sandbox.grants.update({"mailbox_scope": ["quinn.qa@council.example"]})
    code, lines = await _doctor(capsys)
    assert code == 1
    assert lines["calendar"].startswith("ok ")  # the QA officer is in scope
    assert lines["mail sender"].startswith("FAIL ")
    assert "application access policy" in lines["mail sender"]
    sandbox.grants.update({"mailbox_scope": None, "site_granted": False})
    code, lines = await _doctor(capsys)
    assert (
        lines["sharepoint site"].startswith("FAIL ")
        and "Sites.Selected" in lines["sharepoint site"]
    )
    assert lines["tracker list"].startswith("skip ")


# ---------------------------------------------------------------- directory


async def test_people_found_by_mail_keep_the_address_the_allocation_gave(sandbox, tmp_path, http):
    row = ",".join(
        [
            "3456789",
            "Care Experienced Young People",
            "Leaving Care Team",
            "pat.pa@council.example",
            TED_MAIL,  # the auditor: mail is not the UPN
            "ian.chair@council.example",
            "mona.mod@council.example",
            "t.lead@council.example".replace("t.lead", "tia.manager"),
            SUE_MAIL,
        ]
    )
    env = {**sandbox.env(), "AUDITBOT_MAIL_SENDER": SENDER}
    async with started_app(tmp_path, env) as app:
        from audits.allocation_csv import parse_allocation_csv
        from audits.workflow import SYSTEM

        rows = parse_allocation_csv(f"{HEADER}\n{row}\n", app.catalog)
        [outcome] = await app.service.allocate(SYSTEM, rows)
        assert outcome.audit.participants.auditor == TED_MAIL  # kept as given
        assert app.dispatcher is not None
        await app.dispatcher.drain()
        async with app.db.reading() as conn:
            assert await contacts.object_id_of(conn, TED_MAIL) == sandbox_user_id(TED_UPN)
            assert await contacts.object_id_of(conn, SUE_MAIL) == sandbox_user_id(SUE_UPN)
        events = (await http.get(f"/v1.0/users/{TED_UPN}/events")).json()["value"]
        assert len(events) == 1  # the deadline is on the auditor's own calendar
        assert app.graph is not None
        by_alias = await app.graph.resolve(["t.lead@council.example", "nobody@council.example"])
        assert by_alias["nobody@council.example"] is None
        found = by_alias["t.lead@council.example"]
        assert found is not None and found.upn == TED_UPN


async def test_setup_without_microsoft_365_settings_says_so(m365_env, capsys, monkeypatch):
    monkeypatch.delenv("AUDITBOT_GRAPH_URL")
    code, out, err = await _cli(capsys, "setup", "sharepoint")
    assert (code, out) == (1, [])
    assert "AUDITBOT_GRAPH_URL is not set" in err and err.count("\n") == 1
