"""Logging: one JSON object per line for a log collector, or plain text for a terminal.

Logs carry audit ids, child's ID numbers and people's addresses, never answer
text or a child's name. Our own messages are written that way; this module
also keeps third-party loggers that echo SQL parameters or request bodies (where
answers travel) at WARNING, and withholds extra fields whose names say they
hold free text.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from auditbot.settings import Settings

LogFormat = Literal["json", "text"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# At DEBUG or INFO these log SQL parameters, driver calls with their arguments, or
# HTTP bodies: the answers people typed would land in the log.
QUIET_LOGGERS = (
    "sqlalchemy",
    "aiosqlite",
    "asyncpg",
    "alembic",
    "msrest",
    "botframework",
    "urllib3",
    "httpcore",
    "hpack",
    "msal",
    "kiota_http",
)

# Extra fields with these names may hold what someone typed; their values are never written.
WITHHELD_FIELDS = frozenset(
    {
        "text",
        "answer",
        "answers",
        "evidence",
        "impact",
        "comments",
        "summary",
        "plan",
        "notes",
        "reason",
        "payload",
        "body",
        "value",
        "values",
        "data",
        "child_name",
    }
)
WITHHELD = "[withheld]"

# Attributes every LogRecord has; anything else on a record came in through `extra=`.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
# SQLAlchemy's errors quote the statement's parameters: drop them from tracebacks.
_SQL_PARAMETERS = re.compile(r"\[parameters: .*?\](?=\n|$)", re.DOTALL)


class JsonFormatter(logging.Formatter):
    """time, level, logger, message, then the record's extra fields; one line per record."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key in _STANDARD or key.startswith("_") or key in entry:
                continue
            entry[key] = WITHHELD if key.lower() in WITHHELD_FIELDS else _plain(value)
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__
            entry["traceback"] = scrub("".join(traceback.format_exception(*record.exc_info)))
        elif record.exc_text:
            entry["traceback"] = scrub(record.exc_text)
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatException(self, ei: Any) -> str:
        return scrub(super().formatException(ei))


def scrub(text: str) -> str:
    return _SQL_PARAMETERS.sub("[parameters withheld]", text)


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {
            str(k): WITHHELD if str(k).lower() in WITHHELD_FIELDS else _plain(v)
            for k, v in value.items()
        }
    return str(value)


def configure_logging(
    settings: Settings, *, default_format: LogFormat = "text", stream: TextIO | None = None
) -> logging.Handler:
    """Sends the root logger's records to stderr (or `stream`) as JSON lines or text.

    The format is AUDITBOT_LOG_FORMAT, else `default_format` (the CLI passes "json"
    for `serve`). Calling it again replaces the handler it installed before.
    """
    chosen = settings.log_format or default_format
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if chosen == "json" else TextFormatter())
    handler.set_name("auditbot")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "auditbot"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(
            max(logging.WARNING, logging.getLevelNamesMapping()[settings.log_level])
        )
    return handler
