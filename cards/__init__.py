"""Pure builders: domain state in, Adaptive Card (schema 1.5) JSON dicts out.

Every card is validated against the official schema in the tests, stays
under the Teams size limit, shows the child's ID and never a name, and
carries one `Verb` per button (see `cards.actions`). Wording lives in
`cards.words`; why text is never Markdown is explained in `cards._kit`.
"""

from cards import words
from cards._kit import EMAIL_LENGTH, LONG_TEXT, MAX_CARD_BYTES, SHORT_TEXT, Built, size_of
from cards.actions import Card, Verb, action_data
from cards.agreed import (
    action_completion_card,
    actions_review_card,
    agreed_actions_card,
    sign_off_card,
)
from cards.allocation import allocation_card, iro_comments_card
from cards.closing import close_card, panel_card
from cards.concern import case_of_concern_alert_card, plan_card, reaudit_card
from cards.form import (
    family_feedback_card,
    receipt_card,
    review_card,
    section_card,
    section_receipt_lines,
    type_answer_card,
)
from cards.home import MyAuditRow, help_card, my_audits_card, status_card, welcome_card
from cards.moderation import moderation_card, moderation_summary_card
from cards.notices import notice_card
from cards.practitioner import checklist_card, checklist_state, feedback_card
from cards.reminders import escalation_card, nudge_card
from cards.schema import CardInvalid, validate

__all__ = [
    "EMAIL_LENGTH",
    "LONG_TEXT",
    "MAX_CARD_BYTES",
    "SHORT_TEXT",
    "Built",
    "Card",
    "CardInvalid",
    "MyAuditRow",
    "Verb",
    "action_completion_card",
    "action_data",
    "actions_review_card",
    "agreed_actions_card",
    "allocation_card",
    "case_of_concern_alert_card",
    "checklist_card",
    "checklist_state",
    "close_card",
    "escalation_card",
    "family_feedback_card",
    "feedback_card",
    "help_card",
    "iro_comments_card",
    "moderation_card",
    "moderation_summary_card",
    "my_audits_card",
    "notice_card",
    "nudge_card",
    "panel_card",
    "plan_card",
    "reaudit_card",
    "receipt_card",
    "review_card",
    "section_card",
    "section_receipt_lines",
    "sign_off_card",
    "size_of",
    "status_card",
    "type_answer_card",
    "validate",
    "welcome_card",
    "words",
]
