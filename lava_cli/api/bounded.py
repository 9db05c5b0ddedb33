"""Whole-request deadlines and capped reads, for both API clients (design pattern 13).

httpx's timeouts bound each socket operation, not the request: a server that sends
one byte a second (in its headers or its body) never trips them, and httpx has no
total timeout (encode/httpx#1450). The `Watchdog` supplies one without replacing
httpx's transport (which would also drop its proxy handling): httpcore reports every
connection it opens through the public `trace` request extension, and when the
deadline passes a small thread shuts those sockets down, which wakes the blocked
read at once. The caller then sees a transport error, asks `fired`, and reports the
deadline. Streams use the same watchdog as an idle limit, pushing the deadline on
at each meaningful event.

`read_capped` reads a body in chunks and stops at the cap, so a 2 GB answer or an
endless chunked one costs at most the cap in memory, never gigabytes.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import weakref
from collections.abc import Mapping
from typing import Any

import httpx

from lava_cli.errors import ApiUnavailableError
from lava_cli.limits import human_size

# httpcore trace events whose `return_value` is a new network stream. TLS counts: its
# socket wraps the TCP one's file descriptor, and the TCP socket object is detached.
_OPENED = (".connect_tcp.complete", ".connect_unix_socket.complete", ".start_tls.complete")
HELD_POLL_S = 1.0  # how often a held watchdog past its deadline looks again


class Watchdog:
    """Shuts down the sockets of one client when its current deadline passes.

    One daemon thread per client, started on first use and asleep on a condition
    variable in between; `extend`, `hold` and `release` are cheap enough to call
    once per network read. `hold` covers the time a stream's reader
    spends with the text (a full pipe to a pager): that silence is not the server's.
    A client sends one request at a time, so shutting down every socket it opened
    is exactly the request in flight (plus idle pooled sockets, which httpcore then
    finds closed and replaces).
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self._at: float | None = None
        self._fired = False
        self._held = False
        self._closed = False
        self._thread: threading.Thread | None = None

    @property
    def fired(self) -> bool:
        """True once the deadline armed last has passed (until the next `arm`)."""
        return self._fired

    def trace(self, event: str, info: Mapping[str, Any]) -> None:
        """httpcore's `trace` extension: remember each socket as it is opened."""
        if event.endswith(_OPENED):
            stream = info.get("return_value")
            sock = stream.get_extra_info("socket") if stream is not None else None
            if isinstance(sock, socket.socket):
                with self._cond:
                    self._sockets.add(sock)

    def arm(self, at: float) -> None:
        """Fire at monotonic time `at` unless re-armed, extended or disarmed first."""
        with self._cond:
            self._at = at
            self._fired = False
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="lava-deadline", daemon=True)
                self._thread.start()
            self._cond.notify()

    # extend, hold and release run once per network read of a stream, so they are
    # plain attribute stores, without the lock: each store is atomic, and the thread
    # reads `_at` before `_held`, so storing `_at` first in `release` means it never
    # sees the old deadline unheld.

    def extend(self, at: float) -> None:
        """Move the deadline later (no wake-up: the thread re-reads it when it wakes)."""
        if self._at is not None:
            self._at = at

    def hold(self) -> None:
        """The caller has the time now (a stream's reader is busy): do not fire meanwhile."""
        self._held = True

    def release(self, at: float) -> None:
        """Back from `hold`: fire at `at`, later than any wake-up the thread planned."""
        if self._at is not None:
            self._at = at
        self._held = False

    def disarm(self) -> None:
        with self._cond:
            self._at = None
            self._held = False

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()

    def _run(self) -> None:
        with self._cond:
            while not self._closed:
                if self._at is None:
                    self._cond.wait()
                    continue
                left = self._at - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                if self._held:
                    self._cond.wait(HELD_POLL_S)
                    continue
                if self._at - time.monotonic() > 0:  # released (with a new deadline) just now
                    continue
                self._at = None
                self._fired = True
                for sock in list(self._sockets):
                    # shutdown, not close: it wakes a recv blocked in another thread. The
                    # plain socket's method, because ssl.SSLSocket.shutdown also drops the
                    # SSL object under the reading thread's feet.
                    with contextlib.suppress(OSError):
                        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def too_large(source: str, cap: int) -> ApiUnavailableError:
    return ApiUnavailableError(
        f"the answer from {source} was too large: more than {human_size(cap)} "
        "(LAVA_MAX_RESPONSE_BYTES)",
        hint="check --base-url points at the Lava API; if such an answer is expected, "
        "raise LAVA_MAX_RESPONSE_BYTES (a number of bytes)",
    )


def read_capped(response: httpx.Response, cap: int, source: str) -> httpx.Response:
    """Read a streamed response's body, at most `cap` bytes, into a plain response.

    A declared Content-Length over the cap fails before reading anything. The cap
    holds for the decoded body and the bytes on the wire alike (a gzip bomb decodes
    one network chunk at a time). The returned response has the same status, headers
    and reason, and its body already decoded.
    """
    declared = response.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > cap:
        raise too_large(source, cap)
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > cap or response.num_bytes_downloaded > cap:
            raise too_large(source, cap)
        chunks.append(chunk)
    # The body is decoded now: drop the headers that describe the wire form, or the
    # new response would try to decode it again.
    headers = [
        (name, value)
        for name, value in response.headers.multi_items()
        if name not in ("content-encoding", "content-length", "transfer-encoding")
    ]
    extensions: dict[str, Any] = {
        name: response.extensions[name]
        for name in ("http_version", "reason_phrase")
        if name in response.extensions
    }
    return httpx.Response(
        response.status_code,
        headers=headers,
        content=b"".join(chunks),
        request=response.request,
        extensions=extensions,
    )
