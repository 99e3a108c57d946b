"""Rules every text field shares: no control characters, a maximum length."""

from __future__ import annotations

import unicodedata


def is_printable_text(value: str) -> bool:
    """No control characters, lone surrogates or non-characters (XML and PostgreSQL refuse them)."""
    return not any(unicodedata.category(c) in ("Cc", "Cs") or c in "\ufffe\uffff" for c in value)


def check_text(
    errors: dict[str, list[str]], field: str, value: str | None, *, max_length: int, required: bool = True
) -> None:
    """Add `field`'s problems to `errors`: missing (when required), control characters, too long."""
    if not value or not value.strip():
        if required:
            errors.setdefault(field, []).append("This field is required.")
        return
    if not is_printable_text(value):
        errors.setdefault(field, []).append("Control characters are not allowed.")
    elif len(value) > max_length:
        errors.setdefault(field, []).append(f"At most {max_length} characters.")
