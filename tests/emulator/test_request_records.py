"""Request records as the SDK's RestRequest: every field and enum, the call's metadata,
customer and meter, the filters of /v1/requests and /v1/usage, and GET /v1/requests/{id}.

The official Node SDK cannot run here, so the shapes are held twice: by the OpenAPI
document's `RestRequest` schema (every answer is validated against it) and by explicit
field-for-field expectations.
"""

# The `emu` fixture is imported from tests/helpers/gateway.py; parameters naming it are
# how pytest injects it, not redefinitions.
# ruff: noqa: F811

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import jsonschema_rs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lava_cli.emulator import contract
from lava_cli.emulator.catalogue import MODELS, part_cost, price
from lava_cli.emulator.ids import new_test_secret
from lava_cli.emulator.openapi import build_document
from lava_cli.emulator.records import REQUEST_FIELDS, USAGE_FIELDS
from tests.helpers.fuzz import fuzz_settings
from tests.helpers.gateway import Emu, _session_emulator, emu  # noqa: F401

HI = [{"role": "user", "content": "hi"}]


def _schema(name: str) -> Any:
    document = build_document()
    schema = {**document["components"]["schemas"][name]}
    schema["components"] = document["components"]  # for the $refs inside
    return jsonschema_rs.validator_for(schema)


RECORD = _schema("RestRequest")


def records(emu: Emu, **params: str) -> list[dict[str, Any]]:
    answer = emu.http.get("/v1/requests", params={"limit": "100", **params})
    assert answer.status_code == 200, answer.text
    data: list[dict[str, Any]] = answer.json()["data"]
    for record in data:
        RECORD.validate(record)
    return data


def chat(emu: Emu, raw: str, headers: dict[str, str] | None = None, **body: Any) -> httpx.Response:
    payload = {"model": "gpt-4o-mini", "messages": HI, **body}
    return httpx.post(
        emu.root + "/v1/chat/completions",
        json=payload,
        headers={"authorization": f"Bearer {raw}", **(headers or {})},
        timeout=10,
    )


# --- the enums are the SDK's -----------------------------------------------------------


def test_the_enums_are_the_sdks_and_the_document_lists_them() -> None:
    """SDK 11.2: status pending|completed|error, provider_key_type
    managed|unmanaged|stored, rate_type fixed|percentage, tier type
    tokens_1m|characters_1m|minutes|requests."""
    assert contract.REQUEST_STATUSES == ("pending", "completed", "error")
    assert contract.PROVIDER_KEY_TYPES == ("managed", "unmanaged", "stored")
    assert contract.RATE_TYPES == ("fixed", "percentage")
    assert contract.TIER_TYPES == ("tokens_1m", "characters_1m", "minutes", "requests")
    schema = build_document()["components"]["schemas"]["RestRequest"]
    props = schema["properties"]
    assert schema["required"] == list(REQUEST_FIELDS) == list(props)
    assert schema["additionalProperties"] is False
    assert props["status"]["enum"] == ["pending", "completed", "error"]
    assert props["provider_key_type"]["enum"] == ["managed", "unmanaged", "stored"]
    assert props["charge"]["properties"]["rate_type"]["enum"] == ["fixed", "percentage"]
    tier = props["charge"]["properties"]["breakdown"]["items"]["properties"]["tier"]
    assert tier["properties"]["type"]["enum"] == list(contract.TIER_TYPES)
    assert props["model_usage"]["required"] == list(USAGE_FIELDS)


# --- one record, field for field -------------------------------------------------------


def test_a_record_has_every_field_of_the_sdks_rest_request(emu: Emu) -> None:
    key_id, raw = emu.create_key()
    emu.clock.advance(seconds=3)
    answer = chat(
        emu,
        raw,
        {
            "x-lava-customer-id": "con_42",
            "x-lava-meter-id": "prd_chat",
            "X-Lava-Metadata-Feature": "chat",
        },
        model="gpt-4o",
        max_tokens=10,
        metadata={"session": "s-1"},
    )
    assert answer.status_code == 200, answer.text
    request_id = answer.headers["x-lava-request-id"]
    [record] = records(emu)
    # gpt-4o: 1 token in at $2.50/1M = 0.0000025 -> 0.000003; 10 out at $10/1M = 0.0001
    assert record == {
        "request_id": request_id,
        "status": "completed",
        "customer_id": "con_42",
        "meter_id": "prd_chat",
        "provider": "openai",
        "provider_key_type": "managed",
        "model": "gpt-4o",
        "endpoint": "/v1/chat/completions",
        "response_id": answer.json()["id"],
        "model_usage": {
            "input_tokens": 1,
            "output_tokens": 10,
            "total_tokens": 11,
            "input_characters": 0,
            "output_characters": 0,
            "total_characters": 0,
            "input_seconds": 0,
            "output_seconds": 0,
            "total_seconds": 0,
            "input_cost": "0.000003",
            "output_cost": "0.0001",
            "total_cost": "0.000103",
        },
        "cost": "0.000103",
        "charge": {
            "amount": "0.000103",
            "rate_type": "fixed",
            "breakdown": [
                {
                    "tier": {"start": 0, "rate": "2.50", "type": "tokens_1m"},
                    "tokens": 1,
                    "characters": 0,
                    "seconds": 0,
                    "cost": "0.000003",
                },
                {
                    "tier": {"start": 0, "rate": "10.00", "type": "tokens_1m"},
                    "tokens": 10,
                    "characters": 0,
                    "seconds": 0,
                    "cost": "0.0001",
                },
            ],
        },
        "metadata": {"session": "s-1", "feature": "chat"},
        "timestamp": "2025-01-15T12:00:03Z",
        "created_at": "2025-01-15T12:00:03Z",
        "spend_key_id": key_id,
    }
    assert record["response_id"].startswith("chatcmpl-")
    assert Decimal(emu.key(key_id)["total_spend"]) == Decimal(record["cost"])


def test_get_one_record_matches_the_list_and_hides_other_wallets(emu: Emu) -> None:
    _, raw = emu.create_key()
    request_id = chat(emu, raw).headers["x-lava-request-id"]
    one = emu.http.get(f"/v1/requests/{request_id}")
    assert one.status_code == 200
    RECORD.validate(one.json())
    assert one.json() == records(emu)[0]
    unknown = emu.http.get("/v1/requests/req_" + "x" * 24)
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"
    other = new_test_secret()
    emu.handle.store.create_wallet(other)
    theirs = emu.http.get(
        f"/v1/requests/{request_id}", headers={"authorization": f"Bearer {other}"}
    )
    assert theirs.status_code == 404 and theirs.json() == {
        "error": {"message": f"No such request: {request_id}", "code": "not_found"}
    }
    anon = httpx.get(emu.root + f"/v1/requests/{request_id}")
    assert anon.status_code == 401
    spend = httpx.get(
        emu.root + f"/v1/requests/{request_id}", headers={"authorization": f"Bearer {raw}"}
    )
    assert spend.status_code == 403 and spend.json()["error"]["code"] == "wrong_key_type"


@fuzz_settings(100)
@given(
    model=st.sampled_from(MODELS),
    input_tokens=st.integers(0, 3_000_000),
    output_tokens=st.integers(0, 3_000_000),
)
def test_the_cost_parts_add_up_exactly(model: Any, input_tokens: int, output_tokens: int) -> None:
    """input_cost + output_cost == total_cost, each part the rounded price of its tokens."""
    costs = price(model, input_tokens, output_tokens)
    assert costs.input_cost == part_cost(input_tokens, model.input_price)
    assert costs.output_cost == part_cost(output_tokens, model.output_price)
    assert costs.input_cost + costs.output_cost == costs.total
    exact = (input_tokens * model.input_price + output_tokens * model.output_price) / 10**6
    assert abs(costs.total - exact) <= Decimal("0.000001")


def test_records_of_many_calls_add_up(emu: Emu) -> None:
    _, raw = emu.create_key()
    _, anthropic_raw = emu.create_key(request_shape="anthropic")
    for n, model in enumerate(("gpt-4o", "gpt-4o-mini", "claude-opus-4-6", "deepseek-chat")):
        assert chat(emu, raw, model=model, max_tokens=n + 7).status_code == 200
    answer = httpx.post(
        emu.root + "/v1/messages",
        json={"model": "claude-haiku-4-5", "max_tokens": 9, "messages": HI},
        headers={"x-api-key": anthropic_raw},
    )
    assert answer.status_code == 200, answer.text
    for record in records(emu):
        usage = record["model_usage"]
        parts = [Decimal(t["cost"]) for t in record["charge"]["breakdown"]]
        assert Decimal(usage["input_cost"]) + Decimal(usage["output_cost"]) == Decimal(
            usage["total_cost"]
        )
        assert parts == [Decimal(usage["input_cost"]), Decimal(usage["output_cost"])]
        assert record["charge"]["amount"] == record["cost"] == usage["total_cost"]
        tiers = record["charge"]["breakdown"]
        assert [t["tokens"] for t in tiers] == [usage["input_tokens"], usage["output_tokens"]]
        for tier in tiers:  # each part is its tokens at its rate
            assert Decimal(tier["cost"]) == part_cost(tier["tokens"], Decimal(tier["tier"]["rate"]))


def test_a_record_written_without_its_parts_still_adds_up(emu: Emu) -> None:
    """Rows from before the split (and direct store writes) get their parts derived."""
    _, raw = emu.create_key()
    store = emu.handle.store
    key = store.key_for_raw(raw)
    assert key is not None
    store.record_request(
        key, provider="openai", model="gpt-4o", endpoint="/v1/chat/completions",
        input_tokens=1000, output_tokens=10, cost=Decimal("0.0026"),
    )  # fmt: skip
    [record] = records(emu)
    usage = record["model_usage"]
    assert (usage["input_cost"], usage["output_cost"], usage["total_cost"]) == (
        "0.0025",
        "0.0001",
        "0.0026",
    )
    assert [t["tier"]["rate"] for t in record["charge"]["breakdown"]] == ["2.50", "10.00"]
    assert record["metadata"] == {} and record["customer_id"] is None


# --- metadata, customer and meter from the call ------------------------------------------


def test_metadata_headers_customer_and_meter_are_recorded(emu: Emu) -> None:
    _, raw = emu.create_key()
    headers = {
        "X-Lava-Metadata-User-Id": "u-7",
        "x-lava-metadata-feature": "summarise",
        "x-lava-customer-id": "con_9",
    }
    assert chat(emu, raw, headers, metadata={"feature": "chat", "team": "a"}).status_code == 200
    [record] = records(emu)
    # a header wins over a body key of the same name; header keys are lower-case
    assert record["metadata"] == {"feature": "summarise", "team": "a", "user-id": "u-7"}
    assert (record["customer_id"], record["meter_id"]) == ("con_9", None)


def test_utf8_metadata_header_values_are_kept(emu: Emu) -> None:
    _, raw = emu.create_key()
    response = httpx.post(
        emu.root + "/v1/chat/completions",
        json={"model": "gpt-4o-mini", "messages": HI},
        headers=[
            (b"authorization", f"Bearer {raw}".encode()),
            (b"x-lava-metadata-city", "Zürich".encode()),
        ],
    )
    assert response.status_code == 200, response.text
    assert records(emu)[0]["metadata"] == {"city": "Zürich"}


def test_anthropic_metadata_user_id_is_recorded(emu: Emu) -> None:
    _, raw = emu.create_key(request_shape="anthropic")
    body = {"model": "claude-haiku-4-5", "max_tokens": 3, "messages": HI}
    answer = httpx.post(
        emu.root + "/v1/messages",
        json={**body, "metadata": {"user_id": "u-1"}},
        headers={"x-api-key": raw, "x-lava-meter-id": "m-1"},
    )
    assert answer.status_code == 200, answer.text
    [record] = records(emu)
    assert record["metadata"] == {"user_id": "u-1"} and record["meter_id"] == "m-1"
    assert record["response_id"] == answer.json()["id"]


TOO_MANY = {f"k{n}": "v" for n in range(17)}


@pytest.mark.parametrize(
    ("body", "headers", "named"),
    [
        ({"metadata": "x"}, {}, "metadata"),
        ({"metadata": {"a": 1}}, {}, "metadata.a"),
        ({"metadata": TOO_MANY}, {}, "metadata"),
        ({"metadata": {"k" * 65: "v"}}, {}, "metadata"),
        ({"metadata": {"k": "v" * 513}}, {}, "metadata.k"),
        ({}, {"x-lava-metadata-" + "k" * 65: "v"}, "x-lava-metadata-"),
        ({}, {"x-lava-metadata-k": "v" * 513}, "x-lava-metadata-k"),
        ({}, {"x-lava-customer-id": "has space"}, "x-lava-customer-id"),
        ({}, {"x-lava-meter-id": "m" * 256}, "x-lava-meter-id"),
        ({"metadata": {f"b{n}": "v" for n in range(10)}},
         {f"x-lava-metadata-h{n}": "v" for n in range(7)}, "metadata"),
    ],
)  # fmt: skip
def test_malformed_tags_are_400_naming_them_and_never_recorded(
    emu: Emu, body: dict[str, Any], headers: dict[str, str], named: str
) -> None:
    key_id, raw = emu.create_key()
    answer = chat(emu, raw, headers, **body)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["code"] == "invalid_request" and error["message"].startswith(named)
    assert records(emu) == [] and emu.key(key_id)["total_requests"] == 0


def test_a_repeated_tag_header_and_a_non_utf8_value_are_400(emu: Emu) -> None:
    _, raw = emu.create_key()
    body = json.dumps({"model": "gpt-4o-mini", "messages": HI}).encode()
    base = [(b"authorization", f"Bearer {raw}".encode()), (b"content-type", b"application/json")]
    for extra, named in (
        ([(b"x-lava-customer-id", b"a"), (b"x-lava-customer-id", b"b")], "x-lava-customer-id"),
        ([(b"x-lava-metadata-k", b"1"), (b"X-Lava-Metadata-K", b"2")], "x-lava-metadata-k"),
        ([(b"x-lava-metadata-k", b"\xff\xfe")], "x-lava-metadata-k"),
    ):
        answer = httpx.post(emu.root + "/v1/chat/completions", content=body, headers=base + extra)
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["message"].startswith(named)
    assert records(emu) == []


def test_anthropic_metadata_takes_user_id_only(emu: Emu) -> None:
    _, raw = emu.create_key(request_shape="anthropic")
    body = {"model": "claude-haiku-4-5", "max_tokens": 3, "messages": HI}
    for metadata, named in (({"feature": "x"}, "metadata.feature"), ({"user_id": 5}, "metadata")):
        answer = httpx.post(
            emu.root + "/v1/messages",
            json={**body, "metadata": metadata},
            headers={"x-api-key": raw},
        )
        assert answer.status_code == 400
        assert answer.json()["error"]["message"].startswith(named)
    assert records(emu) == []


# --- filters ----------------------------------------------------------------------------


def _tagged_traffic(emu: Emu) -> dict[str, str]:
    """Five calls with different tags; the two spend key ids."""
    key_a, raw_a = emu.create_key(name="a")
    key_b, raw_b = emu.create_key(name="b")
    calls = [
        (raw_a, {"x-lava-customer-id": "c1", "x-lava-meter-id": "m1"}, {"feature": "chat"}),
        (raw_a, {"x-lava-customer-id": "c1"}, {"feature": "search", "team": "x"}),
        (raw_b, {"x-lava-customer-id": "c2", "x-lava-meter-id": "m1"}, {"feature": "chat"}),
        (raw_b, {}, {"feature": "chat", "team": "x"}),
        (raw_b, {}, {}),
    ]
    for raw, headers, metadata in calls:
        emu.clock.advance(seconds=1)
        assert chat(emu, raw, headers, metadata=metadata).status_code == 200
    return {"a": key_a, "b": key_b}


def _features(data: list[dict[str, Any]]) -> list[tuple[str | None, str | None]]:
    return [(r["customer_id"], r["metadata"].get("feature")) for r in reversed(data)]


def test_filters_are_applied_alone_and_together(emu: Emu) -> None:
    keys = _tagged_traffic(emu)
    assert len(records(emu)) == 5
    assert _features(records(emu, customer_id="c1")) == [("c1", "chat"), ("c1", "search")]
    assert _features(records(emu, meter_id="m1")) == [("c1", "chat"), ("c2", "chat")]
    chat_only = json.dumps([["feature", "chat"]])
    assert _features(records(emu, metadata_filters=chat_only)) == [
        ("c1", "chat"),
        ("c2", "chat"),
        (None, "chat"),
    ]
    both = json.dumps([["feature", "chat"], ["team", "x"]])
    assert _features(records(emu, metadata_filters=both)) == [(None, "chat")]
    assert records(emu, metadata_filters=json.dumps([["feature", "nope"]])) == []
    assert _features(
        records(emu, metadata_filters=chat_only, spend_key_id=keys["b"], meter_id="m1")
    ) == [("c2", "chat")]
    assert len(records(emu, metadata_filters="[]", customer_id="")) == 5  # empty: no filter


def test_filtered_lists_page_through_only_their_records(emu: Emu) -> None:
    _tagged_traffic(emu)
    chat_only = json.dumps([["feature", "chat"]])
    seen, cursor = [], None
    while True:
        params = {
            "limit": "1",
            "metadata_filters": chat_only,
            **({"cursor": cursor} if cursor else {}),
        }
        page = emu.http.get("/v1/requests", params=params).json()
        seen += page["data"]
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    assert [r["metadata"]["feature"] for r in seen] == ["chat"] * 3


def test_usage_takes_the_same_filters(emu: Emu) -> None:
    keys = _tagged_traffic(emu)
    window = {"start": "2025-01-15", "end": "2025-01-15"}
    everything = emu.http.get("/v1/usage", params=window).json()["totals"]
    assert everything["total_requests"] == 5
    for params, count in (
        ({"customer_id": "c1"}, 2),
        ({"meter_id": "m1"}, 2),
        ({"metadata_filters": json.dumps([["feature", "chat"]])}, 3),
        ({"metadata_filters": json.dumps([["team", "x"]]), "customer_id": "c1"}, 1),
        ({"spend_key_id": keys["a"], "meter_id": "m1"}, 1),
    ):
        totals = emu.http.get("/v1/usage", params={**window, **params}).json()["totals"]
        listed = records(emu, **params)
        assert totals["total_requests"] == len(listed) == count, params
        assert Decimal(totals["total_cost"]) == sum(Decimal(r["cost"]) for r in listed)
        assert totals["total_usage_tokens"] == sum(r["model_usage"]["total_tokens"] for r in listed)


@pytest.mark.parametrize(
    "value",
    [
        "not json",
        '{"feature": "chat"}',
        '"feature"',
        '[["feature"]]',
        '[["feature", "chat", "x"]]',
        '[["feature", 1]]',
        '[[1, "chat"]]',
        '["feature", "chat"]',
        json.dumps([["k", "v"]] * 17),
        "[" * 100 + "]" * 100,
    ],
)
@pytest.mark.parametrize("path", ["/v1/requests", "/v1/usage"])
def test_a_malformed_metadata_filter_is_400_naming_it(emu: Emu, path: str, value: str) -> None:
    answer = emu.http.get(path, params={"metadata_filters": value})
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["message"].startswith("metadata_filters:")
