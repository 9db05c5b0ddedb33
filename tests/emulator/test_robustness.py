"""Never a 500 on bad input: arbitrary JSON bodies, hostile paths and queries."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FIELDS = [
    "name", "status", "request_shape", "allowed_models", "allowed_providers",
    "spend_limit", "request_limit", "rate_limit", "expires_at",
]  # fmt: skip
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
values = st.recursive(
    scalars | st.sampled_from(["daily", "total", "5.00", "active", "openai"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["amount", "cycle", "count", "rpm", "burst"]), inner)
    ),
    max_leaves=6,
)
bodies = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), values, max_size=5)


@pytest.mark.slow
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=bodies | values)
def test_arbitrary_bodies_get_an_answer_never_a_500(api: httpx.Client, body: Any) -> None:
    created = api.post("/spend_keys", json=body)
    assert created.status_code in (201, 400, 409), created.text
    assert "error" in created.json() or created.status_code == 201
    if created.status_code == 201:
        api.delete(f"/spend_keys/{created.json()['spend_key_id']}")
    page = api.get("/spend_keys", params={"limit": 1}).json()["data"]
    if page:
        updated = api.put(f"/spend_keys/{page[0]['spend_key_id']}", json=body)
        assert updated.status_code in (200, 400), updated.text


@pytest.mark.parametrize(
    ("method", "path", "content"),
    [
        ("POST", "/spend_keys", b"[" * 100_000 + b"]" * 100_000),
        ("POST", "/spend_keys", b'{"name": "\\ud800"}'),
        ("POST", "/spend_keys", b'{"name": "k", "allowed_models": ["\\udfff"]}'),
        ("POST", "/spend_keys", b'{"name": NaN}'),
        ("POST", "/spend_keys", b'{"name": "k", "request_limit": {"count": Infinity}}'),
        ("GET", "/spend_keys/%00%ff", b""),
        ("GET", "/spend_keys?limit=99999999999999999999999", b""),
        ("GET", "/spend_keys?cursor=%00", b""),
        ("GET", "/services?provider=%00", b""),
        ("PUT", "/spend_keys/" + "x" * 5000, b"{}"),
    ],
)
def test_hostile_requests_are_answered_in_json(
    api: httpx.Client, method: str, path: str, content: bytes
) -> None:
    r = api.request(method, path, content=content)
    assert r.status_code < 500, r.text
    assert r.headers["content-type"] == "application/json"


# --- the gateway, the read side and cursors: hostile input is a 400, never a 500 ----------

DEEP = b"[" * 100_000 + b"]" * 100_000
NEST_900 = b"[" * 900 + b"]" * 900  # parses under Python's recursion limit, still absurd
OPENAI = b'{"model": "gpt-4o-mini", "messages": %s}'
ANTHROPIC = b'{"model": "claude-haiku-4-5", "max_tokens": 5, %s}'


def _openai_error(r: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = r.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}, r.text
    return error


def _anthropic_error(r: httpx.Response) -> dict[str, Any]:
    body = r.json()
    assert body["type"] == "error" and set(body["error"]) == {"type", "message", "code"}, r.text
    error: dict[str, Any] = body["error"]
    return error


@pytest.mark.parametrize(
    ("path", "content"),
    [
        ("/chat/completions", OPENAI % DEEP),
        ("/chat/completions", OPENAI % NEST_900),
        ("/chat/completions", DEEP),
        ("/chat/completions", OPENAI % b'[{"role": "user", "content": "\\ud800"}]'),
        (
            "/chat/completions",
            OPENAI % b'[{"role": "user", "content": "a\\udfffb"}], "stream": true',
        ),
        ("/chat/completions", OPENAI % b'[{"role": "system", "content": [{"text": "\\ud800"}]}]'),
        ("/chat/completions", b'{"model": "\\ud800", "messages": []}'),
        ("/chat/completions", OPENAI % b'[{"role": "user", "content": "\xff"}]'),
        ("/chat/completions", OPENAI % b'[{"role": "user", "content": "x"}], "max_tokens": 1e999'),
        ("/messages", ANTHROPIC % (b'"messages": ' + DEEP)),
        (
            "/messages",
            ANTHROPIC % b'"system": "\\ud800", "messages": [{"role": "user", "content": "hi"}]',
        ),
        (
            "/messages",
            ANTHROPIC
            % b'"system": [{"type": "text", "text": "\\udbff"}], "messages": [{"role": "user", "content": "hi"}]',
        ),
        (
            "/messages",
            ANTHROPIC
            % b'"messages": [{"role": "user", "content": [{"type": "text", "text": "\\ud800"}]}]',
        ),
    ],
    ids=[
        "openai-deep",
        "openai-messages-900-deep",
        "openai-deep-body",
        "openai-surrogate",
        "openai-surrogate-stream",
        "openai-surrogate-part",
        "openai-surrogate-model",
        "openai-bad-utf8",
        "openai-max-tokens-inf",
        "anthropic-deep",
        "anthropic-surrogate-system",
        "anthropic-surrogate-system-block",
        "anthropic-surrogate-part",
    ],
)
def test_hostile_gateway_bodies_are_400_in_the_provider_shape(
    emu: Any, api: httpx.Client, path: str, content: bytes
) -> None:
    shape = "anthropic" if path == "/messages" else "openai"
    raw = api.post("/spend_keys", json={"name": "g", "request_shape": shape}).json()["key"]
    r = httpx.post(
        emu.base_url + path,
        content=content,
        headers={"authorization": f"Bearer {raw}", "content-type": "application/json"},
        timeout=30,
    )
    assert r.status_code == 400, r.text
    error = (_anthropic_error if shape == "anthropic" else _openai_error)(r)
    assert error["type"] == "invalid_request_error" and error["code"] == "invalid_request"
    assert r.headers["x-lava-request-id"].startswith("req_")


@pytest.mark.slow
def test_a_forwarded_model_refuses_an_absurd_max_tokens_with_400() -> None:
    """The reservation of a forwarded request is max_tokens x price: 10**30 tokens
    overflowed the ledger's integer micro-dollars (500) before any upstream call."""
    from lava_cli.emulator.gateway import GatewayOptions
    from lava_cli.emulator.server import start_in_thread, with_gateway_options
    from lava_cli.emulator.upstream import Upstream

    dead = Upstream("openai", "http://127.0.0.1:9", "upstream-key")
    options = GatewayOptions(upstreams={"gpt-4o": dead})
    with start_in_thread(app_factory=with_gateway_options(options)) as emu:
        auth = {"authorization": f"Bearer {emu.secrets[0]}"}
        raw = httpx.post(emu.base_url + "/spend_keys", json={"name": "f"}, headers=auth).json()
        for max_tokens in (10**30, 2**31):
            r = httpx.post(
                emu.base_url + "/chat/completions",
                json={"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}],
                      "max_tokens": max_tokens},
                headers={"authorization": f"Bearer {raw['key']}"},
                timeout=30,
            )  # fmt: skip
            assert r.status_code == 400, r.text
            assert _openai_error(r)["message"].startswith("max_tokens:")


def _management_400(r: httpx.Response) -> str:
    assert r.status_code == 400, r.text
    body = r.json()
    assert body == {"error": {"message": body["error"]["message"], "code": "invalid_request"}}
    message: str = body["error"]["message"]
    return message


@pytest.mark.parametrize(
    "params",
    [
        {"end": "9999-12-31"},
        {"end": "9999-12-31T23:59:59Z"},
        {"start": "9999-12-30", "end": "9999-12-31"},
        {"start": "9999-12-31"},
        {"end": "0001-01-01"},
        {"start": "0001-01-01", "end": "0001-01-02"},
        {"end": "1969-12-31T23:59:59Z"},
    ],
)
def test_usage_dates_at_the_ends_of_the_calendar_are_400(
    api: httpx.Client, params: dict[str, str]
) -> None:
    message = _management_400(api.get("/usage", params=params))
    assert message.startswith(("start:", "end:")), message


def _cursor(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


@pytest.mark.parametrize("path", ["/requests", "/spend_keys"])
@pytest.mark.parametrize(
    "cursor",
    [
        _cursor(b"[" * 20_000),  # nested past the recursion limit once decoded
        _cursor(json.dumps(["2025-01-01T00:00:00.000000Z", "\ud800"]).encode()),
        _cursor(json.dumps(["\udfff", "req_x"]).encode()),
        _cursor(b'["2025-01-01T00:00:00.000000Z", 5]'),
        _cursor(b'["2025-01-01T00:00:00.000000Z", "a", "b"]'),
        _cursor(b'{"a": 1}'),
        _cursor(b"\xff\xfe"),
        "\u0661\u0662",
    ],
    ids=[
        "nested-20000",
        "surrogate-id",
        "surrogate-time",
        "number-id",
        "three-parts",
        "object",
        "not-json",
        "arabic-digits",
    ],
)
def test_hostile_cursors_are_400(api: httpx.Client, path: str, cursor: str) -> None:
    message = _management_400(api.get(path, params={"cursor": cursor}))
    assert message.startswith("cursor:"), message


def test_both_lists_refuse_a_cursor_alike_without_echoing_it(api: httpx.Client) -> None:
    """One cursor codec (paging.py): /v1/spend_keys and /v1/requests answer a cursor
    they did not issue with the same 400, which does not send the cursor back (a client
    chooses its size: this one is 27 KB)."""
    cursor = _cursor(b"[" * 20_000)
    keys, requests = (
        api.get(path, params={"cursor": cursor}) for path in ("/spend_keys", "/requests")
    )
    assert (keys.status_code, requests.status_code) == (400, 400)
    assert keys.json() == requests.json()
    assert cursor not in requests.text and len(requests.content) < 200


@pytest.mark.parametrize(
    "content",
    [
        b'{"name": ' + NEST_900 + b"}",
        b'{"name": "k", "\\ud800": 1}',
        b'{"name": "k", "allowed_providers": ["openai", "\\udc00"]}',
        '{"name": "k"}'.encode("utf-16"),
    ],
    ids=["nested-900", "surrogate-field-name", "surrogate-item", "utf-16"],
)
def test_hostile_key_bodies_are_400_on_create_and_update(api: httpx.Client, content: bytes) -> None:
    _management_400(api.post("/spend_keys", content=content))
    key_id = api.post("/spend_keys", json={"name": "target"}).json()["spend_key_id"]
    _management_400(api.put(f"/spend_keys/{key_id}", content=content))
    assert api.get(f"/spend_keys/{key_id}").json()["name"] == "target"
