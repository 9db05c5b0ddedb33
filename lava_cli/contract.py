"""What the client and the emulator must read the same way: the contract's calendar
(the limit cycles, when each starts and resets) and which hosts are this machine.

Cycles are calendar-aligned in UTC: `daily` starts at 00:00, `weekly` on Monday at
00:00, `monthly` on the 1st at 00:00, and `total` never resets. Both the client (which
shows when a limit resets and forecasts spend) and the emulator (which enforces the
limits) read the calendar the same way; one copy keeps them from drifting apart.

Pure standard library, and nothing specific to either side: no parsing of API text, no
rendering, no errors of the CLI. An unknown cycle is a ValueError; what that means to a
caller (a usage error, a bad answer from the server) is the caller's decision.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

CYCLES = ("daily", "weekly", "monthly", "total")


def _check(cycle: str) -> None:
    if cycle not in CYCLES:
        raise ValueError(f"unknown cycle {cycle!r} (expected one of {', '.join(CYCLES)})")


def cycle_start(cycle: str, now: datetime) -> datetime | None:
    """When the cycle containing `now` began, in UTC; None for `total`, which has no
    start but the key's own creation. A naive `now` is taken to be UTC."""
    _check(cycle)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    midnight = now.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    if cycle == "daily":
        return midnight
    if cycle == "weekly":
        return midnight - timedelta(days=midnight.weekday())
    if cycle == "monthly":
        return midnight.replace(day=1)
    return None


def next_reset(cycle: str, now: datetime) -> datetime | None:
    """When usage of the cycle containing `now` starts again from zero; None for `total`."""
    start = cycle_start(cycle, now)
    if start is None:
        return None
    if cycle == "daily":
        return start + timedelta(days=1)
    if cycle == "weekly":
        return start + timedelta(days=7)
    if start.month == 12:
        return start.replace(year=start.year + 1, month=1)
    return start.replace(month=start.month + 1)


def is_loopback_host(host: str) -> bool:
    """True for localhost and loopback IPs: this machine only.

    The client lets plain http:// go nowhere else (the secret would cross a network in
    clear), and the emulator warns when it listens anywhere else ([ours] in the
    contract); one reading keeps "local" meaning the same on both sides.
    """
    if host.lower() in ("localhost", "localhost."):
        return True
    import ipaddress

    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
