"""Rendering: the only module that imports rich.

On a terminal: rich tables, relative times, colour (unless NO_COLOR). Piped: plain
tab-separated rows and ISO times. `--json` never comes through here as rich: it is
`json.dumps` straight to stdout, because rich forces terminal mode when FORCE_COLOR
is set, which many CI systems set.

Every string from the server or the user is data (design pattern 11): it reaches rich
through `markup_safe` and every other channel through `lava_cli.safetext.printable`,
so no name, model or error message is read as markup or obeyed by the terminal.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, NamedTuple, TextIO

from lava_cli.credentials import scrub
from lava_cli.errors import LavaError
from lava_cli.parsing import parse_api_time
from lava_cli.safetext import printable, printable_json

if TYPE_CHECKING:
    from rich.console import Console


CENT = Decimal("0.01")
MICRO = Decimal("0.000001")


# --- pure formatting (also used by other renderers) --------------------------------


def money(value: Decimal) -> str:
    """Dollars for display: cents, or up to 6 decimals for sub-cent amounts.

    Rounding is half-up; the API (and --json) keep full precision. A prompt costs a
    fraction of a cent, and "$0.00" would hide that the spend moved.
    """
    cents = value.quantize(CENT, rounding=ROUND_HALF_UP)
    if cents == value or abs(value) >= 1:
        return f"${cents:,}"
    fine = value.quantize(MICRO, rounding=ROUND_HALF_UP).normalize()
    return f"${fine:,f}" if fine else "$0.00"


def relative(value: str | None, now: datetime | None = None) -> str:
    """'3 min ago' / 'in 2 days' for people; '-' when absent."""
    when = parse_api_time(value)
    if when is None:
        return value or "-"
    now = now or datetime.now(timezone.utc)
    seconds = (when - now).total_seconds()
    future, span = seconds > 0, abs(seconds)
    for unit, size in (("day", 86400), ("h", 3600), ("min", 60)):
        if span >= size:
            n = int(span // size)
            text = f"{n} {unit}{'s' if unit == 'day' and n != 1 else ''}"
            break
    else:
        return "just now" if not future else "in <1 min"
    return f"in {text}" if future else f"{text} ago"


def _clean(value: str) -> str:
    """One TSV cell: no tabs or newlines can break a row, no control character acts."""
    return " ".join(printable(value, multiline=True).split()) or "-"


def markup_safe(text: str) -> str:
    """User or server text for a rich markup string: shown as written, never obeyed.

    Control characters become visible escapes and `[` can no longer open a tag: a key
    named `[/x]` cannot crash the table, nor one named `[link=…]` make a hyperlink.
    """
    from rich.markup import escape

    return escape(printable(text))


class Terminal(NamedTuple):
    """What Output needs to know about where it writes: the streams, whether each is a
    terminal, and whether colour is allowed. The caller decides (AppContext does, from
    isatty, NO_COLOR and TERM); rendering only follows, so it sits below the context.
    A NamedTuple, not a frozen dataclass: every command builds one, and a dataclass
    costs ~0.6 ms of exec() at import."""

    stdout: TextIO
    stderr: TextIO
    stdout_tty: bool = False
    stderr_tty: bool = False
    color: bool = False


class Output:
    """Writes results to stdout and messages to stderr, following the terminal."""

    def __init__(self, terminal: Terminal) -> None:
        self.term = terminal

    # -- consoles -------------------------------------------------------------------

    def console(self, *, stderr: bool = False) -> Console:
        """The one rich Console factory. Emoji codes off: `:warning:` in a key name is text."""
        from rich.console import Console

        stream = self.term.stderr if stderr else self.term.stdout
        tty = self.term.stderr_tty if stderr else self.term.stdout_tty
        return Console(
            file=stream,
            force_terminal=tty,
            no_color=not self.term.color,
            color_system="auto" if self.term.color else None,
            highlight=False,
            emoji=False,
            soft_wrap=False,
        )

    # -- plain channels -------------------------------------------------------------

    def line(self, text: str = "") -> None:
        """Plain text to stdout; it may span lines, but no control character acts."""
        self._write(printable(text, multiline=True))

    def _write(self, text: str) -> None:
        """A line of text that is safe already (built from `printable` parts)."""
        self.term.stdout.write(text + "\n")
        self.term.stdout.flush()

    def json(self, obj: Any) -> None:
        """Faithful JSON: the same value, spelled so that no character acts on a terminal."""
        text = printable_json(json.dumps(obj, indent=2, ensure_ascii=False))
        self.term.stdout.write(text + "\n")
        self.term.stdout.flush()

    def tsv(self, rows: Sequence[Sequence[str]]) -> None:
        for row in rows:
            self.term.stdout.write("\t".join(_clean(cell) for cell in row) + "\n")
        self.term.stdout.flush()

    def table(
        self,
        headers: Sequence[str],
        rows: Sequence[Sequence[str]],
        *,
        show_header: bool = True,
    ) -> None:
        """Rows for people on a terminal, for programs in a pipe.

        On a terminal: a rich table, every cell shown as written (never read as markup).
        Piped: the rows alone as tab-separated lines (no header: `cut` and `read` get
        data only), cleaned as `tsv` cleans them.
        """
        if not self.term.stdout_tty:
            self.tsv(rows)
            return
        from rich.table import Table

        table = Table(box=None, show_header=show_header, header_style="bold", pad_edge=False)
        for name in headers:
            table.add_column(name, overflow="fold")
        for row in rows:
            table.add_row(*(markup_safe(cell) for cell in row))
        self.console().print(table)

    def _paint(self, text: str, code: str, *, stdout: bool = False) -> str:
        colour = (self.term.stdout_tty if stdout else self.term.stderr_tty) and self.term.color
        return f"\x1b[{code}m{text}\x1b[0m" if colour else text

    # Messages are one line each: a server's text cannot start a fake `hint:` line.

    def note(self, message: str) -> None:
        """A status message for people: stderr, so stdout stays clean for pipes."""
        self.term.stderr.write(printable(scrub(message)) + "\n")
        self.term.stderr.flush()

    def warn(self, message: str) -> None:
        self.term.stderr.write(f"{self._paint('warning:', '33')} {printable(scrub(message))}\n")
        self.term.stderr.flush()

    def error(self, err: LavaError) -> None:
        message = printable(scrub(err.message))
        self.term.stderr.write(f"{self._paint('error:', '31;1')} {message}\n")
        if err.hint:
            hint = printable(scrub(err.hint))
            self.term.stderr.write(f"{self._paint('hint:', '36')} {hint}\n")
        self.term.stderr.flush()
