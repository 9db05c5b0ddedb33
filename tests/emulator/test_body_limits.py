"""Request bodies are capped and never buffered past the cap (bodies.py).

A raw socket client says how big its body is (or sends it chunked) and the emulator
must answer before the body is sent: 401 for a caller without a usable key (the key
is checked first), 413 over the cap. A subprocess emulator's peak memory shows that a
300 MB upload is not kept.
"""

from __future__ import annotations

import json
import select
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lava_cli.emulator.server import EmulatorHandle
from tests.helpers.emulators import serve_emulator
from tests.helpers.env import clean_env

HUGE = 300_000_000
MAX_BODY_BYTES = 8 * 1024 * 1024  # the documented cap (README, bodies.py)
CHAT = b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}'


def _connect(emu_root: str) -> socket.socket:
    host, port = emu_root.removeprefix("http://").rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.settimeout(10)
    return sock


def _head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        "Host: emulator",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP response (Content-Length framed, as the emulator's errors are)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)  # socket.timeout here: the server is waiting for the body
        if not chunk:
            raise AssertionError(f"connection closed after {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        body += sock.recv(65536)
    return int(status_line.split()[1]), headers, body


def _ask_without_the_body(emu: EmulatorHandle, method: str, path: str, **headers: str) -> Any:
    """Announce a 300 MB body, send none of it, and read the answer."""
    with _connect(emu.root_url) as sock:
        sock.sendall(_head(method, path, {"Content-Length": str(HUGE), **headers}))
        status, _, body = _response(sock)
    return status, json.loads(body) if body.startswith(b"{") else body.decode()


@pytest.fixture
def keys(emu: EmulatorHandle, api: httpx.Client) -> dict[str, str]:
    made = {}
    for shape in ("openai", "anthropic"):
        made[shape] = api.post("/spend_keys", json={"name": shape, "request_shape": shape}).json()
    return {
        "openai": made["openai"]["key"],
        "anthropic": made["anthropic"]["key"],
        "key_id": made["openai"]["spend_key_id"],
    }


def test_the_gateway_checks_the_key_before_it_reads_a_byte(
    emu: EmulatorHandle, keys: dict[str, str]
) -> None:
    status, body = _ask_without_the_body(emu, "POST", "/v1/chat/completions")
    assert status == 401 and body["error"]["code"] == "invalid_api_key"
    status, body = _ask_without_the_body(emu, "POST", "/v1/messages", **{"x-api-key": "lava_sk_x"})
    assert status == 401 and body["type"] == "error"
    # a key of the other shape: 403, still without reading the body
    status, body = _ask_without_the_body(
        emu, "POST", "/v1/messages", Authorization=f"Bearer {keys['openai']}"
    )
    assert status == 403 and body["error"]["code"] == "wrong_request_shape"


def test_an_announced_body_over_the_cap_is_413_before_it_is_sent(
    emu: EmulatorHandle, keys: dict[str, str]
) -> None:
    secret = f"Bearer {emu.secrets[0]}"
    status, body = _ask_without_the_body(
        emu, "POST", "/v1/chat/completions", Authorization=f"Bearer {keys['openai']}"
    )
    assert status == 413
    assert body["error"]["code"] == "request_too_large" and f"{MAX_BODY_BYTES:,}" in str(body)
    status, body = _ask_without_the_body(
        emu, "POST", "/v1/messages", Authorization=f"Bearer {keys['anthropic']}"
    )
    assert status == 413 and body["type"] == "error"
    assert body["error"]["type"] == "request_too_large"
    for method, path in (
        ("POST", "/v1/spend_keys"),
        ("POST", "/v1/manage/spend_keys"),
        ("PUT", f"/v1/spend_keys/{keys['key_id']}"),
    ):
        status, body = _ask_without_the_body(emu, method, path, Authorization=secret)
        assert status == 413, (method, path, body)
        assert body == {"error": {"message": body["error"]["message"], "code": "request_too_large"}}
    # management checks the secret first, like the gateway
    status, body = _ask_without_the_body(emu, "POST", "/v1/spend_keys")
    assert status == 401
    status, body = _ask_without_the_body(emu, "POST", "/v1/auth/callback")
    assert status == 413 and body["error"]["code"] == "request_too_large"
    status, page = _ask_without_the_body(emu, "POST", "/auth/connect/decision")
    assert status == 413 and "<html" in page


def test_a_chunked_body_is_refused_once_it_passes_the_cap(
    emu: EmulatorHandle, keys: dict[str, str]
) -> None:
    """No Content-Length to go by: the emulator counts, and answers 413 a little past
    the cap while the client is still sending."""
    chunk = b"x" * 65536
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    headers = {"Authorization": f"Bearer {keys['openai']}", "Transfer-Encoding": "chunked"}
    with _connect(emu.root_url) as sock:
        sock.sendall(_head("POST", "/v1/chat/completions", headers))
        sent, pending, answered = 0, b"", b""
        while not answered and sent < 8 * MAX_BODY_BYTES:
            readable, writable, _ = select.select([sock], [sock], [], 10)
            if readable:
                answered = sock.recv(65536)
            elif writable:
                pending = pending or framed
                n = sock.send(pending)
                pending, sent = pending[n:], sent + n
            else:
                raise AssertionError("the emulator neither reads nor answers")
        assert answered, f"no answer after {sent:,} bytes (the old emulator read it all)"
        assert answered.startswith(b"HTTP/1.1 413 ")
        # past the cap by no more than what the kernel's socket buffers hold in between
        assert sent < 3 * MAX_BODY_BYTES, sent


@pytest.mark.slow
def test_a_body_under_the_cap_still_works(emu: EmulatorHandle, keys: dict[str, str]) -> None:
    padding = "word " * ((MAX_BODY_BYTES - 4096) // 5)
    payload = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": padding}]}
    r = httpx.post(
        emu.base_url + "/chat/completions",
        json=payload,
        headers={"authorization": f"Bearer {keys['openai']}"},
        timeout=60,
    )
    assert r.status_code == 200, r.text[:300]
    assert r.json()["usage"]["prompt_tokens"] > 1_000_000


# --- memory, in a subprocess emulator -------------------------------------------------------

SECRET = "aks_test_" + "M" * 32


def _peak_rss_kib(pid: int) -> int:
    """VmHWM: the process's peak resident set so far, in KiB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    env = clean_env(LAVA_SECRET_KEY=SECRET)
    served = serve_emulator(["--db", str(tmp_path / "emu.sqlite3")], env)
    yield served.proc, served.root
    served.stop()


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_an_unauthenticated_300_mb_post_does_not_grow_the_emulator(
    served: tuple[subprocess.Popen[str], str],
) -> None:
    proc, root = served
    auth = {"authorization": f"Bearer {SECRET}"}
    raw = httpx.post(root + "/v1/spend_keys", json={"name": "m"}, headers=auth).json()["key"]
    assert httpx.post(root + "/v1/chat/completions", content=CHAT,
                      headers={"authorization": f"Bearer {raw}"}).status_code == 200  # fmt: skip
    before = _peak_rss_kib(proc.pid)
    block = b"x" * (1 << 20)
    answers = []
    for headers in ({}, {"Authorization": f"Bearer {raw}"}):  # 401, then 413
        with _connect(root) as sock:
            sock.sendall(_head("POST", "/v1/chat/completions",
                               {"Content-Length": str(HUGE), **headers}))  # fmt: skip
            answers.append(_response(sock)[0])  # answered before the body is sent
            sent = 0
            try:
                while sent < HUGE:  # then send all of it anyway, as a careless client would
                    sock.sendall(block)
                    sent += len(block)
            except OSError:
                pass  # the server may close once it has answered
    grown_mib = (_peak_rss_kib(proc.pid) - before) / 1024
    assert answers == [401, 413]
    assert grown_mib < 64, f"the emulator's peak memory grew by {grown_mib:.0f} MiB"


def test_only_bodies_py_reads_a_request_body() -> None:
    """Every route that reads a body goes through bodies.read_body (the cap)."""
    import re

    import lava_cli.emulator as package

    reads = re.compile(r"\.(body|json|form|stream)\(\)")
    offenders = [
        f"{path.name}:{n}"
        for path in Path(package.__file__).parent.glob("*.py")
        if path.name != "bodies.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if reads.search(line) and "request" in line
    ]
    assert offenders == []
