"""The registry of event types: schemas that are valid, payloads built only through it, and the
suite-wide check (tests/conftest.py) that sees every event written."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection
from jsonschema import Draft202012Validator, FormatChecker

from billy.events.registry import EVENT_TYPES, RETIRED_EVENT_TYPES, SCHEMA_DIR, WALLET_ADJUSTED
from tests.charges.conftest import fund, make_client


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_each_type_has_a_valid_schema_named_by_its_version(name):
    event_type = EVENT_TYPES[name]

    Draft202012Validator.check_schema(event_type.schema)
    assert (event_type.schema["title"], event_type.schema_path.name) == (name, f"{name}.v{event_type.version}.json")
    assert event_type.schema["additionalProperties"] is False


def test_every_schema_file_is_registered():
    registered = [*EVENT_TYPES.values(), *RETIRED_EVENT_TYPES]

    assert {p.name for p in SCHEMA_DIR.glob("*.json")} == {t.schema_path.name for t in registered}


@pytest.mark.parametrize("retired", RETIRED_EVENT_TYPES, ids=lambda t: f"{t.name}.v{t.version}")
def test_a_retired_version_is_older_than_its_types_current_one(retired):
    Draft202012Validator.check_schema(retired.schema)
    assert retired.version < EVENT_TYPES[retired.name].version


def test_a_payload_with_an_unknown_or_missing_field_is_refused():
    fields = {
        "adjustment_id": "a",
        "client": "c",
        "amount": "1.00",
        "currency": "RUB",
        "at": "2026-11-23T12:00:00.000000Z",
    }

    with pytest.raises(ValueError, match="unknown"):
        WALLET_ADJUSTED.build(**fields, extra="x")
    with pytest.raises(ValueError, match="missing"):
        WALLET_ADJUSTED.build(**{k: v for k, v in fields.items() if k != "at"})


def test_a_payload_that_breaks_its_schema_is_caught_by_the_validator():
    event = WALLET_ADJUSTED.build(adjustment_id="a", client="c", amount="1", currency="rub", at="yesterday")
    validator = Draft202012Validator(WALLET_ADJUSTED.schema, format_checker=FormatChecker())

    assert sorted(e.path[0] for e in validator.iter_errors(event.data)) == ["amount", "at", "currency"]


def test_the_suite_sees_every_event_written(workspace):
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM test_event_seen WHERE type = 'wallet.adjusted'")
        before = cursor.fetchone()[0]
        fund(make_client(workspace), 100_00)
        cursor.execute("SELECT count(*) FROM test_event_seen WHERE type = 'wallet.adjusted'")

        assert cursor.fetchone()[0] == before + 1


def test_the_readme_lists_every_type_with_its_version():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()

    assert [n for n, t in sorted(EVENT_TYPES.items()) if f"| `{n}` | {t.version} |" not in readme] == []
