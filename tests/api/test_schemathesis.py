"""A bounded schemathesis run against the served OpenAPI document: no input produces a 5xx."""

import re
import subprocess
import sys
from pathlib import Path

from django.db import connection

from tests.conftest import make_api_key


def test_no_generated_request_gets_a_server_error(live_billy, workspace, balance_control, tmp_path):
    key = make_api_key("c2b")
    st = Path(sys.executable).parent / "st"
    # Fix the workspace to the one the key is granted, so generated requests reach registration.
    config = tmp_path / "schemathesis.toml"
    config.write_text('[parameters]\n"path.workspace" = "c2b"\n')
    result = subprocess.run(
        [
            str(st),
            "--config-file",
            str(config),
            "run",
            f"{live_billy.url}/api/v1/openapi.json",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "40",
            "--seed",
            "20261123",
            "--request-timeout",
            "20",
            "--header",
            f"Authorization: Bearer {key}",
            "--generation-database",
            "none",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    cases = re.search(r"(\d+) generated, (\d+) passed", result.stdout)
    assert cases and int(cases.group(2)) >= 100, result.stdout[-3000:]
    assert balance_control.calls("CreateClient"), "no generated request reached Balance"
    # Whatever got through, the ledger still balances and no wallet went below zero.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT 1 FROM ledger_entry GROUP BY transaction_id, currency "
            "HAVING sum(amount) <> 0) t"
        )
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT count(*) FROM ledger_account WHERE balance - held < 0 OR held < 0")
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT count(*) FROM ledger_adjustment")
        assert cursor.fetchone()[0] == 0, "a service key must not be able to adjust wallets"
