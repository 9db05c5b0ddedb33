"""A key's name and preview as KEY: a duplicate name is refused (every lookup by it would
fail), and a preview in any form people copy finds the key instead of sounding the
"secret on the command line" alarm. End to end against the emulator."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_lava


def create(*args: str) -> dict:
    result = run_lava("keys", "create", "--json", *args)
    assert result.code == 0, result.output
    return json.loads(result.stdout)


def names() -> list[str]:
    return sorted(k["name"] for k in json.loads(run_lava("keys", "list", "--json").stdout))


def test_create_refuses_a_duplicate_name_unless_asked(logged_in):
    first = create("--name", "ci")
    again = run_lava("keys", "create", "--name", "ci", "-q")
    assert again.code == 2, again.output
    assert again.stdout == ""
    assert f"a spend key named 'ci' already exists ({first['spend_key_id']})" in again.stderr
    assert "--allow-duplicate-name" in again.stderr.splitlines()[-1]  # the hint line
    assert names() == ["ci"]  # nothing was created
    assert run_lava("keys", "show", "ci").code == 0  # the name still finds one key
    on_purpose = run_lava("keys", "create", "--name", "ci", "--allow-duplicate-name", "-q")
    assert on_purpose.code == 0, on_purpose.output
    assert names() == ["ci", "ci"]


def test_rename_refuses_another_keys_name_but_not_its_own(logged_in):
    create("--name", "prod")
    create("--name", "staging")
    taken = run_lava("keys", "update", "staging", "--name", "prod")
    assert taken.code == 2 and "already exists" in taken.stderr
    assert names() == ["prod", "staging"]
    same = run_lava("keys", "update", "staging", "--name", "staging", "-q")
    assert same.code == 0, same.output  # a key may keep its own name
    forced = run_lava("keys", "update", "staging", "--name", "prod", "--allow-duplicate-name")
    assert forced.code == 0, forced.output


def test_env_create_refuses_a_duplicate_name(logged_in):
    create("--name", "claude-code", "--shape", "anthropic")  # made elsewhere, not saved here
    result = run_lava("env", "claude-code", "--create")
    assert result.code == 2, result.output
    assert result.stdout == "" and "already exists" in result.stderr
    assert names() == ["claude-code"]
    other = run_lava("env", "claude-code", "--create", "--name", "claude-code-2")
    assert other.code == 0, other.output


@pytest.mark.slow  # `lava run` starts the command as a child process
def test_run_name_refuses_a_duplicate_before_running(logged_in, tmp_path):
    create("--name", "nightly")
    marker = tmp_path / "ran"
    result = run_lava("run", "--name", "nightly", "--", "touch", str(marker))
    assert result.code == 2, result.output
    assert "already exists" in result.stderr
    assert not marker.exists()  # refused before the command ran
    assert names() == ["nightly"]
    forced = run_lava(
        "run", "--name", "nightly", "--allow-duplicate-name", "--", "touch", str(marker)
    )
    assert forced.code == 0, forced.output
    assert marker.exists()
    assert names() == ["nightly"]  # the run's own key was revoked afterwards


@pytest.mark.parametrize("form", ["{p}****", "{p}", "{p}…", "{p}**", "{p}..."])
def test_a_preview_in_any_copied_form_finds_the_key(logged_in, form):
    key = create("--name", "previewed")
    stem = key["key_preview"].removesuffix("****")
    ref = form.format(p=stem)
    result = run_lava("keys", "show", ref, "--json")
    assert result.code == 0, result.output  # not the "secret on the command line" alarm
    assert json.loads(result.stdout)["spend_key_id"] == key["spend_key_id"]


def test_a_preview_finds_a_saved_key_for_key_options(logged_in):
    key = create("--name", "kept", "--save")
    stem = key["key_preview"].removesuffix("****")
    listed = run_lava("models", "--key", stem, "--json")
    assert listed.code == 0, listed.output
    exported = run_lava("env", "openai-sdk", "--key", stem + "…", "--shell", "bash")
    assert exported.code == 0, exported.output
    assert key["key"] in exported.stdout


def test_not_found_and_help_say_previews_work(logged_in):
    missing = run_lava("keys", "show", "lava_sk_abcd1234")
    assert missing.code == 4, missing.output
    assert "no spend key with id, name or preview 'lava_sk_abcd1234****'" in missing.stderr
    assert "a preview (lava_sk_a1b2c3d4****, the **** optional)" in missing.stderr
    helped = run_lava("keys", "show", "--help")
    assert "preview (lava_sk_a1b2c3d4, with or without ****)" in " ".join(helped.stdout.split())


def test_a_real_key_in_argv_is_still_refused(logged_in):
    key = create("--name", "real")
    result = run_lava("keys", "show", key["key"])
    assert result.code == 2
    assert "command line" in result.stderr and key["key"] not in result.output
