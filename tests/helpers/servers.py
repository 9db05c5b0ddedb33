"""Raw-socket stand-in servers: they say exactly the bytes a test wants, broken on purpose.

The emulator answers like Lava; these answer like a server that went wrong (HTML 502s,
JSON cut short, headers trickled one byte at a time, a stream that never ends, a
connection reset) or like something that is not Lava at all (a proxy). The CLI under
test uses its real httpx client against them over loopback.

- `RawServer(handler)`: `handler(conn, head, n)` writes whatever it likes for the n-th
  request (the request line and headers are in `head`; its body has been read).
- `answering(answer)`: a handler from `answer(method, path) -> bytes`, for the simple
  "every request gets this response" case; `response(...)` builds those bytes.
- `RecordingProxy`: counts the connections handed to a proxy and answers 502.
- `Relay`: stands in front of the emulator, passes every request on and its answer
  back, and keeps what was sent (to count a command's writes), or answers one request
  itself (a failure injected at a precise point of a run).
- the `raw_server` fixture in tests/conftest.py starts servers and closes them after.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

Handler = Callable[[socket.socket, bytes, int], None]

EMPTY_PAGE = json.dumps({"data": [], "has_more": False, "next_cursor": None}).encode()


class RawServer:
    """A loopback TCP server; `handler(conn, request_bytes, n)` decides what to send.

    Each connection is served on its own thread, one request per connection (the
    responses say `Connection: close`). `requests` holds every request's head, in
    arrival order, and `bodies` each one's body; `peers` the client port of every
    connection accepted.
    """

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[bytes] = []
        self.bodies: list[bytes] = []
        self._lock = threading.Lock()
        self.peers: list[int] = []
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=16)
        self.port: int = self.sock.getsockname()[1]
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """What LAVA_BASE_URL would be, were this the API."""
        return self.url + "/v1"

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, peer = self.sock.accept()
            except OSError:
                return
            self.peers.append(peer[1])
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        data = b""
        conn.settimeout(5)
        try:
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            while len(body) < length:
                body += conn.recv(65536)
            with self._lock:
                self.requests.append(head)
                self.bodies.append(body)
                n = len(self.requests)
            self.handler(conn, head, n)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                conn.close()

    def accepted(self) -> int:
        """Connections accepted so far, once every pending one has been accepted: a
        sentinel connection queues behind them, and the count is read when it arrives."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as probe:
            mine = probe.getsockname()[1]
            deadline = time.monotonic() + 10
            while mine not in self.peers and time.monotonic() < deadline:
                time.sleep(0.01)
        assert mine in self.peers, "the stand-in server stopped accepting"
        return len([p for p in self.peers if p != mine])

    def close(self) -> None:
        self._stop = True
        self.sock.close()


def response(status: str, body: bytes, ctype: str = "application/json", extra: str = "") -> bytes:
    """A whole HTTP/1.1 response; `extra` is more header lines, each ending in CRLF."""
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
        f"Connection: close\r\n{extra}\r\n"
    ).encode() + body


def reply(conn: socket.socket, status: str, body: bytes, ctype: str, extra: str = "") -> None:
    conn.sendall(response(status, body, ctype, extra))


def answering(answer: Callable[[str, str], bytes]) -> Handler:
    """A handler that sends `answer(method, path)` (a whole response) to every request."""

    def handler(conn: socket.socket, head: bytes, n: int) -> None:
        method, path = head.decode("latin-1").split(" ")[:2]
        conn.sendall(answer(method, path))

    return handler


PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


class RecordingProxy(RawServer):
    """A stand-in proxy on loopback: counts every connection it accepts, keeps the first
    line each sends, answers 502 and hangs up (so nothing it is handed goes anywhere)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        super().__init__(self._record)

    def _record(self, conn: socket.socket, head: bytes, n: int) -> None:
        self.lines.append(head.split(b"\r\n", 1)[0].decode("latin-1"))
        conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")

    def env(self) -> dict[str, str]:
        """Every proxy variable pointing here."""
        return dict.fromkeys(PROXY_VARS, self.url)

    def connections(self) -> int:
        return self.accepted()


WRITES = ("POST", "PUT", "PATCH", "DELETE")
# (method, path, JSON body or None) -> a whole response to send instead, or None to relay.
Intercept = Callable[[str, str, Any], bytes | None]


class Relay(RawServer):
    """A stand-in in front of a real server (the emulator): each request is passed on
    and its answer passed back, byte for byte, over a fresh upstream connection.

    `calls` keeps (method, path, JSON body) of every request in order, so a test counts
    what a command sent (`writes()`: the ones that change something). `intercept`
    may answer a request itself (a refusal, a 5xx, a hang) to inject one failure at a
    precise point of a run; it sees the same (method, path, body). `lose(method, path)`
    true passes a request on but hangs up instead of passing its answer back: the
    server acted, the client never hears (a timeout or a reset after sending).
    """

    def __init__(
        self,
        upstream: str,
        intercept: Intercept | None = None,
        lose: Callable[[str, str], bool] | None = None,
    ) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.intercept = intercept
        self.lose = lose
        self.calls: list[tuple[str, str, Any]] = []
        super().__init__(self._relay)

    def writes(self) -> list[tuple[str, str, Any]]:
        return [call for call in self.calls if call[0] in WRITES]

    def _relay(self, conn: socket.socket, head: bytes, n: int) -> None:
        body = self.bodies[n - 1]
        first, *headers = head.decode("latin-1").split("\r\n")
        method, path = first.split(" ")[:2]
        try:
            sent = json.loads(body) if body else None
        except ValueError:
            sent = body
        with self._lock:
            self.calls.append((method, path, sent))
        answer = self.intercept(method, path, sent) if self.intercept else None
        if answer is not None:
            conn.sendall(answer)
            return
        kept = [h for h in headers if not h.lower().startswith(("connection:", "keep-alive:"))]
        request = "\r\n".join([first, *kept, "Connection: close", "", ""]).encode("latin-1")
        lost = self.lose is not None and self.lose(method, path)
        with socket.create_connection(self.upstream, timeout=30) as upstream:
            upstream.sendall(request + body)
            while chunk := upstream.recv(65536):
                if not lost:
                    conn.sendall(chunk)


def closed_port() -> int:
    """A loopback port nothing listens on (bound a moment ago, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
