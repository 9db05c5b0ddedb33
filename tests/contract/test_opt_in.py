"""The opt-in run against a real endpoint, pointed at a stand-in for one: `lava emulator
serve` as a separate server, reached only through LAVA_TEST_BASE_URL and
LAVA_TEST_SECRET_KEY, as Lava's sandbox would be. Nothing else exercises that path
here (there is no network), so without this it could rot unseen."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.helpers.emulators import serve_emulator
from tests.helpers.env import clean_env

pytestmark = pytest.mark.slow  # an emulator process and a pytest process

ROOT = Path(__file__).resolve().parents[2]
SECRET = "aks_test_" + "R" * 32


def run_real_api_half(base_url: str, **extra: str) -> tuple[int, str]:
    """`pytest -m real_api tests/contract` in a child, configured by LAVA_TEST_* only."""
    env = clean_env(LAVA_TEST_BASE_URL=base_url, LAVA_TEST_SECRET_KEY=SECRET, **extra)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "real_api",
         "tests/contract"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    return run.returncode, run.stdout + run.stderr


def keys_left(base_url: str) -> list[object]:
    auth = {"Authorization": f"Bearer {SECRET}"}
    return list(httpx.get(base_url + "/spend_keys", headers=auth).json()["data"])


def test_the_real_api_half_runs_against_the_configured_endpoint_and_cleans_up(tmp_path):
    env = clean_env(LAVA_SECRET_KEY=SECRET)
    served = serve_emulator(["--db", str(tmp_path / "emu.sqlite3")], env)
    try:
        code, output = run_real_api_half(served.base_url, LAVA_TEST_SPEND_BUDGET="0.05")
        summary = output.strip().splitlines()[-1]
        assert code == 0, output[-3000:]
        assert "6 passed" in summary and "skipped" not in summary, summary
        assert keys_left(served.base_url) == [], "the run left keys behind"

        # A test that fails after making its key still leaves nothing: the prompt test
        # creates its key, then asks for a model the endpoint does not have.
        code, output = run_real_api_half(
            served.base_url, LAVA_TEST_SPEND_BUDGET="0.05", LAVA_TEST_MODEL="no-such-model"
        )
        assert code == 1, output[-3000:]
        assert "1 failed, 5 passed" in output.strip().splitlines()[-1], output[-3000:]
        assert keys_left(served.base_url) == [], "a failed test left its key behind"
    finally:
        served.stop()
