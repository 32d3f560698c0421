"""Property tests: no sequence of commands, by anyone, reaches an invalid state or loses an answer.

Runs the pure workflow (no database) so hypothesis can try many sequences.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from audits import commands as c
from audits.catalog import load_catalog
from audits.clock import FixedClock
from audits.errors import AuditError
from audits.grades import Grade
from audits.model import AUDITOR_EDITABLE, ActionStatus, Audit, Status
from audits.roles import AUDIT_ROLES, load_standing_roles
from audits.templates import SectionKind
from audits.workdays import WorkingCalendar
from audits.workflow import (
    SYSTEM,
    Context,
    allocate,
    apply,
    missing_for_submission,
    unmet_limiting_judgements,
)
from tests.support.allocations import allocation
from tests.support.clock import START
from tests.support.council import ROLES_FILE
from tests.support.factories import sample_value
from tests.support.people import HEAD_OF_SERVICE, QA_MANAGER, QA_OFFICER, STRANGER, people

CATALOG = load_catalog()
TEMPLATE = CATALOG.template("swindon-practice-evaluation")
POLICY = CATALOG.policy("swindon")
STANDING = load_standing_roles(ROLES_FILE)
CALENDAR = WorkingCalendar()
SECTIONS = [s.id for s in TEMPLATE.sections]
GRADED = [s.id for s in TEMPLATE.graded_sections]
ONE = people(1)  # the audit's people
PEOPLE = [
    *ONE.model_dump().values(),
    QA_MANAGER,
    QA_OFFICER,
    HEAD_OF_SERVICE,
    STRANGER,
    people(9).auditor,
]
SUBMITTED_OR_LATER = (Status.SUBMITTED, Status.MODERATED, Status.PANEL_AGREED, Status.CLOSED)

grades = st.sampled_from([g.value for g in Grade] + ["Requires Improvement", "excellent", ""])
texts = st.one_of(
    st.none(),
    st.just(""),
    st.text(max_size=40),
    st.just("Case notes and plan from the last six months"),
)
people = st.sampled_from(PEOPLE)


def _answer_values(section_id: str) -> st.SearchStrategy[dict[str, Any]]:
    section = TEMPLATE.section(section_id)
    keys = [q.id for q in section.questions] + ["no-such-question"]
    if not keys:
        return st.just({})
    value = st.one_of(
        st.sampled_from(["yes", "no", "na", "2026-11-03", "maybe"]),
        st.text(max_size=20),
        st.none(),
        st.sampled_from([o.id for q in section.questions for o in q.options] or ["x"]),
    )
    return st.dictionaries(st.sampled_from(keys), value, max_size=3)


commands = st.one_of(
    st.sampled_from(SECTIONS).flatmap(
        lambda s: st.builds(
            c.AnswerSection,
            section=st.just(s),
            grade=st.one_of(st.none(), grades),
            evidence=texts,
            impact=texts,
            values=_answer_values(s),
        )
    ),
    st.builds(
        c.RecordFamilyFeedback,
        sought_from=st.lists(st.sampled_from(["parent", "child", "uncle"]), max_size=2).map(tuple),
        summary=texts,
        not_sought_reason=texts,
    ),
    st.builds(c.AddIroComments, text=st.text(max_size=30)),
    st.builds(
        c.AddAction,
        text=st.sampled_from(["Do it", "Update the plan with the family now"]),
        owner=st.sampled_from([ONE.social_worker, ONE.team_manager, "nobody"]),
        due=st.sampled_from(["2026-11-30", "2026-10-01", "soon"]),
    ),
    st.builds(c.RemoveAction, number=st.integers(0, 3)),
    st.builds(c.Submit, grade_reason=texts),
    st.builds(
        c.ModerateSection,
        section=st.sampled_from(SECTIONS),
        agree=st.booleans(),
        grade=st.one_of(st.none(), grades),
        reason=texts,
    ),
    st.builds(
        c.CompleteModeration,
        grade=grades,
        evidence=st.just("Read it"),
        impact=st.just("Discussed"),
        grade_reason=texts,
    ),
    st.builds(
        c.RecordPanel,
        outcome=st.sampled_from(["agreed", "returned", "maybe"]),
        notes=st.sampled_from(["", "More evidence please"]),
    ),
    st.just(c.CloseAudit()),
    st.builds(
        c.ConfirmPlan,
        plan=st.sampled_from(["", "Strategy meeting Friday"]),
        owner=st.sampled_from([ONE.team_manager, "x"]),
    ),
    st.builds(c.RecordReaudit, grade=grades, findings=st.sampled_from(["", "Better now"])),
    st.builds(c.CloseCaseOfConcern, note=st.sampled_from(["", "Embedded"])),
    st.builds(c.CompleteAction, number=st.integers(0, 3), evidence=st.sampled_from(["", "Done"])),
    st.builds(c.SignOffAction, number=st.integers(0, 3)),
    st.builds(c.ReturnAction, number=st.integers(0, 3), reason=st.sampled_from(["", "Not yet"])),
    st.builds(
        c.Reassign,
        role=st.sampled_from([r.value for r in AUDIT_ROLES] + ["cook"]),
        person=people,
        reason=st.sampled_from(["", "Leave"]),
    ),
    st.builds(
        c.ExtendDeadline,
        step=st.sampled_from(
            ["iro_comments", "audit_completion", "moderation", "action-1", "nope"]
        ),
        until=st.sampled_from(["2026-12-20", "2026-01-01", "bad"]),
        reason=st.just("Leave"),
    ),
)


class AuditMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = FixedClock(START)
        self.audit: Audit = allocate("202611-001", allocation(), self._ctx(SYSTEM)).audit
        # Every answer accepted so far, as it must still be stored: (section, field) -> value.
        self.kept: dict[tuple[str, str], Any] = {}
        self.iro_comments = 0
        self.panel_records = 0

    def _ctx(self, actor: str) -> Context:
        return Context(actor, self.clock.now(), TEMPLATE, POLICY, CALENDAR, STANDING)

    def _try(self, actor: str, command: c.Command) -> bool:
        before = self.audit.model_dump()
        try:
            outcome = apply(self.audit, command, self._ctx(actor))
        except AuditError:
            assert self.audit.model_dump() == before, "a refused command changed the state"
            return False
        assert self.audit.model_dump() == before, "apply mutated its input"
        if not outcome.changes:
            assert outcome.audit.model_dump(exclude={"answers"}) == {
                k: v for k, v in before.items() if k != "answers"
            }, "a change went unrecorded"
        self.audit = outcome.audit
        if isinstance(command, c.AnswerSection):
            self._remember(command)
        return True

    def _remember(self, cmd: c.AnswerSection) -> None:
        answer = self.audit.answers[cmd.section]
        for field in ("grade", "evidence", "impact"):
            if getattr(cmd, field) is not None:
                self.kept[(cmd.section, field)] = getattr(answer, field)
        for key in cmd.values:
            self.kept[(cmd.section, key)] = answer.values.get(key)

    @rule(actor=people, command=commands)
    def anyone_does_anything(self, actor: str, command: c.Command) -> None:
        self._try(actor, command)

    @rule(
        overall=st.sampled_from(list(Grade)),
        section_grades=st.lists(
            st.sampled_from(list(Grade)), min_size=len(GRADED), max_size=len(GRADED)
        ),
        limiting=st.sampled_from(["yes", "no"]),
    )
    @precondition(lambda self: self.audit.status in AUDITOR_EDITABLE)
    def auditor_completes_the_form(
        self, overall: Grade, section_grades: list[Grade], limiting: str
    ) -> None:
        today = CALENDAR.local_date(self.clock.now())
        for section, grade in zip(TEMPLATE.sections, [None] * 4 + section_grades, strict=False):
            values = {}
            for q in section.questions:
                if q.prefill:
                    continue
                value = limiting if q.limiting else sample_value(q, today)
                if all(values.get(k) == v for k, v in (q.when or {}).items()):
                    values[q.id] = value
            graded = section.kind is SectionKind.GRADED
            chosen = overall if section.id == TEMPLATE.overall_section else grade
            self._try(
                self.audit.participants.auditor,
                c.AnswerSection(
                    section.id,
                    grade=chosen.value if graded and chosen else None,
                    evidence="Records read" if graded else None,
                    impact="Child is safer" if graded else None,
                    values=values,
                ),
            )
        self._try(
            self.audit.participants.auditor, c.RecordFamilyFeedback(("parent",), "Good support")
        )
        self._try(
            self.audit.participants.auditor,
            c.AddAction(
                "Update the plan with the family by review", ONE.social_worker, "2026-12-31"
            ),
        )

    @rule(overall=st.sampled_from(list(Grade)), agree=st.booleans())
    @precondition(lambda self: self.audit.status is Status.SUBMITTED)
    def moderator_moderates(self, overall: Grade, agree: bool) -> None:
        for sid in GRADED:
            if sid != TEMPLATE.overall_section:
                self._try(
                    self.audit.participants.moderator,
                    c.ModerateSection(
                        sid,
                        agree=agree,
                        grade=None if agree else "requires_improvement",
                        reason=None if agree else "Evidence thin",
                    ),
                )
        self._try(
            self.audit.participants.moderator,
            c.CompleteModeration(
                overall.value, "Read it", "Discussed", grade_reason="Agreed at discussion"
            ),
        )

    @rule(reason=texts)
    @precondition(lambda self: self.audit.status in AUDITOR_EDITABLE)
    def auditor_submits(self, reason: str | None) -> None:
        self._try(self.audit.participants.auditor, c.Submit(grade_reason=reason))

    @rule(outcome=st.sampled_from(["agreed", "returned"]), close=st.booleans())
    @precondition(lambda self: self.audit.status is Status.MODERATED)
    def panel_decides(self, outcome: str, close: bool) -> None:
        self._try(QA_MANAGER, c.RecordPanel(outcome, "Please add evidence"))
        if close:
            self._try(QA_OFFICER, c.CloseAudit())

    @rule(hours=st.integers(1, 24 * 20))
    def time_passes(self, hours: int) -> None:
        self.clock.advance(timedelta(hours=hours))

    @invariant()
    def no_stored_answer_is_lost(self) -> None:
        for (section, field), value in self.kept.items():
            answer = self.audit.answers.get(section)
            stored = None
            if answer is not None:
                stored = (
                    getattr(answer, field)
                    if field in ("grade", "evidence", "impact")
                    else answer.values.get(field)
                )
            assert stored == value, (section, field)
        assert len(self.audit.iro_comments) >= self.iro_comments
        assert len(self.audit.panel) >= self.panel_records
        self.iro_comments, self.panel_records = len(self.audit.iro_comments), len(self.audit.panel)

    @invariant()
    def state_is_consistent(self) -> None:
        a = self.audit
        event(
            f"reached {a.status.value}" + (" with a case of concern" if a.case_of_concern else "")
        )
        if a.status in SUBMITTED_OR_LATER:
            assert a.submitted_at is not None
            assert missing_for_submission(a, TEMPLATE, POLICY) == []
            assert not a.deadlines["audit_completion"].open
            if a.auditor_grade is Grade.OUTSTANDING:  # policy: refuse
                assert all(a.answers[s].grade is Grade.OUTSTANDING for s in GRADED)
            if a.auditor_grade in (Grade.GOOD, Grade.OUTSTANDING) and unmet_limiting_judgements(
                a, TEMPLATE
            ):
                assert a.grade_reason  # policy: accepted only with a written reason
            if a.auditor_grade is Grade.INADEQUATE:
                assert a.case_of_concern is not None
        if a.status in (Status.MODERATED, Status.PANEL_AGREED, Status.CLOSED):
            assert a.moderated_grade is not None
            assert not a.deadlines["moderation"].open
        if a.moderated_grade is Grade.INADEQUATE:
            assert a.case_of_concern is not None
        if a.status is Status.CLOSED:
            assert a.closed_at is not None
            assert a.panel and a.panel[-1].outcome.value == "agreed"
            assert not any(
                d.open
                for k, d in a.deadlines.items()
                if not k.startswith(("action", "coc", "reaudit"))
            )
        if a.status is Status.RETURNED:
            assert a.deadlines["audit_completion"].open
        numbers = [x.number for x in a.actions]
        assert len(numbers) == len(set(numbers))
        for action in a.actions:
            deadline = a.deadlines[f"action-{action.number}"]
            assert deadline.open == (action.status is ActionStatus.OPEN)
        p = a.participants
        assert len({p.auditor, p.moderator, p.social_worker}) == 3
        for d in a.deadlines.values():
            if d.open and d.role in AUDIT_ROLES:
                assert d.owner == p.of(d.role), f"{d.step} owned by someone no longer on the audit"


TestAuditMachine = AuditMachine.TestCase
TestAuditMachine.settings = settings(
    max_examples=60,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
