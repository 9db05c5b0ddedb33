"""Rendering for `lava wallet`: the balance and the cards, and a top-up's outcome.

On a terminal: the balance line and a table (Output.table). Piped: tab-separated rows,
each tagged with what it is (`wallet …`, `card …`, `payment …`), as `usage --wallet`
does, so one `awk '$1=="card"'` picks the cards.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from lava_cli.render.output import money

if TYPE_CHECKING:
    from lava_cli.api.usage_types import Wallet
    from lava_cli.api.wallet_types import FundResult, PaymentMethod
    from lava_cli.render.output import Output

CARD_COLUMNS = ("id", "card", "expires", "default", "status")


def _expiry(method: PaymentMethod) -> str:
    if not method.expiry_month or not method.expiry_year:
        return "-"
    return f"{method.expiry_month:02d}/{method.expiry_year}"


def _status(method: PaymentMethod) -> str:
    if not method.has_error:
        return "ok"
    return f"error: {method.error_message or method.error_code or 'unknown'}"


def wallet_view(out: Output, wallet: Wallet, methods: Sequence[PaymentMethod]) -> None:
    """The balance, then one row per card."""
    rows = [
        [
            m.payment_method_id,
            m.label,
            _expiry(m),
            "default" if m.is_default else "",
            _status(m),
        ]
        for m in methods
    ]
    if not out.term.stdout_tty:
        out.tsv([["wallet", wallet.wallet_id, wallet.balance_text]])
        out.tsv([["card", *row[:3], row[3] or "-", row[4]] for row in rows])
        return
    out.line(f"Balance: {money(wallet.balance)} ({wallet.wallet_id})")
    if not methods:
        out.note("No payment methods: add a card in the Lava dashboard to top up.")
        return
    out.line("")
    out.table(CARD_COLUMNS, rows)
    out.note("Top up with `lava wallet fund AMOUNT` ($10 to $10,000; --method ID: another card).")


def funded(out: Output, result: FundResult, card: PaymentMethod, amount: str) -> None:
    """A top-up's outcome: completed (the balance after), or waiting for the payer."""
    if not out.term.stdout_tty:
        balance = "-" if result.balance is None else f"{result.balance}"
        url = result.redirect_url or "-"
        out.tsv([["payment", result.payment_id, result.status, amount, balance, url]])
        return
    if result.status == "completed":
        after = "" if result.balance is None else f"; the balance is {money(result.balance)}"
        paid = money(Decimal(amount))
        out.line(f"✓ Funded {paid} from {card.label} ({result.payment_id}){after}.")
    else:
        paid = money(Decimal(amount))
        out.line(f"Payment {result.payment_id} of {paid} from {card.label} waits")
        out.line(f"for your bank's confirmation: {result.redirect_url}")
