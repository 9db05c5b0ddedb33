"""The gateway's model catalogue as the CLI checks against it, cached for a short time.

A key created with `--model GPT-4o`, `--model nonexistent`, `--provider nope` or
`--shape anthropic --model gpt-4o-mini` is accepted by the API and then refuses every
request. `check_settings` catches that before anything is sent: each model and provider
must be in the catalogue (`GET /v1/models`, providers also from `GET /v1/services`),
with the closest name suggested, and some model must be callable with the settings
together. `/v1/messages` (an anthropic-shape key) serves Anthropic models only, and the
allow-lists apply together (a model must be in `allowed_models` AND its provider in
`allowed_providers`). `--allow-unknown-model` skips the name check for a model the
catalogue does not list yet.

The cache: `catalogue.json` in the cache directory (`cache_path()`): platformdirs'
user cache dir for `lava-cli`, or `$LAVA_CONFIG_DIR/cache` when LAVA_CONFIG_DIR moves
lava's files (tests, the demo, CI sandboxes). One JSON object, no secrets:

    {"version": 1,
     "catalogues": {"<base URL>": {"fetched_at": <Unix seconds>,
                                   "models": {"<model id>": "<provider or ''>", ...},
                                   "providers": ["<provider id>", ...]}}}

An entry is used for `CACHE_TTL_S` (10 min); a name it does not list is looked up
again before it is refused, so a model released since is never refused on stale data.
`lava models` refreshes the entry of its base URL. The file is a cache: any problem
reading or writing it is a miss, never an error. Stdlib only at import: TAB completion
reads model ids through `cached_model_ids`.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lava_cli.errors import LavaError, UsageError

if TYPE_CHECKING:
    from lava_cli.api.model_types import Model, Service
    from lava_cli.context import AppContext

CACHE_FILE = "catalogue.json"
CACHE_VERSION = 1
CACHE_TTL_S = 600.0
# The only shape restricted by provider: /v1/messages speaks Anthropic's API only. An
# openai-shape key may call any provider's model (the contract's own example is Claude).
SHAPE_PROVIDER = {"anthropic": "anthropic"}
UNKNOWN_FLAG = "--allow-unknown-model"


def cache_dir() -> Path:
    """Where lava keeps caches: beside the config when LAVA_CONFIG_DIR is set, else
    the platform's user cache dir (`~/.cache/lava-cli` on Linux)."""
    override = os.environ.get("LAVA_CONFIG_DIR")
    if override:
        return Path(override) / "cache"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("lava-cli", appauthor=False))


def cache_path() -> Path:
    return cache_dir() / CACHE_FILE


@dataclass(frozen=True)
class Catalogue:
    """Model id -> provider ('' when no provider is named), and the known providers."""

    models: Mapping[str, str]
    providers: frozenset[str]
    fetched_at: float
    fresh: bool  # fetched by this process (False: read from the cache)


# --- the cache file --------------------------------------------------------------------


def _read_file() -> dict[str, Any]:
    try:
        data = json.loads(cache_path().read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
        return {}
    entries = data.get("catalogues")
    return entries if isinstance(entries, dict) else {}


def _entry(value: object) -> Catalogue | None:
    if not isinstance(value, dict):
        return None
    fetched, models, providers = (value.get(k) for k in ("fetched_at", "models", "providers"))
    if not isinstance(fetched, (int, float)) or not isinstance(models, dict):
        return None
    if not isinstance(providers, list):
        return None
    pairs = {k: v for k, v in models.items() if isinstance(k, str) and isinstance(v, str)}
    names = frozenset(p for p in providers if isinstance(p, str))
    return Catalogue(pairs, names, float(fetched), fresh=False)


def read_cached(base_url: str, now: float, max_age: float = CACHE_TTL_S) -> Catalogue | None:
    """The cached catalogue of `base_url` when younger than `max_age`; None otherwise."""
    found = _entry(_read_file().get(base_url))
    if found is None or not 0 <= now - found.fetched_at <= max_age:
        return None
    return found


def cached_model_ids(base_url: str | None = None) -> list[str]:
    """Model ids from the cache, whatever their age (for TAB completion: no network).
    With `base_url`, only that catalogue's; otherwise every cached one's."""
    return _cached(base_url, lambda found: found.models)


def cached_providers(base_url: str | None = None) -> list[str]:
    """Providers from the cache, as `cached_model_ids` reads model ids (for TAB)."""
    return _cached(base_url, lambda found: found.providers)


def _cached(base_url: str | None, part: Callable[[Catalogue], Iterable[str]]) -> list[str]:
    entries = _read_file()
    sources = [entries.get(base_url)] if base_url is not None else list(entries.values())
    ids: set[str] = set()
    for value in sources:
        found = _entry(value)
        if found is not None:
            ids.update(part(found))
    return sorted(ids)


def _write(base_url: str, found: Catalogue) -> None:
    from lava_cli.config import atomic_write

    entries = _read_file()
    entries[base_url] = {
        "fetched_at": found.fetched_at,
        "models": dict(found.models),
        "providers": sorted(found.providers),
    }
    text = json.dumps({"version": CACHE_VERSION, "catalogues": entries}, indent=1, sort_keys=True)
    with contextlib.suppress(LavaError):  # a cache not written is only slower next time
        atomic_write(cache_path(), text + "\n")


# --- fetching --------------------------------------------------------------------------


def build(models: Iterable[Model], services: Iterable[Service], now: float) -> Catalogue:
    """The catalogue from the two listings: a model's provider from /v1/services, else
    its `owned_by`; providers are every one either names."""
    priced = {s.id: s.provider for s in services}
    table = {m.id: priced.get(m.id) or m.owned_by or "" for m in models}
    providers = {p for p in table.values() if p} | {p for p in priced.values() if p}
    return Catalogue(table, frozenset(providers), now, fresh=True)


def remember(app: AppContext, models: Iterable[Model], services: Iterable[Service]) -> None:
    """Cache listings fetched anyway (`lava models`), so the next check needs no request."""
    _write(app.base_url()[0], build(models, services, time.time()))


def load(app: AppContext, *, fresh: bool = False) -> Catalogue:
    """The catalogue of this profile's base URL: cached when young enough (unless
    `fresh`), else fetched and cached. LavaError when it cannot be fetched."""
    base_url = app.base_url()[0]
    now = time.time()
    if not fresh:
        cached = read_cached(base_url, now)
        if cached is not None:
            return cached
    client = app.public_client()
    models = client.list_models()
    try:
        services = client.list_services()
    except LavaError:
        services = []  # prices and providers are a courtesy; the models are the answer
    found = build(models, services, now)
    _write(base_url, found)
    return found


# --- checking a key's settings ---------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """What decides which models a key can call. None: no allow-list (everything)."""

    shape: str
    models: Sequence[str] | None = None
    providers: Sequence[str] | None = None


def callable_models(found: Catalogue, settings: Settings) -> list[str]:
    """The catalogue's models a key with these settings can call, in catalogue order."""
    needed = SHAPE_PROVIDER.get(settings.shape)
    return [
        model
        for model, provider in found.models.items()
        if (settings.models is None or model in settings.models)
        and (settings.providers is None or provider in settings.providers)
        and (needed is None or provider == needed)
    ]


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice nearest to `word`, ignoring case (`GPT-4o` -> `gpt-4o`), if any is close."""
    from difflib import get_close_matches

    by_lower = {c.lower(): c for c in choices}
    match = get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.7)
    return by_lower[match[0]] if match else None


def unknown(word: str, flag: str, kind: str, known: Iterable[str], tail: str) -> UsageError:
    """`FLAG: no KIND WORD in the catalogue`, with the closest known name and `tail`."""
    near = closest(word, known)
    return UsageError(
        f"{flag}: no {kind} {word!r} in the catalogue",
        hint=(f"did you mean {near!r}? " if near else "") + tail,
    )


def check_settings(
    app: AppContext,
    settings: Settings,
    *,
    new_models: Sequence[str] = (),
    new_providers: Sequence[str] = (),
    allow_unknown: bool = False,
    consequence: str = "the key could never be used",
    fix: str | None = None,
) -> None:
    """Refuse (exit 2, before anything is sent) a model or provider the catalogue does
    not list (`new_*`: the names given now), and settings under which no model can be
    called. A catalogue that cannot be read is a warning: the check is a courtesy, and
    the API still decides. `consequence` and `fix` word the last refusal for the caller
    (`lava env` checks a tool's model, not a key's settings)."""
    needed = SHAPE_PROVIDER.get(settings.shape)
    if not new_models and not new_providers and needed is None:
        return
    if settings.models is None and settings.providers is None and not new_models:
        return  # every model of the shape stays callable
    try:
        found = load(app)
        if not found.fresh and _missing(found, new_models, new_providers):
            found = load(app, fresh=True)  # listed since the cache was written?
    except LavaError as exc:
        app.out.warn(f"could not check the models against the catalogue: {exc.message}")
        return
    models_left = _missing(found, new_models, ())
    if models_left and not allow_unknown:
        tail = f"`lava models` lists them; {UNKNOWN_FLAG} accepts one it does not list yet"
        raise unknown(models_left[0], "--model", "model", found.models, tail)
    for provider in new_providers:
        if provider not in found.providers:
            tail = f"the catalogue's providers: {', '.join(sorted(found.providers))}"
            raise unknown(provider, "--provider", "provider", found.providers, tail)
    if models_left:
        return  # a model the catalogue does not know may well be callable
    if not callable_models(found, settings):
        refusal = _never_works(found, settings, consequence)
        refusal.hint = fix or refusal.hint
        raise refusal


def _missing(found: Catalogue, models: Sequence[str], providers: Sequence[str]) -> list[str]:
    return [m for m in models if m not in found.models] + [
        p for p in providers if p not in found.providers
    ]


def _never_works(found: Catalogue, settings: Settings, consequence: str) -> UsageError:
    """Why no model is callable, and the way out."""
    needed = SHAPE_PROVIDER.get(settings.shape)
    if needed is not None and settings.models is not None:
        others = [m for m in settings.models if found.models.get(m) != needed]
        if len(others) == len(settings.models):  # not one model of the shape's provider
            owners = sorted({found.models[m] for m in others})
            return UsageError(
                f"an {settings.shape}-shape key calls /v1/messages, which serves {needed} "
                f"models only, and {', '.join(others)} {'is' if len(others) == 1 else 'are'} "
                f"{' and '.join(owners)}'s: {consequence}",
                hint=f"use --shape openai (it may call any provider's model), or allow an "
                f"{needed} model (`lava models --provider {needed}`)",
            )
    providers = ", ".join(settings.providers or ())
    if needed is not None and settings.providers is not None and needed not in settings.providers:
        return UsageError(
            f"an {settings.shape}-shape key can call {needed} models only, and the allowed "
            f"providers are {providers}: {consequence}",
            hint=f"add --provider {needed}, or use --shape openai",
        )
    models = ", ".join(settings.models or ())
    return UsageError(
        f"no model is in both the allowed models ({models}) and the allowed providers "
        f"({providers}): {consequence}",
        hint="allow a model of an allowed provider (`lava models --provider NAME`)",
    )
