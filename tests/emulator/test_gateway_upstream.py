"""Forwarding a model to an upstream provider: a second local server stands in for it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import openai
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from lava_cli.emulator.gateway import GatewayOptions
from lava_cli.emulator.server import EmulatorHandle, start_in_thread
from lava_cli.emulator.upstream import Upstream, parse_upstream
from tests.helpers.clock import FakeClock
from tests.helpers.gateway import START, Emu, start_gateway

pytestmark = pytest.mark.slow  # the official SDKs, a stand-in provider and an emulator per module

HELLO = [{"role": "user", "content": "hello"}]


class FakeProvider:
    """Answers like OpenAI and Anthropic would, and remembers what it was sent."""

    def __init__(self) -> None:
        self.seen: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.fail = False

    async def chat(self, request: Request) -> Response:
        body = json.loads(await request.body())
        self.seen.append((dict(request.headers), body))
        if self.fail:
            return JSONResponse({"error": {"message": "boom", "type": "server_error"}}, 503)
        usage = {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
        if not body.get("stream"):
            return JSONResponse(
                {
                    "id": "chatcmpl-up",
                    "object": "chat.completion",
                    "created": 1,
                    "model": body["model"],
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": "from upstream"},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": usage,
                }
            )

        async def events() -> AsyncIterator[bytes]:
            head = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m"}
            for delta in ({"role": "assistant", "content": ""}, {"content": "up"}):
                chunk = {**head, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
                yield f"data: {json.dumps(chunk)}\n\n".encode()
            yield f"data: {json.dumps({**head, 'choices': [], 'usage': usage})}\n\n".encode()
            yield b"data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    async def messages(self, request: Request) -> Response:
        body = json.loads(await request.body())
        self.seen.append((dict(request.headers), body))
        return JSONResponse(
            {
                "id": "msg_up",
                "type": "message",
                "role": "assistant",
                "model": body["model"],
                "content": [{"type": "text", "text": "anthropic upstream"}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": 11, "output_tokens": 5},
            }
        )


@pytest.fixture(scope="module")
def _provider() -> Iterator[tuple[FakeProvider, EmulatorHandle]]:
    fake = FakeProvider()
    app = Starlette(
        routes=[
            Route("/v1/chat/completions", fake.chat, methods=["POST"]),
            Route("/v1/messages", fake.messages, methods=["POST"]),
        ]
    )
    handle = start_in_thread(app_factory=lambda store, clock: app)
    yield fake, handle
    handle.stop()


@pytest.fixture
def provider(
    _provider: tuple[FakeProvider, EmulatorHandle],
) -> tuple[FakeProvider, EmulatorHandle]:
    _provider[0].fail = False
    _provider[0].seen.clear()
    return _provider


@pytest.fixture(scope="module")
def _emu(_provider: tuple[FakeProvider, EmulatorHandle]) -> Iterator[Emu]:
    root = _provider[1].root_url
    options = GatewayOptions(
        upstreams={
            "gpt-4o": Upstream("openai", root + "/v1", "sk-upstream", model="gpt-4o-2024"),
            "claude-haiku-4-5": Upstream("anthropic", root, "ant-upstream"),
        }
    )
    clock = FakeClock(START)
    emu = Emu(start_gateway(clock, options), clock)
    yield emu
    emu.http.close()
    emu.handle.stop()


@pytest.fixture
def emu(_emu: Emu) -> Emu:
    _emu.handle.reset()
    return _emu


def test_openai_upstream_plain_and_streaming_settle_at_reported_usage(
    emu: Emu, provider: tuple[FakeProvider, EmulatorHandle]
) -> None:
    fake, _ = provider
    key_id, raw = emu.create_key()
    client = emu.openai(raw)
    done = client.chat.completions.create(model="gpt-4o", messages=HELLO, max_tokens=50)  # type: ignore[arg-type]
    assert done.choices[0].message.content == "from upstream"
    headers, body = fake.seen[-1]
    assert headers["authorization"] == "Bearer sk-upstream"  # never the spend key
    assert body["model"] == "gpt-4o-2024" and body["max_tokens"] == 50
    chunks = list(client.chat.completions.create(model="gpt-4o", messages=HELLO, stream=True))  # type: ignore[arg-type]
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "up"
    rows = emu.http.get("/v1/requests").json()["data"]
    # gpt-4o: 7 in * 2.5/1M + 3 out * 10/1M = 0.0000475 -> 0.000048, twice
    assert [r["model_usage"]["output_tokens"] for r in rows] == [3, 3]
    assert [r["cost"] for r in rows] == ["0.000048", "0.000048"]
    assert Decimal(emu.key(key_id)["current_spend"]) == Decimal("0.000096")
    # the offline model still answers models without an upstream
    other = client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)  # type: ignore[arg-type]
    assert other.choices[0].message.content != "from upstream"


def test_reservation_admits_against_the_spend_limit(emu: Emu) -> None:
    # no max_tokens: 4096 output tokens of gpt-4o are reserved (~$0.041) > $0.01
    _, raw = emu.create_key(spend_limit={"amount": "0.01", "cycle": "daily"})
    assert emu.chat(raw, model="gpt-4o").status_code == 402
    assert emu.chat(raw, model="gpt-4o", max_tokens=500).status_code == 200


def test_anthropic_upstream(emu: Emu, provider: tuple[FakeProvider, EmulatorHandle]) -> None:
    fake, _ = provider
    _, raw = emu.create_key(request_shape="anthropic")
    message = emu.anthropic(raw).messages.create(
        model="claude-haiku-4-5",
        max_tokens=20,
        messages=HELLO,  # type: ignore[arg-type]
    )
    assert message.content[0].text == "anthropic upstream"  # type: ignore[union-attr]
    headers, _ = fake.seen[-1]
    assert headers["x-api-key"] == "ant-upstream"
    assert headers["anthropic-version"]  # the client's version is passed on
    row = emu.http.get("/v1/requests").json()["data"][0]
    assert row["model_usage"]["input_tokens"] == 11 and row["model_usage"]["output_tokens"] == 5


def test_upstream_failure_is_passed_on_and_not_charged(
    emu: Emu, provider: tuple[FakeProvider, EmulatorHandle]
) -> None:
    provider[0].fail = True
    key_id, raw = emu.create_key()
    with pytest.raises(openai.APIStatusError) as info:
        emu.openai(raw).chat.completions.create(model="gpt-4o", messages=HELLO, max_tokens=5)  # type: ignore[arg-type]
    assert info.value.status_code == 503
    assert info.value.response.headers["x-lava-request-id"].startswith("req_")
    assert emu.key(key_id)["current_spend"] == "0.00"
    assert emu.http.get("/v1/requests").json()["data"][0]["status"] == "error"


def test_unreachable_upstream_is_a_502() -> None:
    options = GatewayOptions(upstreams={"gpt-4o": Upstream("openai", "http://127.0.0.1:9", "k")})
    clock = FakeClock(START)
    emu = Emu(start_gateway(clock, options), clock)
    try:
        _, raw = emu.create_key()
        with pytest.raises(openai.InternalServerError) as info:
            emu.openai(raw).chat.completions.create(model="gpt-4o", messages=HELLO, max_tokens=5)  # type: ignore[arg-type]
        assert info.value.status_code == 502
    finally:
        emu.http.close()
        emu.handle.stop()


def test_shape_mismatch_and_parse_upstream() -> None:
    assert parse_upstream("gpt-4o=openai:https://api.openai.com/v1", "k") == (
        "gpt-4o",
        Upstream("openai", "https://api.openai.com/v1", "k"),
    )
    with pytest.raises(ValueError, match="MODEL=SHAPE:BASE_URL"):
        parse_upstream("gpt-4o", "k")
    with pytest.raises(ValueError, match="http"):
        parse_upstream("gpt-4o=openai:ftp://x", "k")


def test_anthropic_endpoint_refuses_a_model_forwarded_as_openai(emu: Emu) -> None:
    _, raw = emu.create_key()
    # claude-haiku-4-5 is forwarded Anthropic-shape; through chat/completions it is a 400
    with pytest.raises(openai.BadRequestError, match="/v1/messages"):
        emu.openai(raw).chat.completions.create(model="claude-haiku-4-5", messages=HELLO)  # type: ignore[arg-type]
