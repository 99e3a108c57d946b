"""Strict JSON at the door: what a request body and a query string must be before a view sees them.

- A body is JSON sent as `Content-Type: application/json` (a `charset`, if any, is `utf-8`): else 415.
  The one exception is Balance's payment notification, an XML-RPC call (`text/xml`), which
  billy must take as Balance sends it (`XML_RPC_PATH`).
- It parses as one JSON document of UTF-8 with no duplicate keys and no NaN or Infinity: else 400
  (`json.loads` would keep the last of two keys, and a consumer meant one of them).
- Input schemas are strict: no coercion of `"true"` or `1` to a bool, of `"60"` to an int (422).
- A query parameter (name or value) holds no control characters: else 422 (PostgreSQL refuses NUL).
- Bodies over DATA_UPLOAD_MAX_MEMORY_SIZE are 413 (Django raises, the error table answers).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any, Literal

from django.http import HttpRequest
from ninja.parser import Parser
from pydantic import BaseModel, ConfigDict

from billy.core.errors import BillyError, ValidationFailed
from billy.core.validation import is_printable_text

JSON_MEDIA_TYPE = "application/json"
XML_MEDIA_TYPES = ("text/xml", "application/xml")
# Balance's NotifyOrder callback (see api.http.callbacks): its body is XML-RPC.
XML_RPC_PATH = re.compile(r"^/api/v1/workspaces/[^/]+/balance/notifications/[^/]+$")


class MalformedBody(BillyError):
    code = "bad_request"
    default_message = "The request body is not one JSON document."


class UnsupportedMediaType(BillyError):
    code = "unsupported_media_type"
    default_message = "A request body must be JSON, sent as Content-Type: application/json."


class StrictSchema(BaseModel):
    """An input schema: JSON types as they are, never coerced. A plain pydantic model (not ninja's
    Schema, which wraps every object it validates in a Python getter for reading ORM objects): a
    body is JSON, and a batch's 1,000 items validate in pydantic's core alone."""

    model_config = ConfigDict(strict=True, from_attributes=True)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise MalformedBody(f"The key {key!r} appears twice in one object.", details={"key": key})
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise MalformedBody(f"{name} is not JSON.")


def parse_json(body: bytes) -> Any:
    """The one JSON document in `body`; MalformedBody for anything else."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise MalformedBody("The request body is not UTF-8.") from e
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except json.JSONDecodeError as e:
        raise MalformedBody(f"The request body is not JSON: {e.msg} at line {e.lineno} column {e.colno}.") from e


class StrictJsonParser(Parser):
    """ninja's body parser. ninja turns any error here into a 400 whose cause is ours."""

    def parse_body(self, request: HttpRequest) -> Any:
        return parse_json(request.body)


def check_media_type(request: HttpRequest) -> None:
    """A request that carries a body says it is JSON (UTF-8); UnsupportedMediaType otherwise."""
    try:
        has_body = int(request.META.get("CONTENT_LENGTH") or 0) > 0
    except ValueError:
        has_body = True  # a server would have refused it; say what a body must be
    if not has_body:
        return
    charset = request.content_params.get("charset", "utf-8").lower()
    if XML_RPC_PATH.match(request.path) and request.content_type.lower() in XML_MEDIA_TYPES:
        return
    if request.content_type.lower() != JSON_MEDIA_TYPE or charset not in ("utf-8", "utf8"):
        given = request.META.get("CONTENT_TYPE") or "none"
        raise UnsupportedMediaType(details={"content_type": given[:100]})


def one_of(choices: type) -> Any:
    """The type of a field that takes exactly the values of a model's TextChoices (UPPER_SNAKE): any
    other value or case is 422 naming the allowed ones. Declared inline in the OpenAPI document, so
    two choices both called `Status` never share one schema there."""
    return Literal[tuple(choices.values)]


def utc_filter(field: str, value: dt.datetime | None) -> dt.datetime | None:
    """A time a query filters by, in UTC (naive means UTC); ValidationFailed when it cannot be one."""
    if value is None:
        return None
    try:
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    except (OverflowError, ValueError) as e:
        raise ValidationFailed({field: ["Not a time billy can place in UTC."]}) from e


def check_query(request: HttpRequest) -> None:
    """Every query parameter's name and value is printable text; ValidationFailed naming them otherwise."""
    fields: dict[str, list[str]] = {}
    for name, values in request.GET.lists():
        if not is_printable_text(name) or not all(is_printable_text(v) for v in values):
            fields.setdefault(name if is_printable_text(name) else repr(name)[1:-1][:64], []).append(
                "Control characters are not allowed."
            )
    if fields:
        raise ValidationFailed(fields)
