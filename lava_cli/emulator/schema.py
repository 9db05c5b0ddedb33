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
    GATEWAY_KEY_TYPE,
    MODES,
    ORIGINS,
    PAYMENT_STATUSES,
    REVOKED,
    SHAPES,
    STATUSES,
)
from lava_cli.emulator.money import money

DEFAULT_BALANCE = Decimal("100.00")


def _sql_in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


# The tables of a new database. An older database is brought up to this by
# migrations.py before this script runs (it only creates what is missing).
def wallets_table(name: str = "wallets") -> str:
    """The wallets table's DDL (under another `name` while migrations.py rebuilds it)."""
    return f"""
CREATE TABLE IF NOT EXISTS {name} (
    wallet_id   TEXT PRIMARY KEY,
    mode        TEXT CHECK (mode IN ({_sql_in(MODES)})),  -- NULL: not known yet (migrated)
    balance     TEXT NOT NULL DEFAULT '{money(DEFAULT_BALANCE)}',  -- the starting balance
    created_at  TEXT NOT NULL
);
"""


SECRET_KEYS_TABLE = f"""
CREATE TABLE IF NOT EXISTS secret_keys (
    secret_key_id   TEXT PRIMARY KEY,
    wallet_id       TEXT NOT NULL REFERENCES wallets(wallet_id),
    secret_hash     TEXT NOT NULL UNIQUE,   -- SHA-256 of the raw secret, never the secret
    secret_key_hint TEXT,                   -- NULL: not known yet (migrated)
    name            TEXT NOT NULL,
    origin          TEXT NOT NULL CHECK (origin IN ({_sql_in(ORIGINS)})),
    created_at      TEXT NOT NULL,
    deleted_at      TEXT                    -- set: refused from that moment on
);
"""
# Columns the requests table gained after its first release (migrations.py adds them
# to an older database), with their declarations.
REQUEST_COLUMNS = {
    "customer_id": "TEXT",
    "meter_id": "TEXT",
    "metadata": "TEXT NOT NULL DEFAULT '{}'",  # JSON object of strings
    "response_id": "TEXT",
    "provider_key_type": f"TEXT NOT NULL DEFAULT '{GATEWAY_KEY_TYPE}'",
    "input_cost_micros": "INTEGER",  # NULL (older rows): derived from the catalogue
    "output_cost_micros": "INTEGER",
    "input_rate": "TEXT",  # dollars per 1M tokens, as the charge breakdown shows
    "output_rate": "TEXT",
}
_REQUEST_EXTRA = "".join(f",\n    {name} {decl}" for name, decl in REQUEST_COLUMNS.items())

SCHEMA = f"""
{wallets_table()}
{SECRET_KEYS_TABLE}
CREATE INDEX IF NOT EXISTS secret_keys_by_wallet
    ON secret_keys (wallet_id, created_at DESC, secret_key_id DESC);
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
    status        TEXT NOT NULL,         -- pending | completed | error
    input_tokens  INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cost          TEXT NOT NULL,         -- decimal dollars, in the API's text (money.py)
    cost_micros   INTEGER NOT NULL,      -- the same in micro-dollars, for exact SUM()
    created_at    TEXT NOT NULL{_REQUEST_EXTRA}
);
CREATE INDEX IF NOT EXISTS requests_by_key ON requests (spend_key_id, created_at);
CREATE INDEX IF NOT EXISTS requests_by_wallet ON requests (wallet_id, created_at);
CREATE TABLE IF NOT EXISTS payments (
    payment_id        TEXT PRIMARY KEY,
    wallet_id         TEXT NOT NULL REFERENCES wallets(wallet_id),
    payment_method_id TEXT NOT NULL,
    amount            TEXT NOT NULL,     -- decimal dollars, in the API's text
    amount_micros     INTEGER NOT NULL,  -- the same in micro-dollars, for exact SUM()
    status            TEXT NOT NULL CHECK (status IN ({_sql_in(PAYMENT_STATUSES)})),
    created_at        TEXT NOT NULL,
    settled_at        TEXT
);
CREATE INDEX IF NOT EXISTS payments_by_wallet ON payments (wallet_id, status);
CREATE TABLE IF NOT EXISTS idempotency (
    wallet_id   TEXT NOT NULL,
    key         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,           -- SHA-256 of the request body, canonical JSON
    status      INTEGER NOT NULL,        -- the first answer, replayed to a retry
    body        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (wallet_id, key)
);
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
    balance: Decimal  # the starting balance; `Store.wallet_balance` adds funding, less spend
    created_at: str
    mode: str = MODES[0]  # test or live: the prefix of the secrets it mints


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


@dataclass(frozen=True)
class Tags:
    """Who and what a gateway call was for (attribution.py reads them from the call):
    its metadata, and the customer and meter ids, None unless given."""

    metadata: tuple[tuple[str, str], ...] = ()
    customer_id: str | None = None
    meter_id: str | None = None

    def metadata_json(self) -> str:
        return json.dumps(dict(self.metadata), ensure_ascii=False, separators=(",", ":"))
