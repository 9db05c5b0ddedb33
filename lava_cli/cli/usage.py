"""`lava usage`: where the money goes, per key and for the wallet.

Parse the flags into `UsageOptions` (usage errors before any request), then one of
three plain functions fetches and hands typed numbers to `render_usage`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lava_cli.cli.common import JsonOpt, app_of
from lava_cli.errors import ApiBadRequestError, ApiNotFoundError, UsageError
from lava_cli.parsing import parse_datetime, parse_duration

if TYPE_CHECKING:
    from lava_cli.api.client import LavaClient
    from lava_cli.context import AppContext
    from lava_cli.render.usage import WalletSummary

DEFAULT_WINDOW = timedelta(days=7)
REQUEST_PAGE = 100


@dataclass(frozen=True)
class UsageOptions:
    key: str | None
    wallet: bool
    start: datetime | None
    end: datetime | None
    json: bool


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _ceil_second(moment: datetime) -> datetime:
    """The API takes whole seconds: a window ending "now" must include this second."""
    whole = moment.replace(microsecond=0)
    return whole + timedelta(seconds=1) if whole < moment else whole


def parse_options(
    key: str | None,
    wallet: bool,
    since: str | None,
    start: str | None,
    end: str | None,
    json_: bool,
    now: datetime,
) -> UsageOptions:
    """Check the flag combinations; a date range implies --wallet."""
    ranged = since is not None or start is not None or end is not None
    if key is not None and (wallet or ranged):
        raise UsageError(
            "KEY and --wallet/--since/--start/--end do not go together",
            hint="`lava usage KEY` shows one key's cycle; `lava usage --wallet --since 7d` "
            "shows the wallet's days",
        )
    if since is not None and (start is not None or end is not None):
        raise UsageError("use --since or --start/--end, not both")
    begin: datetime | None = None
    finish: datetime | None = None
    if ranged:
        try:
            if since is not None:
                finish = _ceil_second(now)
                begin = now - parse_duration(since, "--since")
            else:
                begin = parse_datetime(start, "--start") if start else None
                finish = _end_of(end) if end else _ceil_second(now)
                if begin is None:
                    begin = finish - DEFAULT_WINDOW
        except OverflowError:  # --end 0001-01-01 minus a week, 9999-12-31 plus a day
            raise UsageError("--start/--end: the window reaches past year 1 or 9999") from None
        if finish <= begin:
            raise UsageError("--end must be after --start")
    return UsageOptions(key, wallet or ranged, begin, finish, json_)


def _end_of(text: str) -> datetime:
    """A bare date as --end means the whole of that day (UTC)."""
    moment = parse_datetime(text, "--end")
    if len(text.strip()) == 10:
        moment += timedelta(days=1)
    return moment


def usage(
    ctx: typer.Context,
    key: Annotated[
        str | None,
        typer.Argument(help="Show one key in detail (id or unique name).", show_default=False),
    ] = None,
    wallet: Annotated[
        bool, typer.Option("--wallet", help="Daily spend and spend by model for the wallet.")
    ] = False,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Window for --wallet ending now: 24h, 7d, 4w (default 7d)."),
    ] = None,
    start: Annotated[
        str | None, typer.Option("--start", help="Window start for --wallet (ISO date or time).")
    ] = None,
    end: Annotated[
        str | None,
        typer.Option("--end", help="Window end for --wallet; a date includes that whole day."),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Show spend against limits: every key, one key with a forecast, or the wallet.

    Bars turn yellow at 75% of a limit and red at 90%. Cycles reset at 00:00 UTC
    (weekly on Monday, monthly on the 1st), shown in your local time. Terminal
    amounts are rounded half-up to cents; piped rows and --json keep exact decimals.

    Example: lava usage --wallet --since 30d
    """
    app_ = app_of(ctx)
    opts = parse_options(key, wallet, since, start, end, json_, _now())
    if opts.key is not None:
        run_key(app_, opts)
    elif opts.wallet:
        run_wallet(app_, opts)
    else:
        run_overview(app_, opts)


# --- the three views -------------------------------------------------------------------------


def _wallet(client: LavaClient) -> WalletSummary:
    from lava_cli.api.types import money_of
    from lava_cli.render.usage import WalletSummary

    body = client.wallet()
    raw = body.get("balance", "0")
    return WalletSummary(str(body.get("wallet_id") or "-"), money_of(raw, "balance"), str(raw))


def run_overview(app: AppContext, opts: UsageOptions) -> None:
    from lava_cli.ops.usage import key_usage
    from lava_cli.render import usage as render_usage

    client = app.client()
    now = _now()
    rows = [key_usage(k, now) for k in client.iter_spend_keys()]
    wallet = _wallet(client)
    if opts.json:
        spend = sum((u.key.current_spend for u in rows), start=Decimal(0))
        app.out.json(
            {
                "keys": [u.to_json() for u in rows],
                "wallet": {"wallet_id": wallet.wallet_id, "balance": wallet.balance_text},
                "totals": {
                    "current_spend": str(spend),
                    "current_requests": sum(u.key.current_requests for u in rows),
                    "keys": len(rows),
                },
            }
        )
        return
    render_usage.overview(app, rows, wallet, now)


def iter_requests(
    client: LavaClient, since: datetime, params: dict[str, Any] | None = None
) -> tuple[list[dict[str, Any]], bool]:
    """Requests from `since` on, following the cursor; (items, capped).

    The API lists newest first, so paging stops at the first page that reaches
    back past `since`. Paging is linear in traffic: past LAVA_MAX_PAGES pages the
    by-model breakdown covers the newest requests only (`capped` is True, and the
    report says so), and a server that always says has_more cannot loop forever.
    """
    from lava_cli.api.types import Page

    items: list[dict[str, Any]] = []
    cursor: str | None = None
    seen: set[str] = set()
    for _ in range(client.limits.max_pages):
        query: dict[str, Any] = {"limit": REQUEST_PAGE, **(params or {})}
        if cursor:
            query["cursor"] = cursor
        page = Page.from_json(client.get_json("/requests", query))
        older = False
        for item in page.data:
            when = _created(item)
            if when is not None and when < since:
                older = True
                continue
            items.append(item)
        if older or not page.has_more or page.next_cursor in seen:
            return items, False
        cursor = page.next_cursor
        seen.add(cursor or "")
    return items, True


def _created(item: dict[str, Any]) -> datetime | None:
    from lava_cli.ops.usage import parse_time

    value = item.get("created_at")
    return parse_time(value if isinstance(value, str) else None)


def run_key(app: AppContext, opts: UsageOptions) -> None:
    from lava_cli.ops.keys import resolve_key
    from lava_cli.ops.usage import by_model, cycle_start, forecast, key_usage, parse_time
    from lava_cli.render import usage as render_usage

    assert opts.key is not None
    client = app.client()
    now = _now()
    found = resolve_key(client, opts.key)
    row = key_usage(found, now)
    fc = forecast(found, now)
    cycle = found.spend_limit.cycle if found.spend_limit else "total"
    since = cycle_start(cycle, now) or parse_time(found.created_at) or now - DEFAULT_WINDOW
    # /v1/requests has no documented per-key filter: ask for one (the emulator has it)
    # and keep only rows that say they are this key's; without the field, no breakdown.
    models = None
    try:
        items, _ = iter_requests(client, since, {"spend_key_id": found.spend_key_id})
    except (ApiBadRequestError, ApiNotFoundError):
        items = None  # an API without the filter (or the endpoint): no breakdown
    if items is not None and (not items or any("spend_key_id" in i for i in items)):
        models = by_model([i for i in items if i.get("spend_key_id") == found.spend_key_id])
    if opts.json:
        body = row.to_json()
        body["forecast"] = fc.to_json()
        body["by_model"] = None if models is None else [m.to_json() for m in models]
        app.out.json(body)
        return
    render_usage.key_detail(app, row, fc, models, now)


def run_wallet(app: AppContext, opts: UsageOptions) -> None:
    from lava_cli.ops.usage import by_model, days_of, iso
    from lava_cli.render import usage as render_usage

    client = app.client()
    end = opts.end or _ceil_second(_now())
    start = opts.start or end - DEFAULT_WINDOW
    days = days_of(client.get_json("/usage", {"start": iso(start), "end": iso(end)}))
    items, capped = iter_requests(client, start)
    items = [i for i in items if (t := _created(i)) is None or t < end]
    models = by_model(items)
    wallet = _wallet(client)
    if opts.json:
        app.out.json(
            {
                "start": iso(start),
                "end": iso(end),
                "wallet": {"wallet_id": wallet.wallet_id, "balance": wallet.balance_text},
                "days": [
                    {
                        "date": d.date,
                        "cost": d.cost_text,
                        "requests": d.requests,
                        "tokens": d.tokens,
                    }
                    for d in days
                ],
                "totals": {
                    "cost": str(sum((d.cost for d in days), start=Decimal(0))),
                    "requests": sum(d.requests for d in days),
                    "tokens": sum(d.tokens for d in days),
                },
                "by_model": [m.to_json() for m in models],
                "by_model_complete": not capped,
            }
        )
        return
    render_usage.wallet_report(app, wallet, days, models, (start, end), capped)
