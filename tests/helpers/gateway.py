"""The gateway under test: a real emulator on a loopback socket with a fake clock,
and `Emu`, which holds it with the wallet secret and hands out SDK clients.

One emulator per session (starting one costs ~50 ms, but the suite has many tests);
every test gets it reset (no keys, no requests) with the clock back at `START`.
Tests that need other gateway options (faults, token delay, upstreams) start their own
with `start_gateway(FakeClock(START), options)`.

The fixtures `emu` (and the session one it resets) are registered for tests/sdk by its
conftest.py; a test module elsewhere imports them from here by name.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from lava_cli.emulator.gateway import GatewayOptions
from lava_cli.emulator.server import EmulatorHandle, start_in_thread, with_gateway_options
from tests.helpers.clock import FakeClock

if TYPE_CHECKING:  # the SDKs take ~3 s to import: only the tests that use them pay it
    import anthropic
    import openai

# A Wednesday, midday: a daily reset is 12 h away, weekly Monday 5 days, monthly 17 days.
START = datetime(2025, 1, 15, 12, 0, tzinfo=timezone.utc)


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
        import openai

        return openai.OpenAI(base_url=self.root + "/v1", api_key=raw, max_retries=0, timeout=10)

    def anthropic(self, raw: str) -> anthropic.Anthropic:
        import anthropic

        return anthropic.Anthropic(base_url=self.root, api_key=raw, max_retries=0, timeout=10)

    def chat(self, raw: str, model: str = "gpt-4o-mini", **body: Any) -> httpx.Response:
        """A raw OpenAI-shape call, for status and header checks.

        Through the one client (its header replaced by the spend key's): a new client
        per call would load the CA bundle each time, ~30 ms, for a plain-http socket."""
        payload = {"model": model, "messages": [{"role": "user", "content": "hi"}], **body}
        return self.http.post(
            "/v1/chat/completions", json=payload, headers={"authorization": f"Bearer {raw}"}
        )


@pytest.fixture(scope="session")
def _session_emulator() -> Iterator[Emu]:
    clock = FakeClock(START)
    helper = Emu(start_gateway(clock), clock)
    yield helper
    helper.http.close()
    helper.handle.stop()


@pytest.fixture
def emu(_session_emulator: Emu) -> Emu:
    """The session's gateway emulator, reset: no keys, no requests, the clock at START."""
    _session_emulator.handle.reset()
    _session_emulator.clock.set(START)
    return _session_emulator
