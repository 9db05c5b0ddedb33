"""Validation of spend-key create/update bodies, field by field.

Each problem raises `InvalidField`, whose message starts with the field's dotted path
(``spend_limit.amount: …``) so the 400 answer names it, as the contract requires.
Strict on purpose: unknown fields, booleans posing as integers, numbers posing as
decimal strings and unknown cycles are refused, so a client bug shows up here rather
than as a surprising key. The limits and choices themselves are contract.py's, shared
with the OpenAPI document (a test holds that the two agree at every limit).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from lava_cli.emulator.contract import (
    AMOUNT_DECIMALS,
    AMOUNT_PATTERN,
    CYCLES,
    MAX_COUNT,
    MAX_LIST_ITEMS,
    MAX_NAME,
    SHAPES,
    STATUSES,
)
from lava_cli.emulator.cycles import parse_iso, stored_time
from lava_cli.emulator.schema import KeySettings, RateLimit, RequestLimit, SpendLimit

_AMOUNT_RE = re.compile(AMOUNT_PATTERN)
_CENTS = Decimal(1).scaleb(-AMOUNT_DECIMALS)


class InvalidField(ValueError):
    """A 400 ``invalid_request``: `field` is the dotted path the message names."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


def _object(value: Any, field: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidField(field, "must be an object or null")
    for name in value:
        if name not in allowed:
            raise InvalidField(f"{field}.{name}", f"unknown field (expected {', '.join(allowed)})")
    return value


def _count(value: Any, field: str, *, nullable: bool = False) -> int:
    """A whole number from 1 to MAX_COUNT (`nullable` only changes the message: the
    caller handles null)."""
    # bool is an int subclass in Python; true must not pass as 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidField(field, "must be an integer" + (" or null" if nullable else ""))
    if not 1 <= value <= MAX_COUNT:
        raise InvalidField(field, f"must be between 1 and {MAX_COUNT}")
    return value


def _encodable(text: str) -> bool:
    """False for strings JSON can carry but SQLite cannot store (lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _choice(value: Any, field: str, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise InvalidField(field, f"must be one of {', '.join(choices)}")
    return value


def parse_name(value: Any) -> str:
    if value is None:
        raise InvalidField("name", "cannot be null")
    if not isinstance(value, str) or not _encodable(value):
        raise InvalidField("name", "must be a (valid Unicode) string")
    if not value.strip():
        raise InvalidField("name", "must not be empty")
    if len(value) > MAX_NAME:
        raise InvalidField("name", f"must be at most {MAX_NAME} characters")
    return value


def parse_status(value: Any) -> str:
    return _choice(value, "status", STATUSES)


def parse_shape(value: Any) -> str:
    return _choice(value, "request_shape", SHAPES)


def _allow_list(value: Any, field: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        raise InvalidField(field, "must be a non-empty array of strings, or null for all")
    if len(value) > MAX_LIST_ITEMS:
        raise InvalidField(field, f"must have at most {MAX_LIST_ITEMS} entries")
    for item in value:
        if (
            not isinstance(item, str)
            or not item.strip()
            or len(item) > MAX_NAME
            or not _encodable(item)
        ):
            raise InvalidField(field, "entries must be non-empty strings")
    return tuple(dict.fromkeys(value))  # drop duplicates, keep order


def parse_allowed_models(value: Any) -> tuple[str, ...] | None:
    return _allow_list(value, "allowed_models")


def parse_allowed_providers(value: Any) -> tuple[str, ...] | None:
    return _allow_list(value, "allowed_providers")


def parse_spend_limit(value: Any) -> SpendLimit | None:
    if value is None:
        return None
    obj = _object(value, "spend_limit", ("amount", "cycle"))
    amount = obj.get("amount")
    if not isinstance(amount, str) or not _AMOUNT_RE.fullmatch(amount):
        raise InvalidField(
            "spend_limit.amount",
            f'must be a decimal string with at most {AMOUNT_DECIMALS} decimals, like "5.00"',
        )
    if Decimal(amount) <= 0:
        raise InvalidField("spend_limit.amount", "must be greater than 0")
    return SpendLimit(
        Decimal(amount).quantize(_CENTS), _choice(obj.get("cycle"), "spend_limit.cycle", CYCLES)
    )


def parse_request_limit(value: Any) -> RequestLimit | None:
    if value is None:
        return None
    obj = _object(value, "request_limit", ("count", "cycle"))
    return RequestLimit(
        _count(obj.get("count"), "request_limit.count"),
        _choice(obj.get("cycle"), "request_limit.cycle", CYCLES),
    )


def parse_rate_limit(value: Any) -> RateLimit | None:
    if value is None:
        return None
    obj = _object(value, "rate_limit", ("rpm", "burst"))
    burst = obj.get("burst")
    return RateLimit(
        _count(obj.get("rpm"), "rate_limit.rpm"),
        None if burst is None else _count(burst, "rate_limit.burst", nullable=True),
    )


def parse_expires_at(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidField("expires_at", "must be an ISO 8601 timestamp string or null")
    try:
        moment = parse_iso(value)
    except ValueError:
        raise InvalidField(
            "expires_at", "must be an ISO 8601 timestamp like 2030-01-31T00:00:00Z"
        ) from None
    return stored_time(moment.replace(microsecond=0))


PARSERS: dict[str, Callable[[Any], Any]] = {
    "name": parse_name,
    "status": parse_status,
    "request_shape": parse_shape,
    "allowed_models": parse_allowed_models,
    "allowed_providers": parse_allowed_providers,
    "spend_limit": parse_spend_limit,
    "request_limit": parse_request_limit,
    "rate_limit": parse_rate_limit,
    "expires_at": parse_expires_at,
}


def _fields(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidField("body", "must be a JSON object")
    changes: dict[str, Any] = {}
    for name, value in body.items():
        parser = PARSERS.get(name)
        if parser is None:
            raise InvalidField(name, "unknown field")
        changes[name] = parser(value)
    return changes


def parse_create(body: Any) -> KeySettings:
    """The settings of a new key; `name` is required, everything else has a default."""
    if isinstance(body, dict) and "name" not in body:
        raise InvalidField("name", "is required")
    return KeySettings(**_fields(body))


def parse_update(body: Any) -> dict[str, Any]:
    """The fields a PUT changes (absent = unchanged; null clears, except for `name`)."""
    return _fields(body)
