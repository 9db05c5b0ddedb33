"""`lava usage`: where the money goes, per key and for the wallet.

Parse the flags into `ops.usage.UsageOptions` (every usage error before any request),
then run one of the views: every key, one key, the wallet (`ops.usage`), a key by day
or model and the CSV/JSON exports (`ops.usage_export`), or the watch
(`ops.usage_watch`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, NamedTuple

import typer

from lava_cli.cli.common import JsonOpt, app_of
from lava_cli.errors import UsageError
from lava_cli.parsing import parse_datetime, parse_duration

if TYPE_CHECKING:
    from lava_cli.ops.usage import UsageOptions
    from lava_cli.ops.usage_watch import WatchOptions


class Window(NamedTuple):
    """--since, --start, --end as typed."""

    since: str | None = None
    start: str | None = None
    end: str | None = None

    @property
    def given(self) -> bool:
        return any(v is not None for v in self)


def parse_options(
    key: str | None,
    wallet: bool,
    window: Window,
    json_: bool,
    now: datetime,
    *,
    by: str | None = None,
    fmt: str | None = None,
) -> UsageOptions:
    """Check the flag combinations; a date range or --by without KEY implies --wallet."""
    from lava_cli.ops.usage import FORMATS, VIEWS_BY, UsageOptions

    by = _one_of(by, VIEWS_BY, "--by")
    fmt = _one_of(fmt, FORMATS, "--format")
    if key is not None and wallet:
        raise UsageError(
            "KEY and --wallet do not go together",
            hint="`lava usage KEY` shows one key's cycle; `lava usage --wallet --since 7d` "
            "shows the wallet's days",
        )
    if key is not None and window.given and by is None:
        raise UsageError(
            "KEY and --since/--start/--end need --by",
            hint="`lava usage KEY --by day --since 30d` shows one key's days; "
            "`lava usage KEY` its current cycle",
        )
    if window.since is not None and (window.start is not None or window.end is not None):
        raise UsageError("use --since or --start/--end, not both")
    if not (wallet or window.given or by is not None):
        return UsageOptions(key, False, None, None, json_, None, fmt)
    begin, finish = _window(window, now)
    return UsageOptions(key, key is None, begin, finish, json_, by, fmt)


def _one_of(value: str | None, choices: tuple[str, ...], flag: str) -> str | None:
    if value is None:
        return None
    word = value.strip().lower()
    if word not in choices:
        raise UsageError(f"{flag}: unknown value {value!r}", hint=f"use {' or '.join(choices)}")
    return word


def _window(window: Window, now: datetime) -> tuple[datetime, datetime]:
    """The view's [start, end): --since back from now, or --start/--end, by default the
    7 days ending now. --start alone runs to now, so it must be in the past."""
    from lava_cli.ops.usage import DEFAULT_WINDOW, ceil_second

    try:
        if window.since is not None:
            return now - parse_duration(window.since, "--since"), ceil_second(now)
        finish = _end_of(window.end) if window.end else ceil_second(now)
        begin = parse_datetime(window.start, "--start") if window.start else finish - DEFAULT_WINDOW
    except OverflowError:  # --end 0001-01-01 minus a week, 9999-12-31 plus a day
        raise UsageError("--start/--end: the window reaches past year 1 or 9999") from None
    if finish <= begin and window.end is None:
        raise UsageError(
            f"--start: {window.start} is in the future",
            hint="the window runs from --start to now; give a past --start (or an --end)",
        )
    if finish <= begin:
        raise UsageError("--end must be after --start")
    return begin, finish


def _end_of(text: str) -> datetime:
    """A bare date as --end means the whole of that day (UTC)."""
    moment = parse_datetime(text, "--end")
    if len(text.strip()) == 10:
        moment += timedelta(days=1)
    return moment


def watch_options(
    interval: str | None, alert: str | None, exit_on_alert: bool, *, watch: bool
) -> WatchOptions | None:
    """--watch's options (None without --watch, when none of them may be given)."""
    from lava_cli.ops.usage_watch import DEFAULT_INTERVAL_S, MIN_INTERVAL_S, WatchOptions
    from lava_cli.parsing import parse_share

    if not watch:
        given = [f for f, v in (("--interval", interval), ("--alert", alert)) if v is not None]
        given += ["--exit-on-alert"] if exit_on_alert else []
        if given:
            raise UsageError(
                f"{', '.join(given)} only work with --watch",
                hint="lava usage --watch --alert 80%; for a one-off check in CI use "
                "`lava keys check KEY --max-used 80%`",
            )
        return None
    if exit_on_alert and alert is None:
        raise UsageError("--exit-on-alert needs --alert", hint="e.g. --alert 80% --exit-on-alert")
    seconds = DEFAULT_INTERVAL_S
    if interval is not None:
        seconds = parse_duration(interval, "--interval").total_seconds()
        if seconds < MIN_INTERVAL_S:
            raise UsageError("--interval: the shortest is 1s")
    share = parse_share(alert, "--alert") if alert is not None else None
    return WatchOptions(seconds, share, exit_on_alert)


def _check_watch_alone(key: str | None, opts: UsageOptions) -> None:
    if key is not None or opts.wallet or opts.by or opts.fmt or opts.json:
        raise UsageError(
            "--watch shows every key; it does not go with KEY, --wallet, --since/--start/"
            "--end, --by, --format or --json",
            hint="off a terminal it prints one line per key per interval; for JSON, run "
            "`lava usage --json` on a schedule",
        )


def usage(
    ctx: typer.Context,
    key: Annotated[
        str | None,
        typer.Argument(help="Show one key in detail (id or unique name).", show_default=False),
    ] = None,
    wallet: Annotated[
        bool, typer.Option("--wallet", help="Daily spend and spend by model for the wallet.")
    ] = False,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Window ending now: 24h, 7d, 4w (default 7d)."),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option("--start", help="Window start (ISO date or time); alone, runs to now."),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option("--end", help="Window end; a date includes that whole day."),
    ] = None,
    by: Annotated[
        str | None,
        typer.Option(
            "--by", help="day or model: the wallet's (or with KEY, that key's) usage by it."
        ),
    ] = None,
    format_: Annotated[
        str | None,
        typer.Option("--format", help="csv or json: the view's rows, for a spreadsheet."),
    ] = None,
    json_: JsonOpt = False,
    watch: Annotated[
        bool, typer.Option("--watch", help="Redraw every key against its limits until Ctrl-C.")
    ] = False,
    interval: Annotated[
        str | None, typer.Option("--interval", help="Time between polls for --watch (30s).")
    ] = None,
    alert: Annotated[
        str | None,
        typer.Option(
            "--alert", help="With --watch: alert when a key reaches this share of a limit: 80%."
        ),
    ] = None,
    exit_on_alert: Annotated[
        bool, typer.Option("--exit-on-alert", help="With --alert: exit 5 at the first alert.")
    ] = False,
) -> None:
    """Show spend against limits: every key, one key with a forecast, or the wallet.

    Bars turn yellow at 75% of a limit and red at 90%. Each limit resets on its own
    cycle at 00:00 UTC (weekly on Monday, monthly on the 1st), shown in your local
    time. Terminal amounts are rounded half-up to cents; piped rows, --json and
    --format keep exact decimals. --format csv|json exports every key (`lava usage`),
    one key, the wallet per day (`--wallet`), per model (`--wallet --by model`), or a
    key per day (`KEY --by day`).

    Example: lava usage --wallet --since 30d --format csv > usage.csv
    """
    from lava_cli.ops import usage as ops_usage

    app_ = app_of(ctx)
    opts = parse_options(
        key, wallet, Window(since, start, end), json_, ops_usage.now_utc(), by=by, fmt=format_
    )
    watching = watch_options(interval, alert, exit_on_alert, watch=watch)
    if watching is not None:
        from lava_cli.ops.usage_watch import run_watch

        _check_watch_alone(key, opts)
        run_watch(app_, watching)
    elif opts.key is not None and opts.by is not None:
        from lava_cli.ops.usage_export import run_key_breakdown

        run_key_breakdown(app_, opts)
    elif opts.fmt is not None:
        from lava_cli.ops.usage_export import run_export

        run_export(app_, opts)
    elif opts.key is not None:
        ops_usage.run_key(app_, opts)
    elif opts.wallet:
        ops_usage.run_wallet(app_, opts)
    else:
        ops_usage.run_overview(app_, opts)
