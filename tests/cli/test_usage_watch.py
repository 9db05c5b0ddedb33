"""`lava usage --watch`: lines per interval off a terminal, a live table on one, alerts when
a key crosses a share of its limits (spending through the real gateway between polls),
and Ctrl-C. Each run is a real `lava` process; the tests act on what it printed (a
ready signal), never after a guessed sleep."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import select
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from lava_cli.emulator.server import start_in_thread
from tests.conftest import run_lava, wait_for
from tests.helpers.env import NULL_KEYRING, clean_env
from tests.helpers.process import LAVA, spawn_lava
from tests.helpers.terminal import lava_env

pytestmark = pytest.mark.slow  # every test runs lava as a process for seconds

TIMEOUT = 60


def create(*args: str) -> dict:
    result = run_lava("keys", "create", *args, "--json")
    assert result.code == 0, result.output
    return json.loads(result.stdout)


def env_for(emulator, tmp_path: Path, **extra: str) -> dict[str, str]:
    return clean_env(
        LAVA_SECRET_KEY=emulator.secrets[0],
        LAVA_BASE_URL=emulator.base_url,
        LAVA_CONFIG_DIR=str(tmp_path / "config"),
        PYTHON_KEYRING_BACKEND=NULL_KEYRING,
        **extra,
    )


class Lines:
    """A running lava whose stdout lines are collected as they come (tab-split)."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.proc = spawn_lava(args, env)
        self.rows: list[list[str]] = []
        self.errors: list[str] = []
        self._readers = [
            threading.Thread(target=self._read, args=(self.proc.stdout, False), daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stderr, True), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream: Any, errors: bool) -> None:
        for line in stream:
            if errors:
                self.errors.append(line)
            else:
                self.rows.append(line.rstrip("\n").split("\t"))

    @property
    def stderr(self) -> str:
        return "".join(self.errors)

    def of(self, kind: str, key_id: str) -> list[list[str]]:
        return [r for r in list(self.rows) if r[0] == kind and r[2] == key_id]

    def finish(self, sig: int | None = None) -> int:
        if sig is not None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=TIMEOUT)
        finally:
            self.proc.kill()
        for reader in self._readers:
            reader.join(timeout=10)
        return code


def spend(emulator, raw: str, model: str = "gpt-4o-mini", words: int = 1) -> None:
    body = {"model": model, "messages": [{"role": "user", "content": "hello " * words}]}
    headers = {"Authorization": f"Bearer {raw}"}
    answer = httpx.post(emulator.base_url + "/chat/completions", json=body, headers=headers)
    assert answer.status_code == 200, answer.text


def test_off_a_terminal_one_line_per_key_per_interval_until_ctrl_c(logged_in, tmp_path):
    a = create("--name", "a", "--spend-limit", "5/monthly", "--request-limit", "10/daily")
    b = create("--name", "b")
    watch = Lines(["usage", "--watch", "--interval", "1s"], env_for(logged_in, tmp_path))
    wait_for(lambda: len(watch.of("watch", b["spend_key_id"])) >= 2, "two intervals", TIMEOUT)
    code = watch.finish(signal.SIGINT)
    assert code == 130, watch.stderr
    assert "Traceback" not in watch.stderr
    rows = watch.of("watch", a["spend_key_id"])
    times = [r[1] for r in rows]
    assert len(set(times)) >= 2  # two polls, each stamped
    first = rows[0]
    assert first[3:] == ["a", "active", "0.00", "5.00", "monthly", "0%", "0", "10", "daily", "0%"]
    assert watch.of("watch", b["spend_key_id"])[0][6:9] == ["-", "-", "-"]
    assert not [r for r in watch.rows if r[0] == "alert"]  # no --alert, no alerts
    assert "\x1b[" not in "".join("\t".join(r) for r in watch.rows)


def test_an_alert_once_when_a_key_crosses_and_not_again(logged_in, tmp_path):
    """Spend through the gateway between two polls; the alert line comes once."""
    key = create("--name", "burner", "--request-limit", "4/daily")
    other = create("--name", "idle", "--request-limit", "4/daily")
    args = ["usage", "--watch", "--interval", "1s", "--alert", "50%"]
    watch = Lines(args, env_for(logged_in, tmp_path))
    kid = key["spend_key_id"]
    wait_for(lambda: watch.of("watch", kid), "the first poll", TIMEOUT)
    spend(logged_in, key["key"])
    assert not watch.of("alert", kid)  # 1 of 4 is 25%
    spend(logged_in, key["key"])  # 2 of 4: crosses 50%
    wait_for(lambda: watch.of("alert", kid), "the alert", TIMEOUT)
    seen = len(watch.of("watch", kid))
    wait_for(lambda: len(watch.of("watch", kid)) >= seen + 2, "two more polls", TIMEOUT)
    assert watch.finish(signal.SIGINT) == 130
    alerts = watch.of("alert", kid)
    assert len(alerts) == 1  # the first time only
    assert alerts[0][3:] == ["burner", "requests", "50%", "50%", "2 of 4 daily"]
    assert not watch.of("alert", other["spend_key_id"])


def test_exit_on_alert_ends_the_watch_with_exit_5_on_spend(logged_in, tmp_path):
    # One claude-opus-4-6 request of ~2,000 words costs about a cent: half this limit.
    key = create("--name", "pricey", "--spend-limit", "0.02/daily")
    args = ["usage", "--watch", "--interval", "1s", "--alert", "0.40", "--exit-on-alert"]
    watch = Lines(args, env_for(logged_in, tmp_path))
    kid = key["spend_key_id"]
    wait_for(lambda: watch.of("watch", kid), "the first poll", TIMEOUT)
    spend(logged_in, key["key"], model="claude-opus-4-6", words=2000)
    code = watch.finish()
    assert code == 5, watch.stderr
    alert = watch.of("alert", kid)
    assert len(alert) == 1 and alert[0][4] == "spend"
    assert "pricey" in watch.stderr and "at or over 40%" in watch.stderr
    assert f"lava keys update {kid} --spend-limit" in watch.stderr


def test_a_poll_that_fails_is_a_warning_and_the_watch_goes_on(tmp_path, monkeypatch):
    with start_in_thread() as emu:
        monkeypatch.setenv("LAVA_SECRET_KEY", emu.secrets[0])
        monkeypatch.setenv("LAVA_BASE_URL", emu.base_url)
        key = create("--name", "k")
        env = env_for(emu, tmp_path, LAVA_MAX_RETRIES="0", LAVA_TIMEOUT="5")
        watch = Lines(["usage", "--watch", "--interval", "1s"], env)
        wait_for(lambda: watch.of("watch", key["spend_key_id"]), "the first poll", TIMEOUT)
    # The emulator is gone: the next polls fail, and the watch keeps going.
    wait_for(lambda: len(watch.errors) >= 2, "two failed polls", TIMEOUT)
    assert all(e.startswith("warning: ") and "trying again in 1 s" in e for e in watch.errors)
    assert watch.proc.poll() is None
    assert watch.finish(signal.SIGINT) == 130


def test_on_a_terminal_a_live_table_an_alert_with_the_bell_and_a_clean_ctrl_c(logged_in):
    key = create("--name", "full", "--request-limit", "1/daily")
    spend(logged_in, key["key"])  # already at 100%: the first poll alerts
    env = lava_env(
        LAVA_SECRET_KEY=logged_in.secrets[0], LAVA_BASE_URL=logged_in.base_url, NO_COLOR="1"
    )
    master, slave = pty.openpty()
    args = ["usage", "--watch", "--interval", "1s", "--alert", "90%"]
    proc = subprocess.Popen(
        [*LAVA, *args], env=env, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave
    )
    os.close(slave)
    seen = bytearray()

    def read_until(marker: bytes) -> None:
        deadline = time.monotonic() + TIMEOUT
        while marker not in seen:
            assert time.monotonic() < deadline, f"no {marker!r} in {bytes(seen)!r}"
            ready, _, _ = select.select([master], [], [], 1.0)
            if ready:
                seen.extend(os.read(master, 65536))

    try:
        read_until(b"ALERT")
        read_until(b"\x07")  # the bell, rung after the alert line
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=TIMEOUT)
        # The rest of what it wrote, up to the end (EIO once every writer is gone).
        with contextlib.suppress(OSError):
            while select.select([master], [], [], 1.0)[0]:
                chunk = os.read(master, 65536)
                if not chunk:
                    break
                seen.extend(chunk)
    finally:
        proc.kill()
        os.close(master)
    text = seen.decode("utf-8", "replace")
    assert code == 130
    assert "Every key against its limits" in text and "full" in text and "1 / 1 daily" in text
    assert "has used 100% of its 1 daily requests" in text
    assert "\x07" in text  # the bell
    assert "\x1b[?25l" in text and text.rindex("\x1b[?25h") > text.rindex("\x1b[?25l")
    assert "Traceback" not in text


@pytest.mark.parametrize(
    "args",
    [
        ("--alert", "80%"),
        ("--exit-on-alert",),
        ("--interval", "30s"),
        ("--watch", "--exit-on-alert"),
        ("--watch", "--interval", "0s"),
        ("--watch", "--interval", "soon"),
        ("--watch", "--alert", "80"),
        ("--watch", "--json"),
        ("--watch", "--format", "csv"),
        ("--watch", "--wallet"),
        ("k", "--watch"),
    ],
)
def test_watch_usage_errors(logged_in, args):
    result = run_lava("usage", *args)
    assert result.code == 2, result.output
