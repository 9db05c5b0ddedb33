"""The TAB fast path answers exactly what Typer answers, for every command and shell."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

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
    for path, (_is_group, commands, options, _values) in NODES.items():
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


# Values a dynamic source reads at TAB time, and words that start some of each.
PROFILES = {
    "default": {
        "saved_keys": {
            "sk_aaaaaaaaaaaaaaaaaaaaaaaa": {"name": "claude", "request_shape": "anthropic"},
            "sk_bbbbbbbbbbbbbbbbbbbbbbbb": {"name": "ci nightly", "request_shape": "openai"},
        }
    },
    "work": {"saved_keys": {"sk_cccccccccccccccccccccccc": {"name": "team"}}},
}
CATALOGUE = {
    "version": 1,
    "catalogues": {
        "http://127.0.0.1:1/v1": {
            "fetched_at": 0,
            "models": {"gpt-4o-mini": "openai", "claude-haiku-4-5": "anthropic"},
            "providers": ["anthropic", "openai"],
        }
    },
}
DYNAMIC_PREFIXES = {
    "profiles": ["", "w"],
    "keys": ["", "c", "sk_"],
    "models": ["", "gpt"],
    "providers": ["", "a"],
    "spend-cycles": ["", "5", "5/m", "$1.50/"],
    "count-cycles": ["1000/", "x/"],
}
GLOBAL_OPTIONS = ("--profile", "-p", "--base-url")


def value_cases() -> list[tuple[str, str, str, str]]:
    """(shell, command path, option or "" for the first argument, incomplete word) for
    every value the index holds; the global options on three commands only."""
    result = []
    formatted: set[str] = set()  # entries already checked in every shell's format
    for path, (is_group, _commands, _options, values) in NODES.items():
        for name, entry in values.items():
            if name in GLOBAL_OPTIONS and path not in ("", "keys", "keys list"):
                continue
            if name == "" and is_group:
                continue
            if isinstance(entry, str):
                prefixes = DYNAMIC_PREFIXES[entry]
            else:
                prefixes = ["", *(item[0][:1] for item in entry[:1])]
            result += [("bash", path, name, prefix) for prefix in prefixes]
            if repr(entry) not in formatted:
                formatted.add(repr(entry))
                result += [(shell, path, name, "") for shell in ("zsh", "fish", "powershell")]
    return result


@pytest.fixture
def saved_state(tmp_path: object) -> None:
    """A config with two profiles and their saved keys, and a cached catalogue."""
    root = Path(os.environ["LAVA_CONFIG_DIR"])
    (root / "cache").mkdir(parents=True)
    (root / "config.json").write_text(json.dumps({"profiles": PROFILES}))
    (root / "cache" / "catalogue.json").write_text(json.dumps(CATALOGUE))


@pytest.mark.parametrize(("shell", "path", "option", "incomplete"), value_cases())
def test_fast_values_equal_typer(
    shell: str,
    path: str,
    option: str,
    incomplete: str,
    saved_state: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    words = path.split() + ([option] if option else [])
    env = shell_env(shell, words, incomplete)
    fast = answer(env)
    assert fast is not None, "values are the fast path's to answer"
    assert lines(fast) == lines(typer_answer(env, monkeypatch))


@pytest.mark.parametrize(
    ("words", "incomplete", "expected"),
    [
        (["env"], "cl", ["claude-code", "cline"]),
        (["keys", "create", "--shape"], "", ["openai", "anthropic"]),
        (["keys", "create", "--spend-limit"], "5/m", ["5/monthly"]),
        (
            ["keys", "show"],
            "",
            ["claude", "sk_bbbbbbbbbbbbbbbbbbbbbbbb"],
        ),  # a name with a space: its id
        (["prompt", "--model"], "", ["claude-haiku-4-5", "gpt-4o-mini"]),
        (["keys", "list", "--profile"], "", ["default", "work"]),
        (["env", "--format"], "", ["shell", "dotenv", "json"]),
        (["keys", "rotate", "x", "--format"], "", ["env", "dotenv", "json", "github"]),
    ],
)
def test_values_offered(
    words: list[str], incomplete: str, expected: list[str], saved_state: None
) -> None:
    fast = answer(shell_env("bash", words, incomplete))
    assert fast is not None and fast[0].split() == expected


def test_saved_keys_follow_the_profile(saved_state: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAVA_PROFILE", "work")
    assert answer(shell_env("bash", ["keys", "show"], "")) == ("team\n", 0)
    # A profile typed on the line, before or after the command, is Typer's to read.
    for words in (["-p", "default", "keys", "show"], ["keys", "show", "--profile", "default"]):
        env = shell_env("bash", words, "")
        assert answer(env) is None
        assert typer_answer(env, monkeypatch)[0].split() == ["claude", "sk_" + "b" * 24]


@pytest.mark.parametrize(
    ("words", "incomplete"),
    [
        (["keys", "create"], "--name=x"),
        (["--profile", "work", "keys"], ""),  # options before the command
        (["nosuch"], ""),
        (["keys", "'cr"], ""),  # quoting: Typer's shell splitting decides
        (["keys", "show", "claude"], ""),  # a second argument
        (["keys", "create", "--name", "x"], "--sh"),  # option names after other words
    ],
)
def test_everything_else_is_left_to_typer(words: list[str], incomplete: str) -> None:
    assert answer(shell_env("bash", words, incomplete)) is None


def test_fish_is_args_answers_with_the_exit_code(monkeypatch: pytest.MonkeyPatch) -> None:
    for incomplete, code in (("r", 0), ("zz", 1)):
        env = {**shell_env("fish", ["keys"], incomplete), "_TYPER_COMPLETE_FISH_ACTION": "is-args"}
        assert answer(env) == ("", code) == typer_answer(env, monkeypatch)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["keys", "show"], '"claude"'),  # saved keys from config.json
        (["prompt", "--model"], '"gpt-4o-mini"'),  # the catalogue cache
        (["keys", "create", "--spend-limit", "5/"], '"5/daily"'),
        (["env"], '"claude-code"'),  # static values from the index
    ],
)
def test_values_on_tab_load_no_typer_network_or_keyring(
    words: list[str], expected: str, saved_state: None
) -> None:
    code = (
        "import sys; sys.argv[0] = 'lava'\n"
        "from lava_cli.main import main\n"
        "try:\n    main()\nfinally:\n"
        "    heavy = ('typer', 'click', 'rich', 'httpx', 'keyring')\n"
        "    sys.stderr.write(' '.join(m for m in heavy if m in sys.modules))\n"
    )
    incomplete = words.pop() if words[-1].endswith("/") else ""
    env = {**os.environ, **shell_env("zsh", words, incomplete)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0
    assert expected in out.stdout
    assert out.stderr == ""


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
