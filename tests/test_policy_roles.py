"""A policy that gives work or notice to a role the roles file names nobody for is
refused, naming the role: at start-up and by `auditbot templates check`. Before,
with no QA manager in the roles file, the closure and re-audit deadlines were
never created and nobody was told."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from auditbot.app import build
from auditbot.cli import main
from auditbot.settings import Settings
from audits.catalog import SHIPPED, check_roles, load_catalog
from audits.errors import ConfigError
from audits.roles import Role, StandingRoles, load_standing_roles
from tests.support.council import ROLES_FILE

FULL = yaml.safe_load(ROLES_FILE.read_text(encoding="utf-8"))


def _roles(tmp_path: Path, **drop: bool) -> Path:
    values = {k: v for k, v in FULL.items() if k not in drop}
    path = tmp_path / "roles.yaml"
    path.write_text(yaml.safe_dump(values), encoding="utf-8")
    return path


def test_the_tests_council_names_every_role_every_shipped_policy_needs():
    catalog = load_catalog()
    standing = load_standing_roles(ROLES_FILE)
    for policy in catalog.policies.values():
        assert policy.missing_roles(standing) == [], policy.id


def test_no_qa_manager_is_named_as_missing_for_swindon():
    standing = load_standing_roles(ROLES_FILE).model_copy(update={"qa_managers": ()})
    swindon = load_catalog().policy("swindon")
    missing = swindon.missing_roles(standing)
    assert missing, "a policy without its QA manager was accepted"
    assert all("QA manager" in line and "qa_managers" in line for line in missing)
    assert any("steps.closure.actor" in line for line in missing)
    assert any("steps.reaudit.actor" in line for line in missing)


def test_a_role_only_told_is_needed_too():
    # Bristol's QA SW (QA officer) is told of an Inadequate at once and shares the audit.
    standing = StandingRoles(qa_managers=("m@council.example",))
    missing = load_catalog().policy("bristol").missing_roles(standing)
    assert any("QA officer" in line for line in missing)


def test_every_standing_role_has_a_key_in_the_roles_file():
    for role in (Role.QA_OFFICER, Role.QA_MANAGER, Role.HEAD_OF_SERVICE, Role.QA_INBOX):
        assert not StandingRoles().has(role)
    # Roles the allocation gives are never missing from the roles file.
    assert StandingRoles().has(Role.AUDITOR)


def test_check_roles_names_the_file_the_policy_and_the_role(tmp_path):
    path = _roles(tmp_path, qa_managers=True)
    with pytest.raises(ConfigError) as caught:
        check_roles(load_catalog(), load_standing_roles(path), path)
    message = str(caught.value)
    assert str(path) in message
    assert "policy 'swindon'" in message
    assert "needs a QA manager" in message


def test_start_up_is_refused_without_a_qa_manager(tmp_path):
    path = _roles(tmp_path, qa_managers=True)
    settings = Settings(
        AUDITBOT_ROLES_FILE=str(path),
        AUDITBOT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'a.db'}",
    )
    with pytest.raises(ConfigError, match="needs a QA manager"):
        build(settings)


def test_start_up_with_every_role_named_goes_ahead(tmp_path):
    settings = Settings(
        AUDITBOT_ROLES_FILE=str(ROLES_FILE),
        AUDITBOT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'a.db'}",
    )
    assert build(settings).catalog.policies


def test_templates_check_refuses_a_policy_whose_role_is_missing(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("AUDITBOT_CONFIG_DIR", raising=False)
    monkeypatch.setenv("AUDITBOT_ROLES_FILE", str(_roles(tmp_path, qa_officers=True)))
    policy = SHIPPED / "policies" / "bristol.yaml"
    assert main(["templates", "check", str(policy)]) == 1
    err = capsys.readouterr().err
    assert f"{policy}: policy 'bristol'" in err
    assert "needs a QA officer" in err


def test_templates_check_passes_with_every_role(capsys, monkeypatch):
    monkeypatch.delenv("AUDITBOT_CONFIG_DIR", raising=False)
    monkeypatch.setenv("AUDITBOT_ROLES_FILE", str(ROLES_FILE))
    policy = SHIPPED / "policies" / "bristol.yaml"
    assert main(["templates", "check", str(policy)]) == 0
    assert capsys.readouterr().err == ""


def test_the_qa_inbox_a_policy_copies_the_closed_audit_to_is_needed():
    # Swindon shares the closed audit with the QA inbox; Stage 2 copies the moderation
    # to it. Before, only steps, escalations and the Inadequate alert were counted, so
    # a roles file without the inbox was accepted and the copies went nowhere.
    standing = load_standing_roles(ROLES_FILE).model_copy(update={"qa_inbox": None})
    catalog = load_catalog()
    swindon = catalog.policy("swindon").missing_roles(standing)
    assert any("QA inbox" in line and "closed_to" in line for line in swindon), swindon
    stage123 = catalog.policy("stage123").missing_roles(standing)
    assert any("moderation_complete_also_to" in line for line in stage123), stage123


def _env_without_roles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUDITBOT_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    for name in ("AUDITBOT_ROLES_FILE", "AUDITBOT_CONFIG_DIR", "MicrosoftAppId"):
        monkeypatch.delenv(name, raising=False)


def test_serve_where_others_can_reach_it_is_refused_without_a_roles_file(
    tmp_path, capsys, monkeypatch
):
    _env_without_roles(tmp_path, monkeypatch)
    code = main(
        ["serve", "--host", "0.0.0.0", "--port", "0", "--dangerously-allow-unauthenticated"]
    )
    out, err = capsys.readouterr()
    assert code == 2 and "listening" not in out
    assert "AUDITBOT_ROLES_FILE is not set" in err
    # Each policy and role that would reach no one is named.
    assert "policy 'swindon'" in err and "needs a QA manager" in err
    assert "policy 'bristol'" in err and "needs a QA officer" in err
    assert "no roles file is set to name one (qa_inbox)" in err


def test_templates_check_says_the_roles_were_not_checked_without_a_roles_file(
    tmp_path, capsys, monkeypatch
):
    _env_without_roles(tmp_path, monkeypatch)
    assert main(["templates", "check", str(SHIPPED / "policies" / "bristol.yaml")]) == 0
    out = capsys.readouterr().out
    assert "roles not checked: AUDITBOT_ROLES_FILE is not set" in out
