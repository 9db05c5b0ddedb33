"""TAB completion of command and option names without loading Typer.

A TAB press starts `lava` with `_LAVA_COMPLETE` set. Building the Typer app to answer
it costs ~100 ms (Typer, click and, for zsh/fish/PowerShell, rich to clean the help
texts); the names it answers with only change when the code does. So
`make completions` records each command's completions, already formatted for each
shell by Typer itself, in `_completion_index.py`, and this module answers from that
table in a few milliseconds.

It answers only what the table fully determines: the words before the cursor are all
command names, and the word under the cursor is empty, a command prefix or an option
prefix. Everything else (option values, arguments, quoting, `--opt=`) returns None and
goes to Typer. A test compares the two answers for every command and shell.
"""

from __future__ import annotations

from collections.abc import Mapping

SHELLS = ("bash", "zsh", "fish", "powershell")
# What Typer's shell_split does with these differs from str.split(); leave them to it.
_UNSAFE = frozenset("'\"\\\x0b\x0c")


def _split(text: str) -> list[str] | None:
    if not text.isascii() or _UNSAFE.intersection(text):
        return None
    return text.split()


def _words(shell: str, env: Mapping[str, str]) -> tuple[list[str], str] | None:
    """(complete words after `lava`, word under the cursor), as Typer's classes read them."""
    if shell == "bash":
        cwords = _split(env.get("COMP_WORDS", ""))
        cword = env.get("COMP_CWORD", "")
        if cwords is None or not cword.isdigit():
            return None
        index = int(cword)
        return cwords[1:index], cwords[index] if index < len(cwords) else ""
    line = env.get("_TYPER_COMPLETE_ARGS", "")
    cwords = _split(line)
    if cwords is None:
        return None
    if shell == "powershell":
        incomplete = env.get("_TYPER_COMPLETE_WORD_TO_COMPLETE", "")
        if _split(incomplete) is None:
            return None
        return (cwords[1:-1] if incomplete else cwords[1:]), incomplete
    args = cwords[1:]
    if args and not line.endswith(" "):
        return args[:-1], args[-1]
    return args, ""


def _items(args: list[str], incomplete: str) -> list[tuple[str, ...]] | None:
    """The completion items (name, then one formatted line per shell), or None."""
    from lava_cli.completion.index import NODES

    node = NODES.get(" ".join(args))
    if node is None:
        return None
    is_group, commands, options = node
    if incomplete.startswith("-") and "=" not in incomplete:
        return [item for item in options if item[0].startswith(incomplete)]
    if is_group and (not incomplete or incomplete[0].isalnum()):
        return [item for item in commands if item[0].startswith(incomplete)]
    return None


def answer(env: Mapping[str, str]) -> tuple[str, int] | None:
    """What Typer would print (with its exit code) for this completion request, or None
    when only Typer can tell."""
    action, _, shell = env.get("_LAVA_COMPLETE", "").partition("_")
    shell = "powershell" if shell == "pwsh" else shell
    if action != "complete" or shell not in SHELLS:
        return None
    words = _words(shell, env)
    if words is None:
        return None
    items = _items(*words)
    if items is None:
        return None
    lines = [item[1 + SHELLS.index(shell)] for item in items]
    if shell == "zsh":
        text = "_arguments '*: :((" + "\n".join(lines) + "))'" if lines else "_files"
    elif shell == "fish":
        fish_action = env.get("_TYPER_COMPLETE_FISH_ACTION", "")
        if fish_action == "is-args":
            return "", 0 if lines else 1
        text = "\n".join(lines) if fish_action == "get-args" else ""
    else:
        text = "\n".join(lines)
    return text + "\n", 0
