"""Agreed actions: adding them, the owner marking one complete, the manager signing it off."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adaptive_cards.card import ActionShowCard, InputDate

from audits.model import ActionStatus, AgreedAction, Audit
from audits.templates import Template
from cards import _kit as k
from cards import _parts as p
from cards import words
from cards.actions import Card, Verb, button


def _action(audit: Audit, number: int) -> AgreedAction:
    action = audit.action(number)
    if action is None:
        raise ValueError(f"audit {audit.id} has no action {number}")
    return action


def _facts(action: AgreedAction, names: Mapping[str, str]) -> list[k.Element]:
    return [
        k.fact(words.ACTION_OWNER, words.person(action.owner, names)),
        k.fact(words.ACTION_DUE, words.day(action.due)),
        k.fact(words.STATUS, words.ACTION_STATUS[action.status]),
    ]


def _listed(action: AgreedAction, limit: int | None, names: Mapping[str, str]) -> k.Element:
    """One action in a list of them: its number, its words (cut to `limit`), its facts."""
    return k.box(
        [
            k.text(words.action_title(action.number), bold=True),
            k.text(k.cut(action.text, limit)),
            *_facts(action, names),
        ],
        separator=True,
    )


def action_completion_card(
    audit: Audit, action_number: int, names: Mapping[str, str] = words.NO_NAMES
) -> dict[str, Any]:
    """For the person responsible: the action, and the evidence that it is done."""
    action = _action(audit, action_number)
    body: list[k.Element] = [
        k.heading(words.action_title(action.number)),
        p.about(audit.id, audit.child_id),
        k.text(k.shorten(action.text, k.SHORT_TEXT * 2)),
        *_facts(action, names),
    ]
    if action.status is not ActionStatus.OPEN:
        return k.card(body)
    body.append(
        k.text_input(
            "evidence",
            words.COMPLETION_EVIDENCE,
            required=True,
            error=words.COMPLETION_EVIDENCE_MISSING,
        )
    )
    return k.card(
        body,
        [
            button(
                words.MARK_COMPLETE,
                Verb.COMPLETE_ACTION,
                audit.id,
                positive=True,
                action=action.number,
            )
        ],
    )


def sign_off_card(
    audit: Audit, action_number: int, names: Mapping[str, str] = words.NO_NAMES
) -> dict[str, Any]:
    """For the manager: the evidence given; Sign off, or Return it with a reason."""
    action = _action(audit, action_number)

    def build(limit: int | None) -> dict[str, Any]:
        body: list[k.Element] = [
            k.heading(words.sign_off_title(action.number)),
            p.about(audit.id, audit.child_id),
            k.text(k.cut(action.text, limit)),
            *_facts(action, names),
        ]
        if action.completed_by:
            body.append(k.fact(words.COMPLETED_BY, words.person(action.completed_by, names)))
        if action.evidence:
            body += k.block(words.COMPLETION_EVIDENCE, k.cut(action.evidence, limit))
        if action.status is not ActionStatus.COMPLETED:
            return k.card(body)
        body.append(k.text(words.SIGN_OFF_INTRO))
        # The reason lives in its own small card, so Sign off never asks for it.
        returning = k.inner_card(
            [
                k.text_input(
                    "reason",
                    words.RETURN_REASON,
                    max_length=k.SHORT_TEXT,
                    required=True,
                    error=words.RETURN_REASON_MISSING,
                )
            ],
            [
                button(
                    words.RETURN_ACTION_CONFIRM,
                    Verb.RETURN_ACTION,
                    audit.id,
                    action=action.number,
                )
            ],
        )
        return k.card(
            body,
            [
                button(
                    words.SIGN_OFF,
                    Verb.SIGN_OFF_ACTION,
                    audit.id,
                    positive=True,
                    action=action.number,
                ),
                ActionShowCard(title=words.RETURN_ACTION, card=returning),
            ],
        )

    return k.fitted(build, max(len(action.text), len(action.evidence or "")))


def agreed_actions_card(
    audit: Audit,
    template: Template,
    *,
    moderation: bool = False,
    reaudit: bool = False,
    names: Mapping[str, str] = words.NO_NAMES,
) -> dict[str, Any]:
    """The actions agreed so far and a form to add one (the auditor's, the moderator's, or
    the re-auditor's where the re-audit form has its own actions: Bristol's "Actions
    required | Responsibility | By when")."""
    if reaudit:
        number, title = None, words.REAUDIT_ACTIONS_TITLE
        guidance = template.reaudit.title if template.reaudit else None
    elif moderation:
        part = template.moderation
        number, title = part.additional_actions_number, part.additional_actions_title
        guidance = part.additional_actions_prompt
    else:
        number, title, guidance = (
            template.actions.number,
            template.actions.title,
            template.actions.guidance,
        )
    heading = f"{number}. {title}" if number is not None else title

    def build(limit: int | None) -> dict[str, Any]:
        body: list[k.Element] = [k.heading(heading), p.about(audit.id, audit.child_id)]
        if guidance:
            body.append(k.text(guidance.strip(), subtle=True))
        if not audit.actions:
            body.append(k.text(words.NO_ACTIONS))
        body += [_listed(action, limit, names) for action in audit.actions]
        body += [
            k.subheading(words.NEW_ACTION),
            k.text_input(
                "text",
                words.ACTION_TEXT,
                max_length=k.SHORT_TEXT,
                required=True,
                error=words.ACTION_TEXT_MISSING,
            ),
            k.email_input(
                "owner", words.ACTION_OWNER_INPUT, required=True, error=words.ACTION_OWNER_MISSING
            ),
            InputDate(
                id="due",
                label=words.ACTION_DUE,
                is_required=True,
                error_message=words.ACTION_DUE_MISSING,
            ),
        ]
        if reaudit:
            back = button(words.BACK_TO_REAUDIT, Verb.OPEN_AUDIT, audit.id, card=Card.REAUDIT)
        elif moderation:
            back = button(
                words.OVERALL_JUDGEMENT_BUTTON, Verb.OPEN_AUDIT, audit.id, card=Card.MODERATION
            )
        else:
            back = button(words.CHECK_AND_SUBMIT, Verb.REVIEW, audit.id)
        return k.card(
            body, [button(words.ADD_ACTION, Verb.ADD_ACTION, audit.id, positive=True), back]
        )

    return k.fitted(build, max((len(a.text) for a in audit.actions), default=0))


def actions_review_card(audit: Audit, names: Mapping[str, str] = words.NO_NAMES) -> dict[str, Any]:
    """For the service manager: the agreed actions as they stand, and the update that is
    added as a case direction (Bristol: "reviewed by the Service Manager within 1 month
    and update added as a case direction")."""
    deadline = audit.deadlines.get("actions_review")

    def build(limit: int | None) -> dict[str, Any]:
        body: list[k.Element] = [
            k.heading(words.ACTIONS_REVIEW_TITLE),
            p.about(audit.id, audit.child_id),
        ]
        if deadline is not None and deadline.open:
            body.append(k.fact(words.ACTIONS_REVIEW_DUE, words.when(deadline.due_at)))
        if not audit.actions:
            body.append(k.text(words.NO_ACTIONS))
        body += [_listed(action, limit, names) for action in audit.actions]
        body.append(
            k.text_input(
                "update",
                words.ACTIONS_REVIEW_UPDATE,
                required=True,
                error=words.ACTIONS_REVIEW_UPDATE_MISSING,
            )
        )
        return k.card(
            body,
            [button(words.SAVE_CASE_DIRECTION, Verb.REVIEW_ACTIONS, audit.id, positive=True)],
        )

    return k.fitted(build, max((len(a.text) for a in audit.actions), default=0))
