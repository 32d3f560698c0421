"""Views (what the application says to show) drawn as Adaptive Cards."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import cards
from application.inputs import MAX_FIELD
from application.views import (
    AuditDetailsView,
    AuditView,
    HelpView,
    MyAuditsView,
    ReceiptView,
    ReportView,
    StatusView,
    TrackerView,
    View,
    WelcomeView,
)
from audits.model import AUDITOR_EDITABLE, Status
from cards import words
from cards.actions import Card
from cards.report import report_card
from cards.tracker import audit_details_card, tracker_card

log = logging.getLogger(__name__)


def render(view: View, names: Mapping[str, str] = words.NO_NAMES) -> dict[str, Any]:
    """The card for a view, people shown by `names`; never one Teams would refuse as too
    big. The cards shorten what they show to fit (with a way to see the rest); should one
    still not fit, a short card says so rather than the reply failing."""
    card = _card(view, names)
    if cards.size_of(card) > cards.MAX_CARD_BYTES:
        size = cards.size_of(card)
        log.error("a %s card was %d bytes; sent a short one", type(view).__name__, size)
        return cards.receipt_card(words.CARD_TOO_BIG, [])
    return card


def _card(view: View, names: Mapping[str, str]) -> dict[str, Any]:
    match view:
        case AuditView():
            return _audit_card(view, names)
        case HelpView(qa):
            return cards.help_card(qa)
        case WelcomeView():
            return cards.welcome_card(None)
        case MyAuditsView(rows, total):
            return cards.my_audits_card(list(rows), total)
        case TrackerView(rows, filters, page, total):
            return tracker_card(rows, filters, page, names, total)
        case AuditDetailsView(audit, now):
            return audit_details_card(audit, now, names)
        case ReportView(summary, word_url, workbook_url):
            return report_card(summary, word_url, workbook_url)
        case StatusView(audit, now, mine):
            return cards.status_card(audit, now, mine, names)
        case ReceiptView(title, lines, complete):
            return cards.receipt_card(title, list(lines), complete=complete)
    raise TypeError(f"no card for {type(view).__name__}")  # pragma: no cover


def _audit_card(view: AuditView, names: Mapping[str, str]) -> dict[str, Any]:
    audit, template, policy = view.audit, view.template, view.policy
    section, action = view.section or "", view.action or 0
    match view.card:
        case Card.SECTION:
            return cards.section_card(audit, template, section, names)
        case Card.REVIEW:
            return cards.review_card(audit, template, policy)
        case Card.FAMILY_FEEDBACK:
            return cards.family_feedback_card(audit, policy)
        case Card.AGREED_ACTIONS:
            moderating = audit.status is Status.SUBMITTED
            coc = audit.case_of_concern
            # After moderation, an open case of concern's actions are the re-audit's
            # (Bristol's re-audit form has its own "Actions required").
            reaudit = (
                policy.reaudit_adds_actions
                and coc is not None
                and coc.closed_at is None
                and audit.moderated_grade is not None
                and audit.status not in (Status.SUBMITTED, *AUDITOR_EDITABLE)
            )
            return cards.agreed_actions_card(
                audit, template, moderation=moderating, reaudit=reaudit, names=names
            )
        case Card.IRO_COMMENTS:
            return cards.iro_comments_card(audit)
        case Card.MODERATION:
            return cards.moderation_card(audit, template, section)
        case Card.MODERATION_SUMMARY:
            return cards.moderation_summary_card(audit, template)
        case Card.PANEL:
            return cards.panel_card(audit)
        case Card.CLOSE:
            return cards.close_card(audit, panel=policy.panel)
        case Card.PLAN:
            return cards.plan_card(audit)
        case Card.REAUDIT:
            return cards.reaudit_card(audit, template, policy)
        case Card.ACTIONS_REVIEW:
            return cards.actions_review_card(audit, names)
        case Card.ACTION:
            return cards.action_completion_card(audit, action, names)
        case Card.SIGN_OFF:
            return cards.sign_off_card(audit, action, names)
        case Card.CHECKLIST:
            return cards.checklist_card(audit, template)
        case Card.FEEDBACK:
            return cards.feedback_card(audit)
        case Card.TYPE_ANSWER:
            return cards.type_answer_card(audit, template, section, view.field or "", MAX_FIELD)
        case Card.STATUS:
            return cards.receipt_card(
                f"Audit {audit.id}, child's ID {audit.child_id}", [("Status", audit.status.label)]
            )
    raise ValueError(f"no card {view.card}")  # pragma: no cover
