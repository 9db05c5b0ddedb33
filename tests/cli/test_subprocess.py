"""A few real processes: the installed entry point, signals, the demo, CI-like runs."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest

from tests.conftest import can_see_syscalls, reading_stdin, wait_for
from tests.helpers.env import NULL_KEYRING, clean_env
from tests.helpers.process import lava, spawn_lava

pytestmark = pytest.mark.slow


def lava_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return clean_env(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local/share"),
        PYTHON_KEYRING_BACKEND=NULL_KEYRING,
        **extra,
    )


def test_ci_style_run_with_env_secret(emulator, tmp_path):
    env = lava_env(tmp_path, LAVA_SECRET_KEY=emulator.secrets[0], LAVA_BASE_URL=emulator.base_url)
    created = lava(["keys", "create", "--name", "ci", "--expires-in", "1h", "-q"], env)
    assert created.returncode == 0, created.stderr
    raw = created.stdout.strip()
    assert raw.startswith("lava_sk_")
    listed = lava(["keys", "list", "--json"], env)
    assert listed.returncode == 0
    assert [k["name"] for k in json.loads(listed.stdout)] == ["ci"]
    table = lava(["keys", "list"], {**env, "FORCE_COLOR": "1"})
    assert "\x1b[" not in table.stdout  # piped output never carries colour
    assert lava(["keys", "revoke", "ci"], env).returncode == 2  # no terminal, no --yes
    assert lava(["keys", "revoke", "ci", "--yes"], env).returncode == 0


def test_an_unreadable_config_is_one_error_line(tmp_path):
    # A directory where the config file should be is an OSError path: a bad file, so
    # one error line naming it and a hint, exit 2 (tests/cli/test_bad_environment.py
    # has the other ways a config file can be wrong).
    config_dir = tmp_path / "cfg"
    (config_dir / "config.json").mkdir(parents=True)
    env = lava_env(tmp_path, LAVA_CONFIG_DIR=str(config_dir))
    result = lava(["auth", "status"], env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: cannot read {config_dir / 'config.json'}")
    assert "\nhint: " in result.stderr


@pytest.mark.skipif(not can_see_syscalls(), reason="the ready signal reads /proc/PID/syscall")
def test_sigint_exits_130_without_a_traceback(tmp_path):
    env = lava_env(tmp_path)
    proc = spawn_lava(["login", "--with-token"], env, stdin=subprocess.PIPE)
    wait_for(lambda: reading_stdin(proc.pid), "lava login to wait on stdin")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert "interrupted" in err


def test_demo_succeeds_headless_and_leaves_nothing_behind(tmp_path):
    env = lava_env(tmp_path)
    env.pop("DISPLAY", None)
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    result = lava(["demo"], env, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Demo finished" in result.stdout
    assert "lava keys create" in result.stdout
    leftovers = [p for p in (tmp_path / "home").rglob("*")]
    assert leftovers == [], leftovers
