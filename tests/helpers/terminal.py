"""Run the real `lava` in a subprocess whose stdout and stderr are terminals, or pipes.

What a terminal receives is a question for a terminal: rich, colour and width decide
differently on a pseudo-terminal than on a StringIO that says `isatty()`. stdout and
stderr get a pty each (same size), so a test can tell which stream said what and
still see exactly the bytes a user's terminal would get.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import termios
import time
from collections.abc import Mapping, Sequence

from tests.helpers.env import clean_env
from tests.helpers.process import LAVA
from tests.helpers.process import Result as Ran

COLUMNS, LINES = 250, 50
# Variables that would change what lava prints or where it goes, from the caller's shell
# (LAVA_* go too: clean_env drops them).
_DROP_PREFIXES = ("ANTHROPIC_", "OPENAI_")
_DROP = ("NO_COLOR", "FORCE_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "GITHUB_ENV", "COLUMNS")


def lava_env(**values: str) -> dict[str, str]:
    """This environment without any LAVA_*/tool settings, plus `values` and a wide terminal."""
    drop = [*_DROP, *(k for k in os.environ if k.startswith(_DROP_PREFIXES))]
    env = clean_env(drop=drop, COLUMNS=str(COLUMNS), LINES=str(LINES), TERM="xterm-256color")
    env.update(values)
    return env


def _pty(columns: int = COLUMNS) -> tuple[int, int]:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, columns, 0, 0))
    return master, slave


def _decode(data: bytes) -> str:
    # The terminal's line discipline turns "\n" into "\r\n"; undo only that.
    return data.decode("utf-8", "replace").replace("\r\n", "\n")


def run_lava_process(
    args: Sequence[str],
    env: Mapping[str, str],
    *,
    terminal: bool,
    timeout: float = 60.0,
    columns: int = COLUMNS,
) -> Ran:
    """`python -m lava_cli ARGS`, stdin empty; stdout and stderr on ptys or pipes,
    `columns` wide (the ptys and $COLUMNS alike)."""
    command = [*LAVA, *args]
    env = {**env, "COLUMNS": str(columns)}
    if not terminal:
        done = subprocess.run(
            command, env=dict(env), stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout
        )
        return Ran(
            done.returncode,
            done.stdout.decode("utf-8", "replace"),
            done.stderr.decode("utf-8", "replace"),
        )
    (out_m, out_s), (err_m, err_s) = _pty(columns), _pty(columns)
    try:
        proc = subprocess.Popen(
            command, env=dict(env), stdin=subprocess.DEVNULL, stdout=out_s, stderr=err_s
        )
    finally:
        os.close(out_s)
        os.close(err_s)
    received = {out_m: bytearray(), err_m: bytearray()}
    open_fds = set(received)
    deadline = time.monotonic() + timeout
    try:
        while open_fds:
            left = deadline - time.monotonic()
            if left <= 0:
                proc.kill()
                raise AssertionError(f"lava {' '.join(args)} did not finish in {timeout:g} s")
            ready, _, _ = select.select(list(open_fds), [], [], min(left, 1.0))
            for fd in ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:  # EIO: every writer of the slave side is gone
                    chunk = b""
                if chunk:
                    received[fd] += chunk
                else:
                    open_fds.discard(fd)
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        os.close(out_m)
        os.close(err_m)
    return Ran(code, _decode(bytes(received[out_m])), _decode(bytes(received[err_m])))
