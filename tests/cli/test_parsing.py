"""Flag parsers: strict, and they fail with exit 2 before any request."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lava_cli.errors import UsageError
from lava_cli.parsing import (
    expiry,
    parse_amount,
    parse_duration,
    parse_rate_limit,
    parse_request_limit,
    parse_spend_limit,
)
from tests.conftest import run_lava

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("25/monthly", {"amount": "25.00", "cycle": "monthly"}),
        ("0.5/daily", {"amount": "0.50", "cycle": "daily"}),
        ("$10.00/weekly", {"amount": "10.00", "cycle": "weekly"}),
        ("1,000/total", {"amount": "1000.00", "cycle": "total"}),
        (" 3 / Monthly ", {"amount": "3.00", "cycle": "monthly"}),
    ],
)
def test_spend_limit_ok(text, expected):
    assert parse_spend_limit(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "25",
        "25/yearly",
        "0/monthly",
        "-1/monthly",
        "1.234/monthly",
        "abc/daily",
        "1e3/daily",
        "NaN/daily",
        "/daily",
        "1.2.3/daily",
        "99999999999999/total",
        "Infinity/total",
        "１/daily",
    ],
)
def test_spend_limit_refused(text):
    with pytest.raises(UsageError):
        parse_spend_limit(text)


def test_request_and_rate_limits():
    assert parse_request_limit("1000/daily") == {"count": 1000, "cycle": "daily"}
    assert parse_rate_limit("60") == {"rpm": 60, "burst": None}
    assert parse_rate_limit("60/10") == {"rpm": 60, "burst": 10}
    for bad in ("0/daily", "1.5/daily", "5000001/daily", "x/daily", "10"):
        with pytest.raises(UsageError):
            parse_request_limit(bad)
    for bad in ("0", "60/0", "60/", "-1", "60/x"):
        with pytest.raises(UsageError):
            parse_rate_limit(bad)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("30m", 1800), ("2h", 7200), ("7d", 604800), ("2w", 1209600), ("1d12h", 129600)],
)
def test_durations(text, seconds):
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "2", "h", "2x", "0s", "2h-", "-2h", "999999w"])
def test_bad_durations(text):
    with pytest.raises(UsageError):
        parse_duration(text)


def test_expiry_forms():
    assert expiry(None, "2h", NOW) == "2026-11-22T14:00:00Z"
    # A date names the whole day: the key works through the 31st (as `usage --end` counts it).
    assert expiry("2026-12-31", None, NOW) == "2027-01-01T00:00:00Z"
    assert expiry("2026-12-31T10:00:00+02:00", None, NOW) == "2026-12-31T08:00:00Z"
    assert expiry(None, None, NOW) is None
    with pytest.raises(UsageError, match="not both"):
        expiry("2026-12-31", "2h", NOW)
    with pytest.raises(UsageError, match="in the past"):
        expiry("2020-01-01", None, NOW)
    with pytest.raises(UsageError, match="ISO 8601"):
        expiry("next tuesday", None, NOW)


@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1000000"), places=2))
def test_amount_round_trip(amount):
    assert parse_amount(f"{amount}") == amount
    assert parse_spend_limit(f"{amount}/total")["amount"] == f"{amount:.2f}"


@given(st.text(max_size=30))
def test_parsers_only_ever_raise_usage_errors(text):
    for parse in (parse_spend_limit, parse_request_limit, parse_rate_limit, parse_duration):
        with contextlib.suppress(UsageError):
            parse(text)


def test_bad_flags_fail_before_any_request():
    # No secret and no server: exit 2 proves the flag was refused before auth or HTTP.
    for args in (
        ["keys", "create", "--name", "x", "--spend-limit", "5"],
        ["keys", "create", "--name", "x", "--request-limit", "1/yearly"],
        ["keys", "create", "--name", "x", "--rate-limit", "fast"],
        ["keys", "create", "--name", "x", "--expires-in", "soon"],
        ["keys", "create", "--name", "x", "--shape", "gemini"],
        ["keys", "create", "--name", ""],
        ["keys", "create", "--name", "x" * 256],
        ["keys", "update", "k", "--spend-limit", "5/daily", "--no-spend-limit"],
        ["keys", "update", "k", "--model", "a", "--all-models"],
        ["keys", "update", "k"],
        ["keys", "list", "--status", "revoked"],
    ):
        result = run_lava(*args)
        assert result.code == 2, (args, result.output)
        assert result.stderr.startswith("error: "), result.stderr
