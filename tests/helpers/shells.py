"""TAB pressed in a real interactive shell, with lava's completion script loaded.

bash and zsh run interactively on a pseudo-terminal: the line is typed, TAB pressed
(twice for bash, which lists candidates on the second), and what the terminal shows
is read until the expected text appears. That is the whole path a user takes: the
shell's completion system, the committed script in completions/, the `lava` console
script on PATH, the fast path or Typer. fish answers `complete -C LINE` with exactly
what its pager would offer, without a terminal.

The shells start without any rc file, so nothing of the machine's set-up takes part.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
SCRIPTS = ROOT / "completions"
# The console script of the environment running the tests (what `pip install` made).
LAVA_BIN = Path(sys.executable).parent
READY = "READY> "
SETUP = {
    "bash": f"PS1='{READY}'; bind 'set bell-style none'; source {SCRIPTS / 'lava.bash'}\n",
    "zsh": (
        f"PS1='{READY}'; unsetopt beep; autoload -U compinit; compinit -u; "
        f"source {SCRIPTS / '_lava'}\n"
    ),
}
COMMAND = {"bash": ["bash", "--norc", "--noprofile", "-i"], "zsh": ["zsh", "-f", "-i"]}


def shell_env(env: Mapping[str, str]) -> dict[str, str]:
    """`env` with the test's `lava` first on PATH and a terminal no shell decorates."""
    return {**env, "PATH": f"{LAVA_BIN}{os.pathsep}{env.get('PATH', '')}", "TERM": "dumb"}


def tab(
    shell: str,
    line: str,
    expect: str,
    *,
    env: Mapping[str, str],
    cwd: Path,
    timeout: float = 60.0,
) -> str:
    """Type `line` in an interactive `shell`, press TAB, and return what the terminal
    shows from then on, once `expect` is in it (an AssertionError, with the output,
    after `timeout`)."""
    master, slave = pty.openpty()
    # Wide enough that no shell shortens a description to fit.
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 250, 0, 0))
    proc = subprocess.Popen(
        COMMAND[shell],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=shell_env(env),
        cwd=cwd,
        start_new_session=True,
    )
    os.close(slave)
    try:
        os.write(master, SETUP[shell].encode())
        # The setup line echoes PS1's text in quotes; the prompt starts a line.
        _read_until(master, lambda out: f"\n{READY}" in out or f"\r{READY}" in out, timeout)
        os.write(master, line.encode() + (b"\t\t" if shell == "bash" else b"\t"))
        return _read_until(master, lambda out: expect in out, timeout)
    finally:
        proc.kill()
        proc.wait(timeout=10)
        os.close(master)


def _read_until(fd: int, done: object, timeout: float) -> str:
    out = ""
    deadline = time.monotonic() + timeout
    while not done(out):  # type: ignore[operator]
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"gave up after {timeout:g} s; the terminal showed {out!r}")
        ready, _, _ = select.select([fd], [], [], min(left, 1.0))
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            out += chunk.decode("utf-8", "replace")
    return out


def fish_complete(line: str, *, env: Mapping[str, str], cwd: Path) -> list[str]:
    """The candidates fish offers for `line`."""
    return [row.split("\t")[0] for row in fish_complete_rows(line, env=env, cwd=cwd)]


def fish_complete_rows(line: str, *, env: Mapping[str, str], cwd: Path) -> list[str]:
    """What fish offers for `line`: one candidate per row, its description after a tab."""
    script = f"source {SCRIPTS / 'lava.fish'}; complete -C {_fish_quote(line)}"
    done = subprocess.run(
        ["fish", "--no-config", "-c", script],
        env=shell_env(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.splitlines()


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
