"""How every HTTP answer is written: JSON in UTF-8 (Cyrillic as it is, never `\\u` escapes),
`Content-Type: application/json; charset=utf-8`, timestamps by `billy.core.timestamps`.

ninja's renderer, the error envelope and the answers kept for an Idempotency-Key all go through
`render_json`, so an answer replayed from the store is byte for byte the answer first given.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import orjson
from django.http import HttpResponse
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder

from billy.core.timestamps import format_timestamp

CONTENT_TYPE = "application/json; charset=utf-8"


class BillyJSONEncoder(NinjaJSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, dt.datetime):
            return format_timestamp(o)
        return super().default(o)


_ENCODER = BillyJSONEncoder()
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


def _default(o: Any) -> Any:
    return _ENCODER.default(o)  # timestamps by format_timestamp, the rest as ninja's encoder writes them


def render_json_bytes(data: Any) -> bytes:
    """`data` as JSON in UTF-8: orjson, with the encoder's rules for what JSON has no type for. What
    orjson refuses (an integer past 64 bits, text that is not UTF-8) goes through `json`, which
    takes the first and refuses the second as before."""
    try:
        return orjson.dumps(data, default=_default, option=_ORJSON_OPTIONS)
    except orjson.JSONEncodeError:
        return json.dumps(data, cls=BillyJSONEncoder, ensure_ascii=False).encode()


def render_json(data: Any) -> str:
    return render_json_bytes(data).decode()


def json_data(data: Any) -> Any:
    """`data` as plain JSON values (timestamps rendered): what an answer kept in the database holds."""
    return orjson.loads(render_json_bytes(data))


def json_response(data: Any, *, status: int = 200) -> HttpResponse:
    return HttpResponse(render_json_bytes(data), status=status, content_type=CONTENT_TYPE)


class BillyJsonRenderer(JSONRenderer):
    """ninja's renderer: the same JSON as `render_json`."""

    media_type = "application/json"
    charset = "utf-8"

    def render(self, request, data: Any, *, response_status: int) -> Any:
        return render_json_bytes(data)
