"""Debian's Chromium for browser tests, driven by Playwright (never a downloaded browser).

``make engines`` (``tools/engines/provision.py``, target ``chromium``) installs the
Debian packages ``chromium`` and ``chromium-driver``.  :func:`open_chromium` fails
the test (it does not skip) when the binary is missing.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import Browser

CHROMIUM = Path("/usr/bin/chromium")
#: Flags for a headless Chromium on a machine without network (no background traffic).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def open_chromium() -> Iterator[Browser]:
    """Launch headless Chromium with Playwright; close it after."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: `make engines` (python3 tools/engines/provision.py"
            " chromium) installs Debian's chromium and chromium-driver"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
