"""Text from the server or the user, made safe to show on a terminal.

Key names, previews, model ids and error messages come from the server (or from
whoever named the key). Written raw, an ESC or a C1 code in them is a command to the
terminal: `\\x1b]0;…\\x07` sets the window title, `\\x1b[2J` clears the screen, OSC 8
makes a hyperlink, a bidi override (U+202E) reorders the rest of the line so it reads
as something else. Every human-facing path (stdout and stderr, terminal or pipe) runs
such text through `printable` first; `--json` runs through `printable_json`, which
keeps the JSON value exactly the same.

The replacement is the character's escape as Python writes it (`\\x1b`, `\\x07`,
`\\x9b`, `\\u202e`; `\\n`, `\\t`, `\\r` by name), because it is:
- visible and plain ASCII: it cannot act on the terminal, and it keeps table
  columns aligned (a bidi override would otherwise flip the rest of the row);
- specific: it says which character was there (ESC and BEL differ), where U+FFFD
  would only say "something", and looks like a decoding error besides; the Unicode
  control pictures (␛) cover C0 only, not C1 or bidi, and many fonts lack them;
- reproducible: the same spelling works in `printf`, Python and JSON strings.
A name that literally contains the four characters `\\x1b` prints the same as one
holding an ESC; `--json` and the key's id are the exact, unambiguous forms.

Stdlib only and cheap to import: the error paths in `main.py` use it before (and
without) rich.
"""

from __future__ import annotations

import re
from functools import cache

# C0 but TAB and LF (each caller decides about those), DEL, C1, the bidi marks,
# embeddings, overrides and isolates (the "Trojan Source" set), the Unicode line and
# paragraph separators, and lone surrogates (which cannot even be encoded to UTF-8).
# json.dumps(ensure_ascii=False) escapes C0 itself but writes all of these raw.
_BEYOND_C0 = "\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_UNSAFE = "\x00-\x08\x0b-\x1f" + _BEYOND_C0
_ONE_LINE = f"\t\n{_UNSAFE}"
_MULTILINE = _UNSAFE
_JSON_RAW = _BEYOND_C0
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


@cache
def _chars(ranges: str) -> re.Pattern[str]:
    """The character class `[ranges]`, compiled on first use: with its Unicode ranges
    each costs ~0.7 ms to compile, and most runs never need some (or any) of them."""
    return re.compile(f"[{ranges}]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, *, multiline: bool = False) -> str:
    """`text` with every terminal control character replaced by its visible escape.

    One line (the default: table cells, names, error and hint lines) escapes TAB and
    LF too, so a server cannot start a fake `hint:` line or break a row. `multiline`
    keeps TAB and LF for text that is meant to span lines (a model's answer, export
    lines, a traceback).
    """
    return _chars(_MULTILINE if multiline else _ONE_LINE).sub(_escape, text)


def printable_json(dumped: str) -> str:
    """The output of `json.dumps(…, ensure_ascii=False)`, safe on a terminal.

    json.dumps escapes C0 itself but writes DEL, C1, bidi controls and lone
    surrogates raw. They can only occur inside JSON strings, where `\\uXXXX` means
    the same character: the parsed value is unchanged, only its spelling is.
    """
    if dumped.isascii() and "\x7f" not in dumped:
        return dumped  # the common case, without compiling the pattern
    return _chars(_JSON_RAW).sub(lambda m: f"\\u{ord(m.group()):04x}", dumped)
