"""The environment a child of `lava` starts with: the caller's, without credentials.

Design pattern 12: a child gets only what it needs. `lava run`'s command adds the run's
spend key on top (ops/run.py); a `keys rotate --deliver` command adds nothing, because
it gets the new key on its stdin only (ops/deliver.py). Both start from here, so one
reading of "a credential in the environment" holds for every child.
"""

from __future__ import annotations

from collections.abc import Mapping


def withheld(base: Mapping[str, str]) -> list[str]:
    """Names of the variables a child must not see: LAVA_SECRET_KEY, and any variable
    whose value holds a raw management secret (aks_…, lava_wk_…) or spend key (lava_sk_…).

    Matching values, not only names, catches `DEPLOY_TOKEN=aks_live_…` and a stale
    `OPENAI_API_KEY=lava_sk_…` that a tool would prefer to the run's key. Previews
    (`lava_sk_a1b2c3d4****`) stay: they are not keys.
    """
    from lava_cli.credentials import raw_secrets

    return sorted(
        name
        for name, value in base.items()
        if name == "LAVA_SECRET_KEY" or raw_secrets(name) or raw_secrets(value)
    )


def without_credentials(base: Mapping[str, str]) -> dict[str, str]:
    """`base` minus every variable `withheld` names."""
    dropped = set(withheld(base))
    return {name: value for name, value in base.items() if name not in dropped}
