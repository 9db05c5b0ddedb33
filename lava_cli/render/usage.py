"""Rendering for `lava usage`: rich on a terminal, tab-separated rows when piped.

rich is imported inside the functions only, so importing this module costs nothing
at start-up. Piped rows start with their kind (`key`, `wallet`, `day`, `model`) so
`grep '^key'` or `awk '$1 == "day"'` pick one table out of the stream. Amounts on a
terminal are rounded half-up to cents; piped and JSON amounts are the exact decimals.

The numbers arrive computed (`ops.usage`); this module only draws them, and
imports ops for type annotations only. How loud to be is decided here: bars turn
yellow at 75% of a limit and red at 90% (`level`), which `doctor` reuses.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from lava_cli.parsing import iso_utc, parse_api_time
from lava_cli.render.output import markup_safe, money, relative

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from lava_cli.api.usage_types import Usage, UsageDay, Wallet
    from lava_cli.ops.usage import Forecast, KeyUsage, ModelTotal
    from lava_cli.render.output import Output

WARN_AT = Decimal("0.75")
DANGER_AT = Decimal("0.90")
STYLES = {"ok": "green", "warn": "yellow", "danger": "red", "none": "dim"}
HALF_CENT = Decimal("0.005")
ROUNDING_NOTE = "Amounts rounded half-up to cents; --json has the exact values."


# --- presentation helpers ----------------------------------------------------------------


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


def _scaled(value: Decimal, top: Decimal) -> Decimal:
    """`value` as a share of the largest one shown, for a bar (0 when all are 0)."""
    return value / top if top > 0 else Decimal(0)


def local_time(moment: datetime | None, now: datetime) -> str:
    """`Mon 03 Feb 01:00 CET (in 2 days)` in the user's time zone; `never` for None."""
    if moment is None:
        return "never"
    try:
        local = moment.astimezone()
    except OverflowError:  # 9999-12-31T23:30Z is past the year 9999 east of UTC
        return f"{iso_utc(moment)} ({relative(iso_utc(moment), now)})"
    when = f"{local:%a %d %b %H:%M} {local.tzname() or ''}".rstrip()
    return f"{when} ({relative(iso_utc(moment), now)})"


def local_time_text(value: str | None, now: datetime) -> str:
    """An API time in the user's time zone; the API's own text when it is unreadable."""
    moment = parse_api_time(value)
    if moment is None:
        return value or "never"
    return local_time(moment, now)


def usd(value: Decimal) -> str:
    """Cents, rounded half-up; a spend too small to round to a cent still shows."""
    if Decimal(0) < value < HALF_CENT:
        return "<$0.01"
    return money(value)


def _e(text: str) -> str:
    """Server- or user-supplied text (names, statuses, cycles, ids, models) for markup."""
    return markup_safe(text)


def _spend_cell(u: KeyUsage) -> str:
    limit = u.key.spend_limit
    if limit is None:
        return f"{usd(u.key.current_spend)} (no limit)"
    return f"{usd(u.key.current_spend)} / {usd(limit.amount)} {limit.cycle}"


def _requests_cell(u: KeyUsage) -> str:
    limit = u.key.request_limit
    if limit is None:
        return str(u.key.current_requests)
    return f"{u.key.current_requests} / {limit.count} {limit.cycle}"


def _model_row(m: ModelTotal) -> list[str]:
    return ["model", m.model, m.provider, str(m.requests), str(m.tokens), str(m.cost)]


def _footer(con: Console, wallet: Wallet | None) -> None:
    if wallet is not None:
        con.print(f"[bold]Wallet balance:[/] {usd(wallet.balance)} ({_e(wallet.wallet_id)})")


# --- lava usage ------------------------------------------------------------------------


def _key_row(u: KeyUsage) -> list[str]:
    key = u.key
    limit = key.spend_limit
    req = key.request_limit
    return [
        "key",
        key.spend_key_id,
        key.name,
        u.status,
        str(key.raw.get("current_spend", key.current_spend)),
        str(limit.amount) if limit else "-",
        limit.cycle if limit else "-",
        percent(u.spend_share),
        str(key.current_requests),
        str(req.count) if req else "-",
        iso_utc(u.reset_at) if u.reset_at else "-",
        key.last_used_at or "-",
        key.expires_at or "-",
    ]


def overview(out: Output, rows: Sequence[KeyUsage], wallet: Wallet | None, now: datetime) -> None:
    """Every key against its limits, then the wallet and the totals."""
    spend = sum((u.key.current_spend for u in rows), Decimal(0))
    requests = sum(u.key.current_requests for u in rows)
    if not out.term.stdout_tty:
        out.tsv([_key_row(u) for u in rows])
        if wallet is not None:
            out.tsv([["wallet", wallet.wallet_id, wallet.balance_text, str(spend), str(requests)]])
        return
    con = out.console()
    if not rows:
        con.print("No spend keys yet. Create one with `lava keys create --name NAME`.")
    else:
        con.print(_keys_table(rows, con.width, now))
    con.print()
    total = f"[bold]Total this cycle:[/] {usd(spend)} over {requests} requests, {len(rows)} keys"
    con.print(total)
    _footer(con, wallet)
    con.print(f"[dim]{ROUNDING_NOTE}[/]")


def _keys_table(rows: Sequence[KeyUsage], width: int, now: datetime) -> Table:
    """The keys as a rich Table; a narrow terminal drops status, last used and expires."""
    from rich.table import Table

    wide = width >= 130
    bar_width = max(8, min(24, width - (110 if wide else 70)))
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("key", no_wrap=True, overflow="ellipsis", max_width=24)
    if wide:
        table.add_column("status")
    table.add_column("spend this cycle", no_wrap=True)
    table.add_column("requests", no_wrap=True)
    table.add_column("resets", overflow="fold")
    if wide:
        table.add_column("last used")
        table.add_column("expires")
    for u in rows:
        style = STYLES[level(u.spend_share)]
        cells = [_e(u.key.name)]
        if wide:
            status = _e(u.status)
            cells.append(status if u.status == "active" else f"[yellow]{status}[/]")
        cells.append(
            f"[{style}]{bar(u.spend_share, bar_width)}[/] {_e(_spend_cell(u))}"
            + (f" [{style}]{percent(u.spend_share)}[/]" if u.spend_share is not None else "")
        )
        cells.append(f"[{STYLES[level(u.request_share)]}]{_e(_requests_cell(u))}[/]")
        cells.append(_e(local_time(u.reset_at, now)) if u.reset_at else "never (total)")
        if wide:
            cells.append(_e(relative(u.key.last_used_at, now)) if u.key.last_used_at else "never")
            cells.append(_e(relative(u.key.expires_at, now)) if u.key.expires_at else "never")
        table.add_row(*cells)
    return table


# --- lava usage KEY ----------------------------------------------------------------------


def key_detail(
    out: Output,
    u: KeyUsage,
    fc: Forecast,
    models: Sequence[ModelTotal] | None,
    now: datetime,
) -> None:
    """One key: its limits, position in the cycle, pace, and (when known) its models."""
    if not out.term.stdout_tty:
        out.tsv(_detail_plain(u, fc))
        out.tsv([_model_row(m) for m in models or ()])
        return
    from rich.table import Table

    con = out.console()
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    style = STYLES[level(u.peak_share)]
    for name, value in _detail_human(u, fc, now):
        cell = _e(value)
        if name == "spend":
            cell = f"[{style}]{bar(u.spend_share, max(8, min(30, con.width - 50)))}[/] {cell}"
        table.add_row(name, cell)
    con.print(table)
    if models:
        con.print()
        _models_table(con, models)
    con.print(f"[dim]{ROUNDING_NOTE}[/]")


def _pace(fc: Forecast, now: datetime) -> str:
    if fc.per_hour is None:
        return fc.reason
    return f"{usd(fc.per_hour)}/h since {local_time(fc.since, now)}"


def _outlook(fc: Forecast, now: datetime) -> str:
    if fc.limit_at is None:
        return fc.reason if fc.per_hour is not None else "-"
    if fc.limit_at <= now:
        return "limit reached: requests are refused until the reset"
    return f"limit reached {local_time(fc.limit_at, now)} at this pace"


def _detail_human(u: KeyUsage, fc: Forecast, now: datetime) -> list[tuple[str, str]]:
    """The fields of one key as people read them: rounded money, local times."""
    key, remaining = u.key, u.remaining
    return [
        ("id", key.spend_key_id),
        ("name", key.name),
        ("status", u.status),
        ("spend", _spend_cell(u) + (f" ({percent(u.spend_share)})" if u.spend_share else "")),
        ("remaining", usd(remaining) if remaining is not None else "no limit"),
        ("requests", _requests_cell(u)),
        ("resets", local_time(u.reset_at, now) if u.reset_at else "never (total)"),
        ("pace", _pace(fc, now)),
        ("forecast", _outlook(fc, now)),
        ("total spend", usd(key.total_spend)),
        ("total requests", str(key.total_requests)),
        ("last used", relative(key.last_used_at, now) if key.last_used_at else "never"),
        ("expires", local_time_text(key.expires_at, now)),
    ]


def _detail_plain(u: KeyUsage, fc: Forecast) -> list[tuple[str, str]]:
    """The same fields for a pipe: exact amounts, ISO times in UTC."""
    key, remaining = u.key, u.remaining
    return [
        ("id", key.spend_key_id),
        ("name", key.name),
        ("status", u.status),
        ("spend", str(key.raw.get("current_spend", key.current_spend))),
        ("remaining", str(remaining) if remaining is not None else "-"),
        ("requests", _requests_cell(u)),
        ("resets", iso_utc(u.reset_at) if u.reset_at else "never"),
        ("pace", str(fc.to_json()["spend_per_hour"] or "-")),
        ("forecast", iso_utc(fc.limit_at) if fc.limit_at else fc.reason),
        ("total spend", str(key.total_spend)),
        ("total requests", str(key.total_requests)),
        ("last used", key.last_used_at or "never"),
        ("expires", key.expires_at or "never"),
    ]


def _models_table(con: Console, models: Sequence[ModelTotal]) -> None:
    from rich.table import Table

    total = sum((m.cost for m in models), Decimal(0))
    width = max(6, min(20, con.width - 70))
    table = Table(box=None, header_style="bold", pad_edge=False, title_justify="left")
    table.add_column("model", overflow="fold")
    table.add_column("provider")
    table.add_column("requests", justify="right")
    table.add_column("tokens", justify="right")
    table.add_column("cost", justify="right")
    table.add_column("share", no_wrap=True)
    for m in models:
        share = m.cost / total if total > 0 else None
        table.add_row(
            _e(m.model),
            _e(m.provider),
            str(m.requests),
            f"{m.tokens:,}",
            usd(m.cost),
            f"{bar(share if share is not None else Decimal(0), width)} {percent(share)}",
        )
    con.print(table)


# --- lava usage --wallet ------------------------------------------------------------------


def wallet_report(
    out: Output,
    wallet: Wallet | None,
    usage: Usage,
    models: Sequence[ModelTotal],
    window: tuple[datetime, datetime],
    capped: bool,
) -> None:
    """Daily spend as a bar chart, then spend by model."""
    if not out.term.stdout_tty:
        if wallet is not None:
            out.tsv([["wallet", wallet.wallet_id, wallet.balance_text]])
        days = usage.days
        out.tsv([["day", d.date, d.cost_text, str(d.requests), str(d.tokens)] for d in days])
        out.tsv([_model_row(m) for m in models])
        return
    con = out.console()
    start, end = window
    con.print(f"[bold]Usage[/] {iso_utc(start)} → {iso_utc(end)} (UTC days)")
    con.print(_days_chart(usage.days, con.width))
    totals = usage.totals
    con.print(f"[bold]Total:[/] {usd(totals.cost)} over {totals.requests} requests")
    _footer(con, wallet)
    con.print()
    if models:
        con.print("[bold]By model[/]")
        _models_table(con, models)
        if capped:
            con.print("[yellow]Only the newest requests were counted (too many to page).[/]")
    else:
        con.print("No requests in this window.")
    con.print(f"[dim]{ROUNDING_NOTE}[/]")


def _days_chart(days: Sequence[UsageDay], width: int) -> Table:
    """One row per UTC day, the bar scaled to the most expensive day."""
    from rich.table import Table

    peak = max((d.cost for d in days), default=Decimal(0))
    cells = max(10, min(50, width - 45))
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("day", no_wrap=True)
    table.add_column("spend", no_wrap=True)
    table.add_column("", justify="right")
    table.add_column("requests", justify="right")
    for d in days:
        share = _scaled(d.cost, peak)
        table.add_row(_e(d.date), f"[cyan]{bar(share, cells)}[/]", usd(d.cost), str(d.requests))
    return table
