"""The TAB fast path answers exactly what Typer answers, for every command and shell."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys

import pytest

from lava_cli.completion.fast import answer
from lava_cli.completion.index import NODES
from lava_cli.main import run


def shell_env(shell: str, words: list[str], incomplete: str) -> dict[str, str]:
    """The environment each of Typer's completion scripts sets for `lava WORDS INCOMPLETE`."""
    line = " ".join(["lava", *words, incomplete])
    if shell == "bash":
        return {
            "_LAVA_COMPLETE": "complete_bash",
            "COMP_WORDS": line,
            "COMP_CWORD": str(len(words) + 1),
        }
    if shell == "powershell":
        return {
            "_LAVA_COMPLETE": "complete_powershell",
            "_TYPER_COMPLETE_ARGS": line,
            "_TYPER_COMPLETE_WORD_TO_COMPLETE": incomplete,
        }
    env = {"_LAVA_COMPLETE": f"complete_{shell}", "_TYPER_COMPLETE_ARGS": line}
    if shell == "fish":
        env["_TYPER_COMPLETE_FISH_ACTION"] = "get-args"
    return env


def typer_answer(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> tuple[str, int]:
    """What the full Typer app prints for this completion request (run() never takes
    the fast path)."""
    import typer.rich_utils

    with monkeypatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        # Typer wraps help texts at the terminal's width; the index keeps them on one
        # line (as Typer does whenever they fit), so compare on a terminal wide enough.
        patch.setattr(typer.rich_utils, "MAX_WIDTH", 10**6)
        out = io.StringIO()
        with pytest.raises(SystemExit) as exited:
            run([], stdout=out)
    return out.getvalue(), int(exited.value.code or 0)


def lines(answer: tuple[str, int]) -> tuple[list[str], int]:
    """The answer's lines in order, but `-h`/`--help` in either order: Click builds the
    help option's names from a set, so Typer's own order changes between processes."""
    text, code = answer
    if text.startswith(ZSH_OPEN):
        text = text[len(ZSH_OPEN) : -len(ZSH_CLOSE)]
    items = text.split("\n")
    helps = sorted(i for i in items if HELP_NAME.match(i))
    return [i for i in items if not HELP_NAME.match(i)] + helps, code


ZSH_OPEN, ZSH_CLOSE = "_arguments '*: :((", "))'\n"
HELP_NAME = re.compile(r'^"?(-h|--help)\b')


def cases() -> list[tuple[str, str, str]]:
    """(shell, command path, incomplete word) for every node in the index."""
    result = []
    for path, (_is_group, commands, options) in NODES.items():
        prefixes = {"", "-", "--", "--h"}
        if commands:
            prefixes.add(commands[-1][0][:1])
        longs = [item[0] for item in options if item[0].startswith("--")]
        if longs:
            prefixes.add(longs[0][:4])
        for shell in ("bash", "zsh", "fish", "powershell"):
            for prefix in sorted(prefixes) if shell == "bash" else ["", "--"]:
                result.append((shell, path, prefix))
    return result


@pytest.mark.parametrize(("shell", "path", "incomplete"), cases())
def test_fast_answer_equals_typer(
    shell: str, path: str, incomplete: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = shell_env(shell, path.split(), incomplete)
    fast = answer(env)
    if fast is None:
        # Left to Typer on purpose: a leaf command's arguments and option values.
        assert not NODES[path][0] and not incomplete.startswith("-")
        return
    slow = typer_answer(env, monkeypatch)
    assert lines(fast) == lines(slow)
    assert fast[0].startswith(ZSH_OPEN) == slow[0].startswith(ZSH_OPEN)


@pytest.mark.parametrize(
    ("words", "incomplete"),
    [
        (["keys", "create", "--shape"], ""),  # an option's value: choices live in Typer
        (["keys", "create"], "--name=x"),
        (["--profile", "work", "keys"], ""),  # options before the command
        (["nosuch"], ""),
        (["keys", "'cr"], ""),  # quoting: Typer's shell splitting decides
        (["env"], ""),  # a leaf command's argument
    ],
)
def test_everything_else_is_left_to_typer(words: list[str], incomplete: str) -> None:
    assert answer(shell_env("bash", words, incomplete)) is None


def test_fish_is_args_answers_with_the_exit_code(monkeypatch: pytest.MonkeyPatch) -> None:
    for incomplete, code in (("r", 0), ("zz", 1)):
        env = {**shell_env("fish", ["keys"], incomplete), "_TYPER_COMPLETE_FISH_ACTION": "is-args"}
        assert answer(env) == ("", code) == typer_answer(env, monkeypatch)


@pytest.mark.slow
def test_tab_press_through_the_console_script_never_loads_typer() -> None:
    code = (
        "import sys; sys.argv[0] = 'lava'\n"
        "from lava_cli.main import main\n"
        "try:\n    main()\nfinally:\n"
        "    sys.stderr.write(' '.join(m for m in ('typer', 'rich', 'httpx') if m in sys.modules))\n"
    )
    env = {**os.environ, **shell_env("zsh", ["keys"], "r")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0
    assert '"rotate":' in out.stdout and '"revoke":' in out.stdout
    assert out.stderr == ""
