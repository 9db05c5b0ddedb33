"""OpenAI and Anthropic wire shapes: bodies, SSE frames and error bodies.

Field for field what the providers send, so the official SDKs parse the emulator's
answers (and raise their typed exceptions for its errors) unchanged. Pure functions
from values to bytes/dicts; no HTTP here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lava_cli.emulator.replies import Reply

# Error `type` strings both providers use (OpenAI's SDK ignores the type, Anthropic's
# reads it); the HTTP status decides which exception class an SDK raises.
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
}


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def openai_error(status: int, code: str, message: str, param: str | None = None) -> dict[str, Any]:
    return {
        "error": {
            "message": message,
            "type": ERROR_TYPES.get(status, "api_error"),
            "param": param,
            "code": code,
        }
    }


def anthropic_error(status: int, code: str, message: str) -> dict[str, Any]:
    """Anthropic's error body; `code` is ours, kept alongside (their SDK ignores it)."""
    return {
        "type": "error",
        "error": {"type": ERROR_TYPES.get(status, "api_error"), "message": message, "code": code},
    }


def error_body(shape: str, status: int, code: str, message: str) -> dict[str, Any]:
    if shape == "anthropic":
        return anthropic_error(status, code, message)
    return openai_error(status, code, message)


# --- answers -----------------------------------------------------------------------
#
# One reply (replies.Reply: its pieces, one per token, and whether max_tokens cut it)
# goes out in either shape, whole (`reply_body`) or streamed (`reply_frames`). Its id is
# the request id's, with the provider's prefix, so logs and answers line up.

_ID_PREFIXES = {"openai": "chatcmpl-", "anthropic": "msg_"}


def reply_id(shape: str, request_id: str) -> str:
    """The id of the answer to request `request_id`: ``chatcmpl-…`` or ``msg_…`` (the
    record's ``response_id``)."""
    return _ID_PREFIXES[shape] + request_id.removeprefix("req_")


def reply_body(
    shape: str, request_id: str, model: str, reply: Reply, input_tokens: int
) -> dict[str, Any]:
    """The non-streamed answer in `shape`."""
    answer_id = reply_id(shape, request_id)
    if shape == "openai":
        return openai_completion(answer_id, int(time.time()), model, reply, input_tokens)
    return anthropic_message(answer_id, model, reply, input_tokens)


def reply_frames(
    shape: str,
    request_id: str,
    model: str,
    reply: Reply,
    input_tokens: int,
    *,
    include_usage: bool,
) -> Iterator[bytes]:
    """Every SSE frame of a streamed answer in `shape`, one content frame per piece."""
    answer_id = reply_id(shape, request_id)
    stream: OpenAIStream | AnthropicStream
    if shape == "openai":
        stream = OpenAIStream(answer_id, int(time.time()), model, include_usage=include_usage)
    else:
        stream = AnthropicStream(answer_id, model, input_tokens)
    yield from stream.start()
    for piece in reply.pieces:
        yield stream.delta(piece)
    yield from stream.end(reply.truncated, input_tokens, reply.output_tokens)


# --- OpenAI chat completions -------------------------------------------------------


def openai_usage(input_tokens: int, output_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": input_tokens,
        "completion_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
    }


def openai_finish(truncated: bool) -> str:
    return "length" if truncated else "stop"


def openai_completion(
    completion_id: str, created: int, model: str, reply: Reply, input_tokens: int
) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.text, "refusal": None},
                "logprobs": None,
                "finish_reason": openai_finish(reply.truncated),
            }
        ],
        "usage": openai_usage(input_tokens, reply.output_tokens),
        "system_fingerprint": None,
    }


class OpenAIStream:
    """Frames of one streamed chat completion: role chunk, content chunks, finish chunk,
    an optional usage chunk (``stream_options.include_usage``), then ``[DONE]``."""

    def __init__(self, completion_id: str, created: int, model: str, *, include_usage: bool):
        self._head = (
            f'{{"id":{_dumps(completion_id)},"object":"chat.completion.chunk",'
            f'"created":{created},"model":{_dumps(model)},"system_fingerprint":null,'
        )
        # With include_usage every chunk but the last carries "usage": null.
        self._usage_null = ',"usage":null' if include_usage else ""
        self.include_usage = include_usage

    def _chunk(self, choice: str) -> bytes:
        return f'data: {self._head}"choices":[{choice}]{self._usage_null}}}\n\n'.encode()

    def start(self) -> Iterator[bytes]:
        yield self._chunk(
            '{"index":0,"delta":{"role":"assistant","content":""},'
            '"logprobs":null,"finish_reason":null}'
        )

    def delta(self, text: str) -> bytes:
        return self._chunk(
            f'{{"index":0,"delta":{{"content":{_dumps(text)}}},"logprobs":null,"finish_reason":null}}'
        )

    def end(self, truncated: bool, input_tokens: int, output_tokens: int) -> Iterator[bytes]:
        yield self._chunk(
            f'{{"index":0,"delta":{{}},"logprobs":null,"finish_reason":"{openai_finish(truncated)}"}}'
        )
        if self.include_usage:
            usage = _dumps(openai_usage(input_tokens, output_tokens))
            yield f'data: {self._head}"choices":[],"usage":{usage}}}\n\n'.encode()
        yield b"data: [DONE]\n\n"


# --- Anthropic messages ------------------------------------------------------------


def anthropic_stop(truncated: bool) -> str:
    return "max_tokens" if truncated else "end_turn"


def anthropic_message(
    message_id: str, model: str, reply: Reply, input_tokens: int
) -> dict[str, Any]:
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": reply.text}],
        "stop_reason": anthropic_stop(reply.truncated),
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": reply.output_tokens},
    }


def _event(name: str, data: str) -> bytes:
    return f"event: {name}\ndata: {data}\n\n".encode()


class AnthropicStream:
    """Frames of one streamed message: message_start, content_block_start, ping,
    content_block_delta per token, content_block_stop, message_delta, message_stop."""

    def __init__(self, message_id: str, model: str, input_tokens: int):
        self.message_id = message_id
        self.model = model
        self.input_tokens = input_tokens

    def start(self) -> Iterator[bytes]:
        message: dict[str, Any] = {
            "id": self.message_id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": self.input_tokens, "output_tokens": 1},
        }
        yield _event("message_start", _dumps({"type": "message_start", "message": message}))
        yield _event(
            "content_block_start",
            '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}',
        )
        yield _event("ping", '{"type":"ping"}')

    def delta(self, text: str) -> bytes:
        return _event(
            "content_block_delta",
            '{"type":"content_block_delta","index":0,'
            f'"delta":{{"type":"text_delta","text":{_dumps(text)}}}}}',
        )

    def end(self, truncated: bool, input_tokens: int, output_tokens: int) -> Iterator[bytes]:
        """The closing frames; `input_tokens` went out in message_start already."""
        yield _event("content_block_stop", '{"type":"content_block_stop","index":0}')
        yield _event(
            "message_delta",
            '{"type":"message_delta","delta":{"stop_reason":"'
            f'{anthropic_stop(truncated)}","stop_sequence":null}},'
            f'"usage":{{"output_tokens":{output_tokens}}}}}',
        )
        yield _event("message_stop", '{"type":"message_stop"}')


# --- requests ----------------------------------------------------------------------

OPENAI_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
ANTHROPIC_ROLES = frozenset({"user", "assistant"})


class InvalidRequest(ValueError):
    """A request body the provider would answer with 400; the message names the field."""


@dataclass(frozen=True)
class ChatRequest:
    """What the gateway needs from either shape's request body."""

    model: str
    messages: list[dict[str, Any]]
    system: Any
    max_tokens: int | None
    stream: bool
    include_usage: bool


# The largest token count a request may ask for: a 32-bit integer, as the providers'
# schemas take. Unbounded, a forwarded request's worst-case reservation (max_tokens x
# price) overflowed the ledger's integer micro-dollars and answered 500.
MAX_TOKENS = 2**31 - 1


def _positive_int(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TOKENS:
        shown = f"{value!r}" if len(repr(value)) <= 40 else f"{repr(value)[:40]}…"
        raise InvalidRequest(f"{name}: must be a positive integer up to {MAX_TOKENS}, got {shown}")
    return value


def _messages(body: dict[str, Any], roles: frozenset[str]) -> list[dict[str, Any]]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidRequest("messages: required, a non-empty list of message objects")
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise InvalidRequest(f"messages[{i}]: must be an object with role and content")
        role = message.get("role")
        if role not in roles:
            raise InvalidRequest(f"messages[{i}].role: must be one of {', '.join(sorted(roles))}")
        content = message.get("content")
        if not (isinstance(content, (str, list)) or (content is None and role != "user")):
            raise InvalidRequest(f"messages[{i}].content: must be a string or a list of parts")
    return messages


def _common(body: Any) -> tuple[dict[str, Any], str, bool]:
    if not isinstance(body, dict):
        raise InvalidRequest("the request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise InvalidRequest("model: required, a non-empty string")
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise InvalidRequest("stream: must be true or false")
    return body, model, bool(stream)


def parse_openai_request(body: Any) -> ChatRequest:
    """Validate a chat.completions body (`max_completion_tokens` wins over `max_tokens`)."""
    body, model, stream = _common(body)
    messages = _messages(body, OPENAI_ROLES)
    max_tokens = _positive_int(body, "max_completion_tokens")
    if max_tokens is None:
        max_tokens = _positive_int(body, "max_tokens")
    options = body.get("stream_options")
    if options is not None and not isinstance(options, dict):
        raise InvalidRequest("stream_options: must be an object")
    include_usage = bool(options and options.get("include_usage") is True)
    n = body.get("n")
    if n is not None and n != 1:
        raise InvalidRequest("n: the emulator answers with one choice; use n=1")
    return ChatRequest(model, messages, None, max_tokens, stream, include_usage and stream)


def parse_anthropic_request(body: Any) -> ChatRequest:
    """Validate a messages body; unlike OpenAI, `max_tokens` is required."""
    body, model, stream = _common(body)
    if body.get("max_tokens") is None:
        raise InvalidRequest("max_tokens: required, a positive integer")
    max_tokens = _positive_int(body, "max_tokens")
    messages = _messages(body, ANTHROPIC_ROLES)
    system = body.get("system")
    if system is not None and not isinstance(system, (str, list)):
        raise InvalidRequest("system: must be a string or a list of text blocks")
    return ChatRequest(model, messages, system, max_tokens, stream, False)
