"""Parts that know the domain: grades, questions and answers as card elements."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from adaptive_cards.card import InputDate, InputNumber
from adaptive_cards.types import Spacing

from audits.grades import Grade
from audits.model import SectionAnswer
from audits.templates import AnswerType, Question, Section, SectionKind
from cards import _kit as k
from cards import words

GRADE_OPTIONS = [(g.value, g.label) for g in Grade]


def about(audit_id: str, child_id: str, *extra: str) -> k.Element:
    """The line under a heading that says which audit: 'Audit 202611-001 · child's ID 1234567'."""
    return k.subtle(" · ".join((words.audit_line(audit_id, child_id), *extra)))


def ids(audit_id: str, child_id: str) -> list[k.Element]:
    """Which child's ID and audit, as the first facts of a notice."""
    return [k.fact(words.CHILD_ID, child_id), k.fact(words.AUDIT, audit_id)]


def parse_instant(value: Any) -> datetime | None:
    """A notice's ISO timestamp; None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def grade_input(
    input_id: str,
    label: str,
    value: Grade | str | None,
    *,
    required: bool = False,
    expanded: bool = True,
) -> k.Element:
    return k.choices(
        input_id,
        label,
        GRADE_OPTIONS,
        value=Grade(value).value if value else None,
        expanded=expanded,
        required=required,
        error=words.GRADE_MISSING,
        placeholder=words.GRADE_CHOOSE,
    )


def question_label(q: Question) -> str:
    label = q.text.strip()
    if q.limiting:
        label = words.limiting(label)
    if not q.required:
        label = words.optional(label)
    return label


def question_input(q: Question, value: Any, *, keep_long: bool = True) -> list[k.Element]:
    """The input for one question, pre-filled with the stored answer; id `q.<question id>`."""
    input_id = f"q.{q.id}"
    label = question_label(q)
    match q.type:
        case AnswerType.YES_NO | AnswerType.YES_NO_NA:
            allowed = ("yes", "no", "na") if q.type is AnswerType.YES_NO_NA else ("yes", "no")
            options = [(key, words.YES_NO[key]) for key in allowed]
            return [
                k.choices(input_id, label, options, value=_str(value), placeholder=words.CHOOSE)
            ]
        case AnswerType.CHOICE:
            options = [(o.id, o.label) for o in q.options]
            return [
                k.choices(input_id, label, options, value=_str(value), placeholder=words.CHOOSE)
            ]
        case AnswerType.MULTI_CHOICE:
            options = [(o.id, o.label) for o in q.options]
            chosen = ",".join(value) if isinstance(value, list) else _str(value)
            return [k.choices(input_id, label, options, value=chosen, multi=True)]
        case AnswerType.GRADE:
            return [grade_input(input_id, label, _str(value), expanded=False)]
        case AnswerType.DATE:
            return [InputDate(id=input_id, label=label, value=_str(value))]
        case AnswerType.NUMBER:
            return [_number_input(input_id, label, q, value)]
        case AnswerType.PERSON:
            return [k.email_input(input_id, label, value=_str(value), error=words.PERSON_INVALID)]
    text = _str(value)
    if text and not keep_long:
        return [
            k.text(words.kept_answer(words.ANSWER, len(text)), subtle=True),
            k.text_input(input_id, label),
        ]
    return [k.text_input(input_id, label, value=text)]


def _number_input(input_id: str, label: str, q: Question, value: Any) -> k.Element:
    def whole(number: Any) -> int | None:
        if isinstance(number, int | float) and float(number).is_integer():
            return int(number)
        return None

    return InputNumber(
        id=input_id, label=label, min=whole(q.min), max=whole(q.max), value=whole(value)
    )


def _str(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def display(q: Question, value: Any) -> str:
    """A stored answer in words: 'Yes', 'Good', '21+', '2 Nov 2026'."""
    if value is None or value == "" or value == []:
        return words.NOT_ANSWERED
    match q.type:
        case AnswerType.YES_NO | AnswerType.YES_NO_NA:
            return words.YES_NO.get(str(value), str(value))
        case AnswerType.CHOICE:
            return _option_label(q, value)
        case AnswerType.MULTI_CHOICE:
            items = value if isinstance(value, list) else str(value).split(",")
            return ", ".join(_option_label(q, item) for item in items)
        case AnswerType.GRADE:
            return words.grade(str(value))
        case AnswerType.DATE:
            try:
                day = date.fromisoformat(str(value))
            except ValueError:
                return str(value)
            return words.day(day)
    return str(value)


def _option_label(q: Question, value: Any) -> str:
    return next((o.label for o in q.options if o.id == str(value)), str(value))


def only_if(section: Section, q: Question) -> str | None:
    """'Only if the answer to … is Yes' for a question shown only after another answer."""
    if not q.when:
        return None
    parts = []
    for other_id, wanted in q.when.items():
        other = section.question(other_id)
        parts.append(words.only_if(other.text.strip(), display(other, wanted)))
    return "; ".join(parts)


def answer_lines(section: Section, answer: SectionAnswer) -> list[tuple[str, str]]:
    """The stored answers of a section as (label, value) lines, in the form's order."""
    lines: list[tuple[str, str]] = []
    if section.kind is SectionKind.GRADED:
        lines.append((words.GRADE, words.grade(answer.grade)))
    for q in section.questions:
        if q.id in answer.values:
            lines.append((question_label(q), display(q, answer.values[q.id])))
    if section.kind is SectionKind.GRADED:
        lines.append((words.EVIDENCE, answer.evidence or words.NOT_ANSWERED))
        lines.append((words.IMPACT, answer.impact or words.NOT_ANSWERED))
    return lines


def lines(pairs: list[tuple[str, str]]) -> list[k.Element]:
    """(label, value) pairs: short ones on one line, long ones as a block."""
    body: list[k.Element] = []
    for label, value in pairs:
        if len(value) > 80 or "\n" in value:
            body += k.block(label, value)
        else:
            body.append(k.fact(label, value))
    return body


def guidance(section: Section) -> list[k.Element]:
    """The section's guidance, prompts and question guidance: shown on request."""
    items: list[k.Element] = []
    if section.guidance:
        items.append(k.text(section.guidance.strip()))
    items += k.bullets(p.strip() for p in section.prompts)
    for q in section.questions:
        if q.guidance:
            items.append(k.text(q.text.strip(), bold=True, spacing=Spacing.MEDIUM))
            items.append(k.text(q.guidance.strip()))
    return items
