"""What a terminal and a real process show of invocation: help for a bare group, whole
command summaries on a wide terminal, the hint after `keys create`, global options
inside `lava run`'s command left to the command."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from lava_cli.cli.root import COMMANDS
from tests.helpers.process import lava
from tests.helpers.terminal import lava_env, run_lava_process

pytestmark = pytest.mark.slow  # lava as a child process, on pseudo-terminals

SUMMARIES = [spec.summary for spec in COMMANDS.values()]
KEYS_SUMMARIES = [
    "Change a key's name, models, shape, limits or expiry; sends only what changed.",
    "Revoke a key for good: it stops working at once and cannot be restored.",
    "Remove a key saved with --save from this profile; the server is not asked.",
]


@pytest.mark.parametrize("argv", [[], ["keys"]])
def test_bare_lava_and_lava_keys_print_help_and_exit_0(argv: list[str]) -> None:
    done = lava(argv, lava_env())
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    assert done.stdout.startswith("Usage: lava") and "Commands:" in done.stdout


@pytest.mark.parametrize(("argv", "summaries"), [([], SUMMARIES), (["keys"], KEYS_SUMMARIES)])
def test_a_wide_terminal_shows_every_summary_whole(argv: list[str], summaries: list[str]) -> None:
    ran = run_lava_process([*argv, "--help"], lava_env(), terminal=True, columns=150)
    assert ran.code == 0
    rows = ran.stdout.splitlines()
    for summary in summaries:
        assert any(row.strip().endswith(summary) for row in rows), summary


def test_a_narrow_terminal_keeps_each_summary_on_one_line() -> None:
    ran = run_lava_process(["--help"], lava_env(), terminal=True, columns=80)
    commands = ran.stdout.split("Commands:\n")[1].splitlines()
    assert len(commands) == len(COMMANDS)
    assert all(len(row) <= 80 for row in commands)
    assert any(row.endswith("...") for row in commands)  # the longest ones, shortened


def test_create_on_a_terminal_suggests_rotate_save_not_a_second_create(logged_in: Any) -> None:
    env = lava_env(LAVA_SECRET_KEY=logged_in.secrets[0], LAVA_BASE_URL=logged_in.base_url)
    ran = run_lava_process(["keys", "create", "--name", "ci-7"], env, terminal=True)
    assert ran.code == 0, ran.output
    text = " ".join(ran.stdout.split())
    assert "`lava keys rotate ci-7 --save`" in text
    assert "re-run with --save" not in text


def test_global_options_after_run_dash_dash_belong_to_the_command(logged_in: Any) -> None:
    env = lava_env(LAVA_SECRET_KEY=logged_in.secrets[0], LAVA_BASE_URL=logged_in.base_url)
    code = "import sys; print(sys.argv[1:])"
    done = lava(["run", "--", sys.executable, "-c", code, "--profile", "x", "-v"], env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['--profile', 'x', '-v']"
