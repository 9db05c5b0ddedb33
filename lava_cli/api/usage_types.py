"""Typed views of the wallet and its spending: `/v1/wallet`, `/v1/usage`, `/v1/requests`.

Strict like `api.types` (a wrong shape is `MalformedResponse`), and kept apart from it so
that commands which never read usage do not define these classes at start-up. Amounts
keep the API's own spelling beside their value (`cost_text`, `balance_text`): --json
prints what the API sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lava_cli.api.types import (
    MalformedResponse,
    as_object,
    decimal_field,
    int_field,
    money_of,
    str_field,
)

if TYPE_CHECKING:
    from datetime import datetime


def _money(obj: dict[str, Any], name: str) -> tuple[Decimal, str]:
    """An amount (0 when absent) and the API's own spelling of it, which --json keeps."""
    value = obj.get(name)
    if value is None:
        return Decimal(0), "0"
    return money_of(value, repr(name)), str(value)


@dataclass(frozen=True)
class Wallet:
    """`GET /v1/wallet`. `balance_text` is the API's own spelling, for --json."""

    wallet_id: str
    balance: Decimal
    balance_text: str
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, value: Any) -> Wallet:
        obj = as_object(value, "wallet")
        balance, text = _money(obj, "balance")
        return cls(str_field(obj, "wallet_id") or "", balance, text, obj)


def _counts(obj: dict[str, Any]) -> tuple[int, int, Decimal, str]:
    """(requests, tokens, cost, the cost as the API wrote it) of a usage row."""
    cost, text = _money(obj, "total_cost")
    return int_field(obj, "total_requests"), int_field(obj, "total_usage_tokens"), cost, text


@dataclass(frozen=True)
class UsageTotals:
    """Requests, tokens and cost over a window; `cost_text` is the API's spelling."""

    requests: int
    tokens: int
    cost: Decimal
    cost_text: str


@dataclass(frozen=True)
class UsageDay:
    """One UTC day of `GET /v1/usage`; `cost_text` is the API's spelling."""

    date: str
    requests: int
    tokens: int
    cost: Decimal
    cost_text: str

    @classmethod
    def from_json(cls, value: Any) -> UsageDay:
        obj = as_object(value, "a usage item")
        date = (
            str_field(obj, "date", optional=True) or str_field(obj, "start", optional=True) or "-"
        )
        return cls(date, *_counts(obj))


@dataclass(frozen=True)
class Usage:
    """`GET /v1/usage`: the window's days, and its totals (the API's, else the days' sum)."""

    days: tuple[UsageDay, ...]
    totals: UsageTotals
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, value: Any) -> Usage:
        obj = as_object(value, "usage")
        items = obj.get("items")
        if not isinstance(items, list):
            raise MalformedResponse("unexpected answer from the API: usage 'items' is not a list")
        days = tuple(UsageDay.from_json(item) for item in items)
        sent = obj.get("totals")
        if sent is not None:
            totals = UsageTotals(*_counts(as_object(sent, "usage 'totals'")))
        else:
            cost = sum((d.cost for d in days), start=Decimal(0))
            requests, tokens = sum(d.requests for d in days), sum(d.tokens for d in days)
            totals = UsageTotals(requests, tokens, cost, str(cost))
        return cls(days, totals, obj)


@dataclass(frozen=True)
class RequestRecord:
    """An entry of `GET /v1/requests`: one request through the gateway and its cost.

    `model` is optional in the contract; `spend_key_id` is not in Lava's contract at all
    (the emulator adds it), so both may be None. `tokens` is `model_usage.total_tokens`.
    """

    request_id: str
    model: str | None
    provider: str | None
    spend_key_id: str | None
    tokens: int
    cost: Decimal
    created_at: datetime | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, value: Any) -> RequestRecord:
        from lava_cli.parsing import parse_api_time

        obj = as_object(value, "request")
        usage = obj.get("model_usage")
        tokens = 0 if usage is None else int_field(as_object(usage, "model_usage"), "total_tokens")
        created_text = str_field(obj, "created_at", optional=True)
        created_at = parse_api_time(created_text)
        if created_text is not None and created_at is None:
            raise MalformedResponse("unexpected answer from the API: 'created_at' is not a time")
        cost = decimal_field(obj, "cost")
        assert cost is not None
        return cls(
            request_id=str_field(obj, "request_id") or "",
            model=str_field(obj, "model", optional=True),
            provider=str_field(obj, "provider", optional=True),
            spend_key_id=str_field(obj, "spend_key_id", optional=True),
            tokens=tokens,
            cost=cost,
            created_at=created_at,
            raw=obj,
        )
