"""What `auditbot templates check FILE` does: validate a council's own audit tool or policy.

Needs neither settings nor a database: it reads the files it is given, the
built-in audit tools, and the council's folder named by AUDITBOT_CONFIG_DIR
(if set), so a QA team can check a file before putting it in place.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from auditbot.cli_templates import CONFIG_DIR_ENV, ROLES_FILE_ENV
from audits.catalog import SHIPPED
from audits.errors import ConfigError
from audits.policies import Policy, load_policy
from audits.roles import load_standing_roles
from audits.templates import SectionKind, Template, load_template


def check_files(paths: Iterable[Path], config_dir: Path | None) -> tuple[list[str], list[str]]:
    """Checks each file; returns the 'ok: …' lines and the problems, each naming its file."""
    paths = list(paths)
    checked: list[tuple[Path, Template | Policy]] = []
    problems: list[str] = []
    for path in paths:
        try:
            checked.append((path, _load(path)))
        except ConfigError as exc:
            problems += [_readable(line) for line in str(exc).splitlines()]
    known = _known_templates(config_dir) | {
        item.id for _, item in checked if isinstance(item, Template)
    }
    oks: list[str] = []
    for path, item in checked:
        found = _consistency(path, item, known)
        if found:
            problems += found
        else:
            oks.append(_summary(item))
    return oks, problems


def check_policy_roles(paths: Iterable[Path], roles_file: Path) -> list[str]:
    """Each role a policy among `paths` needs that `roles_file` names nobody for."""
    try:
        standing = load_standing_roles(roles_file)
    except ConfigError as exc:
        return [_readable(line) for line in str(exc).splitlines()]
    problems = []
    for path in paths:
        try:
            item = _load(path)
        except ConfigError:
            continue  # already reported by check_files
        if isinstance(item, Policy):
            problems += [f"{path}: {line}" for line in item.missing_roles(standing)]
    return problems


def _safe_load(path: Path) -> Template | Policy | None:
    try:
        return _load(path)
    except ConfigError:
        return None  # reported by check_files


def _load(path: Path) -> Template | Policy:
    raw = _raw(path)
    if raw is None:
        # Unreadable, not YAML or not a mapping: the loader says which, and where.
        return load_template(path)
    if "steps" in raw or "default_template" in raw:
        return load_policy(path)
    if "sections" in raw or "overall_section" in raw:
        try:
            return load_template(path)
        except ConfigError as exc:
            shown = _readable(str(exc))
            extra = [p for p in _structure_problems(path, raw) if p not in shown]
            raise ConfigError("\n".join([str(exc), *extra])) from exc
    raise ConfigError(
        f"{path}: (top level): neither an audit tool (it has no 'sections') "
        "nor a process policy (it has no 'steps')"
    )


def _raw(path: Path) -> dict[str, Any] | None:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    return raw if isinstance(raw, dict) else None


def _structure_problems(path: Path, raw: dict[str, Any]) -> list[str]:
    """Whole-template problems the model checks only once every field is valid.

    A file with a mistyped question would otherwise hide, until that is fixed,
    that its overall_section names no section.
    """
    sections = raw.get("sections")
    if not isinstance(sections, list):
        return []
    ids = [s.get("id") for s in sections if isinstance(s, dict)]
    problems = []
    duplicates = sorted({str(i) for i in ids if i is not None and ids.count(i) > 1})
    if duplicates:
        problems.append(f"{path}: (top level): section ids used twice: {', '.join(duplicates)}")
    overall = raw.get("overall_section")
    if isinstance(overall, str):
        kinds = {s.get("id"): s.get("kind") for s in sections if isinstance(s, dict)}
        if overall not in kinds:
            problems.append(f"{path}: (top level): overall_section '{overall}' is not a section")
        elif kinds[overall] != SectionKind.GRADED.value:
            problems.append(f"{path}: (top level): overall_section '{overall}' must be graded")
    return problems


def _known_templates(config_dir: Path | None) -> set[str]:
    # The catalog insists that a file's name is its id, so the names suffice.
    folders = [SHIPPED] + ([config_dir] if config_dir else [])
    return {path.stem for folder in folders for path in (folder / "templates").glob("*.yaml")}


def _consistency(path: Path, item: Template | Policy, known: set[str]) -> list[str]:
    problems = []
    if path.stem != item.id:
        problems.append(
            f"{path}: id: '{item.id}' must match the file name '{path.stem}' "
            f"(name the file {item.id}.yaml)"
        )
    if isinstance(item, Policy) and item.default_template not in known:
        problems.append(
            f"{path}: default_template: '{item.default_template}' is not an audit tool "
            f"(known: {', '.join(sorted(known))})"
        )
    return problems


def _summary(item: Template | Policy) -> str:
    if isinstance(item, Policy):
        steps = len(item.steps)
        steps_off = ", ".join(s.value for s in item.steps_off)
        return (
            f"ok: {item.id} ({item.name}), policy with {steps} step{'s' if steps != 1 else ''}"
            + (f" and off (council options): {steps_off}" if steps_off else "")
            + f", default audit tool {item.default_template}"
        )
    questions = sum(len(s.questions) for s in item.sections)
    line = f"ok: {item.id} ({item.name}), {len(item.sections)} sections, {questions} questions"
    if item.checklist is not None:
        line += f", pre-audit checklist of {len(item.checklist.questions)} questions"
    off = len(item.own_questions_off)
    if off:
        line += f", {off} question{'s' if off != 1 else ''} of auditbot's own off (own_questions)"
    return line


def _readable(problem: str) -> str:
    # pydantic prefixes the model's own checks with "Value error, ".
    return problem.replace(": Value error, ", ": ")


def check(args: argparse.Namespace) -> int:
    if args.templates_command != "check":  # pragma: no cover - argparse requires an action
        return 2
    config = os.environ.get(CONFIG_DIR_ENV)
    config_dir = Path(config) if config else None
    oks, problems = check_files(args.files, config_dir)
    roles = os.environ.get(ROLES_FILE_ENV)
    if roles:
        problems += check_policy_roles(args.files, Path(roles))
    elif any(isinstance(_safe_load(path), Policy) for path in args.files):
        oks.append(
            f"roles not checked: {ROLES_FILE_ENV} is not set; set it to check that the "
            "roles file names someone for every role the policies need"
        )
    if config_dir is not None and not config_dir.is_dir():
        problems.append(f"{config_dir}: {CONFIG_DIR_ENV} names a folder that does not exist")
    for line in oks:
        print(line)
    for line in problems:
        print(line, file=sys.stderr)
    if problems:
        count = len(problems)
        print(f"{count} problem{'s' if count != 1 else ''} found", file=sys.stderr)
        return 1
    return 0
