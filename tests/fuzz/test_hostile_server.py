"""A hostile stand-in server answers every endpoint the client calls with garbage.

Generated answers: any status, valid objects with fields dropped, retyped or added,
random JSON, HTML, empty bodies, multi-megabyte bodies, invalid UTF-8, JSON cut short,
SSE streams that break mid-event, bodies shorter than their Content-Length and chunked
bodies whose connection drops. Each example runs one real command (so the real httpx
client) against it. Figure: 0 tracebacks, documented exit codes only.
"""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import run_lava
from tests.helpers.fuzz import DOCUMENTED_EXIT_CODES, fuzz_settings, report
from tests.helpers.servers import RawServer, reply

pytestmark = pytest.mark.slow  # fuzzing: 300 generated answers

SECRET = "aks_test_" + "h" * 32
SPEND_KEY = "lava_sk_" + "h" * 40

KEY: dict[str, Any] = {
    "spend_key_id": "sk_" + "a" * 24,
    "key_preview": "lava_sk_aaaaaaaa****",
    "name": "ci",
    "status": "active",
    "request_shape": "openai",
    "wallet_id": "wal_1",
    "allowed_models": None,
    "allowed_providers": None,
    "spend_limit": {"amount": "5.00", "cycle": "monthly"},
    "current_spend": "1.25",
    "total_spend": "1.25",
    "request_limit": {"count": 10, "cycle": "daily"},
    "current_requests": 3,
    "total_requests": 3,
    "rate_limit": {"rpm": 60, "burst": None},
    "expires_at": "2030-01-01T00:00:00Z",
    "last_used_at": None,
    "created_at": "2025-01-01T00:00:00Z",
}
USAGE_ROW = {
    "date": "2025-01-01",
    "start": "2025-01-01T00:00:00Z",
    "end": "2025-01-02T00:00:00Z",
    "total_requests": 2,
    "total_usage_tokens": 30,
    "total_cost": "0.01",
    "total_charge": "0.01",
}
# Well-formed answers of every endpoint; the generator breaks them.
VALID: list[Any] = [
    KEY,
    {**KEY, "key": SPEND_KEY},
    {"data": [KEY], "has_more": False, "next_cursor": None},
    {"data": [KEY], "has_more": True, "next_cursor": "c1"},
    {"success": True},
    {"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model", "created": 1, "owned_by": "openai"}]},
    {
        "object": "list",
        "data": [{"id": "gpt-4o-mini", "provider": "openai", "pricing": {"type": "tokens_1m", "input": 0.15, "output": 0.6}}],
        "providers": [{"id": "openai", "label": "OpenAI", "entry_count": 1}],
    },
    {"wallet_id": "wal_1", "balance": "99.00"},
    {"items": [USAGE_ROW], "totals": USAGE_ROW},
    {
        "data": [{"request_id": "req_1", "status": "success", "provider": "openai", "model": "gpt-4o-mini",
                  "endpoint": "/v1/chat/completions", "cost": "0.01", "created_at": "2025-01-01T00:00:00Z",
                  "spend_key_id": KEY["spend_key_id"],
                  "model_usage": {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3, "total_cost": "0.01"}}],
        "has_more": False,
        "next_cursor": None,
    },
    {"id": "c", "object": "chat.completion", "model": "gpt-4o-mini",
     "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
     "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}},
    {"id": "m", "type": "message", "model": "claude-haiku-4-5", "content": [{"type": "text", "text": "hi"}],
     "stop_reason": "end_turn", "usage": {"input_tokens": 1, "output_tokens": 1}},
    {"error": {"message": "nope", "code": "invalid_request"}},
    {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}},
]  # fmt: skip

OPENAI_SSE = (
    b'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n'
    b'data: {"choices":[{"index":0,"delta":{"content":"Hel"}}]}\n\n'
    b'data: {"choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}]}\n\n'
    b'data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}}\n\n'
    b"data: [DONE]\n\n"
)
ANTHROPIC_SSE = (
    b'event: message_start\ndata: {"type":"message_start","message":{"model":"claude-haiku-4-5","usage":{"input_tokens":3}}}\n\n'
    b'event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"type":"text_delta","text":"Hel"}}\n\n'
    b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}}\n\n'
    b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
)

# Commands covering every endpoint the client calls (login --web is the browser test's).
COMMANDS: list[list[str]] = [
    ["keys", "list"], ["keys", "list", "--json"], ["keys", "show", "ci"],
    ["keys", "show", "sk_" + "a" * 24, "--json"], ["keys", "create", "--name", "ci"],
    ["keys", "create", "--name", "ci", "--json"], ["keys", "create", "--name", "ci", "--save"],
    ["keys", "update", "ci", "--spend-limit", "5/daily"], ["keys", "pause", "ci"],
    ["keys", "rotate", "ci"], ["keys", "rotate", "ci", "--quiet"], ["keys", "revoke", "ci", "--yes"],
    ["keys", "check", "ci"], ["models"], ["models", "--json"], ["models", "--provider", "openai"],
    ["usage"], ["usage", "ci"], ["usage", "--wallet", "--since", "7d"], ["doctor"], ["doctor", "--json"],
    ["prompt", "hi"], ["prompt", "hi", "--shape", "anthropic"], ["prompt", "hi", "--no-stream"],
    ["prompt", "hi", "--no-stream", "--shape", "anthropic", "--json"], ["--verbose", "prompt", "hi"],
    ["env", "openai-sdk", "--create"], ["login", "--with-token"], ["run", "--", "true"],
]  # fmt: skip
STATUSES = [200, 201, 204, 301, 400, 401, 402, 403, 404, 405, 409, 418, 422, 429, 500, 502, 503]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def mutated(draw: Any, value: Any, depth: int = 0) -> Any:
    """`value` with some fields dropped, retyped or added, at any depth."""
    if depth > 4 or draw(st.integers(0, 5)) == 0:
        return draw(json_values)
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            action = draw(st.integers(0, 9))
            if action == 0:
                continue  # missing field
            out[k] = draw(mutated(v, depth + 1)) if action <= 2 else v
        if draw(st.integers(0, 4)) == 0:
            out[draw(st.text(max_size=10))] = draw(json_values)  # extra field
        return out
    if isinstance(value, list):
        return [draw(mutated(v, depth + 1)) for v in value]
    return value


@st.composite
def bodies(draw: Any) -> tuple[bytes, str]:
    """(body bytes, content type)."""
    kind = draw(
        st.sampled_from(
            ["valid", "mutated", "json", "html", "empty", "huge", "badutf8", "truncated", "sse", "sse-garbage"]
        )
    )  # fmt: skip
    base = draw(st.sampled_from(VALID))
    ctype = "application/json"
    if kind == "valid":
        body = json.dumps(base).encode()
    elif kind == "mutated":
        body = json.dumps(draw(mutated(base))).encode()
    elif kind == "json":
        body = json.dumps(draw(json_values)).encode()
    elif kind == "html":
        body, ctype = b"<html><body><h1>502 Bad Gateway</h1>nginx</body></html>", "text/html"
    elif kind == "empty":
        body = b""
    elif kind == "huge":
        size = draw(st.sampled_from([300_000, 3_000_000]))
        body = json.dumps({"data": [], "error": "x" * size, "name": "y" * size}).encode()
    elif kind == "badutf8":
        text = json.dumps(base).encode()
        at = draw(st.integers(0, len(text)))
        body = (
            text[:at]
            + draw(st.sampled_from([b"\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80", b"\x80"]))
            + text[at:]
        )
    elif kind == "truncated":
        text = json.dumps(base).encode()
        body = text[: draw(st.integers(0, max(0, len(text) - 1)))]
    else:
        stream = draw(st.sampled_from([OPENAI_SSE, ANTHROPIC_SSE]))
        ctype = "text/event-stream"
        if kind == "sse-garbage":
            at = draw(st.integers(0, len(stream)))
            junk = draw(
                st.sampled_from(
                    [
                        b"\xff\xfe",
                        b"data: {nope\n\n",
                        b"data: [1,2]\n\n",
                        b"event: error\ndata: {}\n\n",
                        b"data: " + b"z" * 100_000 + b"\n\n",
                    ]
                )
            )
            stream = stream[:at] + junk + stream[at:]
        body = stream[: draw(st.integers(0, len(stream)))]  # breaks mid-event, or not
    return body, ctype


@st.composite
def answers(draw: Any) -> bytes:
    """A whole HTTP answer, framed in one of several (sometimes broken) ways."""
    status = draw(st.sampled_from(STATUSES))
    body, ctype = draw(bodies())
    extra = ""
    if draw(st.booleans()):
        extra += f"Retry-After: {draw(st.sampled_from(['0', '1', '-5', 'soon', 'nan', '1e9', 'Wed, 21 Oct 2015 07:28:00 GMT']))}\r\n"
    if draw(st.booleans()):
        extra += "x-lava-request-id: req_" + "r" * 24 + "\r\n"
    framing = draw(st.sampled_from(["length", "short", "close", "chunked", "chunked-cut"]))
    head = f"HTTP/1.1 {status} Whatever\r\nContent-Type: {ctype}\r\nConnection: close\r\n{extra}"
    if framing == "length":
        return f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body
    if framing == "short":
        return f"{head}Content-Length: {len(body) + 100}\r\n\r\n".encode() + body
    if framing == "close":
        return f"{head}\r\n".encode() + body
    chunked = f"{len(body):x}\r\n".encode() + body + b"\r\n" if body else b""
    if framing == "chunked":
        return f"{head}Transfer-Encoding: chunked\r\n\r\n".encode() + chunked + b"0\r\n\r\n"
    return f"{head}Transfer-Encoding: chunked\r\n\r\n".encode() + chunked[: len(chunked) // 2]


class Hostile:
    """A RawServer that sends `answer` to every request, then closes."""

    def __init__(self, raw_server: Any) -> None:
        self.answer = b""
        self.server: RawServer = raw_server(self._handle)

    def _handle(self, conn: socket.socket, head: bytes, n: int) -> None:
        conn.sendall(self.answer)
        conn.shutdown(socket.SHUT_WR)


@pytest.fixture
def hostile(raw_server, monkeypatch):
    server = Hostile(raw_server)
    monkeypatch.setenv("LAVA_SECRET_KEY", SECRET)
    monkeypatch.setenv("LAVA_SPEND_KEY", SPEND_KEY)
    monkeypatch.setenv("LAVA_BASE_URL", server.server.base_url)
    monkeypatch.setenv("LAVA_MAX_RETRIES", "0")
    monkeypatch.setenv("LAVA_TIMEOUT", "3")
    return server


def test_garbage_from_every_endpoint_never_crashes_the_cli(hostile, capsys):
    codes: dict[int, int] = {}

    @fuzz_settings(300)
    @given(st.sampled_from(COMMANDS), answers())
    def run(argv: list[str], answer: bytes) -> None:
        hostile.answer = answer
        result = run_lava(*argv, input=SECRET + "\n")
        context = (
            f"lava {argv!r} -> {result.code}\nanswer: {answer[:300]!r}\n{result.stderr[-1500:]}"
        )
        assert result.code in DOCUMENTED_EXIT_CODES, context
        assert "Traceback" not in result.output, context
        assert "this is a bug in lava" not in result.stderr, context
        codes[int(result.code)] = codes.get(int(result.code), 0) + 1

    run()
    total = sum(codes.values())
    report(
        capsys,
        f"hostile server: {total} garbage answers, 0 tracebacks, exit codes {dict(sorted(codes.items()))}",
    )
    assert total >= 300


# --- create/rotate over a connection that drops, or a save that fails --------------------


def _keys_then(on_write: str) -> Any:
    """Answers reads like the API; the create/rotate POST gets `on_write`."""

    def handler(conn: socket.socket, head: bytes, n: int) -> None:
        line = head.split(b"\r\n", 1)[0].decode()
        if line.startswith("GET"):
            body = (
                KEY
                if "/spend_keys/" in line
                else {"data": [KEY], "has_more": False, "next_cursor": None}
            )
            reply(conn, "200 OK", json.dumps(body).encode(), "application/json")
        elif on_write == "drop":
            conn.close()  # the request arrived; the answer never comes
        elif on_write == "cut":
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 900\r\n\r\n{"
            )
        else:
            status = "201 Created" if line.startswith("POST /v1/spend_keys ") else "200 OK"
            reply(conn, status, json.dumps({**KEY, "key": SPEND_KEY}).encode(), "application/json")

    return handler


@pytest.fixture
def stand_in(raw_server, monkeypatch):
    def start(on_write: str) -> RawServer:
        server = raw_server(_keys_then(on_write))
        monkeypatch.setenv("LAVA_SECRET_KEY", SECRET)
        monkeypatch.setenv("LAVA_BASE_URL", server.base_url)
        return server

    return start


def _writes(server: RawServer) -> int:
    return sum(1 for head in server.requests if head.startswith(b"POST"))


@pytest.mark.parametrize("on_write", ["drop", "cut"])
# --allow-duplicate-name: the stand-in's list of keys has a "ci"; the create is what is tested.
@pytest.mark.parametrize(
    "argv", [["keys", "create", "--name", "ci", "--allow-duplicate-name"], ["keys", "rotate", "ci"]]
)
def test_create_and_rotate_are_never_retried_when_the_answer_is_lost(stand_in, argv, on_write):
    server = stand_in(on_write)
    result = run_lava(*argv)
    assert result.code == 6, result.output
    assert _writes(server) == 1, "a create/rotate must never be sent twice"
    assert "may have been created or rotated" in result.stderr
    assert "lava keys list" in result.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["keys", "create", "--name", "ci", "--save", "--allow-duplicate-name"],
        ["keys", "rotate", "ci", "--save"],
    ],
)
def test_when_the_answer_arrived_but_the_save_failed_the_key_is_printed(
    stand_in, memory_keyring, argv
):
    server = stand_in("answer")

    def broken(*args: Any) -> None:
        raise RuntimeError("keyring daemon crashed")

    memory_keyring.set_password = broken  # type: ignore[method-assign]
    result = run_lava(*argv)
    assert result.code == 1, result.output
    assert _writes(server) == 1
    assert SPEND_KEY in result.stdout, "the only copy of the key must reach the user"
    assert "printed above, but saving it failed" in result.stderr
    assert SPEND_KEY not in result.stderr
