"""How `lava` is invoked: help without a command, one placeholder style, habitual verbs,
global options anywhere, and contradicting flags refused before anything is sent.

In-process (the CLI's own streams); what only a terminal or a real process shows is in
test_invocation_terminal.py.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from lava_cli.cli.root import COMMANDS, load_command
from tests.conftest import run_lava

GROUPS = [name for name, spec in COMMANDS.items() if spec.group]
# Groups that are a command themselves (`lava wallet` shows the wallet).
COMMAND_GROUPS = [g for g in GROUPS if load_command(g, COMMANDS[g]).invoke_without_command]


def every_command() -> list[list[str]]:
    """The argv of every command and group: ["keys"], ["keys", "create"], ["prompt"], …"""
    found: list[list[str]] = [[]]
    for name, spec in COMMANDS.items():
        found.append([name])
        if spec.group:
            found += [[name, sub] for sub in load_command(name, spec).list_commands(None)]
    return found


# --- help --------------------------------------------------------------------------------


@pytest.mark.parametrize("group", [[], *([g] for g in GROUPS if g not in COMMAND_GROUPS)])
def test_a_group_without_a_command_prints_its_help_and_exits_0(group: list[str]) -> None:
    result = run_lava(*group)
    assert result.code == 0, result.output
    assert result.stdout.startswith(f"Usage: lava {' '.join(group)}".replace("  ", " "))
    assert "Commands:" in result.stdout and result.stderr == ""


def test_a_group_with_only_options_prints_its_help_too() -> None:
    result = run_lava("keys", "--profile", "work")
    assert (result.code, result.stderr) == (0, "")
    assert result.stdout.startswith("Usage: lava keys")


@pytest.mark.parametrize("argv", every_command(), ids=" ".join)
def test_one_placeholder_style_with_real_names(argv: list[str]) -> None:
    text = run_lava(*argv, "--help").stdout
    assert text.startswith("Usage: ")
    # Typer's own styles: <str>, <integer range>, {key}, lower-case argument names.
    assert not re.search(r"<[a-z ]+>|\{\w+\}", text), text
    usage = text.splitlines()[0]
    assert re.fullmatch(
        r"Usage: lava[\w -]* \[OPTIONS\]( [A-Z\[\]. ]+| COMMAND \[ARGS\]\.\.\.)?", usage
    ), usage
    for line in text.splitlines():
        option = re.match(r"  (?:-\w, )?--([\w-]+) (\S+) {2,}", line)  # an option's row
        if option:
            flag, placeholder = option.groups()
            assert placeholder == placeholder.upper(), line
            # Typer's derived name (`--save-as SAVE_AS`) says nothing of what goes there.
            assert "-" not in flag or placeholder != flag.upper().replace("-", "_"), line


def test_usage_lines_name_the_arguments() -> None:
    assert "Usage: lava keys show [OPTIONS] KEY\n" in run_lava("keys", "show", "--help").stdout
    assert "Usage: lava env [OPTIONS] [TOOL]\n" in run_lava("env", "--help").stdout
    assert "Usage: lava prompt [OPTIONS] [PROMPT]\n" in run_lava("prompt", "--help").stdout
    create = run_lava("keys", "create", "--help").stdout
    assert "--spend-limit AMOUNT/CYCLE" in create and "-n, --name NAME" in create


@pytest.mark.parametrize("argv", [a for a in every_command() if a], ids=" ".join)
def test_quiet_mentions_a_new_key_only_where_one_is_made(argv: list[str]) -> None:
    text = " ".join(run_lava(*argv, "--help").stdout.split())
    if "-q, --quiet" not in text:
        return
    makes_a_key = argv in (["keys", "create"], ["keys", "rotate"], ["secret-keys", "create"])
    assert ("-q, --quiet Print only the new key." in text) == makes_a_key
    assert "(or the new key)" not in text


def test_save_names_both_stores() -> None:
    text = " ".join(run_lava("keys", "create", "--help").stdout.split())
    assert "OS keyring, or the 0600 secrets file" in text and "--insecure-storage" in text


# --- habits ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "meant"),
    [
        (["keys", "delete", "x"], "revoke"),
        (["keys", "rm", "x"], "revoke"),
        (["keys", "remove", "x"], "revoke"),
        (["keys", "ls"], "list"),
        (["keys", "new"], "create"),
        (["keys", "view", "x"], "show"),
        (["keys", "edit", "x"], "update"),
        (["keys", "roll", "x"], "rotate"),
        (["rm", "x"], "keys revoke"),
        (["list"], "keys list"),
        (["whoami"], "auth status"),
        (["keys", "revok"], "revoke"),  # a typo: the closest name
    ],
)
def test_habitual_verbs_are_answered_with_lavas_word(argv: list[str], meant: str) -> None:
    result = run_lava(*argv)
    assert result.code == 2
    assert result.stderr.splitlines()[0].endswith(f"Did you mean {meant!r}?"), result.stderr


# --- global options anywhere -------------------------------------------------------------


def status(*argv: str) -> dict[str, Any]:
    result = run_lava(*argv)
    assert result.stdout, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.mark.parametrize(
    "argv",
    [
        ["-p", "work", "auth", "status", "--json"],
        ["auth", "status", "--json", "-p", "work"],
        ["auth", "status", "--profile", "work", "--json"],
        ["auth", "--profile", "work", "status", "--json"],
        ["-p", "home", "auth", "status", "--json", "--profile", "work"],  # the later one wins
    ],
)
def test_profile_is_accepted_before_or_after_the_command(argv: list[str]) -> None:
    assert status(*argv)["profile"] == "work"


def test_base_url_and_verbose_after_the_command(logged_in: Any) -> None:
    url = logged_in.base_url
    info = status("auth", "status", "--json", "--base-url", url)
    assert (info["base_url"], info["base_url_source"]) == (url, "--base-url")
    result = run_lava("keys", "list", "--json", "-v")
    assert result.code == 0 and "GET " in result.stderr  # the request log


def test_a_global_option_after_the_command_is_checked_like_one_before() -> None:
    result = run_lava("keys", "list", "--profile", "no good")
    assert result.code == 2
    assert result.stderr.startswith("error: --profile: invalid profile name 'no good'")


# --- flags that contradict each other ----------------------------------------------------


def wallet_keys(emulator: Any) -> list[Any]:
    """The emulator's keys of the default wallet, as stored."""
    wallet = emulator.store.wallet_for_secret(emulator.secrets[0])
    return list(emulator.store.list_keys(wallet.wallet_id).data)


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["keys", "list", "-q", "--json"], "-q/--quiet and --json do not go together"),
        (["keys", "create", "-n", "x", "-q", "--json"], "-q/--quiet and --json"),
        (["keys", "create", "-n", "x", "--format", "env", "--json"], "--format and --json"),
        (["keys", "create", "-n", "x", "--format", "env", "-q"], "--format and -q/--quiet"),
        (["keys", "create", "-n", "x", "--var", "KEY"], "--var names the variable"),
        (["keys", "create", "-n", "x", "--format", "json", "--var", "K"], "not json"),
        (["keys", "rotate", "x", "-q", "--json"], "-q/--quiet and --json"),
        (["keys", "revoke", "x", "--yes", "-q", "--json"], "-q/--quiet and --json"),
        (["keys", "pause", "x", "-q", "--json"], "-q/--quiet and --json"),
        (["keys", "forget", "x", "-q", "--json"], "-q/--quiet and --json"),
        (["prompt", "hi", "--usage", "--json"], "--usage and --json"),
        (["env", "claude-code", "--name", "x"], "--name names the key that --create makes"),
        (["env", "claude-code", "--shell", "fish", "--format", "json"], "--shell and --format"),
        (["env", "--list", "claude-code"], "--list shows every tool"),
        (["emulator", "serve", "--fault-seed", "3"], "--fault-seed seeds --fault"),
    ],
)
def test_contradicting_flags_exit_2_before_anything_is_sent(
    argv: list[str], said: str, logged_in: Any
) -> None:
    result = run_lava(*argv)
    assert result.code == 2, result.output
    assert said in result.stderr.splitlines()[0]
    assert wallet_keys(logged_in) == []  # nothing was created


def test_prompt_refuses_a_shape_its_saved_key_cannot_speak(logged_in: Any) -> None:
    made = run_lava("keys", "create", "-n", "claude", "--shape", "anthropic", "--save", "-q")
    assert made.code == 0, made.output
    before = wallet_keys(logged_in)
    result = run_lava("prompt", "hi", "--key", "claude", "--shape", "openai")
    assert result.code == 2
    assert "--shape openai does not go with key 'claude', which is an anthropic-shape key" in (
        result.stderr
    )
    assert wallet_keys(logged_in) == before  # no request reached the key (last_used_at)
