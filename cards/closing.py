"""The QA panel's findings and closing the audit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from audits.grades import Grade
from audits.model import Audit
from cards import _kit as k
from cards import _parts as p
from cards import words
from cards.actions import Verb, button


def panel_card(audit: Audit) -> dict[str, Any]:
    """For QA: the moderated grade, then agreed (can be closed) or returned with notes."""
    regraded = (
        sum(1 for d in audit.moderation.sections.values() if not d.agreed)
        if audit.moderation
        else 0
    )
    return panel(
        audit.id,
        audit.child_id,
        audit.moderated_grade,
        auditor_grade=audit.auditor_grade,
        regraded=regraded,
    )


def panel(
    audit_id: str,
    child_id: str,
    grade: Grade | str | None,
    *,
    auditor_grade: Grade | str | None = None,
    regraded: int | None = None,
    resubmitted: bool = False,
) -> dict[str, Any]:
    """`panel_card` from a notice's data alone."""
    body: list[k.Element] = [
        k.heading(words.READY_FOR_PANEL if resubmitted else words.PANEL_TITLE),
        *p.ids(audit_id, child_id),
        k.fact(words.MODERATED_GRADE, words.grade(grade)),
    ]
    if auditor_grade:
        body.append(k.fact(words.AUDITOR_OVERALL, words.grade(auditor_grade)))
    if regraded is not None:
        body.append(k.text(words.regraded_count(regraded)))
    if resubmitted:
        body.append(k.text(words.RESUBMITTED))
    body += [
        k.text(words.PANEL_INTRO),
        k.choices(
            "outcome",
            words.PANEL_OUTCOME,
            list(words.PANEL_OUTCOMES.items()),
            expanded=True,
            required=True,
            error=words.PANEL_OUTCOME_MISSING,
        ),
        k.text_input("notes", words.PANEL_NOTES),
    ]
    return k.card(body, [button(words.RECORD_PANEL, Verb.PANEL, audit_id, positive=True)])


def close_card(audit: Audit, *, panel: bool = True) -> dict[str, Any]:
    """For QA once the panel agreed (or, with no panel, once moderated): Close the audit."""
    return closing(audit.id, audit.child_id, audit.final_grade, panel=panel)


def closing(
    audit_id: str,
    child_id: str,
    grade: Grade | str | None,
    *,
    panel: bool,
    due: datetime | None = None,
) -> dict[str, Any]:
    """`close_card` from a notice's data alone."""
    body: list[k.Element] = [
        k.heading(words.CLOSE_TITLE if panel else words.READY_TO_CLOSE),
        *p.ids(audit_id, child_id),
        k.fact(words.FINAL_GRADE, words.grade(grade)),
    ]
    if due is not None:
        body.append(k.fact(words.CLOSE_BY, words.when(due)))
    body.append(k.text(words.CLOSE_INTRO if panel else words.CLOSE_INTRO_NO_PANEL))
    return k.card(body, [button(words.CLOSE_AUDIT, Verb.CLOSE_AUDIT, audit_id, positive=True)])
