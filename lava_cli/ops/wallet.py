"""The work of `lava wallet` (balance and cards) and `lava wallet fund` (a top-up).

Funding moves real money, so:

- The amount is checked before anything is sent ($10 to $10,000, parsing.parse_fund_amount,
  exit 2), and the charge is confirmed on a terminal (`--yes` otherwise; never a prompt
  without one).
- The POST is never retried by the client. Each attempt carries an `Idempotency-Key`.
  When its answer is lost (timeout, reset, 5xx, Ctrl-C after sending) the attempt is
  remembered in config.json (`fund_attempt`: key, card, amount, time; nothing secret),
  and running the same `lava wallet fund` (same card and amount) within
  `ATTEMPT_TTL_S` sends the same key again: the API answers with the first attempt's
  result (header `Idempotent-Replayed: true`) instead of charging twice. Any definitive
  answer forgets the attempt. A run after a success is a new payment, as the user meant.
- `requires_action` (the bank's 3-D Secure step) prints the page to confirm on (and
  opens it at a desktop, as `lava login --web` decides) and exits 9: no money has moved
  yet, and nothing failed.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, NamedTuple

from lava_cli.errors import (
    ActionRequiredError,
    ApiUnavailableError,
    LavaError,
    MaybeCreatedError,
    NotFoundError,
    UsageError,
)

if TYPE_CHECKING:
    from lava_cli.api.wallet_types import FundResult, PaymentMethod
    from lava_cli.context import AppContext

ATTEMPT = "fund_attempt"  # the config.json entry of an attempt whose answer was lost
# Reuse a lost attempt's key for at most this long: 24 h is how long an API keeps an
# Idempotency-Key (Stripe's rule, and the emulator's); the hour of margin keeps the
# promise "not charged twice" true up to the end.
ATTEMPT_TTL_S = 23 * 3600


class ShowOptions(NamedTuple):
    json_: bool = False


def run_show(app: AppContext, opts: ShowOptions) -> None:
    """The balance and the cards it can be topped up from."""
    client = app.client()
    wallet = client.wallet()
    methods = client.payment_methods()
    if opts.json_:
        app.out.json({"wallet": wallet.raw, "payment_methods": [m.raw for m in methods]})
        return
    from lava_cli.render.wallet import wallet_view

    wallet_view(app.out, wallet, methods)


class FundOptions(NamedTuple):
    """`wallet fund` after parsing: `amount` is the API's string ("25.00")."""

    amount: str
    method: str | None = None
    yes: bool = False
    json_: bool = False


def choose_card(methods: Sequence[PaymentMethod], ref: str | None) -> PaymentMethod:
    """The card `--method` names (its id, or last 4 digits only one card has), else the
    wallet's default card."""
    listed = ", ".join(f"{m.payment_method_id} ({m.label})" for m in methods)
    if not methods:
        raise NotFoundError(
            "this wallet has no payment method to fund it with",
            hint="add a card in the Lava dashboard",
        )
    if ref is None:
        default = [m for m in methods if m.is_default]
        if len(default) != 1:
            raise UsageError(
                "this wallet has no default card: choose one with --method ID",
                hint=f"its cards: {listed}",
            )
        return default[0]
    ref = ref.strip()
    found = [m for m in methods if m.payment_method_id == ref] or [
        m for m in methods if m.last4 == ref
    ]
    if len(found) == 1:
        return found[0]
    if found:
        raise UsageError(
            f"--method: {len(found)} cards end in {ref}", hint="use the payment_method_id"
        )
    raise NotFoundError(f"--method: no card {ref!r} on this wallet", hint=f"its cards: {listed}")


def run_fund(app: AppContext, opts: FundOptions) -> None:
    """Confirm, charge once (see the module's note on Idempotency-Key), report."""
    from lava_cli.ops.keys import check_can_confirm, confirm

    check_can_confirm(app, opts.yes, "funding", "fund")
    client = app.client()
    card = choose_card(client.payment_methods(), opts.method)
    if not opts.yes:
        question = f"Charge ${opts.amount} to {card.label} ({card.payment_method_id})?"
        if card.has_error:
            question += f" Lava reports a problem with it: {card.error_message or card.error_code}."
        if not confirm(app, question):
            raise UsageError("not funded", hint="nothing was charged")
    key, since = _attempt_key(app, card.payment_method_id, opts.amount)
    if since is not None:
        app.out.note(
            f"Repeating the payment attempt of {since} whose answer was lost (same "
            "Idempotency-Key): it cannot be charged twice."
        )
    try:
        result = client.fund_wallet(card.payment_method_id, opts.amount, key)
    except ApiUnavailableError as exc:  # no answer, or a 5xx: the attempt is kept
        if isinstance(exc, MaybeCreatedError) or exc.status is not None:
            exc.hint = (
                "the payment may have gone through: check the balance with `lava wallet`; "
                "running this same command again within 23 h repeats this attempt (the same "
                "Idempotency-Key), so it cannot charge twice"
            )
        raise
    except LavaError:
        _forget_attempt(app)  # a definitive answer: declined, refused, unknown card
        raise
    _forget_attempt(app)
    _report(app, opts, card, result)


def _report(app: AppContext, opts: FundOptions, card: PaymentMethod, result: FundResult) -> None:
    from lava_cli.render.wallet import funded

    if result.replayed:
        app.out.note(
            "The API had already answered this attempt (Idempotency-Key): this is that "
            "answer, and nothing more was charged. Run the command again to fund once more."
        )
    if opts.json_:
        app.out.json(result.raw)
    else:
        funded(app.out, result, card, opts.amount)
    if result.status == "requires_action":
        _send_payer(app, result.redirect_url or "")


def _send_payer(app: AppContext, url: str) -> None:
    """The bank's page: opened at a desktop (a person at a terminal, a display or
    BROWSER, like `lava login --web`), always named; then exit 9."""
    from lava_cli.ops.weblogin import open_browser

    opened = app.stderr_tty and open_browser(url)
    raise ActionRequiredError(
        "the payment waits for you to confirm it with your bank"
        + (" (opened in your browser)" if opened else "")
        + f": {url}",
        hint="the balance grows once it is confirmed there (see `lava wallet`); "
        "exit code 9 means the payment is waiting for this step",
    )


# --- the attempt whose answer may be lost ------------------------------------------------


def _attempt_key(app: AppContext, method: str, amount: str) -> tuple[str, str | None]:
    """(Idempotency-Key, when the attempt it repeats was made, or None for a new one).

    A new attempt is recorded before it is sent; failing to record it (a read-only
    config) is a warning, not a reason to refuse the payment."""
    kept = _kept_attempt(app)
    now = time.time()
    if (
        kept is not None
        and kept.get("payment_method_id") == method
        and kept.get("amount") == amount
        and isinstance(kept.get("key"), str)
        and isinstance(kept.get("at"), (int, float))
        and 0 <= now - kept["at"] < ATTEMPT_TTL_S
    ):
        when = datetime.fromtimestamp(kept["at"], timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        return kept["key"], when
    key = f"lava-cli-{secrets.token_hex(16)}"
    record = {"key": key, "payment_method_id": method, "amount": amount, "at": now}
    try:
        with app.config.editing() as config:
            config.data[ATTEMPT] = record
    except LavaError as exc:
        app.out.warn(
            f"cannot record this payment attempt ({exc.message}): if its answer is lost, "
            "check `lava wallet` before running it again"
        )
    return key, None


def _kept_attempt(app: AppContext) -> dict[str, Any] | None:
    try:
        app.config.reload()
    except LavaError:
        return None
    kept = app.config.data.get(ATTEMPT)
    return kept if isinstance(kept, dict) else None


def _forget_attempt(app: AppContext) -> None:
    """After a definitive answer: the next run is a new payment."""
    if ATTEMPT not in app.config.data:
        return
    try:
        with app.config.editing() as config:
            config.data.pop(ATTEMPT, None)
    except LavaError as exc:
        app.out.warn(f"cannot update {app.config.path}: {exc.message}")
