"""The emulator's offline model: deterministic replies and a documented tokenizer.

Why deterministic: the gateway charges a request *before* it answers (so a spend limit
can never be overshot), which needs the reply's token count up front. Here it is a pure
function of the request, so the up-front cost (catalogue.price) is the real
cost. A model forwarded to a real provider is not answered here: see upstream.py.

Rules:

- Tokenizer: a token is a run of word characters (``\\w+``) or one other non-space
  character. ``"Hello, world!"`` is 4 tokens.
- Input tokens: the tokenizer applied to every text in the system prompt and the
  messages (roles and framing are free); at least 1.
- Reply length: ``min(max_tokens, reply_tokens)`` tokens, where ``reply_tokens`` is the
  emulator's natural reply length (64 by default). When ``max_tokens`` cut the reply,
  the finish reason is ``length`` (OpenAI) / ``max_tokens`` (Anthropic).
- Reply text: words from a small vocabulary, chosen by a PRNG seeded with the SHA-256
  of the model and the conversation, so the same request always gets the same reply.
"""

from __future__ import annotations

import functools
import hashlib
import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_REPLY_TOKENS = 64
_TOKEN_RE = re.compile(r"\w+|[^\w\s]")

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
