"""The environment a child `lava` (or emulator) process gets.

Every child starts from this process's environment without any ``LAVA_*`` variable:
the developer's own secret, base URL or config dir must never reach a test's child,
and a test says explicitly which ``LAVA_*`` values it hands over. (In-process runs
get the same isolation from the autouse ``isolated`` fixture in tests/conftest.py.)
"""

from __future__ import annotations

import os
from collections.abc import Iterable

# A keyring that stores nothing: a child process cannot share the tests' in-memory one.
NULL_KEYRING = "keyring.backends.null.Keyring"


def clean_env(*, drop: Iterable[str] = (), **values: str) -> dict[str, str]:
    """This environment without ``LAVA_*`` (nor the names in `drop`), plus `values`."""
    dropped = set(drop)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAVA_") and k not in dropped}
    env.update(values)
    return env
