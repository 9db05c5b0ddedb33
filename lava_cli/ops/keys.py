"""Work shared by the spend-key commands: finding a key by id, name or preview.

The saved-key store (`--save`) is `ops/saved.py`. Nothing here knows about Typer;
everything takes the AppContext.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from lava_cli.errors import ApiNotFoundError, NotFoundError, UsageError

if TYPE_CHECKING:
    from lava_cli.api.client import LavaClient
    from lava_cli.api.types import SpendKey
    from lava_cli.context import AppContext

_ID_RE = re.compile(r"sk_[A-Za-z0-9]{6,64}")


def resolve_key(client: LavaClient, ref: str) -> SpendKey:
    """A key by `spend_key_id`, unique name, or preview (`lava_sk_a1b2c3d4****`).

    Ids are tried directly first (one request); names need the whole list.
    """
    ref = ref.strip()
    if not ref:
        raise UsageError("KEY is empty", hint="give a spend key id (sk_…) or name")
    if _ID_RE.fullmatch(ref):
        try:
            return client.get_spend_key(ref)
        except ApiNotFoundError:
            pass  # a key may well be *named* like an id; fall through to names
    keys = list(client.iter_spend_keys())
    matches = [k for k in keys if ref in (k.name, k.key_preview, k.spend_key_id)]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        listed = ", ".join(f"{k.spend_key_id} ({k.status})" for k in matches)
        raise UsageError(
            f"{len(matches)} keys are named {ref!r}: {listed}",
            hint="use the spend_key_id instead of the name",
        )
    names = ", ".join(sorted(k.name for k in keys)[:10]) or "none"
    raise NotFoundError(
        f"no spend key with id or name {ref!r}",
        hint=f"your keys: {names} (see `lava keys list`)",
    )


def resolve_or_drop(app: AppContext, client: LavaClient, ref: str) -> SpendKey:
    """`resolve_key`, and when nothing matches a key saved here, drop that stale copy.

    Still exit 4: the command asked for a key that does not exist.
    """
    from lava_cli.ops.saved import gone_saved_key

    try:
        return resolve_key(client, ref)
    except NotFoundError as exc:
        gone = gone_saved_key(app, client, ref)
        if gone is None:
            raise
        kid, name = gone
        raise NotFoundError(
            f"spend key {name!r} ({kid}) no longer exists (revoked elsewhere?)",
            hint=exc.hint,
        ) from None
