"""The built-in catalogue and its public endpoints, /v1/models and /v1/services."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from lava_cli.emulator import catalogue
from lava_cli.emulator.server import EmulatorHandle


def test_catalogue_spans_providers_with_prices() -> None:
    assert len(catalogue.MODELS) >= 12
    assert {"openai", "anthropic", "google"} <= {m.provider for m in catalogue.MODELS}
    assert len({m.id for m in catalogue.MODELS}) == len(catalogue.MODELS)
    known = {p.id for p in catalogue.PROVIDERS}
    for model in catalogue.MODELS:
        assert model.provider in known
        assert model.input_price > 0 and model.output_price > 0
        assert model.context_window > 0
    gpt = catalogue.get_model("gpt-4o-mini")
    assert gpt is not None and gpt.input_price == Decimal("0.15")
    assert catalogue.get_model("nope") is None


def test_models_list_is_public_and_openai_shaped(anon: httpx.Client) -> None:
    r = anon.get("/models")
    assert r.status_code == 200
    body = r.json()
    assert body["object"] == "list"
    assert [m["id"] for m in body["data"]] == [m.id for m in catalogue.MODELS]
    for entry in body["data"]:
        assert set(entry) == {"id", "object", "created", "owned_by"}
        assert entry["object"] == "model" and isinstance(entry["created"], int)


def test_models_with_a_secret_key_lists_everything(api: httpx.Client) -> None:
    assert len(api.get("/models").json()["data"]) == len(catalogue.MODELS)


def _ids(client: httpx.Client, raw: str, header: str = "Authorization") -> list[str]:
    value = f"Bearer {raw}" if header == "Authorization" else raw
    r = client.get("/models", headers={header: value})
    assert r.status_code == 200, r.text
    return [m["id"] for m in r.json()["data"]]


def test_models_with_a_spend_key_lists_only_what_it_may_use(
    api: httpx.Client, anon: httpx.Client
) -> None:
    def key(**fields: object) -> str:
        raw: str = api.post("/spend_keys", json={"name": "k", **fields}).json()["key"]
        return raw

    by_model = key(allowed_models=["gpt-4o-mini", "claude-haiku-4-5", "not-in-catalogue"])
    assert _ids(anon, by_model) == ["gpt-4o-mini", "claude-haiku-4-5"]
    assert _ids(anon, by_model, header="x-api-key") == ["gpt-4o-mini", "claude-haiku-4-5"]
    by_provider = key(allowed_providers=["anthropic"])
    assert _ids(anon, by_provider) == [m.id for m in catalogue.models_for("anthropic")]
    both = key(allowed_models=["gpt-4o", "claude-opus-4-6"], allowed_providers=["anthropic"])
    assert _ids(anon, both) == ["claude-opus-4-6"]
    unrestricted = key()
    assert len(_ids(anon, unrestricted)) == len(catalogue.MODELS)


@pytest.mark.parametrize("revoke", [True, False])
def test_models_with_a_dead_spend_key_is_401(
    api: httpx.Client, anon: httpx.Client, revoke: bool
) -> None:
    created = api.post("/spend_keys", json={"name": "k"}).json()
    raw = created["key"]
    if revoke:
        api.delete(f"/spend_keys/{created['spend_key_id']}")
    else:
        api.post(f"/spend_keys/{created['spend_key_id']}/rotate")
    r = anon.get("/models", headers={"Authorization": f"Bearer {raw}"})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "invalid_api_key"


def test_services_lists_prices_and_providers(anon: httpx.Client) -> None:
    body = anon.get("/services").json()
    assert body["object"] == "list"
    assert len(body["data"]) == len(catalogue.MODELS)
    first = body["data"][0]
    assert first["id"] == "gpt-4o" and first["provider"] == "openai"
    assert first["pricing"]["type"] == "tokens_1m"
    assert (first["pricing"]["input"], first["pricing"]["output"]) == (2.5, 10.0)
    counts = {p["id"]: p["entry_count"] for p in body["providers"]}
    assert counts["openai"] == len(catalogue.models_for("openai"))
    assert sum(counts.values()) == len(catalogue.MODELS)
    assert all(p["label"] for p in body["providers"])


def test_services_provider_filter(anon: httpx.Client) -> None:
    body = anon.get("/services", params={"provider": "google"}).json()
    assert {e["provider"] for e in body["data"]} == {"google"}
    assert [e["id"] for e in body["data"]] == ["gemini-2.5-pro", "gemini-2.5-flash"]
    assert anon.get("/services", params={"provider": "nobody"}).json()["data"] == []


def test_models_and_the_gateway_read_the_same_key_when_both_headers_come(
    api: httpx.Client, anon: httpx.Client, emu: EmulatorHandle
) -> None:
    """With x-api-key and a Bearer token, x-api-key is the key, for /v1/models as for
    the gateway (as ANTHROPIC_API_KEY wins over ANTHROPIC_AUTH_TOKEN in Claude Code)."""
    only_haiku = api.post(
        "/spend_keys", json={"name": "a", "allowed_models": ["claude-haiku-4-5"]}
    ).json()["key"]
    unrestricted = api.post("/spend_keys", json={"name": "b"}).json()["key"]
    both = {"x-api-key": only_haiku, "Authorization": f"Bearer {unrestricted}"}
    listed = [m["id"] for m in anon.get("/models", headers=both).json()["data"]]
    assert listed == ["claude-haiku-4-5"]
    chat = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    refused = httpx.post(emu.base_url + "/chat/completions", json=chat, headers=both, timeout=10)
    assert refused.status_code == 403  # the gateway judged it by the haiku-only key too
