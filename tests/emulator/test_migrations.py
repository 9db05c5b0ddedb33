"""A database made by the emulator before secret keys and full request records opens
and keeps working: its wallet's secret, its spend key, its request log.

`FIRST_SCHEMA` is the schema those releases wrote, verbatim (with its CHECK lists
spelled out), and the rows are what they stored: hashes, never raw values.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import httpx
import pytest

from lava_cli.emulator.server import start_in_thread

SECRET = "aks_test_" + "O" * 32
RAW_KEY = "lava_sk_" + "o" * 40

FIRST_SCHEMA = """
CREATE TABLE IF NOT EXISTS wallets (
    wallet_id   TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL UNIQUE,
    balance     TEXT NOT NULL DEFAULT '100.00',
    created_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS spend_keys (
    spend_key_id        TEXT PRIMARY KEY,
    wallet_id           TEXT NOT NULL REFERENCES wallets(wallet_id),
    key_hash            TEXT NOT NULL UNIQUE,
    key_preview         TEXT NOT NULL,
    name                TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('active', 'paused', 'revoked')),
    request_shape       TEXT NOT NULL CHECK (request_shape IN ('openai', 'anthropic')),
    allowed_models      TEXT,
    allowed_providers   TEXT,
    spend_limit_amount  TEXT,
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
    cost          TEXT NOT NULL,
    cost_micros   INTEGER NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS requests_by_key ON requests (spend_key_id, created_at);
CREATE INDEX IF NOT EXISTS requests_by_wallet ON requests (wallet_id, created_at);
"""
WALLET = "wal_" + "w" * 24
KEY = "sk_" + "k" * 24


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _first_release_database(path: Path) -> None:
    db = sqlite3.connect(path)
    db.executescript(FIRST_SCHEMA)
    db.execute(
        "INSERT INTO wallets VALUES (?, ?, '100.00', '2025-01-01T00:00:00.000000Z')",
        (WALLET, _sha(SECRET)),
    )
    db.execute(
        "INSERT INTO spend_keys (spend_key_id, wallet_id, key_hash, key_preview, name, status,"
        " request_shape, created_at) VALUES (?, ?, ?, ?, 'old', 'active', 'openai',"
        " '2025-01-01T00:00:00.000000Z')",
        (KEY, WALLET, _sha(RAW_KEY), RAW_KEY[:16] + "****"),
    )
    for n, status, micros in ((1, "success", 2_600), (2, "failed", 0)):
        db.execute(
            "INSERT INTO requests VALUES (?, ?, ?, 'openai', 'gpt-4o', '/v1/chat/completions',"
            " ?, 1000, 10, ?, ?, ?)",
            (f"req_{n:024d}", WALLET, KEY, status, f"{micros / 1e6:.6f}", micros,
             f"2025-01-0{n}T00:00:00.000000Z"),
        )  # fmt: skip
    db.commit()
    db.close()


def test_a_first_release_database_keeps_working(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    _first_release_database(path)
    with start_in_thread(db_path=str(path), secrets=[SECRET]) as emu:
        api = httpx.Client(
            base_url=emu.base_url, headers={"Authorization": f"Bearer {SECRET}"}, timeout=10
        )
        assert api.get("/wallet").json() == {"wallet_id": WALLET, "balance": "99.9974"}
        [started] = api.get("/secret_keys").json()["data"]
        assert started["name"] == "started with"
        assert started["secret_key_hint"] == "aks_test_****OOOO"  # learnt at this start
        assert [k["spend_key_id"] for k in api.get("/spend_keys").json()["data"]] == [KEY]
        records = api.get("/requests").json()["data"]
        assert [r["status"] for r in records] == ["error", "completed"]
        old = records[1]
        assert old["model_usage"]["input_cost"] == "0.0025"
        assert old["model_usage"]["output_cost"] == "0.0001"
        assert old["metadata"] == {} and old["provider_key_type"] == "managed"
        assert old["response_id"] is None and old["customer_id"] is None
        # new things work on the old database: a spend, a secret key, a payment
        answer = httpx.post(
            emu.base_url + "/chat/completions",
            json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
            headers={"Authorization": f"Bearer {RAW_KEY}", "x-lava-metadata-run": "after"},
        )
        assert answer.status_code == 200, answer.text
        assert api.get("/requests").json()["data"][0]["metadata"] == {"run": "after"}
        assert api.post("/secret_keys", json={"name": "ci"}).status_code == 201
        card = api.get("/payment_methods").json()["data"][0]["payment_method_id"]
        funded = api.post("/wallet/fund", json={"payment_method_id": card, "amount": "10.00"})
        assert funded.status_code == 200
        api.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        assert "wallets_new" not in tables
        columns = {row[1] for row in db.execute("PRAGMA table_info(wallets)")}
        assert "secret_hash" not in columns


@pytest.mark.slow  # two emulators on a file database, fsync on every commit
def test_opening_twice_migrates_once(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    _first_release_database(path)
    for _ in range(2):
        with start_in_thread(db_path=str(path), secrets=[SECRET]) as emu:
            api = httpx.Client(
                base_url=emu.base_url, headers={"Authorization": f"Bearer {SECRET}"}, timeout=10
            )
            assert len(api.get("/secret_keys").json()["data"]) == 1
            assert len(api.get("/requests").json()["data"]) == 2
            api.close()
