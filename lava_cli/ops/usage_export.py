"""`lava usage --format csv|json` and `lava usage KEY --by day|model`: usage as rows.

Each view has one set of columns (below) and one row per key, day or model; CSV and
`--format json` are two spellings of the same rows (render/usage_export.py writes
them). Amounts are exact decimal strings without a currency sign, dates ISO 8601
(`2026-01-31`), times ISO 8601 in UTC, an absent value empty in CSV and null in JSON.

Per key and day comes from `GET /v1/requests`, which Lava documents without a
per-key filter nor a spend key on its records. The emulator has both (its own
`spend_key_id`); the client asks for the filter and also keeps only the records
that name the key, so an API that ignores the filter is still read right. An API
whose records do not name their key cannot answer at all: that is an error (exit 1)
naming the wallet's views, never the wallet's figures passed off as the key's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lava_cli.errors import LavaError
from lava_cli.ops.usage import iso_or_none, share_text
from lava_cli.parsing import iso_utc

if TYPE_CHECKING:
    from lava_cli.api.types import SpendKey
    from lava_cli.api.usage_types import RequestRecord, Usage, UsageDay
    from lava_cli.context import AppContext
    from lava_cli.ops.usage import KeyUsage, ModelTotal, UsageOptions

KEY_COLUMNS = (
    "spend_key_id", "name", "status",
    "current_spend", "spend_limit", "spend_cycle", "spend_used", "spend_resets_at",
    "current_requests", "request_limit", "request_cycle", "requests_used", "requests_reset_at",
    "total_spend", "total_requests", "last_used_at", "expires_at",
)  # fmt: skip
DAY_COLUMNS = ("date", "requests", "tokens", "cost")
MODEL_COLUMNS = ("model", "provider", "requests", "tokens", "cost")
KEY_DAY_COLUMNS = ("date", "spend_key_id", "name", "requests", "tokens", "cost")
KEY_MODEL_COLUMNS = ("spend_key_id", "name", "model", "provider", "requests", "tokens", "cost")


# --- rows ----------------------------------------------------------------------------------


def key_row(u: KeyUsage) -> dict[str, Any]:
    key, spend, req = u.key, u.key.spend_limit, u.key.request_limit
    return {
        "spend_key_id": key.spend_key_id,
        "name": key.name,
        "status": u.status,
        "current_spend": key.current_spend_text,
        "spend_limit": None if spend is None else f"{spend.amount:.2f}",
        "spend_cycle": None if spend is None else spend.cycle,
        "spend_used": share_text(u.spend_share),
        "spend_resets_at": iso_or_none(u.spend_reset_at),
        "current_requests": key.current_requests,
        "request_limit": None if req is None else req.count,
        "request_cycle": None if req is None else req.cycle,
        "requests_used": share_text(u.request_share),
        "requests_reset_at": iso_or_none(u.request_reset_at),
        "total_spend": str(key.raw.get("total_spend", key.total_spend)),
        "total_requests": key.total_requests,
        "last_used_at": key.last_used_at,
        "expires_at": key.expires_at,
    }


def day_row(day: UsageDay) -> dict[str, Any]:
    return {"date": day.date, "requests": day.requests, "tokens": day.tokens, "cost": day.cost_text}


def model_row(m: ModelTotal) -> dict[str, Any]:
    return m.to_json()


def _of_key(key: SpendKey, row: dict[str, Any]) -> dict[str, Any]:
    return {"spend_key_id": key.spend_key_id, "name": key.name, **row}


# --- per key and day -----------------------------------------------------------------------


def key_days(records: Iterable[RequestRecord], start: datetime, end: datetime) -> list[UsageDay]:
    """Records summed per UTC day, every day of [start, end) listed (as /v1/usage lists
    the wallet's); records outside the window or without a time are left out."""
    from lava_cli.api.usage_types import UsageDay

    sums: dict[str, tuple[int, int, Decimal]] = {}
    for r in records:
        if r.created_at is None or not start <= r.created_at < end:
            continue
        date = r.created_at.astimezone(timezone.utc).date().isoformat()
        n, tokens, cost = sums.get(date, (0, 0, Decimal(0)))
        sums[date] = (n + 1, tokens + r.tokens, cost + r.cost)
    days: list[UsageDay] = []
    day = start.astimezone(timezone.utc).date()
    last = (end - timedelta(microseconds=1)).astimezone(timezone.utc).date()
    while day <= last:
        n, tokens, cost = sums.get(day.isoformat(), (0, 0, Decimal(0)))
        # A day without requests is spelled as the API spells one: 0.00.
        days.append(UsageDay(day.isoformat(), n, tokens, cost, str(cost) if n else "0.00"))
        day += timedelta(days=1)
    return days


def run_key_breakdown(app: AppContext, opts: UsageOptions) -> None:
    """`lava usage KEY --by day|model` over the window: a chart, rows, CSV or JSON."""
    from lava_cli.ops.keys import resolve_key
    from lava_cli.ops.usage import by_model, key_records
    from lava_cli.render import usage_wallet as render_wallet

    assert opts.key is not None and opts.start is not None and opts.end is not None
    start, end = opts.start, opts.end
    client = app.client()
    key = resolve_key(client, opts.key)
    found = key_records(client, key, start)
    if found is None:
        raise LavaError(
            "this API's request records do not say which spend key made them, so a key's "
            "usage by day or model cannot be computed",
            hint=f"`lava usage {key.spend_key_id}` shows its current cycle; "
            "`lava usage --wallet --by day|model` the wallet's",
        )
    records = [r for r in found[0] if r.created_at is None or r.created_at < end]
    capped = found[1]
    days = key_days(records, start, end) if opts.by == "day" else None
    models = by_model(records) if opts.by == "model" else None
    if opts.fmt is not None:
        columns: Sequence[str] = KEY_DAY_COLUMNS if days is not None else KEY_MODEL_COLUMNS
        rows = [_of_key(key, day_row(d)) for d in days or ()]
        rows += [_of_key(key, model_row(m)) for m in models or ()]
        _export(app, opts.fmt, columns, rows, capped)
    elif opts.json:
        body: dict[str, Any] = {
            "spend_key_id": key.spend_key_id,
            "name": key.name,
            "start": iso_utc(start),
            "end": iso_utc(end),
            "complete": not capped,
        }
        if days is not None:
            body["days"] = [day_row(d) for d in days]
        if models is not None:
            body["by_model"] = [m.to_json() for m in models]
        app.out.json(body)
    else:
        title = f"Usage of {key.name} ({key.spend_key_id})"
        view = render_wallet.Breakdown(title, _usage_of(days), models, (start, end), capped)
        render_wallet.wallet_report(app.out, None, view)


def _usage_of(days: list[UsageDay] | None) -> Usage | None:
    """Days as a `Usage`, with their totals, for the wallet's renderer."""
    from lava_cli.api.usage_types import Usage, UsageTotals

    if days is None:
        return None
    cost = sum((d.cost for d in days), start=Decimal(0))
    requests, tokens = sum(d.requests for d in days), sum(d.tokens for d in days)
    totals = UsageTotals(requests, tokens, cost, str(cost))
    return Usage(tuple(days), totals)


# --- writing ---------------------------------------------------------------------------------


def run_export(app: AppContext, opts: UsageOptions) -> None:
    """`--format csv|json` of the views without --by on a key: every key (`lava usage`),
    one key (`lava usage KEY`), the wallet per day (`--wallet`) or per model
    (`--wallet --by model`)."""
    from lava_cli.ops.usage import key_usage, now_utc, window_models

    assert opts.fmt is not None
    client = app.client()
    if not opts.wallet:
        now = now_utc()
        if opts.key is not None:
            from lava_cli.ops.keys import resolve_key

            keys = [resolve_key(client, opts.key)]
        else:
            keys = list(client.iter_spend_keys())
        rows = [key_row(key_usage(k, now)) for k in keys]
        _export(app, opts.fmt, KEY_COLUMNS, rows, capped=False)
        return
    assert opts.start is not None and opts.end is not None
    if opts.by == "model":
        models, capped = window_models(client, opts.start, opts.end)
        _export(app, opts.fmt, MODEL_COLUMNS, [model_row(m) for m in models], capped)
        return
    usage = client.usage(opts.start, opts.end)
    _export(app, opts.fmt, DAY_COLUMNS, [day_row(d) for d in usage.days], capped=False)


def _export(
    app: AppContext,
    fmt: str,
    columns: Sequence[str],
    rows: list[dict[str, Any]],
    capped: bool,
) -> None:
    from lava_cli.render.usage_export import write_rows

    if capped:
        app.out.warn(
            "only the newest requests were counted (more than LAVA_MAX_PAGES pages); "
            "narrow the window with --since or --start/--end"
        )
    write_rows(app.out, fmt, columns, rows)
