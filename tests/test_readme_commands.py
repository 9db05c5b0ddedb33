"""Every `lava …` command line the docs show names commands and flags that exist.

The README is the user's entry point and docs/testing.md, docs/architecture.md the next
maintainer's; a renamed flag or command that stays in them sends people to "No such
option". This reads each `lava …` in their code blocks and inline code, follows the
words that name (sub)commands, and checks every `--flag` after them against that
command's own --help (global options included). Arguments, quoted strings and what
follows `|`, `&&`, `;`, `#` or a lone `--` (the child of `lava run`) are not lava's.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from lava_cli.cli.root import COMMANDS, load_command
from tests.conftest import run_lava

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", ROOT / "docs" / "testing.md", ROOT / "docs" / "architecture.md"]

FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
INLINE = re.compile(r"`([^`\n]+(?:\n[^`\n]+)?)`")  # inline code, at most one line break
LAVA = re.compile(r"(?<![\w./-])lava(?![\w.-])")
QUOTED = re.compile(r"'[^']*'|\"(?:[^\"\\]|\\.)*\"")
END = re.compile(r"\s(?:\||&&|;|#|--(?=\s|$))|[|;)]|$")
WORD = re.compile(r"[a-z][a-z-]*")
YAML_NAME = re.compile(r"\s*(?:- )?name:")  # a workflow's title, not a command
FLAG = re.compile(r"(?<![\w-])--[a-z][\w-]*")


def snippets(text: str) -> list[str]:
    """The code of `text`: fenced blocks line by line, then inline code spans."""
    found: list[str] = []
    for block in FENCE.findall(text):
        found += [line for line in block.splitlines() if not YAML_NAME.match(line)]
    found += INLINE.findall(FENCE.sub("", text))
    return found


def invocations(code: str) -> list[str]:
    """Each `lava …` in one line of code, up to where lava's own arguments end."""
    code = QUOTED.sub(lambda m: "''" if "lava " not in m.group() else m.group()[1:-1], code)
    found = []
    for match in LAVA.finditer(code):
        rest = code[match.end() :]
        end = END.search(rest)
        found.append(rest[: end.start() if end else len(rest)])
    return found


@cache
def subcommands(path: tuple[str, ...]) -> frozenset[str] | None:
    """The subcommands of the group at `path`, or None when `path` is a command."""
    if not path:
        return frozenset(COMMANDS)
    spec = COMMANDS[path[0]]
    if not spec.group:
        return None
    group = load_command(path[0], spec)
    if len(path) == 1:
        return frozenset(group.list_commands(None))
    return None


@cache
def help_of(path: tuple[str, ...]) -> str:
    result = run_lava(*path, "--help")
    assert result.code == 0, (path, result.output)
    return result.stdout


def command_and_flags(args: str) -> tuple[tuple[str, ...], list[str]]:
    """The command path (`keys`, `create`) and the `--flags` given to it."""
    words = args.split()
    path: tuple[str, ...] = ()
    for word in words:
        if word.startswith("-"):
            continue  # a global option before the command (`lava -p work keys list`)
        names = subcommands(path)
        if names is None or not WORD.fullmatch(word):
            break
        assert word in names, f"`lava {' '.join((*path, word))}`: no such command"
        path = (*path, word)
    return path, FLAG.findall(args)


def documented() -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        for code in snippets(doc.read_text(encoding="utf-8")):
            found += [(doc.name, args) for args in invocations(code)]
    return found


def test_the_docs_show_lava_commands() -> None:
    """The scan itself works: it finds the README's main job and its flags."""
    found = [args.strip() for _, args in documented()]
    assert "keys create --name claude --shape anthropic --spend-limit 25/monthly --save" in found
    assert command_and_flags("keys rotate claude --save") == (("keys", "rotate"), ["--save"])
    assert len(found) > 60


@pytest.mark.parametrize(("doc", "args"), documented(), ids=lambda v: str(v)[:60])
def test_every_documented_flag_exists(doc: str, args: str) -> None:
    path, flags = command_and_flags(args)
    text = help_of(path)
    for flag in flags:
        assert re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", text), (
            f"{doc}: `lava {args.strip()}`: `lava {' '.join(path)}` has no {flag}"
        )
