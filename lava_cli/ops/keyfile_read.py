"""Reading a key file (see `keyfile.py` for what it means): the whole file, validated
before any request, every problem collected with its line.

Values go through the flag parsers of `parsing.py`, so a file accepts exactly what
the command line accepts, and their messages name the file's field. tomllib gives no
positions; `toml_lines.py` finds the line of each table and key. An unknown field is
refused with the closest known name (or what it means when it is the API's or a
flag's name for one).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, time, timezone
from decimal import Decimal
from typing import Any, NamedTuple, TextIO

from lava_cli.errors import UsageError
from lava_cli.ops.keyfile import FIELDS, Settings, rate_text, request_text, spend_text, toml_key
from lava_cli.ops.toml_lines import line_of, statement_lines, toml_loads
from lava_cli.parsing import (
    MAX_NAME,
    iso_utc,
    parse_datetime,
    parse_names,
    parse_rate_limit,
    parse_request_limit,
    parse_shape,
    parse_spend_limit,
)

# Names people reach for (the API's, the flags'), and what to say about each.
ALIASES = {
    "request_shape": "did you mean 'shape'?",
    "allowed_models": "did you mean 'models'?",
    "allowed_providers": "did you mean 'providers'?",
    "model": "did you mean 'models'?",
    "provider": "did you mean 'providers'?",
    "status": "did you mean 'paused'? (true or false)",
    "expires": "did you mean 'expires_at'?",
    "expires_in": "did you mean 'expires_at'? the file takes absolute times only",
    "name": "the name is the table's: [keys.NAME]",
    "spend_key_id": "keys are matched by name; the file holds no ids",
    "id": "keys are matched by name; the file holds no ids",
    "key": "the file holds no secrets",
}
# A wallet holds at most 10 keys; an honest file is a few KB. The cap keeps a wrong
# file (a log, a binary) from being read whole.
MAX_FILE_BYTES = 256 * 1024
_AT_LINE = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_AT_END = re.compile(r"\s*\(at end of document\)$")


class Declared(NamedTuple):
    """A key as the file declares it; `lines` maps "" (its table) and each field given
    to their line."""

    name: str
    settings: Settings
    lines: Mapping[str, int]

    def line(self, field: str = "") -> int | None:
        return self.lines.get(field, self.lines.get(""))


class KeyFile(NamedTuple):
    label: str  # the path as given; "<stdin>" for -
    keys: tuple[Declared, ...]


class Problem(NamedTuple):
    line: int | None
    message: str


class BadKeyFile(UsageError):
    """A file that cannot be applied (exit 2): every problem, each with its line."""

    def __init__(self, label: str, problems: Sequence[Problem]) -> None:
        count = len(problems)
        super().__init__(
            f"{label} has {count} problem{'s' if count != 1 else ''}; nothing was changed",
            hint="fix the lines above and run again; `lava keys export` writes a valid "
            "file from the wallet as it is",
        )
        self.label = label
        self.problems = sorted(problems, key=lambda p: (p.line or 0, p.message))


def read_key_file(path: str, stdin: TextIO) -> KeyFile:
    """The file at `path` (`-`: stdin), validated whole: BadKeyFile lists every problem."""
    label = "<stdin>" if path == "-" else path
    text = _read_text(path, stdin, label)
    try:
        document = toml_loads(text)
    except ValueError as exc:
        raise BadKeyFile(label, [_syntax_problem(str(exc), text)]) from None
    lines = statement_lines(text)
    problems: list[Problem] = []
    keys = _declared_keys(document, lines, problems)
    if problems:
        raise BadKeyFile(label, problems)
    return KeyFile(label, tuple(keys))


def _read_text(path: str, stdin: TextIO, label: str) -> str:
    try:
        if path == "-":
            text = stdin.read(MAX_FILE_BYTES + 1)
            raw_size = len(text.encode("utf-8", "surrogatepass"))
        else:
            with open(path, "rb") as fh:
                data = fh.read(MAX_FILE_BYTES + 1)
            raw_size = len(data)
            text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise BadKeyFile(label, [Problem(line, "the file is not UTF-8 text")]) from None
    except OSError as exc:
        raise UsageError(
            f"cannot read {label}: {exc.strerror or exc}",
            hint="give the key file with -f FILE (or -f - for stdin)",
        ) from None
    if raw_size > MAX_FILE_BYTES:
        raise UsageError(
            f"{label} is larger than {MAX_FILE_BYTES // 1024} KiB: not a key file",
            hint="a key file declares at most 10 keys, a few lines each",
        )
    surrogate = re.search("[\ud800-\udfff]", text)
    if surrogate is not None:
        line = text[: surrogate.start()].count("\n") + 1
        raise BadKeyFile(label, [Problem(line, "the file is not UTF-8 text")])
    return text.removeprefix("\ufeff")  # an editor's byte-order mark


def _syntax_problem(message: str, text: str) -> Problem:
    """tomllib's message with its position moved to the front, as every problem's is."""
    at = _AT_LINE.search(message)
    if at is not None:
        line, column = int(at.group(1)), at.group(2)
        return Problem(line, f"not valid TOML: {message[: at.start()]} (column {column})")
    end = _AT_END.search(message)
    last = text.count("\n") + (0 if text.endswith("\n") else 1)
    return Problem(max(last, 1), f"not valid TOML: {message[: end.start()] if end else message}")


def _declared_keys(
    document: dict[str, Any], lines: dict[tuple[str, ...], int], problems: list[Problem]
) -> list[Declared]:
    for top in document:
        if top != "keys":
            problems.append(
                Problem(
                    line_of(lines, (top,)),
                    f"{toml_key(top)}: unknown table{_suggestion(top, ('keys',), {})}; "
                    "a key file holds [keys.NAME] tables",
                )
            )
    keys = document.get("keys", {})
    if not isinstance(keys, dict):
        problems.append(
            Problem(line_of(lines, ("keys",)), "keys must be tables: [keys.NAME], one per key")
        )
        return []
    declared = []
    for name, body in keys.items():
        one = _declared(name, body, lines, problems)
        if one is not None:
            declared.append(one)
    return declared


def _declared(
    name: str, body: object, lines: dict[tuple[str, ...], int], problems: list[Problem]
) -> Declared | None:
    where = ("keys", name)
    label = f"keys.{toml_key(name)}"
    table_line = line_of(lines, where)
    count = len(problems)
    if name != name.strip() or not 1 <= len(name) <= MAX_NAME:
        problems.append(
            Problem(
                table_line,
                f"{label}: a name is 1 to {MAX_NAME} characters with no blanks around it",
            )
        )
    if not isinstance(body, dict):
        problems.append(
            Problem(table_line, f"{label} must be a table: [keys.NAME] followed by its fields")
        )
        return None
    values: dict[str, object] = {}
    field_lines: dict[str, int] = {}
    for field, value in body.items():
        line = line_of(lines, (*where, field))
        if field not in FIELDS:
            problems.append(
                Problem(line, f"{label}: unknown field {field!r}{_suggestion(field, FIELDS)}")
            )
            continue
        if line is not None:
            field_lines[field] = line
        try:
            values["status" if field == "paused" else field] = READERS[field](value)
        except UsageError as exc:
            problems.append(Problem(line, f"{label}: {_file_words(exc)}"))
    if len(problems) > count:
        return None
    if table_line is not None:
        field_lines[""] = table_line
    return Declared(name, Settings(**values), field_lines)  # type: ignore[arg-type]


def _suggestion(word: str, known: Iterable[str], aliases: Mapping[str, str] = ALIASES) -> str:
    from difflib import get_close_matches

    folded = word.strip().lower().replace("-", "_").replace(" ", "_")
    if folded in aliases:
        return f" ({aliases[folded]})"
    close = get_close_matches(folded, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(known)})"


def _file_words(exc: UsageError) -> str:
    """A parser's message, with its hint when the hint is not about a command-line flag
    (`use --no-spend-limit` is the command line's advice; the file's is to drop the line)."""
    if exc.hint and "--" not in exc.hint:
        return f"{exc.message} ({exc.hint})"
    return exc.message


def _kind(value: object) -> str:
    """What TOML calls the value's type, for "must be a string, not an integer"."""
    kinds = (
        (bool, "a boolean"),
        (int, "an integer"),
        (float, "a float"),
        (str, "a string"),
        (list, "an array"),
        (dict, "a table"),
        (datetime, "a date-time"),
        (date, "a date"),
        (time, "a time"),
    )
    return next((word for kind, word in kinds if isinstance(value, kind)), "a value")


def _text(field: str, value: object, example: str) -> str:
    if not isinstance(value, str):
        raise UsageError(f"{field} must be a string like {example}, not {_kind(value)}")
    return value


def _read_shape(value: object) -> str:
    return parse_shape(_text("shape", value, '"anthropic"'), "shape")


def _read_list(field: str) -> Callable[[object], tuple[str, ...]]:
    def read(value: object) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise UsageError(f'{field} must be an array of strings like ["a", "b"]')
        names = parse_names(value, field)
        if names is None:
            raise UsageError(
                f"{field} = [] would allow nothing, which a key cannot say; "
                f"leave the line out to allow all {field}"
            )
        return tuple(names)

    return read


def _read_spend(value: object) -> str:
    limit = parse_spend_limit(_text("spend_limit", value, '"50/monthly"'), "spend_limit")
    return spend_text(Decimal(limit["amount"]), limit["cycle"])


def _read_requests(value: object) -> str:
    limit = parse_request_limit(_text("request_limit", value, '"1000/daily"'), "request_limit")
    return request_text(limit["count"], limit["cycle"])


def _read_rate(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # rate_limit = 60: requests per minute alone
    limit = parse_rate_limit(_text("rate_limit", value, '"60/10"'), "rate_limit")
    return rate_text(limit["rpm"], limit["burst"])


def _read_expiry(value: object) -> str:
    """A date-time as --expires-at reads it; TOML's own date-times and dates too."""
    if isinstance(value, str):
        return iso_utc(parse_datetime(value, "expires_at"))
    if isinstance(value, date):  # a TOML date-time, or a date: 00:00
        moment = value if isinstance(value, datetime) else datetime(*value.timetuple()[:3])
        try:
            if moment.tzinfo is None:
                return iso_utc(moment.replace(tzinfo=timezone.utc))
            return iso_utc(moment)
        except OverflowError:
            raise UsageError(f"expires_at: {value} is out of range") from None
    raise UsageError(
        f'expires_at must be a date-time like "2027-01-01T00:00:00Z", not {_kind(value)}'
    )


def _read_paused(value: object) -> str:
    if not isinstance(value, bool):
        raise UsageError(f"paused must be true or false, not {_kind(value)}")
    return "paused" if value else "active"


READERS: dict[str, Callable[[object], object]] = {
    "shape": _read_shape,
    "models": _read_list("models"),
    "providers": _read_list("providers"),
    "spend_limit": _read_spend,
    "request_limit": _read_requests,
    "rate_limit": _read_rate,
    "expires_at": _read_expiry,
    "paused": _read_paused,
}
