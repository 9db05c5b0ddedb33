"""Bring a database made by an earlier emulator up to the current tables (schema.py).

Why: `lava emulator serve` keeps its database in the user's data folder, and a user
who upgrades expects the keys in it to keep working. Two changes so far:

1. Secret keys became their own table (a wallet may hold several; ``/v1/secret_keys``).
   The old ``wallets.secret_hash`` column moves to ``secret_keys`` as the wallet's
   "started with" secret; its hint and the wallet's mode (test or live) stay unknown
   (NULL) until the secret is presented again (`Store.create_wallet` fills them in).
2. Request records gained the SDK's RestRequest fields (schema.REQUEST_COLUMNS), and
   their statuses became ``completed``/``error`` (were ``success``/``failed``).

Each step runs in one transaction before the store enables foreign keys (SQLite's own
recipe for rebuilding a table), and does nothing to a database that is current.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from lava_cli.emulator.contract import COMPLETED, ERROR, STARTED, STARTED_NAME
from lava_cli.emulator.schema import REQUEST_COLUMNS, SECRET_KEYS_TABLE, wallets_table


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def migrate(conn: sqlite3.Connection) -> None:
    """Run every step an older database needs; call with foreign keys off."""
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "wallets" in tables and "secret_hash" in _columns(conn, "wallets"):
        _in_transaction(conn, _split_wallet_secrets)
    if "requests" in tables and not set(REQUEST_COLUMNS) <= _columns(conn, "requests"):
        _in_transaction(conn, _record_fields)


def _in_transaction(conn: sqlite3.Connection, step: Callable[[sqlite3.Connection], None]) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        step(conn)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _split_wallet_secrets(conn: sqlite3.Connection) -> None:
    """Step 1: ``wallets.secret_hash`` -> one "started with" row of ``secret_keys``."""
    conn.execute(SECRET_KEYS_TABLE)
    conn.execute(
        "INSERT INTO secret_keys (secret_key_id, wallet_id, secret_hash, secret_key_hint,"
        " name, origin, created_at, deleted_at)"
        " SELECT 'sec_' || lower(hex(randomblob(12))), wallet_id, secret_hash, NULL, ?, ?,"
        " created_at, NULL FROM wallets",
        (STARTED_NAME, STARTED),
    )
    # SQLite's recipe: build the new table, copy, drop the old, rename the new. (Renaming
    # the OLD table instead would repoint the other tables' REFERENCES at it.)
    conn.execute(wallets_table("wallets_new"))
    conn.execute(
        "INSERT INTO wallets_new (wallet_id, mode, balance, created_at)"
        " SELECT wallet_id, NULL, balance, created_at FROM wallets"
    )
    conn.execute("DROP TABLE wallets")
    conn.execute("ALTER TABLE wallets_new RENAME TO wallets")


def _record_fields(conn: sqlite3.Connection) -> None:
    """Step 2: the RestRequest columns, and the statuses' new names."""
    present = _columns(conn, "requests")
    for name, declaration in REQUEST_COLUMNS.items():
        if name not in present:
            conn.execute(f"ALTER TABLE requests ADD COLUMN {name} {declaration}")
    conn.execute(
        "UPDATE requests SET status = CASE status WHEN 'success' THEN ? ELSE ? END"
        " WHERE status IN ('success', 'failed')",
        (COMPLETED, ERROR),
    )
