"""Family accounts over HTTP (Django's test client): the membership rules, limits with revisions,
the family card, payment methods, spendings, Idempotency-Key, and other workspaces' keys."""

from __future__ import annotations

import json

import pytest

from tests.conftest import make_api_key, make_workspace
from tests.families.conftest import OWNER

KID, PARTNER = "kid", "partner"


class Api:
    def __init__(self, http, key, workspace="taxi"):
        self.http, self.key, self.workspace = http, key, workspace

    def call(self, method, path, body=None, *, idempotency_key=None, **query):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {self.key}"}
        if idempotency_key is not None:
            headers["HTTP_IDEMPOTENCY_KEY"] = idempotency_key
        if body is not None:
            headers |= {"data": json.dumps(body), "content_type": "application/json"}
        if query:
            path += "?" + "&".join(f"{k}={v}" for k, v in query.items())
        return getattr(self.http, method)(f"/api/v1/workspaces/{self.workspace}" + path, **headers)


@pytest.fixture
def api(client, taxi_key):
    return Api(client, taxi_key)


def create(api, owner=OWNER, key=None):
    return api.call("post", "/families", {"owner": owner, "name": "Ивановы", "color": "#FFCC00"}, idempotency_key=key)


def add(api, family_id, user_id, limit=None, acting=OWNER):
    body = {"acting_user_id": acting, "user_id": user_id, "phone": "+79990000001"}
    if limit is not None:
        body["limit"] = limit
    return api.call("post", f"/families/{family_id}/members", body)


@pytest.fixture
def family(api):
    family_id = create(api).json()["id"]
    add(api, family_id, KID, "1000.00")
    add(api, family_id, PARTNER)
    return family_id


@pytest.fixture
def with_card(api, family, cards):
    card_id = cards.bind_card(OWNER)
    answer = api.call("put", f"/families/{family}/payment", {"acting_user_id": OWNER, "payment_method_id": card_id})
    assert answer.status_code == 200, answer.content
    return card_id


def test_create_answers_the_family_with_its_owner(api):
    answer = create(api)

    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["id"].startswith("family-")
    assert body["owner"] == OWNER
    assert body["members"] == [
        {
            "user_id": OWNER,
            "phone": "",
            "role": "OWNER",
            "limit": {"unlimited": True, "amount": None, "frame": "MONTH"},
            "read_only": False,
        }
    ]
    assert body["details"] == {"name": "Ивановы", "color": "#FFCC00", "passport_account": False}
    assert body["payment"] == {"payment_methods": [], "main_payment_method_id": None}
    assert (body["revision"], body["has_specific_limit"], body["is_active"]) == (1, False, True)


def test_create_with_an_idempotency_key_replays_the_first_answer(api):
    first = create(api, key="fam-1")
    again = create(api, key="fam-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["id"] == again.json()["id"]


def test_members_have_their_limits_and_the_family_says_it_has_one(api, family):
    body = api.call("get", f"/families/{family}").json()

    assert [(m["user_id"], m["role"], m["limit"]["amount"]) for m in body["members"]] == [
        (OWNER, "OWNER", None),
        (KID, "MEMBER", "1000.00"),
        (PARTNER, "MEMBER", None),
    ]
    assert (body["has_specific_limit"], body["revision"]) == (True, 3)


def test_a_user_is_in_one_family_only(api, family):
    assert create(api, owner=KID).json()["error"]["code"] == "already_in_family"
    other = create(api, owner="other-owner").json()["id"]
    answer = add(api, other, KID, acting="other-owner")

    assert (answer.status_code, answer.json()["error"]["code"]) == (409, "already_in_family")


def test_a_family_holds_at_most_the_configured_number_of_members(api, settings):
    settings.BILLY_FAMILY_MAX_MEMBERS = 3
    family_id = create(api).json()["id"]
    add(api, family_id, "m1")
    add(api, family_id, "m2")

    answer = add(api, family_id, "m3")

    assert (answer.status_code, answer.json()["error"]["code"]) == (422, "family_full")


def test_only_the_owner_adds_removes_sets_limits_and_deletes(api, family):
    revision = api.call("get", f"/families/{family}").json()["revision"]
    answers = [
        add(api, family, "someone", acting=KID),
        api.call("delete", f"/families/{family}/members/{PARTNER}", acting_user_id=KID),
        api.call(
            "put",
            f"/families/{family}/members/{KID}/limit",
            {"acting_user_id": KID, "unlimited": True, "revision": revision},
        ),
        api.call("delete", f"/families/{family}", acting_user_id=KID),
    ]

    assert [(a.status_code, a.json()["error"]["code"]) for a in answers] == [(403, "not_owner")] * 4


def test_the_owner_removes_a_member(api, family):
    answer = api.call("delete", f"/families/{family}/members/{PARTNER}", acting_user_id=OWNER)

    assert answer.status_code == 200, answer.content
    assert [m["user_id"] for m in answer.json()["members"]] == [OWNER, KID]


def test_a_member_leaves_and_may_then_join_another_family(api, family):
    answer = api.call("post", f"/families/{family}/leave", {"user_id": KID})
    other = create(api, owner="other-owner").json()["id"]

    assert answer.status_code == 200, answer.content
    assert KID not in [m["user_id"] for m in answer.json()["members"]]
    assert add(api, other, KID, acting="other-owner").status_code == 201


def test_the_owner_cannot_leave(api, family):
    answer = api.call("post", f"/families/{family}/leave", {"user_id": OWNER})

    assert (answer.status_code, answer.json()["error"]["code"]) == (404, "member_not_found")


def test_deleting_the_family_frees_its_members(api, family):
    answer = api.call("delete", f"/families/{family}", acting_user_id=OWNER)

    assert answer.status_code == 200, answer.content
    assert (answer.json()["is_active"], answer.json()["members"]) == (False, [])
    assert api.call("get", f"/families/{family}").json()["error"]["code"] == "family_not_found"
    assert create(api, owner=KID).status_code == 201


def test_a_users_families_name_the_users_role(api, family):
    answer = api.call("get", f"/users/{KID}/families")

    assert answer.status_code == 200
    assert [(f["id"], f["member_role"]) for f in answer.json()["families"]] == [(family, "MEMBER")]
    assert api.call("get", "/users/nobody/families").json() == {"families": []}


def test_a_limit_change_names_the_current_revision(api, family):
    revision = api.call("get", f"/families/{family}").json()["revision"]
    path = f"/families/{family}/members/{KID}/limit"
    body = {"acting_user_id": OWNER, "amount": "500.00", "frame": "MONTH", "revision": revision}

    changed = api.call("put", path, body)
    stale = api.call("put", path, {"acting_user_id": OWNER, "unlimited": True, "revision": revision})

    assert changed.status_code == 200, changed.content
    assert changed.json()["members"][1]["limit"] == {"unlimited": False, "amount": "500.00", "frame": "MONTH"}
    assert changed.json()["revision"] == revision + 1
    assert (stale.status_code, stale.json()["error"]["code"]) == (409, "stale_revision")


@pytest.mark.parametrize(
    "body",
    [
        {"amount": "500.00", "revision": 1},  # no frame
        {"amount": "500.00", "frame": "MONTH", "unlimited": True, "revision": 1},  # both
        {"revision": 1},  # neither
        {"amount": "500.00", "frame": "month", "revision": 1},  # lower case
    ],
)
def test_a_limit_is_an_amount_with_its_frame_or_unlimited(api, family, body):
    answer = api.call("put", f"/families/{family}/members/{KID}/limit", {"acting_user_id": OWNER, **body})

    assert (answer.status_code, answer.json()["error"]["code"]) == (422, "validation_failed")


def test_the_family_card_is_one_of_the_owners_own(api, family, cards):
    someone_elses = cards.bind_card(OWNER, payer_uid="stranger")

    answer = api.call(
        "put", f"/families/{family}/payment", {"acting_user_id": OWNER, "payment_method_id": someone_elses}
    )

    assert (answer.status_code, answer.json()["error"]["code"]) == (422, "validation_failed")
    assert "payment_method_id" in answer.json()["error"]["details"]["fields"]


def test_the_family_card_is_shown_in_the_family(api, family, with_card):
    body = api.call("get", f"/families/{family}").json()

    assert body["payment"] == {"payment_methods": [with_card], "main_payment_method_id": with_card}


def test_check_available_over_http(api, family, with_card):
    yes = api.call("post", f"/families/{family}/check-available", {"user_id": KID, "amount": "999.99"})
    no = api.call("post", f"/families/{family}/check-available", {"user_id": KID, "amount": "1000.01"})

    assert yes.status_code == 200, yes.content
    assert (yes.json()["available"], no.json()["available"]) == (True, False)
    assert {k: no.json()[k] for k in ("limit", "usage", "remaining", "frame")} == {
        "limit": "1000.00",
        "usage": "0.00",
        "remaining": "1000.00",
        "frame": "MONTH",
    }


def test_check_available_takes_an_amount_above_zero(api, family, with_card):
    answer = api.call("post", f"/families/{family}/check-available", {"user_id": KID, "amount": "0.00"})

    assert (answer.status_code, answer.json()["error"]["code"]) == (422, "validation_failed")
    assert "amount" in answer.json()["error"]["details"]["fields"]


def test_payment_methods_show_own_cards_and_the_family_card_with_usage(api, family, with_card, cards):
    own = cards.bind_card(KID)
    cards.bind_card(KID, payer_uid="stranger")  # someone else pays for it: not the kid's
    api.call("post", f"/families/{family}/spendings", {"spending_id": "ride-1", "user_id": KID, "amount": "300.00"})

    answer = api.call("get", f"/users/{KID}/payment-methods")

    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert [(m["id"], m["payer_info"]) for m in body["payment_methods"]] == [
        (own, None),
        (
            with_card,
            {
                "uid": OWNER,
                "family_info": {"family_id": family, "usage": "300.00", "limit": "1000.00", "frame": "MONTH"},
            },
        ),
    ]
    assert body["family_accounts"] == [
        {
            "family_id": family,
            "name": "Ивановы",
            "member_role": "MEMBER",
            "details": {"name": "Ивановы", "color": "#FFCC00", "passport_account": False},
        }
    ]


def test_a_spending_over_http_clear_cancel_refund(api, family, with_card, cards):
    base = f"/families/{family}/spendings"
    held = api.call("post", base, {"spending_id": "ride-1", "user_id": KID, "amount": "400.00"})
    repeat = api.call("post", base, {"spending_id": "ride-1", "user_id": KID, "amount": "400.00"})
    cleared = api.call("post", f"{base}/ride-1/clear", {"amount": "300.00"})
    refund = api.call("post", f"{base}/ride-1/refunds", {"refund_id": "back-1", "amount": "100.00"})
    read = api.call("get", f"{base}/ride-1")
    api.call("post", base, {"spending_id": "ride-2", "user_id": KID, "amount": "50.00"})
    cancelled = api.call("post", f"{base}/ride-2/cancel", {})

    assert (held.status_code, held.json()["status"]) == (201, "HELD"), held.content
    assert repeat.status_code == 200
    assert (cleared.json()["status"], cleared.json()["cleared_amount"]) == ("CLEARED", "300.00")
    assert (refund.status_code, refund.json()["status"]) == (201, "SUCCEEDED"), refund.content
    assert (read.json()["refunded_amount"], [r["refund_id"] for r in read.json()["refunds"]]) == ("100.00", ["back-1"])
    assert (cancelled.json()["status"], cancelled.json()["cancel_reason"]) == ("CANCELLED", "REQUESTED")
    check = api.call("post", f"/families/{family}/check-available", {"user_id": KID, "amount": "800.00"}).json()
    assert (check["usage"], check["available"]) == ("200.00", True)


def test_a_spending_past_the_limit_is_422(api, family, with_card, cards):
    answer = api.call(
        "post", f"/families/{family}/spendings", {"spending_id": "ride-1", "user_id": KID, "amount": "1000.01"}
    )

    assert (answer.status_code, answer.json()["error"]["code"]) == (422, "limit_exceeded")
    assert cards.payments() == []


def test_a_spending_without_a_family_card_is_409(api, family):
    answer = api.call(
        "post", f"/families/{family}/spendings", {"spending_id": "ride-1", "user_id": KID, "amount": "10.00"}
    )

    assert (answer.status_code, answer.json()["error"]["code"]) == (409, "invalid_state")


def test_a_declined_card_is_422_card_declined(api, family, with_card, cards):
    cards.decline(with_card)

    answer = api.call(
        "post", f"/families/{family}/spendings", {"spending_id": "ride-1", "user_id": KID, "amount": "10.00"}
    )

    assert (answer.status_code, answer.json()["error"]["code"]) == (422, "card_declined")


def test_a_card_system_that_is_down_is_503_with_retry_after(api, family, with_card, cards):
    cards.inject("unavailable")

    answer = api.call(
        "post", f"/families/{family}/spendings", {"spending_id": "ride-1", "user_id": KID, "amount": "10.00"}
    )

    assert (answer.status_code, answer.json()["error"]["code"]) == (503, "upstream_unavailable")
    assert answer.headers["Retry-After"]


def test_every_family_resource_is_invisible_to_another_workspaces_key(client, api, family, with_card):
    api.call("post", f"/families/{family}/spendings", {"spending_id": "ride-1", "user_id": KID, "amount": "10.00"})
    make_workspace("cinema")
    stranger = Api(client, make_api_key("cinema"))  # granted cinema only
    paths = [
        ("get", f"/families/{family}"),
        ("get", f"/users/{KID}/families"),
        ("get", f"/users/{KID}/payment-methods"),
        ("get", f"/families/{family}/spendings/ride-1"),
    ]
    in_taxi = [stranger.call(method, path).status_code for method, path in paths]
    in_own = Api(client, stranger.key, workspace="cinema")

    assert in_taxi == [404] * 4
    assert in_own.call("get", f"/families/{family}").json()["error"]["code"] == "family_not_found"
    assert in_own.call("get", f"/families/{family}/spendings/ride-1").json()["error"]["code"] == "spending_not_found"
    assert in_own.call("get", f"/users/{KID}/families").json() == {"families": []}
