"""`lava usage`: where the money goes, per key and for the wallet.

Parse the flags into `ops.usage.UsageOptions` (every usage error before any request),
then run one of the three views in `ops.usage`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from lava_cli.cli.common import JsonOpt, app_of
from lava_cli.errors import UsageError
from lava_cli.parsing import parse_datetime, parse_duration

if TYPE_CHECKING:
    from lava_cli.ops.usage import UsageOptions


def _ceil_second(moment: datetime) -> datetime:
    """The API takes whole seconds: a window ending "now" must include this second."""
    whole = moment.replace(microsecond=0)
    return whole + timedelta(seconds=1) if whole < moment else whole


def parse_options(
    key: str | None,
    wallet: bool,
    since: str | None,
    start: str | None,
    end: str | None,
    json_: bool,
    now: datetime,
) -> UsageOptions:
    """Check the flag combinations; a date range implies --wallet."""
    from lava_cli.ops.usage import UsageOptions

    ranged = since is not None or start is not None or end is not None
    if key is not None and (wallet or ranged):
        raise UsageError(
            "KEY and --wallet/--since/--start/--end do not go together",
            hint="`lava usage KEY` shows one key's cycle; `lava usage --wallet --since 7d` "
            "shows the wallet's days",
        )
    if since is not None and (start is not None or end is not None):
        raise UsageError("use --since or --start/--end, not both")
    if not (wallet or ranged):
        return UsageOptions(key, False, None, None, json_)
    begin, finish = _window(since, start, end, now)
    return UsageOptions(key, True, begin, finish, json_)


def _window(
    since: str | None, start: str | None, end: str | None, now: datetime
) -> tuple[datetime, datetime]:
    """The wallet view's [start, end): --since back from now, or --start/--end, by
    default the 7 days ending now."""
    from lava_cli.ops.usage import DEFAULT_WINDOW

    try:
        if since is not None:
            return now - parse_duration(since, "--since"), _ceil_second(now)
        finish = _end_of(end) if end else _ceil_second(now)
        begin = parse_datetime(start, "--start") if start else finish - DEFAULT_WINDOW
    except OverflowError:  # --end 0001-01-01 minus a week, 9999-12-31 plus a day
        raise UsageError("--start/--end: the window reaches past year 1 or 9999") from None
    if finish <= begin:
        raise UsageError("--end must be after --start")
    return begin, finish


def _end_of(text: str) -> datetime:
    """A bare date as --end means the whole of that day (UTC)."""
    moment = parse_datetime(text, "--end")
    if len(text.strip()) == 10:
        moment += timedelta(days=1)
    return moment


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
        typer.Option("--since", help="Window for --wallet ending now: 24h, 7d, 4w (default 7d)."),
    ] = None,
    start: Annotated[
        str | None, typer.Option("--start", help="Window start for --wallet (ISO date or time).")
    ] = None,
    end: Annotated[
        str | None,
        typer.Option("--end", help="Window end for --wallet; a date includes that whole day."),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Show spend against limits: every key, one key with a forecast, or the wallet.

    Bars turn yellow at 75% of a limit and red at 90%. Cycles reset at 00:00 UTC
    (weekly on Monday, monthly on the 1st), shown in your local time. Terminal
    amounts are rounded half-up to cents; piped rows and --json keep exact decimals.

    Example: lava usage --wallet --since 30d
    """
    from lava_cli.ops import usage as ops_usage

    app_ = app_of(ctx)
    opts = parse_options(key, wallet, since, start, end, json_, ops_usage.now_utc())
    if opts.key is not None:
        ops_usage.run_key(app_, opts)
    elif opts.wallet:
        ops_usage.run_wallet(app_, opts)
    else:
        ops_usage.run_overview(app_, opts)
