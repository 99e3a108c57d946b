"""The fault run's clients: threads that call billy's API the way product services and users do.

Each actor draws its operations from its own `random.Random(f"{seed}:{index}")`, so a seed names
the same choices every time (when they happen depends on the machine). Every answer is written to
the `Journal` with its outcome, for the checks at the end (chaos_checks.py):

    ok          2xx / OK: billy says it happened, the final state must show it
    refused     4xx / a client-error gRPC status: billy says nothing happened, nothing may show it
    unknown     502/503/504, UNAVAILABLE, DEADLINE_EXCEEDED, a dropped connection or a timeout:
                anything may have happened; the run finishes it (a retry, the janitors)
    error       any other 5xx, INTERNAL or UNKNOWN: a finding in itself
"""

from __future__ import annotations

import dataclasses
import random
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import chaos_families
import chaos_migration
import grpc
import httpx
from chaos_moneyin import WEIGHTS as MONEY_IN_WEIGHTS
from chaos_moneyin import MoneyInOps
from chaos_renewals import card_for
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from billy.v1 import clients_pb2, clients_pb2_grpc, money_pb2, money_pb2_grpc

C2B, CINEMA = "c2b", "cinema"
PLANS = ("monthly", "yearly")
DECLINED_CARD = "4000000000000002"
GOOD_CARD = "5555555555554477"
HTTP_TIMEOUT = 30.0
GRPC_TIMEOUT = 30.0
# How many charges of one wallet an actor sends at once (op_hot), at least and at most.
HOT_BURST = (4, 8)
# How long an actor waits after an unknown outcome (an outage) before its next call.
BACKOFF_SECONDS = 0.25
_UNKNOWN_GRPC = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED}
_ERROR_GRPC = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.DATA_LOSS}
# How often each operation is drawn (relative weights).
WEIGHTS = {
    "register": 6,
    "fund": 8,
    "charge": 20,
    "hot": 4,
    "hold": 10,
    "settle_hold": 10,
    "refund": 6,
    "batch": 4,
    "read": 6,
    "subscribe": 8,
    "pay": 8,
    "refund_subscription": 3,
    **MONEY_IN_WEIGHTS,
    "family_spend": 6,
    "family_settle": 5,
    "family_migrate": 3,
}


@dataclasses.dataclass
class Answer:
    op: str
    transport: str  # http | grpc
    outcome: str  # ok | refused | unknown | error
    status: str  # "201", "FAILED_PRECONDITION", "ReadTimeout", ...
    code: str = ""  # billy's error code, when it gave one
    ids: dict[str, Any] = dataclasses.field(default_factory=dict)  # what the call named
    body: dict[str, Any] | None = None  # the answer's body when ok


class Journal:
    """Every answer, and what the actors decided (kept for the checks and the final phase)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.answers: list[Answer] = []
        self.clients: list[str] = []  # registered (an ok answer)
        self.registrations: dict[str, dict[str, str]] = {}  # every client id tried → its data
        self.holds: dict[str, str] = {}  # charge id → what its caller will do: confirm | cancel | expire
        self.completed: list[str] = []  # charge ids answered ok and COMPLETED
        self.subscriptions: dict[str, dict[str, Any]] = {}  # idempotency key → {user, plan, decision, id?}
        self.wallet_views: list[tuple[str, dict[str, str]]] = []  # (client, wallet) as answers showed it
        self.contracts: dict[str, str] = {}  # client → PREPAY | POSTPAY (its contract answered ok)
        self.transfers: list[str] = []  # credit transfer ids tried

    def add(self, answer: Answer) -> Answer:
        with self.lock:
            self.answers.append(answer)
        if answer.outcome == "unknown":
            time.sleep(BACKOFF_SECONDS)  # a client backs off before its next call, as Retry-After asks
        return answer

    def counts(self) -> dict[tuple[str, str], int]:
        with self.lock:
            counts: dict[tuple[str, str], int] = {}
            for a in self.answers:
                counts[(a.op, a.outcome)] = counts.get((a.op, a.outcome), 0) + 1
            return counts

    def codes(self) -> Counter:
        with self.lock:
            return Counter((a.op.split(".")[0], a.outcome, a.code or a.status) for a in self.answers)


def http_outcome(status: int) -> str:
    if status < 400:
        return "ok"
    if status < 500:
        return "refused"
    return "unknown" if status in (502, 503, 504) else "error"


class Actor(MoneyInOps, threading.Thread):
    """One product service (or user) calling billy in a loop until `stop` is set."""

    def __init__(
        self, *, index: int, seed: int, env: dict[str, str], journal: Journal, stop: threading.Event, run_end: float
    ) -> None:
        super().__init__(name=f"actor-{index}", daemon=True)
        self.index = index
        self.rng = random.Random(f"{seed}:{index}")
        self.prefix = f"s{seed}-a{index}"
        self.env = env
        self.journal = journal
        self.stop = stop
        self.run_end = run_end  # time.monotonic() when the run stops
        self.serial = 0
        self.open_holds: list[tuple[str, int]] = []  # (charge id, amount) this actor will confirm or cancel
        self.to_pay: list[str] = []  # subscription keys whose user has not acted yet
        self.paid: list[str] = []  # subscription ids whose user paid
        self.family_open: list[str] = []  # family card spendings this actor will settle
        self.http = httpx.Client(
            base_url=env["http"] + "/api/v1",
            headers={"Authorization": f"Bearer {env['key']}"},
            timeout=HTTP_TIMEOUT,
        )
        self.page = httpx.Client(base_url=env["yookassa"], timeout=HTTP_TIMEOUT)
        self.channel = grpc.insecure_channel(env["grpc"])
        self.wallets = money_pb2_grpc.WalletServiceStub(self.channel)
        self.charges = money_pb2_grpc.ChargeServiceStub(self.channel)
        self.clients = clients_pb2_grpc.ClientServiceStub(self.channel)
        self.failure: BaseException | None = None
        self.burst = ThreadPoolExecutor(max_workers=HOT_BURST[1], thread_name_prefix=f"actor-{index}-hot")

    # -- plumbing ------------------------------------------------------------------------------
    def _id(self, kind: str) -> str:
        self.serial += 1
        return f"{self.prefix}-{kind}{self.serial}"

    def _money(self, low: int, high: int) -> str:
        minor = self.rng.randint(low, high)
        return f"{minor // 100}.{minor % 100:02d}"

    def _http(self, op: str, method: str, path: str, ids: dict, *, key: str | None = None, operator=False, **kw):
        headers = {}
        if key:
            headers["Idempotency-Key"] = key
        if operator:
            headers["Authorization"] = f"Bearer {self.env['operator_key']}"
        try:
            response = self.http.request(method, path, headers=headers, **kw)
        except httpx.HTTPError as e:
            return self.journal.add(Answer(op, "http", "unknown", type(e).__name__, ids=ids))
        outcome = http_outcome(response.status_code)
        body = _json(response)
        code = ((body or {}).get("error") or {}).get("code", "") if outcome != "ok" else ""
        return self.journal.add(
            Answer(op, "http", outcome, str(response.status_code), code, ids, body if outcome == "ok" else None)
        )

    def _grpc(self, op: str, call, request, ids: dict, *, operator=False):
        key = self.env["operator_key"] if operator else self.env["key"]
        try:
            reply = call(request, metadata=(("authorization", f"Bearer {key}"),), timeout=GRPC_TIMEOUT)
        except grpc.RpcError as e:
            status = e.code()
            outcome = "unknown" if status in _UNKNOWN_GRPC else "error" if status in _ERROR_GRPC else "refused"
            return self.journal.add(Answer(op, "grpc", outcome, status.name, _grpc_error_code(e), ids)), None
        return self.journal.add(Answer(op, "grpc", "ok", "OK", "", ids)), reply

    def _client(self) -> str | None:
        with self.journal.lock:
            return self.rng.choice(self.journal.clients) if self.journal.clients else None

    # -- the loop ------------------------------------------------------------------------------
    def run(self) -> None:
        names, weights = zip(*WEIGHTS.items(), strict=True)
        try:
            while not self.stop.is_set():
                getattr(self, "op_" + self.rng.choices(names, weights)[0])()
        except BaseException as e:  # noqa: BLE001 (a bug in the run itself: reported, never hidden)
            self.failure = e

    def close(self) -> None:
        self.burst.shutdown()
        self.http.close()
        self.page.close()
        self.channel.close()

    # -- clients and money ---------------------------------------------------------------------
    def op_register(self) -> None:
        sid = self._id("c")
        n = self.serial
        data = {
            "name": f"Chaos {self.prefix} {n}",
            "email": f"{self.prefix}-{n}@example.com",
            "phone": f"+7 495 {self.index:03d}-{n // 100 % 100:02d}-{n % 100:02d}",
        }
        with self.journal.lock:
            self.journal.registrations[sid] = data
        if self.rng.random() < 0.5:
            answer = self.register(sid, data)
        else:
            request = clients_pb2.CreateOrUpdateClientRequest(workspace=C2B, service_client_id=sid, **data)
            answer, _ = self._grpc("register", self.clients.CreateOrUpdateClient, request, {"client": sid})
        if answer.outcome == "ok":
            with self.journal.lock:
                self.journal.clients.append(sid)

    def register(self, sid: str, data: dict[str, str]) -> Answer:
        return self._http("register", "PUT", f"/workspaces/{C2B}/clients/{sid}", {"client": sid}, json=data)

    def op_fund(self) -> None:
        client = self._client()
        if client is None:
            return self.op_register()
        adjustment_id = self._id("adj")
        # Mostly money in; now and then an operator takes some back (refused when it is not there).
        amount = self._money(10_000, 500_000) if self.rng.random() < 0.9 else "-" + self._money(100, 20_000)
        ids = {"client": client, "adjustment_id": adjustment_id, "amount": amount}
        body = {"adjustment_id": adjustment_id, "amount": amount, "reason": "chaos run"}
        if self.rng.random() < 0.5:
            path = f"/workspaces/{C2B}/clients/{client}/wallet/adjustments"
            answer = self._http("fund", "POST", path, ids, operator=True, json=body)
            if answer.outcome == "ok":
                self._saw_wallet(client, answer.body["wallet"])
        else:
            request = money_pb2.AdjustWalletRequest(workspace=C2B, client=client, **body)
            _, reply = self._grpc("fund", self.wallets.AdjustWallet, request, ids, operator=True)
            if reply is not None:
                self._saw_wallet(client, {f: getattr(reply.wallet, f) for f in ("balance", "held", "available")})

    def _saw_wallet(self, client: str, wallet: dict[str, str]) -> None:
        with self.journal.lock:
            self.journal.wallet_views.append((client, dict(wallet)))

    def _charge(self, op: str, *, hold: bool) -> tuple[Answer, str, str] | None:
        client = self._client()
        if client is None:
            self.op_register()
            return None
        charge_id, amount = self._id("ch"), self._money(100, 80_000)
        extra = {"hold": True, "hold_ttl_seconds": self.rng.randint(60, 90)} if hold else {"hold": False}
        over_http = self.rng.random() < 0.5
        answer = self._send_charge(op, client, charge_id, amount, extra, over_http=over_http)
        if over_http and self.rng.random() < 0.15:  # the caller did not see the answer and sends it again
            self._send_charge(op + ".replay", client, charge_id, amount, extra, over_http=True)
        return answer, charge_id, amount

    def _send_charge(
        self, op: str, client: str, charge_id: str, amount: str, extra: dict[str, Any], *, over_http: bool
    ) -> Answer:
        """One charge request (`extra`: hold and its TTL), over HTTP or gRPC; its answer."""
        ids = {"client": client, "charge_id": charge_id, "amount": amount, "hold": extra.get("hold", False)}
        body: dict[str, Any] = {"charge_id": charge_id, "product": "chaos", "amount": amount, **extra}
        if over_http:
            return self._http(op, "POST", f"/workspaces/{C2B}/clients/{client}/charges", ids, json=body)
        request = money_pb2.CreateChargeRequest(workspace=C2B, client=client, **body)
        return self._grpc(op, self.charges.CreateCharge, request, ids)[0]

    def op_charge(self) -> None:
        made = self._charge("charge", hold=False)
        if made and made[0].outcome == "ok":
            with self.journal.lock:
                self.journal.completed.append(made[1])

    def op_hot(self) -> None:
        """Several charges of one wallet sent at once over one transport: a hot wallet, whose charges
        billy writes together (`billy.charges.coalesce`, within one serving process), each decided
        against the money."""
        client = self._client()
        if client is None:
            return self.op_register()
        over_http = self.rng.random() < 0.5
        burst = [(self._id("hot"), self._money(100, 80_000)) for _ in range(self.rng.randint(*HOT_BURST))]

        def send(charge: tuple[str, str]) -> Answer:
            return self._send_charge("hot", client, *charge, {}, over_http=over_http)

        for answer in self.burst.map(send, burst):
            if answer.outcome == "ok":
                with self.journal.lock:
                    self.journal.completed.append(answer.ids["charge_id"])

    def op_hold(self) -> None:
        made = self._charge("hold", hold=True)
        if made is None or made[0].outcome == "refused":
            return
        _, charge_id, amount = made
        # A hold left alone is released by the janitor after its TTL: only when the run lasts that long.
        may_expire = time.monotonic() + 100 < self.run_end
        fate = self.rng.choices(("confirm", "cancel", "expire"), (5, 3, 2 if may_expire else 0))[0]
        with self.journal.lock:
            self.journal.holds[charge_id] = fate
        if fate != "expire":
            self.open_holds.append((charge_id, int(amount.replace(".", ""))))

    def op_settle_hold(self) -> None:
        if not self.open_holds:
            return self.op_hold()
        charge_id, amount = self.open_holds.pop(self.rng.randrange(len(self.open_holds)))
        self.settle_hold(charge_id, amount)

    def settle_hold(self, charge_id: str, amount: int) -> Answer:
        with self.journal.lock:
            fate = self.journal.holds[charge_id]
        ids = {"charge_id": charge_id}
        grpc_call = self.rng.random() < 0.5
        if fate == "confirm":
            # The amount belongs to the charge, so a retry after an unknown outcome asks the same.
            own = random.Random(charge_id)
            confirm_amount = None
            if own.random() < 0.4 and amount > 1:
                minor = own.randint(1, amount)
                confirm_amount = f"{minor // 100}.{minor % 100:02d}"
            ids["amount"] = confirm_amount
            if grpc_call:
                request = money_pb2.ConfirmChargeRequest(workspace=C2B, charge_id=charge_id, amount=confirm_amount)
                return self._grpc("confirm", self.charges.ConfirmCharge, request, ids)[0]
            body = {} if confirm_amount is None else {"amount": confirm_amount}
            return self._http("confirm", "POST", f"/workspaces/{C2B}/charges/{charge_id}/confirm", ids, json=body)
        if grpc_call:
            return self._grpc(
                "cancel",
                self.charges.CancelCharge,
                money_pb2.CancelChargeRequest(workspace=C2B, charge_id=charge_id),
                ids,
            )[0]
        return self._http("cancel", "POST", f"/workspaces/{C2B}/charges/{charge_id}/cancel", ids)

    def op_refund(self) -> None:
        with self.journal.lock:
            charge_id = self.rng.choice(self.journal.completed) if self.journal.completed else None
        if charge_id is None:
            return self.op_charge()
        refund_id = self._id("rf")
        amount = self._money(100, 40_000) if self.rng.random() < 0.7 else None
        ids = {"charge_id": charge_id, "refund_id": refund_id, "amount": amount}
        if self.rng.random() < 0.5:
            body = {"refund_id": refund_id, "reason": "chaos"} | ({"amount": amount} if amount else {})
            self._http("refund", "POST", f"/workspaces/{C2B}/charges/{charge_id}/refunds", ids, json=body)
        else:
            request = money_pb2.RefundChargeRequest(
                workspace=C2B, charge_id=charge_id, refund_id=refund_id, amount=amount, reason="chaos"
            )
            self._grpc("refund", self.charges.RefundCharge, request, ids)

    def op_batch(self) -> None:
        with self.journal.lock:
            clients = list(self.journal.clients)
        if not clients:
            return self.op_register()
        items = []
        for _ in range(self.rng.randint(2, 20)):
            items.append(
                {
                    "service_client_id": self.rng.choice(clients),
                    "charge_id": self._id("bch"),
                    "product": "chaos",
                    "amount": self._money(100, 30_000),
                }
            )
        if self.rng.random() < 0.5:
            answer = self._http("batch", "POST", f"/workspaces/{C2B}/charges:batch", {}, json={"charges": items})
            results = (
                [(r["status"], (r.get("error") or {}).get("code", "")) for r in answer.body["results"]]
                if answer.outcome == "ok"
                else None
            )
            transport = "http"
        else:
            request = money_pb2.CreateChargesRequest(
                workspace=C2B,
                charges=[
                    money_pb2.CreateChargeRequest(
                        workspace=C2B,
                        client=i["service_client_id"],
                        **{k: v for k, v in i.items() if k != "service_client_id"},
                    )
                    for i in items
                ],
            )
            answer, reply = self._grpc("batch", self.charges.CreateCharges, request, {})
            results = [(r.status, r.error_code) for r in reply.results] if reply is not None else None
            transport = "grpc"
        for item, result in zip(items, results or [(None, "")] * len(items), strict=True):
            ids = {
                "client": item["service_client_id"],
                "charge_id": item["charge_id"],
                "amount": item["amount"],
                "hold": False,
            }
            status, code = result
            outcome = answer.outcome if status is None else http_outcome(status)
            self.journal.add(Answer("batch.item", transport, outcome, str(status or answer.status), code, ids))
            if outcome == "ok":
                with self.journal.lock:
                    self.journal.completed.append(item["charge_id"])

    def op_read(self) -> None:
        client = self._client()
        if client is None:
            return self.op_register()
        answer = self._http("read", "GET", f"/workspaces/{C2B}/clients/{client}/wallet", {"client": client})
        if answer.outcome == "ok":
            self._saw_wallet(client, answer.body)

    # -- family accounts (chaos_families.py) ---------------------------------------------------
    def op_family_spend(self) -> None:
        chaos_families.spend(self)

    def op_family_settle(self) -> None:
        chaos_families.settle(self)

    def op_family_migrate(self) -> None:
        chaos_migration.trigger(self)

    # -- subscriptions -------------------------------------------------------------------------
    def op_subscribe(self) -> None:
        key, user = str(uuid.uuid4()), self._id("u")
        # What the user will do on the payment page.
        decision = self.rng.choices(("pay", "decline", "abandon"), (7, 2, 1))[0]
        plan = self.rng.choice(PLANS)
        with self.journal.lock:
            self.journal.subscriptions[key] = {"user": user, "plan": plan, "decision": decision, "id": None}
        answer = self.subscribe(key)
        if answer.outcome == "refused":
            return
        self.to_pay.append(key)
        if self.rng.random() < 0.15:
            self.subscribe(key, op="subscribe.replay")

    def subscribe(self, key: str, op: str = "subscribe") -> Answer:
        with self.journal.lock:
            sub = self.journal.subscriptions[key]
        path = f"/workspaces/{CINEMA}/users/{sub['user']}/subscriptions"
        body = {"plan": sub["plan"], "return_url": "https://cinema.example/back"}
        answer = self._http(op, "POST", path, {"key": key, "user": sub["user"]}, key=key, json=body)
        if answer.outcome == "ok":
            with self.journal.lock:
                sub["id"] = answer.body["id"]
                sub.setdefault("answers", []).append((answer.status, answer.body["id"]))
        return answer

    def op_pay(self) -> None:
        if not self.to_pay:
            return self.op_subscribe()
        key = self.to_pay.pop(0)
        if not self.act_on_payment(key):
            self.to_pay.append(key)  # no payment page yet: later

    def act_on_payment(self, key: str) -> bool:
        """The user on the payment page; False when billy has no page to send them to yet."""
        with self.journal.lock:
            sub = dict(self.journal.subscriptions[key])
        answer = self._http("read_subscriptions", "GET", f"/workspaces/{CINEMA}/users/{sub['user']}/subscriptions", {})
        if answer.outcome != "ok":
            return False
        if not answer.body["subscriptions"]:
            # billy never got the call, or answered before writing: the user tries again.
            return self.subscribe(key, op="subscribe.retry").outcome == "refused"
        subscription = answer.body["subscriptions"][0]
        payment = subscription.get("payment") or {}
        provider_id = payment.get("provider_payment_id")
        if payment.get("status") != "PENDING" or not provider_id:
            return payment.get("status") in ("SUCCEEDED", "FAILED")
        form = {
            "card_number": card_for(sub["user"], GOOD_CARD) if sub["decision"] == "pay" else DECLINED_CARD,
            "expiry": "12/35",
            "cvc": "123",
        }
        form["action"] = "cancel" if sub["decision"] == "abandon" else "pay"
        try:
            response = self.page.post(f"/checkout/{provider_id}", data=form)
        except httpx.HTTPError:
            return False
        if response.status_code != 303:
            return False
        if sub["decision"] == "pay":
            self.paid.append(subscription["id"])
        return True

    def op_refund_subscription(self) -> None:
        if not self.paid:
            return self.op_pay()
        subscription_id = self.paid.pop(self.rng.randrange(len(self.paid)))
        key = str(uuid.uuid4())
        path = f"/workspaces/{CINEMA}/subscriptions/{subscription_id}/refund"
        ids = {"subscription": subscription_id, "key": key}
        answer = self._http("refund_subscription", "POST", path, ids, key=key, json={"reason": "chaos"})
        if answer.outcome == "unknown":
            self._http("refund_subscription.replay", "POST", path, ids, key=key, json={"reason": "chaos"})


def _grpc_error_code(error: grpc.RpcError) -> str:
    """billy's error code: the reason of the ErrorInfo in the call's google.rpc.Status ("" if none)."""
    status = rpc_status.from_call(error)
    for detail in status.details if status is not None else ():
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return info.reason
    return ""


def _json(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
