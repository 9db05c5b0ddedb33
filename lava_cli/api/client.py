"""LavaClient: the one place that speaks HTTP to Lava (or the emulator).

It owns the base-URL policy, the auth header, the whole-call deadline and bounded
retries, and has a typed method for every management, catalogue and usage endpoint
(answers are `api.types`; HTTP errors are mapped by `api.http_errors`). Non-idempotent
calls (create, rotate) are never retried once they may have been sent: a retry could
mint a second secret and lose the first.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import httpx

from lava_cli import __version__
from lava_cli.api.bounded import Watchdog, read_capped
from lava_cli.api.http_errors import error_for_response
from lava_cli.api.transport import Logger, direct_mounts, tls_verify, transport_reason
from lava_cli.api.types import MalformedResponse, MissingKeyValueError, NewKey, Page, SpendKey
from lava_cli.config import check_base_url
from lava_cli.errors import ApiUnavailableError, MaybeCreatedError
from lava_cli.limits import Limits

if TYPE_CHECKING:
    from datetime import datetime

    from lava_cli.api.model_types import Model, Service
    from lava_cli.api.paging import RequestWalk
    from lava_cli.api.usage_types import Usage, Wallet
    from lava_cli.api.wallet_types import FundResult, NewSecret, PaymentMethod, SecretKey

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
IDEMPOTENT = frozenset({"GET", "PUT", "DELETE", "HEAD"})
MAX_RETRIES = 3
RETRY_AFTER_CAP_S = 20.0
BACKOFF_BASE_S = 0.5
BACKOFF_CAP_S = 8.0
PAGE_LIMIT = 100
CONNECT_TIMEOUT_S = 10.0
MAYBE_CREATED_HINT = (
    "the key may have been created or rotated anyway: check with "
    "`lava keys list` before trying again"
)


class _DeadlinePassed(Exception):
    """The whole-call deadline passed mid-attempt (the watchdog shut the socket)."""


class LavaClient:
    """Typed access to the spend-key, catalogue and usage endpoints."""

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
        headers = {"User-Agent": f"lava-cli/{__version__}", "Accept": "application/json"}
        self._http = httpx.Client(
            base_url=self.base_url + "/",
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=False,
            trust_env=True,
            mounts=direct_mounts(self.base_url),
            verify=tls_verify(self.base_url),
        )

    def close(self) -> None:
        self._http.close()
        self._watchdog.close()

    def __enter__(self) -> LavaClient:
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
            except (httpx.TransportError, httpx.DecodingError, _DeadlinePassed) as exc:
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
        late = isinstance(exc, (_DeadlinePassed, httpx.TimeoutException))
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
                raise _DeadlinePassed from None
            raise
        finally:
            self._watchdog.disarm()
        if self._watchdog.fired:
            # A body that ends at connection close looks complete when the watchdog
            # shut the socket: it is not.
            raise _DeadlinePassed
        return response

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

    # -- spend keys -------------------------------------------------------------

    def list_spend_keys_page(self, cursor: str | None = None, limit: int = PAGE_LIMIT) -> Page:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        return Page.from_json(self._json("GET", "/spend_keys", params=params))

    def iter_spend_keys(self, page_size: int = PAGE_LIMIT) -> Iterator[SpendKey]:
        """Every spend key, following next_cursor to the end (at most LAVA_MAX_PAGES)."""
        pages = self._walk(
            lambda cursor: self.list_spend_keys_page(cursor, page_size),
            "spend keys",
            "a wallet holds at most 10 keys",
        )
        for page in pages:
            for item in page.data:
                yield SpendKey.from_json(item)

    def _walk(self, fetch: Callable[[str | None], Page], what: str, why: str) -> Iterator[Page]:
        """Every page of a list, following next_cursor to the end, for at most
        LAVA_MAX_PAGES pages: a server that always says has_more (with a new cursor each
        time) would otherwise keep the loop, and its memory, growing forever. `why` says
        why a list that long is suspicious."""
        cursor: str | None = None
        seen: set[str] = set()
        for _ in range(self.limits.max_pages):
            page = fetch(cursor)
            yield page
            if not page.has_more:
                return
            if page.next_cursor in seen:
                raise MalformedResponse("the API sent the same page cursor twice")
            cursor = page.next_cursor
            seen.add(cursor or "")
        raise ApiUnavailableError(
            f"the API was still listing {what} after {self.limits.max_pages} pages "
            "(LAVA_MAX_PAGES)",
            hint=f"{why}, so check --base-url points at the Lava API; raise LAVA_MAX_PAGES "
            "if this list is really that long",
        )

    def get_spend_key(self, spend_key_id: str) -> SpendKey:
        return SpendKey.from_json(self._json("GET", f"/spend_keys/{_seg(spend_key_id)}"))

    def create_spend_key(self, body: dict[str, Any]) -> NewKey:
        return _new_key(self._json("POST", "/spend_keys", json=body))

    def update_spend_key(self, spend_key_id: str, body: dict[str, Any]) -> SpendKey:
        return SpendKey.from_json(self._json("PUT", f"/spend_keys/{_seg(spend_key_id)}", json=body))

    def rotate_spend_key(self, spend_key_id: str) -> NewKey:
        return _new_key(self._json("POST", f"/spend_keys/{_seg(spend_key_id)}/rotate"))

    def revoke_spend_key(self, spend_key_id: str) -> None:
        body = self._json("DELETE", f"/spend_keys/{_seg(spend_key_id)}")
        if not isinstance(body, dict) or body.get("success") is not True:
            raise MalformedResponse("unexpected answer from the API to revoke: no success flag")

    # -- secret keys ------------------------------------------------------------

    def list_secret_keys_page(self, cursor: str | None = None, limit: int = PAGE_LIMIT) -> Page:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        return Page.from_json(self._json("GET", "/secret_keys", params=params))

    def iter_secret_keys(self) -> Iterator[SecretKey]:
        """Every secret key of the wallet (all pages, at most LAVA_MAX_PAGES)."""
        from lava_cli.api.wallet_types import SecretKey

        pages = self._walk(self.list_secret_keys_page, "secret keys", "a wallet has a few")
        for page in pages:
            for item in page.data:
                yield SecretKey.from_json(item)

    def create_secret_key(self, name: str) -> NewSecret:
        """`POST /v1/secret_keys`: never retried once sent (a retry could mint a second
        secret and lose the first)."""
        try:
            body = self._json("POST", "/secret_keys", json={"name": name})
        except MaybeCreatedError as exc:
            exc.hint = (
                "the secret key may have been created anyway: check with "
                "`lava secret-keys list` (and revoke it) before trying again"
            )
            raise
        from lava_cli.api.wallet_types import NewSecret

        return NewSecret.from_json(body)

    def delete_secret_key(self, secret_key_id: str) -> None:
        """`DELETE /v1/secret_keys/{id}`: the secret stops working at once."""
        body = self._json("DELETE", f"/secret_keys/{_seg(secret_key_id)}")
        if not isinstance(body, dict) or body.get("deleted") is not True:
            raise MalformedResponse("unexpected answer from the API to delete: no deleted flag")

    # -- money in ---------------------------------------------------------------

    def payment_methods(self) -> list[PaymentMethod]:
        """`GET /v1/payment_methods`: the wallet's cards."""
        from lava_cli.api.wallet_types import PaymentMethod

        body = self._json("GET", "/payment_methods")
        return [PaymentMethod.from_json(item) for item in Page.from_json(body).data]

    def fund_wallet(self, payment_method_id: str, amount: str, idempotency_key: str) -> FundResult:
        """`POST /v1/wallet/fund`. Never retried by this client (a POST); the
        Idempotency-Key lets a later run repeat this very attempt safely (ops/wallet.py).
        A lost answer is MaybeCreatedError: the payment may have gone through."""
        from lava_cli.api.wallet_types import FundResult

        response = self._send(
            "POST",
            "/wallet/fund",
            auth=True,
            headers={"Idempotency-Key": idempotency_key},
            json={"payment_method_id": payment_method_id, "amount": amount},
        )
        try:
            body = response.json()
        except (ValueError, UnicodeDecodeError):
            raise MalformedResponse(
                f"the API sent an unreadable answer to the payment (HTTP {response.status_code})",
                hint="check the balance with `lava wallet` before trying again",
            ) from None
        replayed = response.headers.get("idempotent-replayed", "").lower() == "true"
        return FundResult.from_json(body, replayed=replayed)

    # -- catalogue, usage, wallet ------------------------------------------------

    def list_models(self, spend_key: str | None = None) -> list[Model]:
        """`GET /v1/models`: public; with a spend key, only what that key may use."""
        from lava_cli.api.model_types import Model

        headers = {"Authorization": f"Bearer {spend_key}"} if spend_key else None
        body = self._json("GET", "/models", auth=False, headers=headers)
        return [Model.from_json(item) for item in Page.from_json(body).data]

    def list_services(self, provider: str | None = None) -> list[Service]:
        """`GET /v1/services`: the public catalogue with prices per 1M tokens."""
        from lava_cli.api.model_types import Service

        params = {"provider": provider} if provider else None
        body = self._json("GET", "/services", auth=False, params=params)
        return [Service.from_json(item) for item in Page.from_json(body).data]

    def wallet(self) -> Wallet:
        from lava_cli.api.usage_types import Wallet

        return Wallet.from_json(self._json("GET", "/wallet"))

    def usage(self, start: datetime, end: datetime) -> Usage:
        """`GET /v1/usage`: the wallet's UTC days from `start` to `end` (whole seconds)."""
        from lava_cli.api.usage_types import Usage
        from lava_cli.parsing import iso_utc

        params = {"start": iso_utc(start), "end": iso_utc(end)}
        return Usage.from_json(self._json("GET", "/usage", params=params))

    def list_requests_page(
        self, cursor: str | None = None, limit: int = PAGE_LIMIT, spend_key_id: str | None = None
    ) -> Page:
        params: dict[str, Any] = {"limit": limit}
        if spend_key_id:
            params["spend_key_id"] = spend_key_id
        if cursor:
            params["cursor"] = cursor
        return Page.from_json(self._json("GET", "/requests", params=params))

    def iter_requests(self, since: datetime, *, spend_key_id: str | None = None) -> RequestWalk:
        """The wallet's requests from `since` on, newest first (see `RequestWalk`).

        `spend_key_id` is a filter Lava does not document (the emulator has it): an API
        without it may answer 400 or 404, or ignore it, so check `spend_key_id` on the
        records before taking them to be one key's.
        """
        from lava_cli.api.paging import RequestWalk

        return RequestWalk(
            lambda cursor: self.list_requests_page(cursor, spend_key_id=spend_key_id),
            since,
            self.limits.max_pages,
        )

    # -- browser login -----------------------------------------------------------

    def exchange_auth_code(self, code: str) -> dict[str, Any]:
        """Trade a browser-login code for credentials (`POST /auth/callback`, no auth).

        Sent once, never retried after it may have arrived: codes are single-use.
        """
        body = self._json("POST", "/auth/callback", auth=False, json={"code": code})
        if not isinstance(body, dict):
            raise MalformedResponse("unexpected answer from the API: credentials not an object")
        return body

    # -- diagnostics --------------------------------------------------------------

    def server_date(self) -> str | None:
        """The `Date` header of the public `GET /models`, or None when it has none.

        For `lava doctor`'s clock check. Sent without the secret (the endpoint is
        public), once (a retried answer would be timed against the wrong send), and
        read whatever its status (an error page carries the server's clock too);
        within the call's deadline and size cap like every other call.
        """
        self._note(f"> GET {self.base_url}/models (for its Date header)")
        deadline = time.monotonic() + self._timeout
        try:
            response = self._attempt("GET", "/models", {}, deadline)
        except (httpx.TransportError, httpx.DecodingError, _DeadlinePassed) as exc:
            late = isinstance(exc, (_DeadlinePassed, httpx.TimeoutException))
            reason = f"timed out after {self._timeout:g} s" if late else transport_reason(exc)
            raise ApiUnavailableError(f"no answer from {self.base_url} ({reason})") from None
        return response.headers.get("date") or None


def _new_key(body: Any) -> NewKey:
    """A create/rotate answer: the key and its raw value, or one error.

    Without a value, `MissingKeyValueError` (the key exists, nobody holds it). With a
    value but an otherwise unreadable answer, the error keeps the value (`shown_once`)
    so it is printed anyway: it exists on the server and is never shown again."""
    raw = body.get("key") if isinstance(body, dict) else None
    if raw is not None and not isinstance(raw, str):
        raise MalformedResponse("unexpected answer from the API: 'key' is not a string")
    try:
        key = SpendKey.from_json(body)
    except MalformedResponse as exc:
        if not raw:
            raise
        kid = body.get("spend_key_id")
        name = kid if isinstance(kid, str) else "the new key"
        why = exc.message.removeprefix("unexpected answer from the API: ")
        exc.message = (
            f"the API's answer about {name} is unreadable ({why}); "
            "the key it minted was printed above"
        )
        exc.hint = (
            f"see its details with `lava keys show {name}`"
            if isinstance(kid, str)
            else ("find it with `lava keys list`")
        )
        exc.shown_once = raw
        raise
    if not raw:
        raise MissingKeyValueError(key.spend_key_id)
    return NewKey(key, raw)


def _seg(value: str) -> str:
    """Quote a path segment so an id can never escape its path."""
    from urllib.parse import quote

    return quote(value, safe="")
