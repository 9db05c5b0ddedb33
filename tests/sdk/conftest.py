"""Fixtures for the gateway tests: a real emulator on a loopback socket with a fake clock.

One emulator per session (starting one costs ~50 ms, but the suite has many tests);
every test gets it reset (no keys, no requests) with the clock back at `START`.
Tests that need other gateway options (faults, token delay) start their own with
`start_gateway`. tests/emulator/test_gateway_*.py import these fixtures.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import anthropic
import httpx
import openai
import pytest

from lava_cli.emulator.gateway import GatewayOptions
from lava_cli.emulator.server import EmulatorHandle, start_in_thread, with_gateway_options

# A Wednesday, midday: a daily reset is 12 h away, weekly Monday 5 days, monthly 17 days.
START = datetime(2025, 1, 15, 12, 0, tzinfo=timezone.utc)


class FakeClock:
    """A clock tests move by hand (`advance`, `set`); the emulator calls it for `now`."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def set(self, moment: datetime) -> None:
        self.now = moment


def start_gateway(clock: FakeClock, options: GatewayOptions | None = None) -> EmulatorHandle:
    """An emulator whose gateway uses `options` (the default one uses none)."""
    return start_in_thread(
        clock=clock, app_factory=with_gateway_options(options or GatewayOptions())
    )


class Emu:
    """The running emulator plus helpers: management calls with the wallet secret,
    SDK clients for a spend key."""

    def __init__(self, handle: EmulatorHandle, clock: FakeClock) -> None:
        self.handle = handle
        self.clock = clock
        self.root = handle.root_url
        self.secret = handle.secrets[0]
        self.http = httpx.Client(
            base_url=self.root, headers={"authorization": f"Bearer {self.secret}"}, timeout=10
        )

    def create_key(self, **body: Any) -> tuple[str, str]:
        """Create a spend key; returns (spend_key_id, raw key)."""
        body.setdefault("name", "test")
        response = self.http.post("/v1/spend_keys", json=body)
        assert response.status_code == 201, response.text
        data = response.json()
        return data["spend_key_id"], data["key"]

    def key(self, key_id: str) -> dict[str, Any]:
        response = self.http.get(f"/v1/spend_keys/{key_id}")
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def update(self, key_id: str, **body: Any) -> dict[str, Any]:
        response = self.http.put(f"/v1/spend_keys/{key_id}", json=body)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def openai(self, raw: str) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.root + "/v1", api_key=raw, max_retries=0, timeout=10)

    def anthropic(self, raw: str) -> anthropic.Anthropic:
        return anthropic.Anthropic(base_url=self.root, api_key=raw, max_retries=0, timeout=10)

    def chat(self, raw: str, model: str = "gpt-4o-mini", **body: Any) -> httpx.Response:
        """A raw OpenAI-shape call, for status and header checks."""
        payload = {"model": model, "messages": [{"role": "user", "content": "hi"}], **body}
        return httpx.post(
            self.root + "/v1/chat/completions",
            json=payload,
            headers={"authorization": f"Bearer {raw}"},
            timeout=10,
        )


@pytest.fixture(scope="session")
def _session_emulator() -> Iterator[tuple[EmulatorHandle, FakeClock]]:
    clock = FakeClock()
    handle = start_gateway(clock)
    yield handle, clock
    handle.stop()


@pytest.fixture
def emu(_session_emulator: tuple[EmulatorHandle, FakeClock]) -> Iterator[Emu]:
    handle, clock = _session_emulator
    handle.reset()
    clock.set(START)
    helper = Emu(handle, clock)
    yield helper
    helper.http.close()
