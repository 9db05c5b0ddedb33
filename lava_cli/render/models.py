"""Rendering for `lava models`: a table on a terminal, tab-separated rows when piped."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from decimal import Decimal

    from lava_cli.ops.models import CatalogueRow
    from lava_cli.render.output import Output

COLUMNS = ("model", "provider", "input / 1M", "output / 1M")


def _price(value: Decimal | None) -> str:
    """`$1.00`, `$0.15`, `$0.075`: cents at least, finer only when the price is."""
    if value is None:
        return "-"
    exponent = value.normalize().as_tuple().exponent
    places = max(2, -exponent) if isinstance(exponent, int) else 2
    return f"${value:,.{places}f}"


def catalogue(out: Output, rows: Sequence[CatalogueRow]) -> None:
    """Model, provider, and the prices per 1M input and output tokens."""
    out.table(
        COLUMNS, [[r.id, r.provider, _price(r.input_per_1m), _price(r.output_per_1m)] for r in rows]
    )
