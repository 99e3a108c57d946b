"""How the `billy` command reports what a person can act on: one line, billy's error code, exit 1.

A user's mistake or a missing precondition (an unknown workspace, a taken port, a database that does
not answer) is `billy: <code>: <sentence>` on stderr, never a Python dict or a traceback; the codes
are the API's own (`billy.core.errors`) plus the command line's `CommandError`s. Anything else is a
bug, and its traceback is what a person needs.
"""

from __future__ import annotations

import os

import psycopg

from billy.core.database import is_connection_failure
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
    if is_connection_failure(error):
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return "unavailable", f"billy's database{_database_address()} does not answer: {first_line.rstrip('.')}."
    return None


def _sentence(message: str, details: dict) -> str:
    """The message, with what each invalid field says (a validation error's details), as one line."""
    fields = details.get("fields") if isinstance(details, dict) else None
    text = message.rstrip(".")
    if isinstance(fields, dict) and fields:
        text += ": " + "; ".join(f"{name}: {' '.join(map(str, problems))}" for name, problems in fields.items())
    return " ".join(text.split()).rstrip(".") + "."


def _database_address() -> str:
    """ " at host:port" of the database a command used (DATABASE_URL's), or "" when unknown."""
    url = os.environ.get("DATABASE_URL", "")
    try:
        info = psycopg.conninfo.conninfo_to_dict(url) if url else {}
    except psycopg.ProgrammingError:
        return ""
    return f" at {info.get('host') or 'localhost'}:{info.get('port') or 5432}" if info else ""
