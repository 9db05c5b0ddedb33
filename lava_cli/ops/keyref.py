"""How people name a key as KEY: its id, its name, or its preview as they copy it.

A preview is `lava_sk_` + the 8 characters a preview shows + `****`; people paste it
with the `****`, without it, or cut short by a table (`…`). None of these is a secret
(`credentials.raw_secrets` agrees), so all of them must find the key. Stdlib only.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lava_cli.api.types import SpendKey

KEY_FORMS = "an id (sk_…), a name, or a preview (lava_sk_a1b2c3d4****, the **** optional)"
_PREVIEW_REF_RE = re.compile(r"(lava_sk_[A-Za-z0-9_\-]{8})(?:\*{1,4}|…|\.{3})?")


def preview_stem(ref: str) -> str | None:
    """`lava_sk_` + 8 characters when `ref` is shaped like a key's preview (with or
    without its `****`, or cut short with `…`), else None."""
    found = _PREVIEW_REF_RE.fullmatch(ref.strip())
    return found.group(1) if found else None


def matches_ref(ref: str, key: SpendKey) -> bool:
    """Whether `ref` names `key`: its id, its name, or its preview in any form above."""
    return names(ref, key.spend_key_id, key.name, key.key_preview)


def names(ref: str, ident: str, name: object, preview: object) -> bool:
    """Whether `ref` is this id, this name or this preview (in any form people copy); a
    saved record's name or preview may be missing, so they are any value here."""
    stem = preview_stem(ref)
    if stem is not None and isinstance(preview, str) and preview[: len(stem)] == stem:
        return True
    return ref in (ident, name, preview)
