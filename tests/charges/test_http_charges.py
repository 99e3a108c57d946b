"""Charges, holds, refunds, wallets and adjustments over HTTP."""

import pytest

from billy.charges.models import Charge
from billy.events.models import Event
from billy.ledger.models import Entry, LedgerTransaction
from tests.charges.conftest import fund
from tests.conftest import read_feed_until

CHARGES = "/clients/client-1/charges"


def charge_body(**overrides):
    return {"charge_id": "ch-1", "product": "placement", "amount": "30.00", **overrides}


def error_code(response):
    return response.json()["error"]["code"]


def test_charge_completes_and_moves_money(api, client_a):
    fund(client_a, 100_00)

    response = api.post(CHARGES, charge_body())

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["amount"], body["captured_amount"], body["currency"]) == (
        "COMPLETED",
        "30.00",
        "30.00",
        "RUB",
    )
    assert api.get("/clients/client-1/wallet").json() == {
        "currency": "RUB",
        "balance": "70.00",
        "held": "0.00",
        "available": "70.00",
        "credit_limit": "0.00",
        "credit_used": "0.00",
        "credit_available": "0.00",
    }


def test_same_charge_id_same_body_is_200_other_body_is_409(api, client_a):
    fund(client_a, 100_00)
    api.post(CHARGES, charge_body())

    again = api.post(CHARGES, charge_body())
    other = api.post(CHARGES, charge_body(amount="31.00"))

    assert again.status_code == 200
    assert (other.status_code, error_code(other)) == (409, "idempotency_conflict")
    assert api.get("/clients/client-1/wallet").json()["balance"] == "70.00"


def test_insufficient_funds_is_422_and_writes_nothing(api, client_a):
    fund(client_a, 10_00)
    counts = (Charge.objects.count(), LedgerTransaction.objects.count(), Event.objects.count())

    response = api.post(CHARGES, charge_body())

    assert (response.status_code, error_code(response)) == (422, "insufficient_funds")
    assert (Charge.objects.count(), LedgerTransaction.objects.count(), Event.objects.count()) == counts


def test_hold_confirm_for_less_releases_the_rest(api, client_a):
    fund(client_a, 100_00)
    held = api.post(CHARGES, charge_body(hold=True))
    assert held.json()["status"] == "HELD"
    assert api.get("/clients/client-1/wallet").json()["available"] == "70.00"

    confirmed = api.post("/charges/ch-1/confirm", {"amount": "20.00"})

    assert (confirmed.status_code, confirmed.json()["status"], confirmed.json()["captured_amount"]) == (
        200,
        "COMPLETED",
        "20.00",
    )
    wallet = api.get("/clients/client-1/wallet").json()
    assert (wallet["balance"], wallet["held"], wallet["available"]) == ("80.00", "0.00", "80.00")
    assert api.post("/charges/ch-1/confirm", {"amount": "20.00"}).status_code == 200
    assert error_code(api.post("/charges/ch-1/confirm", {"amount": "10.00"})) == "invalid_state"
    assert error_code(api.post("/charges/ch-1/cancel")) == "invalid_state"


def test_cancel_releases_and_repeats(api, client_a):
    fund(client_a, 100_00)
    api.post(CHARGES, charge_body(hold=True))

    assert api.post("/charges/ch-1/cancel").json()["status"] == "CANCELLED"
    assert api.post("/charges/ch-1/cancel").status_code == 200
    assert api.get("/clients/client-1/wallet").json()["available"] == "100.00"
    assert error_code(api.post("/charges/ch-1/confirm")) == "invalid_state"


def test_refunds_never_exceed_the_charge(api, client_a):
    fund(client_a, 100_00)
    api.post(CHARGES, charge_body())

    first = api.post("/charges/ch-1/refunds", {"refund_id": "r-1", "amount": "10.00", "reason": "bad"})
    too_much = api.post("/charges/ch-1/refunds", {"refund_id": "r-2", "amount": "25.00"})
    rest = api.post("/charges/ch-1/refunds", {"refund_id": "r-3"})
    repeat = api.post("/charges/ch-1/refunds", {"refund_id": "r-1", "amount": "10.00", "reason": "bad"})
    conflict = api.post("/charges/ch-1/refunds", {"refund_id": "r-1", "amount": "11.00", "reason": "bad"})
    nothing_left = api.post("/charges/ch-1/refunds", {"refund_id": "r-4"})

    assert first.status_code == 201
    assert (too_much.status_code, error_code(too_much)) == (422, "refund_exceeds_charge")
    assert (rest.status_code, rest.json()["amount"]) == (201, "20.00")
    assert repeat.status_code == 200
    assert error_code(conflict) == "idempotency_conflict"
    assert error_code(nothing_left) == "refund_exceeds_charge"
    charge = api.get("/charges/ch-1").json()
    assert (charge["refunded_amount"], len(charge["refunds"])) == ("30.00", 2)
    assert api.get("/clients/client-1/wallet").json()["balance"] == "100.00"


def test_refund_of_a_hold_is_invalid_state(api, client_a):
    fund(client_a, 100_00)
    api.post(CHARGES, charge_body(hold=True))
    assert error_code(api.post("/charges/ch-1/refunds", {"refund_id": "r-1"})) == "invalid_state"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (charge_body(amount="0.00"), "amount"),
        (charge_body(amount="-1.00"), "amount"),
        (charge_body(amount="1.001"), "amount"),
        (charge_body(amount="1e3"), "amount"),
        (charge_body(amount=30), "amount"),
        (charge_body(amount=30.5), "amount"),
        (charge_body(charge_id=""), "charge_id"),
        (charge_body(charge_id="x" * 129), "charge_id"),
        (charge_body(product="p" * 129), "product"),
        (charge_body(description="d" * 513), "description"),
        (charge_body(hold_ttl_seconds=3600), "hold_ttl_seconds"),
        (charge_body(hold=True, hold_ttl_seconds=1), "hold_ttl_seconds"),
    ],
)
def test_bad_charge_input_is_422_with_the_field_and_writes_nothing(api, client_a, body, field):
    fund(client_a, 100_00)
    entries = Entry.objects.count()

    response = api.post(CHARGES, body)

    assert (response.status_code, error_code(response)) == (422, "validation_failed"), response.content
    assert field in response.json()["error"]["details"]["fields"]
    assert (Charge.objects.count(), Entry.objects.count()) == (0, entries)


def test_wrong_currency_is_422(api, client_a):
    fund(client_a, 100_00)
    response = api.post(CHARGES, charge_body(currency="USD"))
    assert (response.status_code, error_code(response)) == (422, "currency_mismatch")


def test_unknown_client_and_charge_are_404(api, client_a):
    assert error_code(api.post("/clients/nobody/charges", charge_body())) == "client_not_found"
    assert error_code(api.get("/charges/none")) == "charge_not_found"
    assert error_code(api.post("/charges/none/confirm")) == "charge_not_found"


def test_malformed_json_is_400(api, client_a):
    response = api.post(CHARGES, b"{nope")
    assert (response.status_code, error_code(response)) == (400, "bad_request")


def test_adjustments_need_an_operator_key(api, operator_api, client_a):
    body = {"adjustment_id": "adj-1", "amount": "50.00", "reason": "goodwill"}

    denied = api.post("/clients/client-1/wallet/adjustments", body)
    created = operator_api.post("/clients/client-1/wallet/adjustments", body)
    repeat = operator_api.post("/clients/client-1/wallet/adjustments", body)
    conflict = operator_api.post("/clients/client-1/wallet/adjustments", {**body, "amount": "60.00"})
    below_zero = operator_api.post(
        "/clients/client-1/wallet/adjustments", {"adjustment_id": "adj-2", "amount": "-60.00", "reason": "oops"}
    )
    down = operator_api.post(
        "/clients/client-1/wallet/adjustments", {"adjustment_id": "adj-3", "amount": "-20.00", "reason": "oops"}
    )

    assert (denied.status_code, error_code(denied)) == (403, "forbidden")
    assert (created.status_code, created.json()["wallet"]["balance"]) == (201, "50.00")
    assert repeat.status_code == 200
    assert error_code(conflict) == "idempotency_conflict"
    assert error_code(below_zero) == "insufficient_funds"
    assert (down.status_code, down.json()["wallet"]["balance"]) == (201, "30.00")


def test_lists_page_with_cursors(api, client_a):
    fund(client_a, 100_00)
    for i in range(5):
        api.post(CHARGES, charge_body(charge_id=f"ch-{i}", amount="1.00", product="a" if i % 2 else "b"))

    first = api.get(CHARGES + "?limit=2").json()
    second = api.get(CHARGES + f"?limit=2&cursor={first['next_cursor']}").json()
    only_a = api.get(CHARGES + "?product=a").json()

    assert [c["charge_id"] for c in first["charges"]] == ["ch-4", "ch-3"]
    assert [c["charge_id"] for c in second["charges"]] == ["ch-2", "ch-1"]
    assert [c["charge_id"] for c in only_a["charges"]] == ["ch-3", "ch-1"]
    history = api.get("/clients/client-1/wallet/transactions?limit=10").json()
    assert [t["amount"] for t in history["transactions"]] == ["-1.00"] * 5 + ["100.00"]
    assert error_code(api.get(CHARGES + "?cursor=garbage")) == "validation_failed"
    assert error_code(api.get(CHARGES + "?limit=0")) == "validation_failed"


def test_event_feed_lists_money_movements(api, client_a):
    fund(client_a, 100_00)
    api.post(CHARGES, charge_body())
    api.post(CHARGES, charge_body(charge_id="ch-2", hold=True))
    api.post("/charges/ch-2/cancel")
    api.post("/charges/ch-1/refunds", {"refund_id": "r-1"})
    read_feed_until(client_a.workspace_id, after=None, count=5)  # all five handed out from now on

    page = api.get("/events?limit=3").json()
    rest = api.get(f"/events?after={page['next_cursor']}").json()
    empty = api.get(f"/events?after={rest['next_cursor']}").json()

    types = [e["type"] for e in page["events"] + rest["events"]]
    assert types == ["wallet.adjusted", "charge.completed", "charge.held", "charge.cancelled", "charge.refunded"]
    completed = page["events"][1]
    assert {k: completed[k] for k in ("charge_id", "client", "product", "amount", "currency")} == {
        "charge_id": "ch-1",
        "client": "client-1",
        "product": "placement",
        "amount": "30.00",
        "currency": "RUB",
    }
    assert (empty["events"], empty["next_cursor"]) == ([], rest["next_cursor"])


@pytest.mark.parametrize("action", ["/confirm", "/cancel", "/refunds"])
def test_impossible_charge_ids_in_the_path_are_404(api, client_a, action):
    body = {"refund_id": "r"} if action == "/refunds" else {}
    response = api.post(f"/charges/a%00b{action}", body)
    assert (response.status_code, error_code(response)) == (404, "charge_not_found")


def test_confirming_an_expired_hold_is_refused_and_releases_it(api, client_a):
    fund(client_a, 100_00)
    from billy.charges import operations
    from billy.workspaces.models import Workspace
    from tests.conftest import NOW

    api.post(CHARGES, charge_body(hold=True, hold_ttl_seconds=60))
    workspace = Workspace.objects.get(name="c2b")
    charge = Charge.objects.get()
    late = charge.hold_expires_at + __import__("datetime").timedelta(seconds=1)

    with pytest.raises(operations.InvalidState):
        operations.confirm_charge(workspace=workspace, charge_id="ch-1", amount=None, now=late)

    charge.refresh_from_db()
    assert (charge.status, charge.cancel_reason) == ("CANCELLED", "EXPIRED")
    assert api.get("/clients/client-1/wallet").json()["available"] == "100.00"
    assert NOW < late


def test_amounts_beyond_a_trillion_are_refused(api, client_a):
    response = api.post(CHARGES, charge_body(amount="1000000000000.00"))
    assert (response.status_code, error_code(response)) == (422, "validation_failed")


def test_a_refunds_event_carries_the_refunds_amount(api, client_a):
    fund(client_a, 100_00)
    api.post(CHARGES, charge_body())
    api.post("/charges/ch-1/refunds", {"refund_id": "r-1", "amount": "10.00"})
    api.post("/charges/ch-1/refunds", {"refund_id": "r-2"})
    events, _ = read_feed_until(client_a.workspace_id, after=None, count=4)

    refunds = [e for e in events if e.type == "charge.refunded"]

    assert [(e.version, e.data["refund_id"], e.data["amount"]) for e in refunds] == [
        (2, "r-1", "10.00"),
        (2, "r-2", "20.00"),
    ]
