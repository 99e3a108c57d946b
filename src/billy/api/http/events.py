"""The event feed over HTTP: every event of the workspace in commit order, typed in the OpenAPI
document from the event registry (see `openapi`)."""

from __future__ import annotations

from typing import Any

from ninja import Field, Query, Router, Schema, Status

from billy.events import queries as event_queries
from billy.workspaces.queries import get_workspace_for

router = Router(tags=["events"])


class EventPage(Schema):
    events: list[dict[str, Any]] = Field(
        description="Oldest first. Each is an Event (typed in the OpenAPI document): `type` says which."
    )
    next_cursor: str = Field(description="Where the next read starts; never skips an event.")


@router.get("/workspaces/{workspace}/events", response={200: EventPage}, summary="The event feed")
def list_events(
    request,
    workspace: str,
    after: str | None = Query(None, description="A `next_cursor` from an earlier page; absent: from the start."),
    limit: int = Query(100, ge=1, le=event_queries.MAX_LIMIT),
):
    """Events in commit order after the cursor; `next_cursor` never skips an event. Deduplicate by `id`."""
    ws = get_workspace_for(request.auth, workspace)
    page = event_queries.read_feed(workspace_id=ws.pk, after=after, limit=limit)
    return Status(200, EventPage(events=[e.as_item() for e in page.events], next_cursor=page.next_cursor))
