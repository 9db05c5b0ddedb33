"""Every validation rule of create/update answers 400 ``invalid_request`` naming the field,
and never a 500, whatever the body.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

OK_SPEND = {"amount": "5.00", "cycle": "daily"}

# (body fields merged into {"name": "k"}, the field the message must name)
CREATE_CASES: list[tuple[dict[str, Any], str]] = [
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "x" * 256}, "name"),
    ({"name": None}, "name"),
    ({"name": 7}, "name"),
    ({"status": "revoked"}, "status"),
    ({"status": "ACTIVE"}, "status"),
    ({"status": None}, "status"),
    ({"request_shape": "gemini"}, "request_shape"),
    ({"allowed_models": []}, "allowed_models"),
    ({"allowed_models": "gpt-4o"}, "allowed_models"),
    ({"allowed_models": ["gpt-4o", 3]}, "allowed_models"),
    ({"allowed_models": [""]}, "allowed_models"),
    ({"allowed_providers": []}, "allowed_providers"),
    ({"allowed_providers": [None]}, "allowed_providers"),
    ({"spend_limit": "5.00/daily"}, "spend_limit"),
    ({"spend_limit": {"cycle": "daily"}}, "spend_limit.amount"),
    ({"spend_limit": {"amount": 5, "cycle": "daily"}}, "spend_limit.amount"),
    ({"spend_limit": {"amount": 5.5, "cycle": "daily"}}, "spend_limit.amount"),
    ({"spend_limit": {"amount": "0", "cycle": "daily"}}, "spend_limit.amount"),
    ({"spend_limit": {"amount": "0.00", "cycle": "daily"}}, "spend_limit.amount"),
    ({"spend_limit": {"amount": "-1", "cycle": "daily"}}, "spend_limit.amount"),
    ({"spend_limit": {"amount": "1.005", "cycle": "daily"}}, "spend_limit.amount"),
    ({"spend_limit": {"amount": "1e3", "cycle": "daily"}}, "spend_limit.amount"),
    ({"spend_limit": {"amount": "NaN", "cycle": "daily"}}, "spend_limit.amount"),
    ({"spend_limit": {"amount": "abc", "cycle": "daily"}}, "spend_limit.amount"),
    ({"spend_limit": {"amount": "5", "cycle": "yearly"}}, "spend_limit.cycle"),
    ({"spend_limit": {"amount": "5"}}, "spend_limit.cycle"),
    ({"spend_limit": {**OK_SPEND, "currency": "usd"}}, "spend_limit.currency"),
    ({"request_limit": {"count": 0, "cycle": "daily"}}, "request_limit.count"),
    ({"request_limit": {"count": 5_000_001, "cycle": "daily"}}, "request_limit.count"),
    ({"request_limit": {"count": True, "cycle": "daily"}}, "request_limit.count"),
    ({"request_limit": {"count": 1.0, "cycle": "daily"}}, "request_limit.count"),
    ({"request_limit": {"count": "10", "cycle": "daily"}}, "request_limit.count"),
    ({"request_limit": {"count": 10, "cycle": "hourly"}}, "request_limit.cycle"),
    ({"request_limit": [10, "daily"]}, "request_limit"),
    ({"rate_limit": {"burst": 5}}, "rate_limit.rpm"),
    ({"rate_limit": {"rpm": 0}}, "rate_limit.rpm"),
    ({"rate_limit": {"rpm": False}}, "rate_limit.rpm"),
    ({"rate_limit": {"rpm": 5_000_001}}, "rate_limit.rpm"),
    ({"rate_limit": {"rpm": 60, "burst": 0}}, "rate_limit.burst"),
    ({"rate_limit": {"rpm": 60, "burst": True}}, "rate_limit.burst"),
    ({"rate_limit": {"rpm": 60, "burst": "10"}}, "rate_limit.burst"),
    ({"expires_at": "tomorrow"}, "expires_at"),
    ({"expires_at": "2030-13-01T00:00:00Z"}, "expires_at"),
    ({"expires_at": 1893456000}, "expires_at"),
    ({"wallet_id": "wal_x"}, "wallet_id"),
    ({"spend_limt": OK_SPEND}, "spend_limt"),
]


def _message(r: httpx.Response) -> str:
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid_request"
    message: str = error["message"]
    return message


@pytest.mark.parametrize(("fields", "field"), CREATE_CASES)
def test_create_rejects_naming_the_field(
    api: httpx.Client, fields: dict[str, Any], field: str
) -> None:
    assert _message(api.post("/spend_keys", json={"name": "k", **fields})).startswith(field)
    assert api.get("/spend_keys").json()["data"] == []


@pytest.mark.parametrize(("fields", "field"), CREATE_CASES)
def test_update_rejects_naming_the_field(
    api: httpx.Client, fields: dict[str, Any], field: str
) -> None:
    key = api.post("/spend_keys", json={"name": "k"}).json()
    r = api.put(f"/spend_keys/{key['spend_key_id']}", json=fields)
    if fields == {"name": "k"}:
        return
    assert _message(r).startswith(field)
    after = api.get(f"/spend_keys/{key['spend_key_id']}").json()
    assert {k: after[k] for k in after} == {k: v for k, v in key.items() if k != "key"}


def test_name_is_required_on_create(api: httpx.Client) -> None:
    assert _message(api.post("/spend_keys", json={})).startswith("name")
    assert _message(api.post("/spend_keys", json={"status": "active"})).startswith("name")


@pytest.mark.parametrize(
    "content", [b"", b"{", b"not json", b"\xff\xfe", b"null", b"[]", b'"name"', b"42", b"true"]
)
def test_bodies_that_are_not_a_json_object(api: httpx.Client, content: bytes) -> None:
    assert _message(api.post("/spend_keys", content=content)).startswith("body")
    key = api.post("/spend_keys", json={"name": "k"}).json()
    assert _message(api.put(f"/spend_keys/{key['spend_key_id']}", content=content)).startswith(
        "body"
    )


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"spend_limit": {"amount": "5", "cycle": "total"}}, {"amount": "5.00", "cycle": "total"}),
        (
            {"spend_limit": {"amount": "0.01", "cycle": "weekly"}},
            {"amount": "0.01", "cycle": "weekly"},
        ),
        ({"request_limit": {"count": 5_000_000, "cycle": "monthly"}}, None),
        ({"rate_limit": {"rpm": 1, "burst": 5_000_000}}, None),
        ({"allowed_models": ["a", "a", "b"]}, ["a", "b"]),
        ({"expires_at": "2030-01-01T00:00:00"}, "2030-01-01T00:00:00Z"),
        ({"expires_at": "2030-01-01T00:00:00.999Z"}, "2030-01-01T00:00:00Z"),
        ({"name": "x" * 255}, None),
    ],
)
def test_boundaries_that_are_accepted(
    api: httpx.Client, fields: dict[str, Any], expected: Any
) -> None:
    body = {"name": "k", **fields}
    r = api.post("/spend_keys", json=body)
    assert r.status_code == 201, r.text
    (field, value), *_ = fields.items()
    assert r.json()[field] == (value if expected is None else expected)


# --- one reading of the contract: the checks and the OpenAPI document agree ----------

# Bodies on both sides of every limit the contract sets (contract.py), merged into
# {"name": "k"}; the emulator's verdict (201 or 400) must be the document's.
EDGE_BODIES: list[dict[str, Any]] = [
    {"name": "x" * 255},
    {"name": "x" * 256},
    {"allowed_models": ["m"] * 100},
    {"allowed_models": [f"m{n}" for n in range(101)]},
    {"allowed_providers": ["p" * 255]},
    {"allowed_providers": ["p" * 256]},
    {"request_limit": {"count": 5_000_000, "cycle": "total"}},
    {"request_limit": {"count": 5_000_001, "cycle": "total"}},
    {"rate_limit": {"rpm": 5_000_000}},
    {"rate_limit": {"rpm": 5_000_001}},
    {"rate_limit": {"rpm": 1, "burst": 5_000_000}},
    {"rate_limit": {"rpm": 1, "burst": 5_000_001}},
    {"spend_limit": {"amount": "999999999999.99", "cycle": "daily"}},
    {"spend_limit": {"amount": "1000000000000", "cycle": "daily"}},
    {"spend_limit": {"amount": "1.234", "cycle": "daily"}},
    {"spend_limit": {"amount": "1.00", "cycle": "yearly"}},
    {"status": "paused"},
    {"status": "revoked"},
    {"request_shape": "anthropic"},
    {"request_shape": "gemini"},
]


@pytest.mark.parametrize("fields", EDGE_BODIES, ids=lambda f: str(f)[:60])
def test_the_openapi_document_and_the_checks_agree_at_every_limit(
    api: httpx.Client, fields: dict[str, Any]
) -> None:
    """Both are built from contract.py: a limit changed in one place moves in both."""
    import jsonschema_rs

    from lava_cli.emulator.openapi import build_document

    schema = build_document()["components"]["schemas"]["SpendKeyCreate"]
    body = {"name": "k", **fields}
    documented = jsonschema_rs.validator_for(schema).is_valid(body)
    answer = api.post("/spend_keys", json=body)
    assert answer.status_code in (201, 400), answer.text
    assert (answer.status_code == 201) == documented, answer.text
    if answer.status_code == 201:
        api.delete(f"/spend_keys/{answer.json()['spend_key_id']}")


def test_the_settings_fields_are_one_list_everywhere() -> None:
    """contract.SETTINGS_FIELDS is what a client may set: the stored settings, the
    parsers and the document's bodies list exactly those fields, in that order."""
    import dataclasses

    from lava_cli.emulator.contract import SETTINGS_FIELDS
    from lava_cli.emulator.openapi import build_document
    from lava_cli.emulator.schema import KeySettings
    from lava_cli.emulator.validation import PARSERS

    assert tuple(field.name for field in dataclasses.fields(KeySettings)) == SETTINGS_FIELDS
    assert tuple(PARSERS) == SETTINGS_FIELDS
    schemas = build_document()["components"]["schemas"]
    for body in ("SpendKeyCreate", "SpendKeyUpdate"):
        assert tuple(schemas[body]["properties"]) == SETTINGS_FIELDS
    answer = list(schemas["SpendKey"]["properties"])
    assert [name for name in answer if name in SETTINGS_FIELDS] == list(SETTINGS_FIELDS)
