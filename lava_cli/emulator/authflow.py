"""The emulator's side of browser login (contract: "Browser login" in docs/lava-api.md).

``GET /auth/connect?state=&port=`` shows the wallet a terminal asks to connect, with
"Authorize" and "Deny". Both are forms posting to ``/auth/connect/decision``, which
answers ``303`` to ``http://127.0.0.1:<port>/callback`` carrying either a fresh
one-time ``code`` or ``error=access_denied``, plus the caller's ``state`` untouched.
``POST /v1/auth/callback {"code"}`` (no auth) trades a code for the credentials
object; a code works once and for `CODE_TTL_S` seconds by the app's clock, so tests
expire one by moving the clock instead of sleeping.

Which wallet: the store keeps only hashes of wallet secrets, so the flow can hand out
a secret only when it holds one in memory: the one passed as `secret` (tests, callers
that start the emulator with a known secret), else a test wallet created on first
use and kept for the life of the process, so repeated logins land in the same wallet.
"""

from __future__ import annotations

import html
import secrets
import string
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qs, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from lava_cli.emulator.app import ApiError, json_body
from lava_cli.emulator.bodies import BodyTooLarge, read_body
from lava_cli.emulator.cycles import Clock, as_utc, utc_now
from lava_cli.emulator.ids import new_test_secret
from lava_cli.emulator.money import money
from lava_cli.emulator.store import Store, Wallet

CODE_TTL_S = 60.0
MAX_STATE_LEN = 256
_ALNUM = string.ascii_letters + string.digits


def _id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(24))


@dataclass(frozen=True)
class Grant:
    """What one authorization hands out; `issued_at` starts the code's 60 s."""

    secret: str
    wallet_id: str
    issued_at: datetime


class BadRequest(Exception):
    """A connect request the page cannot serve (missing state, bad port): HTML 400."""


def parse_port(text: str | None) -> int:
    """The CLI's listener port: digits only, 1..65535."""
    if not text or not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 65535:
        raise BadRequest("port must be a whole number from 1 to 65535")
    return int(text)


def parse_state(text: str | None) -> str:
    """The CLI's anti-forgery value, passed back verbatim; must be present and sane."""
    if not text:
        raise BadRequest("state is missing")
    if len(text) > MAX_STATE_LEN or not text.isprintable():
        raise BadRequest("state is not a value a CLI would send")
    return text


class AuthFlow:
    """The pages, the one-time codes and the exchange, bound to one store and clock."""

    def __init__(self, store: Store, clock: Clock = utc_now, secret: str | None = None) -> None:
        self.store = store
        self.clock = clock
        self._secret = secret
        self._codes: dict[str, Grant] = {}

    def _wallet(self) -> tuple[Wallet, str]:
        """The wallet this emulator connects, and its raw secret (created on first use)."""
        if self._secret is None:
            self._secret = new_test_secret()
        return self.store.create_wallet(self._secret), self._secret

    def _issue(self) -> str:
        now = as_utc(self.clock())
        for code, grant in list(self._codes.items()):
            if (now - grant.issued_at).total_seconds() > CODE_TTL_S:
                del self._codes[code]
        wallet, secret = self._wallet()
        code = secrets.token_urlsafe(24)
        self._codes[code] = Grant(secret, wallet.wallet_id, now)
        return code

    # -- the browser side ----------------------------------------------------------

    async def connect(self, request: Request) -> Response:
        try:
            state = parse_state(request.query_params.get("state"))
            port = parse_port(request.query_params.get("port"))
        except BadRequest as exc:
            return _bad_request(str(exc))
        wallet, _ = self._wallet()
        balance = money(self.store.wallet_balance(wallet.wallet_id))
        return HTMLResponse(_connect_page(state, port, wallet.wallet_id, balance))

    async def decision(self, request: Request) -> Response:
        try:
            form = parse_qs((await read_body(request)).decode("utf-8", "replace"))
        except BodyTooLarge as exc:
            return _bad_request(str(exc), status=413)

        def field(name: str) -> str | None:
            values = form.get(name)
            return values[0] if values else None

        try:
            state = parse_state(field("state"))
            port = parse_port(field("port"))
        except BadRequest as exc:
            return _bad_request(str(exc))
        choice = field("decision")
        if choice == "authorize":
            query = {"code": self._issue(), "state": state}
        elif choice == "deny":
            query = {"error": "access_denied", "state": state}
        else:
            return _bad_request("decision must be authorize or deny")
        return RedirectResponse(f"http://127.0.0.1:{port}/callback?{urlencode(query)}", 303)

    # -- the CLI side ----------------------------------------------------------------

    async def exchange(self, request: Request) -> Response:
        body = await json_body(request)
        code = body.get("code") if isinstance(body, dict) else None
        if not isinstance(code, str) or not code:
            raise ApiError(400, "invalid_request", "code: required (a string)")
        grant = self._codes.pop(code, None)  # popped: a code works once, even if expired
        if grant is None:
            raise ApiError(400, "invalid_request", "code: unknown or already used")
        age = (as_utc(self.clock()) - grant.issued_at).total_seconds()
        if age > CODE_TTL_S:
            raise ApiError(
                400, "invalid_request", f"code: expired (valid for {CODE_TTL_S:g} s); log in again"
            )
        return JSONResponse(
            {
                "secret_key": grant.secret,
                "secret_key_id": _id("sec_"),
                "wallet_id": grant.wallet_id,
                "merchant_id": _id("mer_"),
                "account_id": _id("acc_"),
            }
        )


def auth_routes(store: Store, clock: Clock = utc_now, *, secret: str | None = None) -> list[Route]:
    """Browser-login routes for `create_app(..., extra_routes=...)` / `ROUTE_PROVIDERS`."""
    flow = AuthFlow(store, clock, secret)
    return [
        Route("/auth/connect", flow.connect, methods=["GET"]),
        Route("/auth/connect/decision", flow.decision, methods=["POST"]),
        Route("/v1/auth/callback", flow.exchange, methods=["POST"]),
    ]


# --- pages --------------------------------------------------------------------------

_STYLE = """
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;background:#f6f5f2;
color:#1d1d1f;margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center}
main{background:#fff;border-radius:14px;box-shadow:0 2px 14px rgba(0,0,0,.08);
padding:32px 36px;max-width:440px;width:100%}
h1{font-size:22px;margin:0 0 8px}p{margin:8px 0;color:#444}
dl{display:grid;grid-template-columns:auto 1fr;gap:6px 16px;margin:20px 0;padding:14px 16px;
background:#f6f5f2;border-radius:10px}dt{color:#666}dd{margin:0;font-family:ui-monospace,monospace}
.actions{display:flex;gap:12px;margin-top:24px}form{margin:0}
button{font:inherit;padding:10px 22px;border-radius:8px;border:1px solid #ccc;background:#fff;
cursor:pointer}button.primary{background:#e8542f;border-color:#e8542f;color:#fff}
.note{font-size:13px;color:#777}
"""


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8>"
        f'<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def _bad_request(reason: str, status: int = 400) -> HTMLResponse:
    body = (
        "<h1>This login link is not valid</h1>"
        f"<p>{html.escape(reason)}.</p>"
        "<p>Run <code>lava login --web</code> again and open the link it prints.</p>"
    )
    return HTMLResponse(_page("Invalid login link", body), status)


def _connect_page(state: str, port: int, wallet_id: str, balance: str) -> str:
    hidden = (
        f'<input type=hidden name=state value="{html.escape(state)}">'
        f"<input type=hidden name=port value={port}>"
    )

    def button(choice: str, label: str, cls: str) -> str:
        return (
            f'<form method=post action="/auth/connect/decision">{hidden}'
            f'<button type=submit name=decision value={choice} class="{cls}" id={choice}>'
            f"{label}</button></form>"
        )

    body = (
        "<h1>Connect the Lava CLI</h1>"
        "<p>A terminal on this computer is asking to log in to the Lava emulator. "
        "It will receive a secret key for this wallet:</p>"
        f"<dl><dt>Wallet</dt><dd id=wallet>{html.escape(wallet_id)}</dd>"
        f"<dt>Balance</dt><dd>${html.escape(balance)}</dd>"
        "<dt>Mode</dt><dd>test</dd></dl>"
        f"<div class=actions>{button('authorize', 'Authorize', 'primary')}"
        f"{button('deny', 'Deny', '')}</div>"
        "<p class=note>Only authorize if you just ran <code>lava login</code> yourself.</p>"
    )
    return _page("Connect the Lava CLI", body)
