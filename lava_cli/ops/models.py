"""`lava models`: the gateway's models (`/v1/models`) joined with their prices (`/v1/services`).

`/v1/models` says what exists (and, with a spend key, what that key may use);
`/v1/services` says what it costs. A catalogue that cannot be read still lists the
models, without prices: the prices are a courtesy, the list is the answer.

`--key` lists only what one key can call: its allow-lists (asked of `/v1/models` with
the key's value, for a key saved here or the one in LAVA_SPEND_KEY; read from the key's
settings through the management API otherwise) and its request shape (/v1/messages
serves Anthropic models only). An unknown `--provider` is a usage error naming the
known ones, never an empty list. Every listing refreshes the cached catalogue
(`ops.catalogue`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lava_cli.errors import ApiError, LavaError, NotFoundError, UsageError

if TYPE_CHECKING:
    from lava_cli.api.model_types import Model, Service
    from lava_cli.context import AppContext
    from lava_cli.ops.catalogue import Settings

ENV_KEY = "LAVA_SPEND_KEY"  # `--key LAVA_SPEND_KEY`: the key in that variable


@dataclass(frozen=True)
class ModelsOptions:
    provider: str | None
    key: str | None  # a saved key (id, name, preview), a key of the wallet, or ENV_KEY
    json: bool


@dataclass(frozen=True)
class CatalogueRow:
    """One model with its provider and prices per 1M tokens (None when not listed)."""

    id: str
    provider: str
    input_per_1m: Decimal | None
    output_per_1m: Decimal | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "provider": self.provider,
            "input_per_1m": price_text(self.input_per_1m),
            "output_per_1m": price_text(self.output_per_1m),
        }


def price_text(value: Decimal | None) -> str | None:
    """A price as plain decimal digits (`0.15`, never `1.5E-1`); None when unknown."""
    return None if value is None else format(value, "f")


def run(app: AppContext, opts: ModelsOptions) -> None:
    from lava_cli.render import models as render_models

    rows = catalogue(app, provider=opts.provider, key_ref=opts.key)
    if opts.json:
        app.out.json([row.to_json() for row in rows])
        return
    render_models.catalogue(app.out, rows)


def catalogue(app: AppContext, *, provider: str | None, key_ref: str | None) -> list[CatalogueRow]:
    """The models (those `key_ref` can call, when given) of `provider` (or all), priced."""
    from lava_cli.api.model_types import Service
    from lava_cli.ops.catalogue import remember

    client = app.public_client()
    models = client.list_models()
    try:
        services = client.list_services()
    except LavaError:
        services = []
    remember(app, models, services)
    if provider is not None:
        check_provider(provider, models, services)
    if key_ref:
        models = _callable(app, key_ref, models, services)
    priced = {s.id: s for s in services}
    rows = []
    for model in models:
        service = priced.get(model.id) or Service(model.id, None, None, None)
        owner = service.provider or model.owned_by or ""
        if provider and owner != provider:
            continue
        rows.append(CatalogueRow(model.id, owner, service.input_per_1m, service.output_per_1m))
    return sorted(rows, key=lambda r: (r.provider, r.id))


def check_provider(provider: str, models: list[Model], services: list[Service]) -> None:
    """A provider neither listing names is a typo, not an empty answer (exit 2)."""
    from lava_cli.ops.catalogue import unknown

    known = {s.provider for s in services if s.provider} | {
        m.owned_by for m in models if m.owned_by
    }
    if provider not in known:
        tail = f"the providers: {', '.join(sorted(known))}"
        raise unknown(provider, "--provider", "provider", known, tail)


def _callable(
    app: AppContext, ref: str, models: list[Model], services: list[Service]
) -> list[Model]:
    """The models the key `ref` can call: allowed by its lists and served for its shape."""
    from lava_cli.ops.catalogue import build, callable_models

    raw, settings, who = _key_settings(app, ref)
    if raw is not None:
        try:
            models = app.public_client().list_models(raw)  # exactly what its lists allow
        except ApiError as err:  # a revoked or paused key: say which one was sent
            err.message = f"{err.message.rstrip('.')}; sent with {who}"
            raise
    found = build(models, services, 0.0)
    usable = set(callable_models(found, settings))
    return [m for m in models if m.id in usable]


def _key_settings(app: AppContext, ref: str) -> tuple[str | None, Settings, str]:
    """(the key's value when at hand, what decides what it can call, which key it is
    for messages)."""
    from lava_cli.credentials import env_credential
    from lava_cli.ops.catalogue import Settings
    from lava_cli.ops.prompt_key import KeyChoice, choose_key
    from lava_cli.ops.saved import find_saved

    if ref == ENV_KEY:
        raw = env_credential(ENV_KEY)
        if raw is None:
            raise UsageError(f"--key {ENV_KEY}: the variable is not set")
        who = KeyChoice(raw, "openai", None, ENV_KEY).describe()
        return raw, Settings("openai"), who  # its shape is unknown: its lists decide
    if find_saved(app, ref) is not None:
        choice = choose_key(app, ref, None)  # the saved key, as `prompt --key` takes it
        return choice.raw, Settings(choice.shape), choice.describe()
    if app.find_secret() is None:
        raise NotFoundError(
            f"no saved spend key {ref!r} in profile {app.profile!r}",
            hint=f"--key takes a key saved here (id, name or preview), {ENV_KEY} for the "
            "key in that variable, or any key of your wallet once logged in (`lava login`)",
        )
    from lava_cli.ops.keys import resolve_key

    key = resolve_key(app.client(), ref)
    settings = Settings(key.request_shape, key.allowed_models, key.allowed_providers)
    return None, settings, key.spend_key_id
