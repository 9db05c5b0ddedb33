"""The values TAB offers for options and arguments: no network, no keyring, no Typer.

Two kinds, named by a source:

- static (`STATIC`): the words a flag's own parser accepts (shapes, shells, formats,
  tool ids, statuses). `make completions` writes them into the completion index, so a
  TAB press never imports the modules that define them.
- dynamic (`DYNAMIC`): read at each TAB press. Profiles and saved keys' names come
  from config.json, model ids and providers from the catalogue cache that commands
  checking models keep (`catalogue.json` in the cache dir), and the cycles that finish
  `--spend-limit 5/` from what is typed.

Both the full CLI (Typer's completion) and the fast path (`completion/fast.py`) call
`values()`, so the two answer alike by construction. Every reader here is cheap and
never raises: a broken config or cache offers nothing, it does not fail the TAB.
Only plain words are offered (letters, digits and `._/@+=,:-`): a name with spaces,
quotes or `$` would need quoting that no shell's completion applies the same way; a
saved key with such a name is offered by its id instead.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

STATIC = ("shapes", "shells", "key-formats", "env-formats", "tools", "statuses")
DYNAMIC = ("profiles", "keys", "models", "providers", "spend-cycles", "count-cycles")
MAX_ITEMS = 500
_PLAIN = re.compile(r"[A-Za-z0-9._/@+=,:-]+")
_AMOUNT = re.compile(r"\$?[0-9][0-9,]*(?:\.[0-9]{0,2})?")


def plain(word: object) -> bool:
    """A word every shell inserts as typed, without quoting."""
    return isinstance(word, str) and _PLAIN.fullmatch(word) is not None


def static_values(source: str) -> tuple[str, ...]:
    """The fixed words of a static source (imported here only by `make completions`
    and Typer's completion, never by the fast path)."""
    if source == "shapes":
        from lava_cli.parsing import SHAPES

        return SHAPES
    if source == "shells":
        from lava_cli.tools.render import SHELLS

        return SHELLS
    if source == "key-formats":
        from lava_cli.ops.handoff import KEY_FORMATS

        return KEY_FORMATS
    if source == "env-formats":
        from lava_cli.ops.env import FORMATS

        return FORMATS
    if source == "tools":
        from lava_cli.tools.catalogue import tool_ids

        return tool_ids()
    if source == "statuses":
        from lava_cli.parsing import STATUSES

        return STATUSES
    raise ValueError(f"unknown completion source {source!r}")


def values(source: str, incomplete: str, profile: str | None = None) -> list[str]:
    """What TAB offers for `source` when `incomplete` is typed, in order, filtered to
    the words starting with it. `profile` (saved keys) defaults to LAVA_PROFILE's."""
    if source in STATIC:
        found: list[str] = list(static_values(source))
    elif source == "profiles":
        found = sorted(_profiles())
    elif source == "keys":
        found = _saved_key_words(profile or os.environ.get("LAVA_PROFILE") or "default")
    elif source in ("models", "providers"):
        found = _catalogue(source)
    elif source in ("spend-cycles", "count-cycles"):
        found = _cycles(incomplete)
    else:
        raise ValueError(f"unknown completion source {source!r}")
    return [w for w in found if plain(w) and w.startswith(incomplete)][:MAX_ITEMS]


# --- config.json --------------------------------------------------------------------------


def _config() -> dict[str, Any]:
    """config.json as it is on disk, or {} for anything unreadable."""
    from lava_cli.config import CONFIG_FILE, config_dir

    try:
        data = json.loads((config_dir() / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def _profile_entries() -> dict[str, Any]:
    profiles = _config().get("profiles")
    return profiles if isinstance(profiles, dict) else {}


def _profiles() -> list[str]:
    return [name for name, entry in _profile_entries().items() if isinstance(entry, dict)]


def _saved_key_words(profile: str) -> list[str]:
    """The profile's saved keys as KEY words: the name when it is plain and unique among
    them, else the id (which always is)."""
    entry = _profile_entries().get(profile)
    saved = entry.get("saved_keys") if isinstance(entry, dict) else None
    if not isinstance(saved, dict):
        return []
    names = {kid: meta.get("name") for kid, meta in saved.items() if isinstance(meta, dict)}
    counted = [n for n in names.values() if isinstance(n, str)]
    words = []
    for kid, name in names.items():
        usable = isinstance(name, str) and plain(name) and counted.count(name) == 1
        words.append(name if usable and isinstance(name, str) else kid)
    return sorted(words)


# --- the catalogue cache ------------------------------------------------------------------


def _catalogue(source: str) -> list[str]:
    """Model ids or providers from every catalogue in the cache, whatever its age (the
    cache is `ops.catalogue`'s: it is kept by the commands that check models)."""
    from lava_cli.ops.catalogue import cached_model_ids, cached_providers

    return cached_model_ids() if source == "models" else cached_providers()


# --- AMOUNT/CYCLE -------------------------------------------------------------------------


def _cycles(incomplete: str) -> list[str]:
    """`5` or `5/m` -> `5/daily` … `5/total`: the amount typed, each cycle after it."""
    from lava_cli.contract import CYCLES

    amount = incomplete.partition("/")[0]
    if not _AMOUNT.fullmatch(amount):
        return []
    return [f"{amount}/{cycle}" for cycle in CYCLES]
