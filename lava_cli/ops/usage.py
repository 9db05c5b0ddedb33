"""`lava usage`: fetch what the three views need, compute, hand over to render or --json.

`cli/usage.py` turns the flags into `UsageOptions` (every usage error before a request)
and calls one of `run_overview` (every key), `run_key` (one key, with a forecast and
its models) or `run_wallet` (the wallet's days and models over a window). The numbers
are `ops.usage_numbers`'; the drawing is `render.usage`'.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lava_cli.errors import ApiBadRequestError, ApiNotFoundError
from lava_cli.parsing import iso_utc

if TYPE_CHECKING:
    from lava_cli.api.client import LavaClient
    from lava_cli.api.types import SpendKey, Usage, Wallet
    from lava_cli.context import AppContext
    from lava_cli.ops.usage_numbers import KeyUsage, ModelTotal

DEFAULT_WINDOW = timedelta(days=7)


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


# --- every key -------------------------------------------------------------------------------


def run_overview(app: AppContext, opts: UsageOptions) -> None:
    """Every key against its limits, then the wallet's balance and the totals."""
    from lava_cli.ops.usage_numbers import key_usage
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
    from lava_cli.ops.usage_numbers import forecast, key_usage
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
    from lava_cli.ops.usage_numbers import by_model, cycle_began

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
    from lava_cli.ops.usage_numbers import by_model
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
