"""Number options that accept only the ASCII digits 0-9.

Click converts `--max-tokens` with Python's `int()` and `--temperature` with `float()`,
and both accept every Unicode decimal digit: `--port ８７８７` would listen on 8787 and
`--max-tokens ١٠` would ask for 10 tokens. Whatever a user meant by those, guessing is
wrong for a tool that sets budgets, so every Typer number option goes through one of
these types (a test walks the whole command tree to hold that).
"""

from __future__ import annotations

from typing import Any

from typer._click import types as click_types  # Typer's own (vendored) click


def _refuse_non_ascii(kind: click_types.ParamType, value: Any, param: Any, ctx: Any) -> None:
    if isinstance(value, str) and not value.isascii():
        kind.fail(f"{value!r} is not a number written with the digits 0-9", param, ctx)


class AsciiInt(click_types.IntParamType):
    """`int` that refuses non-ASCII characters before `int()`."""

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        _refuse_non_ascii(self, value, param, ctx)
        return super().convert(value, param, ctx)


class AsciiIntRange(click_types.IntRange):
    """`IntRange` that refuses non-ASCII characters before `int()`."""

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        _refuse_non_ascii(self, value, param, ctx)
        return super().convert(value, param, ctx)


class AsciiFloatRange(click_types.FloatRange):
    """`FloatRange` that refuses non-ASCII characters before `float()`."""

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        _refuse_non_ascii(self, value, param, ctx)
        return super().convert(value, param, ctx)
