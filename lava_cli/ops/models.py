"""`lava models`: /v1/models joined with /v1/services prices."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lava_cli.errors import LavaError

if TYPE_CHECKING:
    from lava_cli.context import AppContext


def list_models(
    app: AppContext, *, provider: str | None, key_ref: str | None
) -> list[dict[str, Any]]:
    """Catalogue rows {id, provider, input_per_1m, output_per_1m} (prices as strings)."""
    from lava_cli.ops.prompt import _public_client

    client = _public_client(app)
    spend_key = None
    if key_ref:
        from lava_cli.ops.saved import load_saved_key

        spend_key = load_saved_key(app, key_ref)[2]
    models = client.list_models(spend_key)
    prices: dict[str, dict[str, Any]] = {}
    try:
        services = client.list_services(provider)
    except LavaError:
        services = {}
    for entry in services.get("data") or []:
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            prices[entry["id"]] = entry
    rows = []
    for model in models:
        model_id = model.get("id")
        if not isinstance(model_id, str):
            continue
        service = prices.get(model_id, {})
        owner = service.get("provider") or model.get("owned_by") or ""
        if provider and owner != provider:
            continue
        pricing = service.get("pricing") if isinstance(service.get("pricing"), dict) else {}
        assert isinstance(pricing, dict)
        rows.append(
            {
                "id": model_id,
                "provider": owner,
                "input_per_1m": _price(pricing.get("input")),
                "output_per_1m": _price(pricing.get("output")),
            }
        )
    return sorted(rows, key=lambda r: (r["provider"], r["id"]))


def _price(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    return str(value)
