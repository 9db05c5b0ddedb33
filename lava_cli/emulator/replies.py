"""The emulator's offline model: deterministic replies, a documented tokenizer, exact cost.

Why deterministic: the gateway charges a request *before* it answers (so a spend limit
can never be overshot), which needs the reply's token count up front. Here it is a pure
function of the request, so the up-front cost is the real cost.

Rules (documented in the gateway's module docstring too):

- Tokenizer: a token is a run of word characters (``\\w+``) or one other non-space
  character. ``"Hello, world!"`` is 4 tokens.
- Input tokens: the tokenizer applied to every text in the system prompt and the
  messages (roles and framing are free); at least 1.
- Reply length: ``min(max_tokens, reply_tokens)`` tokens, where ``reply_tokens`` is the
  emulator's natural reply length (64 by default). When ``max_tokens`` cut the reply,
  the finish reason is ``length`` (OpenAI) / ``max_tokens`` (Anthropic).
- Reply text: words from a small vocabulary, chosen by a PRNG seeded with the SHA-256
  of the model and the conversation, so the same request always gets the same reply.
- Cost: ``input/1e6 * input_price + output/1e6 * output_price`` in Decimal, rounded
  half-up to 6 decimals (micro-dollars).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import random
import re
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

DEFAULT_REPLY_TOKENS = 64
COST_QUANTUM = Decimal("0.000001")
_TOKEN_RE = re.compile(r"\w+|[^\w\s]")
_MILLION = Decimal(1_000_000)

_VOCABULARY = (
    "lava flows warm over basalt while the quiet model counts every token and "
    "bills each one fairly across wallets keys limits cycles requests streams replies "
    "prompts budgets gateways emulators tests run fast deterministic offline answers "
    "reset daily weekly monthly never spend carefully measure twice cut once "
    "rivers mountains ember stone glass ash light signal noise pattern"
)
_WORDS = tuple(_VOCABULARY.split())


def count_tokens(text: str) -> int:
    """Tokens in `text` under the emulator's tokenizer (word runs and single symbols)."""
    return len(_TOKEN_RE.findall(text))


def content_texts(content: Any) -> list[str]:
    """The text parts of a message `content` (a string, or a list of typed parts)."""
    if isinstance(content, str):
        return [content]
    texts: list[str] = []
    if isinstance(content, list):
        for part in content:
            if isinstance(part, Mapping):
                text = part.get("text")
                if isinstance(text, str):
                    texts.append(text)
            elif isinstance(part, str):
                texts.append(part)
    return texts


def conversation_texts(system: Any, messages: Iterable[Mapping[str, Any]]) -> list[str]:
    """Every text the prompt holds, system prompt first, each prefixed by its role."""
    texts = [f"system: {t}" for t in content_texts(system)] if system is not None else []
    for message in messages:
        role = str(message.get("role", ""))
        texts.extend(f"{role}: {t}" for t in content_texts(message.get("content")))
    return texts


def count_input_tokens(system: Any, messages: Iterable[Mapping[str, Any]]) -> int:
    """Input tokens of a request: the texts only (role prefixes are free), at least 1."""
    total = 0
    if system is not None:
        total += sum(count_tokens(t) for t in content_texts(system))
    for message in messages:
        total += sum(count_tokens(t) for t in content_texts(message.get("content")))
    return max(total, 1)


@dataclass(frozen=True)
class Reply:
    """A planned reply: its pieces (one per token, ready to stream) and why it stopped."""

    pieces: tuple[str, ...]
    truncated: bool

    @property
    def text(self) -> str:
        return "".join(self.pieces)

    @property
    def output_tokens(self) -> int:
        return len(self.pieces)


def reply_length(max_tokens: int | None, reply_tokens: int = DEFAULT_REPLY_TOKENS) -> int:
    """How many tokens the reply has: the natural length, cut by `max_tokens`."""
    return reply_tokens if max_tokens is None else min(max_tokens, reply_tokens)


def make_reply(
    model: str,
    texts: Iterable[str],
    max_tokens: int | None,
    reply_tokens: int = DEFAULT_REPLY_TOKENS,
) -> Reply:
    """The deterministic reply to a conversation.

    Each piece is one token: a word (with a leading space unless it starts the text or
    a sentence) or a punctuation mark, so `count_tokens(reply.text) == output_tokens`.
    """
    digest = hashlib.sha256("\x00".join([model, *texts]).encode()).digest()
    return _reply(digest, reply_length(max_tokens, reply_tokens), reply_tokens)


@functools.lru_cache(maxsize=512)
def _reply(digest: bytes, count: int, reply_tokens: int) -> Reply:
    """Memoised: load tests and retries repeat prompts, and this is the costly part."""
    rng = random.Random(digest)
    pieces: list[str] = []
    capital = True
    since_mark = 0
    for i in range(count):
        remaining = count - i
        if since_mark >= 3 and remaining > 1 and rng.random() < 0.15:
            mark = "." if rng.random() < 0.6 else ","
            pieces.append(mark)
            capital = mark == "."
            since_mark = 0
            continue
        if remaining == 1 and since_mark >= 1 and count > 1:
            pieces.append(".")
            continue
        word = rng.choice(_WORDS)
        if capital:
            word = word.capitalize()
        pieces.append(word if not pieces else " " + word)
        capital = False
        since_mark += 1
    return Reply(pieces=tuple(pieces), truncated=count < reply_tokens)


def request_cost(
    input_tokens: int, output_tokens: int, input_price: Decimal, output_price: Decimal
) -> Decimal:
    """Dollar cost from per-1M-token prices, rounded half-up to micro-dollars."""
    raw = (Decimal(input_tokens) * input_price + Decimal(output_tokens) * output_price) / _MILLION
    return raw.quantize(COST_QUANTUM, rounding=ROUND_HALF_UP)


# --- upstream providers --------------------------------------------------------------
#
# A model can instead be forwarded to a real provider the operator configures. Its
# reply (and so its cost) is unknown up front, so the gateway reserves the worst case
# (input tokens by our tokenizer + `max_tokens`, or UPSTREAM_RESERVE_TOKENS when the
# request sets none), admits against the limits with that, and afterwards settles the
# request at the provider's reported usage, capped at the reservation: the spend limit
# still holds. Failed upstream calls are settled at zero.

UPSTREAM_RESERVE_TOKENS = 4096
UPSTREAM_SHAPES = ("openai", "anthropic")


@dataclass(frozen=True)
class Upstream:
    """A provider endpoint a model is forwarded to, in the wire format it speaks.

    openai: ``POST {base_url}/chat/completions`` with ``Authorization: Bearer``
    (base_url like ``https://api.openai.com/v1``); anthropic: ``POST
    {base_url}/v1/messages`` with ``x-api-key`` (base_url like
    ``https://api.anthropic.com``). `model` renames the model for the upstream.
    """

    shape: str
    base_url: str
    api_key: str
    model: str | None = None

    def url(self) -> str:
        base = self.base_url.rstrip("/")
        return base + ("/chat/completions" if self.shape == "openai" else "/v1/messages")

    def headers(self, anthropic_version: str | None = None) -> dict[str, str]:
        if self.shape == "openai":
            return {"authorization": f"Bearer {self.api_key}"}
        return {"x-api-key": self.api_key, "anthropic-version": anthropic_version or "2023-06-01"}


def parse_upstream(text: str, api_key: str) -> tuple[str, Upstream]:
    """``MODEL=SHAPE:BASE_URL`` (e.g. ``gpt-4o=openai:https://api.openai.com/v1``)."""
    model, sep, rest = text.partition("=")
    shape, colon, base_url = rest.partition(":")
    if not sep or not colon or not model.strip() or shape not in UPSTREAM_SHAPES:
        raise ValueError(
            f"upstream {text!r}: write MODEL=SHAPE:BASE_URL with SHAPE openai or anthropic, "
            "e.g. gpt-4o=openai:https://api.openai.com/v1"
        )
    if not base_url.startswith(("http://", "https://")):
        raise ValueError(f"upstream {text!r}: the base URL must start with http:// or https://")
    return model.strip(), Upstream(shape, base_url, api_key)


def usage_of(shape: str, obj: Any) -> tuple[int | None, int | None]:
    """(input, output) tokens an upstream reported in a body or stream event, if any."""
    if not isinstance(obj, Mapping):
        return None, None
    if obj.get("type") == "message_start":
        obj = obj.get("message") or {}
    usage = obj.get("usage")
    if not isinstance(usage, Mapping):
        return None, None
    first, second = (
        ("prompt_tokens", "completion_tokens")
        if shape == "openai"
        else ("input_tokens", "output_tokens")
    )
    used_in, used_out = usage.get(first), usage.get(second)
    return (
        used_in if isinstance(used_in, int) else None,
        used_out if isinstance(used_out, int) else None,
    )


class StreamMeter:
    """Watches an upstream SSE stream go by and keeps the usage it reports."""

    def __init__(self, shape: str) -> None:
        self.shape = shape
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self._partial = b""

    def feed(self, chunk: bytes) -> None:
        lines = (self._partial + chunk).split(b"\n")
        self._partial = lines.pop()
        for line in lines:
            if not line.startswith(b"data:") or b"usage" not in line:
                continue
            try:
                obj = json.loads(line[5:])
            except ValueError:
                continue
            used_in, used_out = usage_of(self.shape, obj)
            self.input_tokens = used_in if used_in is not None else self.input_tokens
            self.output_tokens = used_out if used_out is not None else self.output_tokens


Settle = Callable[[bool, "int | None", "int | None"], None]


async def forward(
    client: httpx.AsyncClient,
    upstream: Upstream,
    body: dict[str, Any],
    *,
    stream: bool,
    anthropic_version: str | None,
    settle: Settle,
) -> tuple[int, bytes | AsyncIterator[bytes]]:
    """Send `body` to `upstream`; answer (status, whole body or stream of raw chunks).

    `settle(ok, input_tokens, output_tokens)` is called exactly once: when the
    answer is complete (for a stream, when it ends or is abandoned). Network errors
    raise httpx.HTTPError after settling as failed.
    """
    import httpx

    if upstream.model:
        body = {**body, "model": upstream.model}
    request = client.build_request(
        "POST", upstream.url(), json=body, headers=upstream.headers(anthropic_version)
    )
    try:
        response = await client.send(request, stream=stream)
    except httpx.HTTPError:
        settle(False, None, None)
        raise
    if response.status_code != 200 or not stream:
        content = await response.aread()
        await response.aclose()
        ok = response.status_code == 200
        used_in, used_out = (None, None)
        if ok:
            with contextlib.suppress(ValueError):
                used_in, used_out = usage_of(upstream.shape, json.loads(content))
        settle(ok, used_in, used_out)
        return response.status_code, content

    async def relay() -> AsyncIterator[bytes]:
        meter = StreamMeter(upstream.shape)
        ok = False
        try:
            async for chunk in response.aiter_raw():
                meter.feed(chunk)
                yield chunk
            ok = True
        finally:
            await response.aclose()
            settle(ok, meter.input_tokens, meter.output_tokens)

    return 200, relay()
