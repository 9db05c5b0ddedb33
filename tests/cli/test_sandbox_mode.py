"""One base URL for everything: a test-mode secret (aks_test_) points `env`, `run` and
`prompt` at the sandbox, as it does the management calls."""

from __future__ import annotations

import json

from lava_cli.config import LIVE_BASE_URL, SANDBOX_BASE_URL, Config
from lava_cli.credentials import file_set, profile_entry
from tests.conftest import run_lava

TEST_SECRET = "aks_test_" + "m" * 32
SPEND = "lava_sk_" + "p" * 40


def test_env_points_tools_at_the_sandbox_for_a_test_secret(monkeypatch):
    monkeypatch.setenv("LAVA_SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("LAVA_SPEND_KEY", SPEND)
    result = run_lava("env", "openai-sdk", "--format", "json")
    assert result.code == 0, result.output
    assert json.loads(result.stdout)["env"]["OPENAI_BASE_URL"] == SANDBOX_BASE_URL
    shell = run_lava("env", "openai-sdk", "--shell", "bash")
    assert f"export OPENAI_BASE_URL='{SANDBOX_BASE_URL}'" in shell.stdout


def test_env_reads_the_mode_from_the_profiles_store(monkeypatch):
    """No LAVA_SECRET_KEY: the secret saved by `lava login` decides."""
    config = Config.load()
    config.set_profile("default", {"secret_storage": "file"})
    config.save()
    file_set(profile_entry("default"), TEST_SECRET)
    monkeypatch.setenv("LAVA_SPEND_KEY", SPEND)
    result = run_lava("env", "claude-code", "--format", "json")
    assert result.code == 0, result.output
    assert json.loads(result.stdout)["base_url"] == SANDBOX_BASE_URL.removesuffix("/v1")
    status = json.loads(run_lava("auth", "status", "--json").stdout)
    assert status["base_url"] == SANDBOX_BASE_URL


def test_env_without_any_secret_points_at_the_live_host(monkeypatch):
    monkeypatch.setenv("LAVA_SPEND_KEY", SPEND)
    result = run_lava("env", "openai-sdk", "--format", "json")
    assert result.code == 0, result.output
    assert json.loads(result.stdout)["env"]["OPENAI_BASE_URL"] == LIVE_BASE_URL


def test_prompt_goes_to_the_sandbox_for_a_test_secret(proxy, monkeypatch):
    """No internet here: a stand-in proxy (the `proxy` fixture) catches the request and
    names the host it was for."""
    for name, value in proxy.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LAVA_SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("LAVA_SPEND_KEY", SPEND)
    result = run_lava("--verbose", "prompt", "hi", "--no-stream")
    assert result.code == 6, result.output
    assert f"> POST {SANDBOX_BASE_URL}/chat/completions" in result.stderr
    assert proxy.lines and proxy.lines[0] == "CONNECT sandbox-api.lavapayments.com:443 HTTP/1.1"
