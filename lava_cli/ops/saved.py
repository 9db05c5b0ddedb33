"""The saved-key store of a profile: raw spend keys kept with `--save` (`--keep`, the
keys `prompt` and `env --create` make), and their records in config.json.

The value lives in the OS keyring (one entry per key id) or, for a profile logged in
with `--insecure-storage`, in the 0600 secrets file; config.json holds only the record
(name, shape, storage, wallet). Everything here is local: the server is asked only to
tell whether a saved key it answered 404 for is really gone (`drop_if_gone`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lava_cli.credentials import delete_secret, load_secret, spend_key_entry, store_secret
from lava_cli.errors import ApiNotFoundError, LavaError, NotFoundError, UsageError

if TYPE_CHECKING:
    from collections.abc import Callable

    from lava_cli.api.client import LavaClient
    from lava_cli.api.types import SpendKey
    from lava_cli.context import AppContext


def _storage(app: AppContext) -> str:
    value = app.profile_settings.get("secret_storage")
    return value if value == "file" else "keyring"


def _entry_storage(meta: dict[str, Any]) -> str:
    return "file" if meta.get("storage") == "file" else "keyring"


def saved_keys(app: AppContext) -> dict[str, dict[str, Any]]:
    value = app.profile_settings.get("saved_keys")
    return value if isinstance(value, dict) else {}


def check_can_save(app: AppContext) -> None:
    """Before minting a key to save: refuse now (exit 2) what the save would refuse later.

    A key created and then not savable is printed anyway; better not to create it.
    """
    if _storage(app) == "file":
        from lava_cli.config import check_private_dir, config_dir

        check_private_dir(config_dir())


def save_spend_key(app: AppContext, key: SpendKey, raw: str) -> str:
    """Store a raw spend key (keyring, or the profile's insecure file) and record it.

    Returns where it went, for the message; any failure is a LavaError (an unwritable
    config included), so a caller holding a shown-once key can always report it. The
    raw value never enters config.json.
    The value and its record are written under one hold of the state lock, the record
    into the config as it is on disk now (another process may have saved a key since).
    """
    from lava_cli.config import state_lock

    try:
        with state_lock():
            storage = _storage(app)
            where = store_secret(spend_key_entry(key.spend_key_id), raw, storage)
            with app.config.editing() as config:
                profile = dict(config.profile(app.profile))
                entries = dict(saved_keys(app))
                entries[key.spend_key_id] = _record(key, storage)
                profile["saved_keys"] = entries
                profile.setdefault("default_key", key.spend_key_id)
                config.set_profile(app.profile, profile)
    except OSError as exc:
        raise LavaError(f"cannot write the config: {exc.strerror}") from None
    return where


def _record(key: SpendKey, storage: str) -> dict[str, Any]:
    """What config.json keeps about a saved key. `wallet_id` tells later whether a 404
    came from the key's own wallet (gone) or from another secret's (not ours to judge)."""
    record: dict[str, Any] = {
        "name": key.name,
        "request_shape": key.request_shape,
        "key_preview": key.key_preview,
        "storage": storage,
    }
    wallet = key.raw.get("wallet_id")
    if isinstance(wallet, str) and wallet:
        record["wallet_id"] = wallet
    return record


def sync_saved_key(app: AppContext, key: SpendKey) -> None:
    """Keep a saved key's record (name, shape) in step with the server's answer.

    Without it `--key NEW-NAME` finds nothing after a rename and `lava env` keeps the
    old request shape. Keys not saved here are left alone.
    """
    meta = saved_keys(app).get(key.spend_key_id)
    if not isinstance(meta, dict) or all(
        meta.get(field) == value
        for field, value in _record(key, _entry_storage(meta)).items()
        if field != "wallet_id"
    ):
        return
    with app.config.editing() as config:
        profile = dict(config.profile(app.profile))
        entries = dict(saved_keys(app))
        current = entries.get(key.spend_key_id)
        if not isinstance(current, dict):
            return  # forgotten meanwhile by another process
        entries[key.spend_key_id] = {
            **current,
            **_record(key, _entry_storage(current)),
        }
        profile["saved_keys"] = entries
        config.set_profile(app.profile, profile)


def forget_spend_key(app: AppContext, spend_key_id: str) -> bool:
    """Drop a saved key: its value (keyring or file) and its record. False when it was
    not saved here. Local only: the server is never asked."""
    from lava_cli.config import state_lock

    with state_lock():
        app.config.reload()
        entry = saved_keys(app).get(spend_key_id)
        if entry is None:
            return False
        storage = _entry_storage(entry) if isinstance(entry, dict) else "keyring"
        try:
            delete_secret(spend_key_entry(spend_key_id), storage)
        except LavaError as exc:
            app.out.warn(f"could not delete the saved key from the keyring: {exc.message}")
        with app.config.editing() as config:
            profile = dict(config.profile(app.profile))
            entries = dict(saved_keys(app))
            entries.pop(spend_key_id, None)
            profile["saved_keys"] = entries
            if profile.get("default_key") == spend_key_id:
                profile.pop("default_key")
                if entries:
                    profile["default_key"] = next(iter(entries))
            config.set_profile(app.profile, profile)
    return True


def find_saved(app: AppContext, ref: str) -> tuple[str, dict[str, Any]] | None:
    """(spend_key_id, record) of the key saved here by id, name or preview; None when
    none is (records saved before previews were kept match by id and name only).

    Several saved keys with that name are a usage error (the id tells them apart).
    """
    from lava_cli.ops.keyref import names

    ref = ref.strip()
    found = [
        (kid, meta)
        for kid, meta in saved_keys(app).items()
        if isinstance(meta, dict) and names(ref, kid, meta.get("name"), meta.get("key_preview"))
    ]
    if len(found) > 1:
        raise UsageError(f"several saved keys are named {ref!r}", hint="use the spend_key_id")
    return found[0] if found else None


def load_saved_key(app: AppContext, ref: str) -> tuple[str, dict[str, Any], str]:
    """(spend_key_id, metadata, raw key) of a key saved with `--save`, by id or name."""
    found = find_saved(app, ref)
    if found is None:
        raise NotFoundError(
            f"no saved spend key {ref!r} in profile {app.profile!r}",
            hint="--key takes a saved key's id, name or preview; save one with "
            "`lava keys create --name NAME --save` (or `lava keys rotate KEY --save`)",
        )
    kid, meta = found
    raw = load_secret(spend_key_entry(kid), _entry_storage(meta))
    if not raw:
        raise NotFoundError(
            f"the saved key {ref!r} is missing from the keyring",
            hint=f"rotate it to get a new one: `lava keys rotate {kid} --save`",
        )
    return kid, meta, raw


def default_saved(app: AppContext) -> tuple[str, dict[str, Any]] | None:
    """(spend_key_id, record) of the profile's default key, when it is still saved."""
    default = app.profile_settings.get("default_key")
    meta = saved_keys(app).get(default) if isinstance(default, str) else None
    return (default, meta) if isinstance(default, str) and isinstance(meta, dict) else None


def set_profile_setting(app: AppContext, name: str, value: object) -> None:
    """Write one setting of this profile (None removes it), under the state lock."""
    try:
        with app.config.editing() as config:
            profile = dict(config.profile(app.profile))
            if value is None:
                profile.pop(name, None)
            else:
                profile[name] = value
            config.set_profile(app.profile, profile)
    except OSError as exc:
        raise LavaError(f"cannot write the config: {exc.strerror}") from None


# --- a saved key the server no longer has ------------------------------------------------


def drop_if_gone(app: AppContext, client: LavaClient, spend_key_id: str) -> bool:
    """After a 404 for a saved key: drop the local copy when the 404 is conclusive.

    It is when the secret in use manages the wallet the key was saved from (records
    made before wallets were recorded are taken to be this profile's). Under another
    wallet's secret (LAVA_SECRET_KEY from elsewhere) the key may well be alive, and
    its saved value is its only copy: keep it and say how to drop it by hand.
    Returns True when dropped (with a note on stderr).
    """
    meta = saved_keys(app).get(spend_key_id)
    if not isinstance(meta, dict):
        return False
    name = meta.get("name") or spend_key_id
    saved_wallet = meta.get("wallet_id")
    if isinstance(saved_wallet, str) and saved_wallet:
        try:
            current = client.wallet().wallet_id
        except LavaError:
            current = None
        if current != saved_wallet:
            app.out.warn(
                f"the saved key {name!r} ({spend_key_id}) belongs to wallet {saved_wallet}, "
                f"not to this secret's ({current or 'unknown'}): its saved copy is kept; "
                f"`lava keys forget {spend_key_id}` removes it"
            )
            return False
    if not forget_spend_key(app, spend_key_id):
        return False
    app.out.note(
        f"The server no longer has the saved key {name!r} ({spend_key_id}): "
        "removed its saved copy from this profile."
    )
    return True


def gone_saved_key(app: AppContext, client: LavaClient, ref: str) -> tuple[str, str] | None:
    """When `ref` names a key saved here that the server does not know (404), drop the
    local copy and return (spend_key_id, name); None when `ref` is no saved key or the
    copy was kept (see `drop_if_gone`)."""
    found = find_saved(app, ref)
    if found is None:
        return None
    kid, meta = found
    try:
        client.get_spend_key(kid)
    except ApiNotFoundError:
        name = str(meta.get("name") or kid)
        return (kid, name) if drop_if_gone(app, client, kid) else None
    return None


def keep_in_step(app: AppContext, verb: str, work: Callable[[], object]) -> None:
    """Keep the saved-key store in step after a change the server made (`verb`: what it
    did); a failure there is a warning, not a failed command: the change stands."""
    try:
        work()
    except (LavaError, OSError) as exc:
        app.out.warn(f"{verb}, but the saved copy's record was not updated: {exc}")
