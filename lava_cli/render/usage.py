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
from lava_cli.render.keys import requests_text
from lava_cli.render.output import markup_safe, relative

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from lava_cli.api.usage_types import Wallet
    from lava_cli.ops.usage import KeyUsage, ModelTotal, MonthTotals
    from lava_cli.ops.usage_forecast import Forecast
    from lava_cli.render.output import Output

WARN_AT = Decimal("0.75")
DANGER_AT = Decimal("0.90")
STYLES = {"ok": "green", "warn": "yellow", "danger": "red", "none": "dim"}
HALF_CENT = Decimal("0.005")
CENT = Decimal("0.01")
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
    """Cents, rounded half-up, as the footer says; a spend too small to round to a cent
    still shows (`<$0.01`). Not `money()`, which keeps sub-cent digits for one amount
    on its own (`$0.00963`): in these tables every amount is in cents."""
    if Decimal(0) < value < HALF_CENT:
        return "<$0.01"
    cents = value.quantize(CENT, rounding=ROUND_HALF_UP)
    return f"-${-cents:,}" if cents < 0 else f"${cents:,}"


def _e(text: str) -> str:
    """Server- or user-supplied text (names, statuses, cycles, ids, models) for markup."""
    return markup_safe(text)


def _spend_cell(u: KeyUsage) -> str:
    limit = u.key.spend_limit
    if limit is None:
        return f"{usd(u.key.current_spend)} (no limit)"
    return f"{usd(u.key.current_spend)} / {usd(limit.amount)} {limit.cycle}"


def model_row(m: ModelTotal) -> list[str]:
    return ["model", m.model, m.provider, str(m.requests), str(m.tokens), str(m.cost)]


def wallet_footer(con: Console, wallet: Wallet | None) -> None:
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
        key.current_spend_text,
        str(limit.amount) if limit else "-",
        limit.cycle if limit else "-",
        percent(u.spend_share),
        str(key.current_requests),
        str(req.count) if req else "-",
        _reset_plain(limit is not None, u.spend_reset_at),
        key.last_used_at or "-",
        key.expires_at or "-",
        req.cycle if req else "-",
        _reset_plain(req is not None, u.request_reset_at),
    ]


def _reset_plain(limited: bool, moment: datetime | None) -> str:
    """A limit's next reset for a pipe: ISO time, `never` for a total limit, `-` for none."""
    if not limited:
        return "-"
    return iso_utc(moment) if moment else "never"


def overview(
    out: Output, rows: Sequence[KeyUsage], wallet: Wallet, month: MonthTotals, now: datetime
) -> None:
    """Every key against its limits (each in its own cycle), then the wallet: this
    month's spend from the wallet's own figures, and its balance."""
    totals = month.usage.totals
    if not out.term.stdout_tty:
        out.tsv([_key_row(u) for u in rows])
        start = iso_utc(month.start)
        wallet_row = [wallet.wallet_id, wallet.balance_text, totals.cost_text, str(totals.requests)]
        out.tsv([["wallet", *wallet_row, start]])
        return
    con = out.console()
    if not rows:
        con.print("No spend keys yet. Create one with `lava keys create --name NAME`.")
    else:
        con.print(keys_table(rows, con.width, now))
        con.print("[dim]Each key's spend and requests are its own current cycle's.[/]")
    con.print()
    con.print(
        f"[bold]Wallet this month:[/] {usd(totals.cost)} over {totals.requests} requests "
        f"(since {month.start:%d %b} 00:00 UTC; all keys, revoked ones too)"
    )
    wallet_footer(con, wallet)
    con.print(f"[dim]{ROUNDING_NOTE}[/]")


def _resets_cell(u: KeyUsage, now: datetime, *, wide: bool = True) -> list[str]:
    """Each limit's own reset: one line when they agree, one per limit when they do not
    (on a narrow terminal only how far off each is)."""
    spend, req = u.key.spend_limit, u.key.request_limit
    if spend is None and req is None:
        return ["no limit"]
    if spend is not None and req is not None and spend.cycle != req.cycle:
        return [
            f"spend {_reset_human(u.spend_reset_at, now, wide=wide)}",
            f"requests {_reset_human(u.request_reset_at, now, wide=wide)}",
        ]
    return [_reset_human(u.spend_reset_at if spend else u.request_reset_at, now, wide=wide)]


def _reset_human(moment: datetime | None, now: datetime, *, wide: bool = True) -> str:
    if moment is None:
        return "never (total)"
    return local_time(moment, now) if wide else relative(iso_utc(moment), now)


def keys_table(rows: Sequence[KeyUsage], width: int, now: datetime) -> Table:
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
        cells.append(f"[{STYLES[level(u.request_share)]}]{_e(requests_text(u.key))}[/]")
        cells.append("\n".join(_e(line) for line in _resets_cell(u, now, wide=wide)))
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
        out.tsv([model_row(m) for m in models or ()])
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
        models_table(con, models)
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
        *_resets_human(u, now),
        ("requests", requests_text(u.key)),
        *_resets_human(u, now, requests=True),
        ("pace", _pace(fc, now)),
        ("forecast", _outlook(fc, now)),
        ("total spend", usd(key.total_spend)),
        ("total requests", str(key.total_requests)),
        ("last used", relative(key.last_used_at, now) if key.last_used_at else "never"),
        ("expires", local_time_text(key.expires_at, now)),
    ]


def _resets_human(u: KeyUsage, now: datetime, *, requests: bool = False) -> list[tuple[str, str]]:
    """The `spend resets` row (after spend) or the `requests reset` row (after requests),
    each from its own limit's cycle; `resets` once when the key has no limit at all."""
    spend, req = u.key.spend_limit, u.key.request_limit
    if spend is None and req is None:
        return [] if requests else [("resets", "no limit")]
    if requests:
        return [("requests reset", _reset_human(u.request_reset_at, now))] if req else []
    return [("spend resets", _reset_human(u.spend_reset_at, now))] if spend else []


def _detail_plain(u: KeyUsage, fc: Forecast) -> list[tuple[str, str]]:
    """The same fields for a pipe: exact amounts, ISO times in UTC."""
    key, remaining = u.key, u.remaining
    return [
        ("id", key.spend_key_id),
        ("name", key.name),
        ("status", u.status),
        ("spend", key.current_spend_text),
        ("remaining", str(remaining) if remaining is not None else "-"),
        ("spend resets", _reset_plain(key.spend_limit is not None, u.spend_reset_at)),
        ("requests", requests_text(u.key)),
        ("requests reset", _reset_plain(key.request_limit is not None, u.request_reset_at)),
        ("pace", _pace_plain(fc)),
        ("forecast", iso_utc(fc.limit_at) if fc.limit_at else fc.reason),
        ("total spend", str(key.total_spend)),
        ("total requests", str(key.total_requests)),
        ("last used", key.last_used_at or "never"),
        ("expires", key.expires_at or "never"),
    ]


def _pace_plain(fc: Forecast) -> str:
    """`0.001234 USD/h`: the unit travels with the number (the label alone did not say)."""
    rate = fc.to_json()["spend_per_hour"]
    return f"{rate} USD/h" if rate is not None else "-"


def models_table(con: Console, models: Sequence[ModelTotal]) -> None:
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
