"""Why the gateway refused a spend key (401), and the command that fixes it.

The gateway answers 401 `invalid_api_key` alike for a paused, expired, revoked or
replaced key (the contract's error table), and the CLI classifies answers by status
and code, never by their text. So the reason is asked of the management API when a
secret is at hand, for the key the prompt used (a saved key by its id; a raw
LAVA_SPEND_KEY by its preview):

| the key is                      | error                          | exit |
|---------------------------------|--------------------------------|------|
| paused                          | `lava keys resume KEY`         | 5    |
| expired (`expires_at` passed)   | `lava keys update KEY --expires-in …` | 5 |
| active, yet its value refused   | replaced: `lava keys rotate KEY --save` | 3 |
| gone (revoked)                  | its saved copy is dropped      | 3    |

Paused and expired are the key's own policy, as a spend limit is (exit 5, like a
402): the value is right, the key may not spend now. Without a secret, or when the
lookup fails, the hint names all three commands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lava_cli.errors import ApiAuthError, ApiNotFoundError, ApiPolicyError, LavaError

if TYPE_CHECKING:
    from lava_cli.api.client import LavaClient
    from lava_cli.api.types import SpendKey
    from lava_cli.context import AppContext

GENERIC_HINT = (
    "the key may be paused (`lava keys resume KEY`), expired (`lava keys update KEY "
    "--expires-in 30d`), revoked, or its value replaced by a rotate (`lava keys rotate KEY "
    "--save`); `lava keys show KEY` tells which. A preview ending in **** is not the key"
)


def explain_refused_key(
    app: AppContext, err: ApiAuthError, spend_key_id: str | None, raw: str
) -> LavaError:
    """The 401 `err` for the key the request used, with its reason and fix."""
    if app.find_secret() is None:
        err.hint = GENERIC_HINT
        return err
    client = app.client()
    try:
        key = _lookup(client, spend_key_id, raw)
    except ApiNotFoundError:
        return _gone(app, err, client, spend_key_id)
    except LavaError:
        err.hint = GENERIC_HINT
        return err
    if key is None:
        err.hint = (
            "no key of this wallet has this value's preview: it was revoked, or belongs to "
            "another wallet (see `lava keys list`)"
        )
        return err
    return _refused(err, key)


def _lookup(client: LavaClient, spend_key_id: str | None, raw: str) -> SpendKey | None:
    """The key by id (a saved key), or by the preview of its raw value."""
    if spend_key_id is not None:
        return client.get_spend_key(spend_key_id)
    from lava_cli.credentials import redact

    preview = redact(raw)
    found = [k for k in client.iter_spend_keys() if k.key_preview == preview]
    return found[0] if len(found) == 1 else None


def _refused(err: ApiAuthError, key: SpendKey) -> LavaError:
    from datetime import datetime, timezone

    from lava_cli.ops.values import plain

    ref = key.name if plain(key.name) else key.spend_key_id
    named = f"spend key {key.name!r} ({key.spend_key_id})"
    state = key.status_at(datetime.now(timezone.utc))
    if state == "paused":
        return _policy(err, f"{named} is paused", f"resume it: `lava keys resume {ref}`")
    if state == "expired":
        return _policy(
            err,
            f"{named} expired at {key.expires_at}",
            f"give it more time: `lava keys update {ref} --expires-in 30d` (or --no-expiry)",
        )
    err.hint = (
        f"{named} is {key.status}, so the value used is no longer its value (rotated "
        f"since?): `lava keys rotate {ref} --save` gives it a new one and keeps it "
        "(the value in use elsewhere stops working)"
    )
    return err


def _policy(err: ApiAuthError, message: str, hint: str) -> ApiPolicyError:
    return ApiPolicyError(message, hint, status=err.status, code=err.code)


def _gone(
    app: AppContext, err: ApiAuthError, client: LavaClient, spend_key_id: str | None
) -> LavaError:
    from lava_cli.ops.saved import drop_if_gone

    if spend_key_id is not None and drop_if_gone(app, client, spend_key_id):
        err.hint = (
            "that saved key was revoked elsewhere; its saved copy is removed now: run "
            "again with another --key, or with none (the profile's default is used, "
            "or a new one made)"
        )
    else:
        err.hint = GENERIC_HINT
    return err
