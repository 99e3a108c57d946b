"""The `billy` command: serve, grpc, worker, dev, emulate, migrate, apikey, db, test, manage."""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from billy.cli_errors import refusal
from billy.core.errors import CommandError

logger = logging.getLogger(__name__)
T = TypeVar("T")


def _setup_django(*, database: bool = True) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billy.settings")
    if database and not os.environ.get("DATABASE_URL"):
        from billy.core.embedded_pg import ensure_database_url

        os.environ["DATABASE_URL"] = ensure_database_url()
    import django

    django.setup()


def _setup_logging() -> None:
    """For processes without Django (the emulators): the same levels and format as Django's LOGGING."""
    import logging.config

    from billy.core.logs import logging_config

    logging.config.dictConfig(logging_config())


def _or_free_port(listen: Callable[[int], T], port: int, *, fallback: bool) -> tuple[T, str | None]:
    """`listen(port)`; if that fails and `fallback` is set, `listen(0)` (any free port) and why it moved."""
    try:
        return listen(port), None
    except OSError as e:
        if not (fallback and port):
            why = os.strerror(e.errno) if e.errno else str(e)
            raise CommandError("port_unavailable", f"Cannot listen on port {port}: {why}; choose another with --port.")
        return listen(0), os.strerror(e.errno) if e.errno else str(e)


def _listening(
    what: str, address: str, *, detail: str = "", asked: int, moved: str | None, port: int, port_file: str | None
) -> None:
    """Say where a server listens (and why not on the port asked), and write the port for `billy dev`."""
    logger.info(
        "%s on %s%s%s", what, address, f" ({detail})" if detail else "", f"; port {asked}: {moved}" if moved else ""
    )
    if port_file:
        # Written aside and renamed: whoever waits for the file never reads half of it.
        path = Path(port_file)
        path.with_suffix(".tmp").write_text(f"{port}\n")
        path.with_suffix(".tmp").replace(path)


def cmd_serve(args: argparse.Namespace) -> None:
    _setup_django()
    from gunicorn.app.base import BaseApplication

    from billy.core.logs import library_level

    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    # Bound here, not by gunicorn, to fall back to a free port when asked: gunicorn only retries.
    listener, moved = _or_free_port(
        lambda port: socket.create_server((args.host, port), family=family), args.port, fallback=args.or_free_port
    )
    port = listener.getsockname()[1]

    def when_ready(_arbiter) -> None:
        _listening(
            "billy serve: HTTP API and admin",
            f"http://{args.host}:{port}",
            detail=f"{args.workers} processes, {args.threads} threads each",
            asked=args.port,
            moved=moved,
            port=port,
            port_file=args.port_file,
        )

    class _Gunicorn(BaseApplication):
        def load_config(self):
            options = {
                "bind": f"fd://{listener.fileno()}",
                "workers": args.workers,
                "worker_class": "billy.api.http.server.EnvelopeThreadWorker",  # gthread, refusals in the envelope
                "threads": args.threads,
                "timeout": 60,
                "graceful_timeout": 10,
                "accesslog": "-" if args.access_log else None,
                "access_log_format": '%(h)s "%(r)s" %(s)s %(b)s %(M)sms pid=%(p)s',
                "errorlog": "-",
                "loglevel": library_level().lower(),
                "when_ready": when_ready,
                "proc_name": "billy-serve",
                "control_socket_disable": True,  # it would write under $HOME
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            from billy.wsgi import application

            return application

    _Gunicorn().run()


def cmd_grpc(args: argparse.Namespace) -> None:
    _setup_django()
    from billy.api.grpc.server import build_server

    (server, port), moved = _or_free_port(
        lambda port: build_server(host=args.host, port=port, max_workers=args.max_workers),
        args.port,
        fallback=args.or_free_port,
    )
    address = f"{args.host}:{port}"
    _listening("billy grpc: gRPC API", address, asked=args.port, moved=moved, port=port, port_file=args.port_file)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    server.stop(grace=5).wait()


def cmd_worker(args: argparse.Namespace) -> None:
    _setup_django()
    from billy.core.worker import run_worker

    queues = [q.strip() for q in args.queues.split(",") if q.strip()] or None
    logger.info(
        "billy worker: jobs from %s, %s at a time", ", ".join(queues) if queues else "every queue", args.concurrency
    )
    run_worker(queues=queues, concurrency=args.concurrency, wait=not args.one_shot)


def cmd_relay(args: argparse.Namespace) -> None:
    _setup_django()
    from django.conf import settings

    from billy.integrations.broker import get_broker
    from billy.relay.publishing import RelayTarget
    from billy.relay.runner import RelaySettings, StreamRefused, run_relay

    if not settings.BILLY_BROKER_URL:
        raise CommandError(
            "broker_not_configured", "Set BILLY_BROKER_URL (e.g. nats://127.0.0.1:4222) to run the relay."
        )
    if not 1 <= settings.BILLY_RELAY_BATCH <= 1000:
        raise CommandError("invalid_arguments", "BILLY_RELAY_BATCH is between 1 and 1000.")
    target = RelayTarget(
        stream=settings.BILLY_BROKER_STREAM,
        subject_prefix=settings.BILLY_BROKER_SUBJECT_PREFIX,
        duplicate_window_seconds=settings.BILLY_BROKER_DUPLICATE_WINDOW_SECONDS,
    )
    config = RelaySettings(
        target=target,
        batch=settings.BILLY_RELAY_BATCH,
        poll_seconds=settings.BILLY_RELAY_POLL_SECONDS,
        lag_log_seconds=settings.BILLY_RELAY_LAG_LOG_SECONDS,
    )
    logger.info(
        "billy relay: the event feed to %s, stream %s, subjects %s.<workspace>.<event type>",
        settings.BILLY_BROKER_URL,
        target.stream,
        target.subject_prefix,
    )
    broker = get_broker()
    if args.check:
        try:
            _check_stream(broker, target)
        finally:
            broker.close()
        return
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        run_relay(broker=broker, config=config, stop=stop)
    except StreamRefused as e:
        raise CommandError("broker_refused", str(e)) from e
    finally:
        broker.close()


def _check_stream(broker, target) -> None:
    from billy.integrations.broker import BrokerError
    from billy.relay.checking import check_stream

    try:
        check = check_stream(broker=broker, target=target)
    except BrokerError as e:
        raise CommandError("broker_unavailable", str(e)) from e
    print(check.summary())
    if not check.ok:
        raise SystemExit(1)


def cmd_families_migrate(args: argparse.Namespace) -> int:
    """Move a workspace's families to the identity provider: resumable, paced, with progress."""
    stopping = threading.Event()  # Ctrl-C: stop after the families at hand (set from the start on)
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    _setup_django()
    from billy.core import clock
    from billy.families import batch
    from billy.integrations.cards import get_card_system
    from billy.integrations.identity import get_identity_provider
    from billy.workspaces.models import Workspace

    workspace = Workspace.objects.filter(name=args.workspace).first()
    if workspace is None:
        raise CommandError("workspace_not_found", f"No workspace {args.workspace!r}.")
    owners = None
    if args.owners:
        owners = [line.strip() for line in Path(args.owners).read_text().splitlines() if line.strip()]
    if args.dry_run:
        found = batch.dry_run(workspace=workspace, owners=owners)
        print(
            f"{found.total} families: {found.migrated} migrated already, {found.partial} partial, "
            f"{found.to_move} to move (dry run: nothing was asked of anyone)"
        )
        return 0
    run, resumed = batch.start_or_resume(workspace=workspace, owners=owners, now=clock.now())
    print(
        f"run #{run.pk}: {'resumed at family #' + str(run.cursor) if resumed else 'started'}, "
        f"{run.total} families, provider calls at most {args.rate or 'unlimited'} a second",
        flush=True,
    )
    started, first = time.monotonic(), run.done + run.partial + run.failed + run.skipped
    bar = _ProgressBar(run.total, f"run #{run.pk}")

    def progress(current) -> None:
        seen = current.done + current.partial + current.failed + current.skipped
        rate = (seen - first) / max(time.monotonic() - started, 1e-9)
        bar.show(
            seen,
            f"done {current.done}  partial {current.partial}  failed {current.failed}  "
            f"skipped {current.skipped}  {rate:.1f}/s",
        )

    try:
        run = batch.run_batch(
            run=run,
            identity=get_identity_provider(),
            cards=get_card_system(),
            rate=args.rate,
            jobs=args.jobs,
            progress=progress,
            stopping=stopping,
        )
    except batch.RunInProgress as e:
        raise CommandError("migration_run_in_progress", str(e)) from e
    elapsed = time.monotonic() - started
    seen = run.done + run.partial + run.failed + run.skipped
    bar.close()
    print(
        f"run #{run.pk} {'finished' if run.status == 'FINISHED' else 'interrupted'}: done {run.done}, "
        f"partial {run.partial}, failed {run.failed}, skipped {run.skipped} of {run.total}; "
        f"{seen - first} families in {elapsed:.1f} s ({(seen - first) / max(elapsed, 1e-9):.1f}/s)",
        flush=True,
    )
    if run.status != "FINISHED":
        print("run the same command again to resume", flush=True)
        return 130
    return 0


def cmd_migrate(args: argparse.Namespace) -> None:
    _setup_django()
    from django.core.management import call_command

    call_command("migrate", interactive=False)


def cmd_manage(args: argparse.Namespace) -> None:
    _setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["billy manage", *args.rest])


def cmd_apikey(args: argparse.Namespace) -> None:
    _setup_django()
    from billy.core import clock
    from billy.workspaces import operations, queries

    if args.apikey_command == "create":
        issued = operations.create_api_key(
            name=args.name, workspace_names=args.workspace, role=args.role.upper(), now=clock.now()
        )
        granted = ", ".join(sorted(args.workspace))
        print(f"API key '{issued.api_key.name}' ({issued.api_key.role.lower()}) granted: {granted}")
        print("Shown once; billy keeps only its SHA-256:")
        print(issued.secret)
    elif args.apikey_command == "revoke":
        key = queries.get_api_key_by_prefix(args.prefix)
        operations.revoke_api_key(api_key_id=key.pk, now=clock.now())
        print(f"revoked {key}")
    else:
        rows = [_api_key_row(key) for key in queries.list_api_keys()]
        if args.json:
            print(json.dumps({"api_keys": rows}, ensure_ascii=False, indent=2))
            return
        for row in rows:
            state = f"revoked {row['revoked_at'][:10]}" if row["revoked_at"] else "active"
            names = ",".join(row["workspaces"])
            print(f"{row['prefix']}…  {row['role']:8}  {state:18}  {row['name']}  [{names}]")


def cmd_balance_notify_url(args: argparse.Namespace) -> None:
    """The URL to give Balance for the workspace's payment notifications (its secret included)."""
    _setup_django()
    from billy.workspaces import operations, queries

    workspace = queries.get_workspace(args.workspace)
    secret = (
        operations.rotate_notification_secret(name=workspace.name)
        if args.rotate
        else workspace.balance_notification_secret
    )
    print(f"{args.base_url.rstrip('/')}/api/v1/workspaces/{workspace.name}/balance/notifications/{secret}")


class _ProgressBar:
    """A progress bar on stderr, redrawn in place on a terminal (a line per tenth elsewhere)."""

    def __init__(self, total: int, label: str, width: int = 30) -> None:
        self.total, self.label, self.width, self.done, self._shown = max(total, 1), label, width, 0, -1
        self.tty = sys.stderr.isatty()

    def __call__(self, step: int = 1) -> None:
        self.show(self.done + step)

    def show(self, done: int, detail: str = "") -> None:
        """Draw the bar at `done` of the total, with `detail` after the count."""
        self.done = done
        tenth = self.done * 10 // self.total
        if not self.tty and tenth == self._shown:
            return
        self._shown = tenth
        filled = min(self.width, self.width * self.done // self.total)
        line = f"{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total}"
        line += f"  {detail}" if detail else ""
        sys.stderr.write(("\r" + line) if self.tty else line + "\n")
        sys.stderr.flush()

    def close(self) -> None:
        if self.tty:
            sys.stderr.write("\n")


def cmd_reconcile(args: argparse.Namespace) -> None:
    """Fetch the month's acts and Balance's consumed totals, reconcile, print a summary table."""
    _setup_django()
    from billy.consumption import acts, queries, reconciliation
    from billy.consumption.months import parse_month
    from billy.core import clock
    from billy.core.money import format_amount
    from billy.integrations.balance import get_balance
    from billy.workspaces.models import Workspace
    from billy.workspaces.queries import get_workspace

    month, balance, now = parse_month(args.month), get_balance(), clock.now()
    workspaces = [get_workspace(args.workspace)] if args.workspace else list(Workspace.objects.order_by("name"))
    runs = []
    for workspace in workspaces:
        bar = _ProgressBar(acts.bound_contracts(workspace=workspace).count(), f"{workspace.name}: fetching acts")
        fetched = acts.fetch_acts(month=month, workspace=workspace, balance=balance, now=now, progress=bar)
        bar.close()
        if fetched.failed:
            print(f"{workspace.name}: Balance did not answer for {fetched.failed} clients; their acts may be missing")
        read = acts.read_balance_totals(workspace=workspace, balance=balance, now=now)
        if read.failed:
            print(f"{workspace.name}: Balance's totals of {read.failed} orders not read ({read.error})")
        runs.append(reconciliation.reconcile_month(workspace=workspace, month=month, now=now))
    header = ("workspace", "month", "clients", "mismatches", "ledger", "reported", "acts", "currency")
    rows = [
        (
            run.workspace.name,
            f"{run.month:%Y-%m}",
            str(run.clients),
            str(run.mismatches),
            format_amount(run.ledger_total),
            format_amount(run.reported_total),
            format_amount(run.act_total),
            run.currency,
        )
        for run in runs
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    for run in runs:
        for reason, lines, amount in queries.reason_totals(reconciliation=run):
            print(f"{run.workspace.name}: {reason}: {lines} clients, {format_amount(amount)} {run.currency}")


def _api_key_row(key) -> dict:
    """What `billy apikey list` shows of a key, in text and in JSON alike."""
    return {
        "prefix": key.prefix,
        "role": key.role.lower(),
        "state": "revoked" if key.revoked_at else "active",
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
        "name": key.name,
        "workspaces": [w.name for w in key.workspaces.all()],
    }


def cmd_emulate(args: argparse.Namespace) -> None:
    _setup_logging()
    options: dict = {"state_file": Path(args.state_file) if args.state_file else None}
    if args.system == "balance":
        from billy.integrations.balance.emulator import BalanceEmulator as Emulator

        urls = dict(args.notify_url)
        options.update(
            notify_url=urls.pop(None, None),
            notify_urls=urls,
            notify_scale=args.notify_scale,
            account_delay_seconds=args.account_delay,
        )
    elif args.system == "yookassa":
        from billy.integrations.yookassa.emulator import YooKassaEmulator as Emulator

        options["webhooks"] = dict(args.webhook)
    elif args.system == "auth":
        from billy.integrations.auth_api.emulator import AuthEmulator as Emulator
    elif args.system == "cards":
        from billy.integrations.cards.emulator import CardsEmulator as Emulator
    elif args.system == "identity":
        from billy.integrations.identity.emulator import IdentityEmulator as Emulator

        options["rate"] = args.rate
    else:
        from billy.integrations.notifications.emulator import NotificationsEmulator as Emulator

    emulator, moved = _or_free_port(
        lambda port: Emulator(host=args.host, port=port, **options), args.port, fallback=args.or_free_port
    )
    base = emulator.base_url
    what, address = {
        "balance": ("Balance emulator", f"{base}/xmlrpc"),
        "yookassa": ("YooKassa emulator", f"{base}/v3"),
        "auth": ("Auth API emulator", base),
        "notifications": ("Notification service emulator", base),
        "cards": ("Card payment system emulator", base),
        "identity": ("Identity provider emulator", base),
    }[args.system]
    port = int(base.rsplit(":", 1)[1])
    _listening(what, address, asked=args.port, moved=moved, port=port, port_file=args.port_file)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        emulator.serve_forever()
    except KeyboardInterrupt:
        pass


def cmd_db(args: argparse.Namespace) -> None:
    from billy.core.embedded_pg import EmbeddedPostgres, data_dir_from_env, ensure_database_url

    if args.db_command == "url":
        print(ensure_database_url())
    elif args.db_command == "stop":
        EmbeddedPostgres(data_dir_from_env()).stop()
        print("stopped")


def cmd_dev(args: argparse.Namespace) -> None:
    from billy.dev import run_dev

    sys.exit(run_dev())


def _project_root() -> Path:
    for path in [Path.cwd(), *Path.cwd().parents]:
        if (path / "pyproject.toml").exists() and (path / "src" / "billy").is_dir():
            return path
    raise CommandError("not_a_checkout", "Run `billy test` inside the billy checkout.")


def cmd_test(args: argparse.Namespace) -> None:
    root = _project_root()
    bin_dir = Path(sys.executable).parent
    steps = [
        [str(bin_dir / "ruff"), "check", "."],
        [str(bin_dir / "ruff"), "format", "--check", "."],
        [str(bin_dir / "lint-imports")],
        [str(bin_dir / "pytest"), *args.pytest_args],
    ]
    for step in steps:
        print("$ " + " ".join([Path(step[0]).name, *step[1:]]), flush=True)
        result = subprocess.run(step, cwd=root, check=False)
        if result.returncode != 0:
            sys.exit(result.returncode)


def _add_listen_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--or-free-port", action="store_true", help="when --port is taken, listen on a free port instead")
    p.add_argument("--port-file", metavar="PATH", help="once listening, write the port to PATH (for `billy dev`)")


def _notify_url(spec: str) -> tuple[int | None, str]:
    service_id, _, url = spec.partition("=")
    if service_id.isdigit() and url:
        return int(service_id), url
    if not spec.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(f"{spec!r} is not URL or SERVICE_ID=URL")
    return None, spec


def _webhook(spec: str) -> tuple[str, str]:
    shop_id, equals, url = spec.partition("=")
    if not (shop_id and equals and url):
        raise argparse.ArgumentTypeError(f"{spec!r} is not SHOP_ID=URL")
    return shop_id, url


class _Parser(argparse.ArgumentParser):
    """argparse, with a mistake said the way every other refusal is: one line with a code, exit 2."""

    def error(self, message: str):
        self.exit(2, f"billy: invalid_arguments: {self.prog}: {message} (see `{self.prog} --help`).\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="billy", description="billy, the billing service")
    parser.add_argument("--version", action="version", version=f"billy {importlib.metadata.version('billy')}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="HTTP API and admin (gunicorn, several processes)")
    p.add_argument("--host", default=os.environ.get("BILLY_HTTP_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("BILLY_HTTP_PORT", "8000")))
    p.add_argument("--workers", type=int, default=int(os.environ.get("BILLY_HTTP_WORKERS", "2")))
    p.add_argument("--threads", type=int, default=int(os.environ.get("BILLY_HTTP_THREADS", "8")))
    p.add_argument("--access-log", action="store_true")
    _add_listen_options(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("grpc", help="gRPC API with health and reflection")
    p.add_argument("--host", default=os.environ.get("BILLY_GRPC_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("BILLY_GRPC_PORT", "50051")))
    p.add_argument("--max-workers", type=int, default=16)
    _add_listen_options(p)
    p.set_defaults(func=cmd_grpc)

    p = sub.add_parser("worker", help="run background jobs (Procrastinate)")
    p.add_argument("--concurrency", type=int, default=int(os.environ.get("BILLY_WORKER_CONCURRENCY", "4")))
    p.add_argument("--queues", default="", help="comma-separated queues (default: all)")
    p.add_argument("--one-shot", action="store_true", help="exit when no job is left")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("dev", help="everything for a newcomer: database, processes, emulators, demo data")
    p.set_defaults(func=cmd_dev)

    p = sub.add_parser("emulate", help="run an emulator of an external system")
    p.add_argument("system", choices=["balance", "yookassa", "auth", "notifications", "cards", "identity"])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port (printed)")
    _add_listen_options(p)
    p.add_argument("--state-file", help="keep the emulator's data in this JSON file between runs")
    p.add_argument(
        "--webhook",
        action="append",
        default=[],
        type=_webhook,
        metavar="SHOP_ID=URL",
        help="yookassa: send this shop's notifications to URL (repeatable)",
    )
    p.add_argument(
        "--notify-url",
        action="append",
        default=[],
        type=_notify_url,
        metavar="[SERVICE_ID=]URL",
        help="balance: send NotifyOrder calls to URL, for one service or every other (repeatable)",
    )
    p.add_argument(
        "--notify-scale",
        type=float,
        default=1.0,
        help="balance: multiply the notification retry schedule (10 s, 1 min, 5 min, 30 min, hourly) by this",
    )
    p.add_argument(
        "--account-delay",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="balance: how long a new contract's personal account takes to open",
    )
    p.add_argument(
        "--rate", type=float, default=None, metavar="N", help="identity: refuse API requests past N a second (429)"
    )
    p.set_defaults(func=cmd_emulate)

    p = sub.add_parser("relay", help="publish the event feed to NATS JetStream (BILLY_BROKER_URL)")
    p.add_argument(
        "--check",
        action="store_true",
        help="instead: read the stream whole and say whether it holds every event of the feed once, in order",
    )
    p.set_defaults(func=cmd_relay)

    p = sub.add_parser("families", help="family accounts: move them to the identity provider")
    families = p.add_subparsers(dest="families_command", required=True)
    m = families.add_parser("migrate", help="move families to the identity provider (resumable)")
    m.add_argument("--workspace", required=True)
    chosen = m.add_mutually_exclusive_group(required=True)
    chosen.add_argument("--all", action="store_true", help="every family of the workspace")
    chosen.add_argument("--owners", metavar="FILE", help="the families of the owners in FILE (one uid a line)")
    m.add_argument("--rate", type=float, default=None, metavar="N", help="at most N provider calls a second")
    m.add_argument("--jobs", type=int, default=4, metavar="N", help="families moved side by side (default 4)")
    m.add_argument("--dry-run", action="store_true", help="say what would move; ask nothing of anyone")
    m.set_defaults(func=cmd_families_migrate)

    p = sub.add_parser("migrate", help="apply database migrations")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("apikey", help="create, list or revoke API keys")
    keys = p.add_subparsers(dest="apikey_command", required=True, metavar="{create,revoke,list}")
    c = keys.add_parser("create", help="print a new key, alone on the last line")
    c.add_argument("--workspace", action="append", required=True, help="grant this workspace (repeatable)")
    c.add_argument("--name", default="api key", help="who holds the key")
    c.add_argument("--role", choices=["service", "operator"], default="service")
    r = keys.add_parser("revoke", help="revoke the key with this prefix")
    r.add_argument("prefix")
    ls = keys.add_parser("list", help="list keys (prefixes only)")
    ls.add_argument("--json", action="store_true", help='one JSON document: {"api_keys": [...]}')
    p.set_defaults(func=cmd_apikey)

    p = sub.add_parser(
        "balance-notify-url", help="the URL Balance sends a workspace's payment notifications to (secret included)"
    )
    p.add_argument("workspace")
    p.add_argument("--base-url", default="http://127.0.0.1:8000", help="where billy's HTTP API is reached")
    p.add_argument("--rotate", action="store_true", help="make a new secret first (the old URL stops working)")
    p.set_defaults(func=cmd_balance_notify_url)

    p = sub.add_parser("reconcile", help="reconcile a month: billy's ledger and reports against Balance's acts")
    p.add_argument("--month", required=True, help="YYYY-MM")
    p.add_argument("--workspace", help="one workspace (all of them by default)")
    p.set_defaults(func=cmd_reconcile)

    p = sub.add_parser("db", help="the embedded PostgreSQL cluster (when DATABASE_URL is unset)")
    p.add_argument("db_command", choices=["url", "stop"])
    p.set_defaults(func=cmd_db)

    p = sub.add_parser("test", help="the whole test suite: ruff, the layer contract, pytest")
    p.add_argument("pytest_args", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_test)

    p = sub.add_parser("manage", help="any Django management command")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_manage)
    return parser


def main(argv: list[str] | None = None) -> None:
    # gRPC's C core logs to stderr on its own, at INFO; quiet like the other libraries unless DEBUG.
    if os.environ.get("BILLY_LOG_LEVEL", "").strip().upper() != "DEBUG":
        os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command == "test":
        args.pytest_args = [*args.pytest_args, *extra]  # `billy test -k name -x` passes through to pytest
    elif extra and args.command != "manage":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    elif extra:
        args.rest = [*args.rest, *extra]
    try:
        code = args.func(args)
    except Exception as e:
        said = refusal(e)
        if said is None:
            raise  # a bug: its traceback is what a person needs
        sys.exit(f"billy: {said[0]}: {said[1]}")
    if isinstance(code, int) and code:
        sys.exit(code)


if __name__ == "__main__":
    main()
