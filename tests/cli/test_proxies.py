"""Loopback traffic never goes through HTTP_PROXY/ALL_PROXY: plain http would hand the
proxy the Bearer secret. Other hosts keep honouring the proxy variables."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_lava
from tests.helpers.env import NULL_KEYRING, clean_env
from tests.helpers.process import lava
from tests.helpers.servers import PROXY_VARS


def proxied_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return clean_env(
        drop={"NO_PROXY", "no_proxy", *PROXY_VARS},
        HOME=str(tmp_path / "home"),
        LAVA_CONFIG_DIR=str(tmp_path / "cfg"),
        PYTHON_KEYRING_BACKEND=NULL_KEYRING,
        **extra,
    )


# --- loopback traffic never meets a proxy -------------------------------------------------


@pytest.mark.slow
def test_loopback_requests_bypass_every_proxy_variable(emulator, proxy, tmp_path):
    """keys list (management), prompt (gateway) and doctor (its Date probe), each a
    real process with all six proxy variables set and no NO_PROXY: the proxy sees nothing."""
    created = run_lava_with(emulator, "keys", "create", "--name", "p", "--json")
    raw = json.loads(created)["key"]
    env = proxied_env(
        tmp_path,
        LAVA_SECRET_KEY=emulator.secrets[0],
        LAVA_BASE_URL=emulator.base_url,
        **proxy.env(),
    )
    listed = lava(["keys", "list", "--json"], env)
    assert listed.returncode == 0, listed.stderr
    assert [k["name"] for k in json.loads(listed.stdout)] == ["p"]
    prompted = lava(["prompt", "hi", "--no-stream"], {**env, "LAVA_SPEND_KEY": raw})
    assert prompted.returncode == 0, prompted.stderr
    assert prompted.stdout.strip()
    doctor = lava(["doctor", "--json"], env)
    checks = {c["check"]: c for c in json.loads(doctor.stdout)}
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert checks["clock"]["detail"].startswith("local clock is"), checks["clock"]
    assert proxy.connections() == 0, proxy.lines


def run_lava_with(emulator, *args: str) -> str:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAVA_SECRET_KEY", emulator.secrets[0])
        mp.setenv("LAVA_BASE_URL", emulator.base_url)
        result = run_lava(*args)
    assert result.code == 0, result.output
    return result.stdout


def test_other_hosts_still_go_through_the_proxy(proxy, monkeypatch):
    """Corporate networks need the proxy for the real API: https hosts keep using it."""
    for name, value in proxy.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LAVA_SECRET_KEY", "aks_live_" + "n" * 32)
    monkeypatch.setenv("LAVA_MAX_RETRIES", "0")
    result = run_lava("keys", "list")
    assert result.code == 6, result.output
    assert proxy.connections() >= 1
    assert proxy.lines[0] == "CONNECT api.lava.so:443 HTTP/1.1"
