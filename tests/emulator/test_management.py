"""The spend-key management endpoints over real HTTP: shapes, status codes, paging,
the 10-key cap, rotate/revoke semantics, wallet isolation and the older alias paths.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import httpx
import pytest

from lava_cli.emulator.server import EmulatorHandle
from tests.helpers.clock import FakeClock

KEY_FIELDS = {
    "spend_key_id", "key_preview", "name", "status", "request_shape", "wallet_id",
    "allowed_models", "allowed_providers", "spend_limit", "current_spend", "total_spend",
    "request_limit", "current_requests", "total_requests", "rate_limit", "expires_at",
    "last_used_at", "created_at",
}  # fmt: skip
INVALID_KEY = {"error": {"message": "Invalid API key", "code": "invalid_api_key"}}
FULL = {
    "name": "agent",
    "status": "paused",
    "request_shape": "anthropic",
    "allowed_models": ["gpt-4o-mini", "claude-haiku-4-5"],
    "allowed_providers": ["openai", "anthropic"],
    "spend_limit": {"amount": "5.5", "cycle": "monthly"},
    "request_limit": {"count": 100, "cycle": "daily"},
    "rate_limit": {"rpm": 60, "burst": 10},
    "expires_at": "2030-01-31T12:00:00+01:00",
}


def create(api: httpx.Client, name: str = "k", **fields: object) -> dict[str, object]:
    r = api.post("/spend_keys", json={"name": name, **fields})
    assert r.status_code == 201, r.text
    body: dict[str, object] = r.json()
    return body


def error_code(r: httpx.Response) -> str:
    code: str = r.json()["error"]["code"]
    return code


def test_create_returns_the_contract_shape_with_the_raw_key_once(
    api: httpx.Client, emu: EmulatorHandle
) -> None:
    key = create(api, "first")
    assert set(key) == KEY_FIELDS | {"key"}
    raw = str(key["key"])
    assert re.fullmatch(r"lava_sk_[A-Za-z0-9_-]{40}", raw)
    assert re.fullmatch(r"sk_[A-Za-z0-9]{24}", str(key["spend_key_id"]))
    assert key["key_preview"] == raw[:16] + "****"
    wallet = emu.store.wallet_for_secret(emu.secrets[0])
    assert wallet is not None and key["wallet_id"] == wallet.wallet_id
    varying = ("key", "spend_key_id", "key_preview", "wallet_id", "created_at")
    assert {k: v for k, v in key.items() if k not in varying} == {
        "name": "first", "status": "active", "request_shape": "openai",
        "allowed_models": None, "allowed_providers": None, "spend_limit": None,
        "current_spend": "0.00", "total_spend": "0.00", "request_limit": None,
        "current_requests": 0, "total_requests": 0, "rate_limit": None,
        "expires_at": None, "last_used_at": None,
    }  # fmt: skip
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", str(key["created_at"]))
    # Only a hash is stored: the raw key is nowhere in the database file.
    assert emu.store.key_for_raw(raw) is not None
    got = api.get(f"/spend_keys/{key['spend_key_id']}")
    assert got.status_code == 200
    assert "key" not in got.json()
    assert "key" not in api.get("/spend_keys").json()["data"][0]


def test_create_with_every_field(api: httpx.Client) -> None:
    key = create(api, **{k: v for k, v in FULL.items() if k != "name"}, name="agent")
    assert key["status"] == "paused"
    assert key["request_shape"] == "anthropic"
    assert key["allowed_models"] == ["gpt-4o-mini", "claude-haiku-4-5"]
    assert key["allowed_providers"] == ["openai", "anthropic"]
    assert key["spend_limit"] == {"amount": "5.50", "cycle": "monthly"}
    assert key["request_limit"] == {"count": 100, "cycle": "daily"}
    assert key["rate_limit"] == {"rpm": 60, "burst": 10}
    assert key["expires_at"] == "2030-01-31T11:00:00Z"


def test_rate_limit_burst_may_be_absent_or_null(api: httpx.Client) -> None:
    assert create(api, rate_limit={"rpm": 5})["rate_limit"] == {"rpm": 5, "burst": None}
    assert create(api, rate_limit={"rpm": 5, "burst": None})["rate_limit"]["burst"] is None  # type: ignore[index]


def test_update_is_partial_and_null_clears(api: httpx.Client) -> None:
    key = create(api, **{k: v for k, v in FULL.items() if k != "name"}, name="agent")
    url = f"/spend_keys/{key['spend_key_id']}"
    r = api.put(url, json={"status": "active"})
    assert r.status_code == 200
    after = r.json()
    assert after["status"] == "active"
    assert {k: v for k, v in after.items() if k != "status"} == {
        k: v for k, v in key.items() if k not in ("status", "key")
    }
    cleared = api.put(
        url,
        json={
            "allowed_models": None, "allowed_providers": None, "spend_limit": None,
            "request_limit": None, "rate_limit": None, "expires_at": None,
        },
    ).json()  # fmt: skip
    for field in (
        "allowed_models", "allowed_providers", "spend_limit", "request_limit",
        "rate_limit", "expires_at",
    ):  # fmt: skip
        assert cleared[field] is None, field
    assert cleared["name"] == "agent"
    renamed = api.put(url, json={"name": "renamed", "request_shape": "openai"}).json()
    assert (renamed["name"], renamed["request_shape"]) == ("renamed", "openai")
    assert api.put(url, json={}).json()["name"] == "renamed"
    assert api.get(url).json()["name"] == "renamed"


def test_pause_and_resume(api: httpx.Client) -> None:
    key_id = create(api)["spend_key_id"]
    assert api.put(f"/spend_keys/{key_id}", json={"status": "paused"}).json()["status"] == "paused"
    assert api.get(f"/spend_keys/{key_id}").json()["status"] == "paused"
    assert api.put(f"/spend_keys/{key_id}", json={"status": "active"}).json()["status"] == "active"


def test_rotate_kills_the_old_key_and_keeps_settings_and_usage(
    api: httpx.Client, emu: EmulatorHandle
) -> None:
    key = create(api, spend_limit={"amount": "2", "cycle": "total"})
    old_raw = str(key["key"])
    row = emu.store.key_for_raw(old_raw)
    assert row is not None
    emu.store.record_request(
        row, provider="openai", model="gpt-4o", endpoint="/v1/chat/completions",
        input_tokens=10, output_tokens=20, cost=Decimal("0.25"),
    )  # fmt: skip
    r = api.post(f"/spend_keys/{key['spend_key_id']}/rotate")
    assert r.status_code == 200
    rotated = r.json()
    new_raw = rotated["key"]
    assert new_raw != old_raw
    assert rotated["key_preview"] == new_raw[:16] + "****"
    assert emu.store.key_for_raw(old_raw) is None
    new_row = emu.store.key_for_raw(new_raw)
    assert new_row is not None and new_row.spend_key_id == key["spend_key_id"]
    assert rotated["spend_limit"] == {"amount": "2.00", "cycle": "total"}
    assert (rotated["total_spend"], rotated["total_requests"]) == ("0.25", 1)
    assert "key" not in api.get(f"/spend_keys/{key['spend_key_id']}").json()


def test_revoke_is_soft_and_the_key_vanishes(api: httpx.Client, emu: EmulatorHandle) -> None:
    key = create(api)
    url = f"/spend_keys/{key['spend_key_id']}"
    r = api.delete(url)
    assert (r.status_code, r.json()) == (200, {"success": True})
    row = emu.store.key_for_raw(str(key["key"]))
    assert row is not None and row.status == "revoked" and row.revoked_at is not None
    assert api.get("/spend_keys").json()["data"] == []
    for response in (
        api.get(url),
        api.put(url, json={"name": "x"}),
        api.delete(url),
        api.post(url + "/rotate"),
    ):
        assert response.status_code == 404
        assert error_code(response) == "not_found"


def test_unknown_key_id_is_404(api: httpx.Client) -> None:
    r = api.get("/spend_keys/sk_doesnotexist000000000000")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    assert "sk_doesnotexist" in r.json()["error"]["message"]


def test_ten_key_cap_and_revoke_frees_a_slot(api: httpx.Client, api_b: httpx.Client) -> None:
    keys = [create(api, f"k{i}") for i in range(10)]
    r = api.post("/spend_keys", json={"name": "eleventh"})
    assert r.status_code == 409
    assert error_code(r) == "spend_key_limit_reached"
    create(api_b, "other wallet is not affected")
    assert api.delete(f"/spend_keys/{keys[0]['spend_key_id']}").status_code == 200
    create(api, "eleventh")
    assert api.post("/spend_keys", json={"name": "twelfth"}).status_code == 409


def test_paging_past_one_page(api: httpx.Client, clock: FakeClock) -> None:
    start = datetime(2025, 3, 1, tzinfo=timezone.utc)
    created = []
    for i in range(10):
        clock.set(start + timedelta(seconds=i))
        created.append(create(api, f"k{i}")["spend_key_id"])
    seen: list[str] = []
    pages = 0
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = api.get("/spend_keys", params=params).json()
        pages += 1
        seen += [k["spend_key_id"] for k in page["data"]]
        assert page["has_more"] == (page["next_cursor"] is not None)
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    assert pages == 4
    assert seen == created[::-1]  # newest first
    default = api.get("/spend_keys").json()
    assert (len(default["data"]), default["has_more"], default["next_cursor"]) == (10, False, None)
    assert len(api.get("/spend_keys", params={"limit": 100}).json()["data"]) == 10


def test_paging_breaks_created_at_ties_by_id(api: httpx.Client, clock: FakeClock) -> None:
    clock.set(datetime(2025, 3, 1, tzinfo=timezone.utc))
    created = [str(create(api, f"k{i}")["spend_key_id"]) for i in range(5)]
    first = api.get("/spend_keys", params={"limit": 2}).json()
    rest = api.get("/spend_keys", params={"limit": 3, "cursor": first["next_cursor"]}).json()
    ids = [k["spend_key_id"] for k in first["data"] + rest["data"]]
    assert ids == sorted(created, reverse=True)
    assert rest["has_more"] is False


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "1.5", "١"])
def test_bad_page_limit_is_400(api: httpx.Client, limit: str) -> None:
    r = api.get("/spend_keys", params={"limit": limit})
    assert r.status_code == 400
    assert error_code(r) == "invalid_request"
    assert "limit" in r.json()["error"]["message"]


@pytest.mark.parametrize("cursor", ["garbage", "!!!", "W10", "WyJ4IiwgMV0"])
def test_bad_cursor_is_400(api: httpx.Client, cursor: str) -> None:
    r = api.get("/spend_keys", params={"cursor": cursor})
    assert r.status_code == 400
    assert "cursor" in r.json()["error"]["message"]


ENDPOINTS = [
    ("POST", "/spend_keys"),
    ("GET", "/spend_keys"),
    ("GET", "/spend_keys/sk_x"),
    ("PUT", "/spend_keys/sk_x"),
    ("DELETE", "/spend_keys/sk_x"),
    ("POST", "/spend_keys/sk_x/rotate"),
    ("GET", "/wallet"),
    ("POST", "/manage/spend_keys"),
    ("GET", "/manage/spend_keys"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize(
    "auth",
    [None, "Bearer", "Bearer aks_test_" + "Z" * 32, "Basic aks_test_" + "A" * 32, "aks_test_x"],
)
def test_management_needs_a_known_secret(
    anon: httpx.Client, method: str, path: str, auth: str | None
) -> None:
    headers = {"Authorization": auth} if auth else {}
    r = anon.request(method, path, headers=headers, json={"name": "x"})
    assert r.status_code == 401
    assert r.json() == INVALID_KEY


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_spend_key_on_management_is_403(
    api: httpx.Client, anon: httpx.Client, method: str, path: str
) -> None:
    raw = create(api)["key"]
    r = anon.request(method, path, headers={"Authorization": f"Bearer {raw}"}, json={"name": "x"})
    assert r.status_code == 403
    assert error_code(r) == "wrong_key_type"


def test_wallets_are_isolated(api: httpx.Client, api_b: httpx.Client) -> None:
    key = create(api, "mine")
    url = f"/spend_keys/{key['spend_key_id']}"
    assert api_b.get("/spend_keys").json()["data"] == []
    for r in (
        api_b.get(url),
        api_b.put(url, json={"name": "stolen"}),
        api_b.delete(url),
        api_b.post(url + "/rotate"),
        api_b.get("/manage" + url),
    ):
        assert r.status_code == 404, r.request
        assert error_code(r) == "not_found"
    after = api.get(url).json()
    assert (after["name"], after["status"], after["key_preview"]) == (
        "mine", "active", key["key_preview"],
    )  # fmt: skip
    b_key = create(api_b, "theirs")
    assert [k["spend_key_id"] for k in api.get("/spend_keys").json()["data"]] == [
        key["spend_key_id"]
    ]
    assert b_key["wallet_id"] != key["wallet_id"]


def test_manage_alias_paths(api: httpx.Client, emu: EmulatorHandle) -> None:
    r = api.post("/manage/spend_keys", json={"name": "old-path"})
    assert r.status_code == 201
    key = r.json()
    url = f"/manage/spend_keys/{key['spend_key_id']}"
    assert api.get("/manage/spend_keys").json()["data"][0]["spend_key_id"] == key["spend_key_id"]
    assert api.get(url).json()["name"] == "old-path"
    assert api.put(url, json={"status": "paused"}).json()["status"] == "paused"
    rotated = api.post(url + "/rotate").json()
    assert emu.store.key_for_raw(key["key"]) is None and rotated["key"] != key["key"]
    assert api.delete(url).json() == {"success": True}
    assert api.get(f"/spend_keys/{key['spend_key_id']}").status_code == 404


def test_unknown_route_and_wrong_method_answer_json(api: httpx.Client) -> None:
    r = api.get("/nothing/here")
    assert (r.status_code, error_code(r)) == (404, "not_found")
    assert r.headers["content-type"] == "application/json"
    r = api.delete("/spend_keys")
    assert (r.status_code, error_code(r)) == (405, "method_not_allowed")
    assert set(r.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    r = api.patch("/spend_keys/sk_x", json={})
    assert r.status_code == 405
    assert r.json()["error"]["code"] == "method_not_allowed"


def test_wallet_balance_falls_with_spend(api: httpx.Client, emu: EmulatorHandle) -> None:
    wallet = api.get("/wallet").json()
    assert wallet == {"wallet_id": wallet["wallet_id"], "balance": "100.00"}
    key = create(api)
    row = emu.store.key_for_raw(str(key["key"]))
    assert row is not None
    for cost in ("0.000123", "1.5"):
        emu.store.record_request(
            row, provider="openai", model="gpt-4o", endpoint="/v1/chat/completions",
            input_tokens=1, output_tokens=1, cost=Decimal(cost),
        )  # fmt: skip
    assert api.get("/wallet").json()["balance"] == "98.499877"
    api.delete(f"/spend_keys/{key['spend_key_id']}")
    assert api.get("/wallet").json()["balance"] == "98.499877"  # revoking refunds nothing


def test_usage_is_derived_per_cycle(
    api: httpx.Client, emu: EmulatorHandle, clock: FakeClock
) -> None:
    clock.set(datetime(2025, 1, 31, 23, 0, tzinfo=timezone.utc))  # a Friday
    key = create(
        api,
        spend_limit={"amount": "10", "cycle": "monthly"},
        request_limit={"count": 5, "cycle": "daily"},
    )
    row = emu.store.key_for_raw(str(key["key"]))
    assert row is not None

    def charge(cost: str) -> None:
        emu.store.record_request(
            row, provider="openai", model="gpt-4o-mini", endpoint="/v1/chat/completions",
            input_tokens=3, output_tokens=7, cost=Decimal(cost),
        )  # fmt: skip

    charge("0.10")
    charge("0.05")
    url = f"/spend_keys/{key['spend_key_id']}"
    now = api.get(url).json()
    assert (now["current_spend"], now["total_spend"]) == ("0.15", "0.15")
    assert (now["current_requests"], now["total_requests"]) == (2, 2)
    assert now["last_used_at"] == "2025-01-31T23:00:00Z"
    clock.set(datetime(2025, 2, 1, 0, 30, tzinfo=timezone.utc))  # new day and new month
    charge("0.01")
    later = api.get(url).json()
    assert (later["current_spend"], later["total_spend"]) == ("0.01", "0.16")
    assert (later["current_requests"], later["total_requests"]) == (1, 3)
    assert later["last_used_at"] == "2025-02-01T00:30:00Z"
    # Changing the cycle re-derives: a total request limit counts everything.
    moved = api.put(url, json={"request_limit": {"count": 5, "cycle": "total"}}).json()
    assert moved["current_requests"] == 3
    plain = api.put(url, json={"spend_limit": None}).json()
    assert plain["current_spend"] == plain["total_spend"] == "0.16"
