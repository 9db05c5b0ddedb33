"""The wallet's money coming in: payment methods and funding.

Routes: ``GET /v1/payment_methods``, ``POST /v1/wallet/fund`` (management secret), and
the page a ``requires_action`` payment sends its payer to, ``GET``/``POST
/wallet/confirm/{payment_id}`` (the 3-D Secure step, played locally; the payment id
is the capability, as a real redirect URL's token is).

What the emulator decides where Lava is silent (contract.py holds the numbers):

- Every wallet has the same three cards (`CARDS`), with ids of its own (ids.py
  derives them from the wallet id): a default Visa ``4242`` that pays at once, a Visa
  ``3155`` that always answers ``requires_action`` (Stripe's test card numbers), and
  a Visa ``0002`` with ``has_error`` that is always declined.
- ``POST /v1/wallet/fund {"payment_method_id", "amount"}``: ``amount`` a decimal
  string (at most 2 decimals) from 10.00 to 10000.00, both included; anything else
  (a number too) is a 400 naming ``amount``; an unknown field a 400. An unknown card
  (or another wallet's) is a 404 ``not_found``; the declined card a 402
  ``card_declined``. The default card answers ``{status: "completed", payment_id,
  balance}`` (the balance after); the 3155 card ``{status: "requires_action",
  payment_id, redirect_url}`` and the balance moves only when the page completes it.
- The page: "Complete payment" (``decision=complete``) adds the amount to the
  balance, once: a second submit (or "Fail", ``decision=fail``, afterwards) changes
  nothing. "Fail" leaves the balance alone for good. Unknown payment: 404 page.
- Retries: without ``Idempotency-Key`` every POST is a new payment (the client must
  not retry it). With one, the first answer that got as far as a payment decision
  (200 or the 402) is kept for 24 hours per wallet and key; a retry with the same body
  gets it again (header ``Idempotent-Replayed: true``) and charges nothing more; the
  same key with a different body is a 422 ``idempotency_key_reused``. A 400 or 404 is
  not kept (nothing happened). The key: 1-255 visible ASCII characters (else 400).
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from lava_cli.emulator import ids
from lava_cli.emulator.app import ApiError, caller_wallet, json_body, route
from lava_cli.emulator.bodies import BodyTooLarge
from lava_cli.emulator.contract import (
    AMOUNT_PATTERN,
    CONFIRM_PATH,
    FUND_MAX,
    FUND_MIN,
    IDEMPOTENCY_HEADER,
    IDEMPOTENCY_TTL_S,
    MAX_IDEMPOTENCY_KEY,
)
from lava_cli.emulator.cycles import iso_z, parse_stored, stored_time, utc_now
from lava_cli.emulator.money import from_micros, money, to_micros
from lava_cli.emulator.pages import facts, page, read_form
from lava_cli.emulator.schema import Wallet
from lava_cli.emulator.store import Store
from lava_cli.emulator.validation import InvalidField

_AMOUNT_RE = re.compile(AMOUNT_PATTERN)
EXPIRY_YEARS = 5  # a card expires in December, this many years after its wallet began


@dataclass(frozen=True)
class Card:
    """One built-in payment method and what funding with it does (`outcome`)."""

    slot: str
    brand: str
    last4: str
    is_default: bool
    outcome: str  # completed | requires_action | declined
    error_code: str | None = None
    error_message: str | None = None


CARDS = (
    Card("default", "visa", "4242", True, "completed"),
    Card("authenticate", "visa", "3155", False, "requires_action"),
    Card("declined", "visa", "0002", False, "declined", "card_declined", "Your card was declined."),
)


def card_id(wallet: Wallet, card: Card) -> str:
    return ids.payment_method_id(wallet.wallet_id, card.slot)


def find_card(wallet: Wallet, payment_method_id: str) -> Card | None:
    return next((c for c in CARDS if card_id(wallet, c) == payment_method_id), None)


def payment_method_json(wallet: Wallet, card: Card) -> dict[str, Any]:
    """One entry of ``GET /v1/payment_methods`` (Lava's fields, every one)."""
    began = parse_stored(wallet.created_at)
    return {
        "payment_method_id": card_id(wallet, card),
        "last4": card.last4,
        "expiry_month": 12,
        "expiry_year": began.year + EXPIRY_YEARS,
        "brand": card.brand,
        "is_default": card.is_default,
        "has_error": card.error_code is not None,
        "error_code": card.error_code,
        "error_message": card.error_message,
        "error_at": iso_z(began) if card.error_code is not None else None,
    }


# --- funding -------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """A fund answer: status code and JSON body (kept for an idempotent retry)."""

    status: int
    body: dict[str, Any]


def parse_fund(body: Any) -> tuple[str, Decimal]:
    """The fund body: (payment_method_id, amount); 400 naming the field."""
    if not isinstance(body, dict):
        raise InvalidField("body", "must be a JSON object")
    for field in body:
        if field not in ("payment_method_id", "amount"):
            raise InvalidField(field, "unknown field (expected payment_method_id, amount)")
    method = body.get("payment_method_id")
    if not isinstance(method, str) or not method:
        raise InvalidField("payment_method_id", "is required (a payment method's id)")
    amount = body.get("amount")
    if (
        not isinstance(amount, str)
        or not _AMOUNT_RE.fullmatch(amount)
        or not Decimal(FUND_MIN) <= Decimal(amount) <= Decimal(FUND_MAX)
    ):
        raise InvalidField(
            "amount",
            f"must be a decimal string from {FUND_MIN} to {FUND_MAX} with at most 2 decimals, "
            'like "25.00"',
        )
    return method, Decimal(amount)


def parse_idempotency_key(value: str | None) -> str | None:
    if value is None:
        return None
    if not 1 <= len(value) <= MAX_IDEMPOTENCY_KEY or not all(0x21 <= ord(c) <= 0x7E for c in value):
        raise InvalidField(
            "Idempotency-Key", f"must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters"
        )
    return value


def fingerprint(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


class Payments:
    """The routes, bound to one store and clock."""

    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self.store, self.clock = store, clock

    async def payment_methods(self, request: Request) -> Response:
        wallet = caller_wallet(self.store, request)
        return JSONResponse({"data": [payment_method_json(wallet, card) for card in CARDS]})

    async def fund(self, request: Request) -> Response:
        wallet = caller_wallet(self.store, request)
        key = parse_idempotency_key(request.headers.get(IDEMPOTENCY_HEADER))
        body = await json_body(request)
        digest = fingerprint(body)
        now = self.clock()
        with self.store.transaction() as db:
            if key is not None:
                kept = db.execute(
                    "SELECT fingerprint, status, body FROM idempotency"
                    " WHERE wallet_id = ? AND key = ? AND created_at >= ?",
                    (
                        wallet.wallet_id, key,
                        stored_time(now - timedelta(seconds=IDEMPOTENCY_TTL_S)),
                    ),
                ).fetchone()  # fmt: skip
                if kept is not None:
                    if kept["fingerprint"] != digest:
                        raise ApiError(
                            422,
                            "idempotency_key_reused",
                            "This Idempotency-Key was used with another body; use a new key "
                            "for a new payment",
                        )
                    return JSONResponse(
                        json.loads(kept["body"]),
                        kept["status"],
                        headers={"idempotent-replayed": "true"},
                    )
            answer = self._fund(db, request, wallet, body, now)
            if key is not None:
                db.execute(
                    "INSERT OR REPLACE INTO idempotency (wallet_id, key, fingerprint, status,"
                    " body, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        wallet.wallet_id, key, digest, answer.status,
                        json.dumps(answer.body), stored_time(now),
                    ),
                )  # fmt: skip
        return JSONResponse(answer.body, answer.status)

    def _fund(
        self, db: sqlite3.Connection, request: Request, wallet: Wallet, body: Any, now: datetime
    ) -> Answer:
        """One payment decision, written with `db`, the caller's transaction: 400/404 raise."""
        method_id, amount = parse_fund(body)
        card = find_card(wallet, method_id)
        if card is None:
            raise ApiError(404, "not_found", f"No such payment method: {method_id}")
        if card.outcome == "declined":
            return Answer(
                402,
                {
                    "error": {
                        "message": f"{card.error_message} ({card.brand} ending {card.last4}); "
                        "fund with another payment method",
                        "code": "card_declined",
                    }
                },
            )
        payment_id = ids.new_payment_id()
        completed = card.outcome == "completed"
        db.execute(
            "INSERT INTO payments (payment_id, wallet_id, payment_method_id, amount,"
            " amount_micros, status, created_at, settled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                payment_id, wallet.wallet_id, method_id, money(amount), to_micros(amount),
                card.outcome, stored_time(now), stored_time(now) if completed else None,
            ),
        )  # fmt: skip
        if completed:
            balance = money(self.store.wallet_balance(wallet.wallet_id))
            body = {"status": "completed", "payment_id": payment_id, "balance": balance}
            return Answer(200, body)
        base = str(request.base_url).rstrip("/")
        return Answer(
            200,
            {
                "status": "requires_action",
                "payment_id": payment_id,
                "redirect_url": base + CONFIRM_PATH.format(payment_id=payment_id),
            },
        )

    # -- the confirmation page ---------------------------------------------------------

    def _payment(self, payment_id: str) -> Any:
        with self.store.transaction() as db:
            return db.execute(
                "SELECT * FROM payments WHERE payment_id = ?", (payment_id,)
            ).fetchone()

    async def confirm_page(self, request: Request) -> Response:
        payment = self._payment(request.path_params["payment_id"])
        if payment is None:
            return _unknown_payment()
        return HTMLResponse(_confirm_page(payment, *self._shown(payment), changed=None))

    async def confirm(self, request: Request) -> Response:
        try:
            form = await read_form(request)
        except BodyTooLarge as exc:
            return HTMLResponse(page("Too large", f"<h1>{html.escape(str(exc))}</h1>"), 413)
        payment_id = request.path_params["payment_id"]
        decision = form.get("decision")
        if decision not in ("complete", "fail"):
            body = "<h1>Not a decision</h1><p>Press Complete payment or Fail.</p>"
            return HTMLResponse(page("Bad request", body), 400)
        status = "completed" if decision == "complete" else "failed"
        with self.store.transaction() as db:
            changed = db.execute(
                "UPDATE payments SET status = ?, settled_at = ?"
                " WHERE payment_id = ? AND status = 'requires_action'",
                (status, stored_time(self.clock()), payment_id),
            ).rowcount
            payment = self._payment(payment_id)
        if payment is None:
            return _unknown_payment()
        return HTMLResponse(_confirm_page(payment, *self._shown(payment), changed=changed == 1))

    def _shown(self, payment: Any) -> tuple[str, str]:
        """The card (brand and last 4) and the wallet's balance, as the page shows them."""
        wallet = self.store.get_wallet(payment["wallet_id"])
        assert wallet is not None  # payments reference their wallet
        card = find_card(wallet, payment["payment_method_id"])
        shown = f"{card.brand} ending {card.last4}" if card else payment["payment_method_id"]
        return shown, money(self.store.wallet_balance(wallet.wallet_id))


def _unknown_payment() -> HTMLResponse:
    body = "<h1>No such payment</h1><p>Fund the wallet again to get a new link.</p>"
    return HTMLResponse(page("No such payment", body), 404)


def _confirm_page(payment: Any, card: str, balance: str, *, changed: bool | None) -> str:
    """The page for a payment in any state; buttons only while it waits. `changed`:
    whether the POST that led here settled it (None for a GET)."""
    amount = money(from_micros(payment["amount_micros"]))
    status = payment["status"]
    rows = [
        ("Amount", "amount", f"${amount}"),
        ("Card", "card", card),
        ("Payment", "payment", payment["payment_id"]),
        ("Wallet", "wallet", payment["wallet_id"]),
        ("Status", "status", status),
        ("Balance", "balance", f"${balance}"),
    ]
    if status == "requires_action":
        action = html.escape(CONFIRM_PATH.format(payment_id=payment["payment_id"]))

        def button(decision: str, label: str, cls: str) -> str:
            return (
                f'<form method=post action="{action}"><button type=submit name=decision '
                f'value={decision} id={decision} class="{cls}">{label}</button></form>'
            )

        body = (
            "<h1>Confirm this payment</h1>"
            "<p>Your bank asks you to confirm this top-up (the emulator's stand-in for "
            "3-D Secure).</p>"
            + facts(rows)
            + f"<div class=actions>{button('complete', 'Complete payment', 'primary')}"
            f"{button('fail', 'Fail', '')}</div>"
        )
        return page("Confirm this payment", body)
    done = "Payment complete" if status == "completed" else "Payment failed"
    note = (
        "<p class=note id=unchanged>Nothing changed: this payment was already settled.</p>"
        if changed is False
        else ""
    )
    body = f"<h1>{done}</h1>" + facts(rows) + note + "<p>You can close this tab.</p>"
    return page(done, body)


def payment_routes(store: Store, clock: Callable[[], datetime] = utc_now) -> list[Route]:
    """Payment methods, funding and the confirmation page, for `server.ROUTE_PROVIDERS`."""
    payments = Payments(store, clock)
    return [
        route("/v1/payment_methods", GET=payments.payment_methods),
        route("/v1/wallet/fund", POST=payments.fund),
        route(CONFIRM_PATH, GET=payments.confirm_page, POST=payments.confirm),
    ]
