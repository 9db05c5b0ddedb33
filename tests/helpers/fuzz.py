"""Settings for the hypothesis-driven tests (fuzzers, canary hunt, crash test) and
how they report their figures.

Example counts are bounded so `make test` stays quick; `make fuzz` raises them through
``LAVA_FUZZ_EXAMPLES`` (a multiplier, read once at import because the autouse
`isolated` fixture clears every ``LAVA_*`` variable before each test).
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, settings

SCALE = max(1, int(os.environ.get("LAVA_FUZZ_EXAMPLES", "1") or "1"))
FIGURES_FILE = os.environ.get("LAVA_FIGURES_FILE")
DOCUMENTED_EXIT_CODES = frozenset(
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 126, 127, 130}
)  # 7: apply --check; 8: rotate --deliver; 126/127: run


def fuzz_settings(examples: int) -> Any:
    """Hypothesis settings for a fuzz test: `examples` x the make-fuzz multiplier."""
    return settings(
        max_examples=examples * SCALE,
        deadline=None,
        database=None,
        derandomize=SCALE == 1,  # `make test` is reproducible; `make fuzz` explores
        suppress_health_check=list(HealthCheck),
    )


def report(capsys: Any, line: str) -> None:
    """Print a figure past pytest's capture (and append it to $LAVA_FIGURES_FILE)."""
    with capsys.disabled():
        print(f"\n[figure] {line}")
    if FIGURES_FILE:
        with open(FIGURES_FILE, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
