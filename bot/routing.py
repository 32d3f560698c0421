"""Card data (untrusted) to workflow commands, by the verb the card carries."""

from __future__ import annotations

from typing import Any

from audits import commands as c
from audits.errors import InvalidInput
from cards.actions import Verb

MAX_FIELD = 10_000  # characters of one typed answer (evidence, impact, comments)


def _text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str | int | float):
        raise InvalidInput(f"'{key}' must be text")
    text = str(value)
    if len(text) > MAX_FIELD:
        raise InvalidInput(f"That is too long: at most {MAX_FIELD:,} characters, please shorten it")
    return text


def _number(data: dict[str, Any], key: str) -> int:
    try:
        return int(str(data.get(key, "")).strip())
    except ValueError:
        raise InvalidInput(f"'{key}' must be a number") from None


def command_for(verb: Verb, data: dict[str, Any]) -> c.Command | None:
    """The command a card submit asks for; None for verbs that only show something."""
    match verb:
        case Verb.ANSWER_SECTION | Verb.SAVE_AND_PAUSE:
            values = {
                key.removeprefix("q."): value
                for key, value in data.items()
                if key.startswith("q.") and value not in ("", None)
            }
            for key, value in values.items():
                if isinstance(value, str) and len(value) > MAX_FIELD:
                    raise InvalidInput(f"'{key}' is too long: at most {MAX_FIELD:,} characters")
            return c.AnswerSection(
                section=str(data.get("section", "")),
                grade=_text(data, "grade"),
                evidence=_text(data, "evidence"),
                impact=_text(data, "impact"),
                values=values,
            )
        case Verb.FAMILY_FEEDBACK:
            sought = _text(data, "sought_from") or ""
            return c.RecordFamilyFeedback(
                sought_from=tuple(s.strip() for s in sought.split(",") if s.strip()),
                summary=_text(data, "summary"),
                not_sought_reason=_text(data, "not_sought_reason"),
            )
        case Verb.CHECKLIST:
            answers = {
                key.removeprefix("q."): value
                for key, value in data.items()
                if key.startswith("q.") and value not in ("", None)
            }
            for key, value in answers.items():
                if isinstance(value, str) and len(value) > MAX_FIELD:
                    raise InvalidInput(f"'{key}' is too long: at most {MAX_FIELD:,} characters")
            return c.CompleteChecklist(answers)
        case Verb.PRACTITIONER_FEEDBACK:
            return c.GivePractitionerFeedback(_text(data, "feedback") or "")
        case Verb.IRO_COMMENTS:
            return c.AddIroComments(_text(data, "comments") or "")
        case Verb.SUBMIT:
            return c.Submit(grade_reason=_text(data, "grade_reason"))
        case Verb.MODERATE_SECTION:
            return c.ModerateSection(
                section=str(data.get("section", "")),
                agree=data.get("decision") != "regrade",
                grade=_text(data, "grade"),
                reason=_text(data, "reason"),
            )
        case Verb.COMPLETE_MODERATION:
            return c.CompleteModeration(
                grade=_text(data, "grade") or "",
                evidence=_text(data, "evidence") or "",
                impact=_text(data, "impact") or "",
                grade_reason=_text(data, "grade_reason"),
            )
        case Verb.PANEL:
            return c.RecordPanel(
                outcome=_text(data, "outcome") or "", notes=_text(data, "notes") or ""
            )
        case Verb.CLOSE_AUDIT:
            return c.CloseAudit()
        case Verb.CONFIRM_PLAN:
            return c.ConfirmPlan(plan=_text(data, "plan") or "", owner=_text(data, "owner") or "")
        case Verb.COMPLETE_ACTION:
            return c.CompleteAction(_number(data, "action"), _text(data, "evidence") or "")
        case Verb.SIGN_OFF_ACTION:
            return c.SignOffAction(_number(data, "action"))
        case Verb.RETURN_ACTION:
            return c.ReturnAction(_number(data, "action"), _text(data, "reason") or "")
        case Verb.ADD_ACTION:
            return c.AddAction(
                text=_text(data, "text") or "",
                owner=_text(data, "owner") or "",
                due=_text(data, "due") or "",
            )
    return None
