"""Drawing `lava usage --watch`: a live table on a terminal, lines off one.

On a terminal: rich Live redraws the keys table (the one `lava usage` prints) in
place, under a line saying when it was polled; an alert is printed above it in red,
with the terminal's bell. Off a terminal (a log, a pipe, CI) nothing is redrawn:
each poll writes one tab-separated line per key, and each alert one line:

    watch  TIME  ID  NAME  STATUS  SPEND  SPEND_LIMIT  SPEND_CYCLE  SPEND_USED
           REQUESTS  REQUEST_LIMIT  REQUEST_CYCLE  REQUESTS_USED
    alert  TIME  ID  NAME  LIMIT  USED  THRESHOLD  FIGURES

TIME is ISO 8601 in UTC, amounts exact, shares as percentages, `-` for no limit.
rich is imported inside the methods only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

from lava_cli.parsing import iso_utc
from lava_cli.render.output import markup_safe
from lava_cli.render.usage import keys_table, percent, usd

if TYPE_CHECKING:
    from decimal import Decimal

    from rich.live import Live

    from lava_cli.ops.usage import KeyUsage
    from lava_cli.ops.usage_watch import Alert
    from lava_cli.render.output import Output


def _figures(alert: Alert, *, human: bool) -> str:
    """The limit and how much of it is used, for people or for a log line."""
    key = alert.usage.key
    if alert.limit == "spend":
        spend = key.spend_limit
        assert spend is not None
        if human:
            return f"{usd(spend.amount)} {spend.cycle} spend limit ({usd(key.current_spend)})"
        return f"{key.current_spend} of {spend.amount:.2f} {spend.cycle}"
    req = key.request_limit
    assert req is not None
    if human:
        return f"{req.count} {req.cycle} requests ({key.current_requests} made)"
    return f"{key.current_requests} of {req.count} {req.cycle}"


def alert_text(alert: Alert) -> str:
    """`ci (sk_…) has used 85% of its $10.00 monthly spend limit ($8.50), at or over 80%`."""
    u, key = alert.usage, alert.usage.key
    state = "" if u.status == "active" else f"; the key is {u.status}"
    return (
        f"{key.name} ({key.spend_key_id}) has used {percent(alert.share)} of its "
        f"{_figures(alert, human=True)}, at or over {percent(alert.threshold)}{state}"
    )


def watch_line(u: KeyUsage, now: datetime) -> list[str]:
    key, spend, req = u.key, u.key.spend_limit, u.key.request_limit
    return [
        "watch",
        iso_utc(now),
        key.spend_key_id,
        key.name,
        u.status,
        key.current_spend_text,
        f"{spend.amount:.2f}" if spend else "-",
        spend.cycle if spend else "-",
        percent(u.spend_share),
        str(key.current_requests),
        str(req.count) if req else "-",
        req.cycle if req else "-",
        percent(u.request_share),
    ]


def alert_line(alert: Alert, now: datetime) -> list[str]:
    key = alert.usage.key
    return [
        "alert",
        iso_utc(now),
        key.spend_key_id,
        key.name,
        alert.limit,
        percent(alert.share),
        percent(alert.threshold),
        _figures(alert, human=False),
    ]


class LineView:
    """Off a terminal: lines, flushed at each poll, never redrawn."""

    def __init__(self, out: Output) -> None:
        self.out = out

    def __enter__(self) -> LineView:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def show(self, rows: Sequence[KeyUsage], now: datetime) -> None:
        self.out.tsv([watch_line(u, now) for u in rows])

    def alert(self, alert: Alert, now: datetime) -> None:
        self.out.tsv([alert_line(alert, now)])

    def problem(self, message: str, now: datetime) -> None:
        self.out.warn(f"{iso_utc(now)}: {message}")


class LiveView:
    """On a terminal: the keys table redrawn in place; alerts above it, with the bell."""

    def __init__(self, out: Output, interval: float, threshold: Decimal | None) -> None:
        self.out = out
        self.console = out.console()
        self.interval = interval
        self.threshold = threshold
        self.live: Live | None = None

    def __enter__(self) -> LiveView:
        from rich.live import Live
        from rich.text import Text

        self.live = Live(
            Text("Fetching the keys…"),
            console=self.console,
            auto_refresh=False,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self.live.start(refresh=True)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.live is not None:
            self.live.stop()  # the cursor comes back, the last table stays on screen

    def _heading(self, now: datetime) -> str:
        alarm = f", alert at {percent(self.threshold)}" if self.threshold is not None else ""
        local = now.astimezone()
        return (
            f"[bold]Every key against its limits[/] at {local:%H:%M:%S}, every "
            f"{self.interval:g} s{alarm}. Ctrl-C stops."
        )

    def show(self, rows: Sequence[KeyUsage], now: datetime) -> None:
        from rich.console import Group
        from rich.text import Text

        assert self.live is not None
        body: Any = (
            keys_table(rows, self.console.width, now) if rows else Text("No spend keys yet.")
        )
        self.live.update(Group(self._heading(now), body), refresh=True)

    def alert(self, alert: Alert, now: datetime) -> None:
        assert self.live is not None
        local = now.astimezone()
        self.live.console.print(
            f"[bold red]ALERT[/] {local:%H:%M:%S} {markup_safe(alert_text(alert))}"
        )
        self.console.bell()

    def problem(self, message: str, now: datetime) -> None:
        assert self.live is not None
        local = now.astimezone()
        self.live.console.print(f"[yellow]{local:%H:%M:%S} {markup_safe(message)}[/]")


def watch_view(out: Output, interval: float, threshold: Decimal | None) -> LineView | LiveView:
    if out.term.stdout_tty:
        return LiveView(out, interval, threshold)
    return LineView(out)
