"""`lava models`: the gateway's models (`/v1/models`) joined with their prices (`/v1/services`).

`/v1/models` says what exists (and, with a spend key, what that key may use);
`/v1/services` says what it costs. A catalogue that cannot be read still lists the
models, without prices: the prices are a courtesy, the list is the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lava_cli.errors import LavaError

if TYPE_CHECKING:
    from lava_cli.context import AppContext


@dataclass(frozen=True)
class ModelsOptions:
    provider: str | None
    key: str | None  # a saved key's id or name: list only what it may use
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
    """The models (those `key_ref` may use, when given) of `provider` (or all), priced."""
    from lava_cli.api.model_types import Service

    client = app.public_client()
    spend_key = None
    if key_ref:
        from lava_cli.ops.saved import load_saved_key

        spend_key = load_saved_key(app, key_ref)[2]
    models = client.list_models(spend_key)
    try:
        services = {s.id: s for s in client.list_services(provider)}
    except LavaError:
        services = {}
    rows = []
    for model in models:
        service = services.get(model.id) or Service(model.id, None, None, None)
        owner = service.provider or model.owned_by or ""
        if provider and owner != provider:
            continue
        rows.append(CatalogueRow(model.id, owner, service.input_per_1m, service.output_per_1m))
    return sorted(rows, key=lambda r: (r.provider, r.id))
