"""Hints that name the fix that exists: each error a user meets, with the command or
setting that gets them out, and the exit code the README documents."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from lava_cli.api.http_errors import retry_hint
from lava_cli.emulator.cycles import stored_time
from tests.conftest import run_lava
from tests.helpers.clock import FakeClock
from tests.helpers.gateway import START, start_gateway


def hint(result: Any) -> str:
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("hint: ")]
    assert lines, result.output
    return str(lines[-1])


# --- a spend limit of 0 ------------------------------------------------------------------


def test_create_with_a_zero_spend_limit_says_to_leave_it_out(logged_in: Any) -> None:
    result = run_lava("keys", "create", "-n", "x", "--spend-limit", "0/monthly")
    assert result.code == 2
    assert hint(result) == "hint: for a key without a spend limit, leave out --spend-limit"


def test_update_with_a_zero_spend_limit_names_no_spend_limit(logged_in: Any) -> None:
    result = run_lava("keys", "update", "x", "--spend-limit", "0/monthly")
    assert (result.code, hint(result)) == (2, "hint: to remove the limit use --no-spend-limit")


def test_run_with_a_zero_budget_says_a_run_always_has_one(logged_in: Any) -> None:
    result = run_lava("run", "--spend-limit", "0/total", "--", "true")
    assert result.code == 2
    assert "always has a budget" in hint(result)


# --- the two settings files ----------------------------------------------------------------


def config_dir() -> Path:
    path = Path(os.environ["LAVA_CONFIG_DIR"])
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def test_a_corrupt_secrets_file_says_it_holds_secrets_and_what_deleting_loses() -> None:
    root = config_dir()
    (root / "config.json").write_text(
        json.dumps({"profiles": {"default": {"secret_storage": "file"}}})
    )
    (root / "secrets.json").write_text("{not json")
    result = run_lava("auth", "status")
    assert result.code == 2
    text = hint(result)
    assert "non-secret" not in text
    assert "holds the secret keys of profiles logged in with --insecure-storage" in text
    assert "deleting it loses them" in text and "lava keys rotate KEY --save" in text


def test_a_corrupt_config_file_says_it_holds_no_secret_values() -> None:
    (config_dir() / "config.json").write_text("[1,")
    result = run_lava("auth", "status")
    assert result.code == 2
    assert "no secret values; deleting it forgets them" in hint(result)


# --- a base URL without /v1 ----------------------------------------------------------------


def test_a_base_url_without_v1_is_exit_2_naming_the_fix(raw_server: Any, monkeypatch: Any) -> None:
    server = raw_server(lambda conn, head, n: None)
    monkeypatch.setenv("LAVA_SECRET_KEY", "aks_test_" + "a" * 32)
    monkeypatch.setenv("LAVA_BASE_URL", server.url)
    result = run_lava("keys", "list")
    assert result.code == 2
    assert result.stderr.startswith(f"error: LAVA_BASE_URL: base URL '{server.url}' has no path")
    assert hint(result) == f"hint: add /v1: {server.url}/v1"
    assert server.requests == []  # refused before anything was sent
    flagged = run_lava("--base-url", server.url + "/", "keys", "list")
    assert flagged.code == 2 and hint(flagged) == f"hint: add /v1: {server.url}/v1"


def test_the_emulator_root_without_v1_is_no_longer_a_missing_key(
    logged_in: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("LAVA_BASE_URL", logged_in.root_url)
    result = run_lava("keys", "list")
    assert result.code == 2 and "No such endpoint" not in result.stderr


# --- a spend key the gateway refuses (401) ----------------------------------------------------


def saved(name: str, *flags: str) -> dict[str, Any]:
    made = run_lava("keys", "create", "-n", name, "--save", "--json", *flags)
    assert made.code == 0, made.output
    key: dict[str, Any] = json.loads(made.stdout)
    return key


def test_a_paused_key_is_a_policy_refusal_naming_resume(logged_in: Any) -> None:
    saved("claude")
    assert run_lava("keys", "pause", "claude", "-q").code == 0
    result = run_lava("prompt", "hi", "--key", "claude")
    assert result.code == 5, result.output
    assert "is paused" in result.stderr
    assert hint(result) == "hint: resume it: `lava keys resume claude`"


def test_an_expired_key_is_a_policy_refusal_naming_update_expires_in(logged_in: Any) -> None:
    key = saved("old", "--expires-in", "1h")
    past = datetime.now(timezone.utc) - timedelta(minutes=5)
    logged_in.store.update_key(
        key["wallet_id"], key["spend_key_id"], {"expires_at": stored_time(past)}
    )
    result = run_lava("prompt", "hi", "--key", "old")
    assert result.code == 5, result.output
    assert "expired at" in result.stderr
    assert "`lava keys update old --expires-in 30d` (or --no-expiry)" in hint(result)


def test_a_value_rotated_elsewhere_names_rotate_save(
    logged_in: Any, monkeypatch: Any, tmp_path: Path
) -> None:
    saved("ci")
    here = os.environ["LAVA_CONFIG_DIR"]
    monkeypatch.setenv("LAVA_CONFIG_DIR", str(tmp_path / "elsewhere"))
    assert run_lava("keys", "rotate", "ci", "-q").code == 0  # another machine
    monkeypatch.setenv("LAVA_CONFIG_DIR", here)
    result = run_lava("prompt", "hi", "--key", "ci")
    assert result.code == 3, result.output
    assert "`lava keys rotate ci --save`" in hint(result)


def test_a_paused_key_from_the_environment_is_found_by_its_preview(
    logged_in: Any, monkeypatch: Any
) -> None:
    made = run_lava("keys", "create", "-n", "env-key", "--json")
    monkeypatch.setenv("LAVA_SPEND_KEY", json.loads(made.stdout)["key"])
    assert run_lava("keys", "pause", "env-key", "-q").code == 0
    result = run_lava("prompt", "hi")
    assert result.code == 5, result.output
    assert hint(result) == "hint: resume it: `lava keys resume env-key`"


def test_without_a_secret_the_hint_names_every_way_out(logged_in: Any, monkeypatch: Any) -> None:
    made = run_lava("keys", "create", "-n", "k", "--paused", "--json")
    monkeypatch.setenv("LAVA_SPEND_KEY", json.loads(made.stdout)["key"])
    monkeypatch.delenv("LAVA_SECRET_KEY")
    result = run_lava("prompt", "hi")
    assert result.code == 3
    text = hint(result)
    for fix in (
        "lava keys resume KEY",
        "lava keys update KEY --expires-in",
        "lava keys rotate KEY",
    ):
        assert fix in text


# --- when to retry ----------------------------------------------------------------------------


@pytest.fixture
def tokyo(monkeypatch: Any) -> Iterator[None]:
    """The process's local time zone is Tokyo's (UTC+9, no daylight saving)."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_retry_hints_say_when_in_local_time(tokyo: None) -> None:
    now = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)  # 21:00 in Tokyo
    assert retry_hint(42.2, now) == "retry in 43 s"
    assert retry_hint(3600, now) == "retry after 22:00 JST (in 1 h)"
    assert retry_hint(84581, now) == "retry after Mon 02 Mar 20:30 JST (in 23 h 30 min)"


def test_a_used_up_request_limit_says_when_it_resets(tokyo: None, monkeypatch: Any) -> None:
    with start_gateway(FakeClock(START)) as handle:  # 12 h before the daily reset
        monkeypatch.setenv("LAVA_SECRET_KEY", handle.secrets[0])
        monkeypatch.setenv("LAVA_BASE_URL", handle.base_url)
        made = run_lava("keys", "create", "-n", "once", "--request-limit", "1/daily", "-q")
        monkeypatch.setenv("LAVA_SPEND_KEY", made.stdout.strip())
        assert run_lava("prompt", "hi").code == 0
        result = run_lava("prompt", "again")
    assert result.code == 5, result.output
    assert hint(result).startswith("hint: retry after ") and hint(result).endswith("JST (in 12 h)")
