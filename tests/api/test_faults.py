"""Fault paths against real sockets: a stand-in server that misbehaves on purpose.

Each case drives the real CLI (and so the real httpx client) at a loopback port
whose server answers HTML 502s, truncated JSON, nothing at all, or a reset.
"""

from __future__ import annotations

import json
import socket
import struct
import time
from collections.abc import Callable

import pytest

from tests.conftest import run_lava
from tests.helpers.servers import EMPTY_PAGE, Handler, RawServer, closed_port, reply

SECRET = "aks_test_" + "f" * 32


@pytest.fixture
def serve(raw_server, monkeypatch: pytest.MonkeyPatch) -> Callable[[Handler], RawServer]:
    """A stand-in server the CLI is logged in to through the environment."""

    def start(handler: Handler) -> RawServer:
        server = raw_server(handler)
        monkeypatch.setenv("LAVA_SECRET_KEY", SECRET)
        monkeypatch.setenv("LAVA_BASE_URL", server.base_url)
        return server

    return start


@pytest.mark.slow
def test_html_502_is_retried_then_exit_6(serve, monkeypatch):
    monkeypatch.setenv("LAVA_MAX_RETRIES", "1")
    server = serve(
        lambda c, h, n: reply(c, "502 Bad Gateway", b"<html><h1>502</h1></html>", "text/html")
    )
    result = run_lava("keys", "list")
    assert result.code == 6, result.output
    assert len(server.requests) == 2  # first try + one retry
    assert "502" in result.stderr and "Traceback" not in result.output
    assert result.stderr.startswith("error: ")


def test_truncated_json_body_exit_6(serve):
    serve(lambda c, h, n: reply(c, "200 OK", b'{"data": [{"spend_key_id": ', "application/json"))
    result = run_lava("keys", "list")
    assert result.code == 6
    assert "unreadable answer" in result.stderr
    assert "Traceback" not in result.output


def test_body_cut_short_of_content_length_exit_6(serve, monkeypatch):
    monkeypatch.setenv("LAVA_MAX_RETRIES", "0")

    def cut(conn: socket.socket, head: bytes, n: int) -> None:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"
        )

    serve(cut)
    result = run_lava("keys", "list")
    assert result.code == 6, result.output
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_server_that_hangs_times_out_exit_6(serve, monkeypatch):
    monkeypatch.setenv("LAVA_TIMEOUT", "0.5")
    monkeypatch.setenv("LAVA_MAX_RETRIES", "0")
    serve(lambda c, h, n: time.sleep(3))
    started = time.monotonic()
    result = run_lava("keys", "list")
    assert result.code == 6
    assert "timed out" in result.stderr
    assert time.monotonic() - started < 2.5


def test_connection_reset_exit_6(serve, monkeypatch):
    monkeypatch.setenv("LAVA_MAX_RETRIES", "0")

    def reset(conn: socket.socket, head: bytes, n: int) -> None:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    serve(reset)
    result = run_lava("keys", "list")
    assert result.code == 6, result.output
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_429_with_retry_after_then_success(serve):
    def limited(conn: socket.socket, head: bytes, n: int) -> None:
        if n == 1:
            body = json.dumps({"error": {"message": "slow down", "code": "rate_limit_exceeded"}})
            reply(
                conn,
                "429 Too Many Requests",
                body.encode(),
                "application/json",
                "Retry-After: 1\r\n",
            )
        else:
            reply(conn, "200 OK", EMPTY_PAGE, "application/json")

    server = serve(limited)
    started = time.monotonic()
    result = run_lava("keys", "list", "--json")
    assert result.code == 0, result.output
    assert json.loads(result.stdout) == []
    assert len(server.requests) == 2
    assert time.monotonic() - started >= 0.9


def test_long_retry_after_is_not_waited_for(serve):
    def limited(conn: socket.socket, head: bytes, n: int) -> None:
        body = json.dumps({"error": "Too many requests"})
        reply(
            conn,
            "429 Too Many Requests",
            body.encode(),
            "application/json",
            "Retry-After: 3600\r\n",
        )

    server = serve(limited)
    result = run_lava("keys", "list")
    assert result.code == 5
    assert len(server.requests) == 1
    assert "(in 1 h)" in result.stderr  # said as a local clock time, not 3600 s
    assert "Too many requests" in result.stderr  # `error` as a plain string


@pytest.mark.slow
def test_create_is_never_retried_and_says_the_key_may_exist(serve, monkeypatch):
    monkeypatch.setenv("LAVA_TIMEOUT", "0.5")
    server = serve(lambda c, h, n: time.sleep(2))
    # --allow-duplicate-name: no list of the names first, only the create is sent.
    result = run_lava("keys", "create", "--name", "ci", "--allow-duplicate-name")
    assert result.code == 6
    assert len(server.requests) == 1, "create must not be retried"
    assert "may have been created" in result.stderr
    assert "lava keys list" in result.stderr


def test_create_503_is_not_retried(serve):
    server = serve(lambda c, h, n: reply(c, "503 Service Unavailable", b"{}", "application/json"))
    # --allow-duplicate-name: no list of the names first, only the create is sent.
    result = run_lava("keys", "create", "--name", "ci", "--allow-duplicate-name")
    assert result.code == 6
    assert len(server.requests) == 1


def test_connection_refused_exit_6(monkeypatch):
    port = closed_port()  # nothing listens there now
    monkeypatch.setenv("LAVA_SECRET_KEY", SECRET)
    monkeypatch.setenv("LAVA_BASE_URL", f"http://127.0.0.1:{port}/v1")
    monkeypatch.setenv("LAVA_MAX_RETRIES", "0")
    result = run_lava("keys", "list")
    assert result.code == 6
    assert "cannot connect" in result.stderr


def test_wrong_shape_json_is_an_api_error_not_a_traceback(serve):
    serve(lambda c, h, n: reply(c, "200 OK", b'{"data": "nope"}', "application/json"))
    result = run_lava("keys", "list")
    assert result.code == 1
    assert result.stderr.startswith("error: unexpected answer from the API")


def test_verbose_logs_requests_without_the_secret(serve):
    serve(lambda c, h, n: reply(c, "200 OK", EMPTY_PAGE, "application/json"))
    result = run_lava("--verbose", "keys", "list", "--json")
    assert result.code == 0
    assert "> GET http://127.0.0.1:" in result.stderr
    assert "< 200 OK" in result.stderr
    assert SECRET not in result.output
    assert SECRET[9:] not in result.output


def test_user_agent_and_auth_header_are_sent(serve):
    server = serve(lambda c, h, n: reply(c, "200 OK", EMPTY_PAGE, "application/json"))
    assert run_lava("keys", "list").code == 0
    head = server.requests[0].decode()
    assert "user-agent: lava-cli/" in head.lower()
    assert f"authorization: bearer {SECRET}" in head.lower()


def test_tls_is_verified_for_https_and_skipped_only_for_loopback_http():
    from lava_cli.api.client import LavaClient
    from lava_cli.api.transport import tls_verify

    assert tls_verify("https://api.lava.so/v1") is True
    assert tls_verify("http://127.0.0.1:8787/v1") is False
    with pytest.raises(Exception, match="refusing plain http"):
        LavaClient("http://api.lava.so/v1", SECRET)
