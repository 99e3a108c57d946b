"""The OpenAPI documents billy serves, finished from what ninja derives from the views.

ninja writes each operation's parameters, body and success answers. This adds what a generated
client needs and ninja cannot see:

- `operationId` is the view's own name (`create_charge`, `list_client_charges`): views are named
  verb first, resource after, and the names are unique.
- every error an operation can answer, by status, each status listing its codes (those every
  operation can answer, those of its input, of its `Idempotency-Key`, and those the view declares
  with `@raises`), all with the one error envelope whose `code` is an enum of the error table;
- the headers: `Idempotency-Key` on every mutating call, `Request-Id` on every answer, `Retry-After`
  on the answers that carry it (a caller's own `Request-Id` is taken on any request, as the API's
  description says: not a parameter of every generated call);
- the event feed typed from the event registry: one schema per event type, a discriminator on
  `type`, and the signed webhook delivery (OpenAPI 3.1 `webhooks`);
- the callbacks other systems make to billy (tag `callbacks`: the card provider's notifications)
  are left out of the product document and served in their own (`/api/v1/callbacks/openapi.json`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

from ninja import NinjaAPI

from billy.core.errors import ERROR_CODES
from billy.core.timestamps import TIMESTAMP_PATTERN
from billy.events.registry import EVENT_TYPES, RETIRED_EVENT_TYPES, EventType

from .errors import ErrorOut
from .keys import IDEMPOTENCY_KEY
from .middleware import REQUEST_ID_HEADER

CALLBACKS_TAG = "callbacks"
MUTATING = frozenset({"post", "put", "patch", "delete"})

# Every operation can answer these: an API key missing or unknown, a workspace it is not granted, a
# query parameter with control characters or a body that is not JSON (checked before any view,
# whether the operation reads a body or not), the database down, a bug.
COMMON_CODES = (
    "unauthenticated",
    "workspace_not_found",
    "validation_failed",
    "unsupported_media_type",
    "unavailable",
    "internal_error",
)
# An operation that takes a body: what reading it can refuse (see `strict`).
BODY_CODES = ("bad_request", "payload_too_large")
# An operation that honours Idempotency-Key (every mutating one but the callbacks).
KEY_CODES = ("idempotency_conflict", "in_progress")
# The codes whose answer carries Retry-After.
RETRY_AFTER_CODES = frozenset(code for code, spec in ERROR_CODES.items() if spec.retry_after)


def raises(*codes: str) -> Callable:
    """Declare the error codes a view answers beyond those every operation of its kind can."""
    unknown = [c for c in codes if c not in ERROR_CODES]
    if unknown:
        raise ValueError(f"not in the error table: {unknown}")

    def mark(view: Callable) -> Callable:
        view.billy_error_codes = codes
        return view

    return mark


def requires_idempotency_key(view: Callable) -> Callable:
    """Declare that the view refuses a call without an Idempotency-Key (it creates something the caller
    does not name): the header is `required` in the document."""
    view.billy_key_required = True
    return view


def codes_of(view: Callable, method: str, *, has_body: bool, authenticated: bool) -> list[str]:
    """Every error code the operation can answer."""
    codes = [c for c in COMMON_CODES if authenticated or c not in ("unauthenticated", "workspace_not_found")]
    if has_body:
        codes += BODY_CODES
    if authenticated and method in MUTATING:
        codes += KEY_CODES
    codes += getattr(view, "billy_error_codes", ())
    return list(dict.fromkeys(codes))


# -- schemas -----------------------------------------------------------------------------------


def error_schemas() -> dict[str, Any]:
    """ErrorOut and what it holds, as components (the one definition: api/http/errors.py)."""
    schema = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    return {**schema.pop("$defs"), "ErrorOut": schema}


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace(".", "_").split("_"))


def event_schema_name(name: str) -> str:
    return _camel(name) + "Event"


def _versions(name: str) -> list[EventType]:
    return [t for t in RETIRED_EVENT_TYPES if t.name == name] + [EVENT_TYPES[name]]


def _portable(spec: dict[str, Any]) -> dict[str, Any]:
    """A property of an event's schema as any JSON Schema tool reads it: the registry's patterns end in
    Python's `\\Z` (no newline may follow), which other regex dialects do not know; `$` says it there."""
    spec = copy.deepcopy(spec)
    if isinstance(spec.get("pattern"), str) and spec["pattern"].endswith("\\Z"):
        spec["pattern"] = spec["pattern"][:-2] + "$"
    return spec


def _merged(versions: list[EventType], field: str) -> dict[str, Any]:
    """A field as every version that has it writes it: the constraints they share; the current
    version's description, with an earlier version's own wording after it where it differs."""
    specs = [_portable(v.schema["properties"][field]) for v in versions]
    merged = {k: v for k, v in specs[-1].items() if k != "description" and all(s.get(k) == v for s in specs)}
    description = specs[-1].get("description", "")
    for version, spec in zip(versions[:-1], specs[:-1], strict=True):
        if spec.get("description") and spec.get("description") != description:
            description += f" (Version {version.version}: {spec['description']})"
    return {**merged, "description": description} if description else merged


def event_schemas() -> dict[str, Any]:
    """One schema per event type as the feed hands it out: the envelope (`id`, `type`, `version`,
    `created_at`) beside its facts. A type with retired versions takes the fields of every version,
    each with the constraints all versions that have it share (required: the fields every version
    has), since the feed still holds events of the older ones."""
    schemas: dict[str, Any] = {}
    for name, current in EVENT_TYPES.items():
        versions = _versions(name)
        properties = {
            field: _merged([v for v in versions if field in v.schema["properties"]], field)
            for field in dict.fromkeys(f for v in versions for f in v.schema["properties"])
        }
        required = set.intersection(*(set(v.required) for v in versions))
        schemas[event_schema_name(name)] = {
            "type": "object",
            "title": event_schema_name(name),
            "description": current.summary
            + (
                f" Versions {', '.join(str(v.version) for v in versions)}; producers write {current.version}."
                if len(versions) > 1
                else ""
            ),
            "properties": {
                "id": {"type": "integer", "description": "The event's id: deduplicate by it."},
                "type": {"type": "string", "const": name},
                "version": {"type": "integer", "enum": [v.version for v in versions]},
                "created_at": {
                    "type": "string",
                    "format": "date-time",
                    "pattern": TIMESTAMP_PATTERN,
                    "description": "When it was written.",
                },
                **properties,
            },
            "required": ["id", "type", "version", "created_at", *sorted(required)],
        }
    schemas["Event"] = {
        "description": "One event of the feed; `type` says which.",
        "oneOf": [{"$ref": f"#/components/schemas/{event_schema_name(n)}"} for n in EVENT_TYPES],
        "discriminator": {
            "propertyName": "type",
            "mapping": {n: f"#/components/schemas/{event_schema_name(n)}" for n in EVENT_TYPES},
        },
    }
    return schemas


def _webhook_delivery() -> dict[str, Any]:
    return {
        "event": {
            "post": {
                "operationId": "receive_event",
                "summary": "An event delivered to your webhook endpoint",
                "description": (
                    "billy POSTs each event of the feed that the endpoint subscribes to, in feed order, one at "
                    "a time, and retries with backoff for 3 days until you answer 2xx. Verify `Billy-Signature` "
                    "before trusting the body; deduplicate by the event's `id`."
                ),
                "parameters": [
                    {
                        "name": "Billy-Signature",
                        "in": "header",
                        "required": True,
                        "description": "`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + '.' + body)>`; during a "
                        "secret rotation's overlap, one v1 per secret.",
                        "schema": {"type": "string"},
                    },
                    {
                        "name": "Billy-Event-Id",
                        "in": "header",
                        "required": False,
                        "description": "The event's id, as in the body.",
                        "schema": {"type": "string"},
                    },
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Event"}}},
                },
                "responses": {"2XX": {"description": "Received; anything else is retried."}},
            }
        }
    }


# -- the documents -----------------------------------------------------------------------------


def _header(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, "schema": schema or {"type": "string"}}


def _error_responses(codes: Iterable[str]) -> dict[str, Any]:
    by_status: dict[int, list[str]] = {}
    for code in codes:
        by_status.setdefault(ERROR_CODES[code].http_status, []).append(code)
    responses = {}
    for status, status_codes in sorted(by_status.items()):
        headers = {REQUEST_ID_HEADER: _header("The request's id, as in the logs.")}
        if RETRY_AFTER_CODES & set(status_codes):
            headers["Retry-After"] = _header(
                "Seconds to wait before trying again (with "
                + ", ".join(f"`{c}`" for c in status_codes if c in RETRY_AFTER_CODES)
                + ").",
                {"type": "integer", "minimum": 0},
            )
        responses[str(status)] = {
            "description": "; ".join(f"`{c}`: {ERROR_CODES[c].description}" for c in status_codes),
            "headers": headers,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
            "x-billy-error-codes": status_codes,
        }
    return responses


def _operations(api: NinjaAPI) -> dict[str, Any]:
    """ninja's operations by their operationId (the view's name)."""
    found = {}
    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                found[operation.view_func.__name__] = operation
    return found


def finish(api: NinjaAPI, schema: dict[str, Any]) -> dict[str, Any]:
    """ninja's document, completed as the module says (both documents start from it)."""
    operations = _operations(api)
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {}).update(error_schemas())
    components["schemas"].update(event_schemas())
    components["schemas"]["EventPage"]["properties"]["events"]["items"] = {"$ref": "#/components/schemas/Event"}
    for path_item in schema["paths"].values():
        for method, spec in path_item.items():
            view = operations[spec["operationId"]].view_func
            authenticated = bool(spec.get("security"))
            has_body = "requestBody" in spec
            parameters = spec.setdefault("parameters", [])
            if authenticated and method in MUTATING:
                parameters.append(
                    {
                        "name": IDEMPOTENCY_KEY,
                        "in": "header",
                        "required": getattr(view, "billy_key_required", False),
                        "description": "Makes a retry safe: the key's first answer is replayed for the same "
                        "request; the key with another request is 409 `idempotency_conflict`. Kept 7 days.",
                        "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                    }
                )
            responses = spec["responses"] = {str(k): v for k, v in spec.get("responses", {}).items()}
            for answer in responses.values():
                answer.setdefault("headers", {})[REQUEST_ID_HEADER] = _header("The request's id, as in the logs.")
            codes = codes_of(view, method, has_body=has_body, authenticated=authenticated)
            responses.update(_error_responses(codes))
    return schema


def _only(schema: dict[str, Any], *, callbacks: bool) -> dict[str, Any]:
    document = copy.deepcopy(schema)
    paths = {}
    for path, path_item in document["paths"].items():
        kept = {m: s for m, s in path_item.items() if (CALLBACKS_TAG in s.get("tags", ())) == callbacks}
        if kept:
            paths[path] = kept
    document["paths"] = paths
    return document


def product_document(api: NinjaAPI, schema: dict[str, Any]) -> dict[str, Any]:
    document = _only(finish(api, schema), callbacks=False)
    document["webhooks"] = _webhook_delivery()
    return document


def callbacks_document(api: NinjaAPI, schema: dict[str, Any]) -> dict[str, Any]:
    document = _only(finish(api, schema), callbacks=True)
    document["info"] = {
        **document["info"],
        "title": "billy callbacks",
        "description": "What other systems call on billy: the card payment provider's notifications. Not "
        "for product teams' clients.",
    }
    for name in list(document["components"]["schemas"]):
        if name == "Event" or name.endswith("Event"):
            del document["components"]["schemas"][name]
    return document
