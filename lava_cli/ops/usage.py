"""The numbers behind `lava usage` and `lava keys check`, without any rendering.

Pure functions over `SpendKey` and the API's usage/request JSON, so they can be
tested without a terminal or a server. Money stays `Decimal` end to end; only the
renderer rounds (half-up to cents, see `output.money`). JSON output keeps the API's
own strings for amounts it sent and `str(Decimal)` for sums computed here.

Cycles follow the contract: calendar-aligned in UTC (daily at 00:00, weekly on
Monday 00:00, monthly on the 1st); `total` never resets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from lava_cli.api.types import MalformedResponse, money_of

if TYPE_CHECKING:
    from lava_cli.api.types import SpendKey

WARN_AT = Decimal("0.75")
DANGER_AT = Decimal("0.90")
# A burn rate from fewer requests (or no spend) is noise, not a forecast.
MIN_FORECAST_REQUESTS = 2
MIN_FORECAST_HOURS = Decimal(1) / 60


def parse_time(value: str | None) -> datetime | None:
    """An API timestamp as an aware UTC datetime (None when absent or unreadable)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return (
            parsed.astimezone(timezone.utc)
            if parsed.tzinfo
            else parsed.replace(tzinfo=timezone.utc)
        )
    except (ValueError, OverflowError):  # 0001-01-01T00:00+01:00 is before year 1 in UTC
        return None


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def cycle_start(cycle: str, now: datetime) -> datetime | None:
    """When the cycle containing `now` began; None for `total` (or an unknown cycle)."""
    midnight = now.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    if cycle == "daily":
        return midnight
    if cycle == "weekly":
        return midnight - timedelta(days=midnight.weekday())
    if cycle == "monthly":
        return midnight.replace(day=1)
    return None


def next_reset(cycle: str, now: datetime) -> datetime | None:
    """When usage of this cycle starts again from zero; None for `total`."""
    start = cycle_start(cycle, now)
    if start is None:
        return None
    if cycle == "daily":
        return start + timedelta(days=1)
    if cycle == "weekly":
        return start + timedelta(days=7)
    if start.month == 12:
        return start.replace(year=start.year + 1, month=1)
    return start.replace(month=start.month + 1)


def fraction(used: Decimal, limit: Decimal | None) -> Decimal | None:
    """Share of the limit used (may exceed 1); None without a limit."""
    if limit is None or limit <= 0:
        return None
    return used / limit


def level(share: Decimal | None) -> str:
    """`ok` below 75 %, `warn` below 90 %, `danger` from there (and `none` without a limit)."""
    if share is None:
        return "none"
    if share < WARN_AT:
        return "ok"
    return "warn" if share < DANGER_AT else "danger"


def percent(share: Decimal | None) -> str:
    if share is None:
        return "-"
    return f"{(share * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)}%"


def bar(share: Decimal | None, width: int) -> str:
    """A text bar of `width` cells; over-limit fills it; no limit draws a dim track."""
    width = max(1, width)
    if share is None:
        return "·" * width
    filled = int((min(share, Decimal(1)) * width).to_integral_value(rounding=ROUND_HALF_UP))
    if share > 0 and filled == 0:
        filled = 1  # any spend is visible
    return "█" * filled + "░" * (width - filled)


# --- one key ------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyUsage:
    """One key's position in its cycle, ready to render or dump as JSON."""

    key: SpendKey
    spend_share: Decimal | None
    request_share: Decimal | None
    reset_at: datetime | None
    status: str  # SpendKey.status_at(now): `expired` once expires_at has passed

    @property
    def remaining(self) -> Decimal | None:
        limit = self.key.spend_limit
        return None if limit is None else limit.amount - self.key.current_spend

    @property
    def level(self) -> str:
        shares = [s for s in (self.spend_share, self.request_share) if s is not None]
        return level(max(shares)) if shares else "none"

    def to_json(self) -> dict[str, Any]:
        key, raw = self.key, self.key.raw
        spend_limit = key.spend_limit
        request_limit = key.request_limit
        remaining = self.remaining
        share = self.spend_share
        if share is not None:
            share = share.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
        return {
            "spend_key_id": key.spend_key_id,
            "name": key.name,
            "status": key.status,
            # Derived here, not by the API: `status` above stays the server's word, as in
            # every other --json output.
            "expired": self.status == "expired",
            "current_spend": str(raw.get("current_spend", key.current_spend)),
            "total_spend": str(raw.get("total_spend", key.total_spend)),
            "spend_limit": raw.get("spend_limit") if spend_limit else None,
            "remaining": None if remaining is None else str(remaining),
            "spend_used": None if share is None else str(share),
            "current_requests": key.current_requests,
            "total_requests": key.total_requests,
            "request_limit": raw.get("request_limit") if request_limit else None,
            "resets_at": None if self.reset_at is None else iso(self.reset_at),
            "last_used_at": key.last_used_at,
            "expires_at": key.expires_at,
        }


def key_usage(key: SpendKey, now: datetime) -> KeyUsage:
    """The reset shown is the spend limit's cycle, else the request limit's."""
    spend = key.spend_limit
    req = key.request_limit
    cycle = spend.cycle if spend else (req.cycle if req else "total")
    return KeyUsage(
        key=key,
        spend_share=fraction(key.current_spend, spend.amount if spend else None),
        request_share=fraction(Decimal(key.current_requests), Decimal(req.count) if req else None),
        reset_at=next_reset(cycle, now),
        status=key.status_at(now),
    )


@dataclass(frozen=True)
class Forecast:
    """Spend pace this cycle and when the spend limit falls at that pace.

    `per_hour` is None when there is not enough data (`reason` says why); `limit_at`
    is None when there is no limit, or the cycle resets first (`before_reset` False).
    """

    per_hour: Decimal | None
    since: datetime | None
    limit_at: datetime | None
    before_reset: bool
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "spend_per_hour": None
            if self.per_hour is None
            else str(self.per_hour.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)),
            "since": None if self.since is None else iso(self.since),
            "limit_reached_at": None if self.limit_at is None else iso(self.limit_at),
            "before_reset": self.before_reset,
            "note": self.reason,
        }


def forecast(key: SpendKey, now: datetime) -> Forecast:
    """Average spend per hour since the cycle (or the key) began, extrapolated."""
    limit = key.spend_limit
    cycle = limit.cycle if limit else "total"
    began = cycle_start(cycle, now)
    created = parse_time(key.created_at)
    if created is not None and (began is None or created > began):
        began = created
    if key.current_requests < MIN_FORECAST_REQUESTS or key.current_spend <= 0 or began is None:
        return Forecast(None, began, None, False, "not enough data yet (needs 2+ requests)")
    hours = Decimal((now - began).total_seconds()) / 3600
    hours = max(hours, MIN_FORECAST_HOURS)
    per_hour = key.current_spend / hours
    if limit is None:
        return Forecast(per_hour, began, None, False, "no spend limit")
    remaining = limit.amount - key.current_spend
    if remaining <= 0:
        return Forecast(per_hour, began, now, True, "the spend limit is reached")
    limit_at = now + timedelta(seconds=float(remaining / per_hour * 3600))
    reset = next_reset(cycle, now)
    if reset is not None and limit_at >= reset:
        return Forecast(per_hour, began, None, False, "the cycle resets before the limit")
    return Forecast(per_hour, began, limit_at, True, "at the current pace")


# --- the wallet -------------------------------------------------------------------------


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


@dataclass(frozen=True)
class Day:
    date: str
    requests: int
    tokens: int
    cost: Decimal
    cost_text: str


def days_of(body: Any) -> list[Day]:
    """The `items` of GET /v1/usage."""
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise MalformedResponse("unexpected answer from the API: usage 'items' is not a list")
    days = []
    for item in items:
        if not isinstance(item, dict):
            raise MalformedResponse("unexpected answer from the API: a usage item is not an object")
        raw = item.get("total_cost", "0")
        days.append(
            Day(
                date=str(item.get("date") or item.get("start") or "-"),
                requests=_count(item.get("total_requests")),
                tokens=_count(item.get("total_usage_tokens")),
                cost=money_of(raw, "total_cost"),
                cost_text=str(raw),
            )
        )
    return days


@dataclass
class ModelTotal:
    model: str
    provider: str
    requests: int = 0
    tokens: int = 0
    cost: Decimal = Decimal(0)

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "provider": self.provider,
            "requests": self.requests,
            "tokens": self.tokens,
            "cost": str(self.cost),
        }


def by_model(requests: list[dict[str, Any]]) -> list[ModelTotal]:
    """Requests summed per model, most expensive first."""
    totals: dict[str, ModelTotal] = {}
    for item in requests:
        model = str(item.get("model") or "unknown")
        entry = totals.setdefault(model, ModelTotal(model, str(item.get("provider") or "-")))
        usage = item.get("model_usage")
        tokens = _count(usage.get("total_tokens")) if isinstance(usage, dict) else 0
        entry.requests += 1
        entry.tokens += tokens
        entry.cost += money_of(item.get("cost", "0"), "cost")
    return sorted(totals.values(), key=lambda t: (-t.cost, -t.requests, t.model))
