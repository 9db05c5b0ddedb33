"""Loopback traffic never goes through HTTP_PROXY/ALL_PROXY: plain http would hand the
proxy the Bearer secret. Other hosts keep honouring the proxy variables."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_lava

PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


class RecordingProxy:
    """A stand-in proxy on loopback: counts every connection it accepts, keeps the first
    line each sends, answers 502 and hangs up (so nothing it is handed goes anywhere)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.peers: list[int] = []
        self.lines: list[str] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return dict.fromkeys(PROXY_VARS, self.url)

    def _serve(self) -> None:
        while True:
            try:
                conn, peer = self.sock.accept()
            except OSError:
                return
            with self._lock:
                self.peers.append(peer[1])
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            data = b""
            with contextlib.suppress(OSError):
                while b"\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                with self._lock:
                    self.lines.append(data.split(b"\r\n", 1)[0].decode("latin-1"))
                conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")

    def connections(self) -> int:
        """Connections accepted so far, once every pending one has been accepted: a
        sentinel connection queues behind them, and the count is read when it arrives."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as probe:
            mine = probe.getsockname()[1]
            deadline = time.monotonic() + 10
            while mine not in self.peers and time.monotonic() < deadline:
                time.sleep(0.01)
        assert mine in self.peers, "the stand-in proxy stopped accepting"
        with self._lock:
            return len([p for p in self.peers if p != mine])

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def proxy() -> Iterator[RecordingProxy]:
    stand_in = RecordingProxy()
    yield stand_in
    stand_in.close()


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    drop = {"NO_PROXY", "no_proxy", *PROXY_VARS}
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAVA_") and k not in drop}
    env.update(
        HOME=str(tmp_path / "home"),
        LAVA_CONFIG_DIR=str(tmp_path / "cfg"),
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        **extra,
    )
    return env


def lava(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lava_cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


# --- loopback traffic never meets a proxy -------------------------------------------------


@pytest.mark.slow
def test_loopback_requests_bypass_every_proxy_variable(emulator, proxy, tmp_path):
    """keys list (management), prompt (gateway) and doctor (its Date probe), each a
    real process with all six proxy variables set and no NO_PROXY: the proxy sees nothing."""
    created = run_lava_with(emulator, "keys", "create", "--name", "p", "--json")
    raw = json.loads(created)["key"]
    env = clean_env(
        tmp_path,
        LAVA_SECRET_KEY=emulator.secrets[0],
        LAVA_BASE_URL=emulator.base_url,
        **proxy.env(),
    )
    listed = lava(["keys", "list", "--json"], env)
    assert listed.returncode == 0, listed.stderr
    assert [k["name"] for k in json.loads(listed.stdout)] == ["p"]
    prompted = lava(["prompt", "hi", "--no-stream"], {**env, "LAVA_SPEND_KEY": raw})
    assert prompted.returncode == 0, prompted.stderr
    assert prompted.stdout.strip()
    doctor = lava(["doctor", "--json"], env)
    checks = {c["check"]: c for c in json.loads(doctor.stdout)}
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert checks["clock"]["detail"].startswith("local clock is"), checks["clock"]
    assert proxy.connections() == 0, proxy.lines


def run_lava_with(emulator, *args: str) -> str:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAVA_SECRET_KEY", emulator.secrets[0])
        mp.setenv("LAVA_BASE_URL", emulator.base_url)
        result = run_lava(*args)
    assert result.code == 0, result.output
    return result.stdout


def test_other_hosts_still_go_through_the_proxy(proxy, monkeypatch):
    """Corporate networks need the proxy for the real API: https hosts keep using it."""
    for name, value in proxy.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LAVA_SECRET_KEY", "aks_live_" + "n" * 32)
    monkeypatch.setenv("LAVA_MAX_RETRIES", "0")
    result = run_lava("keys", "list")
    assert result.code == 6, result.output
    assert proxy.connections() >= 1
    assert proxy.lines[0] == "CONNECT api.lava.so:443 HTTP/1.1"
