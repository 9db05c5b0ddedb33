"""`lava login --web` without a browser: httpx plays the browser against a real emulator.

The CLI runs in-process in a thread (its own streams; the in-memory keyring), or as a
subprocess where a signal is needed. `BROWSER` points webbrowser at a harmless
command, the stdlib's own switch, so nothing real opens.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import socket
import threading
import time
import webbrowser
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest

from lava_cli.emulator.app import create_app
from lava_cli.emulator.authflow import auth_routes
from lava_cli.emulator.server import EmulatorHandle, start_in_thread
from lava_cli.main import run
from lava_cli.ops.weblogin import LIVE_APP_URL, Listener, app_url, check_callback
from tests.conftest import FakeTTY, Result, run_lava, wait_for
from tests.helpers.clock import FakeClock
from tests.helpers.process import spawn_lava

pytestmark = pytest.mark.slow  # real listeners and login deadlines; the browser is a process

SECRET = "aks_test_" + "W" * 32
URL_RE = re.compile(r"(http://127\.0\.0\.1:\d+/auth/connect\?\S+)")


@pytest.fixture(scope="module")
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="module")
def auth_emu(clock: FakeClock) -> Iterator[EmulatorHandle]:
    with start_in_thread(
        secrets=[SECRET],
        clock=clock,
        app_factory=lambda store, c: create_app(store, c, auth_routes(store, c, secret=SECRET)),
    ) as emu:
        yield emu


@pytest.fixture(autouse=True)
def harmless_browser(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> None:
    clock.offset = timedelta(0)
    monkeypatch.setenv("BROWSER", "true")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    # webbrowser reads BROWSER once per process; make it read this test's value.
    monkeypatch.setattr(webbrowser, "_tryorder", None)
    monkeypatch.setattr(webbrowser, "_browsers", {})


class LoginRun:
    """`lava … login --web` in a thread, with streams the test can read while it runs."""

    def __init__(self, *args: str, tty: bool = False, stdin: str = "") -> None:
        kind = FakeTTY if tty else io.StringIO
        self.stdin, self.stdout, self.stderr = kind(stdin), kind(), kind()
        self.code: int | None = None
        self.thread = threading.Thread(target=self._run, args=(list(args),), daemon=True)
        self.thread.start()

    def _run(self, argv: list[str]) -> None:
        self.code = run(argv, stdin=self.stdin, stdout=self.stdout, stderr=self.stderr)

    def url(self, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = URL_RE.search(self.stderr.getvalue())
            if match:
                return match.group(1)
            assert self.thread.is_alive(), self.stderr.getvalue()
            time.sleep(0.01)
        raise AssertionError("no URL printed: " + self.stderr.getvalue())

    def result(self, timeout: float = 20.0) -> Result:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "lava login did not finish"
        assert self.code is not None
        return Result(self.code, self.stdout.getvalue(), self.stderr.getvalue())


def start(emu: EmulatorHandle, *extra: str, tty: bool = False, stdin: str = "") -> LoginRun:
    return LoginRun("--base-url", emu.base_url, "login", "--web", *extra, tty=tty, stdin=stdin)


def params_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def decide(emu: EmulatorHandle, url: str, decision: str = "authorize") -> str:
    """Be the browser: load the connect page, press a button; returns the callback URL."""
    page = httpx.get(url)
    assert page.status_code == 200
    assert "Connect the Lava CLI" in page.text
    assert 'id="authorize"' in page.text or "id=authorize" in page.text
    answer = httpx.post(
        emu.root_url + "/auth/connect/decision", data={**params_of(url), "decision": decision}
    )
    assert answer.status_code == 303
    return answer.headers["location"]


def with_query(url: str, **changes: str | None) -> str:
    query = {k: v for k, v in {**params_of(url), **changes}.items() if v is not None}
    return url.split("?", maxsplit=1)[0] + "?" + urlencode(query)


def port_closed(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return True
    return False


def listener_port(connect: str) -> int:
    return int(params_of(connect)["port"])


# --- the happy path ---------------------------------------------------------------------


def test_web_login_stores_the_secret_and_never_prints_it(
    auth_emu, memory_keyring, tmp_path, monkeypatch
):
    opened = tmp_path / "opened"
    fake = tmp_path / "fake-browser"
    fake.write_text(f'#!/bin/sh\nprintf %s "$1" > {opened}\n')
    fake.chmod(0o755)
    monkeypatch.setenv("BROWSER", f"{fake} %s")  # webbrowser substitutes the URL for %s
    login = start(auth_emu)
    url = login.url()
    assert url.startswith(auth_emu.root_url + "/auth/connect?")  # the emulator's own app URL
    state = params_of(url)["state"]
    assert re.fullmatch(r"[0-9a-f]{32}", state)
    callback = decide(auth_emu, url)
    assert callback.startswith(f"http://127.0.0.1:{listener_port(url)}/callback?code=")
    page = httpx.get(callback)
    result = login.result()
    assert result.code == 0, result.output
    assert page.status_code == 200
    assert "logged in" in page.text and "close this tab" in page.text
    assert opened.read_text() == url  # webbrowser opened exactly the printed URL
    assert memory_keyring.entries[("lava-cli", "profile:default")] == SECRET
    assert SECRET not in result.output and SECRET not in page.text
    assert params_of(callback)["code"] not in result.output
    assert "✓ Logged in to" in result.stderr
    status = json.loads(run_lava("auth", "status", "--json").stdout)
    assert status["logged_in"] is True and status["base_url"] == auth_emu.base_url
    assert port_closed(listener_port(url))  # one callback, then the listener is gone


def test_web_login_against_the_session_emulator(emulator, memory_keyring):
    """The routes are mounted on every emulator the runner builds (ROUTE_PROVIDERS)."""
    login = start(emulator, "--insecure-storage")
    url = login.url()
    httpx.get(decide(emulator, url))
    result = login.result()
    assert result.code == 0, result.output
    assert memory_keyring.entries == {}  # --insecure-storage: the 0600 file instead
    assert run_lava("keys", "list", "--json").code == 0


def test_terminal_offers_the_browser_and_counts_down(auth_emu, memory_keyring, monkeypatch):
    monkeypatch.setenv("DISPLAY", ":0")
    login = LoginRun("--base-url", auth_emu.base_url, "login", tty=True, stdin="\n")
    url = login.url()
    countdown = re.compile(r"\r\s*Waiting for the browser… +\d+ s left")
    wait_for(lambda: countdown.search(login.stderr.getvalue()), "the countdown to tick")
    httpx.get(decide(auth_emu, url))
    result = login.result()
    assert result.code == 0, result.output
    assert "Log in with your browser? [Y/n]" in result.stderr
    assert countdown.search(result.stderr)
    assert memory_keyring.entries[("lava-cli", "profile:default")] == SECRET


def test_terminal_without_a_display_keeps_the_hidden_prompt(auth_emu, memory_keyring):
    result = run_lava("--base-url", auth_emu.base_url, "login", tty=True, input=SECRET + "\n")
    assert result.code == 0, result.output
    assert "browser" not in result.stderr


def test_answering_no_keeps_the_hidden_prompt(auth_emu, memory_keyring, monkeypatch):
    monkeypatch.setenv("DISPLAY", ":0")
    result = run_lava(
        "--base-url", auth_emu.base_url, "login", tty=True, input="n\n" + SECRET + "\n"
    )
    assert result.code == 0, result.output
    assert "Paste your Lava secret key" in result.stderr


def test_web_and_with_token_together_is_a_usage_error():
    assert run_lava("login", "--web", "--with-token", input="x").code == 2


# --- refusals -----------------------------------------------------------------------------


def refused(login: LoginRun, callback: str) -> tuple[Result, httpx.Response]:
    page = httpx.get(callback)
    return login.result(), page


def test_deny_in_the_browser_exits_3(auth_emu, memory_keyring):
    login = start(auth_emu)
    url = login.url()
    callback = decide(auth_emu, url, "deny")
    assert params_of(callback) == {"error": "access_denied", "state": params_of(url)["state"]}
    result, page = refused(login, callback)
    assert result.code == 3
    assert "denied in the browser" in result.stderr
    assert "Login failed" in page.text
    assert memory_keyring.entries == {}
    assert port_closed(listener_port(url))


def test_tampered_state_is_refused_and_the_code_never_exchanged(auth_emu, memory_keyring):
    login = start(auth_emu)
    url = login.url()
    callback = decide(auth_emu, url)
    result, _ = refused(login, with_query(callback, state="f" * 32))
    assert result.code == 3
    assert "state does not match" in result.stderr
    assert memory_keyring.entries == {}
    # The CLI never sent the code: it is still good (and now used up, by us).
    code = params_of(callback)["code"]
    assert httpx.post(auth_emu.base_url + "/auth/callback", json={"code": code}).status_code == 200


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"state": None}, "state does not match"),
        ({"code": None}, "no login code"),
        ({"code": ""}, "no login code"),
    ],
)
def test_missing_state_or_code_is_refused(auth_emu, memory_keyring, change, message):
    login = start(auth_emu)
    url = login.url()
    result, _ = refused(login, with_query(decide(auth_emu, url), **change))
    assert result.code == 3
    assert message in result.stderr
    assert memory_keyring.entries == {}


def test_expired_code_is_refused(auth_emu, memory_keyring, clock):
    login = start(auth_emu)
    callback = decide(auth_emu, login.url())
    clock.offset = timedelta(seconds=61)
    result, page = refused(login, callback)
    assert result.code == 3
    assert "refused the login code" in result.stderr and "expired" in result.stderr
    assert "Login failed" in page.text
    assert memory_keyring.entries == {}


def test_reused_code_is_refused(auth_emu, memory_keyring):
    login = start(auth_emu)
    callback = decide(auth_emu, login.url())
    code = params_of(callback)["code"]
    first = httpx.post(auth_emu.base_url + "/auth/callback", json={"code": code})
    assert first.status_code == 200  # someone else got there first
    result, _ = refused(login, callback)
    assert result.code == 3
    assert "already used" in result.stderr
    assert memory_keyring.entries == {}


def test_timeout_exits_3_and_closes_the_listener(auth_emu, memory_keyring, monkeypatch):
    monkeypatch.setenv("LAVA_LOGIN_TIMEOUT", "1")
    started = time.monotonic()
    login = start(auth_emu)
    url = login.url()
    result = login.result()
    assert result.code == 3
    assert "no answer from the browser within 1 s" in result.stderr
    assert "LAVA_LOGIN_TIMEOUT" in result.stderr
    assert time.monotonic() - started < 10
    assert port_closed(listener_port(url))


def test_a_bad_timeout_setting_is_a_usage_error(auth_emu, monkeypatch):
    monkeypatch.setenv("LAVA_LOGIN_TIMEOUT", "soon")
    result = run_lava("--base-url", auth_emu.base_url, "login", "--web")
    assert result.code == 2
    assert "LAVA_LOGIN_TIMEOUT" in result.stderr


def test_ctrl_c_exits_130_and_closes_the_listener(auth_emu, tmp_path):
    env = {
        **os.environ,
        "LAVA_CONFIG_DIR": str(tmp_path / "config"),
        "BROWSER": "true",
        "LAVA_BASE_URL": auth_emu.base_url,
    }
    proc = spawn_lava(["login", "--web", "--insecure-storage"], env)
    try:
        seen = ""
        while not (match := URL_RE.search(seen)):
            line = proc.stderr.readline()
            assert line, seen
            seen += line
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=15)
    finally:
        proc.kill()
    assert proc.returncode == 130, seen + err
    assert port_closed(listener_port(match.group(1)))


# --- the listener and helpers on their own ---------------------------------------------------


def test_listener_binds_loopback_and_answers_one_callback_only():
    with Listener() as listener:
        host, port = listener.address
        assert host == "127.0.0.1" and port == listener.port > 0
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(base + "/favicon.ico").status_code == 404  # not the callback
        foreign = httpx.get(base + "/callback?code=x&state=y", headers={"Host": "evil.test"})
        assert foreign.status_code == 421  # DNS rebinding: refused, callback still open
        first: dict[str, httpx.Response] = {}
        thread = threading.Thread(
            target=lambda: first.update(r=httpx.get(base + "/callback?code=c&state=s"))
        )
        thread.start()
        assert listener.wait(5.0) == {"code": "c", "state": "s"}
        second = httpx.get(base + "/callback?code=d&state=s")
        assert second.status_code == 410
        listener.answer("<p>done</p>")
        thread.join(5.0)
        assert first["r"].status_code == 200 and first["r"].text == "<p>done</p>"
        assert listener.wait(0.05) is None  # the second one was never handed over
    assert port_closed(port)


def test_app_url_follows_the_profile():
    assert app_url("https://api.lava.so/v1") == LIVE_APP_URL == "https://www.lava.so"
    assert app_url("https://sandbox-api.lavapayments.com/v1") == LIVE_APP_URL
    assert app_url("http://127.0.0.1:8787/v1") == "http://127.0.0.1:8787"
    assert app_url("http://localhost:9/v1") == "http://localhost:9"


def test_a_forged_denial_is_reported_as_forged():
    from lava_cli.errors import NotAuthenticatedError

    with pytest.raises(NotAuthenticatedError, match="state does not match"):
        check_callback({"error": "access_denied", "state": "x"}, "y")
    with pytest.raises(NotAuthenticatedError, match="state does not match"):
        check_callback({"code": "c", "state": "é"}, "e")  # non-ASCII must not crash
    assert check_callback({"code": "c", "state": "s"}, "s") == "c"


def test_emulator_connect_page_validates_its_input(auth_emu):
    connect = auth_emu.root_url + "/auth/connect"
    for query in ({"port": "5"}, {"state": "s"}, {"state": "s", "port": "70000"},
                  {"state": "s", "port": "-1"}, {"state": "s", "port": "x"}):  # fmt: skip
        page = httpx.get(connect, params=query)
        assert page.status_code == 400, query
        assert "not valid" in page.text
    decision = httpx.post(
        auth_emu.root_url + "/auth/connect/decision",
        data={"state": "s", "port": "5", "decision": "maybe"},
    )
    assert decision.status_code == 400
    ok = httpx.get(connect, params={"state": "<b>s</b>", "port": "5"})
    assert ok.status_code == 200 and "<b>s</b>" not in ok.text  # escaped


def test_emulator_exchange_answers_the_contract(auth_emu):
    exchange = auth_emu.base_url + "/auth/callback"
    bad = httpx.post(exchange, json={})
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid_request"
    unknown = httpx.post(exchange, json={"code": "nope"})
    assert unknown.status_code == 400 and "unknown or already used" in unknown.text
    location = httpx.post(
        auth_emu.root_url + "/auth/connect/decision",
        data={"state": "s", "port": "5", "decision": "authorize"},
    ).headers["location"]
    body = httpx.post(exchange, json={"code": params_of(location)["code"]}).json()
    assert set(body) == {"secret_key", "secret_key_id", "wallet_id", "merchant_id", "account_id"}
    assert body["secret_key"] == SECRET


def test_logout_deletes_the_secret_key_web_login_minted(emulator, memory_keyring):
    """The session emulator's flow mints a secret named "lava login --web"; its id is kept
    with the profile, and `lava logout` deletes it on the server (best effort)."""
    login = start(emulator)
    httpx.get(decide(emulator, login.url()))
    assert login.result().code == 0
    secret = memory_keyring.entries[("lava-cli", "profile:default")]
    listed = json.loads(
        run_lava("--base-url", emulator.base_url, "secret-keys", "list", "--json").stdout
    )
    minted = next(k for k in listed if k["name"] == "lava login --web")
    config = json.loads((Path(os.environ["LAVA_CONFIG_DIR"]) / "config.json").read_text())
    assert config["profiles"]["default"]["secret_key_id"] == minted["secret_key_id"]
    out = run_lava("--base-url", emulator.base_url, "logout")
    assert out.code == 0, out.output
    assert f"Deleted the secret key {minted['secret_key_id']}" in out.stderr
    assert memory_keyring.entries == {}
    answer = httpx.get(
        emulator.base_url + "/spend_keys", headers={"Authorization": f"Bearer {secret}"}
    )
    assert answer.status_code == 401  # gone on the server, not only here


def test_logout_of_a_pasted_secret_deletes_nothing_on_the_server(emulator, memory_keyring):
    login = run_lava("--base-url", emulator.base_url, "login", "--with-token",
                     input=emulator.secrets[0])  # fmt: skip
    assert login.code == 0, login.output
    assert run_lava("--base-url", emulator.base_url, "logout").code == 0
    answer = httpx.get(
        emulator.base_url + "/spend_keys",
        headers={"Authorization": f"Bearer {emulator.secrets[0]}"},
    )
    assert answer.status_code == 200
