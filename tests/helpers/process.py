"""The real `lava` as a child process: `python -m lava_cli ARGS` with a given environment.

For what only a real process shows: exit codes as a shell sees them, signals, file
locks between processes, the installed start-up path. Every run has a timeout (the
machine is loaded; a hung child fails its test instead of hanging the suite), and
stdin is empty unless the test gives `input`, so nothing ever waits on a terminal.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

LAVA = (sys.executable, "-m", "lava_cli")
TIMEOUT_S = 120.0  # generous: 2 shared cores, several Python start-ups at once


@dataclass(frozen=True)
class Result:
    """What one `lava` run gave: in-process (conftest.run_lava) or on terminals
    (terminal.run_lava_process)."""

    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def lava(
    args: Sequence[str],
    env: Mapping[str, str],
    *,
    input: str | None = None,
    timeout: float = TIMEOUT_S,
    **popen: Any,
) -> subprocess.CompletedProcess[str]:
    """Run `lava ARGS` to the end; text stdout/stderr captured."""
    if input is None:
        popen.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run(
        [*LAVA, *args],
        env=dict(env),
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        **popen,
    )


def spawn_lava(
    args: Sequence[str], env: Mapping[str, str], *, text: bool = True, **popen: Any
) -> subprocess.Popen[Any]:
    """Start `lava ARGS` and return at once: stdout/stderr piped, stdin empty unless
    the caller passes `stdin=`. The caller waits (with a timeout) or signals it."""
    popen.setdefault("stdin", subprocess.DEVNULL)
    popen.setdefault("stdout", subprocess.PIPE)
    popen.setdefault("stderr", subprocess.PIPE)
    return subprocess.Popen([*LAVA, *args], env=dict(env), text=text, **popen)
