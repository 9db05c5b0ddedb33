"""Calendar-aligned UTC cycles, including month and year boundaries and leap years."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from lava_cli.emulator.cycles import (
    EPOCH,
    cycle_start,
    iso_z,
    next_reset,
    parse_iso,
    parse_stored,
    stored_time,
)

UTC = timezone.utc


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type, misc]


@pytest.mark.parametrize(
    ("cycle", "now", "start", "reset"),
    [
        ("daily", at(2025, 3, 5, 13, 7, 1), at(2025, 3, 5), at(2025, 3, 6)),
        ("daily", at(2025, 3, 5), at(2025, 3, 5), at(2025, 3, 6)),
        ("daily", at(2025, 12, 31, 23, 59, 59), at(2025, 12, 31), at(2026, 1, 1)),
        ("daily", at(2024, 2, 28, 12), at(2024, 2, 28), at(2024, 2, 29)),
        # 2025-03-05 is a Wednesday; weeks start on Monday.
        ("weekly", at(2025, 3, 5, 9), at(2025, 3, 3), at(2025, 3, 10)),
        ("weekly", at(2025, 3, 3), at(2025, 3, 3), at(2025, 3, 10)),
        ("weekly", at(2025, 3, 9, 23, 59), at(2025, 3, 3), at(2025, 3, 10)),
        ("weekly", at(2026, 1, 1, 8), at(2025, 12, 29), at(2026, 1, 5)),
        ("monthly", at(2025, 3, 31, 23), at(2025, 3, 1), at(2025, 4, 1)),
        ("monthly", at(2025, 3, 1), at(2025, 3, 1), at(2025, 4, 1)),
        ("monthly", at(2025, 12, 15), at(2025, 12, 1), at(2026, 1, 1)),
        ("monthly", at(2024, 2, 29, 12), at(2024, 2, 1), at(2024, 3, 1)),
        ("monthly", at(2025, 1, 31), at(2025, 1, 1), at(2025, 2, 1)),
        ("total", at(2025, 3, 5), EPOCH, None),
    ],
)
def test_cycle_start_and_reset(
    cycle: str, now: datetime, start: datetime, reset: datetime | None
) -> None:
    assert cycle_start(cycle, now) == start
    assert next_reset(cycle, now) == reset


def test_other_timezones_are_converted_to_utc_first() -> None:
    tokyo = timezone(timedelta(hours=9))
    # 2025-03-01 08:00 in Tokyo is still February 28th in UTC.
    now = datetime(2025, 3, 1, 8, tzinfo=tokyo)
    assert cycle_start("daily", now) == at(2025, 2, 28)
    assert cycle_start("monthly", now) == at(2025, 2, 1)


def test_naive_datetimes_are_utc() -> None:
    assert cycle_start("daily", datetime(2025, 3, 5, 10)) == at(2025, 3, 5)


def test_unknown_cycle_is_refused() -> None:
    with pytest.raises(ValueError, match="hourly"):
        cycle_start("hourly", at(2025, 1, 1))
    with pytest.raises(ValueError):
        next_reset("yearly", at(2025, 1, 1))


def test_time_formats_round_trip() -> None:
    moment = at(2025, 3, 5, 13, 7, 1).replace(microsecond=123456)
    assert stored_time(moment) == "2025-03-05T13:07:01.123456Z"
    assert parse_stored(stored_time(moment)) == moment
    assert iso_z(moment) == "2025-03-05T13:07:01Z"
    assert parse_iso("2025-03-05T14:07:01+01:00") == at(2025, 3, 5, 13, 7, 1)
    assert parse_iso("2025-03-05T13:07:01z") == at(2025, 3, 5, 13, 7, 1)
    with pytest.raises(ValueError):
        parse_iso("next tuesday")
