"""`lava keys apply` as a real process: asking on a real terminal, and Ctrl-C half way.

What only a process shows: the question on a pseudo-terminal (stdin, stdout and stderr
all on it, as in a user's shell) and a SIGINT that arrives while a request hangs, after
keys were already minted: they must still be printed.
"""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import threading
import time

import pytest

from tests.conftest import wait_for
from tests.helpers.env import NULL_KEYRING, clean_env
from tests.helpers.process import LAVA, spawn_lava

pytestmark = pytest.mark.slow  # starts lava as a child process

FILE = '[keys.first]\n[keys.second]\n[keys.third]\nspend_limit = "1/daily"\n'


def child_env(base_url: str, secret: str, tmp_path, **extra: str) -> dict[str, str]:
    return clean_env(
        drop=("NO_COLOR", "FORCE_COLOR", "GITHUB_ENV"),
        LAVA_BASE_URL=base_url,
        LAVA_SECRET_KEY=secret,
        LAVA_CONFIG_DIR=str(tmp_path / "config"),
        PYTHON_KEYRING_BACKEND=NULL_KEYRING,
        **extra,
    )


def read_until(master: int, seen: bytearray, needle: bytes, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while needle not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no {needle!r} on the terminal; got {bytes(seen)!r}")
        ready, _, _ = select.select([master], [], [], min(left, 1.0))
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                chunk = b""
            if not chunk:
                raise AssertionError(f"the terminal closed before {needle!r}: {bytes(seen)!r}")
            seen += chunk


def test_on_a_real_terminal_it_shows_the_plan_asks_and_then_shows_the_keys(logged_in, tmp_path):
    path = tmp_path / "keys.toml"
    path.write_text(FILE)
    env = child_env(logged_in.base_url, logged_in.secrets[0], tmp_path, TERM="xterm-256color")
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [*LAVA, "keys", "apply", "-f", str(path)], env=env, stdin=slave, stdout=slave, stderr=slave
    )
    os.close(slave)
    seen = bytearray()
    try:
        read_until(master, seen, b"[y/N] ")
        question = len(seen)
        os.write(master, b"y\n")
        read_until(master, seen, b"shown once")
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    text = seen.decode("utf-8", "replace").replace("\r\n", "\n")
    before, after = text[:question], text[question:]
    assert "\x1b[32m  + create first" in before  # coloured on a terminal
    assert "Apply these 3 changes to the wallet?" in before
    assert "lava_sk_" not in before  # never in the plan
    assert after.count("Created spend key") == 3
    words = re.sub(r"\x1b\[[0-9;]*m", " ", after).split()
    names = {
        logged_in.store.key_for_raw(w).settings.name for w in words if w.startswith("lava_sk_")
    }
    assert names == {"first", "second", "third"}


def test_ctrl_c_half_way_still_prints_the_keys_already_minted(logged_in, relay, tmp_path):
    released = threading.Event()

    def hang_the_third_create(method: str, path: str, body: object) -> bytes | None:
        if method == "POST" and isinstance(body, dict) and body.get("name") == "third":
            released.wait(timeout=60)  # no answer until the test is over
            return b""
        return None

    middle = relay(hang_the_third_create)
    path = tmp_path / "keys.toml"
    path.write_text(FILE)
    env = child_env(middle.base_url, logged_in.secrets[0], tmp_path)
    proc = spawn_lava(["keys", "apply", "-f", str(path), "--yes"], env)
    try:
        wait_for(lambda: len(middle.writes()) == 3, "the third create to reach the server")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        released.set()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    rows = [line.split("\t") for line in out.splitlines() if "\t" in line]
    assert [row[1] for row in rows] == ["first", "second"]
    for row in rows:
        assert logged_in.store.key_for_raw(row[4]).spend_key_id == row[0]
    assert "lava_sk_" not in err and "Traceback" not in err
