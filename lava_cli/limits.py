"""The bounds on every network wait and read (design pattern 13), read from the environment.

A misbehaving or hostile server must not be able to hold the CLI forever or fill its
memory: a server that trickles one byte a second never trips a per-read timeout, a
list that always says `has_more` never ends, keep-alive comments keep a stream open,
and one endless line or body grows without limit. Each bound has a `LAVA_*` variable
so a user with a slow link or a big wallet history can widen it; a bad value is a
usage error naming the variable (exit 2), and crossing a bound is exit 6.

`LAVA_TIMEOUT` (the whole-request deadline) is read where each client is built,
because its default differs per use (management 30 s, a non-streamed prompt 120 s);
the bounds here are the same everywhere, so they have one resolution.
"""

from __future__ import annotations

from typing import NamedTuple

from lava_cli.envvars import env_int, env_seconds

STREAM_IDLE_S = 120.0
MAX_RESPONSE_BYTES = 8 * 1024 * 1024
MAX_EVENT_BYTES = 1024 * 1024
MAX_PAGES = 50
_KIB = 1024
_GIB = 1024 * 1024 * 1024


def human_size(n: int) -> str:
    """1048576 -> '1 MiB': sizes in error messages, exact when they are whole units."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            value = n / size
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} bytes"


class Limits(NamedTuple):
    """How long a stream may stay silent, how much one answer may hold, how many pages.

    A NamedTuple rather than a dataclass: it is built on every API command, and a
    dataclass costs about a millisecond more to define at start-up.
    """

    stream_idle: float = STREAM_IDLE_S
    max_response_bytes: int = MAX_RESPONSE_BYTES
    max_event_bytes: int = MAX_EVENT_BYTES
    max_pages: int = MAX_PAGES

    @classmethod
    def from_env(cls) -> Limits:
        return cls(
            stream_idle=env_seconds("LAVA_STREAM_IDLE", STREAM_IDLE_S),
            max_response_bytes=env_int("LAVA_MAX_RESPONSE_BYTES", MAX_RESPONSE_BYTES, _KIB, _GIB),
            max_event_bytes=env_int("LAVA_MAX_EVENT_BYTES", MAX_EVENT_BYTES, _KIB, _GIB),
            max_pages=env_int("LAVA_MAX_PAGES", MAX_PAGES, 1, 10_000),
        )
