"""Crash safety: SIGKILL `lava emulator serve` in the middle of a burst of creates,
rotates, revokes and gateway requests, restart it on the same database, and check:
the database opens and passes `PRAGMA integrity_check`, no acknowledged write is
missing, no key is half-rotated (its last acknowledged value works, the one before is
dead), and every key's spend totals equal the sum of its recorded requests.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from tests.conftest import wait_for
from tests.helpers.emulators import serve_emulator
from tests.helpers.env import clean_env
from tests.helpers.fuzz import report

ROOT = Path(__file__).resolve().parents[2]
SECRET = "aks_test_" + "K" * 32
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello there"}]}


class Emulator:
    """`python -m lava_cli emulator serve --port 0 --db FILE` as a child process."""

    def __init__(self, db: Path) -> None:
        env = clean_env(LAVA_SECRET_KEY=SECRET, PYTHONPATH=str(ROOT))
        served = serve_emulator(["--db", str(db)], env, stderr=subprocess.DEVNULL)
        self.proc, self.base_url = served.proc, served.root
        self.api = httpx.Client(
            base_url=self.base_url, headers={"Authorization": f"Bearer {SECRET}"}, timeout=10
        )

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.api.close()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.api.close()


@dataclass
class Ledger:
    """What the server acknowledged, and what was in flight when it died."""

    keys: dict[str, list[str]] = field(default_factory=dict)  # id -> acked raw values
    revoked: set[str] = field(default_factory=set)
    uncertain: set[str] = field(default_factory=set)  # a write on it got no answer
    requests: set[str] = field(default_factory=set)
    acks: int = 0
    errors: list[str] = field(default_factory=list)  # wrong answers while the server lived
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ack(self, what: str, key_id: str, raw: str | None = None) -> None:
        with self.lock:
            self.acks += 1
            if what == "key" and raw:
                self.keys.setdefault(key_id, []).append(raw)
            elif what == "revoke":
                self.revoked.add(key_id)
            elif what == "request":
                self.requests.add(key_id)


def _worker(base_url: str, ledger: Ledger, stop: threading.Event, churn: bool) -> None:
    """Create a key, then rotate it and spend with it until the server dies. A `churn`
    worker creates and revokes keys instead."""
    api = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {SECRET}"}, timeout=5)
    key_id = ""
    try:
        while not stop.is_set():
            key_id = ""
            created = api.post("/v1/spend_keys", json={"name": "burst"})
            if created.status_code == 409:
                continue
            assert created.status_code == 201, created.text
            key_id, raw = created.json()["spend_key_id"], created.json()["key"]
            ledger.ack("key", key_id, raw)
            if churn:
                ledger.uncertain.add(key_id)
                assert api.delete(f"/v1/spend_keys/{key_id}").status_code == 200
                ledger.ack("revoke", key_id)
                ledger.uncertain.discard(key_id)
                continue
            while not stop.is_set():
                for _ in range(3):
                    answer = httpx.post(
                        base_url + "/v1/chat/completions",
                        json=CHAT, headers={"Authorization": f"Bearer {raw}"}, timeout=5,
                    )  # fmt: skip
                    assert answer.status_code == 200, answer.text
                    ledger.ack("request", answer.headers["x-lava-request-id"])
                ledger.uncertain.add(key_id)
                rotated = api.post(f"/v1/spend_keys/{key_id}/rotate")
                assert rotated.status_code == 200
                raw = rotated.json()["key"]
                ledger.ack("key", key_id, raw)
                ledger.uncertain.discard(key_id)
    except (httpx.HTTPError, OSError):
        if key_id:
            ledger.uncertain.add(key_id)  # the server died under this write
    except AssertionError as exc:
        ledger.errors.append(str(exc))
    finally:
        api.close()


def _burst_then_kill(emu: Emulator, ledger: Ledger, writes: int) -> None:
    """Start the burst, and SIGKILL the server once it has acknowledged `writes` more
    writes (a ready signal: a fixed delay could kill it before the burst got going on
    a loaded machine, or after a worker failed)."""
    stop = threading.Event()
    threads = [
        threading.Thread(target=_worker, args=(emu.base_url, ledger, stop, churn))
        for churn in (False, False, False, True)
    ]
    target = ledger.acks + writes
    for t in threads:
        t.start()
    wait_for(
        lambda: ledger.acks >= target or ledger.errors or not any(t.is_alive() for t in threads),
        f"{writes} acknowledged writes",
        timeout=60,
    )
    emu.kill()  # mid-burst: the workers are still writing
    stop.set()
    for t in threads:
        t.join(timeout=20)


def _works(base_url: str, raw: str) -> bool:
    answer = httpx.post(
        base_url + "/v1/chat/completions", json=CHAT, headers={"Authorization": f"Bearer {raw}"}
    )
    assert answer.status_code in (200, 401), answer.text
    return answer.status_code == 200


@pytest.mark.slow
def test_sigkill_mid_burst_loses_nothing_acknowledged(tmp_path, capsys):
    db = tmp_path / "emulator.sqlite3"
    ledger = Ledger()
    for writes in (40, 25):  # two crashes, two restarts
        _burst_then_kill(Emulator(db), ledger, writes)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    emu = Emulator(db)
    try:
        missing = 0
        half_rotated = 0
        live = {
            k["spend_key_id"]
            for k in emu.api.get("/v1/spend_keys", params={"limit": 100}).json()["data"]
        }
        for key_id, raws in ledger.keys.items():
            shown = emu.api.get(f"/v1/spend_keys/{key_id}")
            if key_id in ledger.revoked:
                missing += shown.status_code != 404  # an acknowledged revoke must hold
                continue
            if key_id in ledger.uncertain:
                if key_id not in live:
                    assert shown.status_code == 404  # an unanswered revoke may have landed
                continue
            missing += shown.status_code != 200
            if not _works(emu.base_url, raws[-1]):
                half_rotated += 1
            half_rotated += sum(_works(emu.base_url, old) for old in raws[:-1])
        with sqlite3.connect(db) as conn:
            recorded = {row[0] for row in conn.execute("SELECT request_id FROM requests")}
            sums = dict(
                conn.execute(
                    "SELECT spend_key_id, SUM(cost_micros) FROM requests GROUP BY spend_key_id"
                )
            )
        missing += len(ledger.requests - recorded)
        mismatched = 0
        for key_id in live:
            body = emu.api.get(f"/v1/spend_keys/{key_id}").json()
            expected = Decimal(sums.get(key_id, 0)) / 1_000_000
            mismatched += Decimal(body["total_spend"]) != expected
        wallet = emu.api.get("/v1/wallet").json()
        total = Decimal(sum(sums.values())) / 1_000_000
        mismatched += Decimal(wallet["balance"]) != Decimal("100.00") - total
    finally:
        emu.stop()
    report(
        capsys,
        f"crash safety: 2 SIGKILLs mid-burst, {ledger.acks} acknowledged writes "
        f"({len(ledger.keys)} keys, {len(ledger.requests)} gateway requests): {missing} missing, "
        f"{half_rotated} half-rotated keys, {mismatched} spend totals != sum of requests, "
        "integrity_check ok",
    )
    assert ledger.errors == []
    assert ledger.acks > 20 and ledger.requests, "the burst should have written something"
    assert (missing, half_rotated, mismatched) == (0, 0, 0)
