"""Audit tools as data: the schema of a template file and its loader.

A template is a YAML file in `audits/templates/` (or a council's own folder).
It lists the form's sections in order. A *details* section holds plain
questions (the header, the case summary, the yes/no checks); a *graded*
section is an area of practice with a grade, evidence and impact, plus
questions of its own (for example the limiting judgements).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from audits.errors import InvalidInput
from audits.grades import Grade
from audits.yamlfile import load_model

_ID = r"^[a-z0-9][a-z0-9_-]*$"
MAX_TEXT = 20_000


PREFILL_FIELDS = (
    "child_id",
    "team",
    "strand",
    "allocated_on",
    "auditor",
    "social_worker",
    "iro",
    "moderator",
    "team_manager",
    "service_manager",
)
# The prefilled details that are people (an address; shown by name).
PERSON_FIELDS = frozenset(PREFILL_FIELDS[4:])


class AnswerType(StrEnum):
    TEXT = "text"
    YES_NO = "yes_no"
    YES_NO_NA = "yes_no_na"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"
    DATE = "date"
    PERSON = "person"
    GRADE = "grade"
    NUMBER = "number"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Option(_Strict):
    id: Annotated[str, Field(pattern=_ID)]
    label: str


class Question(_Strict):
    id: Annotated[str, Field(pattern=_ID)]
    text: str
    type: AnswerType
    required: bool = True
    guidance: str | None = None
    options: tuple[Option, ...] = ()
    # A limiting judgement (a "must have"): the overall grade can be Good or
    # better only when every limiting judgement is answered with one of `met_by`.
    limiting: bool = False
    met_by: tuple[str, ...] = ("yes", "na")
    # Shown only when another question of the same section has this answer.
    when: dict[str, str] | None = None
    min: float | None = None
    max: float | None = None
    # Filled from the allocation (read-only for the auditor): one of PREFILL_FIELDS.
    prefill: str | None = None
    # auditbot's own, not on the council's form: asked only when the tool sets
    # `own_questions: true` (a council option, off by default).
    own: bool = False

    @model_validator(mode="after")
    def _options_fit_type(self) -> Question:
        choice = self.type in (AnswerType.CHOICE, AnswerType.MULTI_CHOICE)
        if choice and not self.options:
            raise ValueError(f"a {self.type.value} question needs options")
        if not choice and self.options:
            raise ValueError(f"a {self.type.value} question takes no options")
        if self.limiting and self.type not in (AnswerType.YES_NO, AnswerType.YES_NO_NA):
            raise ValueError("a limiting judgement must be a yes_no or yes_no_na question")
        if self.limiting and not set(self.met_by) <= {"yes", "no", "na"}:
            raise ValueError("met_by lists answers from: yes, no, na")
        if self.prefill is not None and self.prefill not in PREFILL_FIELDS:
            raise ValueError(
                f"prefill '{self.prefill}' is unknown; use one of {', '.join(PREFILL_FIELDS)}"
            )
        if len({o.id for o in self.options}) != len(self.options):
            raise ValueError("option ids must be unique")
        return self

    def parse(self, value: Any) -> Any:
        """Checks and normalises one answer; raises InvalidInput in plain words."""
        try:
            return _parse_answer(self, value)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"{self.text.splitlines()[0]}: {exc}") from exc


def _parse_answer(q: Question, value: Any) -> Any:
    if value is None:
        return None
    match q.type:
        case AnswerType.TEXT | AnswerType.PERSON:
            if not isinstance(value, str):
                raise TypeError("expected text")
            text = value.strip()
            if len(text) > MAX_TEXT:
                raise ValueError(f"too long (at most {MAX_TEXT} characters)")
            return text or None
        case AnswerType.YES_NO | AnswerType.YES_NO_NA:
            allowed = ("yes", "no", "na") if q.type is AnswerType.YES_NO_NA else ("yes", "no")
            key = str(value).strip().lower().replace("/", "")  # "N/A" -> "na"
            if key not in allowed:
                raise ValueError(f"answer {' / '.join(a.upper() for a in allowed)}")
            return key
        case AnswerType.CHOICE:
            return _option_id(q, value)
        case AnswerType.MULTI_CHOICE:
            items = value if isinstance(value, list) else str(value).split(",")
            chosen = [_option_id(q, i) for i in items if str(i).strip()]
            return list(dict.fromkeys(chosen)) or None
        case AnswerType.DATE:
            try:
                return date.fromisoformat(str(value).strip()).isoformat()
            except ValueError:
                raise ValueError(f"'{value}' is not a date (use YYYY-MM-DD)") from None
        case AnswerType.GRADE:
            return Grade.parse(str(value)).value
        case AnswerType.NUMBER:
            if isinstance(value, bool):
                raise TypeError("expected a number")
            try:
                number = float(value)
            except ValueError:
                raise ValueError(f"'{value}' is not a number") from None
            if q.min is not None and number < q.min:
                raise ValueError(f"expected a number of at least {q.min:g}")
            if q.max is not None and number > q.max:
                raise ValueError(f"expected a number of at most {q.max:g}")
            return int(number) if number.is_integer() else number
    raise AssertionError(q.type)  # pragma: no cover


def _option_id(q: Question, value: Any) -> str:
    """An option by its id or by the words on it ("21+" as well as "21-plus")."""
    wanted = str(value).strip()
    for option in q.options:
        if wanted == option.id or wanted.lower() == option.label.lower():
            return option.id
    raise ValueError(f"choose one of {', '.join(o.label for o in q.options)}")


def _check_questions(questions: tuple[Question, ...], where: str = "section") -> None:
    """Unique ids, and every `when` names an earlier yes/no or choice question and one of its answers."""
    seen: set[str] = set()
    for q in questions:
        if q.id in seen:
            raise ValueError(f"question id '{q.id}' is used twice")
        seen.add(q.id)
    earlier: dict[str, Question] = {}
    for q in questions:
        for other, wanted in (q.when or {}).items():
            if other not in earlier:
                raise ValueError(
                    f"question '{q.id}' depends on '{other}', which is not an earlier "
                    f"question of this {where}"
                )
            controlling = earlier[other]
            if controlling.type not in (
                AnswerType.YES_NO,
                AnswerType.YES_NO_NA,
                AnswerType.CHOICE,
            ):
                raise ValueError(
                    f"question '{q.id}' can depend only on a yes/no or choice question"
                )
            try:
                stored = _parse_answer(controlling, wanted)
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"question '{q.id}': '{wanted}' is not an answer to '{other}' ({exc})"
                ) from None
            if stored != wanted:
                raise ValueError(f"question '{q.id}': write the answer to '{other}' as '{stored}'")
        earlier[q.id] = q


class SectionKind(StrEnum):
    DETAILS = "details"
    GRADED = "graded"


class Section(_Strict):
    id: Annotated[str, Field(pattern=_ID)]
    number: int | None = None
    title: str
    kind: SectionKind
    guidance: str | None = None
    prompts: tuple[str, ...] = ()
    evidence_prompt: str = "Evidence – What records have you considered?"
    impact_prompt: str = "Impact – What difference has this made for the child?"
    # Short names for the two boxes in the Word document, where the form's own
    # are not "Evidence" and "Impact" (Bristol: "Strengths", "Areas for improvement").
    evidence_label: str = "Evidence"
    impact_label: str = "Impact"
    questions: tuple[Question, ...] = ()

    @model_validator(mode="after")
    def _unique_questions(self) -> Section:
        _check_questions(self.questions)
        return self

    def question(self, question_id: str) -> Question:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise InvalidInput(f"Section '{self.title}' has no question '{question_id}'")

    @property
    def label(self) -> str:
        return f"{self.number}. {self.title}" if self.number is not None else self.title


class ActionsPart(_Strict):
    number: int | None = None
    title: str
    guidance: str | None = None


class ModerationPart(_Strict):
    number: int | None = None
    title: str
    prompt: str
    guidance: str | None = None
    additional_actions_number: int | None = None
    additional_actions_title: str = "Additional actions"
    additional_actions_prompt: str | None = None


class ReauditForm(_Strict):
    """The form a case of concern is re-audited with (Swindon: the Short Audit Form;
    Bristol: "Re-audit, if Inadequate (not with worker)"): its title, and what its
    findings box is called."""

    title: str
    findings_label: str = "Findings"
    guidance: str | None = None


ChecklistCompleter = Literal[
    "social_worker", "team_manager", "auditor", "iro", "moderator", "service_manager"
]
CHECKLIST_COMPLETERS: tuple[str, ...] = get_args(ChecklistCompleter)


class Checklist(_Strict):
    """A pre-audit checklist: questions someone other than the auditor answers before the audit.

    Shropshire: "It is the responsibility of the practitioner to ensure that they
    have completed the 'Child Journey Audit Checklist' prior to the audit." In a
    template file::

        checklist:
          title: "Child Journey Audit Checklist"
          completed_by: social_worker      # the default: the practitioner
          guidance: "Complete this before the audit."
          questions:
            - {id: plan_up_to_date, type: yes_no_na, text: "Is the plan up to date?"}

    - `title`: the council's name for the checklist.
    - `completed_by`: the person on the audit who answers it, one of
      `CHECKLIST_COMPLETERS` (the audit's participants: `social_worker` is the
      practitioner, the usual case).
    - `guidance`: shown with the questions.
    - `questions`: at least one, the same `Question` model as a section's
      (answers are checked with `Question.parse`; `when` may name an earlier
      question of the checklist). A checklist question cannot be a limiting
      judgement (the overall grade rules look only at the sections) and
      cannot be pre-filled from the allocation.

    The checklist is not a section: it has no grade, is not moderated, and its
    answers are not among what `missing_for_submission` asks of the auditor.
    The workflow that asks the practitioner for it, and stores the answers,
    is separate from the template.
    """

    title: str
    completed_by: ChecklistCompleter = "social_worker"
    guidance: str | None = None
    questions: Annotated[tuple[Question, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _answerable(self) -> Checklist:
        for q in self.questions:
            if q.limiting:
                raise ValueError(f"checklist question '{q.id}' cannot be a limiting judgement")
            if q.prefill is not None:
                raise ValueError(f"checklist question '{q.id}' cannot be pre-filled")
        _check_questions(self.questions, where="checklist")
        return self

    def question(self, question_id: str) -> Question:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise InvalidInput(f"The {self.title} has no question '{question_id}'")


class Template(_Strict):
    id: Annotated[str, Field(pattern=_ID)]
    name: str
    version: int = 1
    source: str | None = None
    # The process this tool runs when an allocation names the tool but no policy.
    policy: Annotated[str, Field(pattern=_ID)] | None = None
    guidance: str | None = None
    overall_section: str
    sections: tuple[Section, ...]
    actions: ActionsPart
    moderation: ModerationPart
    # Optional: a pre-audit checklist for the practitioner (see `Checklist`).
    checklist: Checklist | None = None
    # Optional: the re-audit form of a case of concern (see `ReauditForm`).
    reaudit: ReauditForm | None = None
    # A council option: ask the questions marked `own: true` (auditbot's own, not on
    # the council's form). Off, they are left out of the tool; `own_questions_off`
    # names them ("section.question") so that a council can see what it may turn on.
    own_questions: bool = False
    own_questions_off: tuple[str, ...] = ()
    kind: Literal["audit_tool"] = "audit_tool"

    @model_validator(mode="before")
    @classmethod
    def _leave_out_own_questions(cls, data: Any) -> Any:
        if not isinstance(data, dict) or data.get("own_questions") is True:
            return data
        sections = data.get("sections")
        if not isinstance(sections, list | tuple):
            return data
        kept, off = [], list(data.get("own_questions_off") or ())
        for section in sections:
            questions = section.get("questions") if isinstance(section, dict) else None
            if not isinstance(questions, list | tuple):
                kept.append(section)
                continue
            mine = [q for q in questions if isinstance(q, dict) and q.get("own") is True]
            off += [f"{section.get('id')}.{q.get('id')}" for q in mine]
            kept.append({**section, "questions": [q for q in questions if q not in mine]})
        return {**data, "sections": kept, "own_questions_off": tuple(off)}

    @model_validator(mode="after")
    def _consistent(self) -> Template:
        ids = [s.id for s in self.sections]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"section ids used twice: {', '.join(duplicates)}")
        if self.overall_section not in ids:
            raise ValueError(f"overall_section '{self.overall_section}' is not a section")
        if self.section(self.overall_section).kind is not SectionKind.GRADED:
            raise ValueError(f"overall_section '{self.overall_section}' must be graded")
        return self

    def section(self, section_id: str) -> Section:
        for s in self.sections:
            if s.id == section_id:
                return s
        raise InvalidInput(f"The {self.name} has no section '{section_id}'")

    @property
    def graded_sections(self) -> tuple[Section, ...]:
        return tuple(s for s in self.sections if s.kind is SectionKind.GRADED)

    @property
    def limiting_judgements(self) -> tuple[tuple[Section, Question], ...]:
        return tuple((s, q) for s in self.sections for q in s.questions if q.limiting)

    @property
    def strands(self) -> tuple[tuple[str, str], ...]:
        """Each strand's id and the form's own words for it, in the form's order."""
        return tuple(
            (o.id, o.label)
            for s in self.sections
            for q in s.questions
            if q.prefill == "strand"
            for o in q.options
        )

    def strand_label(self, strand: str) -> str:
        """The form's words for a strand ('children-we-care-for' is "Children we care
        for"); an id the form does not list, written out the same way."""
        return dict(self.strands).get(strand, strand.replace("-", " ").capitalize())


def load_template(path: Path) -> Template:
    """Loads and validates one template file; ConfigError names file, place and problem."""
    return load_model(Template, path)
