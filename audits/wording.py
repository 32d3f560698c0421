"""What people read outside the chat: calendar entries and e-mails. Plain words, the
child's ID and never a name, nor any answer text."""

from __future__ import annotations

from datetime import datetime
from html import escape

from audits.steps import action_number, is_action_step
from audits.workdays import uk_time

# Deadline steps as a person would name them; agreed actions' (`ActionStep`) use ACTION_STEP.
STEP_TITLES = {
    "iro_comments": "IRO/CP chair comments due",
    "audit_completion": "audit due",
    "moderation": "moderation due",
    "closure": "QA closure due",
    "coc_plan": "case of concern plan due",
    "reaudit": "case of concern re-audit due",
    "practitioner_feedback": "your feedback on the audit due",
    "actions_review": "review of the agreed actions due",
}
ACTION_STEP = "action {number} due"

STEP_TODO = {
    "iro_comments": "Add your comments as the child's IRO/CP chair. Open auditbot in Teams and "
    "choose 'Add comments' on the audit card.",
    "audit_completion": "Complete the audit with the social worker, record the family's "
    "feedback and submit it for moderation in auditbot.",
    "moderation": "Moderate the audit in auditbot: agree or regrade each section, then give "
    "your overall judgement.",
    "closure": "Record the panel's findings and close the audit in auditbot.",
    "coc_plan": "Confirm the plan that keeps the child safe and takes the actions forward. "
    "It is recorded as a management decision.",
    "reaudit": "Carry out the re-audit and record its findings in auditbot.",
    "practitioner_feedback": "Read the moderated audit and give your feedback on it in auditbot.",
    "actions_review": "Review the audit's agreed actions and add an update as a case direction.",
}
ACTION_TODO = "Complete the agreed action and record the evidence in auditbot, so your manager can sign it off."


def step_title(step: str) -> str:
    number = action_number(step)
    if number is not None:
        return ACTION_STEP.format(number=number)
    return STEP_TITLES.get(step, step.replace("_", " ") + " due")


def event_subject(child_id: str, step: str) -> str:
    """For example 'Audit 1234567 – IRO/CP chair comments due'."""
    return f"Audit {child_id} – {step_title(step)}"


def event_body(
    audit_id: str, child_id: str, step: str, due_at: datetime, chat_link: str | None
) -> str:
    todo = ACTION_TODO if is_action_step(step) else STEP_TODO.get(step, "")
    link = (
        f'<p><a href="{escape(chat_link)}">Open auditbot in Teams</a></p>'
        if chat_link
        else "<p>Open auditbot in Teams.</p>"
    )
    return (
        f"<p>Child's ID {escape(child_id)}, audit {escape(audit_id)}: "
        f"{escape(step_title(step))} by {escape(uk_time(due_at))} (UK time).</p>"
        f"<p>{escape(todo)}</p>{link}"
    )


def case_of_concern_mail(
    audit_id: str,
    child_id: str,
    plan_due: datetime | None,
    chat_link: str | None,
    *,
    plan: bool = True,
) -> tuple[str, str]:
    """Subject and HTML body of the e-mail that tells a manager of an Inadequate judgement.
    `plan`: False when the process asks for no case of concern plan."""
    due = f" by {uk_time(plan_due)} (UK time)" if plan_due else ""
    subject = f"Case of concern: audit {audit_id}, child's ID {child_id}"
    link = f'<p><a href="{escape(chat_link)}">Open auditbot in Teams</a></p>' if chat_link else ""
    body = (
        f"<p>The case file audit {escape(audit_id)} for child's ID {escape(child_id)} has been "
        "judged Inadequate. The case of concern process has started.</p>"
        + (
            f"<p>The service manager must make sure there is a plan in place{escape(due)} to "
            "take the actions forward and to keep the child safe, recorded as a management "
            "decision.</p>"
            if plan
            else "<p>The agreed actions of this audit are tracked until they are done.</p>"
        )
        + f"{link}"
    )
    return subject, body


def qa_inbox_mail(
    audit_id: str,
    child_id: str,
    what: str,
    grade: str | None,
    document_url: str | None,
    chat_link: str | None,
) -> tuple[str, str]:
    """Subject and HTML body of the e-mail that copies the audit to the QA inbox (a
    shared mailbox): what happened ("moderation complete", "closed"), the grade and a
    link to the audit's document as filed."""
    subject = f"Audit {audit_id}, child's ID {child_id}: {what}"
    graded = f" Overall grade: {escape(grade)}." if grade else ""
    document = (
        f'<p><a href="{escape(document_url)}">The audit document</a></p>'
        if document_url
        else "<p>The audit document is filed in the audits library.</p>"
    )
    link = f'<p><a href="{escape(chat_link)}">Open auditbot in Teams</a></p>' if chat_link else ""
    body = (
        f"<p>The case file audit {escape(audit_id)} for child's ID {escape(child_id)}: "
        f"{escape(what)}.{graded}</p>{document}{link}"
    )
    return subject, body
