"""Every spend-key limit through the real gateway: cycles crossed with the fake clock,
key state changes mid-use, and the concurrency bound of the atomic check-and-charge."""

# The `emu` fixture is imported from tests/helpers/gateway.py; parameters naming it are
# how pytest injects it, not redefinitions.
# ruff: noqa: F811

from __future__ import annotations

import threading
from datetime import datetime, timezone
from decimal import Decimal

import httpx
import pytest

from tests.helpers.gateway import START, Emu, _session_emulator, emu  # noqa: F401


def _status(emu: Emu, raw: str, **body: object) -> int:
    return emu.chat(raw, max_tokens=1, **body).status_code


@pytest.mark.parametrize(
    ("cycle", "last_refused", "first_accepted"),
    [
        ("daily", datetime(2025, 1, 15, 23, 59, 59), datetime(2025, 1, 16)),
        ("weekly", datetime(2025, 1, 19, 23, 59, 59), datetime(2025, 1, 20)),  # Monday
        ("monthly", datetime(2025, 1, 31, 23, 59, 59), datetime(2025, 2, 1)),
    ],
)
def test_request_limit_resets_with_its_cycle(
    emu: Emu, cycle: str, last_refused: datetime, first_accepted: datetime
) -> None:
    key_id, raw = emu.create_key(request_limit={"count": 2, "cycle": cycle})
    assert [_status(emu, raw) for _ in range(3)] == [200, 200, 429]
    refused = emu.chat(raw)
    reset = first_accepted.replace(tzinfo=timezone.utc)
    assert refused.json()["error"]["code"] == "request_limit_exceeded"
    assert int(refused.headers["retry-after"]) == int((reset - START).total_seconds())
    assert reset.strftime("%Y-%m-%dT%H:%M:%SZ") in refused.json()["error"]["message"]
    emu.clock.set(last_refused.replace(tzinfo=timezone.utc))
    assert _status(emu, raw) == 429
    assert emu.chat(raw).headers["retry-after"] == "1"
    emu.clock.set(reset)
    key = emu.key(key_id)
    assert (key["current_requests"], key["total_requests"]) == (0, 2)
    assert [_status(emu, raw) for _ in range(3)] == [200, 200, 429]


def test_total_request_limit_never_resets(emu: Emu) -> None:
    _, raw = emu.create_key(request_limit={"count": 1, "cycle": "total"})
    assert _status(emu, raw) == 200
    emu.clock.advance(days=400)
    refused = emu.chat(raw)
    assert refused.status_code == 429 and "retry-after" not in refused.headers
    assert refused.headers["x-should-retry"] == "false"


def test_spend_limit_resets_daily_and_message_names_limit_and_reset(emu: Emu) -> None:
    # gpt-4o, 1 input + 64 output tokens = 0.0000025 + 0.00064 -> 0.000643 (rounded)
    key_id, raw = emu.create_key(spend_limit={"amount": "0.01", "cycle": "daily"})
    statuses = [emu.chat(raw, model="gpt-4o").status_code for _ in range(16)]
    assert statuses == [200] * 15 + [402]
    key = emu.key(key_id)
    assert Decimal(key["current_spend"]) == 15 * Decimal("0.000643") <= Decimal("0.01")
    refused = emu.chat(raw, model="gpt-4o").json()["error"]
    assert refused["code"] == "spend_limit_exceeded"
    assert "$0.01" in refused["message"] and "2025-01-16T00:00:00Z" in refused["message"]
    # a cheaper request that still fits is accepted: the rule is current + cost <= limit
    assert emu.chat(raw, model="gpt-4o-mini", max_tokens=1).status_code == 200
    emu.clock.advance(hours=12)
    assert emu.chat(raw, model="gpt-4o").status_code == 200
    assert emu.key(key_id)["current_spend"] == "0.000643"


def test_rate_limit_bucket_refills_at_rpm(emu: Emu) -> None:
    _, raw = emu.create_key(rate_limit={"rpm": 30, "burst": 3})
    assert [_status(emu, raw) for _ in range(4)] == [200, 200, 200, 429]
    assert emu.chat(raw).headers["retry-after"] == "2"  # 30 rpm: a token every 2 s
    emu.clock.advance(seconds=2)
    assert [_status(emu, raw) for _ in range(2)] == [200, 429]
    emu.clock.advance(minutes=10)  # refills to the burst, never beyond
    assert [_status(emu, raw) for _ in range(4)] == [200, 200, 200, 429]


def test_rate_limit_without_burst_holds_rpm(emu: Emu) -> None:
    _, raw = emu.create_key(rate_limit={"rpm": 2})
    assert [_status(emu, raw) for _ in range(3)] == [200, 200, 429]


def test_checks_run_in_the_documented_order(emu: Emu) -> None:
    key_id, raw = emu.create_key(
        request_shape="anthropic",
        allowed_models=["claude-haiku-4-5"],
        request_limit={"count": 1, "cycle": "total"},
    )
    # wrong shape (403) beats an invalid body (400) and a disallowed model
    assert emu.chat(raw, messages="nope").status_code == 403
    emu.update(key_id, status="paused")  # 401 beats everything
    assert emu.chat(raw, messages="nope").status_code == 401
    emu.update(key_id, status="active", request_shape="openai")
    assert emu.chat(raw, messages="nope").status_code == 400
    assert emu.chat(raw, model="gpt-7").status_code == 404
    assert emu.chat(raw, model="gpt-4o").status_code == 403  # not allowed, limit untouched
    assert emu.chat(raw, model="claude-haiku-4-5").status_code == 200
    assert emu.chat(raw, model="claude-haiku-4-5").status_code == 429


def test_pause_then_resume(emu: Emu) -> None:
    key_id, raw = emu.create_key()
    assert _status(emu, raw) == 200
    emu.update(key_id, status="paused")
    paused = emu.chat(raw)
    assert paused.status_code == 401 and "paused" in paused.json()["error"]["message"]
    emu.update(key_id, status="active")
    assert _status(emu, raw) == 200
    assert emu.key(key_id)["total_requests"] == 2


def test_expiry(emu: Emu) -> None:
    _, raw = emu.create_key(expires_at="2025-01-15T13:00:00Z")
    assert _status(emu, raw) == 200
    emu.clock.advance(hours=1)
    expired = emu.chat(raw)
    assert expired.status_code == 401 and "expired" in expired.json()["error"]["message"]


@pytest.mark.slow
def test_rotate_kills_the_old_key_mid_use_and_keeps_usage(emu: Emu) -> None:
    key_id, old = emu.create_key(request_limit={"count": 3, "cycle": "daily"})
    assert _status(emu, old) == 200
    with emu.openai(old) as client:  # a client in the middle of its work
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "a"}]
        )
        rotated = emu.http.post(f"/v1/spend_keys/{key_id}/rotate").json()
        assert _status(emu, old) == 401
    new = rotated["key"]
    assert [_status(emu, new) for _ in range(2)] == [200, 429]  # the limit counts old use
    assert emu.key(key_id)["total_requests"] == 3


def test_revoked_key_is_refused(emu: Emu) -> None:
    key_id, raw = emu.create_key()
    assert emu.http.delete(f"/v1/spend_keys/{key_id}").status_code == 200
    assert _status(emu, raw) == 401


def _hammer(
    emu: Emu, raw: str, clients: int, per_client: int, body: dict[str, object]
) -> list[int]:
    """`clients` threads, released together, each sending `per_client` requests."""
    statuses: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def run() -> None:
        with httpx.Client(timeout=30, headers={"authorization": f"Bearer {raw}"}) as http:
            barrier.wait()
            for _ in range(per_client):
                code = http.post(emu.root + "/v1/chat/completions", json=body).status_code
                with lock:
                    statuses.append(code)

    threads = [threading.Thread(target=run) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


@pytest.mark.slow
def test_fifty_concurrent_clients_never_overshoot_the_spend_limit(emu: Emu) -> None:
    # claude-opus-4-6: 9,995 input tokens * $5/1M + 1 output * $25/1M = exactly $0.05
    key_id, raw = emu.create_key(spend_limit={"amount": "1.00", "cycle": "monthly"})
    body = {
        "model": "claude-opus-4-6",
        "max_tokens": 1,
        "messages": [{"role": "user", "content": "lava " * 9_995}],
    }
    statuses = _hammer(emu, raw, clients=50, per_client=2, body=body)
    assert statuses.count(200) == 20
    assert statuses.count(402) == 80
    key = emu.key(key_id)
    assert key["current_spend"] == "1.00" and key["total_requests"] == 20


@pytest.mark.slow
def test_fifty_concurrent_clients_never_overshoot_the_request_limit(emu: Emu) -> None:
    key_id, raw = emu.create_key(request_limit={"count": 17, "cycle": "daily"})
    body = {"model": "gpt-4o-mini", "max_tokens": 1, "messages": [{"role": "user", "content": "x"}]}
    statuses = _hammer(emu, raw, clients=50, per_client=1, body=body)
    assert statuses.count(200) == 17 and statuses.count(429) == 33
    assert emu.key(key_id)["current_requests"] == 17


def test_requests_recorded_outside_the_gateway_still_count(emu: Emu) -> None:
    """The ledger's running usage must notice rows it did not write."""
    key_id, raw = emu.create_key(request_limit={"count": 3, "cycle": "daily"})
    assert _status(emu, raw) == 200  # warms the ledger's cache for this key
    store = emu.handle.store
    row = store.get_key(emu.key(key_id)["wallet_id"], key_id)
    assert row is not None
    store.record_request(
        row,
        provider="openai",
        model="gpt-4o",
        endpoint="/v1/chat/completions",
        input_tokens=1,
        output_tokens=1,
        cost=Decimal("0.000013"),
        created_at=START,
    )
    assert [_status(emu, raw) for _ in range(2)] == [200, 429]
