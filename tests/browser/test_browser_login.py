"""`lava login --web` end to end in a real headless Chromium (Debian's, via playwright).

`lava` runs as a subprocess with `BROWSER=true`, so it opens nothing itself; the test
reads the URL it prints, opens it in Chromium and clicks. One emulator is built as
`lava emulator serve` builds it (`build_app`, no secret handed to the login routes):
the login must land in the wallet it was started with, not a new empty one. Screenshots of the connect
page and of the final page land in test-artifacts/browser/. Skipped, with the reason
shown, only where /usr/bin/chromium or playwright is missing, and never under CI=true,
where that is a failure (`scripts/ci_system_deps.sh` installs the browser).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from lava_cli.emulator.app import create_app
from lava_cli.emulator.authflow import auth_routes
from lava_cli.emulator.server import EmulatorHandle, build_app, start_in_thread
from tests.helpers.browser import Browser, Page, Route, launched, shot
from tests.helpers.clock import FakeClock
from tests.helpers.env import clean_env
from tests.helpers.process import lava, spawn_lava

SECRET = "aks_test_" + "C" * 32
SERVED = "aks_test_" + "D" * 32  # the secret of the emulator built as `serve` builds it
URL_RE = re.compile(r"(http://127\.0\.0\.1:\d+/auth/connect\?\S+)")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="module")
def emu(clock: FakeClock) -> Iterator[EmulatorHandle]:
    with start_in_thread(
        secrets=[SECRET],
        clock=clock,
        app_factory=lambda store, c: create_app(store, c, auth_routes(store, c, secret=SECRET)),
    ) as handle:
        yield handle


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launched() as chromium:
        yield chromium


@pytest.fixture
def page(browser: Browser, clock: FakeClock) -> Iterator[Page]:
    clock.offset = timedelta(0)
    context = browser.new_context(viewport={"width": 800, "height": 600})
    yield context.new_page()
    context.close()


class Cli:
    """`lava login --web` in a subprocess with its own config dir; file storage, since
    a subprocess cannot share the in-memory keyring."""

    def __init__(self, emu: EmulatorHandle, config: Path) -> None:
        self.env = clean_env(
            LAVA_CONFIG_DIR=str(config), LAVA_BASE_URL=emu.base_url, BROWSER="true"
        )
        self.proc = spawn_lava(["login", "--web", "--insecure-storage"], self.env)
        self.seen = ""

    def url(self) -> str:
        assert self.proc.stderr is not None
        while not (match := URL_RE.search(self.seen)):
            line = self.proc.stderr.readline()
            assert line, f"lava exited without printing a URL: {self.seen}"
            self.seen += line
        return match.group(1)

    def finish(self) -> tuple[int, str]:
        try:
            out, err = self.proc.communicate(timeout=30)
        finally:
            self.proc.kill()
        return self.proc.returncode, out + self.seen + err

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`lava ARGS --json` with the credentials the login stored."""
        return lava([*args, "--json"], {**self.env, "LAVA_BASE_URL": ""}, timeout=30)

    def status(self) -> dict[str, Any]:
        return json.loads(self.run("auth", "status").stdout)  # type: ignore[no-any-return]


@pytest.fixture
def cli(emu: EmulatorHandle, tmp_path: Path) -> Iterator[Cli]:
    runner = Cli(emu, tmp_path / "config")
    yield runner
    runner.proc.kill()


@pytest.fixture(scope="module")
def served() -> Iterator[EmulatorHandle]:
    """The emulator as `lava emulator serve` builds it: `build_app`, first secret's wallet."""
    with start_in_thread(secrets=[SERVED], app_factory=build_app) as handle:
        yield handle


def test_authorize_in_chromium_logs_the_terminal_in(page: Page, cli: Cli, emu: EmulatorHandle):
    page.goto(cli.url())
    assert page.title() == "Connect the Lava CLI"
    assert page.locator("#wallet").inner_text().startswith("wal_")
    shot(page, "connect-page")
    page.click("#authorize")
    page.wait_for_url(re.compile(r"http://127\.0\.0\.1:\d+/callback\?code="))
    assert "can close this tab" in page.locator("main").inner_text()
    shot(page, "logged-in-page")
    code, output = cli.finish()
    assert code == 0, output
    assert "✓ Logged in to" in output
    assert SECRET not in output
    status = cli.status()
    assert status["logged_in"] is True
    assert status["base_url"] == emu.base_url
    assert status["secret_source"] == "file"


def test_deny_in_chromium_exits_3(page: Page, cli: Cli):
    page.goto(cli.url())
    page.click("#deny")
    page.wait_for_url(re.compile(r"/callback\?error=access_denied"))
    assert "Login failed" in page.locator("h1").inner_text()
    shot(page, "denied-page")
    code, output = cli.finish()
    assert code == 3, output
    assert "denied in the browser" in output
    assert cli.status()["logged_in"] is False


def test_tampered_state_in_chromium_exits_3(page: Page, cli: Cli):
    url = cli.url()
    page.goto(re.sub(r"state=[0-9a-f]+", "state=" + "0" * 32, url))
    page.click("#authorize")
    page.wait_for_url(re.compile(r"/callback\?"))
    code, output = cli.finish()
    assert code == 3, output
    assert "state does not match" in output
    assert cli.status()["logged_in"] is False


def intercept_decision(page: Page, before_redirect: Any) -> None:
    """Let the decision through, but run `before_redirect(callback_url)` before the
    browser follows the 303 to the CLI (redirected requests cannot be routed)."""

    def handle(route: Route) -> None:
        response = route.fetch(max_redirects=0)
        before_redirect(response.headers["location"])
        route.fulfill(response=response)

    page.route("**/auth/connect/decision", handle)


def test_expired_code_in_chromium_exits_3(page: Page, cli: Cli, clock: FakeClock):
    def expire(_: str) -> None:
        clock.offset = timedelta(seconds=61)

    intercept_decision(page, expire)
    page.goto(cli.url())
    page.click("#authorize")
    page.wait_for_url(re.compile(r"/callback\?code="))
    code, output = cli.finish()
    assert code == 3, output
    assert "expired" in output
    assert "Login failed" in page.locator("h1").inner_text()


def test_reused_code_in_chromium_exits_3(page: Page, cli: Cli, emu: EmulatorHandle):
    def steal(location: str) -> None:
        stolen = dict(parse_qsl(urlsplit(location).query))["code"]
        first = httpx.post(emu.base_url + "/auth/callback", json={"code": stolen})
        assert first.status_code == 200

    intercept_decision(page, steal)
    page.goto(cli.url())
    page.click("#authorize")
    page.wait_for_url(re.compile(r"/callback\?code="))
    code, output = cli.finish()
    assert code == 3, output
    assert "already used" in output


def test_login_against_a_served_emulator_lands_in_its_wallet(
    page: Page, served: EmulatorHandle, tmp_path: Path
):
    owner = httpx.Client(
        base_url=served.base_url, headers={"Authorization": f"Bearer {SERVED}"}, timeout=10
    )
    wallet = owner.get("/wallet").json()["wallet_id"]
    key = owner.post("/spend_keys", json={"name": "made before the login"}).json()
    cli = Cli(served, tmp_path / "config")
    try:
        page.goto(cli.url())
        assert page.locator("#wallet").inner_text() == wallet  # the page names it
        shot(page, "connect-page-served")
        page.click("#authorize")
        page.wait_for_url(re.compile(r"http://127\.0\.0\.1:\d+/callback\?code="))
        code, output = cli.finish()
    finally:
        cli.proc.kill()
    assert code == 0, output
    assert SERVED not in output
    done = cli.run("keys", "list")
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)
    assert [k["spend_key_id"] for k in listed] == [key["spend_key_id"]]
    assert {k["wallet_id"] for k in listed} == {wallet}
    names = [k["name"] for k in owner.get("/secret_keys").json()["data"]]
    assert names == ["lava login --web", "started with"]
    owner.close()
