"""How the `billy` command reports what a person can act on: one line, billy's error code, exit 1.

A user's mistake or a missing precondition (an unknown workspace, a taken port, a database that does
not answer) is `billy: <code>: <sentence>` on stderr, never a Python dict or a traceback; the codes
are the API's own (`billy.core.errors`) plus the command line's `CommandError`s. Anything else is a
bug, and its traceback is what a person needs.
"""

from __future__ import annotations

import sys

from billy.core.embedded_pg import EmbeddedPostgresError
from billy.core.errors import BillyError, CommandError


def refusal(error: Exception) -> tuple[str, str] | None:
    """(code, sentence) for an error a person can act on; None for a bug."""
    if isinstance(error, BillyError):
        return error.code, _sentence(error.message, error.details)
    if isinstance(error, CommandError):
        return error.code, error.message
    if isinstance(error, EmbeddedPostgresError):
        return "unavailable", _sentence(f"billy's private PostgreSQL cluster did not start: {error}", {})
    if "django" in sys.modules:  # only a command that reached the database can have lost it
        from billy.core.database import is_connection_failure  # reads Django's settings

        if is_connection_failure(error):
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            where = _database_address()
            return "unavailable", f"billy's database{where} does not answer: {first_line.rstrip('.')}."
    return None


def _sentence(message: str, details: dict) -> str:
    """The message, with what each invalid field says (a validation error's details), as one line."""
    fields = details.get("fields") if isinstance(details, dict) else None
    text = message.rstrip(".")
    if isinstance(fields, dict) and fields:
        text += ": " + "; ".join(f"{name}: {' '.join(map(str, problems))}" for name, problems in fields.items())
    return " ".join(text.split()).rstrip(".") + "."


def _database_address() -> str:
    from django.db import connection

    settings = connection.settings_dict
    return f" at {settings.get('HOST') or 'localhost'}:{settings.get('PORT') or 5432}" if settings.get("NAME") else ""
