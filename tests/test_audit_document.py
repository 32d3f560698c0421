"""The audit as a Word document: audits taken through the real use cases, then read back."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import docx
import pytest
from docx.table import Table
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.service import AuditService
from audits import commands as c
from audits.catalog import Catalog, load_catalog
from audits.errors import InvalidInput
from audits.grades import Grade
from audits.model import Audit, FamilyFeedback, SectionAnswer
from audits.templates import Template
from reports.audit_document import FINAL_LINE, render_audit_document
from tests.support.allocations import allocation, rows
from tests.support.council import with_own_questions
from tests.support.factories import fill_audit
from tests.support.people import QA_MANAGER, people

TEMPLATE_ID = "swindon-practice-evaluation"
AUDITOR = people(1).auditor  # of allocation(), the audit under test
MODERATOR = people(1).moderator
IRO = people(1).iro
EVIDENCE = "Case notes, assessment and plan for the last 6 months"
IMPACT = "The child is safer and their plan is moving on"
SECTION_13_ACTION = "Update the chronology with the last three months of visits"
SECTION_15_ACTION = "Refresh the child's plan with the family before the review"
REGRADE_REASON = "Plan is out of date"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """A council that turns on the Swindon tool's own questions (its seven limiting
    judgements, off as shipped): these cards and documents show them."""
    return with_own_questions(load_catalog())


# --- reading the document back ---------------------------------------------------


class _Read:
    """A rendered document read back: body text in order, a paragraph per line and a
    table row as its cells joined by ' | '; `part` is the lines under one heading."""

    def __init__(self, data: bytes) -> None:
        self.document = docx.Document(io.BytesIO(data))
        self.lines: list[str] = []
        self.headings: list[int] = []
        for block in self.document.iter_inner_content():
            if isinstance(block, Table):
                self.lines.extend(" | ".join(cell.text for cell in row.cells) for row in block.rows)
            else:
                if block.style is not None and block.style.name.startswith("Heading"):
                    self.headings.append(len(self.lines))
                self.lines.append(block.text)

    def part(self, heading: str) -> list[str]:
        at = next(i for i in self.headings if self.lines[i] == heading)
        end = next((i for i in self.headings if i > at), len(self.lines))
        return self.lines[at + 1 : end]

    @property
    def heading_texts(self) -> list[str]:
        return [self.lines[i] for i in self.headings]


def _lines(data: bytes) -> list[str]:
    return _Read(data).lines


def _marked(lines: list[str]) -> list[str]:
    """The grade chosen on each grade row, in order ('' where none is chosen)."""
    found = []
    for line in lines:
        cells = line.split(" | ")
        if len(cells) == len(Grade) and all(cell[:1] in "☒☐" for cell in cells):
            chosen = [cell[2:] for cell in cells if cell.startswith("☒")]
            found.append(chosen[0] if chosen else "")
    return found


# --- building audits through the use cases --------------------------------------------


async def _allocate(service: AuditService) -> Audit:
    [outcome] = await service.allocate(QA_MANAGER, rows(allocation("1000001")))
    return outcome.audit


async def _submitted(service: AuditService, template: Template, clock) -> Audit:
    """IRO comments on time and late, every section answered, one action, submitted."""
    audit = await _allocate(service)
    clock.advance(timedelta(hours=20))
    await service.execute(IRO, audit.id, c.AddIroComments("Plan is on track."))
    clock.advance(timedelta(hours=53))  # past the 72 hours
    await service.execute(IRO, audit.id, c.AddIroComments("Core group minutes are missing."))
    await fill_audit(
        service,
        audit.id,
        AUDITOR,
        template,
        grades={"risk": Grade.REQUIRES_IMPROVEMENT, "identity": Grade.OUTSTANDING},
    )
    await service.execute(
        AUDITOR, audit.id, c.AddAction(SECTION_13_ACTION, "sw1@council.example", "2026-11-30")
    )
    return (await service.execute(AUDITOR, audit.id, c.Submit())).audit


async def _moderated(service: AuditService, template: Template, clock) -> Audit:
    audit = await _submitted(service, template, clock)
    clock.advance(timedelta(days=1))
    for s in template.graded_sections:
        if s.id == template.overall_section:
            continue
        command = (
            c.ModerateSection(
                s.id, agree=False, grade="requires_improvement", reason=REGRADE_REASON
            )
            if s.id == "plans"
            else c.ModerateSection(s.id, agree=True)
        )
        await service.execute(MODERATOR, audit.id, command)
    await service.execute(
        MODERATOR, audit.id, c.AddAction(SECTION_15_ACTION, "tm1@council.example", "2026-12-04")
    )
    done = await service.execute(
        MODERATOR,
        audit.id,
        c.CompleteModeration(
            grade="requires_improvement",
            evidence="Read the whole file and the plan",
            impact="Discussed the plan with the auditor",
        ),
    )
    return done.audit


async def _closed(service: AuditService, template: Template, clock) -> Audit:
    audit = await _moderated(service, template, clock)
    await service.execute(
        "sw1@council.example", audit.id, c.CompleteAction(1, "Chronology updated on 9 November")
    )
    await service.execute("tm1@council.example", audit.id, c.SignOffAction(1))
    await service.execute(
        "tm1@council.example", audit.id, c.CompleteAction(2, "Plan refreshed at the review")
    )
    clock.advance(timedelta(days=1))
    await service.execute(QA_MANAGER, audit.id, c.RecordPanel("agreed", "Consistent with the file"))
    clock.advance(timedelta(days=1))
    return (await service.execute(QA_MANAGER, audit.id, c.CloseAudit())).audit


# --- the form -------------------------------------------------------------------------


async def test_submitted_audit_follows_the_form(service, catalog, clock):
    template = catalog.template(TEMPLATE_ID)
    audit = await _submitted(service, template, clock)
    data = render_audit_document(audit, template, "submitted")
    doc = _Read(data)
    lines = doc.lines

    assert lines[0] == "Swindon Practice Evaluation Audit Tool"
    assert lines[1] == f"Audit {audit.id} · child's ID 1000001 · submitted 5 November 2026"
    labels = [s.label for s in template.graded_sections]
    assert labels[0] == "1. Risk is identified, responded to and reduced in a timely way"
    # Every section is a heading, in the form's order, and the form's own parts follow.
    headings = doc.heading_texts
    assert [h for h in headings if h in labels] == labels
    assert headings.index(labels[-1]) < headings.index(
        "13. Agreed actions to achieve good outcomes for child/young person"
    )
    assert headings.index("13. Agreed actions to achieve good outcomes for child/young person") < (
        headings.index("14. Moderation")
    )
    assert headings.index("14. Moderation") < headings.index("15. Additional Actions")
    assert headings[0] == "About this audit"

    # The auditor's grades, marked on each section's row; the moderation row is still blank.
    expected = ["Good"] * len(labels)
    expected[0] = "Requires Improvement"
    expected[labels.index("6. " + template.section("identity").title)] = "Outstanding"
    assert _marked(lines) == [*expected, ""]
    risk = doc.part(labels[0])
    assert "☐ Outstanding | ☐ Good | ☒ Requires Improvement | ☐ Inadequate" in risk, (
        "the chosen grade is marked, the others are not"
    )
    assert f"Evidence | {EVIDENCE}" in risk
    assert f"Impact | {IMPACT}" in risk
    # Limiting judgements are the section's own questions, answered in words.
    assert any(
        line.startswith("Are risks identified and being addressed?\nLimiting judgement:")
        and line.endswith(" | Yes")
        for line in risk
    )
    assert not any(line.startswith("Moderator:") for line in lines)
    assert "Not yet moderated." in lines


async def test_details_are_shown_in_words(service, catalog, clock):
    template = catalog.template(TEMPLATE_ID)
    audit = await _submitted(service, template, clock)
    doc = _Read(render_audit_document(audit, template, "submitted"))
    lines = doc.lines
    about = doc.part("About this audit")

    assert "Strand - select one | Help and protection" in about
    assert not any("help-and-protection" in line for line in lines)
    assert "Age band | 0" in about
    assert "Audit date | 5 November 2026" in about
    # A question's guidance goes under it, as the form's tips do.
    assert any(
        line.startswith("Audited previously?\nTip: you will find this in case notes")
        and line.endswith(" | Yes")
        for line in about
    )
    assert "Auditor's name | auditor1@council.example" in about
    assert "Child/Young Person's ID number | 1000001" in about
    # Only the questions whose condition is met: the auditor did speak to a practitioner.
    practitioner = doc.part("Practitioner spoken to")
    assert any(line.startswith("Which practitioner did you speak to") for line in practitioner)
    assert not any(line.startswith("If this was not possible") for line in practitioner)


async def test_unmet_condition_hides_the_question_and_no_shows_as_no(service, catalog, clock):
    template = catalog.template(TEMPLATE_ID)
    audit = await _allocate(service)
    await fill_audit(
        service,
        audit.id,
        AUDITOR,
        template,
        overrides={
            "practitioner": {
                "spoke_to_practitioner": "no",
                "why_not": "Social worker on leave all month",
            },
            "about": {"audited_previously": "no", "age_band": "21-plus"},
            "sharing": {"date_shared": None},
        },
    )
    audit = await service.get(audit.id)
    doc = _Read(render_audit_document(audit, template, "submitted"))
    lines = doc.lines
    practitioner = doc.part("Practitioner spoken to")
    assert "If this was not possible, please state why. | Social worker on leave all month" in (
        practitioner
    )
    assert not any(line.startswith("Which practitioner") for line in practitioner)
    about = doc.part("About this audit")
    assert "Age band | 21+" in about
    assert not any(line.startswith("If Yes, when?") for line in about)
    assert any(line.startswith("Audited previously?") and line.endswith(" | No") for line in about)
    # An optional question left unanswered shows a dash.
    sharing = doc.part("Sharing the audit")
    assert any(
        line.startswith("Date audit shared by Auditor") and line.endswith(" | —")
        for line in sharing
    )
    # Not yet submitted: the header says so by giving no date.
    assert lines[1] == f"Audit {audit.id} · child's ID 1000001 · submitted"


async def test_iro_comments_family_feedback_and_actions(service, catalog, clock):
    template = catalog.template(TEMPLATE_ID)
    audit = await _submitted(service, template, clock)
    doc = _Read(render_audit_document(audit, template, "submitted"))

    iro = doc.part("IRO/CP chair comments")
    assert "3 November 2026, 05:00 | iro1@council.example | Plan is on track." in iro
    assert (
        "5 November 2026, 10:00 (late) | iro1@council.example | Core group minutes are missing."
        in iro
    )
    feedback = doc.part("Family feedback")
    assert "Feedback sought from | Parent" in feedback
    assert "Summary | Mother said the social worker listens and visits often." in feedback
    actions = doc.part("13. Agreed actions to achieve good outcomes for child/young person")
    assert "Agreed action | Person responsible | Completion date | Status" in actions
    assert f"{SECTION_13_ACTION} | sw1@council.example | 30 November 2026 | Open" in actions
    assert "No actions recorded." in doc.part("15. Additional Actions")


async def test_people_are_shown_by_their_names_where_the_directory_gave_them(
    service, catalog, clock
):
    template = catalog.template(TEMPLATE_ID)
    audit = await _submitted(service, template, clock)
    names = {"iro1@council.example": "Ira Iro", "sw1@council.example": "Sam Social"}
    doc = _Read(render_audit_document(audit, template, "submitted", names))
    assert "3 November 2026, 05:00 | Ira Iro | Plan is on track." in doc.part(
        "IRO/CP chair comments"
    )
    actions = doc.part("13. Agreed actions to achieve good outcomes for child/young person")
    assert f"{SECTION_13_ACTION} | Sam Social | 30 November 2026 | Open" in actions
    shown = "\n".join(doc.lines)
    assert "iro1@council.example" not in shown and "sw1@council.example" not in shown
    # No name known: the address.
    assert "auditor1@council.example" in shown


async def test_feedback_that_could_not_be_sought(service, catalog, clock):
    template = catalog.template(TEMPLATE_ID)
    audit = await _allocate(service)
    await fill_audit(service, audit.id, AUDITOR, template)
    # Swindon's own policy refuses a reason instead of feedback ("The audit will not be
    # accepted without feedback"); a council's own policy may take one, and the
    # document shows it.
    with pytest.raises(InvalidInput, match="without the family's feedback"):
        await service.execute(
            AUDITOR, audit.id, c.RecordFamilyFeedback(not_sought_reason="Family moved away")
        )
    stored = await service.get(audit.id)
    audit = stored.model_copy(
        update={
            "family_feedback": FamilyFeedback(
                not_sought_reason="Family moved away; no contact details",
                recorded_by=AUDITOR,
                recorded_at=clock.now(),
            )
        }
    )
    feedback = _Read(render_audit_document(audit, template, "submitted")).part("Family feedback")
    assert "Why feedback could not be sought | Family moved away; no contact details" in feedback
    assert not any(line.startswith("Summary") for line in feedback)


# --- moderation, panel, closure ---------------------------------------------------------


async def test_moderated_audit_shows_each_decision(service, catalog, clock):
    template = catalog.template(TEMPLATE_ID)
    audit = await _moderated(service, template, clock)
    doc = _Read(render_audit_document(audit, template, "moderated"))
    lines = doc.lines

    assert lines[1] == f"Audit {audit.id} · child's ID 1000001 · moderated 6 November 2026"
    plans = doc.part("7. Quality of plans")
    assert f"Moderator: regraded from Good to Requires Improvement — {REGRADE_REASON}" in plans
    risk = doc.part(template.section("risk").label)
    assert "Moderator: agreed" in risk
    agreed = sum(line == "Moderator: agreed" for line in lines)
    assert agreed == len(template.graded_sections) - 2  # all but the regraded and the overall

    moderation = doc.part("14. Moderation")
    assert "What is your judgement?" in moderation
    assert "☐ Outstanding | ☐ Good | ☒ Requires Improvement | ☐ Inadequate" in moderation
    assert "Evidence | Read the whole file and the plan" in moderation
    assert "Impact | Discussed the plan with the auditor" in moderation
    assert "Overall grade | Regraded from Good to Requires Improvement" in moderation
    assert "Moderated | 6 November 2026, 10:00 by moderator1@council.example" in moderation

    # The moderator's action goes in section 15, the auditor's stays in section 13.
    additional = doc.part("15. Additional Actions")
    assert "Any additional actions following moderation?" in additional
    assert f"{SECTION_15_ACTION} | tm1@council.example | 4 December 2026 | Open" in additional
    section_13 = doc.part("13. Agreed actions to achieve good outcomes for child/young person")
    assert not any(SECTION_15_ACTION in line for line in section_13)
    assert any(SECTION_13_ACTION in line for line in section_13)


async def test_closed_audit_shows_panel_closure_and_action_status(service, catalog, clock):
    template = catalog.template(TEMPLATE_ID)
    audit = await _closed(service, template, clock)
    doc = _Read(render_audit_document(audit, template, "closed"))
    lines = doc.lines

    assert lines[1] == f"Audit {audit.id} · child's ID 1000001 · closed 8 November 2026"
    section_13 = doc.part("13. Agreed actions to achieve good outcomes for child/young person")
    assert (
        f"{SECTION_13_ACTION} | sw1@council.example | 30 November 2026 | "
        "Signed off on 6 November 2026 by tm1@council.example\n"
        "Evidence: Chronology updated on 9 November"
    ) in section_13
    additional = doc.part("15. Additional Actions")
    assert (
        f"{SECTION_15_ACTION} | tm1@council.example | 4 December 2026 | "
        "Completed on 6 November 2026\nEvidence: Plan refreshed at the review"
    ) in additional
    panel = doc.part("QA panel")
    assert "Date | Outcome | Notes | Recorded by" in panel
    assert ("7 November 2026, 10:00 | Agreed | Consistent with the file | " + QA_MANAGER) in panel
    assert "Audit closed: 8 November 2026, 10:00" in panel
    assert "Case of concern" not in lines


async def test_stage_words_and_dates(service, catalog, clock):
    template = catalog.template(TEMPLATE_ID)
    audit = await _closed(service, template, clock)
    said = {
        stage: _lines(render_audit_document(audit, template, stage))[1]
        for stage in ("submitted", "moderated", "closed")
    }
    assert said == {
        "submitted": f"Audit {audit.id} · child's ID 1000001 · submitted 5 November 2026",
        "moderated": f"Audit {audit.id} · child's ID 1000001 · moderated 6 November 2026",
        "closed": f"Audit {audit.id} · child's ID 1000001 · closed 8 November 2026",
    }
    with pytest.raises(ValueError, match="stage must be one of"):
        render_audit_document(audit, template, "finished")


async def test_times_are_uk_times(service, catalog, clock):
    """In summer the UK is an hour ahead of UTC: 23:30 UTC on 30 June is 1 July in the UK."""
    template = catalog.template(TEMPLATE_ID)
    audit = await _submitted(service, template, clock)
    summer = datetime(2027, 6, 30, 23, 30, tzinfo=UTC)
    moved = audit.model_copy(update={"submitted_at": summer})
    doc = _Read(render_audit_document(moved, template, "submitted"))
    lines = doc.lines
    assert lines[1].endswith("submitted 1 July 2027")


# --- case of concern ---------------------------------------------------------------------


async def test_inadequate_audit_has_a_case_of_concern_part(service, catalog, clock):
    template = catalog.template(TEMPLATE_ID)
    audit = await _allocate(service)
    await fill_audit(
        service,
        audit.id,
        AUDITOR,
        template,
        grades={"risk": Grade.INADEQUATE},
        overall=Grade.INADEQUATE,
    )
    await service.execute(
        AUDITOR,
        audit.id,
        c.AddAction(
            "Hold a strategy discussion about the risks this week",
            "tm1@council.example",
            date(2026, 11, 9),
        ),
    )
    await service.execute(AUDITOR, audit.id, c.Submit())
    clock.advance(timedelta(hours=5))
    await service.execute(
        "sm1@council.example",
        audit.id,
        c.ConfirmPlan(
            "Strategy discussion on Friday; weekly visits until review", "tm1@council.example"
        ),
    )
    await service.execute(
        "sm1@council.example",
        audit.id,
        c.AddAction("Visit the child weekly until the review", "sw1@council.example", "2026-12-18"),
    )
    for s in template.graded_sections:
        if s.id != template.overall_section:
            await service.execute(MODERATOR, audit.id, c.ModerateSection(s.id, agree=True))
    await service.execute(
        MODERATOR,
        audit.id,
        c.CompleteModeration(grade="inadequate", evidence="Read the file", impact="Risk remains"),
    )
    clock.advance(timedelta(weeks=6))
    await service.execute(
        QA_MANAGER, audit.id, c.RecordReaudit("requires improvement", "Visits now weekly")
    )
    closed = await service.execute(QA_MANAGER, audit.id, c.CloseCaseOfConcern("Actions embedded"))
    doc = _Read(render_audit_document(closed.audit, template, "moderated"))
    lines = doc.lines

    coc = doc.part("Case of concern")
    assert "Opened | 2 November 2026, 09:00, raised by the auditor" in coc
    assert "Plan | Strategy discussion on Friday; weekly visits until review" in coc
    assert "Plan owner | tm1@council.example" in coc
    assert (
        "Decision | Recorded as a management decision on 2 November 2026, 14:00 "
        "by sm1@council.example"
    ) in coc
    assert (
        "Visit the child weekly until the review | sw1@council.example | 18 December 2026 | Open"
    ) in coc
    assert (
        "14 December 2026, 14:00 | Requires Improvement | Visits now weekly | " + QA_MANAGER
    ) in coc
    assert f"Closed 14 December 2026, 14:00 by {QA_MANAGER}: Actions embedded" in coc
    # The case-of-concern action is not one of the audit's section 13 actions.
    section_13 = doc.part("13. Agreed actions to achieve good outcomes for child/young person")
    assert not any("Visit the child weekly" in line for line in section_13)
    assert _marked(lines)[0] == "Inadequate"
    assert _marked(lines)[-1] == "Inadequate"


# --- text from people ------------------------------------------------------------------------


ILLEGAL = "".join(chr(i) for i in (*range(0x01, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)))


async def test_illegal_control_characters_are_removed(service, catalog, clock):
    template = catalog.template(TEMPLATE_ID)
    audit = await _allocate(service)
    await fill_audit(
        service,
        audit.id,
        AUDITOR,
        template,
        overrides={"case-summary": {"summary": f"Lives with{ILLEGAL} mum and two sisters"}},
    )
    audit = await service.get(audit.id)
    # The record keeps what was typed; the document is what must cope.
    assert ILLEGAL in audit.answers["case-summary"].values["summary"]
    # NUL and a lone surrogate cannot go through every database, so they are added here.
    risk = audit.answers["risk"].model_copy(update={"evidence": "Strategy\x00 minutes\ud800"})
    audit = audit.model_copy(update={"answers": {**audit.answers, "risk": risk}})

    doc = _Read(render_audit_document(audit, template, "submitted"))
    summary = next(line for line in doc.lines if line.startswith("Tell me about this child"))
    assert summary.endswith(" | Lives with mum and two sisters")
    assert "Evidence | Strategy minutes" in doc.part(template.section("risk").label)
    everything = "\n".join(doc.lines)
    assert not any(ch in everything for ch in (*ILLEGAL, "\x00", "\ud800"))


async def test_arbitrary_evidence_renders(service, catalog, clock):
    template = catalog.template(TEMPLATE_ID)
    audit = await _submitted(service, template, clock)
    first = template.graded_sections[0]

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(text=st.text())
    def renders(text: str) -> None:
        answer = audit.answers[first.id].model_copy(update={"evidence": text})
        changed = audit.model_copy(update={"answers": {**audit.answers, first.id: answer}})
        shown = _Read(render_audit_document(changed, template, "submitted")).part(first.label)
        kept = "".join(
            ch
            for ch in text.replace("\r\n", "\n").replace("\r", "\n")
            if ch in "\t\n"
            or (ch >= " " and not "\ud800" <= ch <= "\udfff" and ch not in "\ufffe\uffff")
        )
        assert f"Evidence | {kept if text else '—'}" in shown

    renders()


# --- the document as a whole ------------------------------------------------------------------


async def test_properties_and_final_line(service, catalog, clock):
    template = catalog.template(TEMPLATE_ID)
    audit = await _submitted(service, template, clock)
    data = render_audit_document(audit, template, "submitted")
    document = docx.Document(io.BytesIO(data))
    props = document.core_properties
    assert props.title == f"Audit {audit.id} – child 1000001"
    assert props.author == "auditbot"
    assert props.last_modified_by == "auditbot"
    assert "python-docx" not in f"{props.author}{props.comments}{props.last_modified_by}"
    assert _lines(data)[-1] == FINAL_LINE
    assert FINAL_LINE == (
        "Generated by auditbot from the audit record. Contains personal data: "
        "handle under the council's data protection policy."
    )
    footer = document.sections[0].footer.paragraphs[0].text
    assert f"child's ID 1000001 · {FINAL_LINE}" in footer


def test_any_template_renders_from_its_own_sections():
    """Nothing about Swindon is assumed: another tool's sections, questions and wording."""
    template = Template.model_validate(
        {
            "id": "tiny",
            "name": "Tiny Child Case Audit Form",
            "overall_section": "overall",
            "sections": [
                {
                    "id": "facts",
                    "kind": "details",
                    "title": "Case details",
                    "questions": [
                        {
                            "id": "legal",
                            "type": "multi_choice",
                            "text": "Legal status",
                            "options": [
                                {"id": "cin", "label": "Child in Need"},
                                {"id": "cp", "label": "Child Protection"},
                                {"id": "s20", "label": "Section 20"},
                            ],
                        },
                        {"id": "visits", "type": "number", "text": "Visits in 6 months"},
                        {"id": "seen", "type": "yes_no_na", "text": "Seen alone?"},
                        {"id": "earlier", "type": "grade", "text": "Last audit grade"},
                    ],
                },
                {
                    "id": "overall",
                    "kind": "graded",
                    "title": "Overall judgement",
                    "questions": [
                        {
                            "id": "safe",
                            "type": "yes_no",
                            "text": "Is the child safe?",
                            "limiting": True,
                        }
                    ],
                },
            ],
            "actions": {"title": "Actions"},
            "moderation": {"title": "Moderator's view", "prompt": "Your grade?"},
        }
    )
    at = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    audit = Audit.model_validate(
        {
            "id": "202611-001",
            "child_id": "C-77",
            "cycle": "2026-11",
            "strand": "cin",
            "team": "Team A",
            "template": "tiny",
            "policy": "swindon",
            "overall_section": "overall",
            "participants": {
                "social_worker": "sw@council.example",
                "auditor": "a@council.example",
                "iro": "iro@council.example",
                "moderator": "m@council.example",
                "team_manager": "tm@council.example",
                "service_manager": "sm@council.example",
            },
            "allocated_by": QA_MANAGER,
            "allocated_at": at,
            "submitted_at": at,
            "answers": {
                "facts": SectionAnswer(
                    values={"legal": ["cp", "s20"], "visits": 12.0, "seen": "na", "earlier": "good"}
                ),
                "overall": SectionAnswer(grade=Grade.INADEQUATE, values={"safe": "no"}),
            },
        }
    )
    doc = _Read(render_audit_document(audit, template, "submitted"))
    lines = doc.lines
    assert lines[0] == "Tiny Child Case Audit Form"
    assert lines[1] == "Audit 202611-001 · child's ID C-77 · submitted 2 November 2026"
    assert "Legal status | Child Protection, Section 20" in lines
    assert "Visits in 6 months | 12" in lines
    assert "Seen alone? | N/A" in lines
    assert "Last audit grade | Good" in lines
    assert "Is the child safe? | No — limiting judgement not met" in lines
    assert "Overall judgement" in lines and "Actions" in lines and "Moderator's view" in lines
    assert "Evidence | —" in lines
    assert _marked(lines) == ["Inadequate", ""]
