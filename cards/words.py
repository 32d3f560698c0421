"""Every word a card shows, in plain English a social worker would use.

Grades, roles, statuses and deadline steps keep the domain's own labels
(`Grade.label`, `Role.label`, `Status.label`, `audits.wording.step_title`),
so a card, a calendar entry and an e-mail name things the same way; they
are reached through the functions here so the builders read words from one
place. Nothing here names a child: cards show the child's ID only.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from audits.grades import Grade
from audits.model import ActionStatus, Status
from audits.roles import Role
from audits.steps import is_action_step
from audits.wording import step_title
from audits.workdays import uk_time

# ------------------------------------------------------------------ shared

CHILD_ID = "Child's ID"
AUDIT = "Audit"
DUE = "Due"
NOT_GRADED = "Not graded yet"
NOT_ANSWERED = "Not answered"
UK_TIME = "UK time"
OPTIONAL = "optional"


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


STATUS = "Status"


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


YES_NO = {"yes": "Yes", "no": "No", "na": "N/A"}

# ----------------------------------------------------------------- buttons

OPEN = "Open"
OPEN_AUDIT = "Open the audit"
START_AUDIT = "Start the audit"
SAVE_AND_NEXT = "Save and next"
SAVE_AND_PAUSE = "Save and pause"
AUDIT_SESSION_BY = "The audit is due by"
CHECKLIST_INTRO = "Please complete this before the audit session with your auditor."
CHECKLIST_SAVE = "Save the checklist"
CHECKLIST_DONE_TITLE = "The practitioner has completed the checklist"
CHECKLIST_STATE = "Pre-audit checklist"
CHECKLIST_DONE = "Done"
CHECKLIST_NOT_YET = "Not done yet"
OPEN_CHECKLIST = "Open the checklist"
FEEDBACK_TITLE = "Your feedback on the audit"
FEEDBACK_INTRO = (
    "The audit of this child's case has been moderated and shared with you. What did you "
    "think of it, and of what it found?"
)
FEEDBACK_LABEL = "Your feedback"
FEEDBACK_MISSING = "Please write your feedback"
FEEDBACK_DUE = "Please reply by"
SEND_FEEDBACK = "Send feedback"
TYPE_EVIDENCE = "Type evidence in chat"
TYPE_IMPACT = "Type impact in chat"
TYPED_FIELDS = {"evidence": "evidence", "impact": "impact"}


def type_it(what: str, section: str, limit: int) -> str:
    return (
        f"Type the {what} for '{section}' as your next message (up to {limit:,} characters). "
        f"It replaces what is saved there now."
    )


def typed_too_long(limit: int) -> str:
    return f"That is too long: at most {limit:,} characters. Nothing was saved; please send a shorter text."


SHOW_GUIDANCE = "Show guidance"
CHECK_AND_SUBMIT = "Check and submit"
SUBMIT = "Submit for moderation"
BACK_TO_AUDIT = "Back to the audit"
RECORD_FEEDBACK = "Record family feedback"
SAVE_FEEDBACK = "Save feedback"
ADD_COMMENTS = "Add comments"
MODERATE = "Moderate the audit"
OVERALL_JUDGEMENT_BUTTON = "Overall judgement"
COMPLETE_MODERATION = "Complete moderation"
RECORD_PANEL = "Record the panel's findings"
CLOSE_AUDIT = "Close the audit"
RECORD_PLAN = "Record the plan"
CONFIRM_PLAN = "Confirm the plan"
MARK_COMPLETE = "Mark as complete"
SIGN_OFF = "Sign off"
RETURN_ACTION = "Return it"
RETURN_ACTION_CONFIRM = "Return the action"
OPEN_ACTION = "Open the action"
AGREED_ACTIONS = "Agreed actions"
ADD_ACTION = "Add the action"
MY_AUDITS = "My audits"
HELP = "Help"

# ------------------------------------------------------------ welcome, help

WELCOME_TITLE = "Welcome to auditbot"


def hello(first_name: str | None) -> str:
    return f"Hello {first_name}." if first_name else "Hello."


WELCOME_TEXT = (
    "I help you carry out case file audits here in Teams. I tell you when you have an "
    "audit to do, take your answers section by section, remind you before a deadline "
    "and keep the QA team up to date."
)
PRIVACY = "My messages show the child's ID only, never the child's name."
HELP_TITLE = "What you can type"
_EVERYONE: tuple[tuple[str, str], ...] = (
    ("help", "what I can do and the words I understand"),
    ("my audits", "the audits you are part of, what comes next and when it is due"),
    ("resume", "carry on where you left off"),
    ("status <child's ID>", "where the audit for that child's ID is up to"),
)
QA_COMMANDS: tuple[tuple[str, str], ...] = (
    ("report", "QA staff: this month's audit report (or report 2026-10, report 2026-Q3)"),
    (
        "tracker",
        "QA staff: every audit with its state and next deadline (filters: "
        'team="Team name", status=submitted, overdue, concern)',
    ),
)
COMMANDS = _EVERYONE + QA_COMMANDS
QA_ONLY = "Only the QA team can see the report and the tracker."
DETAILS_TITLE = "Audit details"
TEAM = "Team"
DONE_ON = "Done {when}"
PEOPLE_ON_AUDIT = "People"
DEADLINES_TITLE = "Deadlines"
HELP_BUTTONS = "You can also use the buttons on my cards; they do the same."

# --------------------------------------------------------------- my audits

MY_AUDITS_TITLE = "Your audits"
NO_AUDITS = "You have no audits at the moment."
NEXT = "Next"
NOTHING_DUE = "Nothing due"
YOUR_ROLE = "You are the"


def more_audits(count: int) -> str:
    return f"…and {count} more. Type 'status <child's ID>' to find one."


# -------------------------------------------------------------- allocation

ALLOCATED_TITLE = {
    Role.AUDITOR: "You have a case file audit to complete",
    Role.SOCIAL_WORKER: "A case file audit of your work with a child",
    Role.MODERATOR: "You will moderate a case file audit",
    Role.IRO: "Your comments are needed for a case file audit",
}
ALLOCATED_FIRST = {
    Role.AUDITOR: "What to do first: book the session with the social worker and seek the "
    "family's feedback. Then complete the audit tool with the social worker, section by "
    "section, and submit it for moderation.",
    Role.SOCIAL_WORKER: "You will complete the audit alongside the auditor, who will be in "
    "touch to book a session with you. There is nothing to do in auditbot yet.",
    Role.MODERATOR: "You will moderate this audit after the auditor submits it. I will send "
    "it to you when it is ready.",
    # The deadline comes from the policy (72 hours in Swindon), so it is shown, not written here.
    Role.IRO: "As the child's IRO/CP chair, please add your comments on the case before the "
    "deadline below. The auditor and the moderator will see them.",
}
ALLOCATED_DUE = {
    Role.AUDITOR: "Audit due",
    Role.SOCIAL_WORKER: "Audit due",
    Role.MODERATOR: "Audit due",
    Role.IRO: "Comments due",
}
NO_DUE_DATE = "No deadline set"

# ------------------------------------------------------------ family feedback

FEEDBACK_TITLE = "Family feedback"
FEEDBACK_INTRO = (
    "Seek feedback from the child or young person, parents or carers before you complete "
    "the audit: it will not be accepted without it. If it could not be sought, say why."
)
FEEDBACK_SOURCES = {
    "child": "Child",
    "young_person": "Young person",
    "parent": "Parent",
    "carer": "Carer",
    "other": "Other",
}
SOUGHT_FROM = "Feedback sought from"
FEEDBACK_SUMMARY = "Summary of the feedback"
NOT_SOUGHT_REASON = "Or, if it could not be sought: why not"

# ------------------------------------------------------------------ section


def progress(position: int, total: int) -> str:
    return f"Section {position} of {total}"


GRADE_LABEL = "Grade for this area of practice"
GRADE_CHOOSE = "Choose a grade"
LIMITING = "Limiting judgement"


def limiting(question: str) -> str:
    return f"{LIMITING}: {question}"


def optional(label: str) -> str:
    return f"{label} ({OPTIONAL})"


def only_if(question: str, answer: str) -> str:
    return f"Only if the answer to '{question}' is {answer}"


CHOOSE = "Choose"
GUIDANCE_LEFT_OUT = "The guidance is left out of this card because your answers are long."


def kept_answer(what: str, characters: int) -> str:
    return (
        f"Your saved {what} ({characters:,} characters) is too long to show on this card. "
        "It is kept as it is unless you type a new one here."
    )


def saved(label: str) -> str:
    return f"Saved: {label}"


EVIDENCE = "Evidence"
IMPACT = "Impact"
GRADE = "Grade"
ANSWER = "answer"
PERSON_INVALID = "Give an e-mail address, like name@council.gov.uk"

# ------------------------------------------------------------------- review

REVIEW_TITLE = "Check and submit"
STILL_TO_DO = "Still to do before you can submit:"
READY_TO_SUBMIT = "Everything is answered. Submit the audit for moderation when you are ready."
OVERALL_GRADE = "Overall grade"
LIMITING_NOT_MET = "Limiting judgements not met:"


def _sentence(text: str) -> str:
    return text if text.endswith((".", "?", "!")) else f"{text}."


def grade_refused(message: str) -> str:
    return f"{_sentence(message)} Change the grades before you submit."


def grade_needs_reason(message: str) -> str:
    return (
        f"{_sentence(message)} You can keep this grade if you give your reason; "
        "the moderator will see it."
    )


GRADE_REASON = "Your reason for this overall grade"
GRADE_REASON_MISSING = "Give your reason, or change the grades"


def actions_count(count: int) -> str:
    if count == 0:
        return "No agreed actions yet."
    return f"{count} agreed action{'' if count == 1 else 's'}."


def not_editable(state: Status) -> str:
    return f"This audit is {state.label.lower()}: the answers can no longer be changed."


# ------------------------------------------------------------ IRO/CP chair

IRO_TITLE = "Comments from the IRO/CP chair"
IRO_INTRO = (
    "Add your comments on this child's case as their IRO/CP chair. The auditor and the "
    "moderator will see them."
)
COMMENTS = "Your comments"
COMMENTS_MISSING = "Write your comments before you send them"
COMMENTS_DUE = "Comments due"


def comments_added(count: int) -> str:
    return f"You have added comments {count} time{'' if count == 1 else 's'}. You can add more."


# ---------------------------------------------------------------- moderation


def moderating(label: str) -> str:
    return f"Moderation: {label}"


AUDITOR_GRADE = "Auditor's grade"
AUDITOR_EVIDENCE = "Auditor's evidence"
AUDITOR_IMPACT = "Auditor's impact"
AUDITOR_OVERALL = "Auditor's overall grade"
AUDITOR_GRADE_REASON = "Auditor's reason for the overall grade"
DECISION = "Your decision"
DECISION_MISSING = "Choose whether you agree with the grade or change it"


def agree_with(auditor_grade: str) -> str:
    return f"Agree with the auditor's grade ({auditor_grade})"


REGRADE = "Change the grade"
NEW_GRADE = "New grade (if you change it)"
MODERATION_REASON = "Reason (needed if you change the grade)"
SECTIONS = "Sections"
NOT_MODERATED = "not moderated yet"


def agreed(grade_label: str) -> str:
    return f"agreed ({grade_label})"


def regraded(old: str, new: str) -> str:
    return f"{old} → {new}"


FLAGGED_INADEQUATE = "Graded Inadequate by the auditor:"


def still_to_moderate(count: int) -> str:
    return f"{count} section{'' if count == 1 else 's'} still to moderate."


OVERALL_JUDGEMENT = "Your overall judgement"
MODERATION_EVIDENCE = "Evidence – what have you considered?"
MODERATION_IMPACT = "Impact – what difference has the help made for the child?"
MODERATION_GRADE_REASON = "Reason for your grade, if it goes against the grade rules"
EVIDENCE_MISSING = "Write the evidence"
IMPACT_MISSING = "Write the impact"
GRADE_MISSING = "Choose a grade"

# ---------------------------------------------------------- case of concern

COC_TITLE = "Case of concern: audit judged Inadequate"
COC_TEXT = (
    "The case of concern process has started. The service manager must make sure there is "
    "a plan in place to take the actions forward and keep the child safe, recorded as a "
    "management decision."
)
RAISED_BY = "Raised by"
PLAN_DUE = "Plan due"
PLAN_TITLE = "Case of concern: the plan"
PLAN = "The plan: how the actions will be taken forward and the child kept safe"
PLAN_MISSING = "Write the plan"
PLAN_OWNER = "Who will carry it out (their e-mail address)"
PLAN_OWNER_MISSING = "Give the e-mail address of the person who will carry it out"
MANAGEMENT_DECISION = "The plan is recorded as a management decision."


def raised_by(role_value: Role | str) -> str:
    return f"the {role(role_value)}"


# -------------------------------------------------------------- panel, close

PANEL_TITLE = "QA panel"
PANEL_INTRO = "Record the panel's findings: agree the audit so it can be closed, or return it."
MODERATED_GRADE = "Moderated grade"
PANEL_OUTCOME = "The panel's findings"
PANEL_OUTCOME_MISSING = "Choose agreed or returned"
PANEL_OUTCOMES = {
    "agreed": "Agreed: the audit can be closed",
    "returned": "Returned to the auditor",
}
PANEL_NOTES = "Notes (needed if you return it: what the panel needs from the auditor)"


def regraded_count(count: int) -> str:
    if count == 0:
        return "The moderator agreed every section grade."
    return f"The moderator changed {count} section grade{'' if count == 1 else 's'}."


CLOSE_TITLE = "Close the audit"
CLOSE_INTRO = "The QA panel agreed this audit. Close it to file it and tell everyone involved."
FINAL_GRADE = "Final grade"
READY_TO_CLOSE = "A moderated audit is ready to share and close"
CLOSE_BY = "Please close it by"
CLOSE_INTRO_NO_PANEL = (
    "Check the moderated audit, then close it: it is filed and shared with the social "
    "worker, team manager, service manager and IRO/CP chair."
)

# ----------------------------------------------------------- agreed actions


ACTION = "Action"


def action_title(number: int) -> str:
    return f"Action {number}"


ACTION_DUE = "Complete by"
ACTION_OWNER = "Person responsible"
ACTION_STATUS = {
    ActionStatus.OPEN: "Open",
    ActionStatus.COMPLETED: "Marked complete, waiting for sign-off",
    ActionStatus.SIGNED_OFF: "Signed off",
}
COMPLETION_EVIDENCE = "Evidence that it is done"
COMPLETION_EVIDENCE_MISSING = "Say what was done"
COMPLETED_BY = "Marked complete by"


def sign_off_title(number: int) -> str:
    return f"Sign off action {number}"


SIGN_OFF_INTRO = "Check the evidence. Sign the action off, or return it if it is not done."
RETURN_REASON = "Why it is not done yet"
RETURN_REASON_MISSING = "Say why you are returning it"
NO_ACTIONS = "No agreed actions yet."
NEW_ACTION = "Add an action"
ACTION_TEXT = "The action: what will be done, by whom, by when and why (SMART)"
ACTION_TEXT_MISSING = "Write the action"
ACTION_OWNER_INPUT = "Person responsible (their e-mail address)"
ACTION_OWNER_MISSING = "Give the e-mail address of the person responsible"
ACTION_DUE_MISSING = "Choose the date it should be done by"

# ------------------------------------------------------- nudges, escalations


def nudge_title(step_key: str, overdue: bool) -> str:
    return f"{'Overdue' if overdue else 'Reminder'}: {step(step_key)}"


ESCALATION_TITLE = "Escalation: a deadline has passed"
LATE = "Late"
WAS_DUE = "It was due"
OWNER = "Who owns it"

STEP_TODO = {
    "iro_comments": "Add your comments on the case as the child's IRO/CP chair.",
    "audit_completion": "Complete the audit with the social worker, record the family's "
    "feedback and submit it for moderation.",
    "moderation": "Moderate the audit: agree or change each section's grade, then give your "
    "overall judgement.",
    "closure": "Record the panel's findings and close the audit.",
    "coc_plan": "Confirm the plan that keeps the child safe and takes the actions forward.",
    "reaudit": "Carry out the short re-audit and record what you found.",
    "practitioner_feedback": "Read the moderated audit and give your feedback on it.",
}
ACTION_TODO = "Complete the agreed action and record the evidence, so it can be signed off."


def todo(step_key: str) -> str:
    return ACTION_TODO if is_action_step(step_key) else STEP_TODO.get(step_key, "")


# ------------------------------------------------------------------ notices

IRO_COMMENTS_ADDED = "The IRO/CP chair has added comments"
IRO_COMMENTS_ADDED_TEXT = "Open the audit to read them."
READY_FOR_MODERATION = "An audit is ready for you to moderate"
MODERATION_DUE = "Moderation due"
MODERATION_COMPLETE = "Moderation is complete"
NOTHING_REGRADED = "The moderator agreed with every grade."
REGRADED = "Grades the moderator changed:"
READY_FOR_PANEL = "An audit is ready for the QA panel"
RESUBMITTED = "The auditor has sent it back after the panel's request."
RETURNED = "The QA panel has returned an audit to you"
RETURNED_TEXT = "Open the audit to see what the panel needs, then submit it again."
CLOSED = "Audit closed"
PLAN_CONFIRMED = "Case of concern: the plan is confirmed"
PLAN_CONFIRMED_TEXT = "The service manager has recorded the plan as a management decision."
REAUDIT_RECORDED = "Case of concern: re-audit recorded"
REAUDIT_GRADE = "Re-audit grade"
COC_CLOSED = "Case of concern closed"
ACTION_ASSIGNED = "You are responsible for an agreed action"
ACTION_TO_SIGN_OFF = "An action is ready for you to sign off"
ACTION_SIGNED_OFF = "Your action is signed off"
ACTION_RETURNED = "Your action has been returned"
ACTION_RETURNED_TEXT = "Open the action to see what is still needed."
DEADLINE_MOVED = "A deadline has moved"
DEADLINE_FOR = "Deadline for"
NEW_DEADLINE = "New deadline"


def reassigned_to(role_value: Role | str) -> str:
    return f"You are now the {role(role_value)} for an audit"


def reassigned_away(role_value: Role | str) -> str:
    return f"You are no longer the {role(role_value)} for an audit"


REASSIGNED_AWAY_TEXT = "There is nothing more for you to do on it."

# ------------------------------------------------------------------- replies

SAVED = "Saved."
OPENED = "Opened below."
ALREADY_SAVED = "That card has already been saved."
UNKNOWN = "Sorry, I did not understand that. Here is what you can type."
WHO_ARE_YOU = (
    "I could not match your Teams account to anyone on an audit. If you think you should "
    "have access, please contact the QA team."
)
NOT_FOR_YOUR_ORG = "auditbot is not available to your organisation."
# `.format(child_id=...)`
NO_SUCH_CHILD = "You have no audit for child's ID {child_id}."

# ---------------------------------------------------------------- QA report

REPORT_TITLE = "Audit report"
REPORT_AS_AT = "Figures as at"
REPORT_COMPLETED = "Audits completed"
REPORT_GOOD_OR_BETTER = "Good or better"
REPORT_AGREEMENT = "Moderator agreed the overall grade"
REPORT_IRO_ON_TIME = "IRO/CP chair comments on time"
REPORT_CASES_OF_CONCERN = "Cases of concern"
REPORT_ACTIONS_OVERDUE = "Agreed actions overdue"
REPORT_WORD = "Open the report (Word)"
REPORT_WORKBOOK = "Open the figures (Excel)"
REPORT_NOT_FILED = "The files are not in SharePoint yet."
REPORT_NOTHING_DUE = "nothing due yet"
OPEN_TRACKER = "Open the tracker"


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

TRACKER_TITLE = "Audit tracker"
TRACKER_EMPTY = "No audits match."
TRACKER_NEXT = "Next page"
TRACKER_PREVIOUS = "Previous page"
DETAILS = "Details"
OWNER_LABEL = "With"
OVERDUE = "Overdue"
CASE_OF_CONCERN_FLAG = "Case of concern"
FILTERED_BY = "Showing"


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
