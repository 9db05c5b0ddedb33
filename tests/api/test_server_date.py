"""LavaClient.server_date, the clock probe of `lava doctor`: no secret sent, any
status read, and the call's deadline holds (the probe used urllib before, whose
timeout bounds each socket read, not the answer)."""

from __future__ import annotations

import json
import socket
import time

import pytest

from lava_cli.api.client import LavaClient
from tests.conftest import run_lava
from tests.helpers.servers import EMPTY_PAGE, reply

SECRET = "aks_test_" + "c" * 32
DATE = "Tue, 03 Feb 2026 10:00:00 GMT"
BOUND_S = 10.0  # the deadline under test is 1 s; the machine is loaded
TRICKLE_S = 20.0  # how long the stand-in keeps a probe waiting before it gives up


@pytest.fixture
def server(raw_server):
    """Stand-in servers (tests/helpers/servers.py), closed after the test."""
    return raw_server


def test_the_probe_sends_no_secret_once_and_reads_an_error_page_date(server):
    stand_in = server(
        lambda c, h, n: reply(c, "503 Service Unavailable", b"{}", "application/json",
                              f"Date: {DATE}\r\n")
    )  # fmt: skip
    with LavaClient(stand_in.base_url, SECRET, timeout=5, max_retries=3) as client:
        assert client.server_date() == DATE
    [head] = stand_in.requests  # a 503 is not retried: its Date is the answer
    assert head.startswith(b"GET /v1/models ")
    assert b"authorization" not in head.lower() and SECRET.encode() not in head


def test_no_date_header_is_none(server):
    stand_in = server(lambda c, h, n: reply(c, "200 OK", EMPTY_PAGE, "application/json"))
    with LavaClient(stand_in.base_url, None, timeout=5) as client:
        assert client.server_date() is None


def trickle_on_second_models(conn: socket.socket, head: bytes, n: int) -> None:
    """The first GET /models answers (the reachability check); the next one, the clock
    probe, gets its status line a byte at a time, each well inside a read timeout."""
    if n == 1:
        reply(conn, "200 OK", EMPTY_PAGE, "application/json", f"Date: {DATE}\r\n")
        return
    started = time.monotonic()
    for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"x" * 10_000:
        if time.monotonic() - started > TRICKLE_S:
            return
        conn.sendall(bytes([byte]))
        time.sleep(0.3)


@pytest.mark.slow
def test_doctor_clock_probe_ends_at_the_deadline(server, monkeypatch):
    stand_in = server(trickle_on_second_models)
    monkeypatch.setenv("LAVA_BASE_URL", stand_in.base_url)
    monkeypatch.setenv("LAVA_TIMEOUT", "1")
    started = time.monotonic()
    result = run_lava("doctor", "--json")
    seconds = time.monotonic() - started
    checks = {c["check"]: c for c in json.loads(result.stdout)}
    assert seconds < BOUND_S, seconds
    assert checks["API reachable"]["status"] == "pass"
    assert checks["clock"]["detail"].startswith("not measured: no answer from"), checks["clock"]
    assert "timed out after 1 s" in checks["clock"]["detail"]
    assert result.code == 1  # no secret in this environment: the credential check fails
