"""Debian's Chromium, driven by playwright, for the tests in tests/browser/.

Importing this module is the check: where /usr/bin/chromium or playwright is missing,
the importing test module is skipped on a developer's machine and FAILS under CI=true
(`scripts/ci_system_deps.sh` installs the browser there), so green in CI means "ran".
Playwright's own browser download is never used.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import require_tool, under_ci

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
# What this machine's closed network and a root user need (docs: machines/python.md).
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

require_tool("chromium", path=str(CHROMIUM))
try:
    from playwright.sync_api import Browser, Page, Route, sync_playwright
except ImportError as exc:  # pragma: no cover - depends on the environment
    why = f"playwright cannot be imported ({exc}): pip install -e '.[dev]'"
    if under_ci():
        pytest.fail(why, pytrace=False)
    pytest.skip(why, allow_module_level=True)

__all__ = ["ARTIFACTS", "Browser", "Page", "Route", "launched", "shot"]


@contextmanager
def launched() -> Iterator[Browser]:
    """A headless Chromium; launch() gives every run a fresh, empty profile directory."""
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


def shot(page: Page, name: str) -> None:
    """A full-page screenshot in test-artifacts/browser/NAME.png, for a person to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
