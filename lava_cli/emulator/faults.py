"""Fault injection for the gateway, so users' CI (and our tests) can see failures on demand.

Kinds, each with a rate in 0..1 (``KIND[:RATE]``, rate 1 when omitted):

- ``500``: answer 500 in the provider's error shape (``api_error``); nothing is charged.
- ``429``: answer 429 ``rate_limit_exceeded`` with ``Retry-After: 1``; nothing is charged.
- ``slow-first-byte``: wait ``first_byte_delay_s`` before the first byte of the answer.
- ``drop-mid-stream``: send about half of the answer, then cut the connection. The
  request was accepted, so it is charged (as a real provider would).

500/429 are decided before any other check, so they hit every request alike. Rolls come
from one seeded RNG, so a given seed and request order give the same faults.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass

KINDS = ("500", "429", "slow-first-byte", "drop-mid-stream")


@dataclass(frozen=True)
class FaultRule:
    kind: str
    rate: float


def parse_fault(text: str) -> FaultRule:
    """Parse ``KIND[:RATE]``, e.g. ``500:0.1`` or ``drop-mid-stream``; ValueError if bad."""
    kind, sep, rate_text = text.strip().partition(":")
    kind = kind.strip().lower()
    if kind not in KINDS:
        raise ValueError(
            f"unknown fault kind {kind!r} in {text!r}: use one of {', '.join(KINDS)}, "
            "optionally with a rate, e.g. 500:0.1"
        )
    if not sep:
        return FaultRule(kind, 1.0)
    try:
        if not rate_text.isascii():  # float() would read `０.５` as 0.5
            raise ValueError(rate_text)
        rate = float(rate_text)
    except ValueError:
        raise ValueError(
            f"fault rate {rate_text!r} in {text!r} is not a number: give one from 0 to 1"
        ) from None
    if not 0.0 <= rate <= 1.0:  # also rejects nan
        raise ValueError(f"fault rate {rate_text!r} in {text!r} must be between 0 and 1")
    return FaultRule(kind, rate)


class Faults:
    """The configured faults and the RNG that decides each request's fate."""

    def __init__(
        self,
        rules: Iterable[FaultRule | str] = (),
        *,
        seed: int | None = None,
        first_byte_delay_s: float = 2.0,
    ) -> None:
        parsed = [parse_fault(r) if isinstance(r, str) else r for r in rules]
        self.rates = {rule.kind: rule.rate for rule in parsed}
        self.first_byte_delay_s = first_byte_delay_s
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return any(rate > 0 for rate in self.rates.values())

    def roll(self, kind: str) -> bool:
        """Whether fault `kind` strikes this time (rate 1 always, rate 0 never)."""
        rate = self.rates.get(kind, 0.0)
        if rate <= 0.0:
            return False
        if rate >= 1.0:
            return True
        with self._lock:
            return self._rng.random() < rate
