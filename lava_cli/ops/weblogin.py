"""Browser login (`lava login --web`), Lava's callback flow (docs/lava-api.md).

The CLI listens on 127.0.0.1 at a random port, opens the app's
``/auth/connect?state=<random hex>&port=<port>``, and the browser comes back to
``http://127.0.0.1:<port>/callback?code=…&state=…``. The code is exchanged once at
``POST {base}/auth/callback`` for the secret key, which goes straight to storage and
is never printed.

Security, and why each piece is there:

- `state` comes from `secrets` and is compared in constant time: any page could
  point a browser at our callback, so a request without our state is forged.
- The listener binds 127.0.0.1 only, refuses a foreign ``Host`` (DNS rebinding),
  takes exactly one ``/callback`` (forged or not) and then closes: a second
  attempt finds nothing listening.
- The code goes to the API once; a 400 (expired, reused) is not retried.

Failures exit 3 (not authenticated): denied in the browser, a wrong or missing
state, a missing code, a code the API refuses, and no answer within the timeout
(120 s, or ``LAVA_LOGIN_TIMEOUT``). Each leaves the user logged out, and the fix is
the same: log in again. Ctrl-C exits 130 with the listener closed.
"""

from __future__ import annotations

import contextlib
import hmac
import html
import math
import os
import secrets
import socketserver
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlencode, urlsplit

from lava_cli.contract import is_loopback_host
from lava_cli.credentials import looks_like_secret
from lava_cli.envvars import env_seconds
from lava_cli.errors import (
    ApiBadRequestError,
    ApiError,
    LavaError,
    MaybeCreatedError,
    NotAuthenticatedError,
    UnavailableError,
)

if TYPE_CHECKING:
    from lava_cli.context import AppContext

LIVE_APP_URL = "https://www.lava.so"
DEFAULT_TIMEOUT_S = 120.0
CALLBACK_PATH = "/callback"
_REPLY_WAIT_S = 90.0  # the exchange and the keyring are bounded well below this
_AGAIN = "run `lava login --web` again, or log in with `lava login --with-token`"


def app_url(base_url: str) -> str:
    """Where the authorize page lives: the emulator itself on loopback, else Lava's app."""
    parts = urlsplit(base_url)
    if parts.hostname and is_loopback_host(parts.hostname):
        return f"{parts.scheme}://{parts.netloc}"
    return LIVE_APP_URL


def connect_url(app_root: str, state: str, port: int) -> str:
    return f"{app_root}/auth/connect?{urlencode({'state': state, 'port': port})}"


def has_display() -> bool:
    """A graphical session: macOS, Windows, or X11/Wayland on the rest."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def browser_available() -> bool:
    """Whether `lava login` should offer the browser: a display and a browser to open."""
    if not has_display():
        return False
    import webbrowser

    try:
        webbrowser.get()
    except webbrowser.Error:
        return False
    return True


def open_browser(url: str) -> bool:
    """Open `url` when there is a display or the user named a browser in ``BROWSER``.

    Without either (SSH, containers) webbrowser would start a text browser inside
    this terminal; printing the URL serves those sessions better.
    """
    if not (os.environ.get("BROWSER") or has_display()):
        return False
    import webbrowser

    try:
        return webbrowser.open(url, new=2)
    except (webbrowser.Error, OSError):
        return False


# --- the one-shot loopback listener --------------------------------------------------


class _Server(socketserver.ThreadingTCPServer):
    # Threads, because browsers pre-open idle connections that would otherwise block
    # the one that carries the callback.
    daemon_threads = True
    allow_reuse_address = False
    listener: Listener


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 10  # drop idle pre-opened connections

    def log_message(self, format: str, *args: object) -> None:
        """Silent: the default logs the request line, which carries the code."""

    def do_GET(self) -> None:
        listener = self.server.listener
        port = listener.port
        if self.headers.get("Host", "") not in (f"127.0.0.1:{port}", f"localhost:{port}"):
            self._send(421, _page("Wrong address", "This listener answers only 127.0.0.1."))
            return
        parts = urlsplit(self.path)
        if parts.path != CALLBACK_PATH:
            self._send(404, _page("Not found", "Nothing here."))
            return
        if not listener.take():
            self._send(410, _page("Already used", "This login already received its answer."))
            return
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        listener.deliver(query)
        page = listener.page_for_callback()
        try:
            self._send(200, page)
        finally:
            listener.replied.set()

    def _send(self, status: int, page: str) -> None:
        body = page.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(body)


class Listener:
    """HTTP on 127.0.0.1:<random port> that takes one callback. A context manager."""

    def __init__(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.listener = self
        self.port: int = self._server.server_address[1]
        # The callback is handed over through a pipe, not a queue: the main thread waits
        # in select(), which Ctrl-C interrupts cleanly. A Ctrl-C landing inside a
        # Condition wait (queue.get) can leave its lock half released ("release unlocked
        # lock" instead of exit 130).
        self._received: dict[str, str] | None = None
        self._wake_r, self._wake_w = os.pipe()
        self.replied = threading.Event()
        self._page: str | None = None
        self._page_ready = threading.Event()
        self._taken = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) the socket is bound to: always 127.0.0.1."""
        host, port = self._server.socket.getsockname()[:2]
        return str(host), int(port)

    def take(self) -> bool:
        """True for the first callback only."""
        with self._lock:
            if self._taken:
                return False
            self._taken = True
            return True

    def deliver(self, query: dict[str, str]) -> None:
        """Hand the one callback's query to the waiting main thread (server thread)."""
        self._received = query
        os.write(self._wake_w, b"!")

    def wait(self, seconds: float) -> dict[str, str] | None:
        """The callback's query parameters, or None if none came within `seconds`."""
        import select

        ready, _, _ = select.select([self._wake_r], [], [], max(seconds, 0.0))
        if not ready:
            return None
        os.read(self._wake_r, 1)  # handed over once, as a queue would
        got, self._received = self._received, None
        return got

    def page_for_callback(self) -> str:
        """Block the callback's request until the CLI knows how the login ended."""
        if not self._page_ready.wait(_REPLY_WAIT_S):
            return _page("Login unfinished", "The terminal did not finish; look there.")
        return self._page or ""

    def answer(self, page: str) -> None:
        """Set the page the browser gets, then give its request a moment to be sent."""
        self._page = page
        self._page_ready.set()
        if self._taken:
            self.replied.wait(5.0)

    def close(self) -> None:
        if not self._page_ready.is_set():
            self.answer(_page("Login cancelled", "The terminal stopped waiting."))
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5.0)
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> Listener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- the flow ------------------------------------------------------------------------


def check_callback(params: dict[str, str], state: str) -> str:
    """The code from a callback, after the state check; raises NotAuthenticatedError.

    The state is checked first, so a forged "denied" is reported as forged.
    """
    got = params.get("state", "")
    if not got or not hmac.compare_digest(got.encode(), state.encode()):
        raise NotAuthenticatedError(
            "refused the browser's answer: its state does not match this login "
            "(it did not come from the page this login opened)",
            hint=_AGAIN,
        )
    error = params.get("error")
    if error == "access_denied":
        raise NotAuthenticatedError("the login was denied in the browser", hint=_AGAIN)
    if error:
        shown = "".join(c for c in error[:80] if c.isprintable())
        raise NotAuthenticatedError(f"the browser login failed: {shown}", hint=_AGAIN)
    code = params.get("code", "")
    if not code:
        raise NotAuthenticatedError(
            "refused the browser's answer: it carries no login code", hint=_AGAIN
        )
    return code


def exchange_code(app: AppContext, base_url: str, code: str) -> tuple[str, str | None]:
    """Trade the code for (the secret key, its id if the API said it), once; an API 400
    (expired, reused) is exit 3."""
    from lava_cli.api.client import LavaClient

    client = LavaClient(
        base_url,
        None,
        timeout=env_seconds("LAVA_TIMEOUT", 30.0),
        log=app.log if app.verbose else None,
    )
    try:
        body = client.exchange_auth_code(code)
    except ApiBadRequestError as exc:
        raise NotAuthenticatedError(
            f"{base_url} refused the login code ({exc.message})",
            hint="codes work once, within 60 s: " + _AGAIN,
        ) from None
    except MaybeCreatedError:
        raise UnavailableError(
            f"no answer from {base_url} after the login code was sent", hint=_AGAIN
        ) from None
    finally:
        client.close()
    secret = body.get("secret_key")
    if not isinstance(secret, str) or not looks_like_secret(secret):
        raise ApiError(f"{base_url} answered the login without a usable secret key")
    secret_key_id = body.get("secret_key_id")
    return secret, secret_key_id if isinstance(secret_key_id, str) and secret_key_id else None


def _wait(app: AppContext, listener: Listener, timeout: float) -> dict[str, str]:
    """Wait for the callback: a live countdown on a terminal, one plain line otherwise."""
    live = app.stderr_tty
    if not live:
        app.out.note(f"Waiting up to {timeout:g} s for the browser (Ctrl-C cancels).")
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise NotAuthenticatedError(
                    f"no answer from the browser within {timeout:g} s",
                    hint="set LAVA_LOGIN_TIMEOUT=300 for more time; " + _AGAIN,
                )
            if live:
                app.stderr.write(
                    f"\rWaiting for the browser… {math.ceil(left):3d} s left (Ctrl-C cancels)"
                )
                app.stderr.flush()
            got = listener.wait(min(left, left - math.floor(left) or 1.0))
            if got is not None:
                return got
    finally:
        if live:
            app.stderr.write("\r\x1b[K")
            app.stderr.flush()


def web_login(app: AppContext, store: Callable[[str, str | None], str]) -> tuple[str, str]:
    """Run the browser flow; `store` checks and keeps the secret (and its id, when the
    API said it) and says where.

    Returns (secret, where). The secret never reaches the terminal.
    """
    base_url = app.base_url()[0]
    timeout = env_seconds("LAVA_LOGIN_TIMEOUT", DEFAULT_TIMEOUT_S)
    state = secrets.token_hex(16)
    with Listener() as listener:
        url = connect_url(app_url(base_url), state, listener.port)
        opened = open_browser(url)
        if opened:
            app.out.note("Opened your browser to log in. If it did not open, visit:")
        else:
            app.out.note("Open this URL in a browser on this machine to log in:")
        app.out.note(f"  {url}")
        if not opened:
            app.out.note(
                f"  (over SSH, forward the port first: ssh -L {listener.port}:127.0.0.1:"
                f"{listener.port} <this host>, then open the URL on your computer)"
            )
        params = _wait(app, listener, timeout)
        try:
            code = check_callback(params, state)
            secret, secret_key_id = exchange_code(app, base_url, code)
            where = store(secret, secret_key_id)
        except LavaError as err:
            listener.answer(
                _page("Login failed", f"{err.message}. The terminal says what to do next.")
            )
            raise
        listener.answer(
            _page(
                "Logged in",
                f"The terminal is now logged in to {base_url} as profile {app.profile}. "
                "You can close this tab.",
            )
        )
    return secret, where


_STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;background:#f6f5f2;color:#1d1d1f;"
    "display:flex;min-height:100vh;margin:0;align-items:center;justify-content:center}"
    "main{background:#fff;border-radius:14px;box-shadow:0 2px 14px rgba(0,0,0,.08);"
    "padding:32px 36px;max-width:440px}h1{font-size:22px;margin:0 0 8px}"
)


def _page(title: str, text: str) -> str:
    """A minimal self-contained page (no external resources: nothing else can load)."""
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>lava: {html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></main>"
        "</body></html>"
    )
