"""The line on which each table and key of a TOML document is declared.

tomllib gives values without positions, and a key file's problems must name their
line (`keys.toml:7: keys.ci: spend_limit: unknown cycle 'fortnightly'`). This reads
the text once, line by line, knowing just enough TOML to tell where a statement can
start: a line opens a statement only outside a multi-line string (`\"\"\"`, `'''`) and
outside an array that spans lines. Such a line is a table header (`[keys.ci]`) or a
key (`spend_limit = …`, `ci.shape = …`, `"a b" = …`); its dotted path is read by
tomllib itself (on the header, or on the key with a dummy value), so quoting and
escapes in names follow the real grammar rather than a regex's idea of it.

It runs only on a document tomllib has already accepted, which rules out the
ambiguous cases (a `[true]` line is an array element inside `x = [ … ]`, never a
header, because depth is tracked). Positions are 1-based and count `\\n` as tomllib
does (a CRLF file gives the same numbers).
"""

from __future__ import annotations

import sys
from typing import Any

Path = tuple[str, ...]


def toml_loads(text: str) -> dict[str, Any]:
    """tomllib.loads (3.11+) or its backport tomli's (3.10), imported only when a file
    is read. A bad document raises ValueError (TOMLDecodeError is one)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - the dependency is only installed on 3.10
        import tomli as tomllib
    document: dict[str, Any] = tomllib.loads(text)
    return document


def statement_lines(text: str) -> dict[Path, int]:
    """{dotted path: first line}, for every table header and key, and every table a
    dotted key creates on the way (`ci.shape = …` records `ci` too)."""
    lines: dict[Path, int] = {}
    table: Path = ()
    string: str | None = None  # the open multi-line string's delimiter
    depth = 0  # open [ and { of a value
    for number, line in enumerate(text.split("\n"), 1):
        start = 0
        if string is None and depth == 0:
            stripped = line.lstrip()
            offset = len(line) - len(stripped)
            if stripped.startswith("["):
                end, _, _ = _lex(line, offset, None, 0, stop_at_eq=False)
                path = _header_path(line[offset:end])
                if path is not None:
                    table = path
                    _record(lines, table, number)
                continue  # a header holds no value: nothing stays open after it
            equals, _, _ = _lex(line, offset, None, 0, stop_at_eq=True)
            if equals < len(line) and line[equals] == "=":
                key = _key_path(line[offset:equals])
                if key is not None:
                    _record(lines, table + key, number)
                start = equals + 1
            else:
                start = len(line)  # blank or a comment
        _, string, depth = _lex(line, start, string, depth, stop_at_eq=False)
    return lines


def line_of(lines: dict[Path, int], path: Path) -> int | None:
    """The line of `path`, or of its nearest recorded parent (a field inside an inline
    table is on its table's line); None when not even the first part is known."""
    for end in range(len(path), 0, -1):
        found = lines.get(path[:end])
        if found is not None:
            return found
    return None


def _record(lines: dict[Path, int], path: Path, number: int) -> None:
    for end in range(1, len(path) + 1):
        lines.setdefault(path[:end], number)


def _lex(
    line: str, i: int, string: str | None, depth: int, *, stop_at_eq: bool
) -> tuple[int, str | None, int]:
    """Scan `line` from `i`: (where it stopped, the multi-line string still open, the
    bracket depth). Stops at a comment, at the end, or (`stop_at_eq`) at the first `=`
    outside strings, which ends a key."""
    n = len(line)
    while i < n:
        if string is not None:  # inside a multi-line string: find its end
            close = _find_close(line, i, string)
            if close < 0:
                return n, string, depth
            i = close
            string = None
            continue
        char = line[i]
        if char == "#":
            return i, None, depth
        if stop_at_eq and char == "=":
            return i, None, depth
        if line.startswith(('"""', "'''"), i):
            string = line[i : i + 3]
            i += 3
        elif char == '"':
            i = _end_of_basic(line, i + 1)
        elif char == "'":
            close = line.find("'", i + 1)
            i = n if close < 0 else close + 1
        else:
            if char in "[{":
                depth += 1
            elif char in "]}":
                depth = max(0, depth - 1)
            i += 1
    return n, string, depth


def _find_close(line: str, i: int, delimiter: str) -> int:
    """Where a multi-line string closing on this line ends (after its delimiter, and
    after the one or two quotes TOML lets stand right before it), or -1."""
    n = len(line)
    while i < n:
        if delimiter == '"""' and line[i] == "\\":
            i += 2  # an escape: \" does not close
            continue
        if line.startswith(delimiter, i):
            end = i + 3
            while end < n and end - i < 5 and line[end] == delimiter[0]:
                end += 1
            return end
        i += 1
    return -1


def _end_of_basic(line: str, i: int) -> int:
    """After the `"` that closes a one-line basic string opened before `i`."""
    n = len(line)
    while i < n:
        if line[i] == "\\":
            i += 2
        elif line[i] == '"':
            return i + 1
        else:
            i += 1
    return n


def _header_path(header: str) -> Path | None:
    """`[keys."a b"]` -> ("keys", "a b"); `[[x.y]]` -> ("x", "y")."""
    return _walk(_loads(header.strip()))


def _key_path(key: str) -> Path | None:
    """`ci.shape ` -> ("ci", "shape"), read by tomllib from `ci.shape = 0`."""
    return _walk(_loads(key.strip() + " = 0"))


def _loads(text: str) -> Any:
    try:
        return toml_loads(text)
    except ValueError:
        return None


def _walk(value: Any) -> Path | None:
    """The one path through nested single-entry tables (an array of tables ends it)."""
    path: list[str] = []
    while isinstance(value, dict) and len(value) == 1:
        ((name, value),) = value.items()
        path.append(name)
        if isinstance(value, list):
            break
    return tuple(path) or None
