"""Everything the sandbox remembers, in one SQLite file under the state directory.

The server is a single asyncio process and no method here awaits, so each method runs to
completion before another request is looked at; `with self._db:` makes each one a single
transaction, which is what keeps a restart (or a crash) from leaving half a change behind.
Documents that Graph returns as JSON (events, mail, installations, list fields) are stored
as JSON text; the document library is a table of items with their bytes.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from sandbox.constants import TOKEN_LIFETIME_SECONDS, sandbox_user_id

Json = dict[str, Any]

DB_NAME = "sandbox.db"
UPLOADS_DIR = "uploads"


def _item_id(source: uuid.UUID) -> str:
    """Ids shaped like SharePoint's: opaque, upper-case, no separators."""
    return "01" + base64.b32encode(source.bytes).decode()[:26]


ROOT_ID = _item_id(uuid.uuid5(uuid.NAMESPACE_URL, "sandbox:root"))

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY, upn TEXT NOT NULL UNIQUE COLLATE NOCASE, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY, client_id TEXT NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, user_id TEXT NOT NULL,
    transaction_id TEXT, data TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS events_by_transaction
    ON events (user_id, transaction_id) WHERE transaction_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS mail (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, sender_id TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS installed_apps (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, user_id TEXT NOT NULL,
    app_id TEXT NOT NULL, data TEXT NOT NULL, UNIQUE (user_id, app_id));
CREATE TABLE IF NOT EXISTS drive_items (
    id TEXT PRIMARY KEY, parent_id TEXT, name TEXT NOT NULL, is_folder INTEGER NOT NULL,
    content BLOB, size INTEGER NOT NULL DEFAULT 0, created TEXT NOT NULL,
    modified TEXT NOT NULL, version INTEGER NOT NULL DEFAULT 1,
    UNIQUE (parent_id, name COLLATE NOCASE));
CREATE TABLE IF NOT EXISTS upload_sessions (
    token TEXT PRIMARY KEY, parent_id TEXT NOT NULL, name TEXT NOT NULL,
    conflict TEXT NOT NULL, total INTEGER, received INTEGER NOT NULL, expires TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS lists (
    id TEXT PRIMARY KEY, display_name TEXT NOT NULL, next_item_id INTEGER NOT NULL,
    created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS list_columns (
    list_id TEXT NOT NULL, seq INTEGER NOT NULL, name TEXT NOT NULL COLLATE NOCASE,
    data TEXT NOT NULL, PRIMARY KEY (list_id, name));
CREATE TABLE IF NOT EXISTS list_items (
    list_id TEXT NOT NULL, id INTEGER NOT NULL, fields TEXT NOT NULL, created TEXT NOT NULL,
    modified TEXT NOT NULL, version INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (list_id, id));
"""
# Tokens survive a reset: a running bot's cached token should keep working after a test
# clears the data it made.
_CONTENT_TABLES = (
    "events",
    "mail",
    "installed_apps",
    "drive_items",
    "upload_sessions",
    "list_items",
    "list_columns",
    "lists",
    "users",
)


# An event the person deleted in Outlook: kept only for its transactionId.
_DELETED = "_deletedInOutlook"


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_item_id() -> str:
    return _item_id(uuid.uuid4())


@dataclass(frozen=True)
class DriveItem:
    id: str
    parent_id: str | None
    name: str
    is_folder: bool
    size: int
    created: str
    modified: str
    version: int


@dataclass(frozen=True)
class UploadSession:
    token: str
    parent_id: str
    name: str
    conflict: str
    total: int | None
    received: int
    expires: str


@dataclass(frozen=True)
class ListItem:
    list_id: str
    id: int
    fields: Json
    created: str
    modified: str
    version: int


class Store:
    """The sandbox's persistent state. Open with `Store.open(state_dir)`."""

    def __init__(self, db: sqlite3.Connection, state_dir: Path) -> None:
        self._db = db
        self._uploads = state_dir / UPLOADS_DIR

    @classmethod
    def open(cls, state_dir: Path) -> Store:
        state_dir.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(state_dir / DB_NAME, isolation_level=None)
        db.row_factory = sqlite3.Row
        # WAL keeps the file consistent if the process dies mid-write.
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_SCHEMA)
        store = cls(db, state_dir)
        store._uploads.mkdir(exist_ok=True)
        store._seed()
        return store

    def close(self) -> None:
        self._db.close()

    def reset(self) -> None:
        """Back to the seed: people and an empty library, and no lists: a new site's
        lists are made by whoever uses it (auditbot's `setup sharepoint`)."""
        with self._transaction():
            for table in _CONTENT_TABLES:
                self._db.execute(f"DELETE FROM {table}")  # fixed names, not input
        for part in self._uploads.glob("*.part"):
            part.unlink()
        self._seed()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _seed(self) -> None:
        now = now_iso()
        with self._transaction():
            for user in load_seed_users():
                self._db.execute(
                    "INSERT OR REPLACE INTO users (id, upn, data) VALUES (?, ?, ?)",
                    (user["id"], user["userPrincipalName"], json.dumps(user)),
                )
            self._db.execute(
                "INSERT OR IGNORE INTO drive_items (id, parent_id, name, is_folder, created,"
                " modified) VALUES (?, NULL, 'root', 1, ?, ?)",
                (ROOT_ID, now, now),
            )

    # -- tokens ---------------------------------------------------------------

    def issue_token(self, client_id: str) -> str:
        token = secrets.token_urlsafe(32)
        with self._transaction():
            self._db.execute("DELETE FROM tokens WHERE expires_at < ?", (time.time(),))
            self._db.execute(
                "INSERT INTO tokens (token, client_id, expires_at) VALUES (?, ?, ?)",
                (token, client_id, time.time() + TOKEN_LIFETIME_SECONDS),
            )
        return token

    def token_client(self, token: str) -> str | None:
        """The client id a still-valid token was issued to, or None."""
        row = self._db.execute(
            "SELECT client_id FROM tokens WHERE token = ? AND expires_at > ?",
            (token, time.time()),
        ).fetchone()
        return None if row is None else str(row["client_id"])

    def token_clients(self) -> list[str]:
        """The client ids still-valid tokens were issued to, oldest first."""
        rows = self._db.execute(
            "SELECT client_id FROM tokens WHERE expires_at > ? ORDER BY rowid", (time.time(),)
        ).fetchall()
        return [str(row["client_id"]) for row in rows]

    # -- users ----------------------------------------------------------------

    def users(self) -> list[Json]:
        rows = self._db.execute("SELECT data FROM users ORDER BY upn").fetchall()
        return [_load(row["data"]) for row in rows]

    def add_user(self, upn: str, display_name: str) -> Json:
        """Someone new in the directory, with a mailbox (tests and benches: more people
        than the seed has)."""
        upn = upn.lower()
        given, _, surname = display_name.partition(" ")
        user: Json = {
            "id": sandbox_user_id(upn),
            "userPrincipalName": upn,
            "mail": upn,
            "proxyAddresses": [f"SMTP:{upn}"],
            "displayName": display_name,
            "givenName": given,
            "surname": surname,
            "jobTitle": "Staff",
            "accountEnabled": True,
            "_mailbox": True,
        }
        with self._transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO users (id, upn, data) VALUES (?, ?, ?)",
                (user["id"], upn, json.dumps(user)),
            )
        return user

    def user(self, id_or_upn: str) -> Json | None:
        row = self._db.execute(
            "SELECT data FROM users WHERE id = ? OR upn = ?", (id_or_upn.lower(), id_or_upn)
        ).fetchone()
        return None if row is None else _load(row["data"])

    # -- calendar -------------------------------------------------------------

    def events(self, user_id: str) -> list[Json]:
        """The events on the person's calendar (not those they deleted in Outlook)."""
        rows = self._db.execute(
            "SELECT data FROM events WHERE user_id = ? ORDER BY seq", (user_id,)
        ).fetchall()
        return [e for e in (_load(row["data"]) for row in rows) if not e.get(_DELETED)]

    def event(self, user_id: str, event_id: str) -> Json | None:
        row = self._db.execute(
            "SELECT data FROM events WHERE user_id = ? AND id = ?", (user_id, event_id)
        ).fetchone()
        event = None if row is None else _load(row["data"])
        return None if event is None or event.get(_DELETED) else event

    def event_by_transaction(self, user_id: str, transaction_id: str) -> Json | None:
        row = self._db.execute(
            "SELECT data FROM events WHERE user_id = ? AND transaction_id = ?",
            (user_id, transaction_id),
        ).fetchone()
        return None if row is None else _load(row["data"])

    def add_event(self, user_id: str, event: Json) -> None:
        with self._transaction():
            self._db.execute(
                "INSERT INTO events (id, user_id, transaction_id, data) VALUES (?, ?, ?, ?)",
                (event["id"], user_id, event.get("transactionId"), json.dumps(event)),
            )

    def save_event(self, user_id: str, event: Json) -> None:
        with self._transaction():
            self._db.execute(
                "UPDATE events SET data = ?, transaction_id = ? WHERE user_id = ? AND id = ?",
                (json.dumps(event), event.get("transactionId"), user_id, event["id"]),
            )

    def delete_event(self, user_id: str, event_id: str) -> bool:
        if self.event(user_id, event_id) is None:
            return False
        with self._transaction():
            cursor = self._db.execute(
                "DELETE FROM events WHERE user_id = ? AND id = ?", (user_id, event_id)
            )
        return cursor.rowcount > 0

    def delete_event_as_user(self, user_id: str, event_id: str) -> bool:
        """Off the calendar, its id gone, its transactionId still remembered (Outlook moves
        a deleted event to Deleted Items)."""
        event = self.event(user_id, event_id)
        if event is None:
            return False
        event[_DELETED] = True
        self.save_event(user_id, event)
        return True

    # -- mail -----------------------------------------------------------------

    def add_mail(self, sender_id: str, message: Json) -> None:
        with self._transaction():
            self._db.execute(
                "INSERT INTO mail (sender_id, data) VALUES (?, ?)",
                (sender_id, json.dumps(message)),
            )

    def mail(self) -> list[Json]:
        rows = self._db.execute("SELECT data FROM mail ORDER BY seq").fetchall()
        return [_load(row["data"]) for row in rows]

    # -- Teams app installations ----------------------------------------------

    def installed_apps(self, user_id: str) -> list[Json]:
        rows = self._db.execute(
            "SELECT data FROM installed_apps WHERE user_id = ? ORDER BY seq", (user_id,)
        ).fetchall()
        return [_load(row["data"]) for row in rows]

    def install_app(self, user_id: str, installation: Json, app_id: str) -> bool:
        """Record an installation; False when the app is already installed for the user."""
        with self._transaction():
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO installed_apps (id, user_id, app_id, data)"
                " VALUES (?, ?, ?, ?)",
                (installation["id"], user_id, app_id, json.dumps(installation)),
            )
        return cursor.rowcount > 0

    def uninstall_app(self, user_id: str, installation_id: str) -> bool:
        with self._transaction():
            cursor = self._db.execute(
                "DELETE FROM installed_apps WHERE user_id = ? AND id = ?",
                (user_id, installation_id),
            )
        return cursor.rowcount > 0

    # -- document library -----------------------------------------------------

    def drive_item(self, item_id: str) -> DriveItem | None:
        row = self._db.execute(f"SELECT {_ITEM_COLUMNS} FROM drive_items WHERE id = ?", (item_id,))
        return _drive_item(row.fetchone())

    def child(self, parent_id: str, name: str) -> DriveItem | None:
        row = self._db.execute(
            f"SELECT {_ITEM_COLUMNS} FROM drive_items WHERE parent_id = ? AND name = ?"
            " COLLATE NOCASE",
            (parent_id, name),
        )
        return _drive_item(row.fetchone())

    def children(self, parent_id: str) -> list[DriveItem]:
        rows = self._db.execute(
            f"SELECT {_ITEM_COLUMNS} FROM drive_items WHERE parent_id = ?"
            " ORDER BY is_folder DESC, name COLLATE NOCASE",
            (parent_id,),
        ).fetchall()
        return [item for item in map(_drive_item, rows) if item is not None]

    def content(self, item_id: str) -> bytes:
        row = self._db.execute("SELECT content FROM drive_items WHERE id = ?", (item_id,))
        found = row.fetchone()
        return b"" if found is None or found["content"] is None else bytes(found["content"])

    def make_folder(self, parent_id: str, name: str) -> DriveItem:
        existing = self.child(parent_id, name)
        if existing is not None:
            return existing
        now = now_iso()
        item_id = new_item_id()
        with self._transaction():
            self._db.execute(
                "INSERT INTO drive_items (id, parent_id, name, is_folder, created, modified)"
                " VALUES (?, ?, ?, 1, ?, ?)",
                (item_id, parent_id, name, now, now),
            )
        return self._must(item_id)

    def write_file(self, parent_id: str, name: str, content: bytes) -> tuple[DriveItem, bool]:
        """Create or replace a file; a replaced file keeps its id (as in SharePoint, where
        links to a document survive a new version). Returns (item, created)."""
        now = now_iso()
        existing = self.child(parent_id, name)
        with self._transaction():
            if existing is None:
                item_id = new_item_id()
                self._db.execute(
                    "INSERT INTO drive_items (id, parent_id, name, is_folder, content, size,"
                    " created, modified) VALUES (?, ?, ?, 0, ?, ?, ?, ?)",
                    (item_id, parent_id, name, content, len(content), now, now),
                )
            else:
                item_id = existing.id
                self._db.execute(
                    "UPDATE drive_items SET content = ?, size = ?, modified = ?,"
                    " version = version + 1 WHERE id = ?",
                    (content, len(content), now, item_id),
                )
        return self._must(item_id), existing is None

    def delete_item(self, item_id: str) -> None:
        with self._transaction():
            self._delete_tree(item_id)

    def path_of(self, item: DriveItem) -> list[str]:
        """Names from the root down to the item (the root itself is [])."""
        names: list[str] = []
        current: DriveItem | None = item
        while current is not None and current.parent_id is not None:
            names.append(current.name)
            current = self.drive_item(current.parent_id)
        return names[::-1]

    def _delete_tree(self, item_id: str) -> None:
        for child in self.children(item_id):
            self._delete_tree(child.id)
        self._db.execute("DELETE FROM drive_items WHERE id = ?", (item_id,))

    def _must(self, item_id: str) -> DriveItem:
        item = self.drive_item(item_id)
        if item is None:  # pragma: no cover - written in the same transaction
            raise LookupError(item_id)
        return item

    # -- upload sessions ------------------------------------------------------

    def open_upload_session(
        self, parent_id: str, name: str, conflict: str, expires: str
    ) -> UploadSession:
        token = secrets.token_urlsafe(24)
        with self._transaction():
            self._db.execute(
                "INSERT INTO upload_sessions (token, parent_id, name, conflict, total,"
                " received, expires) VALUES (?, ?, ?, ?, NULL, 0, ?)",
                (token, parent_id, name, conflict, expires),
            )
        self._part(token).write_bytes(b"")
        session = self.upload_session(token)
        assert session is not None
        return session

    def upload_session(self, token: str) -> UploadSession | None:
        row = self._db.execute("SELECT * FROM upload_sessions WHERE token = ?", (token,)).fetchone()
        if row is None:
            return None
        return UploadSession(
            token=row["token"],
            parent_id=row["parent_id"],
            name=row["name"],
            conflict=row["conflict"],
            total=row["total"],
            received=row["received"],
            expires=row["expires"],
        )

    def append_chunk(self, session: UploadSession, total: int, chunk: bytes) -> None:
        """Append bytes at `session.received`. The part file is cut back to what the
        database says was received first, so a chunk whose write was interrupted by a
        crash is simply expected again."""
        part = self._part(session.token)
        with part.open("r+b") as handle:
            handle.truncate(session.received)
            handle.seek(session.received)
            handle.write(chunk)
        with self._transaction():
            self._db.execute(
                "UPDATE upload_sessions SET total = ?, received = ? WHERE token = ?",
                (total, session.received + len(chunk), session.token),
            )

    def session_bytes(self, session: UploadSession) -> bytes:
        return self._part(session.token).read_bytes()[: session.received]

    def close_upload_session(self, token: str) -> None:
        with self._transaction():
            self._db.execute("DELETE FROM upload_sessions WHERE token = ?", (token,))
        self._part(token).unlink(missing_ok=True)

    def _part(self, token: str) -> Path:
        return self._uploads / f"{token}.part"

    # -- lists ----------------------------------------------------------------

    def lists(self) -> list[Json]:
        rows = self._db.execute("SELECT * FROM lists ORDER BY id").fetchall()
        return [_list(row) for row in rows]

    def get_list(self, id_or_title: str) -> Json | None:
        row = self._db.execute(
            "SELECT * FROM lists WHERE id = ? OR display_name = ? COLLATE NOCASE",
            (id_or_title, id_or_title),
        ).fetchone()
        return None if row is None else _list(row)

    def create_list(self, display_name: str, columns: list[Json]) -> Json:
        """A new list with its columns (in order); its id is a GUID, as in SharePoint."""
        list_id = str(uuid.uuid4())
        with self._transaction():
            self._db.execute(
                "INSERT INTO lists (id, display_name, next_item_id, created) VALUES (?, ?, 1, ?)",
                (list_id, display_name, now_iso()),
            )
            for column in columns:
                self._insert_column(list_id, column)
        found = self.get_list(list_id)
        assert found is not None
        return found

    def columns(self, list_id: str) -> list[Json]:
        rows = self._db.execute(
            "SELECT data FROM list_columns WHERE list_id = ? ORDER BY seq", (list_id,)
        ).fetchall()
        return [_load(row["data"]) for row in rows]

    def add_column(self, list_id: str, column: Json) -> None:
        with self._transaction():
            self._insert_column(list_id, column)

    def save_column(self, list_id: str, column: Json) -> None:
        with self._transaction():
            self._db.execute(
                "UPDATE list_columns SET data = ? WHERE list_id = ? AND name = ?",
                (json.dumps(column), list_id, column["name"]),
            )

    def _insert_column(self, list_id: str, column: Json) -> None:
        (seq,) = self._db.execute(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM list_columns WHERE list_id = ?", (list_id,)
        ).fetchone()
        self._db.execute(
            "INSERT INTO list_columns (list_id, seq, name, data) VALUES (?, ?, ?, ?)",
            (list_id, seq, column["name"], json.dumps(column)),
        )

    def list_items(self, list_id: str) -> list[ListItem]:
        rows = self._db.execute(
            "SELECT * FROM list_items WHERE list_id = ? ORDER BY id", (list_id,)
        ).fetchall()
        return [_list_item(row) for row in rows]

    def list_item(self, list_id: str, item_id: str) -> ListItem | None:
        if not item_id.isdigit():
            return None
        row = self._db.execute(
            "SELECT * FROM list_items WHERE list_id = ? AND id = ?", (list_id, int(item_id))
        ).fetchone()
        return None if row is None else _list_item(row)

    def add_list_item(self, list_id: str, fields: Json) -> ListItem:
        now = now_iso()
        with self._transaction():
            # SharePoint never reuses an item id, even after a delete.
            (item_id,) = self._db.execute(
                "SELECT next_item_id FROM lists WHERE id = ?", (list_id,)
            ).fetchone()
            self._db.execute(
                "UPDATE lists SET next_item_id = next_item_id + 1 WHERE id = ?", (list_id,)
            )
            self._db.execute(
                "INSERT INTO list_items (list_id, id, fields, created, modified)"
                " VALUES (?, ?, ?, ?, ?)",
                (list_id, item_id, json.dumps(fields), now, now),
            )
        item = self.list_item(list_id, str(item_id))
        assert item is not None
        return item

    def update_list_item(self, item: ListItem, fields: Json) -> ListItem:
        merged = {**item.fields, **fields}
        with self._transaction():
            self._db.execute(
                "UPDATE list_items SET fields = ?, modified = ?, version = version + 1"
                " WHERE list_id = ? AND id = ?",
                (json.dumps(merged), now_iso(), item.list_id, item.id),
            )
        updated = self.list_item(item.list_id, str(item.id))
        assert updated is not None
        return updated

    def delete_list_item(self, item: ListItem) -> None:
        with self._transaction():
            self._db.execute(
                "DELETE FROM list_items WHERE list_id = ? AND id = ?", (item.list_id, item.id)
            )


_ITEM_COLUMNS = "id, parent_id, name, is_folder, size, created, modified, version"


def load_seed_users() -> list[Json]:
    """The people in users.yaml, as Graph user resources."""
    text = resources.files("sandbox").joinpath("users.yaml").read_text(encoding="utf-8")
    users: list[Json] = []
    for entry in yaml.safe_load(text)["users"]:
        upn = str(entry["userPrincipalName"]).lower()
        mail = str(entry.get("mail") or upn).lower()
        given, _, surname = str(entry["displayName"]).partition(" ")
        aliases = [f"smtp:{str(a).lower()}" for a in entry.get("aliases") or []]
        users.append(
            {
                "id": sandbox_user_id(upn),
                "userPrincipalName": upn,
                "mail": mail,
                # Exchange's addresses: the primary one upper-case SMTP:, the rest smtp:.
                "proxyAddresses": [f"SMTP:{mail}", *aliases],
                "displayName": entry["displayName"],
                "givenName": given,
                "surname": surname,
                "jobTitle": entry.get("jobTitle"),
                "accountEnabled": bool(entry.get("accountEnabled", True)),
                # Not a Graph property: whether Exchange Online has a mailbox for them.
                "_mailbox": bool(entry.get("mailbox", True)),
            }
        )
    return users


def _load(text: str) -> Json:
    data: Json = json.loads(text)
    return data


def _drive_item(row: sqlite3.Row | None) -> DriveItem | None:
    if row is None:
        return None
    return DriveItem(
        id=row["id"],
        parent_id=row["parent_id"],
        name=row["name"],
        is_folder=bool(row["is_folder"]),
        size=row["size"],
        created=row["created"],
        modified=row["modified"],
        version=row["version"],
    )


def _list(row: sqlite3.Row) -> Json:
    return {"id": row["id"], "displayName": row["display_name"], "created": row["created"]}


def _list_item(row: sqlite3.Row) -> ListItem:
    return ListItem(
        list_id=row["list_id"],
        id=row["id"],
        fields=_load(row["fields"]),
        created=row["created"],
        modified=row["modified"],
        version=row["version"],
    )
