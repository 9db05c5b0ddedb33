"""The emulator as a child process: `lava emulator serve --port 0 …`, as a user runs it.

For what only a separate process shows: its exit codes and banner, SIGKILL in the
middle of writes, its memory under a flood, the file database across restarts. (Tests
that only need an emulator to talk to use the in-thread ones: the `emulator` fixture of
tests/conftest.py, tests/emulator/conftest.py, tests/helpers/gateway.py.)
"""

from __future__ import annotations

import re
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tests.helpers.process import spawn_lava

READY_TIMEOUT_S = 60.0  # generous: a loaded machine, a cold Python start-up


@dataclass
class ServedEmulator:
    """A running `lava emulator serve` child and what its banner said."""

    proc: subprocess.Popen[str]
    base_url: str  # the exported LAVA_BASE_URL, ending in /v1
    banner: str  # stdout up to and including the export line

    @property
    def root(self) -> str:
        """The server's root URL (the gateway's Anthropic base, /openapi.json)."""
        return self.base_url.removesuffix("/v1")

    @property
    def export_line(self) -> str:
        return self.banner.splitlines()[-1]

    def stop(self, how: int = signal.SIGTERM, timeout: float = 20) -> str:
        """Signal it, wait for it to end, return what it wrote to stderr (if piped)."""
        if self.proc.poll() is None:
            self.proc.send_signal(how)
        _, err = self.proc.communicate(timeout=timeout)
        return err or ""


def serve_emulator(
    args: Sequence[str], env: Mapping[str, str], *, stderr: Any = subprocess.PIPE
) -> ServedEmulator:
    """Start `lava emulator serve --port 0 ARGS` and return once it prints its
    `export LAVA_BASE_URL=…` line, which it does only when the socket listens (the
    ready signal). Fails, with what it said, if the process ends first or takes longer
    than READY_TIMEOUT_S. Pass stderr=subprocess.DEVNULL when nobody will read it."""
    proc = spawn_lava(["emulator", "serve", "--port", "0", *args], env, stderr=stderr)
    assert proc.stdout is not None
    lines: list[str] = []
    watchdog = threading.Timer(READY_TIMEOUT_S, proc.kill)  # never wait forever for the line
    watchdog.start()
    try:
        while line := proc.stdout.readline():  # "" once the process is gone
            lines.append(line)
            if "LAVA_BASE_URL=" in line:
                break
    finally:
        watchdog.cancel()
    match = re.search(r"LAVA_BASE_URL=(\S+)", "".join(lines))
    if not match:
        proc.kill()
        _, err = proc.communicate(timeout=20)
        raise AssertionError(f"the emulator printed no export line:\n{''.join(lines)}{err or ''}")
    return ServedEmulator(proc, match.group(1), "".join(lines))
