"""What the gateway records: /v1/requests paging, /v1/usage totals, key usage, wallet
balance, and the request id header on every answer."""

# The `emu` fixture is imported from tests/helpers/gateway.py; parameters naming it are
# how pytest injects it, not redefinitions.
# ruff: noqa: F811

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.helpers.gateway import Emu, _session_emulator, emu  # noqa: F401


@pytest.mark.slow
def test_request_log_pages_and_matches_request_ids(emu: Emu) -> None:
    key_a, raw_a = emu.create_key(name="a")
    key_b, raw_b = emu.create_key(name="b", request_shape="anthropic")
    ids = []
    for i in range(5):
        emu.clock.advance(seconds=1)
        ids.append(emu.chat(raw_a, model="gpt-4o", max_tokens=i + 1).headers["x-lava-request-id"])
    emu.clock.advance(seconds=1)
    response = emu.anthropic(raw_b).messages.with_raw_response.create(
        model="claude-haiku-4-5", max_tokens=3, messages=[{"role": "user", "content": "hi"}]
    )
    ids.append(response.headers["x-lava-request-id"])

    seen: list[dict[str, object]] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = emu.http.get("/v1/requests", params=params).json()
        seen += page["data"]
        if not page["has_more"]:
            assert page["next_cursor"] is None
            break
        cursor = page["next_cursor"]
    assert [r["request_id"] for r in seen] == ids[::-1]  # newest first
    newest = seen[0]
    # Every field of the SDK's RestRequest, and the emulator's own spend_key_id.
    # claude-haiku-4-5: 1 in at $1/1M = 0.000001, 3 out at $5/1M = 0.000015.
    assert newest == {
        "request_id": ids[-1],
        "status": "completed",
        "customer_id": None,
        "meter_id": None,
        "provider": "anthropic",
        "provider_key_type": "managed",
        "model": "claude-haiku-4-5",
        "endpoint": "/v1/messages",
        "response_id": response.parse().id,
        "model_usage": {
            "input_tokens": 1,
            "output_tokens": 3,
            "total_tokens": 4,
            "input_characters": 0,
            "output_characters": 0,
            "total_characters": 0,
            "input_seconds": 0,
            "output_seconds": 0,
            "total_seconds": 0,
            "input_cost": "0.000001",
            "output_cost": "0.000015",
            "total_cost": "0.000016",
        },
        "cost": "0.000016",
        "charge": {
            "amount": "0.000016",
            "rate_type": "fixed",
            "breakdown": [
                {
                    "tier": {"start": 0, "rate": "1.00", "type": "tokens_1m"},
                    "tokens": 1,
                    "characters": 0,
                    "seconds": 0,
                    "cost": "0.000001",
                },
                {
                    "tier": {"start": 0, "rate": "5.00", "type": "tokens_1m"},
                    "tokens": 3,
                    "characters": 0,
                    "seconds": 0,
                    "cost": "0.000015",
                },
            ],
        },
        "metadata": {},
        "timestamp": "2025-01-15T12:00:06Z",
        "created_at": "2025-01-15T12:00:06Z",
        "spend_key_id": key_b,
    }
    assert newest["response_id"].startswith("msg_")
    only_a = emu.http.get("/v1/requests", params={"spend_key_id": key_a, "limit": 100}).json()
    assert len(only_a["data"]) == 5
    spent_a = sum(Decimal(r["cost"]) for r in only_a["data"])  # type: ignore[misc]
    assert Decimal(emu.key(key_a)["total_spend"]) == spent_a
    assert emu.key(key_a)["last_used_at"] == "2025-01-15T12:00:05Z"


def test_bad_cursor_and_limit_are_400(emu: Emu) -> None:
    assert emu.http.get("/v1/requests", params={"cursor": "garbage"}).status_code == 400
    assert emu.http.get("/v1/requests", params={"limit": "0"}).status_code == 400
    assert emu.http.get("/v1/requests", headers={"authorization": "Bearer nope"}).status_code == 401


def test_usage_by_day_matches_requests_and_wallet_balance(emu: Emu) -> None:
    balance_before = Decimal(emu.http.get("/v1/wallet").json()["balance"])
    _, raw = emu.create_key()
    for _ in range(3):
        assert emu.chat(raw, model="gpt-4o").status_code == 200
    emu.clock.advance(days=1)
    assert emu.chat(raw, model="gpt-4.1", max_tokens=10).status_code == 200
    usage = emu.http.get("/v1/usage", params={"start": "2025-01-14", "end": "2025-01-16"}).json()
    assert [item["date"] for item in usage["items"]] == ["2025-01-14", "2025-01-15", "2025-01-16"]
    day14, day15, day16 = usage["items"]
    assert day14["total_requests"] == 0 and day14["total_cost"] == "0.00"
    assert day15["start"] == "2025-01-15T00:00:00Z" and day15["end"] == "2025-01-16T00:00:00Z"
    # gpt-4o: 1 in + 64 out = 0.000643 each
    assert (day15["total_requests"], day15["total_usage_tokens"]) == (3, 195)
    assert day15["total_cost"] == day15["total_charge"] == "0.001929"
    # gpt-4.1: 1 in * 2/1M + 10 out * 8/1M = 0.000082
    assert (day16["total_requests"], day16["total_cost"]) == (1, "0.000082")
    totals = usage["totals"]
    assert totals["total_requests"] == 4 and totals["total_cost"] == "0.002011"
    rows = emu.http.get("/v1/requests", params={"limit": 100}).json()["data"]
    assert sum(Decimal(r["cost"]) for r in rows) == Decimal(totals["total_cost"])
    balance_after = Decimal(emu.http.get("/v1/wallet").json()["balance"])
    assert balance_before - balance_after == Decimal("0.002011")


def test_usage_rejects_bad_ranges(emu: Emu) -> None:
    bad = emu.http.get("/v1/usage", params={"start": "yesterday"})
    assert bad.status_code == 400 and "start" in bad.json()["error"]["message"]
    assert (
        emu.http.get("/v1/usage", params={"start": "2025-02-01", "end": "2025-01-01"}).status_code
        == 400
    )
    default = emu.http.get("/v1/usage").json()
    assert len(default["items"]) == 31 and default["totals"]["end"] == "2025-01-15T12:00:00Z"


def test_every_gateway_answer_has_a_request_id(emu: Emu) -> None:
    _, raw = emu.create_key(allowed_models=["gpt-4o"])
    answers = [
        emu.chat(raw, model="gpt-4o"),
        emu.chat("lava_sk_wrong"),
        emu.chat(raw, model="gpt-4o-mini"),
        emu.chat(raw, messages=None),
        emu.chat(raw, model="nope"),
    ]
    assert [a.status_code for a in answers] == [200, 401, 403, 400, 404]
    ids = {a.headers["x-lava-request-id"] for a in answers}
    assert len(ids) == 5 and all(i.startswith("req_") for i in ids)
