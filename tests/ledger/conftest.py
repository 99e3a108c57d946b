"""The money tests' fixtures (a client, an API key, a caller of the HTTP API) serve the ledger's too."""

from tests.charges.conftest import api, client_a, service_key  # noqa: F401
