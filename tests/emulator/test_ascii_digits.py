"""Numbers on the wire are written with 0-9 only.

Python's `\\d`, `int()`, `Decimal()` and `strptime` all accept other scripts' digits
(`١٠٠` is 100, `２０２６` is 2026), so an emulator that relied on them took
`"amount": "١٠٠"` as a $100 limit. Every such value is a 400 naming the field.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from lava_cli.emulator.faults import parse_fault

ARABIC_100 = "\u0661\u0660\u0660"  # ١٠٠
FULLWIDTH_10 = "\uff11\uff10"  # １０
FULLWIDTH_2026 = "\uff12\uff10\uff12\uff16"  # ２０２６


def _refused(r: httpx.Response, field: str) -> None:
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["message"].startswith(field), error["message"]


@pytest.mark.parametrize(
    "amount",
    [ARABIC_100, FULLWIDTH_10, f"{FULLWIDTH_10}.00", "5.\u0665\u0660", "\u0967\u0966"],
)
def test_amounts_with_other_digits_are_400(api: httpx.Client, amount: str) -> None:
    body: dict[str, Any] = {"name": "k", "spend_limit": {"amount": amount, "cycle": "daily"}}
    _refused(api.post("/spend_keys", json=body), "spend_limit.amount")
    assert api.get("/spend_keys").json()["data"] == []  # nothing was created
    key = api.post("/spend_keys", json={"name": "k"}).json()
    r = api.put(f"/spend_keys/{key['spend_key_id']}", json={"spend_limit": body["spend_limit"]})
    _refused(r, "spend_limit.amount")
    assert api.get(f"/spend_keys/{key['spend_key_id']}").json()["spend_limit"] is None


def test_expiry_with_other_digits_is_400(api: httpx.Client) -> None:
    body = {"name": "k", "expires_at": f"{FULLWIDTH_2026}-01-01T00:00:00Z"}
    _refused(api.post("/spend_keys", json=body), "expires_at")


@pytest.mark.parametrize("param", ["start", "end"])
@pytest.mark.parametrize(
    "value", [f"{FULLWIDTH_2026}-01-01", "2026-01-0\u0661", f"{FULLWIDTH_2026}-01-01T00:00:00Z"]
)
def test_usage_dates_with_other_digits_are_400(api: httpx.Client, param: str, value: str) -> None:
    _refused(api.get("/usage", params={param: value}), param)


def _cursor(created_at: str, row_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([created_at, row_id]).encode()).decode()


@pytest.mark.parametrize("path", ["/spend_keys", "/requests"])
def test_cursors_with_other_digits_are_400(api: httpx.Client, path: str) -> None:
    forged = _cursor(f"{FULLWIDTH_2026}-01-01T00:00:00.000000Z", "sk_" + "a" * 24)
    _refused(api.get(path, params={"cursor": forged}), "cursor")


@pytest.mark.parametrize("path", ["/spend_keys", "/requests"])
def test_limits_with_other_digits_are_400(api: httpx.Client, path: str) -> None:
    _refused(api.get(path, params={"limit": FULLWIDTH_10}), "limit")


def test_fault_rates_take_ascii_digits_only() -> None:
    assert parse_fault("500:0.5").rate == 0.5
    with pytest.raises(ValueError, match="not a number"):
        parse_fault("500:\uff10.\uff15")  # ０.５
