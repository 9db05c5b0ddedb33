"""GatewayClient: model requests with a spend key, in the key's request shape.

OpenAI-shape keys call `POST {base}/chat/completions`; Anthropic-shape keys call
`POST {base}/messages` (base ends in `/v1`). A prompt costs money, so nothing here
is retried once it may have reached the server; only refused connections are.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from lava_cli.api.bounded import Watchdog, read_capped
from lava_cli.api.http_errors import error_for_response
from lava_cli.api.streaming import SSEParser, StreamState, cut_short
from lava_cli.api.transport import CONNECT_TIMEOUT_S, Logger, http_client
from lava_cli.api.types import MalformedResponse
from lava_cli.config import SecretArg, check_base_url
from lava_cli.errors import ApiError, ApiUnavailableError
from lava_cli.limits import Limits

ANTHROPIC_VERSION = "2023-06-01"
CONNECT_ATTEMPTS = 3


@dataclass(frozen=True)
class PromptRequest:
    model: str
    text: str
    system: str | None = None
    max_tokens: int = 1024
    temperature: float | None = None

    def body(self, shape: str, stream: bool) -> dict[str, Any]:
        messages: list[dict[str, str]] = []
        body: dict[str, Any] = {"model": self.model, "max_tokens": self.max_tokens}
        if shape == "anthropic":
            if self.system:
                body["system"] = self.system
        elif self.system:
            messages.append({"role": "system", "content": self.system})
        messages.append({"role": "user", "content": self.text})
        body["messages"] = messages
        if self.temperature is not None:
            body["temperature"] = self.temperature
        if stream:
            body["stream"] = True
            if shape == "openai":
                body["stream_options"] = {"include_usage": True}
        return body


@dataclass
class Completion:
    """A whole reply: text, tokens, and the provider's own object for --json."""

    text: str
    model: str
    input_tokens: int | None
    output_tokens: int | None
    finish_reason: str | None
    request_id: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


class GatewayClient:
    def __init__(
        self,
        base_url: str,
        spend_key: str,
        *,
        timeout: float = 120.0,
        log: Logger | None = None,
        limits: Limits | None = None,
        management_secret: SecretArg = None,
    ) -> None:
        """`timeout` is the deadline for a whole non-streamed reply (LAVA_TIMEOUT); a
        stream is bounded by its idle limit instead. `limits` default to the LAVA_*
        environment. `management_secret` (the profile's, or a function reading it) weighs
        only in the plain-http policy: a spend key's prefix does not say test or live."""
        self.base_url = check_base_url(base_url, secret=management_secret)
        self._log = log
        self.request_id: str | None = None
        self._key = spend_key
        self._timeout = timeout
        self._limits = limits if limits is not None else Limits.from_env()
        self._watchdog = Watchdog()
        self._http = http_client(self.base_url, timeout)

    def close(self) -> None:
        self._http.close()
        self._watchdog.close()

    def _path(self, shape: str) -> str:
        return self.base_url + ("/messages" if shape == "anthropic" else "/chat/completions")

    def _headers(self, shape: str) -> dict[str, str]:
        """Each provider's own auth convention, as its SDK would send it."""
        if shape == "anthropic":
            return {"x-api-key": self._key, "anthropic-version": ANTHROPIC_VERSION}
        return {"Authorization": f"Bearer {self._key}"}

    def _late(self, stream: bool) -> ApiUnavailableError:
        if stream:
            return ApiUnavailableError(
                f"the stream sent nothing new for {self._limits.stream_idle:g} s "
                "(LAVA_STREAM_IDLE)",
                hint="the server or network stalled; what arrived was kept; a slow model "
                "may need a larger LAVA_STREAM_IDLE (seconds)",
            )
        return ApiUnavailableError(
            f"the gateway did not answer within {self._timeout:g} s (LAVA_TIMEOUT)",
            hint="retry, or raise LAVA_TIMEOUT (seconds); the request may have been billed",
        )

    def _open(self, shape: str, body: dict[str, Any], stream: bool) -> httpx.Response:
        """Send the prompt; a reply (stream=False) or an error body is read whole, capped.

        Without `stream` the deadline covers every attempt and the whole reply. With it,
        the idle limit covers each attempt up to the headers, and the watchdog stays armed
        for `stream` to push on at each event.
        """
        url = self._path(shape)
        budget = self._limits.stream_idle if stream else self._timeout
        deadline = time.monotonic() + budget
        for attempt in range(1, CONNECT_ATTEMPTS + 1):
            if stream:
                deadline = time.monotonic() + budget
            left = deadline - time.monotonic()
            if left <= 0:
                raise self._late(stream)
            if self._log:
                self._log(f"> POST {url}")
            request = self._http.build_request(
                "POST",
                url,
                json=body,
                headers=self._headers(shape),
                timeout=httpx.Timeout(left, connect=min(left, CONNECT_TIMEOUT_S)),
                extensions={"trace": self._watchdog.trace},
            )
            response = self._connect(request, deadline, attempt, stream)
            if response is not None:
                return self._answer(request, response, stream)
        raise AssertionError("unreachable")  # pragma: no cover

    def _connect(
        self, request: httpx.Request, deadline: float, attempt: int, stream: bool
    ) -> httpx.Response | None:
        """Send, and return once the headers are in; None after a connection that failed
        before anything was sent (then a retry is safe, and waits a moment)."""
        self._watchdog.arm(deadline)
        try:
            return self._http.send(request, stream=True)
        except (httpx.ConnectError, httpx.ConnectTimeout):
            self._watchdog.disarm()
            if attempt == CONNECT_ATTEMPTS:
                raise ApiUnavailableError(
                    f"cannot connect to {self.base_url}",
                    hint="check your network and --base-url (is the emulator running?)",
                ) from None
            time.sleep(0.3 * attempt)
            return None
        except httpx.TransportError as exc:
            self._watchdog.disarm()
            if self._watchdog.fired or isinstance(exc, httpx.TimeoutException):
                raise self._late(stream) from None
            raise ApiUnavailableError(
                f"the gateway connection failed ({type(exc).__name__})"
            ) from None

    def _answer(
        self, request: httpx.Request, response: httpx.Response, stream: bool
    ) -> httpx.Response:
        """An error status raised as its typed error; a reply read whole (capped) unless
        it is a stream, which `stream` reads event by event."""
        self.request_id = response.headers.get("x-lava-request-id")
        if self._log:
            rid = f" [{self.request_id}]" if self.request_id else ""
            self._log(f"< {response.status_code} {response.reason_phrase}{rid}")
        if not response.is_success:
            try:
                whole = self._read(response, stream)
            except (httpx.TransportError, httpx.DecodingError):
                # The error body broke off: the status alone still says what happened.
                whole = httpx.Response(
                    response.status_code, headers=response.headers, request=request
                )
            raise error_for_response(whole, gateway=True)
        if stream:
            return response
        try:
            return self._read(response, stream)
        except (httpx.TransportError, httpx.DecodingError) as exc:
            raise ApiUnavailableError(
                f"the gateway's answer broke off ({type(exc).__name__})",
                hint="retry; the request may have been billed",
            ) from None

    def _read(self, response: httpx.Response, stream: bool) -> httpx.Response:
        """The body, capped and within the deadline; always closes and disarms."""
        try:
            whole = read_capped(response, self._limits.max_response_bytes, "the gateway")
        except (httpx.TransportError, httpx.DecodingError):
            if self._watchdog.fired:
                raise self._late(stream) from None
            raise
        finally:
            response.close()
            self._watchdog.disarm()
        if self._watchdog.fired:  # a body that ends at connection close looked complete
            raise self._late(stream)
        return whole

    def stream(self, shape: str, prompt: PromptRequest, state: StreamState) -> Iterator[str]:
        """Yield the reply text of each network read as it arrives (the caller writes and
        flushes once per piece); usage and the finish reason land in `state`. A dropped
        connection, or a stream that stops before its final event, raises (exit 6), and
        so does a stream with no meaningful event for LAVA_STREAM_IDLE seconds: keep-alive
        comments, empty events and `ping` events do not count as progress."""
        response = self._open(shape, prompt.body(shape, stream=True), stream=True)
        parser = SSEParser(self._limits.max_event_bytes)
        idle = self._limits.stream_idle
        try:
            for chunk in response.iter_bytes():
                texts: list[str] = []
                progress = False
                for event, data in parser.feed(chunk):
                    state.handle(event, data, texts)
                    progress = progress or event != "ping"
                if texts:
                    self._watchdog.hold()  # the reader's time (`| less`) is not idleness
                    yield "".join(texts)
                    self._watchdog.release(time.monotonic() + idle)
                elif progress:
                    self._watchdog.extend(time.monotonic() + idle)
                if state.done:
                    return
            if self._watchdog.fired:  # the shut socket looked like the end of the stream
                raise self._late(stream=True)
            texts = []
            for event, data in parser.close():
                state.handle(event, data, texts)
            if texts:
                yield "".join(texts)
            if not state.done:
                raise cut_short()
        except (httpx.TransportError, httpx.DecodingError) as exc:
            if self._watchdog.fired:
                raise self._late(stream=True) from None
            raise ApiUnavailableError(
                f"the stream was cut ({type(exc).__name__})",
                hint="the server or network dropped the connection; what arrived was kept",
            ) from None
        finally:
            self._watchdog.disarm()
            response.close()

    def status_for(self, shape: str, body: dict[str, Any]) -> int:
        """The HTTP status the gateway answers `body` with, an error status returned
        rather than raised: for probes that send a request meant to be refused
        (`keys rotate --deliver`). No answer at all (network, deadline) still raises."""
        try:
            response = self._open(shape, body, stream=False)
        except ApiError as exc:
            if exc.status is None:
                raise
            return exc.status
        return response.status_code

    def complete(self, shape: str, prompt: PromptRequest) -> Completion:
        response = self._open(shape, prompt.body(shape, stream=False), stream=False)
        try:
            obj = response.json()
        except ValueError:
            raise ApiUnavailableError("the gateway sent an unreadable answer") from None
        if not isinstance(obj, dict):
            raise MalformedResponse("the gateway's answer is not an object")
        return parse_completion(shape, obj, self.request_id)


def parse_completion(shape: str, obj: dict[str, Any], request_id: str | None) -> Completion:
    usage = obj.get("usage") if isinstance(obj.get("usage"), dict) else {}
    assert isinstance(usage, dict)
    model = obj.get("model") if isinstance(obj.get("model"), str) else ""
    if shape == "anthropic":
        blocks = obj.get("content")
        if not isinstance(blocks, list):
            raise MalformedResponse("the gateway's answer has no content")
        text = "".join(
            b["text"] for b in blocks if isinstance(b, dict) and isinstance(b.get("text"), str)
        )
        ins, outs = usage.get("input_tokens"), usage.get("output_tokens")
        reason = obj.get("stop_reason")
    else:
        choices = obj.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise MalformedResponse("the gateway's answer has no choices")
        message = choices[0].get("message")
        content = message.get("content") if isinstance(message, dict) else None
        text = content if isinstance(content, str) else ""
        ins, outs = usage.get("prompt_tokens"), usage.get("completion_tokens")
        reason = choices[0].get("finish_reason")
    return Completion(
        text=text,
        model=model or "",
        input_tokens=ins if isinstance(ins, int) else None,
        output_tokens=outs if isinstance(outs, int) else None,
        finish_reason=reason if isinstance(reason, str) else None,
        request_id=request_id,
        raw=obj,
    )
