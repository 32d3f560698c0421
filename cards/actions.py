"""What a card's buttons carry: one verb from `Verb`, the audit id, and a few keys.

Every button is an `Action.Execute` (Universal Actions) whose `data` repeats
the verb, with an `Action.Submit` fallback carrying the same `data`; an
`Action.Submit` message brings only `data` (merged with the inputs), so both
reach the router in the same shape:

    {"verb": "answer_section", "audit_id": "202611-001", "section": "risk", ...inputs}

Keys a button may add to `data` (never the id of an input on the same card):

- `section`: a template section id (answering, moderating, opening a section);
- `action`: the number of an agreed action;
- `card`: with OPEN_AUDIT, which card to show (`Card`); without it the router
  shows whatever the person needs next on that audit.

Everything in `data` is untrusted when it comes back: the router checks the
actor's role on the audit for every verb.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from adaptive_cards.card import ActionExecute, ActionSubmit
from adaptive_cards.types import ActionStyle, AssociatedInputs

from audits.steps import action_number


class Verb(StrEnum):
    OPEN_AUDIT = "open_audit"
    START_AUDIT = "start_audit"
    ANSWER_SECTION = "answer_section"  # save and next
    SAVE_AND_PAUSE = "save_and_pause"
    REVIEW = "review"
    SUBMIT = "submit"
    FAMILY_FEEDBACK = "family_feedback"
    IRO_COMMENTS = "iro_comments"
    MODERATE_SECTION = "moderate_section"
    COMPLETE_MODERATION = "complete_moderation"
    PANEL = "panel"
    CLOSE_AUDIT = "close_audit"
    CONFIRM_PLAN = "confirm_plan"
    COMPLETE_ACTION = "complete_action"
    SIGN_OFF_ACTION = "sign_off_action"
    RETURN_ACTION = "return_action"
    ADD_ACTION = "add_action"
    CHECKLIST = "checklist"  # the practitioner's pre-audit checklist
    PRACTITIONER_FEEDBACK = "practitioner_feedback"
    RECORD_REAUDIT = "record_reaudit"  # the re-audit of a case of concern
    REVIEW_ACTIONS = "review_actions"  # the service manager's review, as a case direction
    TYPE_ANSWER = "type_answer"  # with `section` and `field`: the next message is the answer
    MY_AUDITS = "my_audits"
    HELP = "help"
    # The QA tracker: a page of it (the filters and page number ride in `data`), and one
    # audit's details from a row of it.
    TRACKER_PAGE = "tracker_page"
    AUDIT_DETAILS = "audit_details"


class Card(StrEnum):
    """One card of one audit: what OPEN_AUDIT may ask for (`card` in its data) when it is
    not simply "what is next", and what the application says to show next."""

    SECTION = "section"  # with `section`
    FAMILY_FEEDBACK = "family_feedback"
    AGREED_ACTIONS = "agreed_actions"
    IRO_COMMENTS = "iro_comments"
    MODERATION = "moderation"  # with `section`; without it, the overall judgement
    PANEL = "panel"
    CLOSE = "close"
    PLAN = "plan"
    ACTION = "action"  # with `action`: the owner's completion card
    SIGN_OFF = "sign_off"  # with `action`: the manager's sign-off card
    CHECKLIST = "checklist"
    FEEDBACK = "feedback"  # the social worker's own feedback on the audit
    REVIEW = "review"
    MODERATION_SUMMARY = "moderation_summary"  # the overall judgement
    TYPE_ANSWER = "type_answer"  # with `section` and `field`
    STATUS = "status"  # where the audit stands, for someone with nothing to do on it
    REAUDIT = "reaudit"  # the re-audit form of a case of concern
    ACTIONS_REVIEW = "actions_review"  # the service manager's review of the actions


# Verbs about the person, not one audit: their data has no audit id.
PERSONAL_VERBS = frozenset({Verb.MY_AUDITS, Verb.HELP, Verb.TRACKER_PAGE})
# Verbs that only show something or need no typed input: pressing them never
# waits for (or is blocked by) the inputs on the card.
_NO_INPUTS = frozenset(
    {
        Verb.OPEN_AUDIT,
        Verb.START_AUDIT,
        Verb.REVIEW,
        Verb.CLOSE_AUDIT,
        Verb.SIGN_OFF_ACTION,
        Verb.TYPE_ANSWER,
        Verb.MY_AUDITS,
        Verb.HELP,
        Verb.TRACKER_PAGE,
        Verb.AUDIT_DETAILS,
    }
)
_RESERVED = ("verb", "audit_id")


def action_data(verb: Verb, audit_id: str | None, /, **extra: Any) -> dict[str, Any]:
    """The `data` of a button: the verb, the audit id, then `extra` (None values left out)."""
    verb = Verb(verb)
    if audit_id is None and verb not in PERSONAL_VERBS:
        raise ValueError(f"a '{verb.value}' button needs an audit id")
    clash = [key for key in _RESERVED if key in extra]
    if clash:
        raise ValueError(f"{', '.join(clash)} cannot be given as extra data")
    data: dict[str, Any] = {"verb": verb.value}
    if audit_id is not None:
        data["audit_id"] = audit_id
    data.update({key: _plain(value) for key, value in extra.items() if value is not None})
    return data


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, StrEnum) else value


def button(
    title: str,
    verb: Verb,
    audit_id: str | None,
    *,
    positive: bool = False,
    **extra: Any,
) -> ActionExecute:
    """An `Action.Execute` with an `Action.Submit` fallback that carries the same data."""
    data = action_data(verb, audit_id, **extra)
    inputs = AssociatedInputs.NONE if verb in _NO_INPUTS else None
    style = ActionStyle.POSITIVE if positive else None
    return ActionExecute(
        title=title,
        verb=verb.value,
        data=data,
        style=style,
        associated_inputs=inputs,
        fallback=ActionSubmit(title=title, data=dict(data), style=style, associated_inputs=inputs),
    )


def open_card(step: str) -> dict[str, Any]:
    """The OPEN_AUDIT extras that lead to the card for a deadline step ("action-3" too)."""
    number = action_number(step)
    if number is not None:
        return {"card": Card.ACTION, "action": number}
    card = _STEP_CARDS.get(step)
    return {"card": card} if card else {}


_STEP_CARDS = {
    "iro_comments": Card.IRO_COMMENTS,
    "moderation": Card.MODERATION,
    "closure": Card.CLOSE,
    "coc_plan": Card.PLAN,
    "practitioner_feedback": Card.FEEDBACK,
    "reaudit": Card.REAUDIT,
    "actions_review": Card.ACTIONS_REVIEW,
}
