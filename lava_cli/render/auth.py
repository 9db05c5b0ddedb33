"""`lava auth status` for people: one row per setting, in --json's names and order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lava_cli.render.output import Output


def status(out: Output, info: Mapping[str, object]) -> None:
    """Setting and value: aligned on a terminal, `name<TAB>value` lines in a pipe."""
    rows = [[name, "-" if value is None else str(value)] for name, value in info.items()]
    out.table(("setting", "value"), rows, show_header=False)
