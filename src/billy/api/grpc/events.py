"""billy.v1.EventService: the event feed, the same cursor pages as HTTP's."""

from __future__ import annotations

from google.protobuf.struct_pb2 import Struct

from billy.events import queries
from billy.v1 import events_pb2, events_pb2_grpc
from billy.workspaces.queries import get_workspace_for

from .clients import timestamp
from .interceptor import current_principal

DEFAULT_LIMIT = 100  # as HTTP's


def event_message(event: queries.FeedEvent) -> events_pb2.Event:
    data = Struct()
    data.update(event.data)  # strings and booleans only (amounts are decimal strings), so nothing is rounded
    return events_pb2.Event(
        id=event.id, type=event.type, version=event.version, created_at=timestamp(event.created_at), data=data
    )


class EventServicer(events_pb2_grpc.EventServiceServicer):
    def ListEvents(self, request, context):  # noqa: N802
        workspace = get_workspace_for(current_principal(), request.workspace)
        page = queries.read_feed(
            workspace_id=workspace.pk, after=request.after or None, limit=request.limit or DEFAULT_LIMIT
        )
        return events_pb2.ListEventsResponse(
            events=[event_message(e) for e in page.events], next_cursor=page.next_cursor
        )
