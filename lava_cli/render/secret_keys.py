"""Rendering for `lava secret-keys …`: the table of a wallet's secrets, the shown-once
moment of a new one, and the outcome of a revoke.

On a terminal: a rich table and relative times. Piped: tab-separated rows with ISO
times. rich is imported inside Output, so importing this module costs nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING

from lava_cli.render.output import relative
from lava_cli.safetext import printable

if TYPE_CHECKING:
    from lava_cli.api.wallet_types import NewSecret, SecretKey
    from lava_cli.render.output import Output

COLUMNS = ("id", "name", "hint", "created", "in use")
IN_USE = {True: "yes", False: "no", None: "unknown"}  # piped: one word each
PEOPLE_MARKS = {True: "← this lava", False: "", None: "?"}


def secret_keys_table(
    out: Output, keys: Sequence[SecretKey], in_use: Mapping[str, bool | None]
) -> None:
    """`secret-keys list`: which secret this lava uses is marked (`in use`)."""
    human = out.term.stdout_tty
    if human and not keys:
        out.note("No secret keys listed.")
        return
    marks = PEOPLE_MARKS if human else IN_USE
    rows = [
        [
            k.secret_key_id,
            k.name,
            k.secret_key_hint,
            relative(k.created_at) if human else (k.created_at or "-"),
            marks[in_use.get(k.secret_key_id)],
        ]
        for k in keys
    ]
    out.table(COLUMNS, rows)


def new_secret(out: Output, minted: NewSecret, *, saved: str | None, profile: str | None) -> None:
    """The shown-once moment. With --save-as done (`saved`), the secret is not shown: it
    is kept, and a terminal's scrollback is one more place it would live. Otherwise the
    value goes out as a plain write first, so nothing the server named it can stop it."""
    key = minted.key
    kid, name = printable(key.secret_key_id), printable(key.name)
    if not out.term.stdout_tty:
        out.tsv([[key.secret_key_id, key.name, key.secret_key_hint, "-" if saved else minted.raw]])
        return
    paint = partial(out._paint, stdout=True)
    out._write(f"{paint('✓', '32')} Created secret key {paint(name, '1')} ({kid})")
    out._write("")
    if saved:
        out._write(printable(f"Logged in as {saved}: use it with `lava --profile {profile} …`."))
        out._write(f"The secret is not shown; `lava secret-keys revoke {kid}` ends it.")
        return
    out._write(f"  {paint(printable(minted.raw), '1')}")
    out._write("")
    out._write(
        f"{paint('This secret is shown once.', '33')} Put it in your CI's secret store now "
        f"(as LAVA_SECRET_KEY); revoke it any time with `lava secret-keys revoke {kid}`."
    )


def revoked(
    out: Output,
    key: SecretKey,
    *,
    already: bool,
    logged_out: Sequence[str],
    opts: tuple[bool, bool],
) -> None:
    """The outcome of `secret-keys revoke`; `opts` is (quiet, json)."""
    quiet, json_ = opts
    kid = key.secret_key_id
    if json_:
        out.json(
            {
                "id": kid,
                "name": key.name,
                "deleted": True,
                "already_revoked": already,
                "logged_out_profiles": list(logged_out),
            }
        )
        return
    if quiet:
        out.line(kid)
    elif out.term.stdout_tty:
        verb = "was already revoked" if already else "is revoked"
        out.note(f"✓ Secret key {key.name} ({kid}) {verb}: it works nowhere any more.")
    else:
        out.tsv([[kid, key.name, "revoked"]])
    for profile in logged_out:
        out.note(f"  Profile {profile!r} used it and is logged out.")
