"""The pace of a key's spend this cycle, and when its spend limit falls at that pace.

A pure function of the key (`forecast`), for `lava usage KEY`: average spend per hour
since the cycle (or the key) began, extrapolated to the limit. Cycles follow the
contract's calendar (`lava_cli.contract`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from lava_cli.contract import cycle_start, next_reset
from lava_cli.parsing import iso_utc, parse_api_time

if TYPE_CHECKING:
    from lava_cli.api.types import SpendKey

# A burn rate from fewer requests (or no spend) is noise, not a forecast.
MIN_FORECAST_REQUESTS = 2
MIN_FORECAST_HOURS = Decimal(1) / 60


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
