"""TAB completion without loading Typer: command and option names, and option values.

A TAB press starts `lava` with `_LAVA_COMPLETE` set. Building the Typer app to answer
it costs ~100 ms (Typer, click and, for zsh/fish/PowerShell, rich to clean the help
texts); what it answers mostly changes only when the code does. So
`make completions` records each command's completions, already formatted for each
shell by Typer itself, in `completion/index.py`, and this module answers from that
table in a few milliseconds.

It answers what the table fully determines, and leaves the rest (quoting, `--opt=`,
option names after other words, a second argument) to Typer:

- the words before the cursor are all command names: subcommands, option names, or
  the command's first argument (`lava env <TAB>`: tool ids; `lava keys show <TAB>`:
  saved keys);
- the word before the cursor is an option that takes a value (`--shape <TAB>`,
  `--spend-limit 5/<TAB>`): the values the index holds for it, or, for a dynamic
  source (profiles, saved keys, models, cycles), `ops.values` reads them now, from the
  config and the cache only, as Typer's completion of the same option does.

A test compares the two answers for every command, option and shell.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing itself costs ~8 ms: this module runs on every TAB press
if TYPE_CHECKING:
    from collections.abc import Mapping

SHELLS = ("bash", "zsh", "fish", "powershell")
# What Typer's shell_split does with these differs from str.split(); leave them to it.
_UNSAFE = frozenset("'\"\\\x0b\x0c")

Item = tuple[str, ...]  # (value, bash line, zsh line, fish line, PowerShell line)


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


def _node(args: list[str]) -> tuple[tuple[object, ...], list[str]] | None:
    """The deepest command the words name, and the words after it."""
    from lava_cli.completion.index import NODES

    for cut in range(len(args), -1, -1):
        node = NODES.get(" ".join(args[:cut]))
        if node is not None:
            return node, args[cut:]
    return None  # pragma: no cover - "" (the root) is always in the index


def _items(args: list[str], incomplete: str) -> list[Item] | None:
    """The completion items, or None when only Typer can tell."""
    found = _node(args)
    if found is None or "=" in incomplete:
        return None
    (is_group, commands, options, values), rest = found
    assert isinstance(commands, list) and isinstance(options, list) and isinstance(values, dict)
    if rest:
        # Only an option's value: anything else depends on how Typer parses the words.
        if incomplete[:1] == "-" or rest[-1] not in values:
            return None
        return _values(values[rest[-1]], incomplete, args)
    if incomplete.startswith("-"):
        return [item for item in options if item[0].startswith(incomplete)]
    if is_group:
        if incomplete and not incomplete[0].isalnum():
            return None
        return [item for item in commands if item[0].startswith(incomplete)]
    return _values(values.get("", []), incomplete, args)


def _values(entry: object, incomplete: str, args: list[str]) -> list[Item] | None:
    """Static items from the index, or a dynamic source's words read now."""
    if isinstance(entry, list):
        return [item for item in entry if item[0].startswith(incomplete)]
    assert isinstance(entry, str)
    if entry == "keys" and any(_names_profile(a) for a in args):
        return None
    from lava_cli.ops.values import values

    return [_format(word) for word in values(entry, incomplete)]


def _names_profile(word: str) -> bool:
    """`--profile`, `--profile=x`, `-p`, `-pX`, `-vp`: a word that may set the profile."""
    if word.startswith("--"):
        return word.startswith("--profile")
    return word.startswith("-") and "p" in word


def _format(word: str) -> Item:
    """An item without help text, as each of Typer's completion classes writes it."""
    zsh = (
        word.replace('"', '""')
        .replace("'", "''")
        .replace("$", "\\$")
        .replace("`", "\\`")
        .replace(":", r"\\:")
    )
    return (word, word, f'"{zsh}"', word, f"{word}::: ")


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
