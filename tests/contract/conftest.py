"""The endpoint a contract test runs against, the CLI logged in to it, and cleanup.

`endpoint` is parametrised: every test runs against the session's emulator (always),
and against a real Lava endpoint when LAVA_TEST_BASE_URL and LAVA_TEST_SECRET_KEY are
set (tests/helpers/real_api.py); without them that half is skipped, before any network.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.conftest import Result, run_lava
from tests.helpers import real_api
from tests.helpers.real_api import Endpoint

EMULATOR_BUDGET = Decimal("1.00")  # the emulator's gateway charges play money


@pytest.fixture(
    params=[
        "emulator",
        pytest.param("real", marks=[pytest.mark.real_api, pytest.mark.slow]),
    ]
)
def endpoint(request: pytest.FixtureRequest) -> Endpoint:
    if request.param == "real":
        if not real_api.configured():
            pytest.skip(real_api.SKIP_REASON)
        return Endpoint(
            "real", real_api.BASE_URL, real_api.SECRET_KEY, real_api.spend_budget(), real_api.MODEL
        )
    emu: Any = request.getfixturevalue("emulator")
    return Endpoint("emulator", emu.base_url, emu.secrets[0], EMULATOR_BUDGET, "gpt-4o-mini")


def _sweep(endpoint: Endpoint) -> list[str]:
    """Revoke every key of this run (named real_api.RUN_PREFIX…) still on the endpoint,
    straight through the API, so a CLI bug cannot leave keys behind; returns the ids."""
    auth = {"Authorization": f"Bearer {endpoint.secret}"}
    revoked = []
    with httpx.Client(base_url=endpoint.base_url, headers=auth, timeout=30) as api:
        cursor = None
        ours = []
        for _ in range(100):  # a page cap: never loop forever on a broken cursor
            params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
            page = api.get("/spend_keys", params=params)
            page.raise_for_status()
            body = page.json()
            ours += [k["spend_key_id"] for k in body["data"]
                     if str(k.get("name", "")).startswith(real_api.RUN_PREFIX)]  # fmt: skip
            cursor = body.get("next_cursor")
            if not body.get("has_more") or not cursor:
                break
        for key_id in ours:
            answer = api.delete(f"/spend_keys/{key_id}")
            if answer.status_code not in (200, 404):  # 404: already gone
                answer.raise_for_status()
            revoked.append(key_id)
    return revoked


class Lava:
    """The CLI (in-process, the real client) logged in to `endpoint` by environment."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self._names = 0

    def name(self, what: str) -> str:
        """A key name unique to this run (cleanup finds every key by its prefix)."""
        self._names += 1
        return f"{real_api.RUN_PREFIX}{what}-{self._names}"

    def __call__(self, *args: str, input: str | None = None) -> Result:
        return run_lava(*args, input=input)

    def ok(self, *args: str) -> Any:
        """`lava ARGS --json`, which must exit 0; its JSON."""
        result = run_lava(*args, "--json")
        assert result.code == 0, (args, result.output)
        return json.loads(result.stdout)


@pytest.fixture
def lava(endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch) -> Iterator[Lava]:
    """The CLI logged in to the endpoint; afterwards, pass or fail, every key this run
    made there is revoked."""
    monkeypatch.setenv("LAVA_SECRET_KEY", endpoint.secret)
    monkeypatch.setenv("LAVA_BASE_URL", endpoint.base_url)
    try:
        yield Lava(endpoint)
    finally:
        _sweep(endpoint)


@pytest.fixture
def sweep() -> Callable[[Endpoint], list[str]]:
    """The cleanup itself, for the test that proves it."""
    return _sweep
