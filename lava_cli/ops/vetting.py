"""The checks before a key is created or changed: a name no other key has, models and
providers the catalogue lists, and settings under which some model can be called.

Each is a usage error (exit 2) before the create or update is sent, with a flag that
skips it on purpose: `--allow-duplicate-name`, `--allow-unknown-model`. A duplicate
name is refused because every lookup by that name (`keys show NAME`, `--key NAME`)
then fails as ambiguous. Two processes creating the same name at the same moment can
still both pass: the API has no unique names to hold them apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple

from lava_cli.errors import UsageError

if TYPE_CHECKING:
    from lava_cli.api.client import LavaClient
    from lava_cli.api.types import SpendKey
    from lava_cli.context import AppContext

DUPLICATE_FLAG = "--allow-duplicate-name"
# The fields that decide which models a key can call: a change to none of them (a
# pause, a new limit) needs no catalogue.
_CALLABLE_FIELDS = frozenset({"request_shape", "allowed_models", "allowed_providers"})


def check_name_free(
    client: LavaClient, name: str, *, allow: bool, flag: str, but: str | None = None
) -> None:
    """Refuse (exit 2) a name another key already has: every lookup by that name would
    then fail as ambiguous. `but` is the key being renamed; `allow` skips the check."""
    if allow:
        return
    taken = [k for k in client.iter_spend_keys() if k.name == name and k.spend_key_id != but]
    if not taken:
        return
    ids = ", ".join(k.spend_key_id for k in taken)
    raise UsageError(
        f"a spend key named {name!r} already exists ({ids}); two keys with one name make "
        "every lookup by that name fail",
        hint=f"choose another --name, or add {flag} to use this one anyway",
    )


class Vetting(NamedTuple):
    """The checks before a key is created or changed, and the flags that skip them."""

    allow_duplicate_name: bool = False
    allow_unknown_model: bool = False


def vet_new_key(
    app: AppContext, client: LavaClient, body: Mapping[str, object], vetting: Vetting
) -> None:
    """Before a create: the name is free, the models and providers exist, and the key
    could call some model at all (`ops.catalogue.check_settings`). Exit 2 otherwise."""
    from lava_cli.ops.catalogue import Settings, check_settings

    name = body.get("name")
    if isinstance(name, str):
        check_name_free(client, name, allow=vetting.allow_duplicate_name, flag=DUPLICATE_FLAG)
    models, providers = _listed(body.get("allowed_models")), _listed(body.get("allowed_providers"))
    shape = body.get("request_shape")
    settings = Settings(shape if isinstance(shape, str) else "openai", models, providers)
    check_settings(
        app,
        settings,
        new_models=models or (),
        new_providers=providers or (),
        allow_unknown=vetting.allow_unknown_model,
    )


def vet_changes(
    app: AppContext,
    client: LavaClient,
    target: SpendKey,
    body: Mapping[str, object],
    vetting: Vetting,
) -> None:
    """`vet_new_key` for an update: the key's settings after the change are checked."""
    from lava_cli.ops.catalogue import Settings, check_settings

    name = body.get("name")
    if isinstance(name, str) and name != target.name:
        check_name_free(
            client,
            name,
            allow=vetting.allow_duplicate_name,
            flag=DUPLICATE_FLAG,
            but=target.spend_key_id,
        )
    if not _CALLABLE_FIELDS & body.keys():
        return
    models = _after(body, "allowed_models", target.allowed_models)
    providers = _after(body, "allowed_providers", target.allowed_providers)
    shape = body.get("request_shape", target.request_shape)
    check_settings(
        app,
        Settings(shape if isinstance(shape, str) else target.request_shape, models, providers),
        new_models=_listed(body.get("allowed_models")) or (),
        new_providers=_listed(body.get("allowed_providers")) or (),
        allow_unknown=vetting.allow_unknown_model,
    )


def _listed(value: object) -> list[str] | None:
    return [str(v) for v in value] if isinstance(value, list) else None


def _after(
    body: Mapping[str, object], field: str, current: Sequence[str] | None
) -> Sequence[str] | None:
    """An allow-list as it will be: the new one, None when cleared, else unchanged."""
    if field not in body:
        return current
    return _listed(body[field])
