"""Work shared by the spend-key commands: finding a key by id or name, and keeping a
shown-once key safe (`--save`).

Nothing here knows about Typer; everything takes the AppContext.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from lava_cli.credentials import delete_secret, load_secret, spend_key_entry, store_secret
from lava_cli.errors import ApiNotFoundError, LavaError, NotFoundError, UsageError

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


def _storage(app: AppContext) -> str:
    value = app.profile_settings.get("secret_storage")
    return value if value == "file" else "keyring"


def saved_keys(app: AppContext) -> dict[str, dict[str, Any]]:
    value = app.profile_settings.get("saved_keys")
    return value if isinstance(value, dict) else {}


def save_spend_key(app: AppContext, key: SpendKey, raw: str) -> str:
    """Store a raw spend key (keyring, or the profile's insecure file) and record it.

    Returns where it went, for the message. The raw value never enters config.json.
    """
    storage = _storage(app)
    where = store_secret(spend_key_entry(key.spend_key_id), raw, storage)
    config = app.config
    profile = dict(config.profile(app.profile))
    entries = dict(saved_keys(app))
    entries[key.spend_key_id] = {
        "name": key.name,
        "request_shape": key.request_shape,
        "storage": storage,
    }
    profile["saved_keys"] = entries
    profile.setdefault("default_key", key.spend_key_id)
    config.set_profile(app.profile, profile)
    config.save()
    return where


def forget_spend_key(app: AppContext, spend_key_id: str) -> bool:
    """Drop a saved key after revoke. False when it was not saved here."""
    entries = dict(saved_keys(app))
    entry = entries.pop(spend_key_id, None)
    if entry is None:
        return False
    storage = entry.get("storage") if isinstance(entry, dict) else None
    try:
        delete_secret(spend_key_entry(spend_key_id), "file" if storage == "file" else "keyring")
    except LavaError as exc:
        app.out.warn(f"could not delete the saved key from the keyring: {exc.message}")
    profile = dict(app.config.profile(app.profile))
    profile["saved_keys"] = entries
    if profile.get("default_key") == spend_key_id:
        profile.pop("default_key")
        if entries:
            profile["default_key"] = next(iter(entries))
    app.config.set_profile(app.profile, profile)
    app.config.save()
    return True


def load_saved_key(app: AppContext, ref: str) -> tuple[str, dict[str, Any], str]:
    """(spend_key_id, metadata, raw key) of a key saved with `--save`, by id or name."""
    entries = saved_keys(app)
    found = [
        (kid, meta)
        for kid, meta in entries.items()
        if isinstance(meta, dict) and ref in (kid, meta.get("name"))
    ]
    if not found:
        raise NotFoundError(
            f"no saved spend key {ref!r} in profile {app.profile!r}",
            hint="save one with `lava keys create --name NAME --save` "
            "(or `lava keys rotate KEY --save`)",
        )
    if len(found) > 1:
        raise UsageError(f"several saved keys are named {ref!r}", hint="use the spend_key_id")
    kid, meta = found[0]
    raw = load_secret(spend_key_entry(kid), "file" if meta.get("storage") == "file" else "keyring")
    if not raw:
        raise NotFoundError(
            f"the saved key {ref!r} is missing from the keyring",
            hint=f"rotate it to get a new one: `lava keys rotate {kid} --save`",
        )
    return kid, meta, raw
