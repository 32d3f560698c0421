"""The audit form in chat: one card per section, family feedback, check and submit, receipts.

These cards show the auditor's own answers back to the people working on
the audit; notices never do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adaptive_cards.types import Colors, ContainerStyle

from audits.grades import Grade, check_overall
from audits.model import AUDITOR_EDITABLE, Audit, SectionAnswer
from audits.policies import Policy, RuleAction
from audits.roles import Role
from audits.steps import StepId
from audits.templates import (
    PERSON_FIELDS,
    AnswerType,
    Question,
    Section,
    SectionKind,
    Template,
)
from audits.workflow import (
    Gap,
    Missing,
    missing_in_section,
    missing_items,
    unmet_limiting_judgements,
)
from cards import _kit as k
from cards import _parts as p
from cards import words
from cards.actions import Card, Verb, button
from cards.practitioner import checklist_state

GUIDANCE_ID = "guidance"
# Saved answers longer than this are the first to be left out of a card that is too big.
_KEEPABLE = 500


def section_card(
    audit: Audit, template: Template, section_id: str, names: Mapping[str, str] = words.NO_NAMES
) -> dict[str, Any]:
    """One section of the tool, pre-filled with what is saved, with Save and next / Save and pause."""
    section = template.section(section_id)
    answer = audit.answers.get(section.id) or SectionAnswer()
    if audit.status not in AUDITOR_EDITABLE:
        return k.card(
            [
                k.heading(section.label),
                p.about(audit.id, audit.child_id),
                k.text(words.not_editable(audit.status)),
                *p.lines(p.answer_lines(section, answer)),
            ]
        )
    card = _section(
        audit, template, section, answer, with_guidance=True, dropped=set(), names=names
    )
    if k.fits(card):
        return card
    # Too big for Teams: leave out the guidance, then the longest saved answers
    # (kept as they are: an empty box means "unchanged").
    dropped: set[str] = set()
    for key in [None, *_long_values(section, answer)]:
        if key is not None:
            dropped.add(key)
        card = _section(
            audit, template, section, answer, with_guidance=False, dropped=dropped, names=names
        )
        if k.fits(card):
            break
    return card


def _with_role(label: str, role: Role) -> str:
    """The form's own label for a person, with auditbot's name for their role beside it
    where the two differ ("QARO (IRO/CP chair)"), so a role reads the same everywhere."""
    return label if role.label.lower() in label.lower() else f"{label} ({role.label})"


def _saved_before(audit: Audit, section: Section, answer: SectionAnswer) -> bool:
    """Whether the auditor has saved this section, even with nothing in it (the
    allocation's details, filled in for them when it was allocated, do not count)."""
    if answer.updated_by == audit.participants.auditor:
        return True
    if answer.updated_at is not None and answer.updated_at > audit.allocated_at:
        return True
    typed = any(q.id in answer.values for q in section.questions if not q.prefill)
    return typed or any((answer.grade, answer.evidence, answer.impact))


def _long_values(section: Section, answer: SectionAnswer) -> list[str]:
    sizes = {"evidence": len(answer.evidence or ""), "impact": len(answer.impact or "")}
    for q in section.questions:
        value = answer.values.get(q.id)
        if q.type is AnswerType.TEXT and not q.prefill and isinstance(value, str):
            sizes[f"q.{q.id}"] = len(value)
    return [key for key, size in sorted(sizes.items(), key=lambda kv: -kv[1]) if size > _KEEPABLE]


def _section(
    audit: Audit,
    template: Template,
    section: Section,
    answer: SectionAnswer,
    *,
    with_guidance: bool,
    dropped: set[str],
    names: Mapping[str, str],
) -> dict[str, Any]:
    graded = section.kind is SectionKind.GRADED
    extra = [words.page(template.sections.index(section) + 1, len(template.sections))]
    checklist = checklist_state(audit, template)
    if checklist:
        extra.append(checklist)
    body: list[k.Element] = [k.heading(section.label), p.about(audit.id, audit.child_id, *extra)]
    left = missing_in_section(section, answer) if _saved_before(audit, section, answer) else []
    if left:  # saved before without all of it: say why the auditor is back here
        body.append(
            k.text(words.still_to_give(m.what for m in left), color=Colors.ATTENTION, bold=True)
        )
    notes = p.guidance(section)
    if notes and with_guidance:
        body += k.show_hide(words.SHOW_GUIDANCE, words.HIDE_GUIDANCE, GUIDANCE_ID)
        body.append(
            k.box(notes, style=ContainerStyle.EMPHASIS, element_id=GUIDANCE_ID, hidden=True)
        )
    elif notes:
        body.append(k.text(words.GUIDANCE_LEFT_OUT, subtle=True))
    for q in section.questions:
        value = answer.values.get(q.id)
        if q.prefill in PERSON_FIELDS:
            shown = words.person(value, names) if isinstance(value, str) else ""
            body.append(k.fact(_with_role(q.text.strip(), Role(q.prefill)), shown))
            continue
        if q.prefill:
            body.append(k.fact(q.text.strip(), p.display(q, value)))
            continue
        condition = p.only_if(section, q)
        if condition:
            body.append(k.text(condition, subtle=True, italic=True))
        body += p.question_input(q, value, keep_long=f"q.{q.id}" not in dropped)
    if graded:
        body += _long_input("evidence", section.evidence_prompt, answer.evidence, dropped)
        body += _long_input("impact", section.impact_prompt, answer.impact, dropped)
        body.append(p.grade_input("grade", words.GRADE_LABEL, answer.grade))
    return k.card(
        body,
        [
            button(
                words.SAVE_AND_NEXT,
                Verb.ANSWER_SECTION,
                audit.id,
                positive=True,
                section=section.id,
            ),
            button(words.SAVE_AND_PAUSE, Verb.SAVE_AND_PAUSE, audit.id, section=section.id),
            *(
                [
                    button(
                        words.TYPE_EVIDENCE,
                        Verb.TYPE_ANSWER,
                        audit.id,
                        section=section.id,
                        field="evidence",
                    ),
                    button(
                        words.TYPE_IMPACT,
                        Verb.TYPE_ANSWER,
                        audit.id,
                        section=section.id,
                        field="impact",
                    ),
                ]
                if graded
                else []
            ),
        ],
    )


def type_answer_card(
    audit: Audit, template: Template, section_id: str, field: str, limit: int
) -> dict[str, Any]:
    """Asks for a section's evidence or impact as the next chat message."""
    section = template.section(section_id)
    what = words.TYPED_FIELDS[field]
    prompt = section.evidence_prompt if field == "evidence" else section.impact_prompt
    return k.card(
        [
            k.heading(section.label),
            p.about(audit.id, audit.child_id),
            k.text(prompt, subtle=True),
            k.text(words.type_it(what, section.label, limit), bold=True),
        ],
        [],
    )


def _long_input(input_id: str, label: str, value: str | None, dropped: set[str]) -> list[k.Element]:
    if value and input_id in dropped:
        what = words.EVIDENCE if input_id == "evidence" else words.IMPACT
        return [
            k.text(words.kept_answer(what.lower(), len(value)), subtle=True),
            k.text_input(input_id, label),
        ]
    return [k.text_input(input_id, label, value=value)]


def family_feedback_card(audit: Audit, policy: Policy | None = None) -> dict[str, Any]:
    """Who the feedback was sought from and its summary, or why it could not be sought."""
    feedback = audit.family_feedback
    if audit.status not in AUDITOR_EDITABLE:
        lines = []
        if feedback:
            sources = ", ".join(
                words.FAMILY_FEEDBACK_SOURCES.get(s, s) for s in feedback.sought_from
            )
            lines = [
                (words.SOUGHT_FROM, sources or words.NOT_ANSWERED),
                (words.FAMILY_FEEDBACK_SUMMARY, feedback.summary or words.NOT_ANSWERED),
            ]
            if feedback.not_sought_reason:
                lines.append((words.NOT_SOUGHT_REASON, feedback.not_sought_reason))
        return k.card(
            [
                k.heading(words.FAMILY_FEEDBACK_TITLE),
                p.about(audit.id, audit.child_id),
                k.text(words.not_editable(audit.status)),
                *p.lines(lines),
            ]
        )
    body: list[k.Element] = [
        k.heading(words.FAMILY_FEEDBACK_TITLE),
        p.about(audit.id, audit.child_id),
        k.text(words.FAMILY_FEEDBACK_INTRO),
        k.choices(
            "sought_from",
            words.SOUGHT_FROM,
            list(words.FAMILY_FEEDBACK_SOURCES.items()),
            value=",".join(feedback.sought_from) if feedback else None,
            multi=True,
        ),
        k.text_input(
            "summary",
            words.FAMILY_FEEDBACK_SUMMARY,
            value=feedback.summary if feedback else None,
            max_length=k.SHORT_TEXT,
        ),
    ]
    if policy is None or policy.family_feedback_reason_accepted:
        body.append(
            k.text_input(
                "not_sought_reason",
                words.NOT_SOUGHT_REASON,
                value=feedback.not_sought_reason if feedback else None,
                max_length=k.SHORT_TEXT,
            )
        )
    return k.card(
        body, [button(words.SAVE_FEEDBACK, Verb.FAMILY_FEEDBACK, audit.id, positive=True)]
    )


def review_card(audit: Audit, template: Template, policy: Policy) -> dict[str, Any]:
    """What is still missing (each with the button that opens it), what the grade rules
    say, and Submit when it can be submitted."""
    card = _review(audit, template, policy, with_buttons=True)
    # A very long list of what is missing is shown without its buttons rather than
    # as a card Teams refuses.
    return card if k.fits(card) else _review(audit, template, policy, with_buttons=False)


def _review(
    audit: Audit, template: Template, policy: Policy, *, with_buttons: bool
) -> dict[str, Any]:
    editable = audit.status in AUDITOR_EDITABLE
    missing = missing_items(audit, template, policy)
    unmet = unmet_limiting_judgements(audit, template)
    overall = audit.auditor_grade
    issues = check_overall(overall, _section_grades(audit, template), unmet) if overall else []
    refused = [
        i for i in issues if policy.grade_rules.get(i.rule, RuleAction.REFUSE) is RuleAction.REFUSE
    ]
    reasoned = [
        i for i in issues if policy.grade_rules.get(i.rule, RuleAction.REFUSE) is RuleAction.REASON
    ]

    body: list[k.Element] = [
        k.heading(words.REVIEW_TITLE),
        p.about(audit.id, audit.child_id),
        k.fact(words.OVERALL_GRADE, words.grade(overall)),
    ]
    if not editable:
        body.append(k.text(words.not_editable(audit.status)))
    elif missing:
        body.append(k.subheading(words.STILL_TO_DO, color=Colors.ATTENTION))
        groups = _by_place(missing)
        if with_buttons:
            body += [_missing_row(audit, group) for group in groups]
        else:
            body += k.bullets(_said(group) for group in groups)
    elif not refused:
        body.append(k.text(words.READY_TO_SUBMIT, color=Colors.GOOD))
    if unmet:
        body.append(k.subheading(words.LIMITING_NOT_MET))
        body += k.bullets(unmet)
    for issue in refused:
        body.append(k.text(words.grade_refused(issue.message), color=Colors.ATTENTION))
    for issue in reasoned:
        body.append(k.text(words.grade_needs_reason(issue.message), color=Colors.WARNING))
    if reasoned and editable:
        body.append(
            k.text_input(
                "grade_reason",
                words.GRADE_REASON,
                value=audit.grade_reason,
                max_length=k.SHORT_TEXT,
                required=True,
                error=words.GRADE_REASON_MISSING,
            )
        )
    body.append(k.fact(words.AGREED_ACTIONS, words.actions_count(len(audit.actions))))

    actions = []
    if editable and not missing and not refused:
        title = words.SUBMIT if StepId.MODERATION in policy.steps else words.SUBMIT_NO_MODERATION
        actions.append(button(title, Verb.SUBMIT, audit.id, positive=True))
    actions.append(
        button(words.AGREED_ACTIONS, Verb.OPEN_AUDIT, audit.id, card=Card.AGREED_ACTIONS)
    )
    actions.append(button(words.BACK_TO_AUDIT, Verb.OPEN_AUDIT, audit.id))
    return k.card(body, actions)


def _by_place(missing: list[Missing]) -> list[list[Missing]]:
    """One group per place on the form ('1. Risk…: grade; evidence; impact'), in order."""
    groups: dict[tuple[Gap, str | None, str], list[Missing]] = {}
    for item in missing:
        groups.setdefault((item.where, item.section, item.label), []).append(item)
    return list(groups.values())


_GAP_CARDS = {
    Gap.CHECKLIST: Card.CHECKLIST,
    Gap.FAMILY_FEEDBACK: Card.FAMILY_FEEDBACK,
    Gap.ACTIONS: Card.AGREED_ACTIONS,
}


def _said(group: list[Missing]) -> str:
    return f"{group[0].label}: {'; '.join(m.what for m in group)}"


def _missing_row(audit: Audit, group: list[Missing]) -> k.Element:
    """What one place still needs, with the button that opens it."""
    first = group[0]
    if first.where is Gap.SECTION:
        extra: dict[str, Any] = {"card": Card.SECTION, "section": first.section}
    else:
        extra = {"card": _GAP_CARDS[first.where]}
    return k.row(k.text(_said(group)), button(words.OPEN_IT, Verb.OPEN_AUDIT, audit.id, **extra))


def _section_grades(audit: Audit, template: Template) -> Mapping[str, Grade]:
    # As the workflow checks them on submission: every graded section but the overall one.
    grades = {}
    for s in template.graded_sections:
        answer = audit.answers.get(s.id)
        if s.id != template.overall_section and answer and answer.grade:
            grades[s.label] = answer.grade
    return grades


def receipt_card(
    title: str, lines: list[tuple[str, str]], *, complete: bool = True
) -> dict[str, Any]:
    """A read-only card that replaces a submitted one, so it cannot be submitted twice.
    Not `complete` (saved with something still to give): not in the colour of success."""
    color = Colors.GOOD if complete else Colors.WARNING

    def build(limit: int | None) -> dict[str, Any]:
        shown = [(label, k.cut(value, limit)) for label, value in lines]
        return k.card([k.heading(title, color=color), *p.lines(shown)])

    return k.fitted(build, max((len(value) for _, value in lines), default=0))


# Answers that cannot carry typed words: chosen from a list, a date or a number.
_SHOWN = {
    AnswerType.YES_NO,
    AnswerType.YES_NO_NA,
    AnswerType.CHOICE,
    AnswerType.MULTI_CHOICE,
    AnswerType.GRADE,
    AnswerType.DATE,
    AnswerType.NUMBER,
}


def section_receipt_lines(
    audit: Audit, section_id: str, template: Template | None = None
) -> list[tuple[str, str]]:
    """What a saved section now holds, for its receipt, without the words anyone typed:
    the grade, which answers were given (with the template: each question, its chosen
    answer, or the length of typed text) and the length of the evidence and impact.

    Free text may name the child, so it stays on the form and never reaches a receipt."""
    answer = audit.answers.get(section_id)
    if answer is None:
        return []
    section = template.section(section_id) if template is not None else None
    graded = (
        section.kind is SectionKind.GRADED
        if section is not None
        else any((answer.grade, answer.evidence, answer.impact))
    )
    lines: list[tuple[str, str]] = []
    if graded:
        lines.append((words.GRADE, words.grade(answer.grade)))
    if section is not None:
        for q in section.questions:
            if q.id in answer.values and not q.prefill:
                lines.append((p.question_label(q), _given(q, answer.values[q.id])))
    else:
        given = [v for v in answer.values.values() if v not in (None, "", [])]
        if given:
            lines.append((words.OTHER_ANSWERS, words.answers_given(len(given))))
    if graded:
        for label, value in ((words.EVIDENCE, answer.evidence), (words.IMPACT, answer.impact)):
            lines.append((label, words.saved_length(len(value)) if value else words.NOT_ANSWERED))
    return lines


def _given(q: Question, value: Any) -> str:
    if value is None or value == "" or value == []:
        return words.NOT_ANSWERED
    if q.type in _SHOWN:
        return p.display(q, value)
    if isinstance(value, str):
        return words.saved_length(len(value))
    return words.GIVEN
