"""pytest plugin (loaded with `-p billy.pytest_db`): the test suite's database.

DATABASE_URL when set; otherwise the private cluster under BILLY_DATA_DIR is started. Loaded before
pytest-django configures Django, so settings see the URL. Tests run in their own `test_<name>`
database, created and dropped by pytest-django: dev data is never touched.
"""

import atexit
import os
import shutil
import tempfile

# Every HTTP API answer of the run, in this process and in the billy processes tests start, is
# logged to a file of this run's own; tests/api/test_openapi_contract.py checks them against the
# OpenAPI document at the end, and the file goes when the run ends.
_contract_dir = tempfile.mkdtemp(prefix="billy-api-contract-")
os.environ["BILLY_API_CONTRACT_LOG"] = os.path.join(_contract_dir, "answers.jsonl")
atexit.register(shutil.rmtree, _contract_dir, ignore_errors=True)

# Tests revoke keys and change grants and expect the next request to see it.
os.environ.setdefault("BILLY_AUTH_CACHE_SECONDS", "0")

if not os.environ.get("DATABASE_URL"):
    from billy.core.embedded_pg import ensure_database_url

    os.environ["DATABASE_URL"] = ensure_database_url()
