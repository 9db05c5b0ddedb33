"""`lava doctor`: the all-good case and each failing condition, against the emulator."""

from __future__ import annotations

import json

import httpx
import pytest

from lava_cli.ops.doctor_env import environment_checks
from tests.conftest import run_lava
from tests.helpers.servers import closed_port

TOOL_VARS = (
    "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL",
    "OPENAI_API_KEY", "OPENAI_BASE_URL",
)  # fmt: skip


@pytest.fixture(autouse=True)
def clean_tool_env(monkeypatch):
    """The developer's own AI-tool variables must not leak into these tests."""
    for name in TOOL_VARS:
        monkeypatch.delenv(name, raising=False)


def doctor(*args: str) -> tuple[int, dict[str, dict]]:
    result = run_lava(*args, "doctor", "--json")
    assert "Traceback" not in result.output and "unexpected" not in result.output
    checks = json.loads(result.stdout)
    assert all(set(c) == {"check", "status", "detail", "fix"} for c in checks)
    return result.code, {c["check"]: c for c in checks}


def create(*args: str) -> dict:
    result = run_lava("keys", "create", *args, "--json")
    assert result.code == 0, result.output
    return json.loads(result.stdout)


def test_all_good(logged_in):
    create("--name", "saved", "--spend-limit", "5/monthly", "--save")
    code, checks = doctor()
    assert code == 0, checks
    assert {c["status"] for c in checks.values()} == {"pass"}
    assert "from LAVA_BASE_URL" in checks["base URL"]["detail"]
    assert "emulator" in checks["base URL"]["detail"]  # plain http is loopback only
    assert "LAVA_SECRET_KEY" in checks["credential"]["detail"]
    assert logged_in.secrets[0] not in json.dumps(checks)  # only the preview
    assert "1 spend keys" in checks["secret valid"]["detail"]
    assert checks["saved key saved"]["status"] == "pass"
    assert checks["clock"]["status"] == "pass"


def test_terminal_and_piped_forms(logged_in, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    tty = run_lava("doctor", tty=True)
    assert tty.code == 0 and "✓ credential:" in tty.stdout
    rows = [line.split("\t") for line in run_lava("doctor").stdout.splitlines()]
    assert all(len(r) == 4 for r in rows) and rows[0][:2] == ["pass", "profile"]


def test_no_secret(emulator, monkeypatch):
    monkeypatch.setenv("LAVA_BASE_URL", emulator.base_url)
    result = run_lava("doctor")
    assert result.code == 1
    assert "checks failed: credential" in result.stderr
    _, checks = doctor()
    assert checks["credential"]["status"] == "fail"
    assert "lava login" in checks["credential"]["fix"]
    assert checks["API reachable"]["status"] == "pass"  # still checked: needs no secret
    assert "secret valid" not in checks


def test_a_secret_the_api_refuses(emulator, monkeypatch):
    monkeypatch.setenv("LAVA_BASE_URL", emulator.base_url)
    monkeypatch.setenv("LAVA_SECRET_KEY", "aks_test_" + "z" * 32)
    code, checks = doctor()
    assert code == 1
    assert checks["credential"]["status"] == "pass"
    assert checks["secret valid"]["status"] == "fail"
    assert "lava login" in checks["secret valid"]["fix"]


def test_a_spend_key_in_place_of_the_secret(emulator, monkeypatch):
    monkeypatch.setenv("LAVA_BASE_URL", emulator.base_url)
    monkeypatch.setenv("LAVA_SECRET_KEY", "lava_sk_" + "q" * 40)
    code, checks = doctor()
    assert code == 1 and checks["credential"]["status"] == "fail"
    assert "not a secret key" in checks["credential"]["detail"]
    assert "q" * 20 not in checks["credential"]["detail"]


def test_an_unreachable_base_url(monkeypatch):
    monkeypatch.setenv("LAVA_BASE_URL", f"http://127.0.0.1:{closed_port()}/v1")
    monkeypatch.setenv("LAVA_SECRET_KEY", "aks_test_" + "a" * 32)
    code, checks = doctor()
    assert code == 1
    assert checks["API reachable"]["status"] == "fail"
    assert "cannot connect" in checks["API reachable"]["detail"]
    assert "secret valid" not in checks and "clock" not in checks


def test_a_base_url_that_is_refused(monkeypatch):
    monkeypatch.setenv("LAVA_BASE_URL", "http://example.com/v1")
    monkeypatch.setenv("LAVA_SECRET_KEY", "aks_test_" + "a" * 32)
    code, checks = doctor()
    assert code == 1
    assert checks["base URL"]["status"] == "fail"
    assert "unencrypted" in checks["base URL"]["detail"]


def test_keyring_credential_names_the_backend(emulator):
    login = run_lava(
        "--base-url", emulator.base_url, "login", "--with-token", input=emulator.secrets[0] + "\n"
    )
    assert login.code == 0, login.output
    code, checks = doctor()
    assert code == 0, checks
    assert "OS keyring (tests.conftest.MemoryKeyring)" in checks["credential"]["detail"]
    assert "from profile 'default'" in checks["base URL"]["detail"]


def test_a_saved_key_revoked_elsewhere(logged_in):
    key = create("--name", "gone", "--save")
    # Revoked behind the CLI's back (dashboard, another machine): config still has it.
    httpx.delete(
        f"{logged_in.base_url}/spend_keys/{key['spend_key_id']}",
        headers={"Authorization": f"Bearer {logged_in.secrets[0]}"},
    ).raise_for_status()
    code, checks = doctor()
    assert code == 1
    check = checks["saved key gone"]
    assert check["status"] == "fail" and "no longer exists" in check["detail"]
    assert "--save" in check["fix"]


def test_a_saved_key_paused_or_rotated_elsewhere(logged_in):
    key = create("--name", "held", "--save")
    assert run_lava("keys", "pause", "held").code == 0
    code, checks = doctor()
    assert code == 1 and checks["saved key held"]["status"] == "fail"
    assert "lava keys resume" in checks["saved key held"]["fix"]
    assert run_lava("keys", "resume", "held").code == 0
    httpx.post(
        f"{logged_in.base_url}/spend_keys/{key['spend_key_id']}/rotate",
        headers={"Authorization": f"Bearer {logged_in.secrets[0]}"},
    ).raise_for_status()
    code, checks = doctor()
    assert code == 1 and "stale" in checks["saved key held"]["detail"]


def test_a_saved_key_near_its_limit_warns(logged_in):
    from decimal import Decimal

    key = create("--name", "hot", "--spend-limit", "1/monthly", "--save")
    row = logged_in.store.get_key(key["wallet_id"], key["spend_key_id"])
    logged_in.store.record_request(
        row, provider="openai", model="gpt-4o", endpoint="/v1/chat/completions",
        input_tokens=1, output_tokens=1, cost=Decimal("0.95"),
    )  # fmt: skip
    code, checks = doctor()
    assert code == 0  # a warning is not a failure
    assert checks["saved key hot"]["status"] == "warn"
    assert "95%" in checks["saved key hot"]["detail"]


def test_shadowing_environment_variables(logged_in, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-api03-realanthropickey")
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "lava_sk_" + "t" * 40)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", logged_in.root_url)
    monkeypatch.setenv("LAVA_SPEND_KEY", "lava_sk_abcd1234****")
    monkeypatch.setenv("OPENAI_BASE_URL", "https://api.openai.com/v1")
    code, checks = doctor()
    assert code == 1
    assert checks["env ANTHROPIC_API_KEY"]["status"] == "fail"
    assert "unset ANTHROPIC_API_KEY" in checks["env ANTHROPIC_API_KEY"]["fix"]
    assert "realanthropickey" not in json.dumps(checks)
    assert checks["env LAVA_SPEND_KEY"]["status"] == "fail"
    assert "preview" in checks["env LAVA_SPEND_KEY"]["detail"]
    assert checks["env OPENAI_BASE_URL"]["status"] == "warn"
    assert "environment" not in checks


def test_environment_rules():
    lava = "https://api.lava.so/v1"
    spend = "lava_sk_" + "x" * 40
    assert [c.check for c in environment_checks({}, lava)] == ["environment"]
    leak = environment_checks({"OPENAI_API_KEY": spend}, lava)
    assert leak[0].status == "fail" and "api.openai.com" in leak[0].detail
    ok = environment_checks({"OPENAI_API_KEY": spend, "OPENAI_BASE_URL": lava}, lava)
    assert [c.status for c in ok] == ["pass"]
    no_v1 = environment_checks(
        {"OPENAI_API_KEY": spend, "OPENAI_BASE_URL": "https://api.lava.so"}, lava
    )
    assert [c.status for c in no_v1] == ["warn"]
    wrong = environment_checks(
        {"OPENAI_API_KEY": "sk-proj-abc", "OPENAI_BASE_URL": "https://api.lava.so/v1"}, lava
    )
    assert wrong[0].status == "fail" and wrong[0].check == "env OPENAI_API_KEY"
    claude = environment_checks(
        {"ANTHROPIC_AUTH_TOKEN": spend, "ANTHROPIC_BASE_URL": "https://api.lava.so/v1"}, lava
    )
    assert [c.status for c in claude] == ["warn"] and "/v1/messages" in claude[0].fix
    nowhere = environment_checks({"ANTHROPIC_AUTH_TOKEN": spend}, lava)
    assert nowhere[0].status == "fail" and "api.anthropic.com" in nowhere[0].detail


def test_a_broken_config_is_reported_not_raised(emulator, monkeypatch, tmp_path):
    monkeypatch.setenv("LAVA_BASE_URL", emulator.base_url)
    config = tmp_path / "config"
    config.mkdir()
    (config / "config.json").write_text("{not json")
    code, checks = doctor()
    assert code == 1
    assert checks["profile"]["status"] == "fail"
    assert "not valid JSON" in checks["profile"]["detail"]
    assert "environment" in checks  # the report went on
