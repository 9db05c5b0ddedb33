"""A key whose `expires_at` has passed shows as `expired`, not `active`.

The API keeps calling such a key active (or paused); the CLI derives `expired` from
`expires_at` in one place (`SpendKey.status_at`) for `keys list` and its `--status`
filter, `keys show`, `usage` and `keys check`. `--json` of the API objects stays the
server's own, untouched; `usage --json` (lava's own report) adds `expired`.

The expiry is moved into the past through the emulator's store: the emulator, like
the contract, does not expire keys by changing their status, so this is the real state
a client meets.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from lava_cli.api.types import SpendKey
from lava_cli.emulator.cycles import stored_time
from tests.conftest import run_lava

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def create(*args: str) -> dict[str, Any]:
    result = run_lava("keys", "create", *args, "--json")
    assert result.code == 0, result.output
    key: dict[str, Any] = json.loads(result.stdout)
    return key


def expire(emulator: Any, key: dict[str, Any]) -> None:
    past = datetime.now(timezone.utc) - timedelta(minutes=5)
    emulator.store.update_key(
        key["wallet_id"], key["spend_key_id"], {"expires_at": stored_time(past)}
    )


@pytest.fixture
def keys(logged_in: Any) -> dict[str, dict[str, Any]]:
    """old: active, expired; held: paused, expired; fresh: active; resting: paused."""
    made = {
        "old": create("--name", "old", "--expires-in", "1h"),
        "held": create("--name", "held", "--expires-in", "1h", "--paused"),
        "fresh": create("--name", "fresh", "--expires-in", "7d"),
        "resting": create("--name", "resting", "--paused"),
    }
    expire(logged_in, made["old"])
    expire(logged_in, made["held"])
    return made


def test_list_shows_expired(keys: dict[str, dict[str, Any]]) -> None:
    result = run_lava("keys", "list")
    assert result.code == 0, result.output
    status = {row.split("\t")[1]: row.split("\t")[2] for row in result.stdout.splitlines()}
    assert status == {"old": "expired", "held": "expired", "fresh": "active", "resting": "paused"}


def test_list_on_a_terminal_shows_expired(
    keys: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    result = run_lava("keys", "list", tty=True)
    assert result.code == 0, result.output
    rows = {
        cells[1]: cells[2]
        for cells in (line.split() for line in result.stdout.splitlines())
        if cells and cells[0].startswith("sk_")  # wrapped cells continue on other lines
    }
    assert rows == {"old": "expired", "held": "expired", "fresh": "active", "resting": "paused"}


@pytest.mark.parametrize(
    ("status", "names"),
    [("expired", {"old", "held"}), ("active", {"fresh"}), ("paused", {"resting"})],
)
def test_status_filter_uses_the_shown_status(
    keys: dict[str, dict[str, Any]], status: str, names: set[str]
) -> None:
    result = run_lava("keys", "list", "--status", status, "-q")
    assert result.code == 0, result.output
    assert set(result.stdout.split()) == {keys[n]["spend_key_id"] for n in names}


def test_json_keeps_the_api_object_untouched(keys: dict[str, dict[str, Any]]) -> None:
    listed = json.loads(run_lava("keys", "list", "--json").stdout)
    old = next(k for k in listed if k["name"] == "old")
    api_fields = {k for k in keys["old"] if k != "key"}
    assert set(old) == api_fields and old["status"] == "active"
    shown = json.loads(run_lava("keys", "show", "old", "--json").stdout)
    assert shown == old
    filtered = json.loads(run_lava("keys", "list", "--status", "expired", "--json").stdout)
    assert {k["name"] for k in filtered} == {"old", "held"}


def test_show_says_expired(keys: dict[str, dict[str, Any]]) -> None:
    rows = dict(line.split("\t", 1) for line in run_lava("keys", "show", "old").stdout.splitlines())
    assert rows["status"] == "expired"
    rows = dict(
        line.split("\t", 1) for line in run_lava("keys", "show", "fresh").stdout.splitlines()
    )
    assert rows["status"] == "active"


def test_usage_says_expired(keys: dict[str, dict[str, Any]]) -> None:
    rows = [line.split("\t") for line in run_lava("usage").stdout.splitlines()]
    status = {r[2]: r[3] for r in rows if r[0] == "key"}
    assert status == {"old": "expired", "held": "expired", "fresh": "active", "resting": "paused"}
    one = dict(line.split("\t", 1) for line in run_lava("usage", "old").stdout.splitlines())
    assert one["status"] == "expired"
    report = json.loads(run_lava("usage", "--json").stdout)
    by_name = {k["name"]: k for k in report["keys"]}
    assert by_name["old"]["status"] == "active" and by_name["old"]["expired"] is True
    assert by_name["held"]["status"] == "paused" and by_name["held"]["expired"] is True
    assert by_name["fresh"]["expired"] is False


def test_check_agrees(keys: dict[str, dict[str, Any]]) -> None:
    result = run_lava("keys", "check", "old", "--json")
    assert result.code == 5
    assert json.loads(result.stdout)["codes"] == ["expired"]
    assert run_lava("keys", "check", "fresh").code == 0


def test_unknown_status_names_the_choices(logged_in: Any) -> None:
    result = run_lava("keys", "list", "--status", "revoked")
    assert result.code == 2
    assert "expired" in result.stderr


def _key(status: str, expires_at: str | None) -> SpendKey:
    return SpendKey.from_json(
        {
            "spend_key_id": "sk_x",
            "name": "x",
            "status": status,
            "expires_at": expires_at,
            "current_spend": "0",
            "total_spend": "0",
        }
    )


@pytest.mark.parametrize(
    ("status", "expires_at", "shown"),
    [
        ("active", "2026-03-01T11:59:59Z", "expired"),
        ("active", "2026-03-01T12:00:00Z", "expired"),  # expires_at is the first dead moment
        ("active", "2026-03-01T12:00:01Z", "active"),
        ("paused", "2020-01-01T00:00:00Z", "expired"),
        ("active", None, "active"),
        ("active", "not a time", "active"),
        ("active", "0001-01-01T00:00:00+01:00", "active"),  # out of range: no crash
        ("revoked", "2020-01-01T00:00:00Z", "revoked"),  # only active/paused turn expired
    ],
)
def test_status_at(status: str, expires_at: str | None, shown: str) -> None:
    assert _key(status, expires_at).status_at(NOW) == shown
