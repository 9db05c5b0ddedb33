"""Strict readers for the numeric `LAVA_*` environment variables.

A bad value in the environment is the user's input like a bad flag: it must end in
one `error:` line naming the variable, a hint and exit 2, never in a ValueError from
`float()` deep inside a command ("this is a bug"). And like the flag parsers, they
take the digits 0-9 only: `float()` also reads `３０`, `1e3`, `nan` and `inf`.
"""

from __future__ import annotations

import os
import re

from lava_cli.errors import UsageError

_SECONDS_RE = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,9})?|\.[0-9]{1,9}")
MAX_SECONDS = 3600.0


def env_seconds(name: str, default: float, maximum: float = MAX_SECONDS) -> float:
    """A number of seconds in (0, maximum] from `name`, or `default` when unset or empty."""
    text = os.environ.get(name)
    if not text:
        return default
    value = float(text) if _SECONDS_RE.fullmatch(text.strip()) else -1.0
    if not 0 < value <= maximum:
        raise UsageError(
            f"{name}={text!r} is not a number of seconds between 0 and {maximum:g}",
            hint=f"set {name} to a number such as {default:g} (digits 0-9, '.' for "
            "decimals), or unset it for the default",
        )
    return value


def env_int(name: str, default: int, minimum: int, maximum: int) -> int:
    """A whole number in [minimum, maximum] from `name`, or `default` when unset or empty."""
    text = os.environ.get(name)
    if not text:
        return default
    stripped = text.strip()
    ok = stripped.isascii() and stripped.isdigit() and len(stripped) <= 12
    if not ok or not minimum <= int(stripped) <= maximum:
        raise UsageError(
            f"{name}={text!r} is not a whole number from {minimum} to {maximum}",
            hint=f"set {name} to a number such as {default} (digits 0-9), or unset it "
            "for the default",
        )
    return int(stripped)
