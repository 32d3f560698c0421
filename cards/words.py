"""Every word a card shows, in plain English a social worker would use.

Grades, roles, statuses and deadline steps keep the domain's own labels
(`Grade.label`, `Role.label`, `Status.label`, `audits.wording.step_title`),
so a card, a calendar entry and an e-mail name things the same way; they
are reached through the functions here so the builders read words from one
place. Nothing here names a child: cards show the child's ID only.

Every constant is `Final`, so mypy refuses a second assignment to a name (a later
`FEEDBACK_TITLE = ...` once silently replaced the social worker's wording with the
family's), and tests/test_cards.py refuses any name defined twice. Words of one card
family share its prefix (FAMILY_FEEDBACK_*, PRACTITIONER_FEEDBACK_*, CHECKLIST_*,
IRO_*, COC_*, REPORT_*, TRACKER_*) so two families never reach for the same name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Final

from audits.grades import Grade
from audits.model import ActionStatus, Status
from audits.roles import Role
from audits.steps import is_action_step
from audits.wording import step_title
from audits.workdays import uk_time

# ------------------------------------------------------------------ shared

CHILD_ID: Final = "Child's ID"
AUDIT: Final = "Audit"
RECEIPT_AUDIT: Final = "{audit_id}, child's ID {child_id}"
DUE: Final = "Due"
NOT_GRADED: Final = "Not graded yet"
NOT_ANSWERED: Final = "Not answered"
UK_TIME: Final = "UK time"
OPTIONAL: Final = "optional"


def audit_line(audit_id: str, child_id: str) -> str:
    return f"Audit {audit_id} · child's ID {child_id}"


def grade(value: Grade | str | None) -> str:
    if value is None or value == "":
        return NOT_GRADED
    return Grade(value).label


def role(value: Role | str) -> str:
    return Role(value).label


def status(value: Status | str) -> str:
    return Status(value).label


def step(key: str) -> str:
    """A deadline step as a noun: 'IRO/CP chair comments', 'moderation', 'action 3'."""
    return step_title(key).removesuffix(" due")


STATUS: Final = "Status"


def day(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


def when(instant: datetime) -> str:
    return f"{uk_time(instant)} ({UK_TIME})"


def duration(delta: timedelta) -> str:
    """Roughly how long: '2 days', '5 hours', '40 minutes'."""
    seconds = abs(delta.total_seconds())
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size:
            count = round(seconds / size)
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return "less than a minute"


def due_by(instant: datetime) -> str:
    return f"by {when(instant)}"


def due_in(instant: datetime, now: datetime | None) -> str:
    if now is None:
        return f"Due {due_by(instant)}"
    return f"Due in {duration(instant - now)}, {due_by(instant)}"


def overdue_since(instant: datetime, now: datetime | None = None) -> str:
    ago = f" ({duration(now - instant)} ago)" if now is not None and now > instant else ""
    return f"Overdue since {when(instant)}{ago}"


YES_NO: Final = {"yes": "Yes", "no": "No", "na": "N/A"}

# ----------------------------------------------------------------- buttons

OPEN: Final = "Open"
OPEN_AUDIT: Final = "Open the audit"
START_AUDIT: Final = "Start the audit"
SAVE_AND_NEXT: Final = "Save and next"
SAVE_AND_PAUSE: Final = "Save and pause"
AUDIT_SESSION_BY: Final = "The audit is due by"
CHECKLIST_INTRO: Final = "Please complete this before the audit session with your auditor."
CHECKLIST_SAVE: Final = "Save the checklist"
CHECKLIST_DONE_TITLE: Final = "The practitioner has completed the checklist"
CHECKLIST_STATE: Final = "Pre-audit checklist"
CHECKLIST_DONE: Final = "Done"
CHECKLIST_NOT_YET: Final = "Not done yet"
OPEN_CHECKLIST: Final = "Open the checklist"
SEND_FEEDBACK: Final = "Send feedback"
TYPE_EVIDENCE: Final = "Type evidence in chat"
TYPE_IMPACT: Final = "Type impact in chat"
TYPED_FIELDS: Final = {"evidence": "evidence", "impact": "impact"}


def type_it(what: str, section: str, limit: int) -> str:
    return (
        f"Type the {what} for '{section}' as your next message (up to {limit:,} characters). "
        f"It replaces what is saved there now."
    )


def typed_too_long(limit: int) -> str:
    return f"That is too long: at most {limit:,} characters. Nothing was saved; please send a shorter text."


SHOW_GUIDANCE: Final = "Show guidance"
HIDE_GUIDANCE: Final = "Hide guidance"
CHECK_AND_SUBMIT: Final = "Check and submit"
SUBMIT: Final = "Submit for moderation"
SUBMIT_NO_MODERATION: Final = "Submit the audit"  # a process without moderation
BACK_TO_AUDIT: Final = "Back to the audit"
RECORD_FEEDBACK: Final = "Record family feedback"
SAVE_FEEDBACK: Final = "Save feedback"
ADD_COMMENTS: Final = "Add comments"
MODERATE: Final = "Moderate the audit"
OVERALL_JUDGEMENT_BUTTON: Final = "Overall judgement"
COMPLETE_MODERATION: Final = "Complete moderation"
RECORD_PANEL: Final = "Record the panel's findings"
CLOSE_AUDIT: Final = "Close the audit"
RECORD_PLAN: Final = "Record the plan"
CONFIRM_PLAN: Final = "Confirm the plan"
MARK_COMPLETE: Final = "Mark as complete"
SIGN_OFF: Final = "Sign off"
RETURN_ACTION: Final = "Return it"
RETURN_ACTION_CONFIRM: Final = "Return the action"
OPEN_ACTION: Final = "Open the action"
AGREED_ACTIONS: Final = "Agreed actions"
ADD_ACTION: Final = "Add the action"
MY_AUDITS: Final = "My audits"
HELP: Final = "Help"

# ------------------------------------------------------------ welcome, help

WELCOME_TITLE: Final = "Welcome to auditbot"


def hello(first_name: str | None) -> str:
    return f"Hello {first_name}." if first_name else "Hello."


WELCOME_TEXT: Final = (
    "I help you carry out case file audits here in Teams. I tell you when you have an "
    "audit to do, take your answers section by section, remind you before a deadline "
    "and keep the QA team up to date."
)
PRIVACY: Final = "My messages show the child's ID only, never the child's name."
HELP_TITLE: Final = "What you can type"
EVERYONE_COMMANDS: Final[tuple[tuple[str, str], ...]] = (
    ("help", "what I can do and the words I understand"),
    ("my audits", "the audits you are part of, what comes next and when it is due"),
    ("resume", "carry on where you left off"),
    ("status <child's ID>", "where the audit for that child's ID is up to"),
)
QA_COMMANDS: Final[tuple[tuple[str, str], ...]] = (
    ("report", "QA staff: this month's audit report (or report 2026-10, report 2026-Q3)"),
    (
        "tracker",
        "QA staff: every audit with its state and next deadline (filters: "
        'team="Team name", status=submitted, overdue, concern)',
    ),
)
COMMANDS: Final = EVERYONE_COMMANDS + QA_COMMANDS
QA_ONLY: Final = "Only the QA team can see the report and the tracker."
DETAILS_TITLE: Final = "Audit details"
TEAM: Final = "Team"
DONE_ON: Final = "Done {when}"
PEOPLE_ON_AUDIT: Final = "People"
DEADLINES_TITLE: Final = "Deadlines"
HELP_BUTTONS: Final = "You can also use the buttons on my cards; they do the same."

# --------------------------------------------------------------- my audits

MY_AUDITS_TITLE: Final = "Your audits"
NO_AUDITS: Final = "You have no audits at the moment."
NEXT: Final = "Next"
NOTHING_DUE: Final = "Nothing due"
YOUR_ROLE: Final = "You are the"
STATUS_STAGE: Final = "Stage"
STATUS_WITH: Final = "{when} – with {who}"
STATUS_OPEN_MINE: Final = "Open my part"


def more_audits(count: int) -> str:
    return f"…and {count} more. Type 'status <child's ID>' to find one."


# -------------------------------------------------------------- allocation

ALLOCATED_TITLE: Final = {
    Role.AUDITOR: "You have a case file audit to complete",
    Role.SOCIAL_WORKER: "A case file audit of your work with a child",
    Role.MODERATOR: "You will moderate a case file audit",
    Role.IRO: "Your comments are needed for a case file audit",
}
ALLOCATED_FIRST: Final = {
    Role.AUDITOR: "What to do first: book the session with the social worker and seek the "
    "family's feedback. Then complete the audit tool with the social worker, section by "
    "section, and submit it for moderation.",
    Role.SOCIAL_WORKER: "You will complete the audit alongside the auditor, who will be in "
    "touch to book a session with you. There is nothing to do in auditbot yet.",
    Role.MODERATOR: "You will moderate this audit after the auditor submits it. I will send "
    "it to you when it is ready.",
    # The deadline comes from the policy (72 hours in Swindon), so it is shown, not written here.
    Role.IRO: "As the child's IRO/CP chair, please add your comments on the case before the "
    "deadline shown. The auditor and the moderator will see them.",
}
ALLOCATED_DUE: Final = {
    Role.AUDITOR: "Audit due",
    Role.SOCIAL_WORKER: "Audit due",
    Role.MODERATOR: "Audit due",
    Role.IRO: "Comments due",
}
NO_DUE_DATE: Final = "No deadline set"

# ------------------------------------------------------------ family feedback

# The auditor's record of what the child, parents or carers said (RECORD_FEEDBACK,
# SAVE_FEEDBACK); not the social worker's own feedback on the audit, below.

FAMILY_FEEDBACK_TITLE: Final = "Family feedback"
FAMILY_FEEDBACK_INTRO: Final = (
    "Seek feedback from the child or young person, parents or carers before you complete "
    "the audit: it will not be accepted without it. If it could not be sought, say why."
)
FAMILY_FEEDBACK_SOURCES: Final = {
    "child": "Child",
    "young_person": "Young person",
    "parent": "Parent",
    "carer": "Carer",
    "other": "Other",
}
SOUGHT_FROM: Final = "Feedback sought from"
FAMILY_FEEDBACK_SUMMARY: Final = "Summary of the feedback"
NOT_SOUGHT_REASON: Final = "Or, if it could not be sought: why not"

# ------------------------------------------- the social worker's own feedback
# After closure the QA team asks the social worker for their feedback on the audit
# (SEND_FEEDBACK); the questions are Bristol's "Staff feedback about this audit report".

PRACTITIONER_FEEDBACK_TITLE: Final = "Staff feedback about this audit report"
PRACTITIONER_FEEDBACK_INTRO: Final = (
    "The moderated audit of your work with this child has been shared with you. The QA "
    "team asks for your feedback about this audit report. Please answer:"
)
PRACTITIONER_FEEDBACK_QUESTIONS: Final = (
    "1. Have you discussed it in supervision with your manager (date)?",
    "2. What are your learning points from that audit?",
    "3. What have you changed on your practice as a result of this audit?",
    "4. Have you completed the recommended actions?",
    "5. If your audit has been graded Requires Improvement or Inadequate, please add your "
    "improvement plan.",
    "6. What are your considerations in relation to the service user's feedback received "
    "(if on the audit)?",
)
PRACTITIONER_FEEDBACK_LABEL: Final = "Your feedback"
PRACTITIONER_FEEDBACK_MISSING: Final = "Please write your feedback"
PRACTITIONER_FEEDBACK_PLAN_MISSING: Final = "Please add your improvement plan"
PRACTITIONER_FEEDBACK_DUE: Final = "Please reply by"

# ------------------------------------------------------------------ people

# No display names known: people are shown by their address.
NO_NAMES: Final[Mapping[str, str]] = MappingProxyType({})


def person(address: str | None, names: Mapping[str, str] = NO_NAMES) -> str:
    """A person as cards and documents show them: their name from the directory, or
    their address where no name is known."""
    if not address:
        return ""
    return names.get(address.lower()) or address


# ------------------------------------------------------------------ section


def progress(position: int, total: int) -> str:
    """Where a moderator is among the sections to moderate."""
    return f"Section {position} of {total}"


def page(position: int, total: int) -> str:
    """Where the auditor is in the whole form: every page counts, not only the graded ones."""
    return f"Page {position} of {total}"


GRADE_LABEL: Final = "Grade for this area of practice"
GRADE_CHOOSE: Final = "Choose a grade"
LIMITING: Final = "Limiting judgement"


def limiting(question: str) -> str:
    return f"{LIMITING}: {question}"


def optional(label: str) -> str:
    return f"{label} ({OPTIONAL})"


def only_if(question: str, answer: str) -> str:
    return f"Only if the answer to '{question}' is {answer}"


CHOOSE: Final = "Choose"
GUIDANCE_LEFT_OUT: Final = "The guidance is left out of this card because your answers are long."


def kept_answer(what: str, characters: int) -> str:
    return (
        f"Your saved {what} ({characters:,} characters) is too long to show on this card. "
        "It is kept as it is unless you type a new one here."
    )


def saved(label: str) -> str:
    return f"Saved: {label}"


def saved_length(characters: int) -> str:
    """What a receipt says for typed text: its length, never its words (they may name the child)."""
    return f"saved ({characters:,} characters)"


GIVEN: Final = "given"
OTHER_ANSWERS: Final = "Other answers"


def answers_given(count: int) -> str:
    return f"{count} given"


EVIDENCE: Final = "Evidence"
IMPACT: Final = "Impact"
GRADE: Final = "Grade"
ANSWER: Final = "answer"
PERSON_INVALID: Final = "Give an e-mail address, like name@council.gov.uk"

# ------------------------------------------------------------------- review

REVIEW_TITLE: Final = "Check and submit"
STILL_TO_DO: Final = "Still to do before you can submit:"
OPEN_IT: Final = "Open"
STILL_TO_GIVE: Final = "Still to give here"


def still_to_give(what: Iterable[str]) -> str:
    return f"{STILL_TO_GIVE}: {'; '.join(what)}. You can save without it and come back."


READY_TO_SUBMIT: Final = (
    "Everything is answered. Submit the audit for moderation when you are ready."
)
OVERALL_GRADE: Final = "Overall grade"
LIMITING_NOT_MET: Final = "Limiting judgements not met:"


def _sentence(text: str) -> str:
    return text if text.endswith((".", "?", "!")) else f"{text}."


def grade_refused(message: str) -> str:
    return f"{_sentence(message)} Change the grades before you submit."


def grade_needs_reason(message: str) -> str:
    return (
        f"{_sentence(message)} You can keep this grade if you give your reason; "
        "the moderator will see it."
    )


GRADE_REASON: Final = "Your reason for this overall grade"
GRADE_REASON_MISSING: Final = "Give your reason, or change the grades"


def actions_count(count: int) -> str:
    if count == 0:
        return "No agreed actions yet."
    return f"{count} agreed action{'' if count == 1 else 's'}."


def not_editable(state: Status) -> str:
    return f"This audit is {state.label.lower()}: the answers can no longer be changed."


# ------------------------------------------------------------ IRO/CP chair

IRO_TITLE: Final = "Comments from the IRO/CP chair"
IRO_INTRO: Final = (
    "Add your comments on this child's case as their IRO/CP chair. The auditor and the "
    "moderator will see them."
)
COMMENTS: Final = "Your comments"
COMMENTS_MISSING: Final = "Write your comments before you send them"
COMMENTS_DUE: Final = "Comments due"


def comments_added(count: int) -> str:
    return f"You have added comments {count} time{'' if count == 1 else 's'}. You can add more."


# ---------------------------------------------------------------- moderation


def moderating(label: str) -> str:
    return f"Moderation: {label}"


AUDITOR_GRADE: Final = "Auditor's grade"
AUDITOR_EVIDENCE: Final = "Auditor's evidence"
AUDITOR_IMPACT: Final = "Auditor's impact"
AUDITOR_OVERALL: Final = "Auditor's overall grade"
AUDITOR_GRADE_REASON: Final = "Auditor's reason for the overall grade"
DECISION: Final = "Your decision"
DECISION_MISSING: Final = "Choose whether you agree with the grade or change it"


def agree_with(auditor_grade: str) -> str:
    return f"Agree with the auditor's grade ({auditor_grade})"


REGRADE: Final = "Change the grade"
NEW_GRADE: Final = "New grade (if you change it)"
MODERATION_REASON: Final = "Reason (needed if you change the grade)"
SECTIONS: Final = "Sections"
NOT_MODERATED: Final = "not moderated yet"


def agreed(grade_label: str) -> str:
    return f"agreed ({grade_label})"


def regraded(old: str, new: str) -> str:
    return f"{old} → {new}"


FLAGGED_INADEQUATE: Final = "Graded Inadequate by the auditor:"


def still_to_moderate(count: int) -> str:
    return f"{count} section{'' if count == 1 else 's'} still to moderate."


OVERALL_JUDGEMENT: Final = "Your overall judgement"
MODERATION_EVIDENCE: Final = "Evidence – what have you considered?"
MODERATION_IMPACT: Final = "Impact – what difference has the help made for the child?"
MODERATION_GRADE_REASON: Final = "Reason for your grade, if it goes against the grade rules"
EVIDENCE_MISSING: Final = "Write the evidence"
IMPACT_MISSING: Final = "Write the impact"
GRADE_MISSING: Final = "Choose a grade"

# ---------------------------------------------------------- case of concern

COC_TITLE: Final = "Case of concern: audit judged Inadequate"
COC_TEXT: Final = (
    "The case of concern process has started. The service manager must make sure there is "
    "a plan in place to take the actions forward and keep the child safe, recorded as a "
    "management decision."
)
# A process with no case of concern plan (Shropshire, Early Help, YJS): the actions.
COC_TEXT_NO_PLAN: Final = (
    "The case of concern process has started: the agreed actions of this audit are "
    "tracked until they are done."
)
RAISED_BY: Final = "Raised by"
PLAN_DUE: Final = "Plan due"
PLAN_TITLE: Final = "Case of concern: the plan"
PLAN: Final = "The plan: how the actions will be taken forward and the child kept safe"
PLAN_MISSING: Final = "Write the plan"
PLAN_OWNER: Final = "Who will carry it out (their e-mail address)"
PLAN_OWNER_MISSING: Final = "Give the e-mail address of the person who will carry it out"
MANAGEMENT_DECISION: Final = "The plan is recorded as a management decision."


def raised_by(role_value: Role | str) -> str:
    return f"the {role(role_value)}"


# -------------------------------------------------------------- panel, close

PANEL_TITLE: Final = "QA panel"
PANEL_INTRO: Final = (
    "Record the panel's findings: agree the audit so it can be closed, or return it."
)
MODERATED_GRADE: Final = "Moderated grade"
PANEL_OUTCOME: Final = "The panel's findings"
PANEL_OUTCOME_MISSING: Final = "Choose agreed or returned"
PANEL_OUTCOMES: Final = {
    "agreed": "Agreed: the audit can be closed",
    "returned": "Returned to the auditor",
}
PANEL_NOTES: Final = "Notes (needed if you return it: what the panel needs from the auditor)"


def regraded_count(count: int) -> str:
    if count == 0:
        return "The moderator agreed every section grade."
    return f"The moderator changed {count} section grade{'' if count == 1 else 's'}."


CLOSE_TITLE: Final = "Close the audit"
CLOSE_INTRO: Final = (
    "The QA panel agreed this audit. Close it to file it and tell everyone involved."
)
FINAL_GRADE: Final = "Final grade"
READY_TO_CLOSE: Final = "A moderated audit is ready to share and close"
CLOSE_BY: Final = "Please close it by"
CLOSE_INTRO_NO_PANEL: Final = (
    "Check the moderated audit, then close it: it is filed and shared with the social "
    "worker, team manager, service manager and IRO/CP chair."
)

# ----------------------------------------------------------- agreed actions


ACTION: Final = "Action"


def action_title(number: int) -> str:
    return f"Action {number}"


ACTION_DUE: Final = "Complete by"
ACTION_OWNER: Final = "Person responsible"
ACTION_STATUS: Final = {
    ActionStatus.OPEN: "Open",
    ActionStatus.COMPLETED: "Marked complete, waiting for sign-off",
    ActionStatus.SIGNED_OFF: "Signed off",
}
COMPLETION_EVIDENCE: Final = "Evidence that it is done"
COMPLETION_EVIDENCE_MISSING: Final = "Say what was done"
COMPLETED_BY: Final = "Marked complete by"


def sign_off_title(number: int) -> str:
    return f"Sign off action {number}"


SIGN_OFF_INTRO: Final = "Check the evidence. Sign the action off, or return it if it is not done."
RETURN_REASON: Final = "Why it is not done yet"
RETURN_REASON_MISSING: Final = "Say why you are returning it"
NO_ACTIONS: Final = "No agreed actions yet."
NEW_ACTION: Final = "Add an action"
ACTION_TEXT: Final = "The action: what will be done, by whom, by when and why (SMART)"
ACTION_TEXT_MISSING: Final = "Write the action"
ACTION_OWNER_INPUT: Final = "Person responsible (their e-mail address)"
ACTION_OWNER_MISSING: Final = "Give the e-mail address of the person responsible"
ACTION_DUE_MISSING: Final = "Choose the date it should be done by"

# ------------------------------------------------------- nudges, escalations


def nudge_title(step_key: str, overdue: bool) -> str:
    return f"{'Overdue' if overdue else 'Reminder'}: {step(step_key)}"


ESCALATION_TITLE: Final = "Escalation: a deadline has passed"
LATE: Final = "Late"
WAS_DUE: Final = "It was due"
OWNER: Final = "Who owns it"

STEP_TODO: Final = {
    "iro_comments": "Add your comments on the case as the child's IRO/CP chair.",
    "audit_completion": "Complete the audit with the social worker, record the family's "
    "feedback and submit it for moderation.",
    "moderation": "Moderate the audit: agree or change each section's grade, then give your "
    "overall judgement.",
    "closure": "Record the panel's findings and close the audit.",
    "coc_plan": "Confirm the plan that keeps the child safe and takes the actions forward.",
    "reaudit": "Carry out the re-audit and record what you found.",
    "practitioner_feedback": "Read the moderated audit and give your feedback on it.",
    "actions_review": "Review the audit's agreed actions and add an update as a case direction.",
}
ACTION_TODO: Final = "Complete the agreed action and record the evidence, so it can be signed off."


def todo(step_key: str) -> str:
    return ACTION_TODO if is_action_step(step_key) else STEP_TODO.get(step_key, "")


# ------------------------------------------------------------------ notices

IRO_COMMENTS_ADDED: Final = "The IRO/CP chair has added comments"
IRO_COMMENTS_ADDED_TEXT: Final = "Open the audit to read them."
READY_FOR_MODERATION: Final = "An audit is ready for you to moderate"
MODERATION_DUE: Final = "Moderation due"
MODERATION_COMPLETE: Final = "Moderation is complete"
NOTHING_REGRADED: Final = "The moderator agreed with every grade."
REGRADED: Final = "Grades the moderator changed:"
READY_FOR_PANEL: Final = "An audit is ready for the QA panel"
RESUBMITTED: Final = "The auditor has sent it back after the panel's request."
RETURNED: Final = "The QA panel has returned an audit to you"
RETURNED_TEXT: Final = "Open the audit to see what the panel needs, then submit it again."
CLOSED: Final = "Audit closed"
PLAN_CONFIRMED: Final = "Case of concern: the plan is confirmed"
PLAN_CONFIRMED_TEXT: Final = "The service manager has recorded the plan as a management decision."
REAUDIT_RECORDED: Final = "Case of concern: re-audit recorded"
REAUDIT_GRADE: Final = "Re-audit grade"
COC_CLOSED: Final = "Case of concern closed"
ACTION_ASSIGNED: Final = "You are responsible for an agreed action"
ACTION_TO_SIGN_OFF: Final = "An action is ready for you to sign off"
ACTION_SIGNED_OFF: Final = "Your action is signed off"
ACTION_RETURNED: Final = "Your action has been returned"
ACTION_RETURNED_TEXT: Final = "Open the action to see what is still needed."
DEADLINE_MOVED: Final = "A deadline has moved"
DEADLINE_FOR: Final = "Deadline for"
NEW_DEADLINE: Final = "New deadline"


def reassigned_to(role_value: Role | str) -> str:
    return f"You are now the {role(role_value)} for an audit"


def reassigned_away(role_value: Role | str) -> str:
    return f"You are no longer the {role(role_value)} for an audit"


REASSIGNED_AWAY_TEXT: Final = "There is nothing more for you to do on it."

# ------------------------------------------------------------------- replies

SAVED: Final = "Saved."
OPENED: Final = "Opened below."
CARD_TOO_BIG: Final = (
    "This is too long to show in Teams. Nothing was lost: the QA team can see it in full."
)
NOT_OFFERED: Final = "auditbot does not offer that here. Type help to see what it can do."
ALREADY_SAVED: Final = "That card has already been saved."
UNKNOWN: Final = "Sorry, I did not understand that. Here is what you can type."
WHO_ARE_YOU: Final = (
    "I could not match your Teams account to anyone on an audit. If you think you should "
    "have access, please contact the QA team."
)
NOT_FOR_YOUR_ORG: Final = "auditbot is not available to your organisation."
# `.format(child_id=...)`
NO_SUCH_CHILD: Final = "You have no audit for child's ID {child_id}."

# ---------------------------------------------------------------- QA report

REPORT_TITLE: Final = "Audit report"
REPORT_AS_AT: Final = "Figures as at"
REPORT_COMPLETED: Final = "Audits completed"
REPORT_GOOD_OR_BETTER: Final = "Good or better"
REPORT_AGREEMENT: Final = "Moderator agreed the overall grade"
REPORT_IRO_ON_TIME: Final = "IRO/CP chair comments on time"
REPORT_CASES_OF_CONCERN: Final = "Cases of concern"
REPORT_ACTIONS_OVERDUE: Final = "Agreed actions overdue"
REPORT_WORD: Final = "Open the report (Word)"
REPORT_WORKBOOK: Final = "Open the figures (Excel)"
REPORT_NOT_FILED: Final = "The files are not in SharePoint yet."
REPORT_NOTHING_DUE: Final = "nothing due yet"
OPEN_TRACKER: Final = "Open the tracker"


def report_title(period_label: str) -> str:
    return f"{REPORT_TITLE}: {period_label}"


def of_total(part: int, whole: int) -> str:
    return f"{part} of {whole}"


def percent_of(value: float | None, part: int, whole: int) -> str:
    """'80% (16 of 20)', or 'nothing due yet' when nothing could be counted."""
    if value is None:
        return REPORT_NOTHING_DUE
    return f"{value:g}% ({part} of {whole})"


# ------------------------------------------------------------------ tracker

TRACKER_TITLE: Final = "Audit tracker"
TRACKER_EMPTY: Final = "No audits match."
TRACKER_NEXT: Final = "Next page"
TRACKER_PREVIOUS: Final = "Previous page"
DETAILS: Final = "Details"
OWNER_LABEL: Final = "With"
OVERDUE: Final = "Overdue"
CASE_OF_CONCERN_FLAG: Final = "Case of concern"
FILTERED_BY: Final = "Showing"


def tracker_page(page: int, pages: int, total: int) -> str:
    return f"Page {page} of {pages} · {total} audit{'' if total == 1 else 's'}"


def tracker_filters(
    team: str | None, status_value: Status | str | None, overdue: bool, concern: bool
) -> str:
    shown = []
    if team:
        shown.append(f"team {team}")
    if status_value:
        shown.append(status(status_value).lower())
    if overdue:
        shown.append("overdue only")
    if concern:
        shown.append("cases of concern only")
    return f"{FILTERED_BY}: {', '.join(shown)}" if shown else f"{FILTERED_BY}: all audits"


# ------------------------------------------------------- re-audit and actions review

RECORD_REAUDIT: Final = "Save the re-audit"
REAUDIT_REQUESTED: Final = "Case of concern: a re-audit for you"
REAUDIT_DUE: Final = "Re-audit due"
REAUDIT_TITLE: Final = "Re-audit of the case of concern"
REAUDIT_FINDINGS: Final = "Findings"
REAUDIT_FINDINGS_MISSING: Final = "Write what the re-audit found"
REAUDIT_AUDITOR: Final = "Second auditor (who re-audited the case)"
REAUDIT_AUDITOR_MISSING: Final = "Give the second auditor's work e-mail"
REAUDIT_SECOND_AUDITOR: Final = (
    "The re-audit is by a second auditor, not the audit's own auditor, and without the worker."
)
REAUDITS_SO_FAR: Final = "Re-audits so far"
ACTIONS_REVIEW_TITLE: Final = "Review of the agreed actions"
ACTIONS_REVIEW_DUE: Final = "Review due"
ACTIONS_REVIEW_UPDATE: Final = "Your update, added as a case direction"
ACTIONS_REVIEW_UPDATE_MISSING: Final = "Write the update for the case direction"
SAVE_CASE_DIRECTION: Final = "Save as a case direction"
REAUDIT_ACTIONS_TITLE: Final = "Actions required from the re-audit"
REAUDIT_ADD_ACTIONS: Final = "Actions required"
BACK_TO_REAUDIT: Final = "Back to the re-audit"
