"""Rules every text field shares: no control characters, a maximum length; and the one rule for
an id the consumer chooses for a resource billy keeps (`charge_id`, `refund_id`, `adjustment_id`)."""

from __future__ import annotations

import re
import unicodedata

# An id the consumer names a resource with travels in URL paths: only RFC 3986's unreserved
# characters, so it never needs escaping, and a letter or digit first, so it is never a "." or ".."
# path segment that clients collapse. 128 is what the tables hold.
MAX_ID_LENGTH = 128
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$"
_ID = re.compile(ID_PATTERN)
ID_RULE = f"1 to {MAX_ID_LENGTH} characters: letters A-Z a-z, digits and . _ ~ -, starting with a letter or digit."


def is_printable_text(value: str) -> bool:
    """No control characters, lone surrogates or non-characters (XML and PostgreSQL refuse them)."""
    if value.isprintable():  # has none of them (the usual case, checked in C)
        return True
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


# Stripe's limits for metadata, which consumers already know.
MAX_METADATA_KEYS = 50
MAX_METADATA_KEY_LENGTH = 40
MAX_METADATA_VALUE_LENGTH = 500
METADATA_RULE = (
    f"String keys and values: at most {MAX_METADATA_KEYS} keys, a key 1 to {MAX_METADATA_KEY_LENGTH} "
    f"characters, a value at most {MAX_METADATA_VALUE_LENGTH}; no control characters."
)


def check_metadata(errors: dict[str, list[str]], field: str, value: object) -> None:
    """Add `field`'s problems to `errors` unless it is metadata by METADATA_RULE."""
    if not isinstance(value, dict):
        errors.setdefault(field, []).append(f"An object: {METADATA_RULE}")
        return
    problems = errors.setdefault(field, [])
    if len(value) > MAX_METADATA_KEYS:
        problems.append(f"At most {MAX_METADATA_KEYS} keys; this has {len(value)}.")
    for key, text in value.items():
        if len(problems) >= 5:  # enough to say what is wrong
            break
        if not isinstance(key, str) or not 1 <= len(key) <= MAX_METADATA_KEY_LENGTH or not is_printable_text(key):
            problems.append(f"Key {str(key)[:50]!r}: 1 to {MAX_METADATA_KEY_LENGTH} characters, no control characters.")
        elif not isinstance(text, str) or len(text) > MAX_METADATA_VALUE_LENGTH or not is_printable_text(text):
            problems.append(
                f"Value of {key!r}: a string of at most {MAX_METADATA_VALUE_LENGTH} characters, no control characters."
            )
    if not problems:
        del errors[field]


def check_id(errors: dict[str, list[str]], field: str, value: str | None) -> None:
    """Add `field`'s problem to `errors` unless it is a valid consumer-chosen id (ID_PATTERN)."""
    if not value:
        errors.setdefault(field, []).append("This field is required.")
    elif not isinstance(value, str) or not _ID.fullmatch(value):
        errors.setdefault(field, []).append(f"Not a valid id: {ID_RULE}")
