"""`lava env --create` as a real process: no key left that nobody holds."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

PRINT_ENV = "import json, os; print(json.dumps(dict(os.environ)))"
SPEND_RE = re.compile(r"lava_sk_[A-Za-z0-9_\-]+")


def lava_env(tmp_path: Path, emulator: object, **extra: str) -> dict[str, str]:
    """The README's CI recipe: the secret in LAVA_SECRET_KEY, no keyring."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAVA_")}
    env.update(
        HOME=str(tmp_path / "home"),
        LAVA_CONFIG_DIR=str(tmp_path / "cfg"),
        LAVA_SECRET_KEY=emulator.secrets[0],  # type: ignore[attr-defined]
        LAVA_BASE_URL=emulator.base_url,  # type: ignore[attr-defined]
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        **extra,
    )
    return env


def lava(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lava_cli", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


def wallet_keys(env: dict[str, str]) -> list[dict]:
    listed = lava(["keys", "list", "--json"], env)
    assert listed.returncode == 0, listed.stderr
    return json.loads(listed.stdout)


# --- item: `env --create` that cannot save leaves no key nobody holds ----------------------


def test_env_create_without_a_keyring_revokes_the_key(emulator, tmp_path):
    env = lava_env(tmp_path, emulator)
    result = lava(["env", "openai-sdk", "--create"], env)
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""  # `eval "$(lava env …)"` gets nothing to run
    assert "revoked" in result.stderr and "lava_sk_" not in result.stderr
    assert wallet_keys(env) == []
