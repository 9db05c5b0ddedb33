"""Pieces every command module shares: the --json/--quiet options and the context
accessor. Typer only; the work behind them lives in ops/."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from lava_cli.context import AppContext

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the API object(s) as JSON.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print only the id.")]
# For the commands that make a key (create, rotate): -q prints the key, for `$(…)`.
QuietKeyOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print only the new key.")]


def command_group(summary: str) -> typer.Typer:
    """A command group's Typer app (`lava keys`, `lava auth`, `lava emulator`): plain
    help, no completion commands of its own. The root mounts it lazily (cli/root.py),
    which also keeps a group of one command a group."""
    return typer.Typer(
        help=summary, no_args_is_help=True, add_completion=False, rich_markup_mode=None
    )


def app_of(ctx: typer.Context) -> AppContext:
    """The AppContext the root callback put on the Typer context."""
    root = ctx.find_root()
    obj = root.obj
    from lava_cli.context import AppContext

    if not isinstance(obj, AppContext):  # pragma: no cover - the root callback always sets it
        raise RuntimeError("lava: no AppContext on the Typer context")
    return obj
