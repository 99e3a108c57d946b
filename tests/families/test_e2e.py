"""Family accounts over real sockets: `billy serve` (two processes) and `billy worker` on the test
database, the card payment system emulator, PostgreSQL. The acceptance flow, and 32 concurrent
spendings that must stop exactly at the member's limit."""

from __future__ import annotations

import concurrent.futures

import pytest

from billy.core.money import parse_amount

pytestmark = pytest.mark.slow

OWNER, KID, PARTNER = "owner-1", "kid-1", "partner-1"


def _family(stack, cards) -> tuple[str, str]:
    api = stack.api
    family = api.post("/families", json={"owner": OWNER, "name": "Ивановы"}, headers={"Idempotency-Key": "f-1"})
    assert family.status_code == 201, family.text
    family_id = family.json()["id"]
    for user_id, limit in ((KID, "1000.00"), (PARTNER, None)):
        body = {"acting_user_id": OWNER, "user_id": user_id, "phone": "+79990000001"}
        body |= {"limit": limit} if limit else {}
        assert api.post(f"/families/{family_id}/members", json=body).status_code == 201
    card_id = cards.bind_card(OWNER)
    bound = api.put(f"/families/{family_id}/payment", json={"acting_user_id": OWNER, "payment_method_id": card_id})
    assert bound.status_code == 200, bound.text
    return family_id, card_id


def test_the_family_flow_agrees_with_the_card_system(stack, cards):
    api = stack.api
    family_id, card_id = _family(stack, cards)
    base = f"/families/{family_id}"

    def available(amount: str, user_id: str = KID) -> dict:
        answer = api.post(f"{base}/check-available", json={"user_id": user_id, "amount": amount})
        assert answer.status_code == 200, answer.text
        return answer.json()

    assert available("999.99")["available"] is True
    assert available("1000.01")["available"] is False
    assert available("1000000.00", user_id=PARTNER)["available"] is True

    held = api.post(f"{base}/spendings", json={"spending_id": "ride-1", "user_id": KID, "amount": "700.00"})
    assert (held.status_code, held.json()["status"]) == (201, "HELD"), held.text
    cleared = api.post(f"{base}/spendings/ride-1/clear", json={"amount": "550.00"})
    assert cleared.json()["status"] == "CLEARED", cleared.text
    refund = api.post(f"{base}/spendings/ride-1/refunds", json={"refund_id": "ride-1-back", "amount": "150.00"})
    assert refund.json()["status"] == "SUCCEEDED", refund.text

    [payment] = cards.payments(card_id=card_id)
    card_usage = parse_amount(payment["cleared_amount"]) - sum(parse_amount(r["amount"]) for r in payment["refunds"])
    assert (payment["uid"], card_usage) == (KID, 40000)
    check = available("600.00")
    assert (check["usage"], check["remaining"], check["available"]) == ("400.00", "600.00", True)
    methods = api.get(f"/users/{KID}/payment-methods").json()
    [family_card] = [m for m in methods["payment_methods"] if m["payer_info"]]
    assert (family_card["id"], family_card["payer_info"]["family_info"]["usage"]) == (card_id, "400.00")


def test_32_concurrent_spendings_stop_exactly_at_the_limit(stack, cards):
    family_id, card_id = _family(stack, cards)

    def spend(n: int) -> int:
        body = {"spending_id": f"ride-{n}", "user_id": KID, "amount": "100.00"}
        return stack.api.post(f"/families/{family_id}/spendings", json=body).status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
        statuses = list(pool.map(spend, range(32)))

    assert sorted(statuses) == [201] * 10 + [422] * 22
    assert len(cards.payments(card_id=card_id, status="HELD")) == 10
    check = stack.api.post(f"/families/{family_id}/check-available", json={"user_id": KID, "amount": "0.01"}).json()
    assert (check["usage"], check["available"]) == ("1000.00", False)
