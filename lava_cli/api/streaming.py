"""Server-sent events for the gateway, in both providers' shapes.

`decode_sse` turns a line iterator into (event, data) pairs; `openai_events` and
`anthropic_events` turn those into the few things the CLI cares about: text
deltas, token usage, and how the reply ended. A provider `error` event becomes an
exception, never a silent stop.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from lava_cli.api.types import MalformedResponse
from lava_cli.errors import ApiError


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class UsageInfo:
    input_tokens: int | None = None
    output_tokens: int | None = None


@dataclass(frozen=True)
class Finished:
    reason: str | None
    model: str | None = None


Event = TextDelta | UsageInfo | Finished


def decode_sse(lines: Iterable[str]) -> Iterator[tuple[str, str]]:
    """Yield (event name, data) per SSE message; `message` is the default name."""
    event, data = "message", list[str]()
    for line in lines:
        if not line:
            if data:
                yield event, "\n".join(data)
            event, data = "message", []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
    if data:
        yield event, "\n".join(data)


def _load(data: str) -> dict[str, Any]:
    try:
        obj = json.loads(data)
    except ValueError:
        raise MalformedResponse("the gateway sent an unreadable stream event") from None
    if not isinstance(obj, dict):
        raise MalformedResponse("the gateway sent a stream event that is not an object")
    return obj


def _stream_error(obj: dict[str, Any]) -> ApiError:
    err = obj.get("error")
    message = err.get("message") if isinstance(err, dict) else err
    return ApiError(f"the gateway stopped the reply: {message or 'unknown error'}")


def openai_events(messages: Iterable[tuple[str, str]]) -> Iterator[Event]:
    """Chat-completion chunks: content deltas, finish_reason, usage, `[DONE]`."""
    reason: str | None = None
    model: str | None = None
    for _, data in messages:
        if data.strip() == "[DONE]":
            yield Finished(reason, model)
            return
        chunk = _load(data)
        if "error" in chunk:
            raise _stream_error(chunk)
        model = chunk.get("model") if isinstance(chunk.get("model"), str) else model
        choices = chunk.get("choices")
        if isinstance(choices, list):
            for choice in choices:
                if not isinstance(choice, dict):
                    continue
                delta = choice.get("delta")
                content = delta.get("content") if isinstance(delta, dict) else None
                if isinstance(content, str) and content:
                    yield TextDelta(content)
                if isinstance(choice.get("finish_reason"), str):
                    reason = choice["finish_reason"]
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            yield UsageInfo(_int(usage.get("prompt_tokens")), _int(usage.get("completion_tokens")))
    raise _cut()


def anthropic_events(messages: Iterable[tuple[str, str]]) -> Iterator[Event]:
    """Messages stream: message_start … content_block_delta … message_stop."""
    reason: str | None = None
    model: str | None = None
    for event, data in messages:
        obj = _load(data)
        kind = obj.get("type", event)
        if kind == "error":
            raise _stream_error(obj)
        if kind == "message_start":
            message = obj.get("message")
            if isinstance(message, dict):
                model = message.get("model") if isinstance(message.get("model"), str) else None
                usage = message.get("usage")
                if isinstance(usage, dict):
                    yield UsageInfo(_int(usage.get("input_tokens")), None)
        elif kind == "content_block_delta":
            delta = obj.get("delta")
            if isinstance(delta, dict) and isinstance(delta.get("text"), str) and delta["text"]:
                yield TextDelta(delta["text"])
        elif kind == "message_delta":
            delta = obj.get("delta")
            if isinstance(delta, dict) and isinstance(delta.get("stop_reason"), str):
                reason = delta["stop_reason"]
            usage = obj.get("usage")
            if isinstance(usage, dict):
                yield UsageInfo(None, _int(usage.get("output_tokens")))
        elif kind == "message_stop":
            yield Finished(reason, model)
            return
    raise _cut()


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _cut() -> ApiError:
    from lava_cli.errors import ApiUnavailableError

    return ApiUnavailableError(
        "the stream ended before the reply was complete",
        hint="the server or network dropped the connection; what arrived was kept",
    )
