"""LavaClient.server_date, the clock probe of `lava doctor`: no secret sent, any
status read, and the call's deadline holds (the probe used urllib before, whose
timeout bounds each socket read, not the answer)."""

from __future__ import annotations

import pytest

from lava_cli.api.client import LavaClient
from tests.api.test_faults import EMPTY_PAGE, RawServer, reply

SECRET = "aks_test_" + "c" * 32
DATE = "Tue, 03 Feb 2026 10:00:00 GMT"


@pytest.fixture
def server():
    servers: list[RawServer] = []

    def start(handler):
        servers.append(RawServer(handler))
        return servers[-1]

    yield start
    for one in servers:
        one.close()


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
