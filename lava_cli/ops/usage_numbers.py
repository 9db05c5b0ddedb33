"""The numbers behind `lava usage` (and `keys check`, `doctor`), without any rendering.

Pure functions over the API's typed answers (`SpendKey`, `RequestRecord`), so they are
tested without a terminal or a server. Money stays `Decimal` end to end; only the
renderer rounds (half-up to cents, see `render.output.money`). JSON output keeps the
API's own strings for amounts it sent and `str(Decimal)` for sums computed here.

Cycles follow the contract's calendar (`lava_cli.contract`): calendar-aligned in UTC,
and `total` never resets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from lava_cli.contract import cycle_start, next_reset
from lava_cli.parsing import iso_utc, parse_api_time

if TYPE_CHECKING:
    from lava_cli.api.types import RequestRecord, SpendKey

# A burn rate from fewer requests (or no spend) is noise, not a forecast.
MIN_FORECAST_REQUESTS = 2
MIN_FORECAST_HOURS = Decimal(1) / 60


def fraction(used: Decimal, limit: Decimal | None) -> Decimal | None:
    """Share of the limit used (may exceed 1); None without a limit."""
    if limit is None or limit <= 0:
        return None
    return used / limit


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
    def peak_share(self) -> Decimal | None:
        """The closer of the two limits (spend, requests); None when the key has neither."""
        shares = [s for s in (self.spend_share, self.request_share) if s is not None]
        return max(shares) if shares else None

    def to_json(self) -> dict[str, Any]:
        key, raw = self.key, self.key.raw
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
            "spend_limit": raw.get("spend_limit") if key.spend_limit else None,
            "remaining": None if remaining is None else str(remaining),
            "spend_used": None if share is None else str(share),
            "current_requests": key.current_requests,
            "total_requests": key.total_requests,
            "request_limit": raw.get("request_limit") if key.request_limit else None,
            "resets_at": None if self.reset_at is None else iso_utc(self.reset_at),
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


def cycle_began(key: SpendKey, now: datetime) -> datetime | None:
    """When the key's current spend cycle began: the cycle's start, or the key's creation
    when that is later (or when the limit is `total`); None when neither is known."""
    cycle = key.spend_limit.cycle if key.spend_limit else "total"
    began = cycle_start(cycle, now)
    created = parse_api_time(key.created_at)
    if created is not None and (began is None or created > began):
        return created
    return began


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
            "since": None if self.since is None else iso_utc(self.since),
            "limit_reached_at": None if self.limit_at is None else iso_utc(self.limit_at),
            "before_reset": self.before_reset,
            "note": self.reason,
        }


def forecast(key: SpendKey, now: datetime) -> Forecast:
    """Average spend per hour since the cycle (or the key) began, extrapolated."""
    limit = key.spend_limit
    began = cycle_began(key, now)
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
    reset = next_reset(limit.cycle, now)
    if reset is not None and limit_at >= reset:
        return Forecast(per_hour, began, None, False, "the cycle resets before the limit")
    return Forecast(per_hour, began, limit_at, True, "at the current pace")


# --- spend by model ---------------------------------------------------------------------


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


def by_model(requests: Iterable[RequestRecord]) -> list[ModelTotal]:
    """Requests summed per model, most expensive first."""
    totals: dict[str, ModelTotal] = {}
    for record in requests:
        model = record.model or "unknown"
        entry = totals.setdefault(model, ModelTotal(model, record.provider or "-"))
        entry.requests += 1
        entry.tokens += record.tokens
        entry.cost += record.cost
    return sorted(totals.values(), key=lambda t: (-t.cost, -t.requests, t.model))
