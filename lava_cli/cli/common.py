"""Pieces every command module shares: the --json/--quiet options, the context
accessor, confirmation, and the shown-once key hand-off."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from lava_cli.errors import LavaError, MaybeCreatedError, UsageError

if TYPE_CHECKING:
    from lava_cli.api.types import SpendKey
    from lava_cli.context import AppContext

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the API object(s) as JSON.")]
QuietOpt = Annotated[
    bool, typer.Option("--quiet", "-q", help="Print only the id (or the new key).")
]


def app_of(ctx: typer.Context) -> AppContext:
    """The AppContext the root callback put on the Typer context."""
    root = ctx.find_root()
    obj = root.obj
    from lava_cli.context import AppContext

    if not isinstance(obj, AppContext):  # pragma: no cover - the root callback always sets it
        raise RuntimeError("lava: no AppContext on the Typer context")
    return obj


def confirm(app: AppContext, question: str) -> bool:
    """Ask yes/no on the terminal (stderr), default no. Callers check can_prompt first."""
    app.stderr.write(f"{question} [y/N] ")
    app.stderr.flush()
    answer = app.stdin.readline()
    if not answer:
        raise UsageError("no answer (end of input)", hint="add --yes to skip the question")
    return answer.strip().lower() in ("y", "yes")


def emit_key(
    app: AppContext, key: SpendKey, *, verb: str, save: bool, quiet: bool, json_: bool
) -> None:
    """Hand a freshly minted raw key to the user: save it (if asked), then print it.

    Whatever fails after the server created the key, the key is printed or saved,
    never swallowed: a failed save is reported after the key was printed.
    """
    raw = key.key
    if not raw:
        raise MaybeCreatedError(
            f"the API did not return the new key's value ({key.spend_key_id})",
            hint=f"rotate it to get a value: `lava keys rotate {key.spend_key_id}`",
        )
    saved: str | None = None
    save_error: LavaError | None = None
    if save:
        try:
            saved = save_spend_key_safely(app, key, raw)
        except LavaError as exc:
            save_error = exc
    if json_:
        app.out.json(key.raw)
    elif quiet:
        app.out.line(raw)
    else:
        app.out.new_key(key, raw, verb=verb, saved=saved)
    if save_error is not None:
        raise LavaError(
            f"the key was {verb.lower()} and printed above, "
            f"but saving it failed: {save_error.message}",
            hint=save_error.hint,
        )


def save_spend_key_safely(app: AppContext, key: SpendKey, raw: str) -> str:
    from lava_cli.spendkeys import save_spend_key

    try:
        return save_spend_key(app, key, raw)
    except LavaError:
        raise
    except OSError as exc:
        raise LavaError(f"cannot write the config: {exc.strerror}") from None
