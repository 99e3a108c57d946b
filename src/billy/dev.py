"""`billy dev`: one command that gives a newcomer a running billy.

Embedded PostgreSQL (unless DATABASE_URL is set), migrations, the four emulators, demo workspaces,
an admin user and an API key (both printed), then the HTTP server, the gRPC server and the worker
(and the relay, when BILLY_BROKER_URL is set), all as child processes (see `billy.supervisor`: a
child that dies is started again, and so is the cluster `billy dev` started). Ctrl-C stops every
child; data stays in BILLY_DATA_DIR for next time.

Each server keeps its documented port (`PORTS`, or its variable) unless another program has it: then
it listens on a free port, says so, and writes the port it got to a file; `billy dev` waits for
that file, so the banner and the other processes use the ports actually taken, and no port is
picked here and bound later by someone else.

One `billy dev` at a time per data directory and per database (`billy.dev_lock`), checked before
anything starts.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import sys
import tempfile
import threading
from pathlib import Path

from billy.core.embedded_pg import EmbeddedPostgres, data_dir_from_env, ensure_database
from billy.dev_lock import DevLock, claim_database
from billy.supervisor import Children, ClusterKeeper, Stopped

DEMO_WORKSPACES = [
    # name, title, Balance service id, integration, configuration
    ("autoru", "Auto.ru", 99, "autoru", "autoru_default"),
    ("realty", "Realty", 81, "realty", "realty_default"),
    ("realty_commercial", "Realty commercial", 82, "realty", "realty_commercial_default"),
    ("cm_expert", "CM.Expert", 1001, "cm_expert", "cm_expert_default"),
    ("c2b", "C2B", 1002, "c2b", "c2b_default"),
    ("cinema", "Online cinema", 1003, "cinema", "cinema_default"),
    ("taxi", "Taxi", 1004, "taxi", "taxi_default"),
]
# The cinema sells card subscriptions through its shop at the payment provider (the emulator here).
CINEMA_SHOP_ID = "100500"
CINEMA_SECRET_KEY = "test_cinema_secret"
DEMO_PLANS = [
    # code, title, price, period, refund policy, refund days
    ("monthly", "Cinema: one month", "299.00", "MONTH", "FULL", 14),
    ("yearly", "Cinema: one year", "2990.00", "YEAR", "PRORATED", 0),
]
# The c2b demo client, ready to take money: registered in Balance, with a payer and a prepay contract.
DEMO_CLIENT = "client-1"
DEMO_PAYER = {
    "payer_id": "payer-1",
    "type": "LEGAL",
    "name": "ООО Ромашка",
    "inn": "7707083893",
    "kpp": "773601001",
    "email": "buh@romashka.ru",
    "phone": "+74951234567",
    "legal_address": "Москва, ул. Льва Толстого, 16",
}
DEMO_CONTRACT = "contract-1"
# Balance's notification retries (10 s, 1 min, ...) a hundred times faster in development.
DEV_NOTIFY_SCALE = "0.01"
# Each server's port: the variable that sets it, and its documented default.
PORTS = {
    "serve": ("BILLY_HTTP_PORT", 8000),
    "grpc": ("BILLY_GRPC_PORT", 50051),
    "balance": ("BILLY_BALANCE_PORT", 8002),
    "yookassa": ("BILLY_YOOKASSA_PORT", 8003),
    "auth": ("BILLY_AUTH_PORT", 8004),
    "notifications": ("BILLY_NOTIFICATIONS_PORT", 8005),
    "cards": ("BILLY_CARDS_PORT", 8006),
    "identity": ("BILLY_IDENTITY_PORT", 8007),
}
# The taxi's demo family: its owner's card at the card payment system, two members with limits.
DEMO_FAMILY_OWNER = "taxi-owner"
DEMO_FAMILY_MEMBERS = [("taxi-kid", "+79990000001", "1000.00"), ("taxi-partner", "+79990000002", None)]


def _load_dev_state(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def _save_dev_state(path: Path, state: dict) -> None:
    path.write_text(json.dumps(state, indent=2))
    path.chmod(0o600)


def _seed(data_dir: Path, *, yookassa_api_url: str) -> tuple[str, str, str]:
    """Demo workspaces and plans, the admin user and the dev API key; returns (admin user, password, key)."""
    from django.contrib.auth import get_user_model

    from billy.core import clock
    from billy.core.money import parse_amount
    from billy.subscriptions.plans import ensure_plan
    from billy.workspaces import operations

    for name, title, service_id, integration, configuration in DEMO_WORKSPACES:
        operations.upsert_workspace(
            name=name,
            title=title,
            balance_service_id=service_id,
            balance_integration=integration,
            balance_configuration=configuration,
            now=clock.now(),
        )
    cinema = operations.configure_payment_provider(
        name="cinema", api_url=yookassa_api_url, shop_id=CINEMA_SHOP_ID, secret_key=CINEMA_SECRET_KEY
    )
    for code, title, price, period, policy, days in DEMO_PLANS:
        ensure_plan(
            workspace=cinema,
            code=code,
            title=title,
            price=parse_amount(price),
            period=period,
            refund_policy=policy,
            refund_days=days,
            now=clock.now(),
        )
    state_file = data_dir / "dev.json"
    state = _load_dev_state(state_file)
    password = os.environ.get("BILLY_DEV_ADMIN_PASSWORD") or state.get("admin_password") or secrets.token_urlsafe(12)
    api_key = os.environ.get("BILLY_DEV_API_KEY") or state.get("api_key") or "billy_dev_" + secrets.token_urlsafe(24)
    user_model = get_user_model()
    admin = user_model.objects.filter(username="admin").first()
    if admin is None:
        user_model.objects.create_superuser("admin", "admin@localhost", password)
    elif not admin.check_password(password):
        admin.set_password(password)
        admin.save(update_fields=["password"])
    operations.ensure_api_key(
        name="billy dev", secret=api_key, workspace_names=[w[0] for w in DEMO_WORKSPACES], now=clock.now()
    )
    _save_dev_state(state_file, {**state, "admin_password": password, "api_key": api_key})
    return "admin", password, api_key


def _seed_money_in(balance_url: str) -> str | None:
    """The c2b demo client with its payer and prepay contract, through the same operations as the API
    (a repeat changes nothing); None when done, else what went wrong (billy runs anyway)."""
    import datetime as dt

    from django.conf import settings

    from billy.clients.operations import register_client
    from billy.core import clock
    from billy.core.errors import BillyError
    from billy.integrations.balance.client import XmlRpcBalance
    from billy.payers import contracts, operations
    from billy.payers.validation import PayerFields
    from billy.workspaces.models import Workspace

    balance = XmlRpcBalance(
        url=balance_url,
        operator_uid=settings.BALANCE_OPERATOR_UID,
        connect_timeout=settings.BALANCE_CONNECT_TIMEOUT,
        timeout=settings.BALANCE_TIMEOUT,
    )
    fields = {k: v for k, v in DEMO_PAYER.items() if k != "payer_id"}
    try:
        client = register_client(
            workspace=Workspace.objects.get(name="c2b"),
            service_client_id=DEMO_CLIENT,
            name=DEMO_PAYER["name"],
            email=DEMO_PAYER["email"],
            phone=DEMO_PAYER["phone"],
            balance=balance,
            now=clock.now(),
        ).client
        operations.put_payer(
            client=client,
            payer_id=DEMO_PAYER["payer_id"],
            fields=PayerFields(**fields),
            balance=balance,
            now=clock.now(),
        )
        contracts.put_contract(
            client=client,
            contract_id=DEMO_CONTRACT,
            terms=contracts.ContractTerms(
                payer_id=DEMO_PAYER["payer_id"], payment_type="PREPAY", start_date=dt.date(2026, 1, 1)
            ),
            balance=balance,
            now=clock.now(),
        )
    except BillyError as e:
        return f"{e.code}: {e.message}"
    return None


def _notify_urls(base: str) -> list[str]:
    """`--notify-url SERVICE_ID=URL` for each demo workspace: its notification endpoint with its secret."""
    from billy.workspaces.models import Workspace

    return [
        f"{w.balance_service_id}={base}/api/v1/workspaces/{w.name}/balance/notifications/{w.balance_notification_secret}"
        for w in Workspace.objects.filter(name__in=[d[0] for d in DEMO_WORKSPACES])
    ]


def _seed_family(*, cards_url: str) -> str:
    """The taxi's demo family (once): the owner's card bound at the card system, two members (one
    with a monthly limit of 1,000.00, one unlimited), the card set as the family card. Returns its id."""
    from billy.core import clock
    from billy.core.money import parse_amount
    from billy.families import membership
    from billy.families.queries import list_user_families
    from billy.integrations.cards.client import HttpCardSystem
    from billy.integrations.cards.emulator import DEV_TOKEN, CardsEmulatorControl
    from billy.workspaces.models import Workspace

    taxi = Workspace.objects.get(name="taxi")
    found = list_user_families(workspace=taxi, user_id=DEMO_FAMILY_OWNER)
    if found:
        return found[0][0].family_id
    now = clock.now()
    control = CardsEmulatorControl(cards_url)
    card_id = next((c["id"] for c in control.cards(uid=DEMO_FAMILY_OWNER)), None) or control.bind_card(
        DEMO_FAMILY_OWNER
    )
    family = membership.create_family(
        workspace=taxi, owner=DEMO_FAMILY_OWNER, name="Demo family", color="#FFCC00", now=now
    )
    for user_id, phone, limit in DEMO_FAMILY_MEMBERS:
        membership.add_member(
            workspace=taxi,
            family_id=family.family_id,
            acting_user_id=DEMO_FAMILY_OWNER,
            user_id=user_id,
            phone=phone,
            limit=parse_amount(limit) if limit else None,
            now=now,
        )
    membership.set_payment_method(
        workspace=taxi,
        family_id=family.family_id,
        acting_user_id=DEMO_FAMILY_OWNER,
        payment_method_id=card_id,
        now=now,
        cards=HttpCardSystem(cards_url, DEV_TOKEN),
    )
    return family.family_id


def _seed_identity(*, identity_url: str) -> None:
    """The demo family's users at the identity provider (portal accounts), and the taxi's migration
    experiment at 100 %: the owner's next payment-methods call moves the demo family there."""
    from billy.families.models import MigrationExperiment
    from billy.integrations.identity.emulator import IdentityEmulatorControl
    from billy.workspaces.models import Workspace

    control = IdentityEmulatorControl(identity_url)
    known = {u["uid"] for u in control.users()}
    for uid, phone in [(DEMO_FAMILY_OWNER, "+79990000000"), *((u, p) for u, p, _ in DEMO_FAMILY_MEMBERS)]:
        if uid not in known:
            control.add_user(uid, phone=phone, portal=True)
    MigrationExperiment.objects.get_or_create(
        workspace=Workspace.objects.get(name="taxi"),
        defaults={
            "percent": 100,
            "owner_deep_link": "yandextaxi://family/passport?role=owner",
            "member_deep_link": "yandextaxi://family/passport?role=member",
        },
    )


def run_dev() -> int:
    data_dir = data_dir_from_env()
    data_dir.mkdir(parents=True, exist_ok=True)
    lock = DevLock(data_dir, ports=PORTS)
    lock.acquire()  # before anything starts: a second billy dev on this data directory stops here
    try:
        return _run_with_cluster(data_dir, lock)
    finally:
        lock.release()


def _run_with_cluster(data_dir: Path, lock: DevLock) -> int:
    cluster = None
    started_cluster = False
    if not os.environ.get("DATABASE_URL"):
        cluster = EmbeddedPostgres(data_dir)
        started_cluster = cluster.running_port() is None
        print(f"[dev] PostgreSQL ({cluster.bin_dir}) in {cluster.pgdata} ...", flush=True)
        port = cluster.start()
        os.environ["DATABASE_URL"] = cluster.url("billy", port)
    try:
        # A cluster that was already running (another `billy` using it) is someone else's to keep up.
        return _run(data_dir, cluster if started_cluster else None, lock)
    except KeyboardInterrupt:
        return 130
    finally:
        if cluster is not None and started_cluster:
            cluster.stop()
        print("[dev] stopped", flush=True)


# The children that use the database: started again when the cluster had to move to another port.
DATABASE_CHILDREN = ["serve", "grpc", "worker"]


def _run(data_dir: Path, cluster: EmbeddedPostgres | None, lock: DevLock) -> int:
    ensure_database(os.environ["DATABASE_URL"])
    claim = claim_database(os.environ["DATABASE_URL"])  # before anything uses the database
    try:
        return _run_claimed(data_dir, cluster, lock)
    finally:
        claim.close()


def _run_claimed(data_dir: Path, cluster: EmbeddedPostgres | None, lock: DevLock) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billy.settings")
    # Payments nobody paid are re-read from the emulator after a minute, not five.
    os.environ.setdefault("BILLY_PAYMENT_RECHECK_SECONDS", "60")

    import django
    from django.core.management import call_command

    from billy.integrations.balance.emulator import BalanceEmulatorControl
    from billy.integrations.yookassa.emulator import YooKassaEmulatorControl

    django.setup()
    print("[dev] applying migrations ...", flush=True)
    call_command("migrate", interactive=False, verbosity=0)

    stopping = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    emulators = data_dir / "emulators"
    with tempfile.TemporaryDirectory(prefix="billy-dev-") as run_dir:
        children = Children(Path(run_dir), stopping, ports=PORTS)
        try:
            port_files = {
                name: children.server(name, "emulate", name, "--state-file", str(emulators / f"{name}.json"))
                for name in ("balance", "yookassa", "auth", "notifications", "cards", "identity")
            }
            ports = {name: children.port(name, port_file) for name, port_file in port_files.items()}
            os.environ["BALANCE_URL"] = f"http://127.0.0.1:{ports['balance']}/xmlrpc"
            os.environ["AUTH_API_URL"] = f"http://127.0.0.1:{ports['auth']}"
            os.environ["NOTIFICATIONS_URL"] = f"http://127.0.0.1:{ports['notifications']}"
            os.environ["CARDS_URL"] = f"http://127.0.0.1:{ports['cards']}"
            os.environ["IDENTITY_URL"] = f"http://127.0.0.1:{ports['identity']}"
            yookassa = f"http://127.0.0.1:{ports['yookassa']}"
            admin_user, admin_password, api_key = _seed(data_dir, yookassa_api_url=f"{yookassa}/v3")
            family_id = _seed_family(cards_url=os.environ["CARDS_URL"])
            _seed_identity(identity_url=os.environ["IDENTITY_URL"])

            port_files = {"serve": children.server("serve", "serve"), "grpc": children.server("grpc", "grpc")}
            children.spawn("worker", "worker")
            database_children = list(DATABASE_CHILDREN)
            if os.environ.get("BILLY_BROKER_URL"):  # the relay, when there is a broker to publish to
                children.spawn("relay", "relay")
                database_children.append("relay")
            ports.update((name, children.port(name, port_file)) for name, port_file in port_files.items())
            base = f"http://127.0.0.1:{ports['serve']}"
            children.wait_http("serve", f"{base}/health")
            webhook = f"{base}/api/v1/workspaces/cinema/providers/yookassa/webhook"
            YooKassaEmulatorControl(yookassa).register_webhook(CINEMA_SHOP_ID, webhook)
            # Balance's payment notifications go to billy: told to the running emulator, and given to
            # its command line for a restart.
            notify_urls = _notify_urls(base)
            BalanceEmulatorControl(f"http://127.0.0.1:{ports['balance']}").configure(
                notify_urls=dict(u.split("=", 1) for u in notify_urls), notify_scale=float(DEV_NOTIFY_SCALE)
            )
            for url in notify_urls:
                children.add_args("balance", "--notify-url", url)
            children.add_args("balance", "--notify-scale", DEV_NOTIFY_SCALE)
            problem = _seed_money_in(os.environ["BALANCE_URL"])
            if problem:
                print(f"[dev] the c2b demo client is not ready to take money: {problem}", flush=True)
            lock.record(ports)
            _print_banner(
                ports=ports, admin=(admin_user, admin_password), api_key=api_key, data_dir=data_dir, family_id=family_id
            )
            keeper = None
            if cluster is not None:

                def moved(port: int) -> None:
                    os.environ["DATABASE_URL"] = cluster.url("billy", port)
                    children.restart(database_children, f"PostgreSQL now listens on port {port}")

                keeper = ClusterKeeper(cluster, cluster.running_port() or 0, on_moved=moved)
            # Until Ctrl-C: children that die are started again, and so is the cluster.
            while not stopping.wait(1.0):
                if keeper is not None:
                    keeper.check()
                children.supervise()
            return 0
        except Stopped:
            return 0
        except RuntimeError as e:
            print(f"[dev] {e}", file=sys.stderr, flush=True)
            return 1
        finally:
            children.stop()


def _broker_line() -> str:
    """The banner's line for the relay, when BILLY_BROKER_URL is set (else none)."""
    from django.conf import settings

    if not settings.BILLY_BROKER_URL:
        return ""
    return (
        f"\n  relay        the event feed to {settings.BILLY_BROKER_URL}, stream {settings.BILLY_BROKER_STREAM}"
        f" (subjects {settings.BILLY_BROKER_SUBJECT_PREFIX}.<workspace>.<event type>)"
    )


def _print_banner(
    *, ports: dict[str, int], admin: tuple[str, str], api_key: str, data_dir: Path, family_id: str
) -> None:
    base = f"http://127.0.0.1:{ports['serve']}"
    balance, yookassa, auth, notifications, cards, identity = (
        f"http://127.0.0.1:{ports[name]}"
        for name in ("balance", "yookassa", "auth", "notifications", "cards", "identity")
    )
    print(
        f"""
billy is running.
  HTTP API     {base}/api/v1/   (docs: {base}/api/v1/docs)
  admin        {base}/admin/    user {admin[0]}  password {admin[1]}
  gRPC         127.0.0.1:{ports["grpc"]}
  Balance      emulator at {balance}/xmlrpc (clients: {balance}/_emulator/clients)
  YooKassa     emulator at {yookassa}/v3 (payments: {yookassa}/_emulator/payments)
  Auth API     emulator at {auth} (roles: {auth}/_emulator/roles)
  notifications emulator at {notifications} (open it in a browser to read what users were sent)
  cards        emulator at {cards} (card payment system: {cards}/_emulator/payments)
  identity     emulator at {identity} (identity provider: {identity}/_emulator/families)
  database     {os.environ["DATABASE_URL"]}{_broker_line()}
  API key      {api_key}   (granted {", ".join(w[0] for w in DEMO_WORKSPACES)})

Family accounts: the taxi's demo family is {family_id}, owner {DEMO_FAMILY_OWNER} (README: Family accounts).
Money in: c2b's {DEMO_CLIENT} has a payer and a prepay contract; form an invoice:
  curl -X POST {base}/api/v1/workspaces/c2b/clients/{DEMO_CLIENT}/invoices \\
       -H 'Authorization: Bearer {api_key}' -H 'Content-Type: application/json' \\
       -d '{{"invoice_id": "inv-1", "amount": "1000.00"}}'
pay its payment_url on Balance's page; GET .../clients/{DEMO_CLIENT}/wallet shows the money; charge it:
  curl -X POST {base}/api/v1/workspaces/c2b/clients/{DEMO_CLIENT}/charges -H 'Authorization: Bearer {api_key}' \\
       -H 'Content-Type: application/json' -d '{{"charge_id": "ch-1", "product": "listing", "amount": "300.00"}}'
Subscribe a cinema user, open payment.confirmation_url, pay with 5555 5555 5555 4477 (4000... declines):
  curl -X POST {base}/api/v1/workspaces/cinema/users/user-1/subscriptions \\
       -H 'Authorization: Bearer {api_key}' -H 'Content-Type: application/json' \\
       -H "Idempotency-Key: $(uuidgen || date +%s%N)" \\
       -d '{{"plan": "monthly", "return_url": "{base}/admin/subscriptions/subscription/"}}'

Ctrl-C stops everything; data stays in {data_dir}.
""",
        flush=True,
    )
