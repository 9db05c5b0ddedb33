"""Server-sent events for the gateway, in both providers' shapes.

Decoding is incremental: `SSEParser.feed` takes the bytes of one network read and
returns the complete (event, data) messages in it; `OpenAIStream` and
`AnthropicStream` turn those into the reply's text and keep the token usage and how
the reply ended. The caller flushes its output once per network read,
not once per token: tokens that arrived together are shown together, and a
20,000-token reply does not cost 20,000 flushes. A provider `error` event raises,
and a stream that ends before its final event raises too (never a silent stop).
"""

from __future__ import annotations

import json
from typing import Any

from lava_cli.api.types import MalformedResponse
from lava_cli.errors import ApiError, ApiUnavailableError
from lava_cli.limits import MAX_EVENT_BYTES, human_size

_raw_decode = json.JSONDecoder().raw_decode


class SSEParser:
    """Incremental SSE framing: bytes in, complete (event name, data) messages out.

    It works on bytes so that its cap is exact: a line still waiting for its end, or
    an event's data lines together, may hold at most `max_event_bytes`
    (LAVA_MAX_EVENT_BYTES). A reply's total size is not capped (a 20,000-token stream
    is normal); one endless line or event is, so it cannot eat the memory. Lines are
    decoded one by one: UTF-8 never uses the newline byte inside a character.
    """

    def __init__(self, max_event_bytes: int = MAX_EVENT_BYTES) -> None:
        self._max = max_event_bytes
        self._pending: list[bytes] = []  # the unfinished line, in pieces (no re-copying)
        self._pending_size = 0
        self._event = "message"
        self._data: list[str] = []
        self._data_size = 0

    def feed(self, chunk: bytes) -> list[tuple[str, str]]:
        lines = chunk.split(b"\n")
        rest = lines.pop()
        out: list[tuple[str, str]] = []
        if lines and self._pending:
            lines[0] = b"".join(self._pending) + lines[0]
            self._pending, self._pending_size = [], 0
        # One loop, no call per line: a long reply is tens of thousands of lines.
        for line in lines:
            raw = line[:-1] if line.endswith(b"\r") else line
            if not raw:
                if self._data:
                    out.append((self._event, "\n".join(self._data)))
                    self._data, self._data_size = [], 0
                self._event = "message"
            elif raw.startswith(b"data:"):
                self._data_size += len(raw)
                if self._data_size > self._max:
                    raise self._too_large()
                value = raw[6:] if raw.startswith(b"data: ") else raw[5:]
                self._data.append(value.decode("utf-8", "replace"))
            elif raw.startswith(b"event:"):
                self._event = raw[6:].decode("utf-8", "replace").strip()
            # comments (":") and unknown fields are ignored, as the SSE spec says
        if rest:
            self._pending.append(rest)
            self._pending_size += len(rest)
            if self._pending_size + self._data_size > self._max:
                raise self._too_large()
        return out

    def _too_large(self) -> ApiUnavailableError:
        return ApiUnavailableError(
            f"the gateway sent a stream event larger than {human_size(self._max)} "
            "(LAVA_MAX_EVENT_BYTES)",
            hint="the stream is malformed; what arrived was kept; if events this big are "
            "expected, raise LAVA_MAX_EVENT_BYTES (a number of bytes)",
        )

    def close(self) -> list[tuple[str, str]]:
        """Messages left when the stream ends without a final blank line."""
        return self.feed(b"\n\n") if self._pending or self._data else []


def _load(data: str) -> dict[str, Any]:
    try:
        obj, end = _raw_decode(data)
    except ValueError:
        raise MalformedResponse("the gateway sent an unreadable stream event") from None
    if end != len(data) and data[end:].strip():
        raise MalformedResponse("the gateway sent an unreadable stream event")
    if not isinstance(obj, dict):
        raise MalformedResponse("the gateway sent a stream event that is not an object")
    return obj


def _stream_error(obj: dict[str, Any]) -> ApiError:
    err = obj.get("error")
    message = err.get("message") if isinstance(err, dict) else err
    return ApiError(f"the gateway stopped the reply: {message or 'unknown error'}")


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def cut_short() -> ApiError:
    return ApiUnavailableError(
        "the stream ended before the reply was complete",
        hint="the server or network dropped the connection; what arrived was kept",
    )


class StreamState:
    """What a stream told us besides its text: usage, how it ended, which model."""

    def __init__(self) -> None:
        self.done = False
        self.reason: str | None = None
        self.model: str | None = None
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None

    def handle(self, event: str, data: str, texts: list[str]) -> None:
        """Decode one SSE message, appending any reply text to `texts`."""
        raise NotImplementedError


class OpenAIStream(StreamState):
    """Chat-completion chunks: content deltas, finish_reason, usage, `[DONE]`."""

    def handle(self, event: str, data: str, texts: list[str]) -> None:
        if self.done:
            return
        if data == "[DONE]" or data.strip() == "[DONE]":
            self.done = True
            return
        chunk = _load(data)
        if "error" in chunk:
            raise _stream_error(chunk)
        try:
            choices = chunk.get("choices")
            if choices:
                choice = choices[0]
                content = choice["delta"].get("content")
                if content:
                    texts.append(content if type(content) is str else str(content))
                reason = choice.get("finish_reason")
                if reason:
                    self.reason = str(reason)
            usage = chunk.get("usage")
            if usage:
                self.input_tokens = _int(usage.get("prompt_tokens"))
                self.output_tokens = _int(usage.get("completion_tokens"))
            if self.model is None and isinstance(chunk.get("model"), str):
                self.model = chunk["model"]
        except (AttributeError, TypeError, KeyError, IndexError):
            raise MalformedResponse("the gateway sent a chunk of an unexpected shape") from None


class AnthropicStream(StreamState):
    """Messages stream: message_start … content_block_delta … message_stop."""

    def handle(self, event: str, data: str, texts: list[str]) -> None:
        if self.done:
            return
        obj = _load(data)
        kind = obj.get("type", event)
        try:
            if kind == "content_block_delta":
                text = obj["delta"].get("text")
                if text:
                    texts.append(text if type(text) is str else str(text))
            elif kind == "message_start":
                message = obj["message"]
                model = message.get("model")
                self.model = model if isinstance(model, str) else None
                usage = message.get("usage")
                if usage:
                    self.input_tokens = _int(usage.get("input_tokens"))
            elif kind == "message_delta":
                reason = obj.get("delta", {}).get("stop_reason")
                if reason:
                    self.reason = str(reason)
                usage = obj.get("usage")
                if usage:
                    self.output_tokens = _int(usage.get("output_tokens"))
            elif kind == "message_stop":
                self.done = True
            elif kind == "error":
                raise _stream_error(obj)
        except (AttributeError, TypeError, KeyError):
            raise MalformedResponse("the gateway sent an event of an unexpected shape") from None


def stream_decoder(shape: str) -> StreamState:
    return AnthropicStream() if shape == "anthropic" else OpenAIStream()
