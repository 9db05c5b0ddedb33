"""Fault injection and the per-token delay, each on its own emulator."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import httpx
import openai
import pytest

from lava_cli.emulator.faults import Faults
from lava_cli.emulator.gateway import GatewayOptions
from tests.helpers.clock import FakeClock
from tests.helpers.gateway import START, Emu, start_gateway

pytestmark = pytest.mark.slow  # an emulator per test, injected delays and faults

HELLO = [{"role": "user", "content": "hello"}]


@pytest.fixture
def make_emu() -> Iterator[Callable[..., Emu]]:
    started: list[Emu] = []

    def make(**options: Any) -> Emu:
        clock = FakeClock(START)
        handle = start_gateway(clock, GatewayOptions(**options))
        started.append(Emu(handle, clock))
        return started[-1]

    yield make
    for emu in started:
        emu.http.close()
        emu.handle.stop()


def test_fault_500_in_both_shapes_is_not_charged(make_emu: Callable[..., Emu]) -> None:
    emu = make_emu(faults=Faults(["500"]))
    key_id, raw = emu.create_key()
    with pytest.raises(openai.InternalServerError) as oa:
        emu.openai(raw).chat.completions.create(model="gpt-4o", messages=HELLO)  # type: ignore[arg-type]
    assert oa.value.response.headers["x-lava-request-id"].startswith("req_")
    _, anthropic_raw = emu.create_key(request_shape="anthropic")
    with pytest.raises(anthropic.InternalServerError) as an:
        emu.anthropic(anthropic_raw).messages.create(
            model="claude-haiku-4-5",
            max_tokens=5,
            messages=HELLO,  # type: ignore[arg-type]
        )
    assert an.value.body["error"]["type"] == "api_error"  # type: ignore[index]
    assert emu.key(key_id)["total_requests"] == 0


def test_fault_429_has_retry_after(make_emu: Callable[..., Emu]) -> None:
    emu = make_emu(faults=Faults(["429:1"]))
    _, raw = emu.create_key()
    with pytest.raises(openai.RateLimitError) as info:
        emu.openai(raw).chat.completions.create(model="gpt-4o", messages=HELLO)  # type: ignore[arg-type]
    assert info.value.response.headers["retry-after"] == "1"


def test_fault_rate_is_seeded(make_emu: Callable[..., Emu]) -> None:
    emu = make_emu(faults=Faults(["500:0.5"], seed=42))
    _, raw = emu.create_key()
    statuses = [emu.chat(raw, max_tokens=1).status_code for _ in range(20)]
    twin = Faults(["500:0.5"], seed=42)
    assert statuses == [500 if twin.roll("500") else 200 for _ in range(20)]
    assert 0 < statuses.count(500) < 20


def test_slow_first_byte(make_emu: Callable[..., Emu]) -> None:
    emu = make_emu(faults=Faults(["slow-first-byte"], first_byte_delay_s=0.3))
    _, raw = emu.create_key()
    began = time.monotonic()
    assert emu.chat(raw, max_tokens=1).status_code == 200
    assert time.monotonic() - began >= 0.3


def test_drop_mid_stream_cuts_the_connection_and_charges(make_emu: Callable[..., Emu]) -> None:
    emu = make_emu(faults=Faults(["drop-mid-stream"]))
    key_id, raw = emu.create_key()
    received = []
    with pytest.raises((httpx.RemoteProtocolError, openai.APIConnectionError)):
        stream = emu.openai(raw).chat.completions.create(
            model="gpt-4o",
            messages=HELLO,
            stream=True,  # type: ignore[arg-type]
        )
        for chunk in stream:
            received.append(chunk)
    assert 0 < len(received) < 64
    with pytest.raises((httpx.RemoteProtocolError, openai.APIConnectionError)):
        emu.openai(raw).chat.completions.create(model="gpt-4o", messages=HELLO)  # type: ignore[arg-type]
    assert emu.key(key_id)["total_requests"] == 2


def test_token_delay_paces_the_stream(make_emu: Callable[..., Emu]) -> None:
    emu = make_emu(token_delay_ms=40)
    _, raw = emu.create_key()
    began = time.monotonic()
    arrivals = []
    with emu.http.stream(
        "POST",
        "/v1/chat/completions",
        json={"model": "gpt-4o", "messages": HELLO, "stream": True, "max_tokens": 5},
        headers={"authorization": f"Bearer {raw}"},
    ) as response:
        for line in response.iter_lines():
            if line.startswith("data: "):
                arrivals.append(time.monotonic() - began)
    assert arrivals[-1] >= 0.2  # 8 frames, 40 ms apart
    assert arrivals[1] < arrivals[-1] - 0.1  # the first token came well before the end
