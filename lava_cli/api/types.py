"""Typed views of the API's JSON objects.

Each `from_json` checks the shape it needs and raises `MalformedResponse` on
anything else, so a server answering garbage becomes one error line, never a
`KeyError` traceback. The original object is kept in `raw` because `--json`
prints what the API sent, untouched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lava_cli.contract import CYCLES
from lava_cli.errors import ApiError

if TYPE_CHECKING:
    from datetime import datetime

# Statuses the server gives a key that can still expire; `expired` is derived from
# `expires_at` by the CLI (the API keeps saying `active`), see SpendKey.status_at.
EXPIRABLE = ("active", "paused")
STATUSES = (*EXPIRABLE, "expired")


class MalformedResponse(ApiError):
    """A 2xx answer whose JSON does not have the documented shape (exit 1)."""


def _obj(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedResponse(f"unexpected answer from the API: {what} is not an object")
    return value


def _str(obj: dict[str, Any], name: str, *, optional: bool = False) -> str | None:
    value = obj.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise MalformedResponse(f"unexpected answer from the API: {name!r} is not a string")
    return value


def _int(obj: dict[str, Any], name: str, default: int = 0) -> int:
    value = obj.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedResponse(f"unexpected answer from the API: {name!r} is not an integer")
    return value


# Amounts beyond this are no money any wallet holds: a hostile or broken server's
# "1e999999" would otherwise pass as finite and crash every formatter downstream.
MAX_AMOUNT_DIGITS = 15


def money_of(value: Any, what: str) -> Decimal:
    """A decimal amount the API sent (string or number), exactly, or MalformedResponse."""
    # Decimal() also reads other scripts' digits ("١٠" is 10): the API writes 0-9 only.
    if (
        isinstance(value, bool)
        or not isinstance(value, (str, int, float))
        or (isinstance(value, str) and not value.isascii())
    ):
        raise MalformedResponse(f"unexpected answer from the API: {what} is not a number")
    try:
        result = Decimal(str(value))
    except ArithmeticError:
        raise MalformedResponse(f"unexpected answer from the API: {what} is not a number") from None
    if not result.is_finite():
        raise MalformedResponse(f"unexpected answer from the API: {what} is not finite")
    if result and result.adjusted() >= MAX_AMOUNT_DIGITS:
        raise MalformedResponse(f"unexpected answer from the API: {what} is implausibly large")
    return result


def _decimal(obj: dict[str, Any], name: str, *, optional: bool = False) -> Decimal | None:
    value = obj.get(name)
    if value is None:
        return None if optional else Decimal(0)
    return money_of(value, repr(name))


def _money(obj: dict[str, Any], name: str) -> tuple[Decimal, str]:
    """An amount (0 when absent) and the API's own spelling of it, which --json keeps."""
    value = obj.get(name)
    if value is None:
        return Decimal(0), "0"
    return money_of(value, repr(name)), str(value)


def _cycle(obj: dict[str, Any], what: str) -> str:
    """A limit's cycle: one of the contract's, or the answer is not one we can read
    (the reset times and forecasts are computed from it)."""
    value = _str(obj, "cycle")
    if value not in CYCLES:
        raise MalformedResponse(
            f"unexpected answer from the API: {what}.cycle is not one of {', '.join(CYCLES)}"
        )
    return value


def _str_list(obj: dict[str, Any], name: str) -> tuple[str, ...] | None:
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MalformedResponse(
            f"unexpected answer from the API: {name!r} is not a list of strings"
        )
    return tuple(value)


@dataclass(frozen=True)
class SpendLimit:
    amount: Decimal
    cycle: str


@dataclass(frozen=True)
class RequestLimit:
    count: int
    cycle: str


@dataclass(frozen=True)
class RateLimit:
    rpm: int
    burst: int | None


@dataclass(frozen=True)
class SpendKey:
    """A spend key as the API describes it. `key` is set only on create/rotate."""

    spend_key_id: str
    name: str
    status: str
    request_shape: str
    key_preview: str
    allowed_models: tuple[str, ...] | None
    allowed_providers: tuple[str, ...] | None
    spend_limit: SpendLimit | None
    request_limit: RequestLimit | None
    rate_limit: RateLimit | None
    current_spend: Decimal
    total_spend: Decimal
    current_requests: int
    total_requests: int
    expires_at: str | None
    last_used_at: str | None
    created_at: str | None
    key: str | None = field(default=None, repr=False)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def is_expired(self, now: datetime) -> bool:
        """True once `expires_at` has passed (an unreadable time counts as no expiry)."""
        from lava_cli.parsing import parse_api_time

        expires = parse_api_time(self.expires_at)
        return expires is not None and expires <= now

    def status_at(self, now: datetime) -> str:
        """The status to show people: `expired` for a key whose `expires_at` has passed
        while the server still calls it active or paused, else the server's status.

        The one place this is decided, for `keys list` (and its --status filter),
        `keys show`, `usage` and `keys check`. `--json` of the API objects keeps the
        server's own `status`.
        """
        if self.status in EXPIRABLE and self.is_expired(now):
            return "expired"
        return self.status

    @classmethod
    def from_json(cls, value: Any) -> SpendKey:
        obj = _obj(value, "spend key")
        spend = obj.get("spend_limit")
        req = obj.get("request_limit")
        rate = obj.get("rate_limit")
        spend_limit = None
        if spend is not None:
            s = _obj(spend, "spend_limit")
            amount = _decimal(s, "amount")
            assert amount is not None
            spend_limit = SpendLimit(amount, _cycle(s, "spend_limit"))
        request_limit = None
        if req is not None:
            r = _obj(req, "request_limit")
            request_limit = RequestLimit(_int(r, "count"), _cycle(r, "request_limit"))
        rate_limit = None
        if rate is not None:
            rl = _obj(rate, "rate_limit")
            burst = rl.get("burst")
            rate_limit = RateLimit(
                _int(rl, "rpm"), _int(rl, "burst") if burst is not None else None
            )
        current = _decimal(obj, "current_spend")
        total = _decimal(obj, "total_spend")
        assert current is not None and total is not None
        return cls(
            spend_key_id=_str(obj, "spend_key_id") or "",
            name=_str(obj, "name") or "",
            status=_str(obj, "status") or "",
            request_shape=_str(obj, "request_shape", optional=True) or "openai",
            key_preview=_str(obj, "key_preview", optional=True) or "",
            allowed_models=_str_list(obj, "allowed_models"),
            allowed_providers=_str_list(obj, "allowed_providers"),
            spend_limit=spend_limit,
            request_limit=request_limit,
            rate_limit=rate_limit,
            current_spend=current,
            total_spend=total,
            current_requests=_int(obj, "current_requests"),
            total_requests=_int(obj, "total_requests"),
            expires_at=_str(obj, "expires_at", optional=True),
            last_used_at=_str(obj, "last_used_at", optional=True),
            created_at=_str(obj, "created_at", optional=True),
            key=_str(obj, "key", optional=True),
            raw=obj,
        )


@dataclass(frozen=True)
class Page:
    """One page of a cursor-paged list."""

    data: list[dict[str, Any]]
    has_more: bool
    next_cursor: str | None

    @classmethod
    def from_json(cls, value: Any) -> Page:
        obj = _obj(value, "list")
        data = obj.get("data")
        if not isinstance(data, list):
            raise MalformedResponse("unexpected answer from the API: 'data' is not a list")
        has_more = obj.get("has_more", False)
        if not isinstance(has_more, bool):
            raise MalformedResponse("unexpected answer from the API: 'has_more' is not a boolean")
        cursor = _str(obj, "next_cursor", optional=True)
        if has_more and not cursor:
            raise MalformedResponse("unexpected answer from the API: has_more without next_cursor")
        return cls([_obj(item, "list item") for item in data], has_more, cursor)


@dataclass(frozen=True)
class Model:
    """An entry of `GET /v1/models` (OpenAI's list shape): what the gateway routes to."""

    id: str
    owned_by: str | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, value: Any) -> Model:
        obj = _obj(value, "model")
        return cls(_str(obj, "id") or "", _str(obj, "owned_by", optional=True), obj)


@dataclass(frozen=True)
class Service:
    """An entry of `GET /v1/services`: a model with its prices per 1M tokens, when known."""

    id: str
    provider: str | None
    input_per_1m: Decimal | None
    output_per_1m: Decimal | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, value: Any) -> Service:
        obj = _obj(value, "service")
        pricing = obj.get("pricing")
        prices = {} if pricing is None else _obj(pricing, "pricing")
        return cls(
            id=_str(obj, "id") or "",
            provider=_str(obj, "provider", optional=True),
            input_per_1m=_decimal(prices, "input", optional=True),
            output_per_1m=_decimal(prices, "output", optional=True),
            raw=obj,
        )


@dataclass(frozen=True)
class Wallet:
    """`GET /v1/wallet`. `balance_text` is the API's own spelling, for --json."""

    wallet_id: str
    balance: Decimal
    balance_text: str
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, value: Any) -> Wallet:
        obj = _obj(value, "wallet")
        balance, text = _money(obj, "balance")
        return cls(_str(obj, "wallet_id") or "", balance, text, obj)


def _counts(obj: dict[str, Any]) -> tuple[int, int, Decimal, str]:
    """(requests, tokens, cost, the cost as the API wrote it) of a usage row."""
    cost, text = _money(obj, "total_cost")
    return _int(obj, "total_requests"), _int(obj, "total_usage_tokens"), cost, text


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
        obj = _obj(value, "a usage item")
        date = _str(obj, "date", optional=True) or _str(obj, "start", optional=True) or "-"
        return cls(date, *_counts(obj))


@dataclass(frozen=True)
class Usage:
    """`GET /v1/usage`: the window's days, and its totals (the API's, else the days' sum)."""

    days: tuple[UsageDay, ...]
    totals: UsageTotals
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, value: Any) -> Usage:
        obj = _obj(value, "usage")
        items = obj.get("items")
        if not isinstance(items, list):
            raise MalformedResponse("unexpected answer from the API: usage 'items' is not a list")
        days = tuple(UsageDay.from_json(item) for item in items)
        sent = obj.get("totals")
        if sent is not None:
            totals = UsageTotals(*_counts(_obj(sent, "usage 'totals'")))
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

        obj = _obj(value, "request")
        usage = obj.get("model_usage")
        tokens = 0 if usage is None else _int(_obj(usage, "model_usage"), "total_tokens")
        created_text = _str(obj, "created_at", optional=True)
        created_at = parse_api_time(created_text)
        if created_text is not None and created_at is None:
            raise MalformedResponse("unexpected answer from the API: 'created_at' is not a time")
        cost = _decimal(obj, "cost")
        assert cost is not None
        return cls(
            request_id=_str(obj, "request_id") or "",
            model=_str(obj, "model", optional=True),
            provider=_str(obj, "provider", optional=True),
            spend_key_id=_str(obj, "spend_key_id", optional=True),
            tokens=tokens,
            cost=cost,
            created_at=created_at,
            raw=obj,
        )
