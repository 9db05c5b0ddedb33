"""Rendering a window's usage: `lava usage --wallet` (days, then models) and
`lava usage KEY --by day|model`. Piped, rows by kind (`wallet`, `day`, `model`) as in
render/usage.py; on a terminal a bar chart of the days and a table of the models.
rich is imported inside the functions only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from lava_cli.parsing import iso_utc
from lava_cli.render.output import markup_safe
from lava_cli.render.usage import ROUNDING_NOTE, bar, model_row, models_table, usd, wallet_footer

if TYPE_CHECKING:
    from rich.table import Table

    from lava_cli.api.usage_types import Usage, UsageDay, Wallet
    from lava_cli.ops.usage import ModelTotal
    from lava_cli.render.output import Output


def _scaled(value: Decimal, top: Decimal) -> Decimal:
    """`value` as a share of the largest one shown, for a bar (0 when all are 0)."""
    return value / top if top > 0 else Decimal(0)


@dataclass(frozen=True)
class Breakdown:
    """A window's usage by day (`usage`, None when not asked) and by model (`models`)."""

    title: str
    usage: Usage | None
    models: Sequence[ModelTotal] | None
    window: tuple[datetime, datetime]
    capped: bool


def wallet_report(out: Output, wallet: Wallet | None, view: Breakdown) -> None:
    """Daily spend as a bar chart, then spend by model (either may be left out)."""
    if not out.term.stdout_tty:
        if wallet is not None:
            out.tsv([["wallet", wallet.wallet_id, wallet.balance_text]])
        days = view.usage.days if view.usage is not None else ()
        out.tsv([["day", d.date, d.cost_text, str(d.requests), str(d.tokens)] for d in days])
        out.tsv([model_row(m) for m in view.models or ()])
        return
    con = out.console()
    start, end = view.window
    con.print(f"[bold]{markup_safe(view.title)}[/] {iso_utc(start)} → {iso_utc(end)} (UTC days)")
    if view.usage is not None:
        con.print(_days_chart(view.usage.days, con.width))
        totals = view.usage.totals
        con.print(f"[bold]Total:[/] {usd(totals.cost)} over {totals.requests} requests")
    wallet_footer(con, wallet)
    if view.models is not None:
        con.print()
        if view.models:
            con.print("[bold]By model[/]")
            models_table(con, view.models)
        else:
            con.print("No requests in this window.")
    if view.capped:
        con.print("[yellow]Only the newest requests were counted (too many to page).[/]")
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
        table.add_row(
            markup_safe(d.date), f"[cyan]{bar(share, cells)}[/]", usd(d.cost), str(d.requests)
        )
    return table
