"""Logging: one line for each thing a person acts on, the same in every billy process.

billy's own loggers speak at `BILLY_LOG_LEVEL` (INFO by default): a process started and where it
listens, a request that failed, a job that failed or will be retried, an upstream that is down.
The libraries (Procrastinate, gunicorn, gRPC, httpx, Django) speak only at WARNING and above: at
INFO they log every task registration, periodic job and outbound request. `BILLY_LOG_LEVEL=DEBUG`
shows everything. Django logs every 4xx answer as a warning; those are answers, not failures, so
only its 5xx lines are kept.

A line logged while an HTTP request is being answered ends with that request's id
(` request_id=<id>`, the `Request-Id` the answer carries), whichever logger wrote it.
"""

from __future__ import annotations

import contextvars
import logging
import os
from typing import Any

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("billy_request_id", default=None)


def bind_request_id(request_id: str | None) -> None:
    """The id of the request this thread now answers (None: no request)."""
    _request_id.set(request_id)


def current_request_id() -> str | None:
    return _request_id.get()


class RequestIdFormatter(logging.Formatter):
    """The plain format, with ` request_id=<id>` after the message while a request is answered."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        line = super().formatMessage(record)
        request_id = getattr(record, "request_id", None) or _request_id.get()
        return f"{line} request_id={request_id}" if request_id else line


def log_level() -> str:
    """billy's own level, from BILLY_LOG_LEVEL."""
    level = os.environ.get("BILLY_LOG_LEVEL", "").strip().upper() or "INFO"
    if not isinstance(logging.getLevelName(level), int):
        raise ValueError(f"BILLY_LOG_LEVEL={level!r} is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
    return level


def library_level() -> str:
    """The libraries' level: WARNING, or billy's when that is higher; DEBUG shows everything."""
    level = log_level()
    return level if level == "DEBUG" else _higher(level, "WARNING")


def logging_config() -> dict[str, Any]:
    """The `logging.config.dictConfig` of every billy process (Django's LOGGING too)."""
    level = log_level()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"()": RequestIdFormatter, "format": FORMAT}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
        "root": {"handlers": ["console"], "level": library_level()},
        "loggers": {
            "billy": {"level": level},
            "django.request": {"level": level if level == "DEBUG" else _higher(level, "ERROR")},
        },
    }


def _higher(a: str, b: str) -> str:
    return max(a, b, key=logging.getLevelName)
