"""Every wait has a deadline, every read a cap (design pattern 13), against real sockets.

Stand-in servers (the raw-socket `RawServer` of tests/helpers/servers.py) trickle headers and
bodies, page forever, keep a stream alive with comments, and send bodies, chunked
streams and SSE lines without end. The CLI runs in a child process, so a regression
is a failed test (the child is killed after CHILD_TIMEOUT_S), never a hung suite;
the child reports its own peak memory, and its address space is capped so an
unbounded read fails fast instead of swapping the machine.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import run_lava
from tests.helpers.servers import EMPTY_PAGE, Handler, RawServer, reply

SECRET = "aks_test_" + "d" * 32
SPEND_KEY = "lava_sk_" + "t" * 32
CHILD_TIMEOUT_S = 30
BOUND_S = 10.0  # generous: the deadlines under test are 1 s, the machine is loaded
FLOOD_BYTES = 200 * 1024 * 1024  # what a flooding server offers before it gives up
CHILD_MEMORY = 1536 * 1024 * 1024  # address-space cap of the child (an old client dies)
BLOCK = b"x" * 65536
MEMORY_BOUND_MIB = 100  # the child peaks near 30 MiB; an uncapped read of FLOOD_BYTES, 200+

pytestmark = pytest.mark.slow

CHILD = f"""
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({CHILD_MEMORY}, {CHILD_MEMORY}))
from lava_cli.main import main
sys.argv = ["lava", *sys.argv[1:]]
try:
    main()
finally:
    # VmHWM: this program's own peak (ru_maxrss would carry pytest's over the exec).
    with open("/proc/self/status") as fh:
        peak = [ln.split()[1] for ln in fh if ln.startswith("VmHWM:")][0]
    sys.__stderr__.write(f"\\nPEAK_RSS_KIB={{peak}}\\n")
"""


@dataclass
class Child:
    code: int
    stdout: str
    stderr: str
    seconds: float
    peak_mib: float


def lava_child(*args: str, **env: str) -> Child:
    """Run `lava ARGS` in a fresh interpreter with this test's environment plus `env`."""

    started = time.monotonic()
    try:
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, *args],
            capture_output=True,
            text=True,
            env={**os.environ, **env},
            timeout=CHILD_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"`lava {' '.join(args)}` still running after {CHILD_TIMEOUT_S} s")
    seconds = time.monotonic() - started
    lines = proc.stderr.rstrip("\n").splitlines()
    peak = [ln for ln in lines if ln.startswith("PEAK_RSS_KIB=")]
    stderr = "\n".join(ln for ln in lines if not ln.startswith("PEAK_RSS_KIB=")).strip()
    peak_mib = int(peak[-1].split("=")[1]) / 1024 if peak else float("nan")
    return Child(proc.returncode, proc.stdout, stderr, seconds, peak_mib)


def assert_exit_6(child: Child, *words: str) -> None:
    """Exit 6 with one `error:` line (+ hint) naming what happened, no traceback."""
    assert child.code == 6, (child.code, child.stdout, child.stderr)
    assert child.stderr.startswith("error: "), child.stderr
    assert "Traceback" not in child.stderr and "this is a bug" not in child.stderr
    for word in words:
        assert word in child.stderr, (word, child.stderr)
    assert child.seconds < BOUND_S, child.seconds


class Sent:
    """Bytes a flooding handler managed to push into the socket, across threads."""

    def __init__(self) -> None:
        self.total = 0
        self.lock = threading.Lock()

    def add(self, n: int) -> None:
        with self.lock:
            self.total += n


@pytest.fixture
def serve(raw_server, monkeypatch: pytest.MonkeyPatch) -> Callable[[Handler], RawServer]:
    """A stand-in server both keys point at through the environment, no retries."""

    def start(handler: Handler) -> RawServer:
        server = raw_server(handler)
        monkeypatch.setenv("LAVA_SECRET_KEY", SECRET)
        monkeypatch.setenv("LAVA_SPEND_KEY", SPEND_KEY)
        monkeypatch.setenv("LAVA_BASE_URL", server.base_url)
        monkeypatch.setenv("LAVA_MAX_RETRIES", "0")
        return server

    return start


def trickle(conn: socket.socket, data: bytes, every: float = 0.2, limit_s: float = 60) -> None:
    """Send `data` one byte at a time: each read sees progress, the whole never ends."""
    stop = time.monotonic() + limit_s
    for i in range(len(data)):
        if time.monotonic() > stop:
            return
        conn.sendall(data[i : i + 1])
        time.sleep(every)


def flood(conn: socket.socket, sent: Sent, block: bytes = BLOCK, chunked: bool = False) -> None:
    """Send `block` until the client hangs up or FLOOD_BYTES have gone."""
    frame = f"{len(block):x}\r\n".encode() + block + b"\r\n" if chunked else block
    while sent.total < FLOOD_BYTES:
        conn.sendall(frame)
        sent.add(len(block))


# -- whole-request deadline (LAVA_TIMEOUT) -------------------------------------------


def test_trickled_headers_hit_the_whole_request_deadline(serve):
    def slow_head(conn: socket.socket, head: bytes, n: int) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        trickle(conn, b"X-Slow: " + b"a" * 10_000)  # each byte within any per-read timeout

    serve(slow_head)
    child = lava_child("keys", "list", "--json", LAVA_TIMEOUT="1")
    assert_exit_6(child, "timed out", "1 s", "LAVA_TIMEOUT")


def test_trickled_body_hits_the_whole_request_deadline(serve):
    def slow_body(conn: socket.socket, head: bytes, n: int) -> None:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
        )
        trickle(conn, b'{"data": [' + b" " * 99_990)

    serve(slow_body)
    child = lava_child("keys", "list", "--json", LAVA_TIMEOUT="1")
    assert_exit_6(child, "timed out", "LAVA_TIMEOUT")


def test_trickled_non_streamed_prompt_hits_the_deadline(serve):
    def slow_body(conn: socket.socket, head: bytes, n: int) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        conn.sendall(b"Content-Length: 100000\r\n\r\n")
        trickle(conn, b'{"choices": [' + b" " * 99_980)

    serve(slow_body)
    child = lava_child("prompt", "hi", "--no-stream", LAVA_TIMEOUT="1")
    assert_exit_6(child, "did not answer within 1 s", "LAVA_TIMEOUT")


def test_retries_stay_inside_the_same_deadline(serve, monkeypatch):
    # A 503 asking for a 2 s wait, with a 1 s budget: the retry could not finish in
    # time, so it is not started (before, 3 retries waited 6 s in all).
    server = serve(
        lambda c, h, n: reply(
            c, "503 Service Unavailable", b"{}", "application/json", "Retry-After: 2\r\n"
        )
    )
    monkeypatch.setenv("LAVA_MAX_RETRIES", "3")
    monkeypatch.setenv("LAVA_TIMEOUT", "1")
    started = time.monotonic()
    result = run_lava("keys", "list")
    assert result.code == 6, result.output
    assert len(server.requests) == 1
    assert time.monotonic() - started < 1.9


class TLSServer(RawServer):
    """RawServer over TLS: the production path, where the socket is an ssl.SSLSocket."""

    def __init__(self, handler: Handler, context: ssl.SSLContext) -> None:
        self.context = context
        super().__init__(handler)

    def _one(self, conn: socket.socket) -> None:
        try:
            conn = self.context.wrap_socket(conn, server_side=True)
        except OSError:
            conn.close()
            return
        super()._one(conn)


@pytest.fixture
def tls_files(tmp_path) -> tuple[str, str]:
    """A throw-away self-signed certificate for 127.0.0.1."""
    if not shutil.which("openssl"):
        pytest.skip("needs the openssl command")
    cert, key = str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", key, "-out", cert, "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def test_the_watchdog_cuts_a_trickling_tls_connection(tls_files):
    # Over TLS the TCP socket object is detached into an SSLSocket: the watchdog must
    # still find and shut the live one (the CLI's TLS path, without a trusted CA).
    import httpx

    from lava_cli.api.bounded import Watchdog

    cert, key = tls_files
    server_side = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_side.load_cert_chain(cert, key)

    def slow_head(conn: socket.socket, head: bytes, n: int) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        trickle(conn, b"X-Slow: " + b"a" * 10_000, limit_s=20)

    server = TLSServer(slow_head, server_side)
    watchdog = Watchdog()
    try:
        with httpx.Client(verify=ssl.create_default_context(cafile=cert)) as client:
            started = time.monotonic()
            watchdog.arm(started + 1)
            with pytest.raises(httpx.TransportError):
                client.get(
                    f"https://127.0.0.1:{server.port}/", extensions={"trace": watchdog.trace}
                )
            assert watchdog.fired
            assert time.monotonic() - started < BOUND_S
    finally:
        watchdog.close()
        server.close()


# -- page cap (LAVA_MAX_PAGES) ---------------------------------------------------------


def endless_pages(server_paths: list[str]) -> Callable[[socket.socket, bytes, int], None]:
    """Every list answer says has_more, with a cursor never seen before."""

    def handler(conn: socket.socket, head: bytes, n: int) -> None:
        path = head.split(b" ")[1].decode()
        server_paths.append(path.split("?")[0])
        if path.startswith(("/v1/spend_keys", "/v1/requests")):
            body = {"data": [], "has_more": True, "next_cursor": f"cursor-{n}"}
        elif path.startswith("/v1/usage"):
            body = {"items": []}
        else:
            body = {"wallet_id": "w", "balance": "1.00"}
        reply(conn, "200 OK", json.dumps(body).encode(), "application/json")

    return handler


def test_endless_has_more_stops_at_the_page_cap(serve):
    paths: list[str] = []
    server = serve(endless_pages(paths))
    child = lava_child("keys", "list", "--json", LAVA_MAX_PAGES="5")
    assert_exit_6(child, "after 5 pages", "LAVA_MAX_PAGES")
    assert len(server.requests) == 5
    assert child.stdout == ""  # no partial list passed off as the whole


def test_endless_has_more_is_bounded_by_default(serve):
    serve(endless_pages([]))
    child = lava_child("keys", "list", "--json")
    assert_exit_6(child, "after 50 pages", "LAVA_MAX_PAGES")


def test_request_history_paging_obeys_the_page_cap_and_says_it_is_partial(serve):
    paths: list[str] = []
    serve(endless_pages(paths))
    child = lava_child("usage", "--wallet", "--json", LAVA_MAX_PAGES="3")
    assert child.code == 0, child.stderr
    assert paths.count("/v1/requests") == 3
    assert json.loads(child.stdout)["by_model_complete"] is False


# -- stream idle limit (LAVA_STREAM_IDLE) --------------------------------------------


SSE_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
)


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def first_token() -> bytes:
    delta = {"model": "gpt-4o-mini", "choices": [{"index": 0, "delta": {"content": "Hel"}}]}
    return b"data: " + json.dumps(delta).encode() + b"\n\n"


def test_keep_alive_comments_do_not_keep_a_stream_alive(serve):
    def pings(conn: socket.socket, head: bytes, n: int) -> None:
        conn.sendall(SSE_HEAD + chunk(first_token()))
        stop = time.monotonic() + 60
        while time.monotonic() < stop:
            # a comment, an empty event and Anthropic's `ping` event: none is progress
            conn.sendall(
                chunk(b": ping\n\n") + chunk(b"\n\n") + chunk(b"event: ping\ndata: {}\n\n")
            )
            time.sleep(0.1)

    serve(pings)
    child = lava_child("prompt", "hi", LAVA_STREAM_IDLE="1")
    assert_exit_6(child, "nothing new for 1 s", "LAVA_STREAM_IDLE")
    assert child.stdout == "Hel\n"  # what arrived was kept


def test_a_slow_but_steady_stream_is_not_cut_by_the_idle_limit(serve):
    # 2.5 s of tokens, one every 0.25 s, under a 1 s idle limit: progress resets it.
    def steady(conn: socket.socket, head: bytes, n: int) -> None:
        conn.sendall(SSE_HEAD)
        for _ in range(10):
            conn.sendall(chunk(first_token()))
            time.sleep(0.25)
        conn.sendall(chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")

    serve(steady)
    child = lava_child("prompt", "hi", LAVA_STREAM_IDLE="1", LAVA_TIMEOUT="1")
    assert child.code == 0, child.stderr
    assert child.stdout == "Hel" * 10 + "\n"


def test_a_reader_that_stops_reading_is_not_the_servers_silence(serve):
    # `lava prompt | less`, and nobody scrolls: lava blocks writing to a full pipe.
    # That time is the reader's, not the server's: the idle limit must not cut it.
    token = json.dumps({"choices": [{"index": 0, "delta": {"content": "y" * 1000}}]}).encode()

    def fast_reply(conn: socket.socket, head: bytes, n: int) -> None:
        conn.sendall(SSE_HEAD + chunk(b"data: " + token + b"\n\n") * 300)
        conn.sendall(chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")

    serve(fast_reply)
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, "prompt", "hi"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "LAVA_STREAM_IDLE": "1"},
    )
    try:
        time.sleep(3)  # 300 KB of reply cannot fit the pipe: lava is blocked writing
        out, err = proc.communicate(timeout=CHILD_TIMEOUT_S)
    finally:
        proc.kill()
    assert proc.returncode == 0, err.decode()
    assert out.decode() == "y" * 300_000 + "\n"


# -- size caps (LAVA_MAX_RESPONSE_BYTES, LAVA_MAX_EVENT_BYTES) -------------------------


def test_huge_content_length_is_refused_before_reading(serve):
    sent = Sent()

    def huge(conn: socket.socket, head: bytes, n: int) -> None:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Content-Length: 2000000000\r\n\r\n"
        )
        flood(conn, sent)

    serve(huge)
    child = lava_child("keys", "list", "--json")
    assert_exit_6(child, "too large", "8 MiB", "LAVA_MAX_RESPONSE_BYTES")
    assert sent.total < 32 * 1024 * 1024  # socket buffers at most: the client read nothing
    assert child.peak_mib < MEMORY_BOUND_MIB, child.peak_mib


def test_endless_chunked_body_stops_at_the_cap(serve):
    sent = Sent()

    def endless(conn: socket.socket, head: bytes, n: int) -> None:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        flood(conn, sent, chunked=True)

    serve(endless)
    child = lava_child("keys", "list", "--json")
    assert_exit_6(child, "too large", "8 MiB", "LAVA_MAX_RESPONSE_BYTES")
    assert sent.total < 32 * 1024 * 1024
    assert child.peak_mib < MEMORY_BOUND_MIB, child.peak_mib


def test_endless_gateway_error_body_stops_at_the_cap(serve):
    sent = Sent()

    def endless(conn: socket.socket, head: bytes, n: int) -> None:
        conn.sendall(
            b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/html\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        flood(conn, sent, chunked=True)

    serve(endless)
    child = lava_child("prompt", "hi", "--no-stream", LAVA_MAX_RESPONSE_BYTES="1048576")
    assert_exit_6(child, "too large", "1 MiB", "LAVA_MAX_RESPONSE_BYTES")
    assert sent.total < 32 * 1024 * 1024
    assert child.peak_mib < MEMORY_BOUND_MIB, child.peak_mib


def test_create_answer_over_the_cap_says_the_key_may_exist(serve, monkeypatch):
    # The key was made but its shown-once value cannot be read: say how to check.
    key = {"spend_key_id": "sk_1", "key": SPEND_KEY, "name": "ci", "padding": "x" * 4096}
    serve(lambda c, h, n: reply(c, "200 OK", json.dumps(key).encode(), "application/json"))
    monkeypatch.setenv("LAVA_MAX_RESPONSE_BYTES", "1024")
    # --allow-duplicate-name: the stand-in answers a list of names with the key too.
    result = run_lava("keys", "create", "--name", "ci", "--allow-duplicate-name")
    assert result.code == 6, result.output
    assert "too large" in result.stderr and "LAVA_MAX_RESPONSE_BYTES" in result.stderr
    assert "lava keys list" in result.stderr


def test_one_endless_sse_line_stops_at_the_event_cap(serve):
    sent = Sent()

    def endless_line(conn: socket.socket, head: bytes, n: int) -> None:
        conn.sendall(SSE_HEAD + chunk(first_token()) + chunk(b'data: {"choices": "'))
        flood(conn, sent, chunked=True)

    serve(endless_line)
    child = lava_child("prompt", "hi")
    assert_exit_6(child, "stream event larger than 1 MiB", "LAVA_MAX_EVENT_BYTES")
    assert child.stdout == "Hel\n"
    assert sent.total < 32 * 1024 * 1024
    assert child.peak_mib < MEMORY_BOUND_MIB, child.peak_mib


def test_a_long_stream_of_small_events_is_not_capped(serve):
    # 4 MiB of reply in 16,384 events, past a 64 KiB event cap: only one event is capped.
    token = json.dumps({"choices": [{"index": 0, "delta": {"content": "x" * 200}}]}).encode()

    def long_reply(conn: socket.socket, head: bytes, n: int) -> None:
        conn.sendall(SSE_HEAD)
        for _ in range(16):
            conn.sendall(chunk(b"data: " + token + b"\n\n") * 1024)
        conn.sendall(chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")

    serve(long_reply)
    child = lava_child(
        "prompt", "hi", LAVA_MAX_EVENT_BYTES="65536", LAVA_MAX_RESPONSE_BYTES="65536"
    )
    assert child.code == 0, child.stderr
    assert len(child.stdout) == 200 * 16 * 1024 + 1


# -- the variables are checked like every other setting ------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LAVA_STREAM_IDLE", "-1"),
        ("LAVA_STREAM_IDLE", "nan"),
        ("LAVA_MAX_PAGES", "0"),
        ("LAVA_MAX_PAGES", "abc"),
        ("LAVA_MAX_RESPONSE_BYTES", "8MB"),
        ("LAVA_MAX_RESPONSE_BYTES", "١٠٠٠٠"),
        ("LAVA_MAX_EVENT_BYTES", "99999999999"),
        ("LAVA_TIMEOUT", "0"),
    ],
)
def test_bad_limit_values_are_usage_errors_naming_the_variable(serve, monkeypatch, name, value):
    server = serve(lambda c, h, n: reply(c, "200 OK", EMPTY_PAGE, "application/json"))
    monkeypatch.setenv(name, value)
    for args in (("keys", "list"), ("prompt", "hi")):
        result = run_lava(*args)
        assert result.code == 2, (args, result.output)
        assert result.stderr.startswith(f"error: {name}="), result.stderr
        assert "Traceback" not in result.output
    assert server.requests == []


# -- the SSE framing the caps live in --------------------------------------------------


@settings(max_examples=200, deadline=None, database=None, derandomize=True)
@given(
    events=st.lists(
        st.tuples(st.sampled_from(["message", "ping", "delta"]), st.text(min_size=1)),
        max_size=8,
    ),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=12),
    crlf=st.booleans(),
)
def test_sse_framing_does_not_depend_on_where_the_reads_split(events, cuts, crlf):
    from lava_cli.api.streaming import SSEParser

    nl = "\r\n" if crlf else "\n"
    text = ": keep-alive" + nl + nl
    for name, data in events:
        lines = [ln.replace("\r", "") for ln in data.split("\n")]
        text += f"event: {name}{nl}" + "".join(f"data: {ln}{nl}" for ln in lines) + nl
    raw = text.encode()
    parser = SSEParser()
    got: list[tuple[str, str]] = []
    last = 0
    for cut in sorted(c % (len(raw) + 1) for c in cuts):  # splits mid-character too
        got += parser.feed(raw[last:cut])
        last = cut
    got += parser.feed(raw[last:]) + parser.close()
    want = [
        (name, "\n".join(ln.replace("\r", "") for ln in data.split("\n"))) for name, data in events
    ]
    assert got == want
