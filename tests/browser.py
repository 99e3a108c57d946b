"""Chromium for the browser tests: Debian's `/usr/bin/chromium`, which `scripts/bootstrap` installs,
driven by Playwright. CI never skips a browser test; elsewhere a machine without it skips them."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")


def require_chromium() -> None:
    """Called at a browser test module's top: fail on CI, skip elsewhere, when Chromium is missing."""
    if CHROMIUM.exists():
        return
    missing = f"{CHROMIUM} is missing: scripts/bootstrap installs Debian's chromium (as root, with apt-get)"
    if os.environ.get("CI") == "true":
        pytest.fail(missing, pytrace=False)
    pytest.skip(missing, allow_module_level=True)


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium. Playwright's sync API keeps an event loop running in this thread; Django's
    ORM, used by the fixtures and tests in the same thread, would refuse to run next to it."""
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()
