"""The emulator's SQLite schema and the typed rows the store hands out.

Kept apart from `store.py` so that readers of the data model (the app, the gateway)
see the tables and dataclasses without the query code.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from lava_cli.emulator.contract import (
    REVOKED,
    SHAPES,
    STATUSES,
)
from lava_cli.emulator.money import money

DEFAULT_BALANCE = Decimal("100.00")


def _sql_in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


SCHEMA = f"""
CREATE TABLE IF NOT EXISTS wallets (
    wallet_id   TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL UNIQUE,
    balance     TEXT NOT NULL DEFAULT '{money(DEFAULT_BALANCE)}',
    created_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS spend_keys (
    spend_key_id        TEXT PRIMARY KEY,
    wallet_id           TEXT NOT NULL REFERENCES wallets(wallet_id),
    key_hash            TEXT NOT NULL UNIQUE,
    key_preview         TEXT NOT NULL,
    name                TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ({_sql_in((*STATUSES, REVOKED))})),
    request_shape       TEXT NOT NULL CHECK (request_shape IN ({_sql_in(SHAPES)})),
    allowed_models      TEXT,            -- JSON array, NULL = all
    allowed_providers   TEXT,            -- JSON array, NULL = all
    spend_limit_amount  TEXT,            -- decimal, NULL = no limit
    spend_limit_cycle   TEXT,
    request_limit_count INTEGER,
    request_limit_cycle TEXT,
    rate_limit_rpm      INTEGER,
    rate_limit_burst    INTEGER,
    expires_at          TEXT,
    created_at          TEXT NOT NULL,
    revoked_at          TEXT
);
CREATE INDEX IF NOT EXISTS spend_keys_by_wallet
    ON spend_keys (wallet_id, created_at DESC, spend_key_id DESC);
CREATE TABLE IF NOT EXISTS requests (
    request_id    TEXT PRIMARY KEY,
    wallet_id     TEXT NOT NULL,
    spend_key_id  TEXT NOT NULL,
    provider      TEXT NOT NULL,
    model         TEXT NOT NULL,
    endpoint      TEXT NOT NULL,
    status        TEXT NOT NULL,
    input_tokens  INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cost          TEXT NOT NULL,         -- decimal dollars, in the API's text (money.py)
    cost_micros   INTEGER NOT NULL,      -- the same in micro-dollars, for exact SUM()
    created_at    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS requests_by_key ON requests (spend_key_id, created_at);
CREATE INDEX IF NOT EXISTS requests_by_wallet ON requests (wallet_id, created_at);
"""


class KeyLimitReached(Exception):
    """The wallet already has `contract.MAX_KEYS_PER_WALLET` keys not revoked (409)."""


@dataclass(frozen=True)
class SpendLimit:
    amount: Decimal
    cycle: str


@dataclass(frozen=True)
class RequestLimit:
    count: int
    cycle: str


@dataclass(frozen=True)
class RateLimit:
    rpm: int
    burst: int | None


@dataclass(frozen=True)
class KeySettings:
    """What a client may set on a spend key (create body; PUT changes a subset).

    The fields are `contract.SETTINGS_FIELDS`, in that order (tests/emulator holds it).
    """

    name: str
    status: str = STATUSES[0]
    request_shape: str = SHAPES[0]
    allowed_models: tuple[str, ...] | None = None
    allowed_providers: tuple[str, ...] | None = None
    spend_limit: SpendLimit | None = None
    request_limit: RequestLimit | None = None
    rate_limit: RateLimit | None = None
    expires_at: str | None = None  # stored form, see cycles.stored_time


@dataclass(frozen=True)
class KeyRow:
    """A spend key as stored (never the raw key). `status` may be ``revoked``."""

    spend_key_id: str
    wallet_id: str
    key_preview: str
    settings: KeySettings
    created_at: str
    revoked_at: str | None

    @property
    def status(self) -> str:
        return self.settings.status


@dataclass(frozen=True)
class KeyUsage:
    """Derived usage of one key at one moment (current = the limit's cycle)."""

    current_spend: Decimal
    total_spend: Decimal
    current_requests: int
    total_requests: int
    last_used_at: str | None  # stored form


@dataclass(frozen=True)
class Wallet:
    wallet_id: str
    balance: Decimal  # the starting balance; spend is subtracted by `wallet_balance`
    created_at: str


def json_list(value: tuple[str, ...] | None) -> str | None:
    return None if value is None else json.dumps(list(value))


def settings_columns(s: KeySettings) -> dict[str, Any]:
    return {
        "name": s.name,
        "status": s.status,
        "request_shape": s.request_shape,
        "allowed_models": json_list(s.allowed_models),
        "allowed_providers": json_list(s.allowed_providers),
        "spend_limit_amount": money(s.spend_limit.amount) if s.spend_limit else None,
        "spend_limit_cycle": s.spend_limit.cycle if s.spend_limit else None,
        "request_limit_count": s.request_limit.count if s.request_limit else None,
        "request_limit_cycle": s.request_limit.cycle if s.request_limit else None,
        "rate_limit_rpm": s.rate_limit.rpm if s.rate_limit else None,
        "rate_limit_burst": s.rate_limit.burst if s.rate_limit else None,
        "expires_at": s.expires_at,
    }


def row_to_key(row: sqlite3.Row) -> KeyRow:
    models, providers = row["allowed_models"], row["allowed_providers"]
    amount = row["spend_limit_amount"]
    settings = KeySettings(
        name=row["name"],
        status=row["status"],
        request_shape=row["request_shape"],
        allowed_models=None if models is None else tuple(json.loads(models)),
        allowed_providers=None if providers is None else tuple(json.loads(providers)),
        spend_limit=None
        if amount is None
        else SpendLimit(Decimal(amount), row["spend_limit_cycle"]),
        request_limit=None
        if row["request_limit_count"] is None
        else RequestLimit(row["request_limit_count"], row["request_limit_cycle"]),
        rate_limit=None
        if row["rate_limit_rpm"] is None
        else RateLimit(row["rate_limit_rpm"], row["rate_limit_burst"]),
        expires_at=row["expires_at"],
    )
    return KeyRow(
        spend_key_id=row["spend_key_id"],
        wallet_id=row["wallet_id"],
        key_preview=row["key_preview"],
        settings=settings,
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )
