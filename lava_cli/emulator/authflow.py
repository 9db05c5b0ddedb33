"""The emulator's side of browser login (contract: "Browser login" in docs/lava-api.md).

``GET /auth/connect?state=&port=`` shows the wallet a terminal asks to connect, with
"Authorize" and "Deny". Both are forms posting to ``/auth/connect/decision``, which
answers ``303`` to ``http://127.0.0.1:<port>/callback`` carrying either a fresh
one-time ``code`` or ``error=access_denied``, plus the caller's ``state`` untouched.
``POST /v1/auth/callback {"code"}`` (no auth) trades a code for the credentials
object; a code works once and for `CODE_TTL_S` seconds by the app's clock, so tests
expire one by moving the clock instead of sleeping.

Which wallet, and which secret (the emulator's own decisions):

- The wallet is the one the emulator was started for (`Store.default_wallet_id`: the
  first secret's, e.g. ``lava emulator serve``'s ``LAVA_SECRET_KEY`` or the secret it
  generated); the page names it. A bare store with no wallet gets a test wallet, made
  on first use and kept for the life of the process.
- The store keeps only hashes, so the exchange MINTS a new secret key in that wallet,
  listed as "lava login --web" (``GET /v1/secret_keys``); ``secret_key_id`` is its id,
  so deleting it logs that terminal out. ``merchant_id``/``account_id`` are derived
  from the wallet (stable across logins).
- A flow built with an explicit `secret` (tests) hands out that very secret instead.
"""

from __future__ import annotations

import html
import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from lava_cli.emulator.app import ApiError, json_body
from lava_cli.emulator.bodies import BodyTooLarge
from lava_cli.emulator.contract import LOGIN, LOGIN_NAME
from lava_cli.emulator.cycles import Clock, as_utc, utc_now
from lava_cli.emulator.ids import derived_id, new_test_secret
from lava_cli.emulator.money import money
from lava_cli.emulator.pages import facts, page, read_form
from lava_cli.emulator.schema import Wallet
from lava_cli.emulator.secretkeys import mint
from lava_cli.emulator.store import Store

CODE_TTL_S = 60.0
MAX_STATE_LEN = 256


def _derived_id(prefix: str, wallet_id: str) -> str:
    """A stable id of the wallet's merchant or account (the emulator has neither)."""
    return derived_id(prefix, wallet_id, prefix)


@dataclass(frozen=True)
class Grant:
    """What one authorization hands out; `issued_at` starts the code's 60 s."""

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

    def _wallet(self) -> Wallet:
        """The wallet this emulator connects (see the module docstring)."""
        if self._secret is not None:
            return self.store.create_wallet(self._secret)
        wallet_id = self.store.default_wallet_id
        wallet = self.store.get_wallet(wallet_id) if wallet_id else None
        if wallet is None:
            wallet = self.store.create_wallet(new_test_secret())
            self.store.default_wallet_id = wallet.wallet_id
        return wallet

    def _issue(self) -> str:
        now = as_utc(self.clock())
        for code, grant in list(self._codes.items()):
            if (now - grant.issued_at).total_seconds() > CODE_TTL_S:
                del self._codes[code]
        code = secrets.token_urlsafe(24)
        self._codes[code] = Grant(self._wallet().wallet_id, now)
        return code

    def _credentials(self, wallet_id: str) -> tuple[str, str]:
        """(secret, secret_key_id) for a terminal logging in to `wallet_id`."""
        if self._secret is not None:
            secret_key_id = self.store.secret_key_id_for(self._secret)
            assert secret_key_id is not None  # create_wallet made it live
            return self._secret, secret_key_id
        wallet = self.store.get_wallet(wallet_id)
        assert wallet is not None
        key, raw = mint(self.store, wallet, LOGIN_NAME, origin=LOGIN)
        return raw, key.secret_key_id

    # -- the browser side ----------------------------------------------------------

    async def connect(self, request: Request) -> Response:
        try:
            state = parse_state(request.query_params.get("state"))
            port = parse_port(request.query_params.get("port"))
        except BadRequest as exc:
            return _bad_request(str(exc))
        wallet = self._wallet()
        balance = money(self.store.wallet_balance(wallet.wallet_id))
        return HTMLResponse(_connect_page(state, port, wallet, balance))

    async def decision(self, request: Request) -> Response:
        try:
            form = await read_form(request)
        except BodyTooLarge as exc:
            return _bad_request(str(exc), status=413)
        try:
            state = parse_state(form.get("state"))
            port = parse_port(form.get("port"))
        except BadRequest as exc:
            return _bad_request(str(exc))
        choice = form.get("decision")
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
        secret, secret_key_id = self._credentials(grant.wallet_id)
        return JSONResponse(
            {
                "secret_key": secret,
                "secret_key_id": secret_key_id,
                "wallet_id": grant.wallet_id,
                "merchant_id": _derived_id("mer_", grant.wallet_id),
                "account_id": _derived_id("acc_", grant.wallet_id),
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


def _bad_request(reason: str, status: int = 400) -> HTMLResponse:
    body = (
        "<h1>This login link is not valid</h1>"
        f"<p>{html.escape(reason)}.</p>"
        "<p>Run <code>lava login --web</code> again and open the link it prints.</p>"
    )
    return HTMLResponse(page("Invalid login link", body), status)


def _connect_page(state: str, port: int, wallet: Wallet, balance: str) -> str:
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
        "It will receive a new secret key for this wallet, the one the emulator was "
        "started with:</p>"
        + facts(
            [
                ("Wallet", "wallet", wallet.wallet_id),
                ("Balance", "balance", f"${balance}"),
                ("Mode", "mode", wallet.mode),
            ]
        )
        + f"<div class=actions>{button('authorize', 'Authorize', 'primary')}"
        f"{button('deny', 'Deny', '')}</div>"
        "<p class=note>Only authorize if you just ran <code>lava login</code> yourself.</p>"
    )
    return page("Connect the Lava CLI", body)
