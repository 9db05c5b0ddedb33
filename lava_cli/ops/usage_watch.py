"""`lava usage --watch`: every key against its limits, again every interval, with alarms.

On a terminal the view is redrawn in place (rich Live, render/usage_watch.py); off one,
each interval writes one line per key, so a log or `grep` follows it. With --alert, a
key that has used at least that share of its spend or request limit gets one alert
line (and the terminal's bell) the first time it is seen there; a limit that drops
below again (its cycle reset, or the limit was raised) is armed again. With
--exit-on-alert the first alert ends the watch with exit 5, for a script that waits
for it. Ctrl-C ends it with exit 130, the terminal restored.

A poll that fails for want of the network or the server (exit 6 errors) is a warning
and the watch goes on: a monitor that dies on one dropped connection is no monitor.
Any other error (the secret revoked: exit 3) ends it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple

from lava_cli.errors import PolicyError, UnavailableError

if TYPE_CHECKING:
    from lava_cli.context import AppContext
    from lava_cli.ops.usage import KeyUsage

DEFAULT_INTERVAL_S = 30.0
MIN_INTERVAL_S = 1.0


class WatchOptions(NamedTuple):
    """`lava usage --watch` after parsing: seconds between polls, the alert threshold
    (a share of a limit, None for no alerts) and whether the first alert ends it."""

    interval: float = DEFAULT_INTERVAL_S
    alert: Decimal | None = None
    exit_on_alert: bool = False


class Alert(NamedTuple):
    """A key seen at or over the threshold of one of its limits (`spend`, `requests`)."""

    usage: KeyUsage
    limit: str
    share: Decimal
    threshold: Decimal


def crossings(
    rows: Sequence[KeyUsage], threshold: Decimal, above: set[tuple[str, str]]
) -> list[Alert]:
    """The limits that are at or over `threshold` now and were not at the last poll.

    `above` holds (key id, limit) pairs already reported; it is updated in place: a
    pair that dropped below is forgotten, so a later crossing alerts again.
    """
    alerts: list[Alert] = []
    for u in rows:
        kid = u.key.spend_key_id
        for limit, share in (("spend", u.spend_share), ("requests", u.request_share)):
            pair = (kid, limit)
            if share is None or share < threshold:
                above.discard(pair)
            elif pair not in above:
                above.add(pair)
                alerts.append(Alert(u, limit, share, threshold))
    return alerts


def run_watch(app: AppContext, opts: WatchOptions) -> None:
    """Poll, draw, alert, sleep, until Ctrl-C (or the first alert with --exit-on-alert)."""
    from lava_cli.ops.usage import key_usage, now_utc
    from lava_cli.render.usage_watch import watch_view

    client = app.client()
    above: set[tuple[str, str]] = set()
    with watch_view(app.out, opts.interval, opts.alert) as view:
        while True:
            now = now_utc()
            try:
                rows = [key_usage(k, now) for k in client.iter_spend_keys()]
            except UnavailableError as exc:
                view.problem(f"{exc.message}; trying again in {opts.interval:g} s", now)
            else:
                view.show(rows, now)
                alerts = crossings(rows, opts.alert, above) if opts.alert is not None else []
                for alert in alerts:
                    view.alert(alert, now)
                if alerts and opts.exit_on_alert:
                    raise _alarm(alerts)
            time.sleep(opts.interval)


def _alarm(alerts: list[Alert]) -> PolicyError:
    from lava_cli.render.usage_watch import alert_text

    first = alerts[0]
    more = f" (and {len(alerts) - 1} more)" if len(alerts) > 1 else ""
    kid = first.usage.key.spend_key_id
    flag = "--spend-limit AMOUNT/CYCLE" if first.limit == "spend" else "--request-limit COUNT/CYCLE"
    return PolicyError(
        alert_text(first) + more,
        hint=f"raise the limit with `lava keys update {kid} {flag}`, or pause the key "
        f"with `lava keys pause {kid}`",
    )
