"""Rendering for `lava usage`: rich on a terminal, tab-separated rows when piped.

rich is imported inside the functions only, so importing this module costs nothing
at start-up. Piped rows start with their kind (`key`, `wallet`, `day`, `model`) so
`grep '^key'` or `awk '$1 == "day"'` pick one table out of the stream. Amounts on a
terminal are rounded half-up to cents; piped and JSON amounts are the exact decimals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from lava_cli.ops.usage import (
    Day,
    Forecast,
    KeyUsage,
    ModelTotal,
    bar,
    fraction,
    iso,
    level,
    parse_time,
    percent,
)
from lava_cli.render.output import markup_safe, money, relative

if TYPE_CHECKING:
    from rich.console import Console

    from lava_cli.context import AppContext

STYLES = {"ok": "green", "warn": "yellow", "danger": "red", "none": "dim"}
HALF_CENT = Decimal("0.005")
ROUNDING_NOTE = "Amounts rounded half-up to cents; --json has the exact values."


@dataclass(frozen=True)
class WalletSummary:
    wallet_id: str
    balance: Decimal
    balance_text: str


def console(app: AppContext) -> Console:
    return app.out.console()


def local_time(moment: datetime | None, now: datetime) -> str:
    """`Mon 03 Feb 01:00 CET (in 2 days)` in the user's time zone; `never` for None."""
    if moment is None:
        return "never"
    local = moment.astimezone()
    return f"{local:%a %d %b %H:%M} {local.tzname() or ''} ({relative(iso(moment), now)})".replace(
        "  ", " "
    )


def usd(value: Decimal) -> str:
    """Cents, rounded half-up; a spend too small to round to a cent still shows."""
    if Decimal(0) < value < HALF_CENT:
        return "<$0.01"
    return money(value)


def _e(text: str) -> str:
    """Server- or user-supplied text (names, statuses, cycles, ids, models) for markup."""
    return markup_safe(text)


def _tsv(app: AppContext, rows: Sequence[Sequence[str]]) -> None:
    app.out.tsv(rows)


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
        iso(u.reset_at) if u.reset_at else "-",
        key.last_used_at or "-",
        key.expires_at or "-",
    ]


# --- lava usage ------------------------------------------------------------------------


def overview(
    app: AppContext, rows: Sequence[KeyUsage], wallet: WalletSummary | None, now: datetime
) -> None:
    """Every key against its limits, then the wallet and the totals."""
    spend = sum((u.key.current_spend for u in rows), Decimal(0))
    requests = sum(u.key.current_requests for u in rows)
    if not app.stdout_tty:
        _tsv(app, [_key_row(u) for u in rows])
        if wallet is not None:
            _tsv(
                app, [["wallet", wallet.wallet_id, wallet.balance_text, str(spend), str(requests)]]
            )
        return
    from rich.table import Table

    con = console(app)
    if not rows:
        con.print("No spend keys yet. Create one with `lava keys create --name NAME`.")
    else:
        wide = con.width >= 130
        bar_width = max(8, min(24, con.width - (110 if wide else 70)))
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
            req_style = STYLES[level(u.request_share)]
            cells.append(f"[{req_style}]{_e(_requests_cell(u))}[/]")
            cells.append(_e(local_time(u.reset_at, now)) if u.reset_at else "never (total)")
            if wide:
                cells.append(
                    _e(relative(u.key.last_used_at, now)) if u.key.last_used_at else "never"
                )
                cells.append(_e(relative(u.key.expires_at, now)) if u.key.expires_at else "never")
            table.add_row(*cells)
        con.print(table)
    con.print()
    total = f"[bold]Total this cycle:[/] {usd(spend)} over {requests} requests, {len(rows)} keys"
    con.print(total)
    if wallet is not None:
        con.print(f"[bold]Wallet balance:[/] {usd(wallet.balance)} ({_e(wallet.wallet_id)})")
    con.print(f"[dim]{ROUNDING_NOTE}[/]")


def key_detail(
    app: AppContext,
    u: KeyUsage,
    fc: Forecast,
    models: Sequence[ModelTotal] | None,
    now: datetime,
) -> None:
    """One key: its limits, position in the cycle, pace, and (when known) its models."""
    key = u.key
    remaining = u.remaining
    if fc.per_hour is None:
        pace = fc.reason
    else:
        pace = f"{usd(fc.per_hour)}/h since {local_time(fc.since, now)}"
    if fc.limit_at is not None:
        outlook = f"limit reached {local_time(fc.limit_at, now)} at this pace"
        if fc.limit_at <= now:
            outlook = "limit reached: requests are refused until the reset"
    else:
        outlook = fc.reason if fc.per_hour is not None else "-"
    fields = [
        ("id", key.spend_key_id),
        ("name", key.name),
        ("status", u.status),
        ("spend", _spend_cell(u) + (f" ({percent(u.spend_share)})" if u.spend_share else "")),
        ("remaining", usd(remaining) if remaining is not None else "no limit"),
        ("requests", _requests_cell(u)),
        ("resets", local_time(u.reset_at, now) if u.reset_at else "never (total)"),
        ("pace", pace),
        ("forecast", outlook),
        ("total spend", usd(key.total_spend)),
        ("total requests", str(key.total_requests)),
        ("last used", relative(key.last_used_at, now) if key.last_used_at else "never"),
        ("expires", local_time_text(key.expires_at, now)),
    ]
    if not app.stdout_tty:
        plain = dict(fields)
        plain["spend"] = str(key.raw.get("current_spend", key.current_spend))
        plain["remaining"] = str(remaining) if remaining is not None else "-"
        plain["resets"] = iso(u.reset_at) if u.reset_at else "never"
        plain["pace"] = str(fc.to_json()["spend_per_hour"] or "-")
        plain["forecast"] = iso(fc.limit_at) if fc.limit_at else fc.reason
        plain["total spend"] = str(key.total_spend)
        plain["last used"] = key.last_used_at or "never"
        plain["expires"] = key.expires_at or "never"
        _tsv(app, list(plain.items()))
        for m in models or ():
            _tsv(app, [["model", m.model, m.provider, str(m.requests), str(m.tokens), str(m.cost)]])
        return
    from rich.table import Table

    con = console(app)
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    style = STYLES[u.level]
    for name, value in fields:
        cell = _e(value)
        if name == "spend":
            width = max(8, min(30, con.width - 50))
            cell = f"[{style}]{bar(u.spend_share, width)}[/] {cell}"
        table.add_row(name, cell)
    con.print(table)
    if models:
        con.print()
        _models_table(con, models)
    con.print(f"[dim]{ROUNDING_NOTE}[/]")


def local_time_text(value: str | None, now: datetime) -> str:
    moment = parse_time(value)
    if moment is None:
        return value or "never"
    return local_time(moment, now)


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
        share = fraction(m.cost, total)
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
    app: AppContext,
    wallet: WalletSummary | None,
    days: Sequence[Day],
    models: Sequence[ModelTotal],
    window: tuple[datetime, datetime],
    capped: bool,
) -> None:
    """Daily spend as a bar chart, then spend by model."""
    if not app.stdout_tty:
        if wallet is not None:
            _tsv(app, [["wallet", wallet.wallet_id, wallet.balance_text]])
        _tsv(app, [["day", d.date, d.cost_text, str(d.requests), str(d.tokens)] for d in days])
        _tsv(
            app,
            [
                ["model", m.model, m.provider, str(m.requests), str(m.tokens), str(m.cost)]
                for m in models
            ],
        )
        return
    from rich.table import Table

    con = console(app)
    start, end = window
    con.print(f"[bold]Usage[/] {iso(start)} → {iso(end)} (UTC days)")
    peak = max((d.cost for d in days), default=Decimal(0))
    width = max(10, min(50, con.width - 45))
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("day", no_wrap=True)
    table.add_column("spend", no_wrap=True)
    table.add_column("", justify="right")
    table.add_column("requests", justify="right")
    for d in days:
        share = fraction(d.cost, peak) if peak > 0 else Decimal(0)
        table.add_row(_e(d.date), f"[cyan]{bar(share, width)}[/]", usd(d.cost), str(d.requests))
    con.print(table)
    spend = sum((d.cost for d in days), Decimal(0))
    count = sum(d.requests for d in days)
    con.print(f"[bold]Total:[/] {usd(spend)} over {count} requests")
    if wallet is not None:
        con.print(f"[bold]Wallet balance:[/] {usd(wallet.balance)} ({_e(wallet.wallet_id)})")
    con.print()
    if models:
        con.print("[bold]By model[/]")
        _models_table(con, models)
        if capped:
            con.print("[yellow]Only the newest requests were counted (too many to page).[/]")
    else:
        con.print("No requests in this window.")
    con.print(f"[dim]{ROUNDING_NOTE}[/]")
