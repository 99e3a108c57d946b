"""How every HTTP answer is written: JSON in UTF-8 (Cyrillic as it is, never `\\u` escapes),
`Content-Type: application/json; charset=utf-8`, timestamps by `billy.core.timestamps`.

ninja's renderer, the error envelope and the answers kept for an Idempotency-Key all go through
`render_json`, so an answer replayed from the store is byte for byte the answer first given.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

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


def render_json(data: Any) -> str:
    return json.dumps(data, cls=BillyJSONEncoder, ensure_ascii=False)


def json_data(data: Any) -> Any:
    """`data` as plain JSON values (timestamps rendered): what an answer kept in the database holds."""
    return json.loads(render_json(data))


def json_response(data: Any, *, status: int = 200) -> HttpResponse:
    return HttpResponse(render_json(data).encode(), status=status, content_type=CONTENT_TYPE)


class BillyJsonRenderer(JSONRenderer):
    """ninja's renderer: the same JSON as `render_json`."""

    media_type = "application/json"
    charset = "utf-8"

    def render(self, request, data: Any, *, response_status: int) -> Any:
        return render_json(data)
