"""The `billy` command as a newcomer runs it."""

import importlib.metadata
import json
import socket
import subprocess
import sys

import httpx

from billy.workspaces.queries import authenticate_api_key
from tests.conftest import START_TIMEOUT, billy_process, billy_server, make_workspace


def run_billy(*args: str) -> subprocess.CompletedProcess:
    process = billy_process(*args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = process.communicate(timeout=START_TIMEOUT)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def test_apikey_create_prints_the_key_alone_on_the_last_line(transactional_db):
    make_workspace("autoru")
    make_workspace("realty")

    result = run_billy("apikey", "create", "--workspace", "autoru", "--workspace", "realty", "--name", "cabinet")

    assert result.returncode == 0, result.stderr
    key = result.stdout.strip().splitlines()[-1]
    assert key.startswith("billy_") and " " not in key and len(key) > 40
    principal = authenticate_api_key(key)
    assert (principal.name, principal.role) == ("cabinet", "SERVICE")


def test_apikey_create_with_operator_role(transactional_db):
    make_workspace("autoru")
    result = run_billy("apikey", "create", "--workspace", "autoru", "--role", "operator")
    assert authenticate_api_key(result.stdout.strip().splitlines()[-1]).role == "OPERATOR"


def test_apikey_create_for_an_unknown_workspace_says_so_in_one_line_with_its_code(transactional_db):
    result = run_billy("apikey", "create", "--workspace", "nope")

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == 'billy: workspace_not_found: No workspace named "nope".\n'


def test_an_invalid_field_is_named_in_the_one_line(transactional_db):
    make_workspace("autoru")

    result = run_billy("apikey", "create", "--workspace", "autoru", "--name", "x" * 129)

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == "billy: validation_failed: Some fields are invalid: name: 1 to 128 characters.\n"


def test_apikey_revoke_of_an_unknown_prefix_says_so(transactional_db):
    result = run_billy("apikey", "revoke", "billy_nope")

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == 'billy: api_key_not_found: No API key with prefix "billy_nope".\n'


def test_a_database_that_does_not_answer_is_one_line_not_a_traceback(refused_port):
    process = billy_process(
        "apikey",
        "list",
        env={"DATABASE_URL": f"postgresql://postgres@127.0.0.1:{refused_port}/billy"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stdout, stderr = process.communicate(timeout=START_TIMEOUT)

    assert (process.returncode, stdout) == (1, "")
    (line,) = stderr.splitlines()
    assert line.startswith(f"billy: unavailable: billy's database at 127.0.0.1:{refused_port} does not answer: ")


def test_a_taken_port_is_one_line_naming_it():
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = run_billy("emulate", "balance", "--port", str(port))

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        f"billy: port_unavailable: Cannot listen on port {port}: Address already in use; choose another with --port.\n"
    )


def test_a_usage_mistake_is_one_line_with_its_code():
    result = run_billy("apikey", "create", "--workspace", "autoru", "--role", "owner")

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "billy: invalid_arguments: billy apikey create: argument --role: invalid choice: 'owner' "
        "(choose from 'service', 'operator') (see `billy apikey create --help`).\n"
    )


def test_version_is_the_installed_distribution_version():
    result = run_billy("--version")

    assert (result.returncode, result.stdout) == (0, f"billy {importlib.metadata.version('billy')}\n")


def test_apikey_list_json_has_the_fields_the_text_shows(transactional_db):
    make_workspace("autoru")
    make_workspace("realty")
    kept = run_billy("apikey", "create", "--workspace", "autoru", "--workspace", "realty", "--name", "cabinet")
    gone = run_billy("apikey", "create", "--workspace", "autoru", "--role", "operator", "--name", "old one")
    run_billy("apikey", "revoke", gone.stdout.splitlines()[-1][:12])

    text = run_billy("apikey", "list")
    listed = run_billy("apikey", "list", "--json")

    assert (listed.returncode, listed.stderr) == (0, "")
    keys = json.loads(listed.stdout)["api_keys"]
    assert [(k["prefix"], k["role"], k["state"], k["name"], k["workspaces"]) for k in keys] == [
        (gone.stdout.splitlines()[-1][:12], "operator", "revoked", "old one", ["autoru"]),
        (kept.stdout.splitlines()[-1][:12], "service", "active", "cabinet", ["autoru", "realty"]),
    ]
    assert keys[0]["revoked_at"] and keys[1]["revoked_at"] is None
    lines = text.stdout.splitlines()
    assert len(lines) == len(keys)
    for line, key in zip(lines, keys, strict=True):
        state = f"revoked {key['revoked_at'][:10]}" if key["revoked_at"] else "active"
        for shown in (key["prefix"], key["role"], state, key["name"], ",".join(key["workspaces"])):
            assert shown in line


def test_apikey_revoke(transactional_db):
    make_workspace("autoru")
    key = run_billy("apikey", "create", "--workspace", "autoru").stdout.strip().splitlines()[-1]

    result = run_billy("apikey", "revoke", key[:12])

    assert result.returncode == 0, result.stderr
    assert authenticate_api_key(key) is None


def test_help_lists_every_command():
    result = subprocess.run([sys.executable, "-m", "billy", "--help"], capture_output=True, text=True, check=True)
    for command in ("serve", "grpc", "worker", "dev", "emulate", "migrate", "apikey", "test"):
        assert command in result.stdout


def test_emulate_balance_takes_its_notification_and_account_options(tmp_path):
    process, port = billy_server(
        "emulate",
        "balance",
        "--notify-url",
        "http://127.0.0.1:9/all",
        "--notify-url",
        "2001=http://127.0.0.1:9/realty",
        "--notify-scale",
        "0.01",
        "--account-delay",
        "5",
        port_file=tmp_path / "balance.port",
        stdout=subprocess.DEVNULL,
    )
    try:
        settings = httpx.get(f"http://127.0.0.1:{port}/_emulator/settings", timeout=10).json()
    finally:
        process.terminate()
        process.wait(timeout=START_TIMEOUT)

    assert settings == {
        "notify_url": "http://127.0.0.1:9/all",
        "notify_urls": {"2001": "http://127.0.0.1:9/realty"},
        "notify_scale": 0.01,
        "account_delay_seconds": 5.0,
        "service_id": 1002,
    }


def test_emulate_balance_refuses_a_notify_url_that_is_no_url():
    result = run_billy("emulate", "balance", "--notify-url", "realty")

    assert result.returncode == 2
    assert "--notify-url: 'realty' is not URL or SERVICE_ID=URL" in result.stderr


def test_balance_notify_url_prints_the_workspace_url_and_rotates_its_secret(transactional_db):
    workspace = make_workspace("c2b")

    shown = run_billy("balance-notify-url", "c2b", "--base-url", "https://billy.example/")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == (
        f"https://billy.example/api/v1/workspaces/c2b/balance/notifications/{workspace.balance_notification_secret}"
    )
    rotated = run_billy("balance-notify-url", "c2b", "--rotate").stdout.strip()
    workspace.refresh_from_db()
    assert rotated.endswith("/" + workspace.balance_notification_secret)
    assert rotated != shown.stdout.strip().replace("https://billy.example", "http://127.0.0.1:8000")
