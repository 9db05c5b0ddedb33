"""The emulator's state in SQLite (stdlib sqlite3): wallets and their secrets, spend
keys, requests. (Secret-key management is secretkeys.py's, funding payments.py's; both
use this store's connection and transactions.)

Design choices, and why:

- One connection, guarded by a re-entrant lock. The Starlette handlers are ``async``
  and call the store synchronously (SQLite calls take microseconds), so the lock is
  only contended by other threads (tests, a threaded gateway); one connection also
  makes ``":memory:"`` databases work across threads.
- File databases use WAL with ``synchronous=FULL``: every COMMIT is fsynced before the
  API answers, so a key whose raw value was shown once (create, rotate) or a charged
  request survives a power cut. NORMAL could lose the last commits on power loss.
  Throwaway databases (``durable=False``) skip the fsync; losing them is fine.
- Usage is derived, never counted: ``current_*``/``total_*``/``last_used_at`` are
  aggregates over the ``requests`` table, so totals always equal the sum of recorded
  requests. Costs are kept as decimal TEXT (what the API shows) and as integer
  micro-dollars (``cost_micros``) so SQLite sums them exactly.
- Raw spend keys and wallet secrets are stored only as SHA-256 hashes.
- An older database is migrated at open (migrations.py), before foreign keys are on.

The gateway's check-and-charge uses `transaction()` (``BEGIN IMMEDIATE``), reads the
key and its usage, then calls `record_request()` inside the same transaction; a
forwarded request is settled later with `reprice_request()`. Paging is paging.py's.
"""

from __future__ import annotations

import dataclasses
import hmac
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from lava_cli.emulator import ids, paging
from lava_cli.emulator.catalogue import Costs
from lava_cli.emulator.contract import (
    COMPLETED,
    DEFAULT_PAGE,
    MAX_KEYS_PER_WALLET,
    REVOKED,
    SETTINGS_FIELDS,
    STARTED,
    STARTED_NAME,
    TOTAL,
)
from lava_cli.emulator.cycles import Clock, cycle_start, stored_time, utc_now
from lava_cli.emulator.migrations import migrate
from lava_cli.emulator.money import from_micros, money, to_micros
from lava_cli.emulator.schema import (
    DEFAULT_BALANCE,
    SCHEMA,
    KeyLimitReached,
    KeyRow,
    KeySettings,
    KeyUsage,
    RateLimit,
    RequestLimit,
    SpendLimit,
    Tags,
    Wallet,
    row_to_key,
    settings_columns,
)

__all__ = [
    "KeyLimitReached",
    "KeyRow",
    "KeySettings",
    "KeyUsage",
    "RateLimit",
    "RequestLimit",
    "SpendLimit",
    "Store",
    "StoreUnavailable",
    "Wallet",
]


def cycle_starts(settings: KeySettings, now: datetime) -> tuple[str, str]:
    """Since when (stored form) the request limit and the spend limit count at `now`:
    the start of each limit's cycle; the epoch for ``total`` or no limit at all."""
    requests, spend = settings.request_limit, settings.spend_limit
    return (
        stored_time(cycle_start(requests.cycle if requests else TOTAL, now)),
        stored_time(cycle_start(spend.cycle if spend else TOTAL, now)),
    )


class StoreUnavailable(Exception):
    """The file cannot be the emulator's database; the message says why, without the
    path (the caller names the file, e.g. as ``--db``)."""


# SQLite's result codes (Python 3.11+ exposes their names) -> what to tell the user.
_REASONS = {
    "SQLITE_NOTADB": "it is not a SQLite database",
    "SQLITE_CORRUPT": "the database is corrupt",
    "SQLITE_READONLY": "it is read-only",
    "SQLITE_CANTOPEN": "it cannot be opened",
    "SQLITE_PERM": "access is denied",
    "SQLITE_FULL": "the disk is full",
    "SQLITE_BUSY": "another process holds a lock on it",
}


def _why(exc: sqlite3.Error) -> str:
    """SQLite's error in words, by its result code (not by its message text)."""
    name = str(getattr(exc, "sqlite_errorname", ""))
    reason = next((text for code, text in _REASONS.items() if name.startswith(code)), None)
    return f"{reason} ({exc})" if reason else str(exc)


def _prepare(path: Path) -> None:
    """Make the database's folder, or say why `path` cannot be a database file."""
    if path.is_dir():
        raise StoreUnavailable("it is a directory")
    if path.parent.exists() and not path.parent.is_dir():
        raise StoreUnavailable(f"{path.parent} is not a directory")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreUnavailable(f"cannot create its folder: {exc.strerror or exc}") from None


class Store:
    """SQLite-backed state. `path` None or ``":memory:"`` gives a private in-memory DB."""

    def __init__(
        self, path: str | Path | None = None, *, clock: Clock = utc_now, durable: bool = True
    ) -> None:
        self.clock = clock
        self.path = None if path is None or str(path) == ":memory:" else Path(path)
        self._lock = threading.RLock()
        self._depth = 0
        # The wallet this emulator was started for (its first secret's): where a browser
        # login lands. Set by server.py; None for a bare store (the login makes one).
        self.default_wallet_id: str | None = None
        if self.path is not None:
            _prepare(self.path)
        try:
            self._conn = sqlite3.connect(
                ":memory:" if self.path is None else str(self.path),
                check_same_thread=False,
                isolation_level=None,  # autocommit; transactions are explicit (BEGIN IMMEDIATE)
            )
        except sqlite3.Error as exc:
            raise StoreUnavailable(_why(exc)) from None
        self._conn.row_factory = sqlite3.Row
        try:
            with self._lock:
                if self.path is not None:
                    self._conn.execute("PRAGMA journal_mode = WAL")
                    self._conn.execute(f"PRAGMA synchronous = {'FULL' if durable else 'OFF'}")
                migrate(self._conn)  # before foreign keys: it rebuilds a table
                self._conn.execute("PRAGMA foreign_keys = ON")
                self._conn.executescript(SCHEMA)
                self._probe_write()
        except sqlite3.Error as exc:
            self._conn.close()
            raise StoreUnavailable(_why(exc)) from None

    def _probe_write(self) -> None:
        """Write once and roll back, so a read-only database fails here, at start-up.

        SQLite opens a file it may not write read-only without a word, and the schema
        above writes nothing when the tables exist: without this probe the first
        `keys create` would be the one to fail, as a 500.
        """
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            self._conn.execute("CREATE TABLE lava_write_probe (x INTEGER)")
        finally:
            self._conn.execute("ROLLBACK")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT`` (ROLLBACK on error), holding the store's lock.

        Re-entrant: store methods called inside join the outer transaction, so the
        gateway can check limits and `record_request()` atomically.
        """
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")
            finally:
                self._depth = 0

    def _now(self) -> str:
        return stored_time(self.clock())

    # -- wallets -----------------------------------------------------------------

    def create_wallet(self, secret: str, *, balance: Decimal = DEFAULT_BALANCE) -> Wallet:
        """The wallet owning `secret`, created on first sight (idempotent).

        `secret` is one the emulator is started with: it is listed among the wallet's
        secret keys as "started with", and is made live again if it had been deleted
        (the operator starting with it says it should work). A migrated row learns its
        hint and the wallet its mode here, the first time the raw secret is at hand.
        """
        digest = ids.hash_secret(secret)
        with self.transaction() as db:
            row = db.execute(
                "SELECT wallet_id FROM secret_keys WHERE secret_hash = ?", (digest,)
            ).fetchone()
            if row is not None:
                db.execute(
                    "UPDATE secret_keys SET deleted_at = NULL,"
                    " secret_key_hint = COALESCE(secret_key_hint, ?) WHERE secret_hash = ?",
                    (ids.secret_hint(secret), digest),
                )
                db.execute(
                    "UPDATE wallets SET mode = COALESCE(mode, ?) WHERE wallet_id = ?",
                    (ids.mode_of(secret), row["wallet_id"]),
                )
                wallet = self.get_wallet(row["wallet_id"])
                assert wallet is not None
                return wallet
            wallet = Wallet(ids.new_wallet_id(), balance, self._now(), ids.mode_of(secret))
            db.execute(
                "INSERT INTO wallets (wallet_id, mode, balance, created_at) VALUES (?, ?, ?, ?)",
                (wallet.wallet_id, wallet.mode, money(balance), wallet.created_at),
            )
            self.add_secret(wallet.wallet_id, secret, name=STARTED_NAME, origin=STARTED)
            return wallet

    def add_secret(self, wallet_id: str, secret: str, *, name: str, origin: str) -> str:
        """Record `secret` (its hash and hint) as one of the wallet's secret keys; its id."""
        secret_key_id = ids.new_secret_key_id()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO secret_keys (secret_key_id, wallet_id, secret_hash,"
                " secret_key_hint, name, origin, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    secret_key_id, wallet_id, ids.hash_secret(secret), ids.secret_hint(secret),
                    name, origin, self._now(),
                ),
            )  # fmt: skip
        return secret_key_id

    def get_wallet(self, wallet_id: str) -> Wallet | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT * FROM wallets WHERE wallet_id = ?", (wallet_id,)
            ).fetchone()
        if row is None:
            return None
        return Wallet(
            row["wallet_id"], Decimal(row["balance"]), row["created_at"], row["mode"] or "test"
        )

    def wallet_for_secret(self, secret: str) -> Wallet | None:
        """The wallet whose live secret key this is, or None (compared in constant time).

        A ``lava_wk_<body>`` wallet key is the alias of the secret with the same body
        (ids.secret_forms). A deleted secret key matches nothing, at once.
        """
        for form in ids.secret_forms(secret):
            digest = ids.hash_secret(form)
            with self._lock:
                row = self._conn.execute(
                    "SELECT wallet_id, secret_hash FROM secret_keys"
                    " WHERE secret_hash = ? AND deleted_at IS NULL",
                    (digest,),
                ).fetchone()
            if row is not None and hmac.compare_digest(row["secret_hash"], digest):
                return self.get_wallet(row["wallet_id"])
        return None

    def secret_key_id_for(self, secret: str) -> str | None:
        """The id of the live secret key `secret` is (for the login exchange), or None."""
        with self._lock:
            row = self._conn.execute(
                "SELECT secret_key_id FROM secret_keys"
                " WHERE secret_hash = ? AND deleted_at IS NULL",
                (ids.hash_secret(secret),),
            ).fetchone()
        return None if row is None else str(row["secret_key_id"])

    def wallet_balance(self, wallet_id: str) -> Decimal:
        """Starting balance plus completed funding minus everything the wallet's keys
        have spent."""
        with self._lock:
            row = self._conn.execute(
                "SELECT w.balance AS balance, (SELECT COALESCE(SUM(cost_micros), 0)"
                " FROM requests r WHERE r.wallet_id = w.wallet_id) AS spent,"
                " (SELECT COALESCE(SUM(amount_micros), 0) FROM payments p"
                " WHERE p.wallet_id = w.wallet_id AND p.status = 'completed') AS funded"
                " FROM wallets w WHERE w.wallet_id = ?",
                (wallet_id,),
            ).fetchone()
        if row is None:
            raise KeyError(wallet_id)
        return Decimal(row["balance"]) + from_micros(row["funded"] - row["spent"])

    # -- spend keys --------------------------------------------------------------

    def create_key(self, wallet_id: str, settings: KeySettings) -> tuple[KeyRow, str]:
        """A new key and its raw value (the only time it exists outside a hash).

        Raises KeyLimitReached for an 11th key that is not revoked.
        """
        raw = ids.new_raw_key()
        key_id = ids.new_spend_key_id()
        with self.transaction() as db:
            (count,) = db.execute(
                "SELECT COUNT(*) FROM spend_keys WHERE wallet_id = ? AND status != ?",
                (wallet_id, REVOKED),
            ).fetchone()
            if count >= MAX_KEYS_PER_WALLET:
                raise KeyLimitReached(wallet_id)
            columns = {
                "spend_key_id": key_id,
                "wallet_id": wallet_id,
                "key_hash": ids.hash_secret(raw),
                "key_preview": ids.key_preview(raw),
                "created_at": self._now(),
                **settings_columns(settings),
            }
            names = ", ".join(columns)
            marks = ", ".join("?" for _ in columns)
            db.execute(
                f"INSERT INTO spend_keys ({names}) VALUES ({marks})",  # noqa: S608
                tuple(columns.values()),
            )
            row = self._get(key_id, wallet_id)
        assert row is not None
        return row, raw

    def _get(self, key_id: str, wallet_id: str | None = None) -> KeyRow | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT * FROM spend_keys WHERE spend_key_id = ?", (key_id,)
            ).fetchone()
        if row is None or (wallet_id is not None and row["wallet_id"] != wallet_id):
            return None
        return row_to_key(row)

    def get_key(self, wallet_id: str, key_id: str) -> KeyRow | None:
        """The wallet's key, or None when unknown, revoked or another wallet's."""
        row = self._get(key_id, wallet_id)
        return None if row is None or row.status == REVOKED else row

    def list_keys(
        self, wallet_id: str, after: paging.Position | None = None, limit: int = DEFAULT_PAGE
    ) -> paging.Page[KeyRow]:
        """One page of the wallet's live keys, newest first (ties broken by id), after
        the position of a decoded cursor (paging.py)."""
        condition, params = paging.after(after, "spend_key_id")
        query = (
            "SELECT * FROM spend_keys WHERE wallet_id = ? AND status != ?"  # noqa: S608
            f"{condition} ORDER BY created_at DESC, spend_key_id DESC LIMIT ?"
        )
        with self._lock:
            rows = self._conn.execute(query, (wallet_id, REVOKED, *params, limit + 1)).fetchall()
        keys = [row_to_key(r) for r in rows]
        return paging.cut(keys, limit, lambda key: (key.created_at, key.spend_key_id))

    def update_key(self, wallet_id: str, key_id: str, changes: Mapping[str, Any]) -> KeyRow | None:
        """Apply a partial update (KeySettings field -> new value); None if not found."""
        unknown = set(changes).difference(SETTINGS_FIELDS)
        if unknown:
            raise ValueError(f"not key settings: {sorted(unknown)}")
        with self.transaction() as db:
            current = self.get_key(wallet_id, key_id)
            if current is None:
                return None
            columns = settings_columns(dataclasses.replace(current.settings, **changes))
            assignments = ", ".join(f"{name} = ?" for name in columns)
            db.execute(
                f"UPDATE spend_keys SET {assignments} WHERE spend_key_id = ?",  # noqa: S608
                (*columns.values(), key_id),
            )
            return self._get(key_id)

    def rotate_key(self, wallet_id: str, key_id: str) -> tuple[KeyRow, str] | None:
        """A new raw value for the key; the old hash is replaced, so the old value dies."""
        raw = ids.new_raw_key()
        with self.transaction() as db:
            if self.get_key(wallet_id, key_id) is None:
                return None
            db.execute(
                "UPDATE spend_keys SET key_hash = ?, key_preview = ? WHERE spend_key_id = ?",
                (ids.hash_secret(raw), ids.key_preview(raw), key_id),
            )
            row = self._get(key_id)
        assert row is not None
        return row, raw

    def revoke_key(self, wallet_id: str, key_id: str) -> bool:
        """Soft-delete: the key stops working and vanishes; its requests stay recorded."""
        with self.transaction() as db:
            if self.get_key(wallet_id, key_id) is None:
                return False
            db.execute(
                "UPDATE spend_keys SET status = ?, revoked_at = ? WHERE spend_key_id = ?",
                (REVOKED, self._now(), key_id),
            )
            return True

    def key_for_raw(self, raw_key: str) -> KeyRow | None:
        """The key a raw ``lava_sk_`` value belongs to (any status), or None.

        For the gateway: a revoked key is returned so it can say so; a rotated-away
        value matches nothing because its hash is gone.
        """
        digest = ids.hash_secret(raw_key)
        with self._lock:
            row = self._conn.execute(
                "SELECT * FROM spend_keys WHERE key_hash = ?", (digest,)
            ).fetchone()
        if row is None or not hmac.compare_digest(row["key_hash"], digest):
            return None
        return row_to_key(row)

    # -- usage -------------------------------------------------------------------

    def key_usage(self, key: KeyRow, now: datetime | None = None) -> KeyUsage:
        """Spend and request counts of `key`, derived from its recorded requests.

        ``current_spend`` counts from the start of the spend limit's cycle and
        ``current_requests`` from the request limit's; a key without that limit (or
        with a ``total`` cycle) has current equal to total.
        """
        count_from, spend_from = cycle_starts(key.settings, self.clock() if now is None else now)
        with self._lock:
            row = self._conn.execute(
                "SELECT COUNT(*) AS n, COALESCE(SUM(cost_micros), 0) AS spent,"
                " COALESCE(SUM(created_at >= ?), 0) AS n_now,"
                " COALESCE(SUM(CASE WHEN created_at >= ? THEN cost_micros END), 0) AS spent_now,"
                " MAX(created_at) AS last FROM requests WHERE spend_key_id = ?",
                (count_from, spend_from, key.spend_key_id),
            ).fetchone()
        return KeyUsage(
            current_spend=from_micros(row["spent_now"]),
            total_spend=from_micros(row["spent"]),
            current_requests=row["n_now"],
            total_requests=row["n"],
            last_used_at=row["last"],
        )

    def record_request(
        self,
        key: KeyRow,
        *,
        provider: str,
        model: str,
        endpoint: str,
        input_tokens: int,
        output_tokens: int,
        cost: Decimal,
        status: str = COMPLETED,
        request_id: str | None = None,
        created_at: datetime | None = None,
        costs: Costs | None = None,
        response_id: str | None = None,
        tags: Tags | None = None,
    ) -> str:
        """Record one gateway request against `key` (and its wallet); returns its id.

        `costs` splits `cost` into its input and output parts (their sum must be
        `cost`); without it a record's parts are derived from the catalogue when read
        (records.py), as for rows written before the split existed.
        Call it inside `transaction()` together with the limit checks.
        """
        if costs is not None and costs.total != cost:
            raise ValueError(f"the parts of {cost} add up to {costs.total}")
        tags = tags or Tags()
        request_id = request_id or ids.new_request_id()
        when = stored_time(self.clock() if created_at is None else created_at)
        with self.transaction() as db:
            db.execute(
                "INSERT INTO requests (request_id, wallet_id, spend_key_id, provider, model,"
                " endpoint, status, input_tokens, output_tokens, cost, cost_micros, created_at,"
                " customer_id, meter_id, metadata, response_id, input_cost_micros,"
                " output_cost_micros, input_rate, output_rate)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    request_id, key.wallet_id, key.spend_key_id, provider, model, endpoint,
                    status, input_tokens, output_tokens, money(cost), to_micros(cost), when,
                    tags.customer_id, tags.meter_id, tags.metadata_json(), response_id,
                    *_cost_columns(costs),
                ),
            )  # fmt: skip
        return request_id

    def reprice_request(
        self,
        request_id: str,
        *,
        input_tokens: int,
        output_tokens: int,
        costs: Costs,
        status: str,
        response_id: str | None = None,
    ) -> str | None:
        """Overwrite a recorded request's usage, cost (`costs.total`, with its parts) and
        status (a forwarded request settling); its key's id, or None when there is no
        such request. A `response_id` replaces the recorded one; None keeps it."""
        cost = costs.total
        with self.transaction() as db:
            row = db.execute(
                "SELECT spend_key_id FROM requests WHERE request_id = ?", (request_id,)
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE requests SET input_tokens = ?, output_tokens = ?, cost = ?,"
                " cost_micros = ?, status = ?, response_id = COALESCE(?, response_id),"
                " input_cost_micros = ?, output_cost_micros = ?, input_rate = ?,"
                " output_rate = ? WHERE request_id = ?",
                (
                    input_tokens, output_tokens, money(cost), to_micros(cost), status,
                    response_id, *_cost_columns(costs), request_id,
                ),
            )  # fmt: skip
            return str(row["spend_key_id"])

    def reset(self) -> None:
        """Forget every key, request, payment and minted secret but keep the wallets and
        the secrets they were started with, live (tests call it per case)."""
        with self.transaction() as db:
            db.execute("DELETE FROM requests")
            db.execute("DELETE FROM spend_keys")
            db.execute("DELETE FROM payments")
            db.execute("DELETE FROM idempotency")
            db.execute("DELETE FROM secret_keys WHERE origin != ?", (STARTED,))
            db.execute("UPDATE secret_keys SET deleted_at = NULL")


def _cost_columns(costs: Costs | None) -> tuple[int | None, int | None, str | None, str | None]:
    """input_cost_micros, output_cost_micros, input_rate, output_rate of a record."""
    if costs is None:
        return None, None, None, None
    return (
        to_micros(costs.input_cost),
        to_micros(costs.output_cost),
        money(costs.input_rate),
        money(costs.output_rate),
    )
