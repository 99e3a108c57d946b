"""The `billy` command as a newcomer runs it."""

import subprocess
import sys

from billy.workspaces.queries import authenticate_api_key
from tests.conftest import START_TIMEOUT, billy_process, make_workspace


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


def test_apikey_create_for_an_unknown_workspace_fails_clearly(transactional_db):
    result = run_billy("apikey", "create", "--workspace", "nope")
    assert result.returncode != 0
    assert "Unknown workspace: nope" in result.stderr


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
