"""Dollar amounts: integer micro-dollars to compute with, one text form to show.

Why micro-dollars: a request's cost is rounded to 6 decimals (catalogue.price),
so every amount the emulator holds (costs, spend, limits, balances) is a whole number
of micro-dollars, which SQLite sums exactly as integers (the ``cost_micros`` column).

The one text rule (`money`), for every amount the emulator writes, on the wire, in an
error message or in the database: a plain decimal string with at least 2 and at most
6 decimals and no trailing zeros past the second: ``1.50``, ``100.00``, ``0.0125``,
``0.000123``, ``-0.50``. Never an exponent (``0E-6``) and never rounded: an amount
finer than a micro-dollar is a bug, and `to_micros` says so.
"""

from __future__ import annotations

from decimal import Decimal

from lava_cli.emulator.contract import MONEY_MAX_DECIMALS, MONEY_MIN_DECIMALS

MICROS_PER_DOLLAR = 10**MONEY_MAX_DECIMALS
_MICROS = Decimal(MICROS_PER_DOLLAR)


def to_micros(amount: Decimal) -> int:
    """Dollars to integer micro-dollars; refuses sub-micro precision rather than round."""
    micros = amount * _MICROS
    if micros != micros.to_integral_value():
        raise ValueError(f"{amount} has more than 6 decimals")
    return int(micros)


def from_micros(micros: int) -> Decimal:
    return Decimal(micros) / _MICROS


def money(amount: Decimal) -> str:
    """`amount` in the emulator's one text form (see the module docstring)."""
    return decimal_text(to_micros(amount))


def decimal_text(micros: int) -> str:
    """The same text from integer micro-dollars, as SQLite sums them: ``1_500_000`` is
    ``1.50``, ``123`` is ``0.000123``, ``0`` is ``0.00``."""
    whole, fraction = divmod(abs(micros), MICROS_PER_DOLLAR)
    digits = f"{fraction:0{MONEY_MAX_DECIMALS}d}".rstrip("0").ljust(MONEY_MIN_DECIMALS, "0")
    return f"{'-' if micros < 0 else ''}{whole}.{digits}"
