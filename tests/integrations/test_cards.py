"""The card payment system adapter against its emulator: cards, payments, keys, faults."""

from __future__ import annotations

import pytest

from billy.integrations.cards.port import CardSystemOutcomeUnknown, CardSystemRejected, CardSystemUnavailable
from tests.conftest import COMMIT_THEN_TIMEOUT_SECONDS


def test_a_users_cards_name_who_pays_for_each(card_system, cards):
    own = cards.bind_card("alice")
    shared = cards.bind_card("alice", payer_uid="bob")

    listed = {c.id: c for c in card_system.list_payment_methods(uid="alice")}

    assert set(listed) == {own, shared}
    assert (listed[own].payer_uid, listed[shared].payer_uid) == ("alice", "bob")
    assert card_system.list_payment_methods(uid="carol") == []


def test_hold_clear_less_and_refund_part(card_system, cards):
    card = cards.bind_card("alice")

    held = card_system.hold(card_id=card, uid="kid", amount=50000, currency="RUB", key="k-hold")
    cleared = card_system.clear(payment_id=held.id, amount=30000, key="k-clear")
    refunded = card_system.refund(payment_id=held.id, amount=10000, key="k-refund")

    assert (held.status, held.amount, held.uid) == ("HELD", 50000, "kid")
    assert (cleared.status, cleared.cleared_amount) == ("CLEARED", 30000)
    assert refunded.refunded_amount == 10000
    assert [r.key for r in refunded.refunds] == ["k-refund"]


def test_a_cancelled_hold_cannot_be_cleared(card_system, cards):
    held = card_system.hold(card_id=cards.bind_card("alice"), uid="kid", amount=100, currency="RUB", key="k1")
    card_system.cancel(payment_id=held.id, key="k2")

    with pytest.raises(CardSystemRejected) as refused:
        card_system.clear(payment_id=held.id, amount=100, key="k3")

    assert refused.value.code == "invalid_state"


def test_the_same_key_returns_the_first_payment_and_holds_once(card_system, cards):
    card = cards.bind_card("alice")

    first = card_system.hold(card_id=card, uid="kid", amount=100, currency="RUB", key="same")
    again = card_system.hold(card_id=card, uid="kid", amount=100, currency="RUB", key="same")

    assert first == again
    assert len(cards.payments(card_id=card)) == 1


def test_the_same_key_with_another_request_is_refused(card_system, cards):
    card = cards.bind_card("alice")
    card_system.hold(card_id=card, uid="kid", amount=100, currency="RUB", key="same")

    with pytest.raises(CardSystemRejected) as refused:
        card_system.hold(card_id=card, uid="kid", amount=200, currency="RUB", key="same")

    assert refused.value.code == "idempotency_conflict"


def test_a_declined_card_and_an_unknown_card_are_refusals(card_system, cards):
    card = cards.bind_card("alice")
    cards.decline(card)

    with pytest.raises(CardSystemRejected) as declined:
        card_system.hold(card_id=card, uid="kid", amount=100, currency="RUB", key="k1")
    with pytest.raises(CardSystemRejected) as unknown:
        card_system.hold(card_id="card-xnope", uid="kid", amount=100, currency="RUB", key="k2")

    assert (declined.value.code, unknown.value.code) == ("declined", "card_not_found")
    assert cards.payments() == []


def test_unavailable_means_nothing_happened(card_system, cards):
    card = cards.bind_card("alice")
    cards.inject("unavailable")

    with pytest.raises(CardSystemUnavailable):
        card_system.hold(card_id=card, uid="kid", amount=100, currency="RUB", key="k1")

    assert card_system.find_payment(key="k1") is None


def test_an_error_is_an_unknown_outcome(card_system, cards):
    cards.inject("error")

    with pytest.raises(CardSystemOutcomeUnknown):
        card_system.hold(card_id=cards.bind_card("alice"), uid="kid", amount=100, currency="RUB", key="k1")


@pytest.mark.slow
def test_a_hold_whose_answer_was_lost_is_found_by_its_key(card_system, cards):
    card = cards.bind_card("alice")
    cards.inject("commit_then_timeout", seconds=COMMIT_THEN_TIMEOUT_SECONDS)

    with pytest.raises(CardSystemOutcomeUnknown):
        card_system.hold(card_id=card, uid="kid", amount=100, currency="RUB", key="lost")

    found = card_system.find_payment(key="lost")
    assert (found.status, found.amount, found.key) == ("HELD", 100, "lost")
