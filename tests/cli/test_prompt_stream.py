"""`lava prompt` streaming as a real process: flushed tokens, Ctrl-C, a cut stream."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest

from lava_cli.emulator.faults import Faults
from lava_cli.emulator.gateway import GatewayOptions
from lava_cli.emulator.server import start_in_thread, with_gateway_options
from tests.helpers.env import clean_env
from tests.helpers.process import spawn_lava

pytestmark = pytest.mark.slow


def spawn(base_url: str, raw: str, *args: str) -> subprocess.Popen[bytes]:
    env = clean_env(LAVA_BASE_URL=base_url, LAVA_SPEND_KEY=raw)
    return spawn_lava(["prompt", *args], env, text=False)


def new_key(emu: object) -> str:
    response = httpx.post(
        emu.base_url + "/spend_keys",  # type: ignore[attr-defined]
        json={"name": "s"},
        headers={"Authorization": f"Bearer {emu.secrets[0]}"},  # type: ignore[attr-defined]
    )
    return str(response.json()["key"])


@pytest.fixture(scope="module")
def slow_emulator() -> Iterator[object]:
    options = GatewayOptions(token_delay_ms=40, reply_tokens=100)
    with start_in_thread(app_factory=with_gateway_options(options)) as emu:
        yield emu


def test_first_token_arrives_long_before_the_stream_ends(slow_emulator):
    proc = spawn(slow_emulator.base_url, new_key(slow_emulator), "tell me a story")
    assert proc.stdout is not None
    started = time.monotonic()
    first = proc.stdout.read1(64)  # returns as soon as the first flushed bytes arrive
    first_at = time.monotonic() - started
    rest, _ = proc.communicate(timeout=60)
    total = time.monotonic() - started
    assert first.strip() and proc.returncode == 0
    # 100 tokens at 40 ms each take ~4 s; the first one must not wait for the last.
    assert total > 3.0
    assert first_at < total - 2.0, (first_at, total)
    assert (first + rest).endswith(b"\n")


def test_ctrl_c_mid_stream_exits_130_cleanly(slow_emulator):
    proc = spawn(slow_emulator.base_url, new_key(slow_emulator), "a long answer please")
    assert proc.stdout is not None
    assert proc.stdout.read1(64).strip()  # the reply is streaming
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert b"Traceback" not in err
    assert b"interrupted" in err


def test_a_stream_cut_by_the_server_exits_6_and_keeps_the_text():
    options = GatewayOptions(reply_tokens=200, faults=Faults(["drop-mid-stream:1"], seed=1))
    with start_in_thread(app_factory=with_gateway_options(options)) as emu:
        proc = spawn(emu.base_url, new_key(emu), "hello")
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 6, err
    assert out.strip()  # what arrived before the cut was printed
    assert out.endswith(b"\n")
    assert b"Traceback" not in err
    assert b"error:" in err
