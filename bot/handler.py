"""The bot's turn handling: who is speaking, what they asked, which use case, which card.

Thin on purpose: parse the activity, call the application layer, render a card.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from functools import partial
from typing import Any

from botbuilder.core import (
    ActivityHandler,
    CardFactory,
    InvokeResponse,
    MessageFactory,
    TurnContext,
)
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount
from msrest.serialization import Model

import cards
from auditbot.service import AlreadyApplied, AuditService
from audits.errors import AuditError, InvalidInput, NotAllowed
from audits.model import AUDITOR_EDITABLE, Audit, Status
from audits.roles import Role
from audits.templates import SectionKind, Template
from audits.wording import step_title
from audits.workdays import as_utc
from audits.workflow import roles_of
from bot.routing import MAX_FIELD, command_for
from cards import words
from cards.actions import Card, Verb
from cards.report import report_card_from_store
from cards.tracker import TrackerFilters, audit_details_card, tracker_card_from_store
from graph.errors import GraphError
from graph.ports import DirectoryUser
from store import m365, repo

log = logging.getLogger(__name__)
CARD = "application/vnd.microsoft.card.adaptive"
MESSAGE = "application/vnd.microsoft.activity.message"
LOOK_AGAIN_SECONDS = 600.0  # someone the directory did not know is asked about again after
# Who an Entra object id is, kept between turns rather than read on every one. A
# renamed account is seen under its new address after this long at most.
KNOWN_SECONDS = 300.0


@dataclass(frozen=True)
class Reply:
    """What a card submit gets back: a card replacing it (the receipt), and what follows."""

    replace: dict[str, Any] | None
    follow_up: dict[str, Any] | None = None
    text: str | None = None


class AuditBot(ActivityHandler):
    def __init__(self, service: AuditService, allowed_tenants: frozenset[str]) -> None:
        self.service = service
        self.allowed_tenants = allowed_tenants
        self._remembered: dict[str, tuple[Any, ...]] = {}  # object id -> conversation stored
        self._known: dict[str, tuple[str, float]] = {}  # object id -> (address, until)
        self._look_again: dict[str, float] = {}  # object id -> when to ask the directory

    # ----------------------------------------------------------------- turns

    async def on_turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        tenant = _tenant(activity)
        if self.allowed_tenants and tenant not in self.allowed_tenants:
            log.warning("refused an activity from a tenant that is not allowed")
            if activity.type == ActivityTypes.invoke:
                await _invoke_answer(
                    turn_context,
                    403,
                    {"code": "Forbidden", "message": words.NOT_FOR_YOUR_ORG},
                )
            return
        await self._remember_conversation(turn_context)
        await super().on_turn(turn_context)

    async def _remember_conversation(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        object_id = getattr(activity.from_property, "aad_object_id", None)
        if not object_id:
            return
        # Stored when it is new or has changed, not on every turn (a write each time
        # would queue every message behind the others on SQLite).
        same = _reference_key(activity)
        look_again = self._look_again.get(object_id)
        if self._remembered.get(object_id) == same and (
            look_again is None or time.monotonic() < look_again
        ):
            return
        reference = TurnContext.get_conversation_reference(activity).serialize()
        async with self.service.db.reading() as conn:
            upn = await m365.upn_of(conn, object_id)
        found = await self._look_up(object_id) if upn is None else None
        async with self.service.db.transaction() as conn:
            now = self.service.clock.now()
            if found is not None:
                upn = found.upn
                await m365.save_people(conn, [(found.upn, found.id, found.enabled)], now)
            await m365.save_conversation(conn, object_id, upn, reference, now)
        self._remembered[object_id] = same
        if upn is None:  # not in the directory, or it could not be asked: later, again
            self._look_again[object_id] = time.monotonic() + LOOK_AGAIN_SECONDS
        else:
            self._look_again.pop(object_id, None)
            self._know(object_id, upn)

    async def _look_up(self, object_id: str) -> DirectoryUser | None:
        """Someone no allocation has named yet (a QA officer, say) opens the bot: who they
        are comes from the directory, so the cards meant for them can reach them."""
        directory = self.service.directory
        if directory is None:
            return None
        try:
            found = (await directory.resolve([object_id])).get(object_id)
        except GraphError as exc:
            log.warning("could not look up a new person in the directory: %s", exc)
            return None
        return found if found is not None and found.id == object_id else None

    async def _person(self, turn_context: TurnContext) -> str | None:
        object_id = getattr(turn_context.activity.from_property, "aad_object_id", None)
        if not object_id:
            return None
        known = self._known.get(object_id)
        if known is not None and time.monotonic() < known[1]:
            return known[0]
        async with self.service.db.reading() as conn:
            upn = await m365.upn_of(conn, object_id)
        if upn is not None:
            self._know(object_id, upn)
        return upn

    def _know(self, object_id: str, upn: str) -> None:
        self._known[object_id] = (upn, time.monotonic() + KNOWN_SECONDS)

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await _send_card(turn_context, cards.welcome_card(None))

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if any(m.id != bot_id for m in members_added):
            await _send_card(turn_context, cards.welcome_card(None))

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        person = await self._person(turn_context)
        if person is None:
            await turn_context.send_activity(words.WHO_ARE_YOU)
            return
        if isinstance(activity.value, dict) and activity.value.get("verb"):
            reply = await self._card_action(person, activity.value, _card_key(activity))
            if reply.replace is not None and activity.reply_to_id:
                update = MessageFactory.attachment(CardFactory.adaptive_card(reply.replace))
                update.id = activity.reply_to_id
                await turn_context.update_activity(update)
            if reply.text:
                await turn_context.send_activity(reply.text)
            if reply.follow_up is not None:
                await _send_card(turn_context, reply.follow_up)
            return
        await self._text(turn_context, person, (activity.text or "").strip())

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        activity = turn_context.activity
        if activity.name != "adaptiveCard/action":
            return await super().on_invoke_activity(turn_context)
        data = _execute_data(activity.value)
        person = await self._person(turn_context)
        if person is None:
            return _message(words.WHO_ARE_YOU)
        reply = await self._card_action(person, data, _card_key(activity))
        if reply.follow_up is not None:
            await _send_card(turn_context, reply.follow_up)
        if reply.replace is not None:
            return _invoke(CARD, reply.replace)
        # Nothing replaces the card when it only opened another one below it.
        return _message(reply.text or (words.OPENED if reply.follow_up else words.SAVED))

    # ----------------------------------------------------------- card actions

    async def _card_action(self, person: str, data: dict[str, Any], key: str | None) -> Reply:
        try:
            verb = Verb(str(data.get("verb")))
        except ValueError:
            return Reply(None, cards.help_card(), words.UNKNOWN)
        audit_id = str(data.get("audit_id") or "")
        if verb is Verb.HELP:
            return Reply(None, cards.help_card())
        if verb is Verb.MY_AUDITS:
            return Reply(None, await self._my_audits(person))
        if verb in (Verb.TRACKER_PAGE, Verb.AUDIT_DETAILS):
            return await self._qa_view(person, verb, data)
        # Whether the person is named on the audit is checked before anything else:
        # opening shows the answers, and even a refusal for bad input would tell a
        # stranger about someone else's audit. A save checks it on the audit it loads
        # to change (one read, not two); bad input is refused only after the check.
        try:
            if verb is Verb.TYPE_ANSWER:
                audit = await self._named_on(person, audit_id)
                return Reply(None, await self._ask_to_type(person, audit, data))
            try:
                command = command_for(verb, data)
            except AuditError:
                await self._named_on(person, audit_id)
                raise
            if command is None:
                audit = await self._named_on(person, audit_id)
                card = self._open(person, audit, verb, data)
                if _asks_for(card, "comments"):
                    # Typing the comments in the chat will do as well as the card.
                    async with self.service.db.transaction() as conn:
                        await m365.await_text(
                            conn,
                            person,
                            audit.id,
                            Verb.IRO_COMMENTS.value,
                            self.service.clock.now(),
                        )
                return Reply(None, card)
            outcome = await self.service.execute(
                person,
                audit_id,
                command,
                key=f"{key}:{verb.value}" if key else None,
                check=partial(self._must_be_named, person),
            )
        except AlreadyApplied:
            return Reply(None, None, words.ALREADY_SAVED)
        except NotAllowed as exc:
            await self._refused(person, audit_id, verb, str(exc))
            return Reply(None, None, str(exc))
        except AuditError as exc:
            return Reply(None, None, str(exc))
        if verb is Verb.IRO_COMMENTS:  # answered: a later message is not comments again
            async with self.service.db.transaction() as conn:
                await m365.answered(conn, person)
        audit = outcome.audit
        receipt = cards.receipt_card(outcome.message, _receipt_lines(audit, verb, data))
        return Reply(receipt, self._next(person, audit, verb, data))

    async def _named_on(self, person: str, audit_id: str) -> Audit:
        audit = await self.service.get(audit_id)
        self._must_be_named(person, audit)
        return audit

    def _must_be_named(self, person: str, audit: Audit) -> None:
        if not roles_of(audit, person, self.service.standing):
            raise NotAllowed(f"Only the people named on audit {audit.id} can open it")

    async def _ask_to_type(self, person: str, audit: Audit, data: dict[str, Any]) -> dict[str, Any]:
        """ "Type evidence in chat": the person's next message is that section's evidence."""
        template = self._template(audit)
        section, field = str(data.get("section") or ""), str(data.get("field") or "")
        if field not in words.TYPED_FIELDS or section not in {
            s.id for s in template.graded_sections
        }:
            raise InvalidInput("That card is out of date: open the audit again")
        if Role.AUDITOR not in audit.participants.roles_of(person):
            raise NotAllowed("Only the auditor of this audit can answer it")
        if audit.status not in AUDITOR_EDITABLE:
            raise NotAllowed(f"This audit can no longer be changed here ({audit.status.label})")
        async with self.service.db.transaction() as conn:
            await m365.await_text(
                conn,
                person,
                audit.id,
                Verb.SAVE_AND_PAUSE.value,
                self.service.clock.now(),
                {"section": section, "field": field},
            )
        return cards.type_answer_card(audit, template, section, field, MAX_FIELD)

    def _template(self, audit: Audit) -> Template:
        return self.service.catalog.template(audit.template)

    def _next(
        self, person: str, audit: Audit, verb: Verb, data: dict[str, Any]
    ) -> dict[str, Any] | None:
        """After a save: the next section to answer or moderate, or nothing."""
        template = self._template(audit)
        if verb is Verb.ANSWER_SECTION and audit.status in AUDITOR_EDITABLE:
            return self._section_or_review(audit, _after(template, str(data.get("section"))))
        if verb is Verb.FAMILY_FEEDBACK and audit.status in AUDITOR_EDITABLE:
            return self._section_or_review(audit, _first_unanswered(audit, template))
        if verb is Verb.PANEL:
            return self._close_card_for(person, audit)
        if verb is Verb.MODERATE_SECTION and audit.status is Status.SUBMITTED:
            todo = _to_moderate(audit, template)
            return (
                cards.moderation_card(audit, template, todo[0])
                if todo
                else cards.moderation_summary_card(audit, template)
            )
        return None

    def _section_or_review(self, audit: Audit, section: str | None) -> dict[str, Any]:
        """The auditor's next card: that section, or (all answered) the review."""
        template = self._template(audit)
        if section:
            return cards.section_card(audit, template, section)
        return cards.review_card(audit, template, self.service.catalog.policy(audit.policy))

    def _close_card_for(self, person: str, audit: Audit) -> dict[str, Any] | None:
        """The close card, when closing the audit is this person's open step."""
        closure = audit.deadlines.get("closure")
        if closure is None or not closure.open or closure.owner != person:
            return None
        return cards.close_card(audit, panel=self.service.catalog.policy(audit.policy).panel)

    def _open(self, person: str, audit: Audit, verb: Verb, data: dict[str, Any]) -> dict[str, Any]:
        """Verbs that only show something: the card for where this person is in this audit."""
        template = self._template(audit)
        roles = set(audit.participants.roles_of(person))
        asked = self._asked_for(audit, template, data)
        if asked is not None:
            return asked
        if verb is Verb.REVIEW:
            return cards.review_card(audit, template, self.service.catalog.policy(audit.policy))
        if Role.AUDITOR in roles and audit.status in AUDITOR_EDITABLE:
            first = _first_unanswered(audit, template)
            if first is None and audit.family_feedback is None:
                return cards.family_feedback_card(audit)
            return self._section_or_review(audit, first)
        if Role.MODERATOR in roles and audit.status is Status.SUBMITTED:
            todo = _to_moderate(audit, template)
            return (
                cards.moderation_card(audit, template, todo[0])
                if todo
                else cards.moderation_summary_card(audit, template)
            )
        if Role.SOCIAL_WORKER in roles:
            if (
                template.checklist is not None
                and audit.checklist is None
                and audit.status in AUDITOR_EDITABLE
            ):
                return cards.checklist_card(audit, template)
            feedback = audit.deadlines.get("practitioner_feedback")
            if feedback is not None and feedback.open:
                return cards.feedback_card(audit)
        if Role.IRO in roles and audit.status is not Status.CLOSED:
            return cards.iro_comments_card(audit)
        coc = audit.case_of_concern
        if Role.SERVICE_MANAGER in roles and coc and coc.plan is None and coc.closed_at is None:
            return cards.plan_card(audit)
        for action in audit.actions:
            if action.owner == person and action.status.value == "open":
                return cards.action_completion_card(audit, action.number)
        closing = self._close_card_for(person, audit)
        if closing is not None:
            return closing
        return cards.receipt_card(
            f"Audit {audit.id}, child's ID {audit.child_id}", [("Status", audit.status.label)]
        )

    def _asked_for(
        self, audit: Audit, template: Template, data: dict[str, Any]
    ) -> dict[str, Any] | None:
        """OPEN_AUDIT naming a card: that card. Acting on it still checks the role."""
        try:
            card = Card(str(data.get("card"))) if data.get("card") else None
        except ValueError:
            return None
        section = str(data.get("section") or "")
        number = int(data["action"]) if str(data.get("action", "")).isdigit() else None
        policy = self.service.catalog.policy(audit.policy)
        try:
            match card:
                case Card.SECTION if section:
                    return cards.section_card(audit, template, section)
                case Card.FAMILY_FEEDBACK:
                    return cards.family_feedback_card(audit, policy)
                case Card.AGREED_ACTIONS:
                    return cards.agreed_actions_card(
                        audit, template, moderation=audit.status is Status.SUBMITTED
                    )
                case Card.IRO_COMMENTS:
                    return cards.iro_comments_card(audit)
                case Card.MODERATION:
                    return (
                        cards.moderation_card(audit, template, section)
                        if section
                        else cards.moderation_summary_card(audit, template)
                    )
                case Card.PANEL:
                    return cards.panel_card(audit)
                case Card.CLOSE:
                    return cards.close_card(audit, panel=policy.panel)
                case Card.PLAN:
                    return cards.plan_card(audit)
                case Card.ACTION if number is not None:
                    return cards.action_completion_card(audit, number)
                case Card.SIGN_OFF if number is not None:
                    return cards.sign_off_card(audit, number)
                case Card.CHECKLIST if template.checklist is not None:
                    return cards.checklist_card(audit, template)
                case Card.FEEDBACK:
                    return cards.feedback_card(audit)
        except (AuditError, KeyError, ValueError):
            return None
        return None

    # ------------------------------------------------------------------ QA views

    def _is_qa(self, person: str) -> bool:
        return person in self.service.standing.qa_staff

    async def _qa_view(self, person: str, verb: Verb, data: dict[str, Any]) -> Reply:
        """The tracker's pages (in place) and an audit's details: QA staff only."""
        if not self._is_qa(person):
            await self._refused(person, str(data.get("audit_id") or ""), verb, words.QA_ONLY)
            return Reply(None, None, words.QA_ONLY)
        now = self.service.clock.now()
        if verb is Verb.TRACKER_PAGE:
            filters, page = TrackerFilters.from_data(data)
            card = await tracker_card_from_store(self.service.db, now, filters, page)
            return Reply(card)
        try:
            audit = await self.service.get(str(data.get("audit_id") or ""))
        except AuditError as exc:
            return Reply(None, None, str(exc))
        return Reply(None, audit_details_card(audit, now))

    async def _refused(self, person: str, audit_id: str, verb: Verb, reason: str) -> None:
        log.warning("refused %s on audit %s for %s", verb.value, audit_id[:32] or "-", person)
        async with self.service.db.transaction() as conn:
            await repo.record_refusal(
                conn, self.service.clock.now(), person, audit_id[:32], verb.value, reason
            )

    async def _report(self, turn_context: TurnContext, person: str, period: str | None) -> None:
        if not self._is_qa(person):
            await turn_context.send_activity(words.QA_ONLY)
            return
        try:
            card = await report_card_from_store(
                self.service.db, self.service.catalog, self.service.clock.now(), period
            )
        except AuditError as exc:
            await turn_context.send_activity(str(exc))
            return
        await _send_card(turn_context, card)

    async def _tracker(self, turn_context: TurnContext, person: str, text: str) -> None:
        if not self._is_qa(person):
            await turn_context.send_activity(words.QA_ONLY)
            return
        try:
            filters = TrackerFilters.parse(text)
        except AuditError as exc:
            await turn_context.send_activity(str(exc))
            return
        now = self.service.clock.now()
        await _send_card(turn_context, await tracker_card_from_store(self.service.db, now, filters))

    # ------------------------------------------------------------------ text

    async def _text(self, turn_context: TurnContext, person: str, text: str) -> None:
        said = text.lower().split()
        if not said or said[0] in ("help", "hi", "hello", "?"):
            await _send_card(turn_context, cards.help_card())
        elif said[:2] == ["my", "audits"] or said[0] == "audits":
            await _send_card(turn_context, await self._my_audits(person))
        elif said[0] == "resume":
            await _send_card(turn_context, await self._resume(person))
        elif said[0] == "status" and len(said) == 2:
            await _send_card(turn_context, await self._status(person, said[1]))
        elif said[0] == "report" and len(said) <= 2:
            await self._report(turn_context, person, said[1] if len(said) == 2 else None)
        elif said[0] == "tracker":
            await self._tracker(turn_context, person, text.strip()[len("tracker") :])
        elif not await self._typed_answer(turn_context, person, text):
            await turn_context.send_activity(words.UNKNOWN)
            await _send_card(turn_context, cards.help_card())

    async def _typed_answer(self, turn_context: TurnContext, person: str, text: str) -> bool:
        """The answer to a question the bot asked, typed instead of put in the card."""
        async with self.service.db.reading() as conn:
            awaited = await m365.awaited_text(conn, person)
        if awaited is None:
            return False
        if len(text) > MAX_FIELD:  # still waiting: a shorter text will do
            await turn_context.send_activity(words.typed_too_long(MAX_FIELD))
            return True
        data: dict[str, Any] = {"verb": awaited.verb, "audit_id": awaited.audit_id}
        if awaited.verb == Verb.IRO_COMMENTS.value:
            data["comments"] = text
        else:
            data["section"] = awaited.detail.get("section")
            data[awaited.detail.get("field", "evidence")] = text
        reply = await self._card_action(person, data, _card_key(turn_context.activity))
        async with self.service.db.transaction() as conn:
            await m365.answered(conn, person)  # saved or refused: asked once, answered once
        if reply.text:
            await turn_context.send_activity(reply.text)
        if reply.replace is not None:
            await _send_card(turn_context, reply.replace)
            if awaited.verb != Verb.IRO_COMMENTS.value:
                audit = await self.service.get(awaited.audit_id)
                section = str(data["section"])
                await _send_card(
                    turn_context, cards.section_card(audit, self._template(audit), section)
                )
        return True

    async def _mine(self, person: str) -> list[Audit]:
        rows = await self.service.list(person=person)
        return [await self.service.get(r.id) for r in rows]

    async def _my_audits(self, person: str) -> dict[str, Any]:
        now = self.service.clock.now()
        rows = []
        for audit in await self._mine(person):
            mine = [d for d in audit.deadlines.values() if d.open and d.owner == person]
            nxt = min(mine, key=lambda d: d.due_at, default=None)
            roles = audit.participants.roles_of(person) or [Role.ACTION_OWNER]
            rows.append(
                cards.MyAuditRow(
                    audit_id=audit.id,
                    child_id=audit.child_id,
                    role_label=", ".join(r.label for r in roles),
                    status_label=audit.status.label,
                    next_step_title=step_title(nxt.step) if nxt else None,
                    next_due=nxt.due_at if nxt else None,
                    overdue=bool(nxt and as_utc(nxt.due_at) < now),
                )
            )
        return cards.my_audits_card(rows)

    async def _resume(self, person: str) -> dict[str, Any]:
        mine = await self._mine(person)
        waiting = sorted(
            (d.due_at, a)
            for a in mine
            for d in a.deadlines.values()
            if d.open and d.owner == person
        )
        if not waiting:
            return await self._my_audits(person)
        return self._open(person, waiting[0][1], Verb.OPEN_AUDIT, {})

    async def _status(self, person: str, child_id: str) -> dict[str, Any]:
        for audit in await self._mine(person):
            if audit.child_id == child_id:
                return self._open(person, audit, Verb.OPEN_AUDIT, {})
        return cards.receipt_card(words.NO_SUCH_CHILD.format(child_id=child_id), [])


def _asks_for(card: dict[str, Any], input_id: str) -> bool:
    """Whether a card has an input with this id, anywhere in it."""
    if card.get("id") == input_id and str(card.get("type", "")).startswith("Input."):
        return True
    return any(
        _asks_for(child, input_id)
        for value in card.values()
        for child in (value if isinstance(value, list) else [value])
        if isinstance(child, dict)
    )


def _first_unanswered(audit: Audit, template: Template) -> str | None:
    for section in template.sections:
        answer = audit.answers.get(section.id)
        if section.kind is SectionKind.GRADED and (answer is None or answer.grade is None):
            return section.id
        if section.kind is SectionKind.DETAILS and any(
            q.required
            and not q.prefill
            and not q.when
            and (answer is None or q.id not in answer.values)
            for q in section.questions
        ):
            return section.id
    return None


def _after(template: Template, section_id: str) -> str | None:
    ids = [s.id for s in template.sections]
    if section_id not in ids:
        return None
    i = ids.index(section_id)
    return ids[i + 1] if i + 1 < len(ids) else None


def _to_moderate(audit: Audit, template: Template) -> list[str]:
    done = audit.moderation.sections if audit.moderation else {}
    return [
        s.id
        for s in template.graded_sections
        if s.id != template.overall_section and s.id not in done
    ]


def _receipt_lines(audit: Audit, verb: Verb, data: dict[str, Any]) -> list[tuple[str, str]]:
    lines = [("Audit", f"{audit.id}, child's ID {audit.child_id}"), ("Status", audit.status.label)]
    section = audit.answers.get(str(data.get("section", "")))
    if verb in (Verb.ANSWER_SECTION, Verb.SAVE_AND_PAUSE) and section is not None:
        if section.grade:
            lines.append(("Grade", section.grade.label))
        if section.evidence:
            lines.append(("Evidence", section.evidence))
        if section.impact:
            lines.append(("Impact", section.impact))
    return lines


def _execute_data(value: Any) -> dict[str, Any]:
    """The data of an Action.Execute (untrusted: any shape may arrive)."""
    action = value.get("action") if isinstance(value, dict) else None
    if not isinstance(action, dict):
        return {}
    data = action.get("data")
    found: dict[str, Any] = dict(data) if isinstance(data, dict) else {}
    found.setdefault("verb", action.get("verb"))
    return found


def _tenant(activity: Activity) -> str | None:
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = channel_data.get("tenant") if isinstance(channel_data.get("tenant"), dict) else {}
    found = tenant.get("id") if tenant else None
    if found:
        return str(found)
    conversation = activity.conversation
    return getattr(conversation, "tenant_id", None) if conversation else None


def _card_key(activity: Activity) -> str | None:
    """One key per card: a second press of the same card, or a redelivery, is applied once."""
    if activity.reply_to_id:
        return f"card:{activity.conversation.id if activity.conversation else ''}:{activity.reply_to_id}"
    return f"activity:{activity.id}" if activity.id else None


def _reference_key(activity: Activity) -> tuple[Any, ...]:
    """What the conversation reference stored for the sender holds, but the activity id."""
    user, bot, chat = activity.from_property, activity.recipient, activity.conversation
    return (
        activity.channel_id,
        activity.service_url,
        activity.locale,
        *((a.id, a.name, a.aad_object_id, a.role) if a else (None,) * 4 for a in (user, bot)),
        *((chat.id, chat.tenant_id, chat.conversation_type, chat.is_group) if chat else ()),
    )


async def _send_card(turn_context: TurnContext, card: dict[str, Any]) -> None:
    await turn_context.send_activity(MessageFactory.attachment(CardFactory.adaptive_card(card)))


class _InvokeBody(Model):
    """The answer to `adaptiveCard/action`: a card, a message or an error.

    botbuilder serialises invoke bodies through msrest, and the schema's own
    AdaptiveCardInvokeResponse types `value` as a dict, which refuses a message.
    """

    _attribute_map = {  # noqa: RUF012 - msrest's convention
        "status_code": {"key": "statusCode", "type": "int"},
        "type": {"key": "type", "type": "str"},
        "value": {"key": "value", "type": "object"},
    }

    def __init__(self, status_code: int, type: str, value: Any) -> None:
        super().__init__()
        self.status_code, self.type, self.value = status_code, type, value


def _invoke(kind: str, value: Any, status: int = 200) -> InvokeResponse:
    return InvokeResponse(status=200, body=_InvokeBody(status, kind, value))


def _message(text: str) -> InvokeResponse:
    return _invoke(MESSAGE, text)


async def _invoke_answer(turn_context: TurnContext, status: int, error: dict[str, str]) -> None:
    await turn_context.send_activity(
        Activity(
            type=ActivityTypes.invoke_response,
            value=_invoke("application/vnd.microsoft.error", error, status),
        )
    )
