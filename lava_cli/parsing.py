"""Strict parsers for the flags that become a key's settings, the contract's literals
the client relies on (names, counts, statuses, shapes), and the API's time form.

The flag parsers run before any request, so bad input fails with exit 2 and a hint
instead of a 400 from the server (or, worse, a silently different limit). This is the
client's one reading of those limits; the emulator keeps its own on purpose (it is the
oracle the client is tested against). The API's timestamps are read by
`parse_api_time` and written by `iso_utc`, the one home of each on the client side.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

from lava_cli.contract import CYCLES
from lava_cli.errors import UsageError

SHAPES = ("openai", "anthropic")
# Statuses the server gives a key that can still expire; `expired` is derived from
# `expires_at` by the client (the API keeps saying `active`), see SpendKey.status_at.
EXPIRABLE = ("active", "paused")
STATUSES = (*EXPIRABLE, "expired")
MAX_NAME = 255
MAX_COUNT = 5_000_000
MAX_AMOUNT = Decimal("1000000000")
# ASCII digits only: \d would accept "１" and other Unicode digits.
_AMOUNT_RE = re.compile(r"\$?([0-9]{1,12})(?:\.([0-9]{1,2}))?")
# Thousands grouping, the only place a comma may stand: 1,000 and 12,345,678.50, but not
# 1,5 (a decimal comma, which would otherwise silently mean 15) or 1,00,000.
_GROUPED_RE = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+")
_SHARE_RE = re.compile(r"([0-9]{1,3}(?:\.[0-9]{1,4})?)%|(0?\.[0-9]{1,6}|1(?:\.0{1,6})?)")
_DURATION_RE = re.compile(r"([0-9]{1,7})(s|min|m|h|d|w)")
_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


def _split(value: str, flag: str, example: str) -> tuple[str, str]:
    head, sep, cycle = value.strip().partition("/")
    if not sep:
        raise UsageError(
            f"{flag} needs a cycle: got {value!r}",
            hint=f"write it as {example} (cycle: {', '.join(CYCLES)})",
        )
    return head.strip(), parse_cycle(cycle, flag)


def parse_cycle(value: str, flag: str) -> str:
    return _one_of(value, CYCLES, flag, "cycle")


def _one_of(value: str, choices: tuple[str, ...], flag: str, what: str) -> str:
    """A word from a fixed set, whatever its case and surrounding blanks."""
    word = value.strip().lower()
    if word not in choices:
        raise UsageError(
            f"{flag}: unknown {what} {value!r}", hint=f"use one of {', '.join(choices)}"
        )
    return word


def parse_shape(value: str, flag: str = "--shape") -> str:
    """`openai` or `anthropic`, in any case: the request format a key speaks."""
    return _one_of(value, SHAPES, flag, "request shape")


def parse_status(value: str, flag: str = "--status") -> str:
    """`active`, `paused` or `expired`, in any case."""
    return _one_of(value, STATUSES, flag, "status")


def parse_name(value: str, flag: str = "--name") -> str:
    """A key's name: 1 to 255 characters once the blanks around it are gone."""
    name = value.strip()
    if not 1 <= len(name) <= MAX_NAME:
        raise UsageError(f"{flag} must be 1 to {MAX_NAME} characters")
    return name


def parse_names(values: Sequence[str], flag: str) -> list[str] | None:
    """Repeated `--model`/`--provider` values: stripped, none empty, first one of each
    kept in order; None when the flag was not given."""
    if not values:
        return None
    cleaned = [v.strip() for v in values]
    if any(not v for v in cleaned):
        raise UsageError(f"{flag} cannot be empty")
    return list(dict.fromkeys(cleaned))


def ascii_digits(text: str, flag: str) -> None:
    """Refuse digits other than 0-9 (`١٠٠`, `１０`): Python's int(), float() and Decimal()
    accept them, so without this check they would silently become a number."""
    if any(c.isdigit() and not c.isascii() for c in text):
        raise UsageError(
            f"{flag}: {text!r} has digits other than 0-9",
            hint="write numbers with the ASCII digits 0-9",
        )


def ungroup(number: str, flag: str) -> str:
    """`1,000` -> `1000`; any other comma is refused, because in much of the world `1,5`
    means one and a half, and dropping the comma would make it 15."""
    if "," not in number:
        return number
    whole, dot, decimals = number.partition(".")
    if not _GROUPED_RE.fullmatch(whole) or "," in decimals:
        raise UsageError(
            f"{flag}: {number!r} has a comma that is not a thousands separator",
            hint="the decimal separator is '.', e.g. 1.50; a comma may only group "
            "thousands, e.g. 1,000 or 1,000.50",
        )
    return whole.replace(",", "") + dot + decimals


def dollars(text: str, flag: str) -> Decimal:
    """A dollar amount as written: digits 0-9, at most two decimals after '.', an
    optional leading `$`, and commas only as thousands grouping (`1,000.50`). Not
    checked for size: the callers' ranges differ."""
    ascii_digits(text, flag)
    stripped = text.strip()
    dollar = "$" if stripped.startswith("$") else ""
    match = _AMOUNT_RE.fullmatch(dollar + ungroup(stripped.removeprefix("$"), flag))
    if not match:
        raise UsageError(
            f"{flag}: {text!r} is not an amount in dollars with at most 2 decimals",
            hint="for example 25, 0.50 or 100.00",
        )
    try:
        return Decimal(match.group(0).lstrip("$"))
    except InvalidOperation:  # pragma: no cover - the regex already guarantees digits
        raise UsageError(f"{flag}: {text!r} is not a number") from None


def parse_amount(text: str, flag: str = "--spend-limit", zero_hint: str | None = None) -> Decimal:
    """A positive dollar amount with at most two decimals, e.g. `25`, `0.50`, `$10.00`,
    `1,000.50`. `zero_hint` is what to do instead of 0 (each command has its own way to
    go without a limit, or none)."""
    amount = dollars(text, flag)
    if amount <= 0:
        raise UsageError(f"{flag}: the amount must be more than 0", hint=zero_hint)
    if amount > MAX_AMOUNT:
        raise UsageError(f"{flag}: {text!r} is too large")
    return amount


FUND_MIN = Decimal("10.00")  # Lava's documented range for a top-up, both ends included
FUND_MAX = Decimal("10000.00")


def parse_fund_amount(text: str, flag: str = "AMOUNT") -> str:
    """A top-up amount, `$10` to `$10,000` (Lava's range), as the API's string: `"25.00"`.

    Read like a spend limit (`dollars`); refused outside the range before anything is
    sent, so a typo never reaches the card."""
    amount = dollars(text, flag)
    if not FUND_MIN <= amount <= FUND_MAX:
        raise UsageError(
            f"{flag}: {text.strip()!r} is outside the range a wallet can be funded with",
            hint=f"fund from ${FUND_MIN:,} to ${FUND_MAX:,} at a time",
        )
    return f"{amount:.2f}"


NO_LIMIT_AT_CREATE = "for a key without a spend limit, leave out --spend-limit"


def parse_spend_limit(
    value: str, flag: str = "--spend-limit", zero_hint: str | None = None
) -> dict[str, str]:
    """`AMOUNT/CYCLE` -> the API's `{"amount": "25.00", "cycle": "monthly"}`.

    `flag` names the setting in messages: the option, a key file's field, or a variable;
    `zero_hint` how that place goes without a limit, for `0/…`."""
    amount_text, cycle = _split(value, flag, "25/monthly")
    amount = parse_amount(amount_text, flag, zero_hint)
    return {"amount": f"{amount:.2f}", "cycle": cycle}


def parse_count(text: str, flag: str, what: str) -> int:
    ascii_digits(text, flag)
    text = ungroup(text.strip(), flag)
    if not text.isdigit() or not text.isascii():
        raise UsageError(f"{flag}: {what} must be a whole number, got {text!r}")
    value = int(text)
    if not 1 <= value <= MAX_COUNT:
        raise UsageError(f"{flag}: {what} must be between 1 and {MAX_COUNT:,}, got {value}")
    return value


def parse_share(value: str, flag: str) -> Decimal:
    """A share of a limit: `80%` or `0.80` (the same), more than 0 and at most 100%.

    A bare number above 1 (`80`) is refused rather than guessed: read as a fraction it
    would be 8000%, which no key can reach, and a CI gate that can never close is the
    failure nobody notices.
    """
    ascii_digits(value, flag)
    match = _SHARE_RE.fullmatch(value.strip())
    if match is None:
        raise UsageError(
            f"{flag}: {value!r} is not a share of the limit",
            hint="write a percentage such as 80% or a fraction such as 0.80",
        )
    percent, fraction = match.groups()
    share = Decimal(percent) / 100 if percent is not None else Decimal(fraction)
    if not 0 < share <= 1:
        raise UsageError(f"{flag}: {value!r} must be more than 0% and at most 100%")
    return share


def parse_request_limit(value: str, flag: str = "--request-limit") -> dict[str, object]:
    """`COUNT/CYCLE` -> `{"count": 1000, "cycle": "daily"}`."""
    count_text, cycle = _split(value, flag, "1000/daily")
    return {"count": parse_count(count_text, flag, "the count"), "cycle": cycle}


def parse_rate_limit(value: str, flag: str = "--rate-limit") -> dict[str, object]:
    """`RPM[/BURST]` -> `{"rpm": 60, "burst": 10}` (burst null when not given)."""
    rpm_text, sep, burst_text = value.strip().partition("/")
    rpm = parse_count(rpm_text, flag, "requests per minute")
    burst = parse_count(burst_text, flag, "the burst") if sep else None
    return {"rpm": rpm, "burst": burst}


def parse_duration(value: str, flag: str = "--expires-in") -> timedelta:
    """`90s`, `30m`, `2h`, `7d`, `2w` (and sums such as `1d12h`)."""
    ascii_digits(value, flag)
    text = value.strip().lower().replace(" ", "")
    pos, total = 0, 0
    for match in _DURATION_RE.finditer(text):
        if match.start() != pos:
            break
        total += int(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise UsageError(
            f"{flag}: {value!r} is not a duration", hint="for example 90s, 30m, 2h, 7d or 2w"
        )
    if total <= 0:
        raise UsageError(f"{flag}: the duration must be more than 0")
    if total > 100 * 365 * 86400:
        raise UsageError(f"{flag}: {value!r} is more than 100 years")
    return timedelta(seconds=total)


def parse_datetime(value: str, flag: str = "--expires-at") -> datetime:
    """ISO 8601; a date alone means its 00:00 UTC (a start: `--start`; for an end see
    `parse_end`), a time without offset means UTC."""
    ascii_digits(value, flag)
    try:
        return _read_iso(value)
    except ValueError:
        raise UsageError(
            f"{flag}: {value!r} is not an ISO 8601 date or time",
            hint="for example 2026-12-31 or 2026-12-31T18:00:00Z",
        ) from None
    except OverflowError:  # 0001-01-01T00:00+01:00 is before year 1 in UTC
        raise UsageError(f"{flag}: {value!r} is out of range") from None


def parse_end(value: str, flag: str = "--expires-at") -> datetime:
    """When something stops: a time as given, or a date alone, which names that whole
    day in UTC (so it ends at the next day's 00:00).

    One reading for every flag that ends something: `--expires-at 2026-12-31` keeps a
    key working through the 31st, as `usage --end 2026-12-31` counts the 31st, and as
    people read "valid until 31 December". Start-of-day would make the date the first
    moment the key no longer works, a day earlier than anyone writing it meant.
    """
    moment = parse_datetime(value, flag)
    if _is_date(value):
        try:
            moment += timedelta(days=1)
        except OverflowError:  # 9999-12-31: the day has no end a datetime can hold
            raise UsageError(f"{flag}: {value!r} is out of range") from None
    return moment


def _is_date(text: str) -> bool:
    """A date alone (`2026-12-31`), not a time."""
    try:
        date.fromisoformat(text.strip())
    except ValueError:
        return False
    return True


def _read_iso(text: str) -> datetime:
    """ISO 8601 with `Z`, an offset or none (UTC), as an aware datetime in UTC.

    ValueError when unreadable, OverflowError when UTC moves it past year 1 or 9999.
    """
    text = text.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def iso_utc(moment: datetime) -> str:
    """The API's time form: ISO 8601 in UTC, whole seconds, with a Z."""
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse_api_time(value: str | None) -> datetime | None:
    """A timestamp the API sent, as an aware datetime in UTC; None when absent or unreadable.

    `Z` or an offset; without one, UTC. Lenient by design, unlike `parse_datetime` (a
    flag, exit 2): a time the server garbled shows as its own text, and never stops a
    listing. Digits other than ASCII 0-9 are refused, as `money_of` refuses them, and a
    time that falls outside years 1-9999 once moved to UTC is unreadable, not a crash.
    """
    if not value or not value.isascii():
        return None
    try:
        return _read_iso(value)
    except (ValueError, OverflowError):
        return None


def expiry(expires_at: str | None, expires_in: str | None, now: datetime) -> str | None:
    """The `expires_at` to send, from exactly one of the two flags (None if neither)."""
    if expires_at and expires_in:
        raise UsageError("use --expires-at or --expires-in, not both")
    if expires_in:
        return iso_utc(now + parse_duration(expires_in))
    if expires_at:
        moment = parse_end(expires_at, "--expires-at")
        if moment <= now:
            raise UsageError(
                f"--expires-at: {iso_utc(moment)} is in the past",
                hint="give a future time, or --expires-in 7d",
            )
        return iso_utc(moment)
    return None
