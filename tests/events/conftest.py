"""The money tests' client and keys, for the feed tests that write money movements."""

from tests.charges.conftest import client_a, service_key  # noqa: F401  (fixtures)
