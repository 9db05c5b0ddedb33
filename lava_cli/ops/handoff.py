"""The shown-once hand-off: a raw key (or secret) the server just minted, kept or printed.

Design pattern 8: a secret in hand is kept first. The raw value is saved where the
user asked (`--save`), then printed before anything else can fail; whatever fails
afterwards says the key was printed above, never swallows it. Keys nobody sees
(`prompt`'s own key, `env --create`, `run --keep`) are saved or revoked: never left
live with nobody holding them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from lava_cli.errors import LavaError, UsageError

if TYPE_CHECKING:
    from lava_cli.api.types import NewKey
    from lava_cli.context import AppContext

KEY_FORMATS = ("env", "dotenv", "json", "github")
VAR_FORMATS = ("env", "dotenv", "github")  # the formats that name a variable


class HandOff(NamedTuple):
    """How a new value leaves `keys create`, `keys rotate` and `secret-keys create`:
    saved, and in which form (`save`: a spend key's --save; `secret-keys` saves through
    its own --save-as)."""

    save: bool = False
    quiet: bool = False
    json_: bool = False
    fmt: str | None = None
    var: str = "LAVA_SPEND_KEY"


def check_var_name(name: str, flag: str) -> None:
    """A shell variable name (ASCII letters, digits, `_`; not a digit first), or exit 2:
    it is written into `export NAME=…` lines and $GITHUB_ENV."""
    if not name.isidentifier() or not name.isascii():
        raise UsageError(f"{flag}: {name!r} is not a valid variable name")


def check_format(fmt: str | None, var: str | None) -> None:
    """Validate --format/--var before any request is made (exit 2). `var` is None when
    --var was not given: a --var that no format would use is refused, not ignored."""
    if fmt is not None and fmt not in KEY_FORMATS:
        raise UsageError(
            f"--format: unknown format {fmt!r}", hint=f"use one of {', '.join(KEY_FORMATS)}"
        )
    if var is not None:  # without --var the command's own default name is used
        if fmt not in VAR_FORMATS:
            raise UsageError(
                "--var names the variable of --format env, dotenv or github"
                + (f", not {fmt}" if fmt else ", which was not given"),
                hint="add --format env (or dotenv, github), or leave out --var",
            )
        check_var_name(var, "--var")
    if fmt == "github" and not os.environ.get("GITHUB_ENV"):
        raise UsageError(
            "--format github needs $GITHUB_ENV (set by GitHub Actions in every step)",
            hint="outside Actions use --format env or --format dotenv",
        )


class Shown(NamedTuple):
    """A shown-once value and what the hand-off says about it: a spend key (`keys
    create`/`rotate`, `spend_key_shown`) or a management secret (`secret-keys create`)."""

    raw: str
    api_object: dict[str, Any]  # the API's answer, value included: --json, --format json
    ident: str  # sk_… / sec_…
    kind: str  # "key" / "secret key", in messages
    prefix: str  # the value's prefix, in messages
    revoke: str  # the command that revokes it
    plain: Callable[[str], bool]  # a value that may go to $GITHUB_ENV as one line


def spend_key_shown(minted: NewKey) -> Shown:
    from lava_cli.credentials import is_raw_spend_key

    kid = minted.key.spend_key_id
    return Shown(
        minted.raw, minted.key.raw, kid, "key", "lava_sk_", f"lava keys revoke {kid} --yes",
        is_raw_spend_key,
    )  # fmt: skip


def emit_key(app: AppContext, minted: NewKey, verb: str, how: HandOff) -> None:
    """Hand a freshly minted spend key to the user: save it (if asked), then print it."""

    def human(saved: str | None) -> None:
        from lava_cli.render.keys import new_key

        new_key(app.out, minted.key, minted.raw, verb=verb, saved=saved)

    save = (lambda: _save(app, minted)) if how.save else None
    hand_over(app, spend_key_shown(minted), verb, how, save=save, human=human)


def hand_over(
    app: AppContext,
    shown: Shown,
    verb: str,
    how: HandOff,
    *,
    save: Callable[[], str] | None,
    human: Callable[[str | None], None],
) -> None:
    """Keep a shown-once value (`save`, when given), then print it in the form asked for
    (`human` draws it for people, told where it was saved, or None).

    Whatever fails after the server minted it, the value is printed or saved, never
    swallowed: a failed save is reported after the value was printed.
    """
    saved: str | None = None
    save_error: LavaError | None = None
    interrupted = False
    if save is not None:
        try:
            saved = save()
        except LavaError as exc:
            save_error = exc
        except KeyboardInterrupt:  # Ctrl-C mid-save: print the value below, then stop
            interrupted = True
    details_error = _print(app, shown, how, saved, human)
    if interrupted:
        raise KeyboardInterrupt
    if save_error is not None:
        raise LavaError(
            f"the {shown.kind} was {verb.lower()} and printed above, "
            f"but saving it failed: {save_error.message}",
            hint=save_error.hint,
        )
    if details_error is not None:
        raise details_error


def _print(
    app: AppContext,
    shown: Shown,
    how: HandOff,
    saved: str | None,
    human: Callable[[str | None], None],
) -> LavaError | None:
    """Print the value in the form asked for; a failure drawing the details after the
    value is returned, not raised, so the save's outcome is still reported first."""
    if how.fmt is not None:
        emit_shown(app, shown, how.fmt, how.var)
    elif how.json_:
        app.out.json(shown.api_object)
    elif how.quiet:
        app.out.line(shown.raw)
    else:
        try:
            human(saved)
        except LavaError as exc:  # the details after the value: the value itself is out
            return exc
    return None


def emit_formatted(app: AppContext, minted: NewKey, fmt: str, var: str) -> None:
    """One new spend key in a script's form (--format env|dotenv|json|github), as
    variable `var`; `keys apply` calls it once per key it created."""
    emit_shown(app, spend_key_shown(minted), fmt, var)


def emit_shown(app: AppContext, shown: Shown, fmt: str, var: str) -> None:
    """A shown-once value in a script's form (--format env|dotenv|json|github)."""
    from lava_cli.tools.render import quote_dotenv, quote_posix

    raw = shown.raw
    if fmt == "json":
        app.out.json(shown.api_object)
    elif fmt == "env":
        app.out.line(f"export {var}={quote_posix(raw)}")
    elif fmt == "dotenv":
        app.out.line(f"{var}={quote_dotenv(raw)}")
    else:
        _to_github_env(app, shown, var)


def _to_github_env(app: AppContext, shown: Shown, var: str) -> None:
    """`--format github`: mask first, so no later log line can show it, then append the
    variable to $GITHUB_ENV for the job's next steps."""
    raw, ident = shown.raw, shown.ident
    if not shown.plain(raw):
        # A newline in the value would let the server add its own lines (variables,
        # PATH) to every later step of the job: show it, never export it.
        from lava_cli.api.types import MalformedResponse
        from lava_cli.safetext import printable

        app.out.line(printable(raw))
        raise MalformedResponse(
            f"the {shown.kind} the API returned for {ident} is not a plain {shown.prefix} "
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
            hint=f"the {shown.kind} was created; revoke it with `{shown.revoke}` and retry",
        ) from None
    app.out.note(f"{var} is set for the next steps of this job ({ident}).")


def _save(app: AppContext, minted: NewKey) -> str:
    from lava_cli.ops.saved import save_spend_key

    return save_spend_key(app, minted.key, minted.raw)


def save_or_revoke(app: AppContext, minted: NewKey) -> str:
    """Save a new key that is shown nowhere else, or revoke it; returns where it went.

    For keys the user never sees (`prompt`'s own key, `env --create`, `run --keep`):
    a key that cannot be kept must not stay live with nobody holding it, and printing
    it to stderr instead would leak a secret where logs collect it.
    """
    kid = minted.key.spend_key_id
    try:
        return _save(app, minted)
    except LavaError as exc:
        try:
            app.client().revoke_spend_key(kid)
        except LavaError as revoke:
            raise LavaError(
                f"could not save the new spend key {kid} ({exc.message}), "
                f"nor revoke it ({revoke.message})",
                hint=f"revoke it: `lava keys revoke {kid} --yes`",
            ) from None
        raise LavaError(
            f"could not save the new spend key, so it was revoked again: {exc.message}",
            hint=exc.hint,
        ) from None
