"""The route table: every card verb and every typed command, each registered once.

A card press arrives as a `Press` (the person, the card's untrusted data, a key
that makes a second press of the same card harmless); a route reads the data
into a workflow command, runs the use case and says what the person sees next
(`Reply`). Typed commands (`my audits`, `resume`, ...) are routes too, by the
words they start with. Adding a button means one `Verb`, one route here, and
the use case it calls: for a save, the reader of its data into a command and
the command's handler in the workflow.

    @ACTIONS.shows(Verb.SUBMIT)
    async def submit(app: Services, press: Press) -> Reply:
        return await app.save(press, c.Submit(grade_reason=text(press.data, "grade_reason", SHORT)))
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from application.inputs import EMAIL, MAX_FIELD, SHORT, number, prefixed, text
from application.navigation import Navigator
from application.people import Expected
from application.services import Press, Services
from application.views import (
    AuditDetailsView,
    AuditView,
    HelpView,
    MyAuditsView,
    Reply,
    ReportView,
    StatusView,
    TrackerView,
    View,
)
from audits import commands as c
from audits.errors import AuditError, InvalidInput, NotAllowed
from audits.model import AUDITOR_EDITABLE, Audit
from audits.roles import Role
from audits.workflow.closing import STAFF_FEEDBACK
from cards import words
from cards.actions import Card, Verb
from cards.tracker import TrackerFilters

ActionRoute = Callable[[Services, Press], Awaitable[Reply]]
Reader = Callable[[Mapping[str, Any]], c.Command]
Then = Callable[[Navigator, Press, Audit], AuditView | None]
CommandRoute = Callable[[Services, str, str], Awaitable[Reply | None]]


class ActionTable:
    """Card verbs to routes; a verb registered twice is an error at import.

    `shows` registers a route that only shows something; `saves` registers the reader
    of a card's data into the workflow command it asks for, with `then`: the card that
    follows a successful save, decided from the saved audit."""

    def __init__(self) -> None:
        self.routes: dict[Verb, ActionRoute] = {}
        self.readers: dict[Verb, Reader] = {}

    def _add(self, verbs: tuple[Verb, ...], route: ActionRoute) -> None:
        for verb in verbs:
            if verb in self.routes:
                raise ValueError(f"verb {verb.value} has two routes")
            self.routes[verb] = route

    def shows(self, *verbs: Verb) -> Callable[[ActionRoute], ActionRoute]:
        def register(route: ActionRoute) -> ActionRoute:
            self._add(verbs, route)
            return route

        return register

    def saves(
        self, *verbs: Verb, then: Then | None = None, answered: bool = False
    ) -> Callable[[Reader], Reader]:
        """With `answered`, a save also answers the question waiting for a typed answer."""

        def register(reader: Reader) -> Reader:
            async def route(app: Services, press: Press) -> Reply:
                def after(audit: Audit) -> View | None:
                    return then(app.navigator, press, audit) if then else None

                return await app.save(press, reader, after, answered=answered or press.typed)

            route.__doc__ = reader.__doc__
            self._add(verbs, route)
            for verb in verbs:
                self.readers[verb] = reader
            return reader

        return register

    def command_for(self, verb: Verb, data: Mapping[str, Any]) -> c.Command | None:
        """The command a press of `verb` with this data asks for; None for a verb that
        only shows something. InvalidInput for data it cannot read."""
        reader = self.readers.get(verb)
        return reader(data) if reader else None

    async def dispatch(self, app: Services, press: Press) -> Reply:
        """Runs the press's route; refusals and bad input become a short message."""
        route = self.routes.get(press.verb) if press.verb else None
        if route is None:  # an unknown verb is never taken for "open"
            return Reply(follow_up=_help(app, press.person), text=words.UNKNOWN)
        try:
            return await route(app, press)
        except NotAllowed as exc:
            await app.access.refused(press.person, press.audit_id, press.verb_name, str(exc))
            return Reply(text=str(exc))
        except AuditError as exc:
            return Reply(text=str(exc))


class CommandTable:
    """What a person may type, by its first word(s); the longest phrase wins."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, ...], CommandRoute] = {}

    def route(self, *phrases: str) -> Callable[[CommandRoute], CommandRoute]:
        def register(handler: CommandRoute) -> CommandRoute:
            for phrase in phrases:
                said = tuple(phrase.split())
                if said in self.routes:
                    raise ValueError(f"command '{phrase}' has two routes")
                self.routes[said] = handler
            return handler

        return register

    def find(self, message: str) -> tuple[CommandRoute, str] | None:
        """The route for a message and the text after its phrase."""
        said = tuple(message.lower().split())
        for length in range(min(len(said), 3), 0, -1):
            handler = self.routes.get(said[:length])
            if handler is not None:
                rest = message.strip().split(None, length)
                return handler, rest[length] if len(rest) > length else ""
        return None


ACTIONS = ActionTable()
COMMANDS = CommandTable()


async def answer_text(app: Services, person: str, message: str, key: str | None) -> Reply:
    """A typed message: a command, or the answer to a question the bot asked, or help."""
    message = message.strip()
    if not message:
        return Reply(follow_up=_help(app, person))
    found = COMMANDS.find(message)
    if found is not None:
        handler, rest = found
        reply = await handler(app, person, rest)
        if reply is not None:
            return reply
    typed = await typed_answer(app, person, message, key)
    return typed if typed is not None else Reply(follow_up=_help(app, person), text=words.UNKNOWN)


async def typed_answer(app: Services, person: str, message: str, key: str | None) -> Reply | None:
    """The answer to the question waiting for this person, typed instead of put in the
    card; None when no question waits."""
    expected = await app.people.expected_text(person)
    if expected is None:
        return None
    if len(message) > MAX_FIELD:  # still waiting: a shorter text will do
        return Reply(text=words.typed_too_long(MAX_FIELD))
    data: dict[str, Any] = {"verb": expected.verb, "audit_id": expected.audit_id}
    if expected.verb == Verb.IRO_COMMENTS.value:
        data["comments"] = message
    else:
        data["section"] = expected.section
        data[expected.field or "evidence"] = message
    reply = await ACTIONS.dispatch(app, Press(person, data, key, typed=True))
    if reply.replace is None:  # refused or not saved: asked once, answered once
        await app.people.answered(person)
    return reply


# ------------------------------------------------------------------ showing


@ACTIONS.shows(Verb.OPEN_AUDIT, Verb.START_AUDIT, Verb.REVIEW)
async def open_audit(app: Services, press: Press) -> Reply:
    """Shows a card: the one the button names, or where this person is on the audit."""
    audit = await app.named_on(press)
    view = asked_for(app, audit, press.data)
    if view is None:
        view = (
            app.navigator.view(Card.REVIEW, audit)
            if press.verb is Verb.REVIEW
            else app.navigator.where(press.person, audit)
        )
    if view.card is Card.IRO_COMMENTS:  # typing the comments will do as well as the card
        await app.people.expect_text(press.person, Expected(audit.id, Verb.IRO_COMMENTS.value))
    await app.access.opened(press.person, audit.id, "card")
    return Reply(follow_up=view)


def asked_for(app: Services, audit: Audit, data: Mapping[str, Any]) -> AuditView | None:
    """The card an OPEN_AUDIT button names, if it names one this audit has; acting on
    it still checks the role."""
    try:
        card = Card(str(data.get("card"))) if data.get("card") else None
    except ValueError:
        return None
    if card is None:
        return None
    template = app.catalog.template(audit.template)
    section = str(data.get("section") or "")
    numbered = str(data.get("action", "")).isdigit()
    action = int(data["action"]) if numbered else None
    view = app.navigator.view
    match card:
        case Card.SECTION if section in {s.id for s in template.sections}:
            return view(card, audit, section=section)
        case Card.MODERATION if not section:
            return view(Card.MODERATION_SUMMARY, audit)
        case Card.MODERATION if section in {s.id for s in template.graded_sections}:
            return view(card, audit, section=section)
        case Card.ACTION | Card.SIGN_OFF if action in {a.number for a in audit.actions}:
            return view(card, audit, action=action)
        case Card.CHECKLIST if template.checklist is not None:
            return view(card, audit)
        case (
            Card.FAMILY_FEEDBACK
            | Card.AGREED_ACTIONS
            | Card.IRO_COMMENTS
            | Card.PANEL
            | Card.CLOSE
            | Card.PLAN
            | Card.FEEDBACK
            | Card.REAUDIT
            | Card.ACTIONS_REVIEW
        ):
            return view(card, audit)
    return None


@ACTIONS.shows(Verb.TYPE_ANSWER)
async def type_answer(app: Services, press: Press) -> Reply:
    """ "Type evidence in chat": the person's next message is that section's evidence."""
    audit = await app.named_on(press)
    template = app.catalog.template(audit.template)
    section, field = str(press.data.get("section") or ""), str(press.data.get("field") or "")
    if field not in words.TYPED_FIELDS or section not in {s.id for s in template.graded_sections}:
        raise InvalidInput("That card is out of date: open the audit again")
    if Role.AUDITOR not in audit.participants.roles_of(press.person):
        raise NotAllowed("Only the auditor of this audit can answer it")
    if audit.status not in AUDITOR_EDITABLE:
        raise NotAllowed(f"This audit can no longer be changed here ({audit.status.label})")
    await app.people.expect_text(
        press.person, Expected(audit.id, Verb.SAVE_AND_PAUSE.value, section, field)
    )
    return Reply(
        follow_up=app.navigator.view(Card.TYPE_ANSWER, audit, section=section, field=field)
    )


@ACTIONS.shows(Verb.HELP)
async def help_(app: Services, press: Press) -> Reply:
    return Reply(follow_up=_help(app, press.person))


@ACTIONS.shows(Verb.MY_AUDITS)
async def my_audits(app: Services, press: Press) -> Reply:
    return Reply(follow_up=MyAuditsView.of(await app.queries.my_audits(press.person)))


@ACTIONS.shows(Verb.TRACKER_PAGE)
async def tracker_page(app: Services, press: Press) -> Reply:
    """Another page of the tracker, in place of the one pressed: QA staff only."""
    app.access.must_be_qa(press.person)
    filters, page = TrackerFilters.from_data(dict(press.data))
    return Reply(replace=TrackerView.of(await app.queries.tracker(filters, page), filters))


@ACTIONS.shows(Verb.AUDIT_DETAILS)
async def audit_details(app: Services, press: Press) -> Reply:
    """What QA staff see behind a tracker row."""
    app.access.must_be_qa(press.person)
    audit = await app.queries.audit(press.audit_id)
    await app.access.opened(press.person, audit.id, "card")
    return Reply(follow_up=AuditDetailsView(audit, app.clock.now()))


# ------------------------------------------------------------------ saving


def _after_section(nav: Navigator, press: Press, audit: Audit) -> AuditView | None:
    """ "Save and next": the next section (or the review); typed in the chat, the same
    section again; "save and pause": nothing."""
    section = str(press.data.get("section", ""))
    if press.typed:
        return nav.view(Card.SECTION, audit, section=section)
    return nav.after_section(audit, section) if press.verb is Verb.ANSWER_SECTION else None


@ACTIONS.saves(Verb.ANSWER_SECTION, Verb.SAVE_AND_PAUSE, then=_after_section)
def answer_section(data: Mapping[str, Any]) -> c.Command:
    return c.AnswerSection(
        section=str(data.get("section", "")),
        grade=text(data, "grade"),
        evidence=text(data, "evidence"),
        impact=text(data, "impact"),
        values=prefixed(data, "q."),
    )


@ACTIONS.saves(
    Verb.FAMILY_FEEDBACK, then=lambda nav, press, audit: nav.after_family_feedback(audit)
)
def family_feedback(data: Mapping[str, Any]) -> c.Command:
    sought = text(data, "sought_from") or ""
    return c.RecordFamilyFeedback(
        sought_from=tuple(s.strip() for s in sought.split(",") if s.strip()),
        summary=text(data, "summary", SHORT),
        not_sought_reason=text(data, "not_sought_reason", SHORT),
    )


@ACTIONS.saves(Verb.CHECKLIST)
def checklist(data: Mapping[str, Any]) -> c.Command:
    return c.CompleteChecklist(prefixed(data, "q."))


@ACTIONS.saves(Verb.PRACTITIONER_FEEDBACK)
def practitioner_feedback(data: Mapping[str, Any]) -> c.Command:
    # Bristol's six staff feedback questions, each its own box; "feedback": one box
    # (a card sent before the questions had boxes of their own).
    answers = {key: typed for key in STAFF_FEEDBACK if (typed := text(data, key))}
    return c.GivePractitionerFeedback(text(data, "feedback") or "", answers)


@ACTIONS.saves(Verb.IRO_COMMENTS, answered=True)
def iro_comments(data: Mapping[str, Any]) -> c.Command:
    """The IRO/CP chair's comments, from the card or typed: either answers the question."""
    return c.AddIroComments(text(data, "comments") or "")


@ACTIONS.saves(Verb.SUBMIT)
def submit(data: Mapping[str, Any]) -> c.Command:
    return c.Submit(grade_reason=text(data, "grade_reason", SHORT))


@ACTIONS.saves(Verb.MODERATE_SECTION, then=lambda nav, press, audit: nav.after_moderating(audit))
def moderate_section(data: Mapping[str, Any]) -> c.Command:
    return c.ModerateSection(
        section=str(data.get("section", "")),
        agree=data.get("decision") != "regrade",
        grade=text(data, "grade"),
        reason=text(data, "reason"),
    )


@ACTIONS.saves(Verb.COMPLETE_MODERATION)
def complete_moderation(data: Mapping[str, Any]) -> c.Command:
    return c.CompleteModeration(
        grade=text(data, "grade") or "",
        evidence=text(data, "evidence") or "",
        impact=text(data, "impact") or "",
        grade_reason=text(data, "grade_reason", SHORT),
    )


@ACTIONS.saves(Verb.PANEL, then=lambda nav, press, audit: nav.close_for(press.person, audit))
def panel(data: Mapping[str, Any]) -> c.Command:
    """The panel's outcome; the QA manager who closes the audit gets the close card."""
    return c.RecordPanel(outcome=text(data, "outcome") or "", notes=text(data, "notes") or "")


@ACTIONS.saves(Verb.CLOSE_AUDIT)
def close_audit(data: Mapping[str, Any]) -> c.Command:
    return c.CloseAudit()


@ACTIONS.saves(Verb.CONFIRM_PLAN)
def confirm_plan(data: Mapping[str, Any]) -> c.Command:
    return c.ConfirmPlan(plan=text(data, "plan") or "", owner=text(data, "owner", EMAIL) or "")


@ACTIONS.saves(Verb.RECORD_REAUDIT)
def record_reaudit(data: Mapping[str, Any]) -> c.Command:
    """The re-audit on the tool's re-audit form: grade, findings, and the second auditor
    where the framework says one re-audits."""
    return c.RecordReaudit(
        grade=text(data, "grade") or "",
        findings=text(data, "findings") or "",
        auditor=text(data, "auditor", EMAIL),
    )


@ACTIONS.saves(Verb.REVIEW_ACTIONS)
def review_actions(data: Mapping[str, Any]) -> c.Command:
    """The service manager's review of the agreed actions, added as a case direction."""
    return c.ReviewActions(update=text(data, "update") or "")


@ACTIONS.saves(Verb.ADD_ACTION)
def add_action(data: Mapping[str, Any]) -> c.Command:
    return c.AddAction(
        text=text(data, "text", SHORT) or "",
        owner=text(data, "owner", EMAIL) or "",
        due=text(data, "due") or "",
    )


@ACTIONS.saves(Verb.COMPLETE_ACTION)
def complete_action(data: Mapping[str, Any]) -> c.Command:
    return c.CompleteAction(number(data, "action"), text(data, "evidence") or "")


@ACTIONS.saves(Verb.SIGN_OFF_ACTION)
def sign_off_action(data: Mapping[str, Any]) -> c.Command:
    return c.SignOffAction(number(data, "action"))


@ACTIONS.saves(Verb.RETURN_ACTION)
def return_action(data: Mapping[str, Any]) -> c.Command:
    return c.ReturnAction(number(data, "action"), text(data, "reason", SHORT) or "")


# ------------------------------------------------------------- typed commands


@COMMANDS.route("help", "hi", "hello", "?")
async def help_command(app: Services, person: str, rest: str) -> Reply:
    return Reply(follow_up=_help(app, person))


def _help(app: Services | None, person: str) -> HelpView:
    """The commands this person can use (QA staff: the QA ones too)."""
    return HelpView(qa=app is not None and app.access.is_qa(person))


@COMMANDS.route("my audits", "audits")
async def my_audits_command(app: Services, person: str, rest: str) -> Reply:
    return Reply(follow_up=MyAuditsView.of(await app.queries.my_audits(person)))


@COMMANDS.route("resume")
async def resume(app: Services, person: str, rest: str) -> Reply:
    """Where the person left off: their step due first, or their audits."""
    audit = await app.queries.most_urgent(person)
    if audit is None:
        return Reply(follow_up=MyAuditsView.of(await app.queries.my_audits(person)))
    await app.access.opened(person, audit.id, "chat")
    return Reply(follow_up=app.navigator.where(person, audit))


@COMMANDS.route("status")
async def status(app: Services, person: str, rest: str) -> Reply | None:
    """`status <child's ID>`: where the person is on that child's audit."""
    said = rest.split()
    if len(said) != 1:
        return None
    child_id = said[0].lower()
    audit = await app.queries.child_audit(person, child_id)
    if audit is not None:
        mine = any(d.open and d.owner == person for d in audit.deadlines.values())
        await app.access.opened(person, audit.id, "chat")
        return Reply(follow_up=StatusView(audit, app.clock.now(), mine))
    return Reply(text=words.NO_SUCH_CHILD.format(child_id=said[0].lower()))


@COMMANDS.route("report")
async def report(app: Services, person: str, rest: str) -> Reply | None:
    """`report` (this month) or `report 2026-10` / `report 2026-Q4`: QA staff only."""
    said = rest.split()
    if len(said) > 1:
        return None
    if not app.access.is_qa(person):
        return Reply(text=words.QA_ONLY)
    try:
        summary = await app.queries.report(said[0] if said else None)
    except AuditError as exc:
        return Reply(text=str(exc))
    return Reply(follow_up=ReportView(summary))


@COMMANDS.route("tracker")
async def tracker(app: Services, person: str, rest: str) -> Reply:
    """`tracker [team="…"] [status=…] [overdue] [concern]`: QA staff only."""
    if not app.access.is_qa(person):
        return Reply(text=words.QA_ONLY)
    try:
        filters = TrackerFilters.parse(rest)
    except AuditError as exc:
        return Reply(text=str(exc))
    return Reply(follow_up=TrackerView.of(await app.queries.tracker(filters), filters))
