"""The one fake clock: what the emulator (and anything else taking a `clock`) calls for now.

Two ways to use it, one class:
- stopped: `FakeClock(moment)` or `clock.set(moment)`; `advance(...)` moves it by hand.
  For cycle resets, expiry and paging ties, where a test names the exact time.
- running: `FakeClock()` is real time plus `offset`; moving `offset` (or `advance`)
  jumps ahead while time still flows. For anything with a real deadline on the other
  side (a browser login code that lives 60 s, a listener with a timeout).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone


class FakeClock:
    """A clock tests set or move; unset, it is the real UTC time plus `offset`."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        if self.now is not None:
            return self.now
        return datetime.now(timezone.utc) + self.offset

    def set(self, moment: datetime) -> None:
        """Stop the clock at `moment`."""
        self.now = moment

    def advance(self, **delta: float) -> None:
        """Move forward by `timedelta(**delta)`: the stopped time, or the running offset."""
        if self.now is not None:
            self.now += timedelta(**delta)
        else:
            self.offset += timedelta(**delta)

    def release(self) -> None:
        """Back to real time, no offset."""
        self.now = None
        self.offset = timedelta(0)
