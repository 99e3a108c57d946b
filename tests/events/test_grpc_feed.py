"""The feed over gRPC is HTTP's feed: for the same cursor, the same events in the same order."""

import datetime as dt

import httpx
from google.protobuf.json_format import MessageToDict

from billy.charges import operations as charge_operations
from billy.v1 import events_pb2, events_pb2_grpc
from tests.charges.conftest import fund
from tests.conftest import NOW, read_feed_until


def _write_events(workspace, client) -> int:
    """Adjustments, charges, holds confirmed and cancelled, refunds: how many events they made."""
    fund(client, 1_000_00, adjustment_id="gift")
    for n in range(3):
        charge_operations.post_charge(
            client=client,
            request=charge_operations.ChargeRequest(charge_id=f"c-{n}", product="p", amount=10_00),
            now=NOW,
        )
    for n in range(2):
        charge_operations.post_charge(
            client=client,
            request=charge_operations.ChargeRequest(charge_id=f"h-{n}", product="p", amount=5_00, hold=True),
            now=NOW,
        )
    charge_operations.confirm_charge(workspace=workspace, charge_id="h-0", amount=None, now=NOW)
    charge_operations.cancel_charge(workspace=workspace, charge_id="h-1", now=NOW)
    charge_operations.refund_charge(
        workspace=workspace, charge_id="c-0", refund_id="r-0", amount=None, reason="", now=NOW
    )
    return 1 + 3 + 2 + 2 + 1


def test_the_feed_over_grpc_is_the_http_feed_page_by_page(live_billy, grpc_channel, workspace, client_a, service_key):
    count = _write_events(workspace, client_a)
    read_feed_until(workspace.pk, after=None, count=count)  # every event visible to both
    feed = events_pb2_grpc.EventServiceStub(grpc_channel)
    headers = {"Authorization": f"Bearer {service_key}"}

    pages = []
    cursor = None
    while True:
        over_http = httpx.get(
            f"{live_billy.url}/api/v1/workspaces/c2b/events",
            params={"limit": 3, **({"after": cursor} if cursor else {})},
            headers=headers,
            timeout=30,
        ).json()
        over_grpc = feed.ListEvents(
            events_pb2.ListEventsRequest(workspace="c2b", after=cursor or "", limit=3),
            metadata=[("authorization", f"Bearer {service_key}")],
            timeout=30,
        )
        http_events = [
            (e.pop("id"), e.pop("type"), e.pop("version"), dt.datetime.fromisoformat(e.pop("created_at")), e)
            for e in over_http["events"]
        ]
        grpc_events = [
            (e.id, e.type, e.version, e.created_at.ToDatetime(tzinfo=dt.UTC), MessageToDict(e.data))
            for e in over_grpc.events
        ]
        assert grpc_events == http_events, f"after {cursor!r}"
        assert over_grpc.next_cursor == over_http["next_cursor"]
        pages.append([t for _, t, *_ in grpc_events])
        if not grpc_events:
            break
        cursor = over_grpc.next_cursor

    assert sum(len(p) for p in pages) == count
    assert pages[0] == ["wallet.adjusted", "charge.completed", "charge.completed"]
    assert pages[-2][-1] == "charge.refunded"
