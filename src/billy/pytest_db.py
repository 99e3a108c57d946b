"""pytest plugin (loaded with `-p billy.pytest_db`): the test suite's database.

DATABASE_URL when set; otherwise the private cluster under BILLY_DATA_DIR is started. Loaded before
pytest-django configures Django, so settings see the URL. Tests run in their own `test_<name>`
database, created and dropped by pytest-django: dev data is never touched.
"""

import os

# Tests revoke keys and change grants and expect the next request to see it.
os.environ.setdefault("BILLY_AUTH_CACHE_SECONDS", "0")

if not os.environ.get("DATABASE_URL"):
    from billy.core.embedded_pg import ensure_database_url

    os.environ["DATABASE_URL"] = ensure_database_url()
