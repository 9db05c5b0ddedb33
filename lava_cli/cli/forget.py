"""`lava keys forget KEY`: drop a saved key from this profile, and nothing else.

For a key revoked elsewhere (the dashboard, another machine) whose saved copy would
otherwise stay forever, or to stop using a saved key here. Local only: no secret, no
network, so it works offline and under any profile's state.
"""

from __future__ import annotations

from typing import Annotated

import typer

from lava_cli.cli.common import JsonOpt, QuietOpt, app_of
from lava_cli.errors import NotFoundError


def forget(
    ctx: typer.Context,
    key: Annotated[
        str, typer.Argument(help="A saved key's id (sk_…) or name.", show_default=False)
    ],
    quiet: QuietOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Remove a key saved with --save from this profile; the server is not asked.

    Deletes the saved value (keyring or file) and its record. The key itself keeps
    working until revoked (`lava keys revoke`). Exit 4 when no such key is saved.
    Example: lava keys forget old-ci
    """
    from lava_cli.ops.keys import find_saved, forget_spend_key, saved_keys

    app = app_of(ctx)
    found = find_saved(app, key)
    if found is None or not forget_spend_key(app, found[0]):
        names = sorted(
            f"{meta.get('name')} ({kid})" if isinstance(meta, dict) else kid
            for kid, meta in saved_keys(app).items()
        )
        raise NotFoundError(
            f"no saved spend key {key!r} in profile {app.profile!r}",
            hint=f"saved here: {', '.join(names)}" if names else "no key is saved here",
        )
    kid, meta = found
    name = str(meta.get("name") or kid)
    if json_:
        app.out.json({"spend_key_id": kid, "name": name, "forgotten": True})
    elif quiet:
        app.out.line(kid)
    else:
        app.out.note(
            f"✓ Forgot the saved key {name!r} ({kid}); on the server it is unchanged "
            f"(revoke it with `lava keys revoke {kid}` if it still exists)."
        )
