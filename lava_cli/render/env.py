"""`lava env` for people: the tool list, and a GUI tool's setup laid out to paste."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lava_cli.render.output import Output
    from lava_cli.tools.catalogue import Tool
    from lava_cli.tools.render import Section

TOOL_COLUMNS = ("tool", "shape", "setup", "label")


def tool_list(out: Output, tools: Sequence[Tool], *, as_json: bool) -> None:
    """`lava env --list`: a table on a terminal, TSV in a pipe, or JSON objects."""
    if as_json:
        out.json(
            [
                {"id": t.id, "label": t.label, "request_shape": t.request_shape, "setup": t.setup}
                for t in tools
            ]
        )
        return
    out.table(TOOL_COLUMNS, [[t.id, t.request_shape, t.setup, t.label] for t in tools])


def instructions(out: Output, sections: Sequence[Section]) -> None:
    """Every value and step of a tool's setup, indented so each block is easy to copy."""
    for section in sections:
        where = section.path if section.path and section.path not in section.title else None
        title = section.title + (f" ({where})" if where else "")
        out.line(f"── {title}")
        for line in section.lines:
            out.line(f"  {line}")
        width = max((len(label) for label, _ in section.fields), default=0)
        for label, value in section.fields:
            out.line(f"  {label:<{width}}  {value}")
        if section.snippet:
            out.line("")
            for line in section.snippet.rstrip("\n").splitlines():
                out.line(f"    {line}")
        out.line("")
