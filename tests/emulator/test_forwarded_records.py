"""The record of a forwarded request: ``pending`` while its provider answers, then
``completed`` with the provider's own answer id (or ``error``, charged nothing).

A second local server stands in for the provider; its stream waits on an event the
test sets, so "in flight" is a state the test holds, not a race it hopes to win.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from lava_cli.emulator.gateway import GatewayOptions
from lava_cli.emulator.server import EmulatorHandle, start_in_thread
from lava_cli.emulator.upstream import Upstream
from tests.conftest import wait_for
from tests.helpers.clock import FakeClock
from tests.helpers.gateway import START, Emu, start_gateway

HELLO = [{"role": "user", "content": "hello"}]


class HeldProvider:
    """OpenAI-shaped: a stream that sends its first chunk, then waits for `release`."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.fail = False

    async def chat(self, request: Request) -> Response:
        body = json.loads(await request.body())
        if self.fail:
            return JSONResponse({"error": {"message": "down", "type": "server_error"}}, 503)
        head = {"id": "chatcmpl-upstream-7", "object": "chat.completion.chunk", "created": 1}
        usage = {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6}
        if not body.get("stream"):
            return JSONResponse(
                {
                    **head,
                    "object": "chat.completion",
                    "model": body["model"],
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": "ok"},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": usage,
                }
            )

        async def events() -> AsyncIterator[bytes]:
            first = {**head, "model": "m", "choices": [{"index": 0, "delta": {"content": "a"}}]}
            yield f"data: {json.dumps(first)}\n\n".encode()
            while not self.release.is_set():
                await asyncio.sleep(0.01)
            yield f"data: {json.dumps({**head, 'model': 'm', 'choices': [], 'usage': usage})}\n\n".encode()
            yield b"data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")


@pytest.fixture(scope="module")
def provider() -> Iterator[tuple[HeldProvider, EmulatorHandle]]:
    held = HeldProvider()
    app = Starlette(routes=[Route("/v1/chat/completions", held.chat, methods=["POST"])])
    handle = start_in_thread(app_factory=lambda store, clock: app)
    yield held, handle
    held.release.set()
    handle.stop()


@pytest.fixture
def emu(provider: tuple[HeldProvider, EmulatorHandle]) -> Iterator[Emu]:
    held, upstream = provider
    held.release.clear()
    held.fail = False
    options = GatewayOptions(
        upstreams={"gpt-4o": Upstream("openai", upstream.root_url + "/v1", "sk-upstream")}
    )
    clock = FakeClock(START)
    helper = Emu(start_gateway(clock, options), clock)
    yield helper
    helper.http.close()
    helper.handle.stop()


def _record(emu: Emu, request_id: str) -> dict[str, Any]:
    answer = emu.http.get(f"/v1/requests/{request_id}")
    assert answer.status_code == 200, answer.text
    record: dict[str, Any] = answer.json()
    return record


def test_a_forwarded_stream_is_pending_until_it_ends(
    emu: Emu, provider: tuple[HeldProvider, EmulatorHandle]
) -> None:
    held, _ = provider
    _, raw = emu.create_key()
    body = {"model": "gpt-4o", "messages": HELLO, "stream": True, "max_tokens": 100}
    with httpx.stream(
        "POST",
        emu.root + "/v1/chat/completions",
        json=body,
        headers={"authorization": f"Bearer {raw}"},
        timeout=30,
    ) as response:
        request_id = response.headers["x-lava-request-id"]
        lines = response.iter_lines()
        assert next(lines).startswith("data: ")  # the first chunk went through
        pending = _record(emu, request_id)
        assert pending["status"] == "pending" and pending["response_id"] is None
        # the reservation: 1 token in + max_tokens out at gpt-4o's prices
        assert pending["model_usage"]["output_tokens"] == 100
        held.release.set()
        assert [line for line in lines if line][-1] == "data: [DONE]"
    wait_for(lambda: _record(emu, request_id)["status"] != "pending", "the request to settle")
    done = _record(emu, request_id)
    assert done["status"] == "completed"
    assert done["response_id"] == "chatcmpl-upstream-7"  # the provider's own id
    usage = done["model_usage"]
    # settled at what the provider reported: 4 in at $2.50/1M, 2 out at $10/1M
    assert (usage["input_tokens"], usage["output_tokens"]) == (4, 2)
    assert (usage["input_cost"], usage["output_cost"], usage["total_cost"]) == (
        "0.00001",
        "0.00002",
        "0.00003",
    )
    assert done["charge"]["amount"] == done["cost"] == "0.00003"


def test_a_forwarded_answer_records_the_providers_id(emu: Emu) -> None:
    _, raw = emu.create_key()
    answer = emu.chat(raw, model="gpt-4o", max_tokens=5)
    assert answer.status_code == 200
    record = _record(emu, answer.headers["x-lava-request-id"])
    assert record["status"] == "completed"
    assert record["response_id"] == answer.json()["id"] == "chatcmpl-upstream-7"
    assert record["provider_key_type"] == "managed"


def test_a_failed_provider_leaves_an_error_record_charged_nothing(
    emu: Emu, provider: tuple[HeldProvider, EmulatorHandle]
) -> None:
    provider[0].fail = True
    key_id, raw = emu.create_key()
    answer = emu.chat(raw, model="gpt-4o", max_tokens=5)
    assert answer.status_code == 503
    record = _record(emu, answer.headers["x-lava-request-id"])
    assert record["status"] == "error" and record["response_id"] is None
    assert record["cost"] == record["model_usage"]["input_cost"] == "0.00"
    assert [t["cost"] for t in record["charge"]["breakdown"]] == ["0.00", "0.00"]
    assert emu.key(key_id)["current_spend"] == "0.00"
