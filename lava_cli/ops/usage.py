"""`lava usage`: fetch what the three views need, compute the numbers, hand them on.

`cli/usage.py` turns the flags into `UsageOptions` (every usage error before a request)
and calls one of `run_overview` (every key), `run_key` (one key, with a forecast and
its models) or `run_wallet` (the wallet's days and models over a window). Drawing them
is `render.usage`'s.

The numbers are pure functions over the API's typed answers (`SpendKey`,
`RequestRecord`), so they are tested without a terminal or a server; `keys check` and
`doctor` use them too. Money stays `Decimal` end to end; only the renderer rounds
(half-up to cents, see `render.output.money`). JSON output keeps the API's own strings
for amounts it sent and `str(Decimal)` for sums computed here. Cycles follow the
contract's calendar (`lava_cli.contract`): calendar-aligned in UTC, and `total` never
resets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from lava_cli.contract import cycle_start, next_reset
from lava_cli.errors import ApiBadRequestError, ApiNotFoundError
from lava_cli.parsing import iso_utc, parse_api_time

if TYPE_CHECKING:
    from lava_cli.api.client import LavaClient
    from lava_cli.api.types import SpendKey
    from lava_cli.api.usage_types import RequestRecord, Usage, Wallet
    from lava_cli.context import AppContext

DEFAULT_WINDOW = timedelta(days=7)
# A burn rate from fewer requests (or no spend) is noise, not a forecast.
MIN_FORECAST_REQUESTS = 2
MIN_FORECAST_HOURS = Decimal(1) / 60


@dataclass(frozen=True)
class UsageOptions:
    """What `lava usage` was asked. `start`/`end` are set for the wallet view only."""

    key: str | None
    wallet: bool
    start: datetime | None
    end: datetime | None
    json: bool


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def _wallet_json(wallet: Wallet) -> dict[str, str]:
    return {"wallet_id": wallet.wallet_id, "balance": wallet.balance_text}


# --- the numbers ---------------------------------------------------------------------------


def fraction(used: Decimal, limit: Decimal | None) -> Decimal | None:
    """Share of the limit used (may exceed 1); None without a limit."""
    if limit is None or limit <= 0:
        return None
    return used / limit


# --- the numbers: one key ---------------------------------------------------------------------


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


# --- every key -------------------------------------------------------------------------------


def run_overview(app: AppContext, opts: UsageOptions) -> None:
    """Every key against its limits, then the wallet's balance and the totals."""
    from lava_cli.render import usage as render_usage

    client = app.client()
    now = now_utc()
    rows = [key_usage(k, now) for k in client.iter_spend_keys()]
    wallet = client.wallet()
    if opts.json:
        app.out.json(_overview_json(rows, wallet))
        return
    render_usage.overview(app.out, rows, wallet, now)


def _overview_json(rows: list[KeyUsage], wallet: Wallet) -> dict[str, Any]:
    spend = sum((u.key.current_spend for u in rows), start=Decimal(0))
    return {
        "keys": [u.to_json() for u in rows],
        "wallet": _wallet_json(wallet),
        "totals": {
            "current_spend": str(spend),
            "current_requests": sum(u.key.current_requests for u in rows),
            "keys": len(rows),
        },
    }


# --- one key ---------------------------------------------------------------------------------


def run_key(app: AppContext, opts: UsageOptions) -> None:
    """One key in detail: its cycle, pace and forecast, and (when the API can say) its
    spend by model this cycle."""
    from lava_cli.ops.keys import resolve_key
    from lava_cli.render import usage as render_usage

    assert opts.key is not None
    client = app.client()
    now = now_utc()
    found = resolve_key(client, opts.key)
    row = key_usage(found, now)
    fc = forecast(found, now)
    models = key_models(client, found, now)
    if opts.json:
        body = row.to_json()
        body["forecast"] = fc.to_json()
        body["by_model"] = None if models is None else [m.to_json() for m in models]
        app.out.json(body)
        return
    render_usage.key_detail(app.out, row, fc, models, now)


def key_models(client: LavaClient, key: SpendKey, now: datetime) -> list[ModelTotal] | None:
    """The key's spend by model since its cycle began, or None when the API cannot say.

    /v1/requests has no documented per-key filter: ask for one (the emulator has it) and
    keep only records that say they are this key's. An API that refuses the filter, or
    sends records without the field, gives no breakdown rather than the wallet's.
    """
    since = cycle_began(key, now) or now - DEFAULT_WINDOW
    try:
        records = list(client.iter_requests(since, spend_key_id=key.spend_key_id))
    except (ApiBadRequestError, ApiNotFoundError):
        return None
    if records and all(r.spend_key_id is None for r in records):
        return None
    return by_model(r for r in records if r.spend_key_id == key.spend_key_id)


# --- the wallet ------------------------------------------------------------------------------


def run_wallet(app: AppContext, opts: UsageOptions) -> None:
    """The wallet's UTC days over the window as a chart, then its spend by model."""
    from lava_cli.render import usage as render_usage

    assert opts.start is not None and opts.end is not None
    start, end = opts.start, opts.end
    client = app.client()
    usage = client.usage(start, end)
    walk = client.iter_requests(start)
    models = by_model(r for r in walk if r.created_at is None or r.created_at < end)
    wallet = client.wallet()
    if opts.json:
        body = _wallet_report_json(usage, wallet, (start, end))
        body["by_model"] = [m.to_json() for m in models]
        body["by_model_complete"] = not walk.capped
        app.out.json(body)
        return
    render_usage.wallet_report(app.out, wallet, usage, models, (start, end), walk.capped)


def _wallet_report_json(
    usage: Usage, wallet: Wallet, window: tuple[datetime, datetime]
) -> dict[str, Any]:
    totals = usage.totals
    return {
        "start": iso_utc(window[0]),
        "end": iso_utc(window[1]),
        "wallet": _wallet_json(wallet),
        "days": [
            {"date": d.date, "cost": d.cost_text, "requests": d.requests, "tokens": d.tokens}
            for d in usage.days
        ],
        "totals": {"cost": totals.cost_text, "requests": totals.requests, "tokens": totals.tokens},
    }
