"""Spend recorded straight in the emulator's ledger, as its gateway records a request.

For tests that need a key at a given spend, on a given day, without sending prompts
(the gateway's own pricing decides what a prompt costs; these set the cost).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any


def charge(
    emulator: Any,
    key: dict[str, Any],
    cost: str,
    *,
    n: int = 1,
    model: str = "gpt-4o-mini",
    at: datetime | None = None,
) -> None:
    """Record `n` requests of `cost` dollars each for `key` (a `keys create --json`
    answer), 10 input and 5 output tokens each, at `at` (default: the emulator's now)."""
    row = emulator.store.get_key(key["wallet_id"], key["spend_key_id"])
    for _ in range(n):
        emulator.store.record_request(
            row, provider="openai", model=model, endpoint="/v1/chat/completions",
            input_tokens=10, output_tokens=5, cost=Decimal(cost), created_at=at,
        )  # fmt: skip
