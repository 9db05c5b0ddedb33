"""Writing usage rows: CSV (RFC 4180, via the csv module) or JSON.

The rows arrive built (ops/usage_export.py): one dict per key, day or model, with
the same keys as `columns`. CSV: a header row first, then the rows, CRLF line ends,
fields quoted when they hold a comma, a quote or a line break; an absent value is an
empty field. JSON (`--format json`): the same rows as a list of objects, absent
values null, counts as numbers, amounts as decimal strings.

Names are the user's text and a CSV may be read on a terminal (`cat`): control
characters in it become visible escapes, as on every other path (design pattern
11); line breaks stay, quoted.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lava_cli.safetext import printable

if TYPE_CHECKING:
    from lava_cli.render.output import Output


def _cell(value: Any) -> str:
    return "" if value is None else printable(str(value), multiline=True)


def write_rows(
    out: Output, fmt: str, columns: Sequence[str], rows: Sequence[dict[str, Any]]
) -> None:
    if fmt == "json":
        out.json([{name: row.get(name) for name in columns} for row in rows])
        return
    stream = out.term.stdout
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(name)) for name in columns])
    stream.flush()
