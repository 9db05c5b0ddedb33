"""Session: how lava sends one HTTP request to Lava, whatever the endpoint.

The base-URL policy, the auth header, the whole-call deadline (every attempt from
connecting to the body's last byte, and the waits between them), the response size cap,
bounded retries with jittered back-off, and the --verbose lines. Non-idempotent calls
(create, rotate) are never retried once they may have been sent: a retry could mint a
second secret and lose the first. `LavaClient` (api/client.py) adds a typed method per
endpoint on top; keeping the two apart keeps each small enough to read whole.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from lava_cli.api.bounded import Watchdog, read_capped
from lava_cli.api.http_errors import error_for_response
from lava_cli.api.transport import CONNECT_TIMEOUT_S, Logger, http_client, transport_reason
from lava_cli.config import check_base_url
from lava_cli.errors import ApiUnavailableError, MaybeCreatedError
from lava_cli.limits import Limits

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
IDEMPOTENT = frozenset({"GET", "PUT", "DELETE", "HEAD"})
MAX_RETRIES = 3
RETRY_AFTER_CAP_S = 20.0
BACKOFF_BASE_S = 0.5
BACKOFF_CAP_S = 8.0
MAYBE_CREATED_HINT = (
    "the key may have been created or rotated anyway: check with "
    "`lava keys list` before trying again"
)


_S = TypeVar("_S", bound="Session")


class DeadlinePassed(Exception):
    """The whole-call deadline passed mid-attempt (the watchdog shut the socket)."""


class Session:
    """One management secret at one base URL: `_send` and `_json` for the endpoints."""

    def __init__(
        self,
        base_url: str,
        secret: str | None,
        *,
        timeout: float = 30.0,
        max_retries: int = MAX_RETRIES,
        log: Logger | None = None,
        sleep: Callable[[float], None] = time.sleep,
        limits: Limits | None = None,
    ) -> None:
        """`timeout` is the deadline for one whole call, retries included (LAVA_TIMEOUT);
        `limits` (size caps, page cap) default to the LAVA_* environment."""
        self.base_url = check_base_url(base_url, secret=secret)
        self.limits = limits if limits is not None else Limits.from_env()
        self._timeout = timeout
        self._watchdog = Watchdog()
        self._secret = secret
        self._max_retries = max_retries
        self._log = log
        self._sleep = sleep
        self._http = http_client(
            self.base_url,
            timeout,
            root=self.base_url + "/",
            headers={"Accept": "application/json"},
        )

    def close(self) -> None:
        self._http.close()
        self._watchdog.close()

    def __enter__(self: _S) -> _S:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ---------------------------------------------------------------

    def _backoff(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to wait before retry `attempt` (1-based), or None to give up."""
        if attempt > self._max_retries:
            return None
        if retry_after is not None:
            return retry_after if retry_after <= RETRY_AFTER_CAP_S else None
        delay: float = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** (attempt - 1))
        return delay * random.uniform(0.5, 1.0)

    def _send(
        self,
        method: str,
        path: str,
        *,
        auth: bool,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """One request with bounded retries. Returns a 2xx response (body read) or raises.

        The deadline (`timeout`, LAVA_TIMEOUT) covers the whole call: every attempt from
        connecting to the body's last byte, and the waits between attempts. A retry that
        could not finish in the time left is not started.
        """
        idempotent = method in IDEMPOTENT
        headers = dict(headers or {})
        if auth and self._secret:
            headers["Authorization"] = f"Bearer {self._secret}"
        deadline = time.monotonic() + self._timeout
        attempt = 0
        while True:
            attempt += 1
            started = time.monotonic()
            self._note(f"> {method} {self.base_url + path}")
            try:
                response = self._attempt(method, path, headers, deadline, **kwargs)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                wait = self._after_no_connection(exc, attempt, deadline)
            except (httpx.TransportError, httpx.DecodingError, DeadlinePassed) as exc:
                wait = self._after_lost_answer(exc, attempt, deadline, idempotent=idempotent)
            except ApiUnavailableError as exc:  # the answer was over the size cap
                if idempotent:
                    raise
                raise MaybeCreatedError(exc.message, hint=MAYBE_CREATED_HINT) from None
            else:
                self._note_answer(response, started)
                if response.is_success:
                    return response
                wait = self._after_refusal(response, attempt, deadline, idempotent=idempotent)
            self._sleep(wait)

    def _note(self, line: str) -> None:
        if self._log:
            self._log(line)

    def _note_answer(self, response: httpx.Response, started: float) -> None:
        """`< 200 OK (12 ms) [req_…]` for --verbose."""
        if self._log:
            elapsed_ms = (time.monotonic() - started) * 1000
            request_id = response.headers.get("x-lava-request-id", "")
            rid = f" [{request_id}]" if request_id else ""
            self._log(
                f"< {response.status_code} {response.reason_phrase} ({elapsed_ms:.0f} ms){rid}"
            )

    def _after_no_connection(self, exc: Exception, attempt: int, deadline: float) -> float:
        """Nothing reached the server, so a retry is safe whatever the method: the wait
        before it, or ApiUnavailableError when retries or time ran out."""
        self._note(f"< connection failed: {type(exc).__name__}")
        wait = self._retry_wait(attempt, None, deadline)
        if wait is None:
            raise ApiUnavailableError(
                f"cannot connect to {self.base_url}",
                hint="check your network and --base-url / LAVA_BASE_URL (is the emulator running?)",
            ) from None
        return wait

    def _after_lost_answer(
        self, exc: Exception, attempt: int, deadline: float, *, idempotent: bool
    ) -> float:
        """The request went out but no whole answer came back (reset, cut short, deadline).

        A create or rotate may have happened: MaybeCreatedError, never a retry. Otherwise
        the wait before a retry, or ApiUnavailableError once retries or time ran out.
        """
        late = isinstance(exc, (DeadlinePassed, httpx.TimeoutException))
        late = late or time.monotonic() >= deadline
        if late:
            reason = f"timed out after {self._timeout:g} s, LAVA_TIMEOUT"
        else:
            reason = transport_reason(exc)
        self._note(f"< failed: {reason}")
        if not idempotent:
            raise MaybeCreatedError(
                f"no answer from {self.base_url} after the request was sent ({reason})",
                hint=MAYBE_CREATED_HINT,
            ) from None
        wait = None if late else self._retry_wait(attempt, None, deadline)
        if wait is None:
            raise ApiUnavailableError(
                f"no {'complete ' if late else ''}answer from {self.base_url} ({reason})",
                hint="retry in a minute; check your network and --base-url"
                + ("; a slow link may need a larger LAVA_TIMEOUT" if late else ""),
            ) from None
        return wait

    def _after_refusal(
        self, response: httpx.Response, attempt: int, deadline: float, *, idempotent: bool
    ) -> float:
        """A non-2xx answer: the wait before a retry (408, 429, 5xx of an idempotent call,
        Retry-After honoured), or its typed error."""
        error = error_for_response(response)
        if idempotent and response.status_code in RETRY_STATUSES:
            wait = self._retry_wait(attempt, error.retry_after, deadline)
            if wait is not None:
                self._note(f"  retrying in {wait:.1f} s")
                return wait
        raise error

    def _retry_wait(self, attempt: int, retry_after: float | None, deadline: float) -> float | None:
        """The back-off before retry `attempt`, or None when retries or time ran out."""
        wait = self._backoff(attempt, retry_after)
        if wait is None or time.monotonic() + wait >= deadline:
            return None
        return wait

    def _attempt(
        self, method: str, path: str, headers: dict[str, str], deadline: float, **kwargs: Any
    ) -> httpx.Response:
        """Send once and read the whole body, within the deadline and the size cap."""
        left = deadline - time.monotonic()
        if left <= 0:  # a back-off sleep overshot: nothing is sent, so not "maybe created"
            raise httpx.ConnectTimeout("no time left to connect")
        request = self._http.build_request(
            method,
            path.lstrip("/"),
            headers=headers,
            # Each socket wait is bounded by the time left; the watchdog bounds their sum.
            timeout=httpx.Timeout(left, connect=min(left, CONNECT_TIMEOUT_S)),
            extensions={"trace": self._watchdog.trace},
            **kwargs,
        )
        self._watchdog.arm(deadline)
        try:
            streamed = self._http.send(request, stream=True)
            try:
                response = read_capped(streamed, self.limits.max_response_bytes, self.base_url)
            finally:
                streamed.close()
        except httpx.TransportError:
            if self._watchdog.fired:
                raise DeadlinePassed from None
            raise
        finally:
            self._watchdog.disarm()
        if self._watchdog.fired:
            # A body that ends at connection close looks complete when the watchdog
            # shut the socket: it is not.
            raise DeadlinePassed
        return response

    def server_date(self) -> str | None:
        """The `Date` header of the public `GET /models`, or None when it has none.

        For `lava doctor`'s clock check; here, beside `_send`, because it is the one
        call that must not go through it. Sent without the secret (the endpoint is
        public), once (a retried answer would be timed against the wrong send), and
        read whatever its status (an error page carries the server's clock too);
        within the call's deadline and size cap like every other call.
        """
        self._note(f"> GET {self.base_url}/models (for its Date header)")
        deadline = time.monotonic() + self._timeout
        try:
            response = self._attempt("GET", "/models", {}, deadline)
        except (httpx.TransportError, httpx.DecodingError, DeadlinePassed) as exc:
            late = isinstance(exc, (DeadlinePassed, httpx.TimeoutException))
            reason = f"timed out after {self._timeout:g} s" if late else transport_reason(exc)
            raise ApiUnavailableError(f"no answer from {self.base_url} ({reason})") from None
        return response.headers.get("date") or None

    def _json(self, method: str, path: str, *, auth: bool = True, **kwargs: Any) -> Any:
        response = self._send(method, path, auth=auth, **kwargs)
        try:
            return response.json()
        except (ValueError, UnicodeDecodeError):
            kind = response.headers.get("content-type", "no content type")
            raise ApiUnavailableError(
                f"the API sent an unreadable answer to {method} {path} "
                f"(HTTP {response.status_code}, {kind})",
                hint="check --base-url points at the Lava API; retry in a minute",
            ) from None
