"""Rendering for `lava models`: a table on a terminal, tab-separated rows when piped."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from lava_cli.render.output import markup_safe

if TYPE_CHECKING:
    from decimal import Decimal

    from lava_cli.context import AppContext
    from lava_cli.ops.models import CatalogueRow


def _price(value: Decimal | None) -> str:
    return "-" if value is None else f"${value:f}"


def catalogue(app: AppContext, rows: Sequence[CatalogueRow]) -> None:
    """Model, provider, and the prices per 1M input and output tokens."""
    cells = [[r.id, r.provider, _price(r.input_per_1m), _price(r.output_per_1m)] for r in rows]
    if not app.stdout_tty:
        app.out.tsv(cells)
        return
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("model")
    table.add_column("provider")
    table.add_column("input / 1M", justify="right")
    table.add_column("output / 1M", justify="right")
    for row in cells:
        table.add_row(*(markup_safe(cell) for cell in row))
    app.out.console().print(table)
