"""Checks of the API's conventions that tests of any resource share."""

from __future__ import annotations

import re

from billy.core.timestamps import is_timestamp

LOOKS_LIKE_A_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:")


def timestamps_in(value, path="") -> list[tuple[str, object]]:
    """Every (path, value) that is a timestamp field (`at`, `*_at`, a period bound) or a string that
    looks like a time, anywhere in an answer."""
    found = []
    if isinstance(value, dict):
        for name, item in value.items():
            where = f"{path}.{name}"
            if name == "at" or name.endswith("_at") or name in ("period_start", "period_end"):
                found.append((where, item))
            elif not isinstance(item, dict | list):
                found += [(where, item)] if isinstance(item, str) and LOOKS_LIKE_A_TIME.match(item) else []
            if isinstance(item, dict | list):
                found += timestamps_in(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += timestamps_in(item, f"{path}[{index}]")
    return found


def assert_one_timestamp_format(*answers) -> set[str]:
    """Every timestamp in the answers is RFC 3339 UTC with microseconds and Z (or null); returns
    the fields seen, so a test can say which it covered."""
    seen = [(where, value) for answer in answers for where, value in timestamps_in(answer.json())]
    wrong = [(where, value) for where, value in seen if value is not None and not is_timestamp(value)]
    assert wrong == []
    return {re.sub(r"\[\d+\]", "[]", where) for where, value in seen if value is not None}
