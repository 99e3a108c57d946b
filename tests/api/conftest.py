"""The money tests' client and keys, for the gRPC tests here that charge a wallet."""

from tests.charges.conftest import client_a, service_key  # noqa: F401  (fixtures)
