"""`lava doctor` for people: a checklist with the fix under each problem; TSV in a pipe."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from lava_cli.render.output import markup_safe

if TYPE_CHECKING:
    from lava_cli.ops.doctor_checks import Check
    from lava_cli.render.output import Output

COLUMNS = ("status", "check", "detail", "fix")
MARKS = {"pass": "[green]✓[/]", "warn": "[yellow]![/]", "fail": "[red]✗[/]"}


def report(out: Output, results: Sequence[Check]) -> None:
    """On a terminal a checklist, not a table: details and fixes are sentences, and a
    fix reads best on its own line under the check it mends. Piped, one row each."""
    if not out.term.stdout_tty:
        out.table(COLUMNS, [[c.status, c.check, c.detail, c.fix or "-"] for c in results])
        return
    con = out.console()
    for c in results:
        con.print(f"{MARKS[c.status]} [bold]{markup_safe(c.check)}[/]: {markup_safe(c.detail)}")
        if c.fix and c.status != "pass":
            con.print(f"    [cyan]fix:[/] {markup_safe(c.fix)}")
