"""`lava usage`: fetch what the views need, compute the numbers, hand them on.

`cli/usage.py` turns the flags into `UsageOptions` (every usage error before a request)
and calls one of `run_overview` (every key, then the wallet's month), `run_key` (one
key, with a forecast and its models) or `run_wallet` (the wallet's days and models over
a window). The exports and a key's days are `ops.usage_export`'s, the watch
`ops.usage_watch`'s, the pace `ops.usage_forecast`'s. Drawing is `render.usage`'s.

The numbers are pure functions over the API's typed answers (`SpendKey`,
`RequestRecord`), so they are tested without a terminal or a server; `keys check` and
`doctor` use them too. Money stays `Decimal` end to end; only the terminal rounds
(half-up to cents, see `render.usage.usd`). JSON output keeps the API's own strings
for amounts it sent and `str(Decimal)` for sums computed here. Cycles follow the
contract's calendar (`lava_cli.contract`): calendar-aligned in UTC, each limit on its
own cycle, and `total` never resets. The keys' figures are each in its own cycle and
leave out revoked keys, so the wallet's own total (`GET /v1/usage`, this UTC month)
is what `lava usage` shows as the total.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from lava_cli.contract import cycle_start, next_reset
from lava_cli.errors import ApiBadRequestError, ApiNotFoundError
from lava_cli.ops.usage_forecast import cycle_began, forecast
from lava_cli.parsing import iso_utc

if TYPE_CHECKING:
    from lava_cli.api.client import LavaClient
    from lava_cli.api.types import SpendKey
    from lava_cli.api.usage_types import RequestRecord, Usage, UsageDay, Wallet
    from lava_cli.context import AppContext

DEFAULT_WINDOW = timedelta(days=7)
VIEWS_BY = ("day", "model")
FORMATS = ("csv", "json")


@dataclass(frozen=True)
class UsageOptions:
    """What `lava usage` was asked. `start`/`end` are set for the wallet view and for
    `KEY --by`; `by` is `day` or `model`; `fmt` is an export format (`csv`, `json`)."""

    key: str | None
    wallet: bool
    start: datetime | None
    end: datetime | None
    json: bool
    by: str | None = None
    fmt: str | None = None


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def ceil_second(moment: datetime) -> datetime:
    """The API takes whole seconds: a window ending "now" must include this second."""
    whole = moment.replace(microsecond=0)
    return whole + timedelta(seconds=1) if whole < moment else whole


def _wallet_json(wallet: Wallet) -> dict[str, str]:
    return {"wallet_id": wallet.wallet_id, "balance": wallet.balance_text}


# --- the numbers ---------------------------------------------------------------------------


def fraction(used: Decimal, limit: Decimal | None) -> Decimal | None:
    """Share of the limit used (may exceed 1); None without a limit."""
    if limit is None or limit <= 0:
        return None
    return used / limit


def share_text(share: Decimal | None) -> str | None:
    """A share as every machine form writes it: 4 decimals, half up (`0.8125`)."""
    return None if share is None else str(share.quantize(Decimal("0.0001"), ROUND_HALF_UP))


# --- the numbers: one key ---------------------------------------------------------------------


@dataclass(frozen=True)
class KeyUsage:
    """One key's position in its cycle, ready to render or dump as JSON."""

    key: SpendKey
    spend_share: Decimal | None
    request_share: Decimal | None
    reset_at: datetime | None  # the spend limit's reset, else the request limit's
    status: str  # SpendKey.status_at(now): `expired` once expires_at has passed
    spend_reset_at: datetime | None = None  # each limit resets on its own cycle
    request_reset_at: datetime | None = None

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
        return {
            "spend_key_id": key.spend_key_id,
            "name": key.name,
            "status": key.status,
            # Derived here, not by the API: `status` above stays the server's word, as in
            # every other --json output.
            "expired": self.status == "expired",
            "current_spend": key.current_spend_text,
            "total_spend": str(raw.get("total_spend", key.total_spend)),
            "spend_limit": raw.get("spend_limit") if key.spend_limit else None,
            "remaining": None if remaining is None else str(remaining),
            "spend_used": share_text(self.spend_share),
            "current_requests": key.current_requests,
            "total_requests": key.total_requests,
            "request_limit": raw.get("request_limit") if key.request_limit else None,
            "resets_at": iso_or_none(self.reset_at),
            "spend_resets_at": iso_or_none(self.spend_reset_at),
            "requests_reset_at": iso_or_none(self.request_reset_at),
            "last_used_at": key.last_used_at,
            "expires_at": key.expires_at,
        }


def iso_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else iso_utc(moment)


def key_usage(key: SpendKey, now: datetime) -> KeyUsage:
    """A key against its limits; each limit's reset from its own cycle (`reset_at`, for
    one figure, is the spend limit's, else the request limit's)."""
    spend = key.spend_limit
    req = key.request_limit
    spend_reset = next_reset(spend.cycle, now) if spend else None
    request_reset = next_reset(req.cycle, now) if req else None
    return KeyUsage(
        key=key,
        spend_share=fraction(key.current_spend, spend.amount if spend else None),
        request_share=fraction(Decimal(key.current_requests), Decimal(req.count) if req else None),
        reset_at=spend_reset if spend else request_reset,
        status=key.status_at(now),
        spend_reset_at=spend_reset,
        request_reset_at=request_reset,
    )


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


@dataclass(frozen=True)
class MonthTotals:
    """The wallet's spend this UTC month so far (`GET /v1/usage`): every request of every
    key, revoked ones included, so it agrees with `lava usage --wallet --start <the 1st>`.
    The keys' own figures cannot: each is in its own cycle, and revoked keys are gone."""

    start: datetime
    end: datetime
    usage: Usage

    def to_json(self) -> dict[str, Any]:
        totals = self.usage.totals
        return {
            "start": iso_utc(self.start),
            "end": iso_utc(self.end),
            "cost": totals.cost_text,
            "requests": totals.requests,
            "tokens": totals.tokens,
            "covers": "every request of the wallet this UTC month so far, revoked keys included",
        }


def month_totals(client: LavaClient, now: datetime) -> MonthTotals:
    start = cycle_start("monthly", now)
    assert start is not None
    end = ceil_second(now)
    return MonthTotals(start, end, client.usage(start, end))


def run_overview(app: AppContext, opts: UsageOptions) -> None:
    """Every key against its limits, then the wallet: its balance and this month's spend."""
    from lava_cli.render import usage as render_usage

    client = app.client()
    now = now_utc()
    rows = [key_usage(k, now) for k in client.iter_spend_keys()]
    wallet = client.wallet()
    month = month_totals(client, now)
    if opts.json:
        app.out.json(_overview_json(rows, wallet, month))
        return
    render_usage.overview(app.out, rows, wallet, month, now)


def _overview_json(rows: list[KeyUsage], wallet: Wallet, month: MonthTotals) -> dict[str, Any]:
    spend = sum((u.key.current_spend for u in rows), start=Decimal(0))
    return {
        "keys": [u.to_json() for u in rows],
        "wallet": _wallet_json(wallet),
        "totals": {
            "current_spend": str(spend),
            "current_requests": sum(u.key.current_requests for u in rows),
            "keys": len(rows),
            "covers": "the keys listed, each in its own current cycle; revoked keys are "
            "not listed (see wallet_month for the wallet's figures)",
        },
        "wallet_month": month.to_json(),
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


def key_records(
    client: LavaClient, key: SpendKey, since: datetime
) -> tuple[list[RequestRecord], bool] | None:
    """The key's requests from `since` on, and whether the walk was capped; None when
    the API cannot say which requests are the key's.

    /v1/requests has no documented per-key filter: ask for one (the emulator has it,
    `spend_key_id`) and keep only the records that say they are this key's. An API
    that refuses the filter, or sends records without the field (Lava's documented
    `RestRequest` has none), gives None rather than the wallet's records.
    """
    walk = client.iter_requests(since, spend_key_id=key.spend_key_id)
    try:
        records = list(walk)
    except (ApiBadRequestError, ApiNotFoundError):
        return None
    if records and all(r.spend_key_id is None for r in records):
        return None
    return [r for r in records if r.spend_key_id == key.spend_key_id], walk.capped


def key_models(client: LavaClient, key: SpendKey, now: datetime) -> list[ModelTotal] | None:
    """The key's spend by model since its cycle began, or None when the API cannot say."""
    found = key_records(client, key, cycle_began(key, now) or now - DEFAULT_WINDOW)
    return None if found is None else by_model(found[0])


# --- the wallet ------------------------------------------------------------------------------


def run_wallet(app: AppContext, opts: UsageOptions) -> None:
    """The wallet's UTC days over the window as a chart, then its spend by model (or
    only one of them, with --by)."""
    from lava_cli.render import usage_wallet as render_wallet

    assert opts.start is not None and opts.end is not None
    window = (opts.start, opts.end)
    client = app.client()
    usage = client.usage(*window) if opts.by != "model" else None
    models, capped = window_models(client, *window) if opts.by != "day" else (None, False)
    wallet = client.wallet()
    if opts.json:
        body = _wallet_report_json(usage, wallet, window)
        if models is not None:
            body["by_model"] = [m.to_json() for m in models]
            body["by_model_complete"] = not capped
        app.out.json(body)
        return
    view = render_wallet.Breakdown("Usage", usage, models, window, capped)
    render_wallet.wallet_report(app.out, wallet, view)


def window_models(
    client: LavaClient, start: datetime, end: datetime
) -> tuple[list[ModelTotal], bool]:
    """The wallet's spend by model in [start, end), and whether the walk was capped."""
    walk = client.iter_requests(start)
    models = by_model(r for r in walk if r.created_at is None or r.created_at < end)
    return models, walk.capped


def _wallet_report_json(
    usage: Usage | None, wallet: Wallet, window: tuple[datetime, datetime]
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "start": iso_utc(window[0]),
        "end": iso_utc(window[1]),
        "wallet": _wallet_json(wallet),
    }
    if usage is not None:
        totals = usage.totals
        body["days"] = [day_json(d) for d in usage.days]
        body["totals"] = {
            "cost": totals.cost_text,
            "requests": totals.requests,
            "tokens": totals.tokens,
        }
    return body


def day_json(day: UsageDay) -> dict[str, Any]:
    return {"date": day.date, "cost": day.cost_text, "requests": day.requests, "tokens": day.tokens}
