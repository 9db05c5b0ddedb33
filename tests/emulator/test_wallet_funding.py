"""Topping up a wallet over real HTTP: the payment methods, funding with each card,
the confirmation page that completes a ``requires_action`` payment (once), amounts at
their limits, and retries that never charge twice."""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx
import jsonschema_rs
import pytest

from lava_cli.emulator.openapi import build_document
from lava_cli.emulator.server import EmulatorHandle
from tests.helpers.clock import FakeClock

CARD_FIELDS = [
    "payment_method_id", "last4", "expiry_month", "expiry_year", "brand", "is_default",
    "has_error", "error_code", "error_message", "error_at",
]  # fmt: skip


def _validator(name: str) -> Any:
    document = build_document()
    return jsonschema_rs.validator_for(
        {**document["components"]["schemas"][name], "components": document["components"]}
    )


METHODS, RESULT = _validator("PaymentMethodList"), _validator("FundResult")


def cards(api: httpx.Client) -> dict[str, dict[str, Any]]:
    """The wallet's cards by role: default, authenticate (3-D Secure), declined."""
    answer = api.get("/payment_methods")
    assert answer.status_code == 200, answer.text
    METHODS.validate(answer.json())
    data = answer.json()["data"]
    return {
        "default": next(c for c in data if c["is_default"]),
        "authenticate": next(c for c in data if not c["is_default"] and not c["has_error"]),
        "declined": next(c for c in data if c["has_error"]),
    }


def balance(api: httpx.Client) -> Decimal:
    return Decimal(api.get("/wallet").json()["balance"])


def fund(
    api: httpx.Client, card: dict[str, Any] | str, amount: Any = "25.00", **headers: str
) -> httpx.Response:
    method = card if isinstance(card, str) else card["payment_method_id"]
    return api.post(
        "/wallet/fund", json={"payment_method_id": method, "amount": amount}, headers=headers
    )


def test_payment_methods_have_every_field(api: httpx.Client, emu: EmulatorHandle) -> None:
    data = api.get("/payment_methods").json()["data"]
    assert len(data) == 3 and all(list(card) == CARD_FIELDS for card in data)
    assert sum(card["is_default"] for card in data) == 1
    by = cards(api)
    wallet = emu.store.wallet_for_secret(emu.secrets[0])
    assert wallet is not None
    began = datetime.strptime(wallet.created_at, "%Y-%m-%dT%H:%M:%S.%fZ")
    assert by["default"] == {
        "payment_method_id": by["default"]["payment_method_id"],
        "last4": "4242",
        "expiry_month": 12,
        "expiry_year": began.year + 5,
        "brand": "visa",
        "is_default": True,
        "has_error": False,
        "error_code": None,
        "error_message": None,
        "error_at": None,
    }
    assert by["authenticate"]["last4"] == "3155" and by["authenticate"]["error_at"] is None
    declined = by["declined"]
    assert (declined["last4"], declined["error_code"]) == ("0002", "card_declined")
    assert declined["error_message"] == "Your card was declined."
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", declined["error_at"])
    for card in data:
        assert re.fullmatch(r"pm_[0-9a-f]{24}", card["payment_method_id"])


def test_each_wallet_has_its_own_card_ids(api: httpx.Client, api_b: httpx.Client) -> None:
    mine = {c["payment_method_id"] for c in cards(api).values()}
    theirs = {c["payment_method_id"] for c in cards(api_b).values()}
    assert mine.isdisjoint(theirs)
    before = balance(api_b)
    for card in mine:
        answer = fund(api_b, card)
        assert answer.status_code == 404
        assert answer.json() == {
            "error": {"message": f"No such payment method: {card}", "code": "not_found"}
        }
    assert balance(api_b) == before


def test_the_default_card_completes_at_once(api: httpx.Client) -> None:
    before = balance(api)
    answer = fund(api, cards(api)["default"], "25.00")
    assert answer.status_code == 200
    RESULT.validate(answer.json())
    body = answer.json()
    assert list(body) == ["status", "payment_id", "balance"]
    assert body["status"] == "completed"
    assert re.fullmatch(r"pay_[A-Za-z0-9]{24}", body["payment_id"])
    assert Decimal(body["balance"]) == before + Decimal("25.00") == balance(api)


def test_the_authenticating_card_completes_on_the_page_once(api: httpx.Client) -> None:
    before = balance(api)
    answer = fund(api, cards(api)["authenticate"], "40.50")
    assert answer.status_code == 200
    RESULT.validate(answer.json())
    body = answer.json()
    assert list(body) == ["status", "payment_id", "redirect_url"]
    assert body["status"] == "requires_action"
    url = body["redirect_url"]
    assert url == f"{str(api.base_url).removesuffix('/v1/')}/wallet/confirm/{body['payment_id']}"
    assert balance(api) == before  # nothing until it is completed
    page = httpx.get(url)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "$40.50" in page.text and "id=complete" in page.text and "requires_action" in page.text
    done = httpx.post(url, data={"decision": "complete"})
    assert done.status_code == 200
    assert "Payment complete" in done.text and "Nothing changed" not in done.text
    assert balance(api) == before + Decimal("40.50")
    again = httpx.post(url, data={"decision": "complete"})
    assert again.status_code == 200 and "Nothing changed" in again.text
    late_fail = httpx.post(url, data={"decision": "fail"})
    assert "Payment complete" in late_fail.text and "Nothing changed" in late_fail.text
    assert balance(api) == before + Decimal("40.50")  # once, whatever is pressed after
    shown = httpx.get(url)
    assert "Payment complete" in shown.text and "id=complete" not in shown.text


def test_failing_on_the_page_leaves_the_balance_for_good(api: httpx.Client) -> None:
    before = balance(api)
    url = fund(api, cards(api)["authenticate"]).json()["redirect_url"]
    failed = httpx.post(url, data={"decision": "fail"})
    assert failed.status_code == 200 and "Payment failed" in failed.text
    assert httpx.post(url, data={"decision": "complete"}).status_code == 200
    assert balance(api) == before


def test_the_confirmation_page_refuses_nonsense(api: httpx.Client) -> None:
    url = fund(api, cards(api)["authenticate"]).json()["redirect_url"]
    root = url.split("/wallet/")[0]
    assert httpx.get(root + "/wallet/confirm/pay_" + "x" * 24).status_code == 404
    assert (
        httpx.post(root + "/wallet/confirm/nope", data={"decision": "complete"}).status_code == 404
    )
    bad = httpx.post(url, data={"decision": "maybe"})
    assert bad.status_code == 400 and "text/html" in bad.headers["content-type"]
    escaped = httpx.get(root + "/wallet/confirm/<script>")
    assert escaped.status_code == 404 and "<script>" not in escaped.text


def test_the_declined_card_is_a_402(api: httpx.Client) -> None:
    before = balance(api)
    answer = fund(api, cards(api)["declined"])
    assert answer.status_code == 402
    error = answer.json()["error"]
    assert error["code"] == "card_declined" and "0002" in error["message"]
    assert balance(api) == before


@pytest.mark.parametrize("amount", ["10.00", "10", "10.5", "9999.99", "10000", "10000.00"])
def test_amounts_at_the_limits_are_accepted(api: httpx.Client, amount: str) -> None:
    before = balance(api)
    answer = fund(api, cards(api)["default"], amount)
    assert answer.status_code == 200, answer.text
    assert balance(api) == before + Decimal(amount)


@pytest.mark.parametrize(
    "amount",
    ["9.99", "10000.01", "0", "0.00", "-25.00", "25.001", "1e3", "25.", ".5", " 25.00", "",
     "\u0662\u0665.00", "NaN", 25, 25.0, None, True, ["25.00"]],
)  # fmt: skip
def test_amounts_outside_the_range_or_form_are_400_naming_amount(
    api: httpx.Client, amount: Any
) -> None:
    before = balance(api)
    answer = fund(api, cards(api)["default"], amount)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "invalid_request"
    assert answer.json()["error"]["message"].startswith("amount:")
    assert "10.00" in answer.json()["error"]["message"]
    assert balance(api) == before


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"amount": "25.00"}, "payment_method_id"),
        ({"payment_method_id": "", "amount": "25.00"}, "payment_method_id"),
        ({"payment_method_id": 7, "amount": "25.00"}, "payment_method_id"),
        ({"payment_method_id": "pm_x", "amount": "25.00", "currency": "usd"}, "currency"),
        (["pm_x"], "body"),
    ],
)
def test_fund_bodies_are_checked_field_by_field(api: httpx.Client, body: Any, named: str) -> None:
    answer = api.post("/wallet/fund", json=body)
    assert answer.status_code == 400
    assert answer.json()["error"]["message"].startswith(named)


def test_fund_needs_the_management_secret(api: httpx.Client, anon: httpx.Client) -> None:
    card = cards(api)["default"]
    assert fund(anon, card).status_code == 401
    raw = api.post("/spend_keys", json={"name": "s"}).json()["key"]
    with httpx.Client(base_url=str(api.base_url), headers={"Authorization": f"Bearer {raw}"}) as c:
        assert fund(c, card).status_code == 403
        assert c.get("/payment_methods").status_code == 403
    assert anon.get("/payment_methods").status_code == 401


# --- retries ---------------------------------------------------------------------------


def test_a_retry_with_the_same_idempotency_key_charges_once(api: httpx.Client) -> None:
    before = balance(api)
    card = cards(api)["default"]
    first = fund(api, card, "30.00", **{"Idempotency-Key": "top-up-1"})
    second = fund(api, card, "30.00", **{"Idempotency-Key": "top-up-1"})
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()  # the first answer, replayed
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert balance(api) == before + Decimal("30.00")
    other = fund(api, card, "30.00", **{"Idempotency-Key": "top-up-2"})
    assert other.json()["payment_id"] != first.json()["payment_id"]
    assert balance(api) == before + Decimal("60.00")
    without = [fund(api, card, "10.00") for _ in range(2)]  # no key: two payments
    assert without[0].json()["payment_id"] != without[1].json()["payment_id"]
    assert balance(api) == before + Decimal("80.00")


def test_a_reused_key_with_another_body_is_422(api: httpx.Client) -> None:
    card = cards(api)["default"]
    assert fund(api, card, "30.00", **{"Idempotency-Key": "k"}).status_code == 200
    before = balance(api)
    reused = fund(api, card, "31.00", **{"Idempotency-Key": "k"})
    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    assert balance(api) == before


def test_retries_of_a_requires_action_or_declined_answer_replay_it(api: httpx.Client) -> None:
    by = cards(api)
    waiting = [fund(api, by["authenticate"], **{"Idempotency-Key": "3ds"}) for _ in range(3)]
    assert len({w.json()["payment_id"] for w in waiting}) == 1
    declined = [fund(api, by["declined"], **{"Idempotency-Key": "no"}) for _ in range(2)]
    assert [d.status_code for d in declined] == [402, 402]
    assert declined[1].headers["idempotent-replayed"] == "true"


def test_a_refused_body_is_not_kept_under_its_key(api: httpx.Client) -> None:
    card = cards(api)["default"]
    assert fund(api, card, "5.00", **{"Idempotency-Key": "fix-me"}).status_code == 400
    fixed = fund(api, card, "15.00", **{"Idempotency-Key": "fix-me"})
    assert fixed.status_code == 200 and fixed.json()["status"] == "completed"


def test_keys_are_per_wallet_and_expire_after_a_day(
    api: httpx.Client, api_b: httpx.Client, clock: FakeClock
) -> None:
    clock.set(datetime(2025, 3, 1, 12, tzinfo=timezone.utc))
    mine = fund(api, cards(api)["default"], **{"Idempotency-Key": "same"})
    theirs = fund(api_b, cards(api_b)["default"], **{"Idempotency-Key": "same"})
    assert mine.json()["payment_id"] != theirs.json()["payment_id"]
    clock.set(datetime(2025, 3, 2, 11, 59, tzinfo=timezone.utc))
    replay = fund(api, cards(api)["default"], **{"Idempotency-Key": "same"})
    assert replay.json()["payment_id"] == mine.json()["payment_id"]
    clock.set(datetime(2025, 3, 1, 12, tzinfo=timezone.utc) + timedelta(hours=24, seconds=1))
    fresh = fund(api, cards(api)["default"], **{"Idempotency-Key": "same"})
    assert fresh.json()["payment_id"] != mine.json()["payment_id"]


@pytest.mark.parametrize("key", ["", "x" * 256, "has space", "tab\there", "é"])
def test_a_malformed_idempotency_key_is_400(api: httpx.Client, key: str) -> None:
    answer = api.post(
        "/wallet/fund",
        json={"payment_method_id": cards(api)["default"]["payment_method_id"], "amount": "25"},
        headers=[("Idempotency-Key", key.encode("utf-8"))],
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["message"].startswith("Idempotency-Key")


def test_parallel_retries_with_one_key_make_one_payment(api: httpx.Client) -> None:
    before = balance(api)
    card = cards(api)["default"]
    answers: list[httpx.Response] = []
    start = threading.Barrier(8)

    def retry() -> None:
        with httpx.Client(base_url=api.base_url, headers=dict(api.headers), timeout=20) as c:
            start.wait()
            answers.append(fund(c, card, "12.34", **{"Idempotency-Key": "burst"}))

    threads = [threading.Thread(target=retry) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert [a.status_code for a in answers] == [200] * 8
    assert len({a.json()["payment_id"] for a in answers}) == 1
    assert balance(api) == before + Decimal("12.34")
