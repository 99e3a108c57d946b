"""Two Authorization headers over a real socket to `billy serve`: 401, whichever comes first."""

import httpx
import pytest

from tests.charges.conftest import make_client
from tests.conftest import make_api_key


@pytest.mark.parametrize("order", ["good_first", "good_last", "both_good"])
def test_two_authorization_headers_are_401(live_billy, workspace, order):
    make_client(workspace)
    good, bad = ("Authorization", f"Bearer {make_api_key('c2b')}"), ("Authorization", "Bearer wrong")
    headers = {"good_first": [good, bad], "good_last": [bad, good], "both_good": [good, good]}[order]
    url = f"{live_billy.url}/api/v1/workspaces/c2b/clients/client-1"

    one = httpx.get(url, headers=[good], timeout=30)
    two = httpx.get(url, headers=headers, timeout=30)

    assert one.status_code == 200
    assert (two.status_code, two.json()["error"]["code"]) == (401, "unauthenticated")
