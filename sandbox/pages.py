"""Read-only pages for a person checking what the bot did: calendars, files, the
tracker and sent mail. Plain HTML; every value from the data is escaped, because
subjects and fields are whatever a client sent."""

from __future__ import annotations

import datetime as dt
import re
from html import escape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web

from sandbox.constants import SITE_NAME, TENANT
from sandbox.context import SandboxContext, context_of
from sandbox.graph import GRAPH_PREFIX
from sandbox.state import ROOT_ID, DriveItem, Json

UK = ZoneInfo("Europe/London")
# Windows zone names Outlook clients send, for the ones a UK council will meet.
_WINDOWS_ZONES = {
    "GMT Standard Time": "Europe/London",
    "UTC": "UTC",
    "tzone://Microsoft/Utc": "UTC",
}
_GRAPH_DATETIME = re.compile(
    r"(?P<main>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?)(?:\.(?P<fraction>\d+))?"
    r"(?P<offset>Z|[+-]\d{2}:\d{2})?"
)
_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem auto; max-width: 75rem; padding: 0 1rem; }
nav a { margin-right: 1rem; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #bbb; padding: .3rem .6rem; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
.muted { color: #666; }
pre { white-space: pre-wrap; margin: 0; font-family: inherit; }
"""


def register(app: web.Application) -> None:
    app.router.add_get("/", index)
    app.router.add_get("/people", people)
    app.router.add_get("/people/{upn}/calendar", calendar)
    app.router.add_get("/files", files)
    app.router.add_get("/files/download/{item_id}", download)
    app.router.add_get("/tracker", tracker)
    app.router.add_get("/mail", mail)


async def index(request: web.Request) -> web.Response:
    context = context_of(request)
    base = context.base_url
    links = [
        ("/people", "People and their calendars"),
        ("/files", f"{SITE_NAME} document library"),
        ("/tracker", "Lists"),
        ("/mail", "Sent mail"),
    ]
    faults = context.faults.to_dict()
    body = (
        "<ul>"
        + "".join(f'<li><a href="{escape(href)}">{escape(text)}</a></li>' for href, text in links)
        + "</ul><h2>For developers</h2>"
        + _definitions(
            [
                ("Graph", f"{base}{GRAPH_PREFIX}"),
                ("Authority", f"{base}/{TENANT}"),
                ("CA file", str(context.ca_file)),
                ("Requests served", str(len(context.graph.log))),
            ]
        )
        + "<h2>Faults</h2>"
        + _definitions([(name, str(value)) for name, value in faults.items()])
    )
    return _page("Microsoft 365 sandbox", body)


async def people(request: web.Request) -> web.Response:
    store = context_of(request).store
    rows = []
    for user in store.users():
        upn = user["userPrincipalName"]
        events = len(store.events(user["id"]))
        rows.append(
            [
                escape(user["displayName"]),
                escape(upn),
                escape(user.get("jobTitle") or ""),
                "Yes" if user["accountEnabled"] else "<strong>No (account disabled)</strong>",
                f'<a href="/people/{quote(upn)}/calendar">{events} event(s)</a>',
            ]
        )
    table = _table(["Name", "Address", "Job title", "Account enabled", "Calendar"], rows)
    return _page("People", table)


async def calendar(request: web.Request) -> web.Response:
    store = context_of(request).store
    user = store.user(request.match_info["upn"])
    if user is None:
        raise web.HTTPNotFound(text="No such person in the sandbox.")
    rows = []
    for event in store.events(user["id"]):
        reminder = (
            f"{event.get('reminderMinutesBeforeStart', 15)} minutes before"
            if event.get("isReminderOn", True)
            else "Off"
        )
        rows.append(
            [
                escape(str(event.get("subject", ""))),
                escape(uk_time(event.get("start"))),
                escape(uk_time(event.get("end"))),
                escape(", ".join(str(c) for c in event.get("categories") or [])),
                escape(reminder),
                f"<pre>{escape(body_text(event.get('body')))}</pre>",
            ]
        )
    title = f"Calendar of {user['displayName']}"
    intro = f'<p class="muted">{escape(user["userPrincipalName"])}. Times are UK time.</p>'
    table = _table(["Subject", "Start", "End", "Category", "Reminder", "Details"], rows)
    return _page(title, intro + (table if rows else "<p>No events.</p>"))


async def files(request: web.Request) -> web.Response:
    store = context_of(request).store
    tree = _tree(context_of(request), ROOT_ID)
    if not store.children(ROOT_ID):
        tree = "<p>The library is empty.</p>"
    return _page(f"{SITE_NAME} document library", tree)


async def download(request: web.Request) -> web.Response:
    store = context_of(request).store
    item = store.drive_item(request.match_info["item_id"])
    if item is None or item.is_folder:
        raise web.HTTPNotFound(text="No such file in the sandbox.")
    return web.Response(
        body=store.content(item.id),
        content_type="application/octet-stream",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(item.name)}"},
    )


async def tracker(request: web.Request) -> web.Response:
    """Every list on the site (the audit tracker, once auditbot has made it), its items."""
    store = context_of(request).store
    sections = []
    for found in store.lists():
        items = store.list_items(found["id"])
        columns: list[str] = []
        for item in items:
            columns.extend(name for name in item.fields if name not in columns)
        rows = [
            [escape(str(item.id))]
            + [escape(_cell(item.fields.get(name))) for name in columns]
            + [escape(uk_instant(item.modified))]
            for item in items
        ]
        table = _table(["#", *columns, "Modified"], rows) if rows else "<p>No items yet.</p>"
        sections.append(f"<h2>{escape(found['displayName'])}</h2>{table}")
    return _page("Lists", "".join(sections) or "<p>No lists yet.</p>")


async def mail(request: web.Request) -> web.Response:
    messages = context_of(request).store.mail()
    rows = [
        [
            escape(uk_instant(message["sentDateTime"])),
            escape(message["from"]["emailAddress"]["address"]),
            escape(", ".join(_recipients(message))),
            escape(str(message.get("subject", ""))),
            f"<pre>{escape(body_text(message.get('body')))}</pre>",
        ]
        for message in messages
    ]
    table = _table(["Sent", "From", "To", "Subject", "Body"], rows)
    return _page("Sent mail", table if rows else "<p>No mail sent.</p>")


# -- formatting --------------------------------------------------------------------


def uk_time(value: Any) -> str:
    """A Graph dateTimeTimeZone shown in UK time, e.g. 'Thu 05 Nov 2026 09:00'."""
    if not isinstance(value, dict):
        return ""
    text = str(value.get("dateTime") or "")
    match = _GRAPH_DATETIME.fullmatch(text.strip())
    if match is None:
        return text
    moment = dt.datetime.fromisoformat(match["main"])
    if match["offset"]:
        offset = "+00:00" if match["offset"] == "Z" else match["offset"]
        moment = dt.datetime.fromisoformat(match["main"] + offset)
    else:
        moment = moment.replace(tzinfo=_zone(str(value.get("timeZone") or "UTC")))
    return moment.astimezone(UK).strftime("%a %d %b %Y %H:%M")


def uk_instant(text: str) -> str:
    return uk_time({"dateTime": text, "timeZone": "UTC"})


def body_text(body: Any) -> str:
    """An itemBody as plain text; HTML bodies lose their tags, not their words."""
    if not isinstance(body, dict):
        return ""
    content = str(body.get("content") or "")
    if str(body.get("contentType", "text")).lower() != "html":
        return content
    parser = _TextOnly()
    parser.feed(content)
    return parser.text()


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in ("br", "p", "div", "li", "tr"):
            self._parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._parts.append(data)

    def text(self) -> str:
        return re.sub(r"\n{3,}", "\n\n", "".join(self._parts)).strip()


def _zone(name: str) -> dt.tzinfo:
    try:
        return ZoneInfo(_WINDOWS_ZONES.get(name, name))
    except (ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def _tree(context: SandboxContext, folder_id: str) -> str:
    store = context.store
    entries = []
    for item in store.children(folder_id):
        entries.append(_tree_entry(item) + (_tree(context, item.id) if item.is_folder else ""))
    return "<ul>" + "".join(f"<li>{entry}</li>" for entry in entries) + "</ul>" if entries else ""


def _tree_entry(item: DriveItem) -> str:
    if item.is_folder:
        return f"<strong>{escape(item.name)}/</strong>"
    return (
        f'<a href="/files/download/{quote(item.id)}">{escape(item.name)}</a>'
        f' <span class="muted">{item.size:,} bytes, {escape(uk_instant(item.modified))}</span>'
    )


def _recipients(message: Json) -> list[str]:
    return [
        str(recipient["emailAddress"]["address"])
        for key in ("toRecipients", "ccRecipients")
        for recipient in message.get(key) or []
    ]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    return str(value)


def _table(headers: list[str], rows: list[list[str]]) -> str:
    """Cells must already be escaped HTML."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _definitions(pairs: list[tuple[str, str]]) -> str:
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in pairs)
    return f"<dl>{items}</dl>"


def _page(title: str, body: str) -> web.Response:
    nav = "".join(
        f'<a href="{href}">{text}</a>'
        for href, text in [
            ("/", "Sandbox"),
            ("/people", "People"),
            ("/files", "Files"),
            ("/tracker", "Tracker"),
            ("/mail", "Mail"),
        ]
    )
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)} - auditbot sandbox</title><style>{_STYLE}</style></head>"
        f"<body><nav>{nav}</nav><h1>{escape(title)}</h1>{body}</body></html>"
    )
    return web.Response(text=html, content_type="text/html")
