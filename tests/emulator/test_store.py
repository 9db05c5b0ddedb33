"""The SQLite store on its own: persistence, hashing, atomic transactions, derived usage."""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from lava_cli.emulator.money import from_micros, to_micros
from lava_cli.emulator.schema import KeySettings, SpendLimit
from lava_cli.emulator.server import start_in_thread
from lava_cli.emulator.store import Store

SECRET = "aks_test_" + "p" * 32


def _charge(store: Store, raw: str, cost: str) -> None:
    key = store.key_for_raw(raw)
    assert key is not None
    store.record_request(
        key, provider="openai", model="gpt-4o", endpoint="/v1/chat/completions",
        input_tokens=1, output_tokens=1, cost=Decimal(cost),
    )  # fmt: skip


@pytest.mark.slow
def test_state_survives_a_restart_with_a_file_database(tmp_path: Path) -> None:
    db = str(tmp_path / "state" / "emulator.sqlite3")
    with start_in_thread(db_path=db, secrets=[SECRET]) as emu:
        headers = {"Authorization": f"Bearer {SECRET}"}
        with httpx.Client(base_url=emu.base_url, headers=headers) as api:
            created = api.post("/spend_keys", json={"name": "kept"}).json()
            _charge(emu.store, created["key"], "0.42")
    with start_in_thread(db_path=db, secrets=[SECRET]) as emu:
        with httpx.Client(base_url=emu.base_url, headers=headers) as api:
            keys = api.get("/spend_keys").json()["data"]
            assert [k["spend_key_id"] for k in keys] == [created["spend_key_id"]]
            assert keys[0]["total_spend"] == "0.42"
            assert api.get("/wallet").json()["wallet_id"] == created["wallet_id"]
        assert emu.store.key_for_raw(created["key"]) is not None
    assert Path(db).exists()
    # Only hashes are stored: the raw key and the secret appear nowhere on disk.
    blob = b"".join(p.read_bytes() for p in Path(db).parent.iterdir())
    assert created["key"].encode() not in blob
    assert SECRET.encode() not in blob


def test_file_database_uses_wal_and_full_sync(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite3")
    with store.transaction() as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    store.close()


@pytest.mark.slow
def test_throwaway_database_is_deleted_on_stop() -> None:
    with start_in_thread() as emu:
        assert emu.store.path is not None and emu.store.path.exists()
        path = emu.store.path
        assert len(emu.secrets) == 1 and emu.secrets[0].startswith("aks_test_")
        assert len(emu.secrets[0]) == len("aks_test_") + 32
    assert not path.exists()


def test_wallets_are_idempotent_and_found_only_by_their_secret() -> None:
    store = Store()
    wallet = store.create_wallet(SECRET)
    assert store.create_wallet(SECRET) == wallet
    assert store.wallet_for_secret(SECRET) == wallet
    assert store.wallet_for_secret(SECRET + "x") is None
    assert store.wallet_for_secret("") is None
    assert store.wallet_balance(wallet.wallet_id) == Decimal("100.00")


def test_reset_forgets_keys_and_requests_but_keeps_wallets() -> None:
    store = Store()
    wallet = store.create_wallet(SECRET)
    _, raw = store.create_key(wallet.wallet_id, KeySettings(name="k"))
    _charge(store, raw, "1")
    store.reset()
    assert store.key_for_raw(raw) is None
    assert store.list_keys(wallet.wallet_id).data == []
    assert store.wallet_for_secret(SECRET) == wallet
    assert store.wallet_balance(wallet.wallet_id) == Decimal("100.00")


def test_a_failed_transaction_leaves_nothing_behind() -> None:
    store = Store()
    wallet = store.create_wallet(SECRET)
    with pytest.raises(RuntimeError), store.transaction():
        store.create_key(wallet.wallet_id, KeySettings(name="doomed"))
        raise RuntimeError("boom")
    assert store.list_keys(wallet.wallet_id).data == []


def test_check_and_charge_in_a_transaction_never_overspends() -> None:
    """The pattern the gateway uses: read usage and charge under one BEGIN IMMEDIATE."""
    store = Store()
    wallet = store.create_wallet(SECRET)
    settings = KeySettings(name="k", spend_limit=SpendLimit(Decimal("1.00"), "total"))
    key, _ = store.create_key(wallet.wallet_id, settings)
    accepted = []

    def client() -> None:
        for _ in range(10):
            with store.transaction():
                usage = store.key_usage(key)
                if usage.current_spend + Decimal("0.07") <= Decimal("1.00"):
                    store.record_request(
                        key, provider="openai", model="gpt-4o", endpoint="/v1/chat/completions",
                        input_tokens=1, output_tokens=1, cost=Decimal("0.07"),
                    )  # fmt: skip
                    accepted.append(1)

    threads = [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    usage = store.key_usage(key)
    assert len(accepted) == 14 == usage.total_requests
    assert usage.total_spend == Decimal("0.98")


def test_money_is_exact_in_micro_dollars() -> None:
    assert to_micros(Decimal("0.000001")) == 1
    assert from_micros(to_micros(Decimal("12.345678"))) == Decimal("12.345678")
    with pytest.raises(ValueError):
        to_micros(Decimal("0.0000001"))


def test_the_database_keeps_amounts_in_the_api_text_form() -> None:
    """One money formatter (money.py) for every amount written, the database included:
    a cost that rounded to zero is ``0.00`` there, as on the wire, not ``0E-6``."""
    store = Store()
    wallet = store.create_wallet(SECRET)
    _, raw = store.create_key(
        wallet.wallet_id, KeySettings(name="k", spend_limit=SpendLimit(Decimal("5.0"), "total"))
    )
    for cost in ("0E-6", "0.012500", "3"):
        _charge(store, raw, cost)
    with store.transaction() as db:
        costs = [row[0] for row in db.execute("SELECT cost FROM requests ORDER BY cost")]
        (limit,) = db.execute("SELECT spend_limit_amount FROM spend_keys").fetchone()
        (balance,) = db.execute("SELECT balance FROM wallets").fetchone()
    assert costs == ["0.00", "0.0125", "3.00"]
    assert (limit, balance) == ("5.00", "100.00")


def test_update_refuses_fields_that_are_not_settings() -> None:
    store = Store()
    wallet = store.create_wallet(SECRET)
    key, _ = store.create_key(wallet.wallet_id, KeySettings(name="k"))
    with pytest.raises(ValueError, match="wallet_id"):
        store.update_key(wallet.wallet_id, key.spend_key_id, {"wallet_id": "wal_other"})
