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
KEY_FORMATS = ("env", "dotenv", "json", "github")
FormatOpt = Annotated[
    str | None,
    typer.Option(
        "--format",
        help="Hand the new key to a script: env (export line), dotenv, json, or github "
        "(::add-mask:: + $GITHUB_ENV).",
    ),
]
VarOpt = Annotated[str, typer.Option("--var", help="Variable name for --format env|dotenv|github.")]
QuietOpt = Annotated[
    bool, typer.Option("--quiet", "-q", help="Print only the id (or the new key).")
]


def command_group(summary: str) -> typer.Typer:
    """A command group's Typer app (`lava auth`, `lava emulator`): plain help, no
    completion commands of its own. The root mounts it lazily (cli/root.py), which
    also keeps a group of one command a group."""
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


def confirm(app: AppContext, question: str) -> bool:
    """Ask yes/no on the terminal (stderr), default no. Callers check can_prompt first."""
    from lava_cli.safetext import printable

    app.stderr.write(f"{printable(question)} [y/N] ")
    app.stderr.flush()
    answer = app.stdin.readline()
    if not answer:
        raise UsageError("no answer (end of input)", hint="add --yes to skip the question")
    return answer.strip().lower() in ("y", "yes")


def check_format(fmt: str | None, var: str) -> None:
    """Validate --format/--var before any request is made."""
    if fmt is not None and fmt not in KEY_FORMATS:
        raise UsageError(
            f"--format: unknown format {fmt!r}", hint=f"use one of {', '.join(KEY_FORMATS)}"
        )
    if not var.isidentifier() or not var.isascii():
        raise UsageError(f"--var: {var!r} is not a valid variable name")
    if fmt == "github":
        import os

        if not os.environ.get("GITHUB_ENV"):
            raise UsageError(
                "--format github needs $GITHUB_ENV (set by GitHub Actions in every step)",
                hint="outside Actions use --format env or --format dotenv",
            )


def _emit_formatted(app: AppContext, key: SpendKey, raw: str, fmt: str, var: str) -> None:
    import os

    from lava_cli.api.types import MalformedResponse
    from lava_cli.tools.render import quote_dotenv, quote_posix

    if fmt == "json":
        app.out.json(key.raw)
    elif fmt == "env":
        app.out.line(f"export {var}={quote_posix(raw)}")
    elif fmt == "dotenv":
        app.out.line(f"{var}={quote_dotenv(raw)}")
    else:  # github: mask first, so no later log line can show it
        from lava_cli.credentials import is_raw_spend_key

        if not is_raw_spend_key(raw):
            # A newline in the value would let the server add its own lines (variables,
            # PATH) to every later step of the job: show it, never export it.
            from lava_cli.safetext import printable

            app.out.line(printable(raw))
            raise MalformedResponse(
                f"the key the API returned for {key.spend_key_id} is not a plain lava_sk_ "
                "value, so it was printed above and not written to $GITHUB_ENV",
                hint="check --base-url points at the Lava API",
            )
        app.out.line(f"::add-mask::{raw}")
        path = os.environ["GITHUB_ENV"]
        try:
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(f"{var}={raw}\n")
        except OSError as exc:
            raise LavaError(
                f"cannot append to $GITHUB_ENV ({path}): {exc.strerror}",
                hint="the key was created; revoke it with `lava keys revoke "
                f"{key.spend_key_id} --yes` and retry",
            ) from None
        app.out.note(f"{var} is set for the next steps of this job ({key.spend_key_id}).")


def emit_key(
    app: AppContext,
    key: SpendKey,
    *,
    verb: str,
    save: bool,
    quiet: bool,
    json_: bool,
    fmt: str | None = None,
    var: str = "LAVA_SPEND_KEY",
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
    details_error: LavaError | None = None
    interrupted = False
    if save:
        from lava_cli.ops.keys import save_spend_key_safely

        try:
            saved = save_spend_key_safely(app, key, raw)
        except LavaError as exc:
            save_error = exc
        except KeyboardInterrupt:  # Ctrl-C mid-save: print the key below, then stop
            interrupted = True
    if fmt is not None:
        _emit_formatted(app, key, raw, fmt, var)
    elif json_:
        app.out.json(key.raw)
    elif quiet:
        app.out.line(raw)
    else:
        try:
            app.out.new_key(key, raw, verb=verb, saved=saved)
        except LavaError as exc:  # the details after the key: the key itself is out
            details_error = exc
    if interrupted:
        raise KeyboardInterrupt
    if save_error is not None:
        raise LavaError(
            f"the key was {verb.lower()} and printed above, "
            f"but saving it failed: {save_error.message}",
            hint=save_error.hint,
        )
    if details_error is not None:
        raise details_error
