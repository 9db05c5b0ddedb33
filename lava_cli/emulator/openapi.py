"""The emulator's OpenAPI 3.1 document, served at ``GET /openapi.json``.

It describes every route the emulator mounts (management API, gateway, read side,
secret keys, payments, browser login) with the statuses and bodies each can answer, so
schema fuzzers (schemathesis in ``tests/fuzz``) can check the emulator against it and
other tools can generate clients. ``tests/fuzz/test_schemathesis.py`` keeps the document and the
routes in step: a route added without a document entry fails the suite.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from lava_cli import __version__
from lava_cli.emulator.bodies import MAX_BODY_BYTES
from lava_cli.emulator.contract import (
    AMOUNT_PATTERN,
    CONFIRM_PATH,
    CUSTOMER_HEADER,
    CYCLES,
    DEFAULT_PAGE,
    FUND_MAX,
    FUND_MIN,
    HINT_CHARS,
    HINT_MASK,
    ID_CHARS,
    IDEMPOTENCY_HEADER,
    MAX_COUNT,
    MAX_IDEMPOTENCY_KEY,
    MAX_KEYS_PER_WALLET,
    MAX_LIST_ITEMS,
    MAX_METADATA_FILTERS,
    MAX_METADATA_PAIRS,
    MAX_METADATA_VALUE,
    MAX_NAME,
    MAX_PAGE,
    MAX_TAG_ID,
    METADATA_HEADER_PREFIX,
    METER_HEADER,
    MONEY_MAX_DECIMALS,
    MONEY_MIN_DECIMALS,
    PAYMENT_ID_PREFIX,
    PAYMENT_METHOD_ID_PREFIX,
    PREVIEW_CHARS,
    PREVIEW_MASK,
    PROVIDER_KEY_TYPES,
    RATE_TYPES,
    RAW_KEY_CHARS,
    REQUEST_STATUSES,
    SECRET_CHARS,
    SECRET_KEY_ID_PREFIX,
    SECRET_PREFIXES,
    SHAPES,
    SPEND_KEY_ID_PREFIX,
    SPEND_KEY_PREFIX,
    STATUSES,
    TIER_TYPES,
    WALLET_KEY_PREFIX,
)
from lava_cli.emulator.cycles import Clock, utc_now
from lava_cli.emulator.records import REQUEST_FIELDS, USAGE_FIELDS
from lava_cli.emulator.store import Store
from lava_cli.emulator.wire import MAX_TOKENS

Schema = dict[str, Any]

_STRING: Schema = {"type": "string"}
_TALLY: Schema = {"type": "integer", "minimum": 0}
_CYCLE: Schema = {"type": "string", "enum": list(CYCLES)}
_STATUS: Schema = {"type": "string", "enum": list(STATUSES)}
_SHAPE: Schema = {"type": "string", "enum": list(SHAPES)}
_COUNT: Schema = {"type": "integer", "minimum": 1, "maximum": MAX_COUNT}
# Amounts the API writes (money.py).
_DECIMAL: Schema = {
    "type": "string",
    "pattern": rf"^-?[0-9]+\.[0-9]{{{MONEY_MIN_DECIMALS},{MONEY_MAX_DECIMALS}}}$",
}
_NAME: Schema = {"type": "string", "minLength": 1, "maxLength": MAX_NAME}
_NAMES: Schema = {
    "type": ["array", "null"],
    "items": _NAME,
    "minItems": 1,
    "maxItems": MAX_LIST_ITEMS,
}


def _nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def _obj(required: Sequence[str], props: Schema, *, extra: bool = True) -> Schema:
    schema: Schema = {"type": "object", "required": list(required), "properties": props}
    if not extra:
        schema["additionalProperties"] = False
    return schema


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def _strings(*names: str) -> Schema:
    """An object whose fields are all required strings (error bodies, forms)."""
    return _obj(names, {name: _STRING for name in names})


def _list(item: Schema, **more: Schema) -> Schema:
    """An OpenAI-style list answer: ``{"object": "list", "data": [...]}``, and `more`."""
    return _obj(
        ["object", "data", *more], {"object": {"const": "list"}, "data": _array(item), **more}
    )


def _page(item: Schema) -> Schema:
    """A list answer cut by paging.py: the items, and the cursor to the next page."""
    return _obj(
        ["data", "has_more", "next_cursor"],
        {
            "data": _array(item),
            "has_more": {"type": "boolean"},
            "next_cursor": {"type": ["string", "null"]},
        },
    )


_SPEND_LIMIT = _obj(
    ["amount", "cycle"],
    {"amount": {"type": "string", "pattern": f"^{AMOUNT_PATTERN}$"}, "cycle": _CYCLE},
    extra=False,
)
_REQUEST_LIMIT = _obj(["count", "cycle"], {"count": _COUNT, "cycle": _CYCLE}, extra=False)
_RATE_LIMIT = _obj(["rpm"], {"rpm": _COUNT, "burst": _nullable(_COUNT)}, extra=False)
# The create/update body; its keys are contract.SETTINGS_FIELDS (tests/emulator holds it).
_SETTINGS: Schema = {
    "name": _NAME,
    "status": _STATUS,
    "request_shape": _SHAPE,
    "allowed_models": _NAMES,
    "allowed_providers": _NAMES,
    "spend_limit": _nullable(_SPEND_LIMIT),
    "request_limit": _nullable(_REQUEST_LIMIT),
    "rate_limit": _nullable(_RATE_LIMIT),
    "expires_at": {"type": ["string", "null"], "format": "date-time"},
}

_TIME: Schema = {"type": "string", "format": "date-time"}
_SPEND_KEY_FIELDS: Schema = {
    "spend_key_id": {
        "type": "string",
        "pattern": f"^{re.escape(SPEND_KEY_ID_PREFIX)}[A-Za-z0-9]{{{ID_CHARS}}}$",
    },
    "key_preview": {
        "type": "string",
        "pattern": f"^{re.escape(SPEND_KEY_PREFIX)}.{{{PREVIEW_CHARS}}}{re.escape(PREVIEW_MASK)}$",
    },
    "name": _STRING,
    "status": _STATUS,
    "request_shape": _SHAPE,
    "wallet_id": _STRING,
    "allowed_models": {"type": ["array", "null"], "items": _STRING},
    "allowed_providers": {"type": ["array", "null"], "items": _STRING},
    "spend_limit": _nullable(_obj(["amount", "cycle"], {"amount": _DECIMAL, "cycle": _CYCLE})),
    "current_spend": _DECIMAL,
    "total_spend": _DECIMAL,
    "request_limit": _nullable(_REQUEST_LIMIT),
    "current_requests": _TALLY,
    "total_requests": _TALLY,
    "rate_limit": _nullable(_RATE_LIMIT),
    "expires_at": {"type": ["string", "null"], "format": "date-time"},
    "last_used_at": {"type": ["string", "null"], "format": "date-time"},
    "created_at": _TIME,
}


def _id(prefix: str, chars: str = "A-Za-z0-9") -> Schema:
    """An id: `prefix` and `ID_CHARS` characters of `chars`."""
    return {"type": "string", "pattern": f"^{re.escape(prefix)}[{chars}]{{{ID_CHARS}}}$"}


def _enum(values: Sequence[str]) -> Schema:
    return {"type": "string", "enum": list(values)}


_SECRET_PREFIX = "|".join(re.escape(prefix) for prefix in SECRET_PREFIXES.values())
_TAG_ID: Schema = {"type": ["string", "null"], "minLength": 1, "maxLength": MAX_TAG_ID}
_METADATA: Schema = {
    "type": "object",
    "maxProperties": MAX_METADATA_PAIRS,
    "additionalProperties": {"type": "string", "maxLength": MAX_METADATA_VALUE},
}
_TIER = _obj(
    ["start", "rate", "type"],
    {"start": _TALLY, "rate": _DECIMAL, "type": _enum(TIER_TYPES)},
    extra=False,
)
# SDK 11.2's RestRequest, every field (records.py), and the emulator's spend_key_id.
_REQUEST_FIELDS: Schema = {
    "request_id": {"type": "string", "pattern": f"^req_[A-Za-z0-9]{{{ID_CHARS}}}$"},
    "status": _enum(REQUEST_STATUSES),
    "customer_id": _TAG_ID,
    "meter_id": _TAG_ID,
    "provider": _STRING,
    "provider_key_type": _enum(PROVIDER_KEY_TYPES),
    "model": _STRING,
    "endpoint": _STRING,
    "response_id": {"type": ["string", "null"]},
    "model_usage": _obj(
        USAGE_FIELDS,
        {name: _DECIMAL if name.endswith("_cost") else _TALLY for name in USAGE_FIELDS},
        extra=False,
    ),
    "cost": _DECIMAL,
    "charge": _obj(
        ["amount", "rate_type", "breakdown"],
        {
            "amount": _DECIMAL,
            "rate_type": _enum(RATE_TYPES),
            "breakdown": _array(
                _obj(
                    ["tier", "tokens", "characters", "seconds", "cost"],
                    {
                        "tier": _TIER,
                        "tokens": _TALLY,
                        "characters": _TALLY,
                        "seconds": _TALLY,
                        "cost": _DECIMAL,
                    },
                    extra=False,
                )
            ),
        },
        extra=False,
    ),
    "metadata": _METADATA,
    "timestamp": _TIME,
    "created_at": _TIME,
    "spend_key_id": _id(SPEND_KEY_ID_PREFIX),
}
assert tuple(_REQUEST_FIELDS) == REQUEST_FIELDS  # one list of fields (records.py)

_SECRET_KEY_FIELDS: Schema = {
    "secret_key_id": _id(SECRET_KEY_ID_PREFIX),
    "name": _STRING,
    "secret_key_hint": {
        "type": "string",
        # aks_ alone: a migrated secret not presented since; no prefix: a secret the
        # emulator was started with that has none of these (start_in_thread takes any)
        "pattern": f"^(aks_|{_SECRET_PREFIX}|{re.escape(WALLET_KEY_PREFIX)})?"
        f"{re.escape(HINT_MASK)}[A-Za-z0-9_-]{{0,{HINT_CHARS}}}$",
    },
    "created_at": _TIME,
}
_PAYMENT_METHOD = _obj(
    [
        "payment_method_id", "last4", "expiry_month", "expiry_year", "brand", "is_default",
        "has_error", "error_code", "error_message", "error_at",
    ],
    {
        "payment_method_id": _id(PAYMENT_METHOD_ID_PREFIX, "0-9a-f"),
        "last4": {"type": "string", "pattern": "^[0-9]{4}$"},
        "expiry_month": {"type": "integer", "minimum": 1, "maximum": 12},
        "expiry_year": {"type": "integer", "minimum": 1970},
        "brand": _STRING,
        "is_default": {"type": "boolean"},
        "has_error": {"type": "boolean"},
        "error_code": {"type": ["string", "null"]},
        "error_message": {"type": ["string", "null"]},
        "error_at": {"type": ["string", "null"], "format": "date-time"},
    },
    extra=False,
)  # fmt: skip
_PAYMENT_ID = _id(PAYMENT_ID_PREFIX)

_USAGE_ROW = _obj(
    ["start", "end", "total_requests", "total_usage_tokens", "total_cost", "total_charge"],
    {
        "date": {"type": "string", "format": "date"},
        "start": _TIME,
        "end": _TIME,
        "total_requests": _TALLY,
        "total_usage_tokens": _TALLY,
        "total_cost": _DECIMAL,
        "total_charge": _DECIMAL,
    },
)

SCHEMAS: dict[str, Schema] = {
    "Error": _obj(["error"], {"error": _strings("message", "code")}),
    "GatewayError": {
        "anyOf": [
            _obj(
                ["error"],
                {
                    "error": _obj(
                        ["message", "type", "code"],
                        {
                            "message": _STRING,
                            "type": _STRING,
                            "code": _STRING,
                            "param": {"type": ["string", "null"]},
                        },
                    )
                },
            ),
            _obj(
                ["type", "error"],
                {
                    "type": {"const": "error"},
                    "error": _strings("type", "message"),
                },
            ),
        ]
    },
    "SpendKey": _obj(list(_SPEND_KEY_FIELDS), _SPEND_KEY_FIELDS, extra=False),
    "NewSpendKey": _obj(
        [*_SPEND_KEY_FIELDS, "key"],
        {
            **_SPEND_KEY_FIELDS,
            "key": {
                "type": "string",
                "pattern": f"^{re.escape(SPEND_KEY_PREFIX)}[A-Za-z0-9_-]{{{RAW_KEY_CHARS}}}$",
            },
        },
        extra=False,
    ),
    "SpendKeyCreate": _obj(["name"], _SETTINGS, extra=False),
    "SpendKeyUpdate": _obj([], _SETTINGS, extra=False),
    "SpendKeyPage": _page(_ref("SpendKey")),
    "Success": _obj(["success"], {"success": {"const": True}}),
    "ModelList": _list(
        _obj(
            ["id", "object", "created", "owned_by"],
            {
                "id": _STRING,
                "object": {"const": "model"},
                "created": {"type": "integer"},
                "owned_by": _STRING,
            },
        )
    ),
    "ServiceList": _list(
        _obj(
            ["id", "provider", "pricing"],
            {
                "id": _STRING,
                "provider": _STRING,
                "pricing": _obj(
                    ["type", "input", "output"],
                    {
                        "type": {"const": "tokens_1m"},
                        "input": {"type": "number"},
                        "output": {"type": "number"},
                    },
                ),
            },
        ),
        providers=_array(
            _obj(
                ["id", "label", "entry_count"],
                {"id": _STRING, "label": _STRING, "entry_count": {"type": "integer"}},
            )
        ),
    ),
    "Wallet": _obj(["wallet_id", "balance"], {"wallet_id": _STRING, "balance": _DECIMAL}),
    "ChatRequest": _obj(
        ["model", "messages"],
        {
            "model": _STRING,
            "messages": _array(_obj(["role"], {"role": _STRING})),
            "max_tokens": {"type": "integer", "minimum": 1, "maximum": MAX_TOKENS},
            "stream": {"type": "boolean"},
            "metadata": {"type": ["object", "null"]},  # attribution.py: per endpoint
        },
    ),
    "ChatReply": {
        "anyOf": [
            _obj(
                ["id", "object", "model", "choices", "usage"],
                {"object": {"const": "chat.completion"}, "choices": {"type": "array"}},
            ),
            _obj(
                ["id", "type", "model", "content", "usage"],
                {"type": {"const": "message"}, "content": {"type": "array"}},
            ),
        ]
    },
    "RestRequest": _obj(REQUEST_FIELDS, _REQUEST_FIELDS, extra=False),
    "RequestPage": _page(_ref("RestRequest")),
    "SecretKey": _obj(list(_SECRET_KEY_FIELDS), _SECRET_KEY_FIELDS, extra=False),
    "NewSecretKey": _obj(
        [*_SECRET_KEY_FIELDS, "secret_key"],
        {
            **_SECRET_KEY_FIELDS,
            "secret_key": {
                "type": "string",
                "pattern": f"^({_SECRET_PREFIX})[A-Za-z0-9]{{{SECRET_CHARS}}}$",
            },
        },
        extra=False,
    ),
    "SecretKeyCreate": _obj(["name"], {"name": _NAME}, extra=False),
    "SecretKeyPage": _page(_ref("SecretKey")),
    "Deleted": _obj(["id", "deleted"], {"id": _STRING, "deleted": {"const": True}}, extra=False),
    "PaymentMethodList": _obj(["data"], {"data": _array(_PAYMENT_METHOD)}, extra=False),
    "Fund": _obj(
        ["payment_method_id", "amount"],
        {
            "payment_method_id": {"type": "string", "minLength": 1},
            "amount": {
                "type": "string",
                "pattern": f"^{AMOUNT_PATTERN}$",
                "description": f"From {FUND_MIN} to {FUND_MAX}, both included",
            },
        },
        extra=False,
    ),
    "FundResult": {
        "anyOf": [
            _obj(
                ["status", "payment_id", "balance"],
                {"status": {"const": "completed"}, "payment_id": _PAYMENT_ID, "balance": _DECIMAL},
                extra=False,
            ),
            _obj(
                ["status", "payment_id", "redirect_url"],
                {
                    "status": {"const": "requires_action"},
                    "payment_id": _PAYMENT_ID,
                    "redirect_url": {"type": "string", "format": "uri"},
                },
                extra=False,
            ),
        ]
    },
    "Usage": _obj(["items", "totals"], {"items": _array(_USAGE_ROW), "totals": _USAGE_ROW}),
    "Credentials": _obj(
        ["secret_key", "secret_key_id", "wallet_id", "merchant_id", "account_id"],
        {
            "secret_key": {"type": "string", "pattern": "^aks_(test|live)_"},
            "secret_key_id": _STRING,
            "wallet_id": _STRING,
            "merchant_id": _STRING,
            "account_id": _STRING,
        },
    ),
}

_WHY = {
    200: "OK",
    201: "Created",
    303: "Redirect to the CLI's callback",
    400: "Invalid request (the message names the field)",
    401: "Missing or unknown key",
    402: "Spend limit reached for this cycle",
    403: "Refused by policy, or the wrong kind of key",
    404: "Not found",
    409: f"The wallet already holds {MAX_KEYS_PER_WALLET} spend keys",
    422: "The Idempotency-Key was used with another body",
    413: f"The request body is over the emulator's {MAX_BODY_BYTES // 2**20} MiB limit",
    429: "Rate or request limit reached",
    500: "Injected fault (lava emulator serve --fault 500)",
    502: "The upstream provider failed (forwarded models only)",
}


def _json(schema: Schema) -> Schema:
    return {"application/json": {"schema": schema}}


def _responses(
    ok: int, ok_body: Schema, *errors: int, error: str = "Error", why: dict[int, str] | None = None
) -> Schema:
    """`ok` with its body and `errors` in the `error` shape; `why` overrides `_WHY`."""
    reasons = {**_WHY, **(why or {})}
    out: Schema = {str(ok): {"description": reasons[ok], "content": _json(ok_body)}}
    for status in errors:
        out[str(status)] = {"description": reasons[status], "content": _json(_ref(error))}
    return out


def _query(name: str, description: str | None = None) -> Schema:
    """A string query parameter."""
    parameter: Schema = {"name": name, "in": "query", "schema": _STRING}
    if description:
        parameter["description"] = description
    return parameter


def _header(name: str, schema: Schema, description: str) -> Schema:
    return {"name": name, "in": "header", "schema": schema, "description": description}


def _path(name: str) -> Schema:
    return {"name": name, "in": "path", "required": True, "schema": _STRING}


# Filters of /v1/requests and /v1/usage (reads.RequestFilter).
_FILTERS = [
    _query("customer_id", "Only this customer's requests (the call's x-lava-customer-id)"),
    _query("meter_id", "Only this meter's requests (the call's x-lava-meter-id)"),
    _query(
        "metadata_filters",
        "A JSON array of [key, value] string pairs, all of which a request's metadata "
        f"must hold; at most {MAX_METADATA_FILTERS}",
    ),
    _query("spend_key_id", "Only this spend key's requests (the emulator's own filter)"),
]


_AUTH = (401, 403)
_SECRET: list[Schema] = [{"secret": []}]
_KEY_ID = {"name": "key_id", "in": "path", "required": True, "schema": _STRING}
_PAGE = [
    _query("cursor"),
    {
        "name": "limit",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": DEFAULT_PAGE},
    },
]
_HTML = {"text/html": {"schema": _STRING}}


def _op(summary: str, responses: Schema, **extra: Any) -> Schema:
    return {"summary": summary, "responses": responses, **extra}


def _body(name: str) -> Schema:
    return {"required": True, "content": _json(_ref(name))}


def _spend_key_paths(base: str) -> dict[str, Schema]:
    tag = {"tags": ["spend keys"], "security": _SECRET}
    return {
        base: {
            "post": _op(
                "Create a spend key (its raw value is shown once)",
                _responses(201, _ref("NewSpendKey"), 400, *_AUTH, 409, 413),
                requestBody=_body("SpendKeyCreate"),
                **tag,
            ),
            "get": _op(
                "List the wallet's spend keys, newest first",
                _responses(200, _ref("SpendKeyPage"), 400, *_AUTH),
                parameters=_PAGE,
                **tag,
            ),
        },
        base + "/{key_id}": {
            "parameters": [_KEY_ID],
            "get": _op("Get a spend key", _responses(200, _ref("SpendKey"), *_AUTH, 404), **tag),
            "put": _op(
                "Partially update a spend key (null clears a limit)",
                _responses(200, _ref("SpendKey"), 400, *_AUTH, 404, 413),
                requestBody=_body("SpendKeyUpdate"),
                **tag,
            ),
            "delete": _op(
                "Revoke a spend key", _responses(200, _ref("Success"), *_AUTH, 404), **tag
            ),
        },
        base + "/{key_id}/rotate": {
            "parameters": [_KEY_ID],
            "post": _op(
                "Give a spend key a new raw value; the old one dies at once",
                _responses(200, _ref("NewSpendKey"), *_AUTH, 404),
                **tag,
            ),
        },
    }


def _gateway_op(summary: str) -> Schema:
    responses = _responses(200, _ref("ChatReply"), 400, 401, 402, 403, 404, 413, 429, 500, 502)
    responses["200"]["content"]["text/event-stream"] = {"schema": _STRING}
    header = {"x-lava-request-id": {"required": True, "schema": _STRING}}
    for status, answer in responses.items():
        answer["headers"] = header
        if status != "200":
            answer["content"] = _json(_ref("GatewayError"))
    tag_id = {"type": "string", "maxLength": MAX_TAG_ID}
    return _op(
        summary,
        responses,
        tags=["gateway"],
        security=[{"spendKey": []}, {"spendKeyHeader": []}],
        requestBody=_body("ChatRequest"),
        description=(
            f"Metadata for the request's record: the body's `metadata` and "
            f"`{METADATA_HEADER_PREFIX}<key>` headers (at most {MAX_METADATA_PAIRS} pairs)."
        ),
        parameters=[
            _header(CUSTOMER_HEADER, tag_id, "The customer the request is for"),
            _header(METER_HEADER, tag_id, "The meter the request counts on"),
        ],
    )


def _catalogue_paths() -> dict[str, Schema]:
    """The public catalogue and the wallet (management secret)."""
    return {
        "/v1/models": {
            "get": _op(
                "List models (with a spend key: only those it may use)",
                _responses(200, _ref("ModelList"), 401),
                tags=["catalogue"],
                security=[{}, {"spendKey": []}],
            )
        },
        "/v1/services": {
            "get": _op(
                "Public catalogue with prices per 1M tokens",
                _responses(200, _ref("ServiceList")),
                parameters=[_query("provider")],
                tags=["catalogue"],
            )
        },
        "/v1/wallet": {
            "get": _op(
                "The wallet and its balance",
                _responses(200, _ref("Wallet"), *_AUTH),
                tags=["wallet"],
                security=_SECRET,
            )
        },
    }


def _gateway_paths() -> dict[str, Schema]:
    """The two model endpoints (spend key), gateway.py."""
    return {
        "/v1/chat/completions": {"post": _gateway_op("OpenAI-shape chat completion")},
        "/v1/messages": {"post": _gateway_op("Anthropic-shape message")},
    }


def _usage_paths() -> dict[str, Schema]:
    """The gateway's read side (management secret), reads.py."""
    return {
        "/v1/requests": {
            "get": _op(
                "The wallet's request log, newest first",
                _responses(200, _ref("RequestPage"), 400, *_AUTH),
                parameters=[*_PAGE, *_FILTERS],
                tags=["usage"],
                security=_SECRET,
            )
        },
        "/v1/requests/{request_id}": {
            "parameters": [_path("request_id")],
            "get": _op(
                "One request record",
                _responses(200, _ref("RestRequest"), *_AUTH, 404),
                tags=["usage"],
                security=_SECRET,
            ),
        },
        "/v1/usage": {
            "get": _op(
                "Daily usage totals (UTC days) over [start, end)",
                _responses(200, _ref("Usage"), 400, *_AUTH),
                parameters=[_query("start"), _query("end"), *_FILTERS],
                tags=["usage"],
                security=_SECRET,
            )
        },
    }


def _secret_key_paths() -> dict[str, Schema]:
    """A wallet's secret keys (management secret), secretkeys.py."""
    tag = {"tags": ["secret keys"], "security": _SECRET}
    return {
        "/v1/secret_keys": {
            "get": _op(
                "List the wallet's secret keys, newest first",
                _responses(200, _ref("SecretKeyPage"), 400, *_AUTH),
                parameters=_PAGE,
                **tag,
            ),
            "post": _op(
                "Create a secret key (its raw value is shown once)",
                _responses(201, _ref("NewSecretKey"), 400, *_AUTH, 413),
                requestBody=_body("SecretKeyCreate"),
                **tag,
            ),
        },
        "/v1/secret_keys/{secret_key_id}": {
            "parameters": [_path("secret_key_id")],
            "delete": _op(
                "Delete a secret key: refused with 401 from then on",
                _responses(
                    200,
                    _ref("Deleted"),
                    *_AUTH,
                    404,
                    409,
                    why={409: "It is the wallet's last secret key (last_secret_key)"},
                ),
                **tag,
            ),
        },
    }


def _payment_paths() -> dict[str, Schema]:
    """Payment methods and funding (management secret), and the confirmation page,
    payments.py."""
    confirm_page = {
        "200": {"description": "The page", "content": _HTML},
        "404": {"description": "No such payment", "content": _HTML},
    }
    return {
        "/v1/payment_methods": {
            "get": _op(
                "The wallet's payment methods",
                _responses(200, _ref("PaymentMethodList"), *_AUTH),
                tags=["wallet"],
                security=_SECRET,
            )
        },
        "/v1/wallet/fund": {
            "post": _op(
                "Fund the wallet from a payment method",
                {
                    **_responses(
                        200,
                        _ref("FundResult"),
                        400,
                        *_AUTH,
                        402,
                        404,
                        413,
                        422,
                        why={
                            200: "Completed, or requires_action at redirect_url",
                            402: "The card was declined (card_declined)",
                            404: "No such payment method",
                        },
                    ),
                },
                parameters=[
                    _header(
                        IDEMPOTENCY_HEADER,
                        {"type": "string", "minLength": 1, "maxLength": MAX_IDEMPOTENCY_KEY},
                        "A retry with the same key and body gets the first answer again",
                    )
                ],
                requestBody=_body("Fund"),
                tags=["wallet"],
                security=_SECRET,
            )
        },
        CONFIRM_PATH: {
            "parameters": [_path("payment_id")],
            "get": _op(
                "The page that completes a requires_action payment",
                confirm_page,
                tags=["wallet"],
            ),
            "post": _op(
                "Complete or fail the payment from the page's form",
                {
                    **confirm_page,
                    "400": {"description": "Not a decision", "content": _HTML},
                    "413": {"description": _WHY[413], "content": _HTML},
                },
                requestBody={
                    "required": True,
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": _obj(["decision"], {"decision": _enum(("complete", "fail"))})
                        }
                    },
                },
                tags=["wallet"],
            ),
        },
    }


def _login_paths() -> dict[str, Schema]:
    """Browser login, authflow.py."""
    return {
        "/v1/auth/callback": {
            "post": _op(
                "Trade a one-time browser-login code for credentials",
                _responses(200, _ref("Credentials"), 400, 413),
                requestBody={
                    "required": True,
                    "content": _json(_strings("code")),
                },
                tags=["login"],
            )
        },
        "/auth/connect": {
            "get": _op(
                "The browser page that authorizes a CLI login",
                {
                    "200": {"description": "The page", "content": _HTML},
                    "400": {"description": "Bad state or port", "content": _HTML},
                },
                parameters=[
                    _query("state"),
                    _query("port"),
                ],
                tags=["login"],
            )
        },
        "/auth/connect/decision": {
            "post": _op(
                "Authorize or deny from the page's form",
                {
                    "303": {"description": _WHY[303]},
                    "400": {"description": "Bad form", "content": _HTML},
                    "413": {"description": _WHY[413], "content": _HTML},
                },
                requestBody={
                    "required": True,
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": _strings("state", "port", "decision")
                        }
                    },
                },
                tags=["login"],
            )
        },
    }


def build_document() -> Schema:
    """The whole document (a fresh dict each call: callers may mutate it)."""
    paths: dict[str, Schema] = {
        **_spend_key_paths("/v1/spend_keys"),
        **_spend_key_paths("/v1/manage/spend_keys"),
        **_catalogue_paths(),
        **_gateway_paths(),
        **_usage_paths(),
        **_secret_key_paths(),
        **_payment_paths(),
        **_login_paths(),
        "/openapi.json": {
            "get": _op(
                "This document",
                {"200": {"description": "OpenAPI 3.1", "content": _json({"type": "object"})}},
                tags=["meta"],
            )
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Lava emulator",
            "version": __version__,
            "description": "A local emulator of Lava's API (docs/lava-api.md) for lava-cli.",
        },
        "servers": [{"url": "/"}],
        "paths": copy.deepcopy(paths),
        "components": {
            "schemas": copy.deepcopy(SCHEMAS),
            "securitySchemes": {
                "secret": {"type": "http", "scheme": "bearer", "description": "aks_… secret"},
                "spendKey": {"type": "http", "scheme": "bearer", "description": "lava_sk_… key"},
                "spendKeyHeader": {"type": "apiKey", "in": "header", "name": "x-api-key"},
            },
        },
    }


def openapi_routes(store: Store, clock: Clock = utc_now) -> list[BaseRoute]:
    """``GET /openapi.json``, for `server.ROUTE_PROVIDERS`."""
    document = build_document()

    async def serve(request: Request) -> Response:
        return JSONResponse(document)

    return [Route("/openapi.json", serve, methods=["GET"])]
