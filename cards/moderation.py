"""Moderation: agree or change each section's grade, then the overall judgement."""

from __future__ import annotations

from typing import Any

from adaptive_cards.types import Colors

from audits.grades import Grade
from audits.model import Audit, SectionAnswer, SectionModeration
from audits.templates import Section, SectionKind, Template
from cards import _kit as k
from cards import _parts as p
from cards import words
from cards.actions import Card, Verb, button

AGREE, REGRADE = "agree", "regrade"


def moderated_sections(template: Template) -> tuple[Section, ...]:
    """The sections moderated one by one: graded ones except the overall judgement."""
    return tuple(s for s in template.graded_sections if s.id != template.overall_section)


def moderation_card(audit: Audit, template: Template, section_id: str) -> dict[str, Any]:
    """The auditor's grade, evidence and impact for a section; agree, or regrade with a reason."""
    section = template.section(section_id)
    sections = moderated_sections(template)
    if section.kind is not SectionKind.GRADED or section not in sections:
        raise ValueError(f"'{section.label}' is not moderated section by section")
    answer = audit.answers.get(section.id) or SectionAnswer()
    decision = audit.moderation.sections.get(section.id) if audit.moderation else None
    position = sections.index(section) + 1

    def build(limit: int | None) -> dict[str, Any]:
        def cut(value: str | None) -> str:
            return k.cut(value or words.NOT_ANSWERED, limit)

        answers = [
            (p.question_label(q), p.display(q, answer.values.get(q.id))) for q in section.questions
        ]
        body: list[k.Element] = [
            k.heading(words.moderating(section.label)),
            p.about(audit.id, audit.child_id, words.progress(position, len(sections))),
            k.fact(words.AUDITOR_GRADE, words.grade(answer.grade)),
            *p.lines(answers),
            *k.block(words.AUDITOR_EVIDENCE, cut(answer.evidence)),
            *k.block(words.AUDITOR_IMPACT, cut(answer.impact)),
            k.choices(
                "decision",
                words.DECISION,
                [(AGREE, words.agree_with(words.grade(answer.grade))), (REGRADE, words.REGRADE)],
                value=_decision_value(decision),
                expanded=True,
                required=True,
                error=words.DECISION_MISSING,
            ),
            p.grade_input(
                "grade",
                words.NEW_GRADE,
                decision.grade if decision and not decision.agreed else None,
                expanded=False,
            ),
            k.text_input(
                "reason",
                words.MODERATION_REASON,
                value=decision.reason if decision else None,
            ),
        ]
        return k.card(
            body,
            [
                button(
                    words.SAVE_AND_NEXT,
                    Verb.MODERATE_SECTION,
                    audit.id,
                    positive=True,
                    section=section.id,
                ),
                button(
                    words.OVERALL_JUDGEMENT_BUTTON, Verb.OPEN_AUDIT, audit.id, card=Card.MODERATION
                ),
            ],
        )

    return k.fitted(build, max(len(answer.evidence or ""), len(answer.impact or "")))


def _decision_value(decision: SectionModeration | None) -> str | None:
    if decision is None:
        return None
    return AGREE if decision.agreed else REGRADE


def moderation_summary_card(audit: Audit, template: Template) -> dict[str, Any]:
    """The overall judgement: the state of every section, then grade, evidence, impact."""
    moderation = audit.moderation
    decided = moderation.sections if moderation else {}
    sections = moderated_sections(template)
    status_lines = []
    for s in sections:
        d = decided.get(s.id)
        if d is None:
            state = words.NOT_MODERATED
        elif d.agreed:
            state = words.agreed(words.grade(d.grade))
        else:
            state = words.regraded(words.grade(d.auditor_grade), words.grade(d.grade))
        status_lines.append(f"{s.label}: {state}")
    flagged = [
        s.label
        for s in template.graded_sections
        if (a := audit.answers.get(s.id)) and a.grade is Grade.INADEQUATE
    ]
    still = [s.label for s in sections if s.id not in decided]
    part = template.moderation
    title = f"{part.number}. {part.title}" if part.number is not None else part.title

    def build(reason_limit: int | None, prefill: bool) -> dict[str, Any]:
        body: list[k.Element] = [
            k.heading(title),
            p.about(audit.id, audit.child_id),
            k.fact(words.AUDITOR_OVERALL, words.grade(audit.auditor_grade)),
        ]
        if audit.grade_reason:
            reason = audit.grade_reason
            body += k.block(
                words.AUDITOR_GRADE_REASON,
                k.shorten(reason, reason_limit) if reason_limit else reason,
            )
        if flagged:
            body.append(k.subheading(words.FLAGGED_INADEQUATE, color=Colors.ATTENTION))
            body += k.bullets(flagged, color=Colors.ATTENTION)
        body.append(k.subheading(words.SECTIONS))
        body += k.bullets(status_lines)
        if still:
            body.append(
                k.text(words.still_to_moderate(len(still)), bold=True, color=Colors.WARNING)
            )
        saved = moderation if prefill else None
        body += [
            k.text(part.prompt, bold=True),
            p.grade_input(
                "grade",
                words.OVERALL_JUDGEMENT,
                moderation.overall if moderation else None,
                required=True,
            ),
            k.text_input(
                "evidence",
                words.MODERATION_EVIDENCE,
                value=saved.evidence if saved else None,
                required=True,
                error=words.EVIDENCE_MISSING,
            ),
            k.text_input(
                "impact",
                words.MODERATION_IMPACT,
                value=saved.impact if saved else None,
                required=True,
                error=words.IMPACT_MISSING,
            ),
            k.text_input(
                "grade_reason",
                words.MODERATION_GRADE_REASON,
                value=saved.grade_reason if saved else None,
                max_length=k.SHORT_TEXT,
            ),
        ]
        return k.card(
            body,
            [button(words.COMPLETE_MODERATION, Verb.COMPLETE_MODERATION, audit.id, positive=True)],
        )

    # The moderation's own texts are saved only when it is completed, so in
    # practice nothing long is pre-filled here; the auditor's reason is cut first.
    card = build(None, prefill=True)
    for limit, prefill in ((2_000, True), (2_000, False)):
        if k.fits(card):
            break
        card = build(limit, prefill)
    return card
