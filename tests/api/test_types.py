"""The typed views of the API's answers: each reads the documented shape exactly, and
refuses any other with MalformedResponse (exit 1), never a KeyError or a wrong number."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest

from lava_cli.api.model_types import Model, Service
from lava_cli.api.types import MalformedResponse, SpendKey
from lava_cli.api.usage_types import RequestRecord, Usage, Wallet
from lava_cli.parsing import iso_utc, parse_api_time

DAY = {
    "date": "2025-01-01",
    "start": "2025-01-01T00:00:00Z",
    "end": "2025-01-02T00:00:00Z",
    "total_requests": 2,
    "total_usage_tokens": 30,
    "total_cost": "0.010",
    "total_charge": "0.010",
}
REQUEST = {
    "request_id": "req_1",
    "status": "completed",
    "provider": "openai",
    "model": "gpt-4o-mini",
    "endpoint": "/v1/chat/completions",
    "model_usage": {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3},
    "cost": "0.000123",
    "created_at": "2025-01-01T10:00:00Z",
}


def test_usage_keeps_the_apis_spelling_of_amounts_and_its_totals():
    usage = Usage.from_json(
        {"items": [DAY, {**DAY, "date": "2025-01-02"}], "totals": {**DAY, "total_cost": "0.02"}}
    )
    assert [d.date for d in usage.days] == ["2025-01-01", "2025-01-02"]
    assert usage.days[0].cost == Decimal("0.01") and usage.days[0].cost_text == "0.010"
    assert (usage.totals.requests, usage.totals.tokens, usage.totals.cost_text) == (2, 30, "0.02")


def test_usage_without_totals_sums_its_days():
    usage = Usage.from_json({"items": [DAY, {**DAY, "total_cost": "1.5"}]})
    assert usage.totals.cost == Decimal("1.510") and usage.totals.requests == 4


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"items": None},
        {"items": ["day"]},
        {"items": [{**DAY, "total_requests": "2"}]},
        {"items": [{**DAY, "total_cost": "a lot"}]},
        {"items": [{**DAY, "date": 20250101}]},
        {"items": [], "totals": "none"},
    ],
)
def test_a_usage_answer_of_another_shape_is_refused(body: Any):
    with pytest.raises(MalformedResponse):
        Usage.from_json(body)


def test_a_request_record_reads_its_cost_tokens_and_time():
    record = RequestRecord.from_json(REQUEST)
    assert record.cost == Decimal("0.000123") and record.tokens == 3
    assert record.created_at == datetime(2025, 1, 1, 10, tzinfo=timezone.utc)
    assert record.spend_key_id is None  # not in Lava's contract; the emulator adds it
    bare = RequestRecord.from_json({"request_id": "req_2"})
    assert (bare.model, bare.tokens, bare.cost, bare.created_at) == (None, 0, 0, None)


@pytest.mark.parametrize(
    "change",
    [
        {"request_id": None},
        {"model": 4},
        {"cost": "free"},
        {"model_usage": []},
        {"model_usage": {"total_tokens": "3"}},
        {"created_at": "yesterday"},
        {"created_at": "２０２５-01-01T10:00:00Z"},
    ],
)
def test_a_request_record_of_another_shape_is_refused(change: dict[str, Any]):
    with pytest.raises(MalformedResponse):
        RequestRecord.from_json({**REQUEST, **change})


def test_the_wallet_keeps_the_balance_as_sent():
    wallet = Wallet.from_json({"wallet_id": "wal_1", "balance": "99.50"})
    assert (wallet.wallet_id, wallet.balance, wallet.balance_text) == (
        "wal_1",
        Decimal("99.50"),
        "99.50",
    )
    for body in ({"balance": "1"}, {"wallet_id": "w", "balance": "lots"}, ["w"]):
        with pytest.raises(MalformedResponse):
            Wallet.from_json(body)


def test_models_and_services_read_ids_owners_and_prices():
    model = Model.from_json({"id": "gpt-4o", "object": "model", "owned_by": "openai"})
    assert (model.id, model.owned_by) == ("gpt-4o", "openai")
    assert Model.from_json({"id": "m"}).owned_by is None
    service = Service.from_json(
        {"id": "gpt-4o", "provider": "openai", "pricing": {"type": "tokens_1m", "input": 2.5}}
    )
    assert service.input_per_1m == Decimal("2.5") and service.output_per_1m is None
    assert Service.from_json({"id": "free"}).input_per_1m is None


@pytest.mark.parametrize(
    ("cls", "body"),
    [
        (Model, {"object": "model"}),
        (Model, {"id": 7}),
        (Model, "gpt-4o"),
        (Service, {"id": "m", "pricing": [1, 2]}),
        (Service, {"id": "m", "pricing": {"input": "cheap"}}),
        (Service, {"id": "m", "pricing": {"input": True}}),
        (Service, {"id": "m", "provider": ["openai"]}),
    ],
)
def test_models_and_services_of_another_shape_are_refused(cls: Any, body: Any):
    with pytest.raises(MalformedResponse):
        cls.from_json(body)


@pytest.mark.parametrize("cycle", ["yearly", "", "Daily", None])
def test_a_limit_cycle_outside_the_contract_is_refused(cycle: object):
    # The resets and forecasts are computed from the cycle: an unknown one cannot be shown.
    body = {"spend_key_id": "sk_x", "name": "x", "status": "active"}
    with pytest.raises(MalformedResponse, match="cycle"):
        SpendKey.from_json({**body, "spend_limit": {"amount": "5", "cycle": cycle}})
    with pytest.raises(MalformedResponse, match="cycle"):
        SpendKey.from_json({**body, "request_limit": {"count": 5, "cycle": cycle}})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-01-01T10:00:00Z", datetime(2025, 1, 1, 10, tzinfo=timezone.utc)),
        ("2025-01-01T10:00:00z", datetime(2025, 1, 1, 10, tzinfo=timezone.utc)),
        ("2025-01-01T11:00:00+01:00", datetime(2025, 1, 1, 10, tzinfo=timezone.utc)),
        ("2025-01-01T10:00:00", datetime(2025, 1, 1, 10, tzinfo=timezone.utc)),  # naive: UTC
        ("2025-01-01", datetime(2025, 1, 1, tzinfo=timezone.utc)),
        ("0001-01-01T00:00:00+01:00", None),  # before year 1 once in UTC
        ("２０２５-01-01T10:00:00Z", None),  # the API writes ASCII digits
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_api_times_read_as_utc_or_not_at_all(text: str | None, expected: datetime | None):
    parsed = parse_api_time(text)
    assert parsed == expected
    if parsed is not None:
        assert parsed.tzinfo is timezone.utc
        assert iso_utc(parsed) == expected.strftime("%Y-%m-%dT%H:%M:%SZ")  # type: ignore[union-attr]
