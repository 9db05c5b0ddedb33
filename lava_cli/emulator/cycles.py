"""Time for the emulator: the injectable clock, UTC timestamps, and limit cycles.

Cycles are calendar-aligned in UTC (contract, "[ours]"): ``daily`` starts at 00:00,
``weekly`` on Monday 00:00, ``monthly`` on the 1st at 00:00, and ``total`` never
resets (it "starts" at the Unix epoch, so current usage equals total usage). The
calendar is `lava_cli.contract`'s, the one module of the client the emulator shares. Every
function here is pure and takes the moment it reasons about, so tests move time by
injecting a clock instead of sleeping.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

from lava_cli import contract

Clock = Callable[[], datetime]
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

# Stored timestamps are fixed-width with microseconds so that SQLite can compare and
# order them as plain strings; the API shows whole seconds.
_STORED = "%Y-%m-%dT%H:%M:%S.%fZ"


def utc_now() -> datetime:
    """The default clock: now, timezone-aware, in UTC."""
    return datetime.now(timezone.utc)


def as_utc(moment: datetime) -> datetime:
    """`moment` in UTC; a naive datetime is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def stored_time(moment: datetime) -> str:
    """The sortable text form kept in the database (microseconds, ``Z``)."""
    moment = as_utc(moment)
    # strftime's %Y does not zero-pad years before 1000 ("403-10-22…"), which
    # parse_stored then refuses: write the year as four digits ourselves.
    return f"{moment.year:04d}" + moment.strftime(_STORED.removeprefix("%Y"))


def parse_stored(text: str) -> datetime:
    """Inverse of `stored_time`. ASCII only: strptime's %Y also takes `２０２５`."""
    if not text.isascii():
        raise ValueError(f"{text!r} is not a stored timestamp")
    return datetime.strptime(text, _STORED).replace(tzinfo=timezone.utc)


def iso_z(moment: datetime) -> str:
    """API form: ISO 8601 in UTC, whole seconds, ``Z`` suffix (``2025-01-31T09:00:00Z``)."""
    return as_utc(moment).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    """Parse an ISO 8601 timestamp (``Z`` or an offset; naive means UTC) into UTC.

    Raises ValueError on anything else, digits other than 0-9 included.
    """
    if not text.isascii():
        raise ValueError(f"{text!r} has characters other than ASCII")
    cleaned = text.strip()
    if cleaned.endswith(("Z", "z")):
        cleaned = cleaned[:-1] + "+00:00"
    try:
        return as_utc(datetime.fromisoformat(cleaned))
    except OverflowError:  # 0001-01-01T00:00+01:00 is before year 1 in UTC
        raise ValueError(f"{text!r} is out of range") from None


def cycle_start(cycle: str, now: datetime) -> datetime:
    """When the cycle containing `now` began; the epoch for ``total``, so that "usage
    since the cycle began" is every request. The calendar itself is the contract's,
    shared with the client (`lava_cli.contract`): both sides must agree on when a limit
    resets, and a second copy could drift."""
    return contract.cycle_start(cycle, now) or EPOCH


next_reset = contract.next_reset
