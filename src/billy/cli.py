"""The `billy` command: serve, grpc, worker, dev, emulate, migrate, apikey, db, test, manage."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path


def _setup_django(*, database: bool = True) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billy.settings")
    if database and not os.environ.get("DATABASE_URL"):
        from billy.core.embedded_pg import ensure_database_url

        os.environ["DATABASE_URL"] = ensure_database_url()
    import django

    django.setup()


def cmd_serve(args: argparse.Namespace) -> None:
    _setup_django()
    from gunicorn.app.base import BaseApplication

    class _Gunicorn(BaseApplication):
        def load_config(self):
            options = {
                "bind": f"{args.host}:{args.port}",
                "workers": args.workers,
                "worker_class": "gthread",
                "threads": args.threads,
                "timeout": 60,
                "graceful_timeout": 10,
                "accesslog": "-" if args.access_log else None,
                "access_log_format": '%(h)s "%(r)s" %(s)s %(b)s %(M)sms pid=%(p)s',
                "errorlog": "-",
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

    server, port = build_server(host=args.host, port=args.port, max_workers=args.max_workers)
    print(f"billy gRPC listening on {args.host}:{port}", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    server.stop(grace=5).wait()


def cmd_worker(args: argparse.Namespace) -> None:
    _setup_django()
    from django.core.management import call_command

    options = ["--concurrency", str(args.concurrency)]
    if args.queues:
        options += ["--queues", args.queues]
    if args.one_shot:
        options.append("--one-shot")
    call_command("procrastinate", "worker", *options)


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
    from billy.core.errors import BillyError
    from billy.workspaces import operations
    from billy.workspaces.models import ApiKey

    if args.apikey_command == "create":
        try:
            issued = operations.create_api_key(
                name=args.name,
                workspace_names=args.workspace,
                role=args.role.upper(),
                now=clock.now(),
            )
        except BillyError as e:
            sys.exit(f"error: {e.message} {e.details or ''}".strip())
        granted = ", ".join(sorted(args.workspace))
        print(f"API key '{issued.api_key.name}' ({issued.api_key.role.lower()}) granted: {granted}")
        print("Shown once; billy keeps only its SHA-256:")
        print(issued.secret)
    elif args.apikey_command == "revoke":
        key = ApiKey.objects.filter(prefix=args.prefix).first()
        if key is None:
            sys.exit(f"error: no API key with prefix {args.prefix!r}")
        operations.revoke_api_key(api_key_id=key.pk, now=clock.now())
        print(f"revoked {key}")
    else:
        for key in ApiKey.objects.prefetch_related("workspaces"):
            state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
            names = ",".join(w.name for w in key.workspaces.all())
            print(f"{key.prefix}…  {key.role.lower():8}  {state:18}  {key.name}  [{names}]")


def cmd_emulate(args: argparse.Namespace) -> None:
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    state_file = Path(args.state_file) if args.state_file else None
    if args.system == "balance":
        from billy.integrations.balance.emulator import BalanceEmulator

        emulator = BalanceEmulator(host=args.host, port=args.port, state_file=state_file)
        banner = f"Balance emulator: XML-RPC at {emulator.url}, control API at {emulator.base_url}/_emulator/"
    elif args.system == "yookassa":
        from billy.integrations.yookassa.emulator import YooKassaEmulator

        webhooks = dict(spec.split("=", 1) for spec in args.webhook)
        emulator = YooKassaEmulator(host=args.host, port=args.port, state_file=state_file, webhooks=webhooks)
        banner = (
            f"YooKassa emulator: API at {emulator.api_url}, payment pages at {emulator.base_url}/checkout/, "
            f"control API at {emulator.base_url}/_emulator/"
        )
    elif args.system == "auth":
        from billy.integrations.auth_api.emulator import AuthEmulator

        emulator = AuthEmulator(host=args.host, port=args.port, state_file=state_file)
        banner = f"Auth API emulator at {emulator.base_url}, control API at {emulator.base_url}/_emulator/"
    else:
        from billy.integrations.notifications.emulator import NotificationsEmulator

        emulator = NotificationsEmulator(host=args.host, port=args.port, state_file=state_file)
        banner = f"Notification service emulator at {emulator.base_url}, control API at {emulator.base_url}/_emulator/"
    print(banner, flush=True)
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
    sys.exit("error: run `billy test` inside the billy checkout")


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="billy", description="billy, the billing service")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="HTTP API and admin (gunicorn, several processes)")
    p.add_argument("--host", default=os.environ.get("BILLY_HTTP_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("BILLY_HTTP_PORT", "8000")))
    p.add_argument("--workers", type=int, default=int(os.environ.get("BILLY_HTTP_WORKERS", "2")))
    p.add_argument("--threads", type=int, default=int(os.environ.get("BILLY_HTTP_THREADS", "8")))
    p.add_argument("--access-log", action="store_true")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("grpc", help="gRPC API with health and reflection")
    p.add_argument("--host", default=os.environ.get("BILLY_GRPC_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("BILLY_GRPC_PORT", "50051")))
    p.add_argument("--max-workers", type=int, default=16)
    p.set_defaults(func=cmd_grpc)

    p = sub.add_parser("worker", help="run background jobs (Procrastinate)")
    p.add_argument("--concurrency", type=int, default=int(os.environ.get("BILLY_WORKER_CONCURRENCY", "4")))
    p.add_argument("--queues", default="", help="comma-separated queues (default: all)")
    p.add_argument("--one-shot", action="store_true", help="exit when no job is left")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("dev", help="everything for a newcomer: database, processes, emulators, demo data")
    p.set_defaults(func=cmd_dev)

    p = sub.add_parser("emulate", help="run an emulator of an external system")
    p.add_argument("system", choices=["balance", "yookassa", "auth", "notifications"])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port (printed)")
    p.add_argument("--state-file", help="keep the emulator's data in this JSON file between runs")
    p.add_argument(
        "--webhook",
        action="append",
        default=[],
        metavar="SHOP_ID=URL",
        help="yookassa: send this shop's notifications to URL (repeatable)",
    )
    p.set_defaults(func=cmd_emulate)

    p = sub.add_parser("migrate", help="apply database migrations")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("apikey", help="create, list or revoke API keys")
    keys = p.add_subparsers(dest="apikey_command", required=True)
    c = keys.add_parser("create", help="print a new key, alone on the last line")
    c.add_argument("--workspace", action="append", required=True, help="grant this workspace (repeatable)")
    c.add_argument("--name", default="api key", help="who holds the key")
    c.add_argument("--role", choices=["service", "operator"], default="service")
    r = keys.add_parser("revoke", help="revoke the key with this prefix")
    r.add_argument("prefix")
    keys.add_parser("list", help="list keys (prefixes only)")
    p.set_defaults(func=cmd_apikey)

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
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command == "test":
        args.pytest_args = [*args.pytest_args, *extra]  # `billy test -k name -x` passes through to pytest
    elif extra and args.command != "manage":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    elif extra:
        args.rest = [*args.rest, *extra]
    args.func(args)


if __name__ == "__main__":
    main()
