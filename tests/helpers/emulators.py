"""The emulator as a child process: `lava emulator serve --port 0 …`, as a user runs it,
or `serve()` itself (`serving`), the function behind it.

For what only a separate process shows: its exit codes and banner, SIGKILL in the
middle of writes, its memory under a flood, the file database across restarts. (Tests
that only need an emulator to talk to use the in-thread ones: the `emulator` fixture of
tests/conftest.py, tests/emulator/conftest.py, tests/helpers/gateway.py.)
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

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


# --- serve() itself in a child (the function behind `lava emulator serve`) -------------


class Served:
    """A `serve()` subprocess and what it printed before it served."""

    def __init__(self, proc: subprocess.Popen[str], lines: list[str]) -> None:
        self.proc = proc
        self.lines = lines
        self.exports = {
            name: value
            for line in lines
            if line.startswith("export ")
            for name, _, value in [line.removeprefix("export ").strip().partition("=")]
        }
        self.base = self.exports["LAVA_BASE_URL"]
        self.root = self.base.removesuffix("/v1")

    def client(self, secret: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.base, headers={"Authorization": f"Bearer {secret}"}, timeout=10
        )


@contextmanager
def serving(
    db: Path, *, host: str = "127.0.0.1", secrets: tuple[str, ...] = ()
) -> Iterator[Served]:
    """Run serve() as the CLI calls it (generated_secret when no secret is given) and
    read what it prints up to its last comment line (printed once it listens)."""
    code = (
        "import sys; from lava_cli.emulator.server import serve; "
        f"serve(host={host!r}, port=0, db_path={str(db)!r}, secrets={list(secrets)!r}, "
        f"generated_secret={not secrets!r}, out=sys.stdout)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: list[str] = []
    watchdog = threading.Timer(60, proc.kill)  # never wait forever for a line
    watchdog.start()
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # ends at EOF if the watchdog fires
            lines.append(line)
            if line.startswith("# Lava's Node SDK"):
                # the comment lines after the SDK's come in the same write
                more = 3 if host in ("0.0.0.0", "::") else 1
                lines += [proc.stdout.readline() for _ in range(more)]
                break
        watchdog.cancel()
        assert any(line.startswith("# Lava's Node SDK") for line in lines), lines
        yield Served(proc, lines)
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=20)
        for stream in (proc.stdout, proc.stderr):
            assert stream is not None
            stream.close()
