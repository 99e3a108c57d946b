"""A bounded schemathesis run against the served OpenAPI document: no input produces a 5xx, and
every answer is one the document describes (status, content type, headers, body schema)."""

import os
import re
import subprocess
import sys
from pathlib import Path

from django.db import connection

from billy.clients.operations import register_client
from tests.charges.conftest import fund
from tests.conftest import NOW, make_api_key
from tests.families.conftest import make_family


def test_no_generated_request_gets_a_server_error(live_billy, workspace, balance, balance_control, cards, tmp_path):
    key = make_api_key("c2b")
    client = register_client(
        workspace=workspace,
        service_client_id="client-1",
        name="ООО Ромашка",
        email="info@romashka.ru",
        phone="+74951234567",
        balance=balance,
        now=NOW,
    ).client
    fund(client, 1_000_000_00)  # so generated charges can go through
    # A family with a card and a member, so generated family calls reach the card system.
    family = make_family(workspace, cards, owner="owner-1", members=[("kid-1", "1000.00")]).family
    st = Path(sys.executable).parent / "st"
    # Fix the workspace to the one the key is granted, so generated requests reach registration.
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        '[parameters]\n"path.workspace" = "c2b"\n"path.service_client_id" = "client-1"\n'
        f'"path.family_id" = "{family.family_id}"\n'
    )
    result = subprocess.run(
        [
            str(st),
            "--config-file",
            str(config),
            "run",
            f"{live_billy.url}/api/v1/openapi.json",
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,"
            "response_schema_conformance,response_headers_conformance",
            "--max-examples",
            "40",
            "--seed",
            os.environ.get("BILLY_SCHEMATHESIS_SEED", "20261123"),  # another seed explores further
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
        assert cursor.fetchone()[0] == 1, "a service key must not be able to adjust wallets"
        cursor.execute(
            """
            SELECT count(*) FROM ledger_account a
             WHERE a.kind = 'WALLET'
               AND a.balance <> (SELECT coalesce(sum(amount), 0) FROM ledger_entry e WHERE e.account_id = a.id)
            """
        )
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT count(*) FROM charge WHERE status = 'COMPLETED' AND transaction_id IS NULL")
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT count(*) FROM event WHERE type = 'charge.completed'")
        (completed,) = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM charge WHERE NOT hold")
        assert completed == cursor.fetchone()[0]
