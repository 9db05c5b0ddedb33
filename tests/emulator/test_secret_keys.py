"""A wallet's secret keys over real HTTP: the SDK's shapes, show-once, hashes only,
refused at once when deleted (management and reads alike), the last one kept, the
``lava_wk_`` alias, and keys surviving a restart."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest

from lava_cli.emulator import ids
from lava_cli.emulator.openapi import build_document
from lava_cli.emulator.server import EmulatorHandle, start_in_thread
from tests.helpers.fuzz import report

SECRET_KEY_FIELDS = ["secret_key_id", "name", "secret_key_hint", "created_at"]


def _validator(name: str) -> Any:
    document = build_document()
    return jsonschema_rs.validator_for(
        {**document["components"]["schemas"][name], "components": document["components"]}
    )


PAGE, NEW, DELETED = _validator("SecretKeyPage"), _validator("NewSecretKey"), _validator("Deleted")


def create(api: httpx.Client, name: str = "ci") -> dict[str, Any]:
    answer = api.post("/secret_keys", json={"name": name})
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    NEW.validate(body)
    return body


def listed(api: httpx.Client) -> list[dict[str, Any]]:
    answer = api.get("/secret_keys", params={"limit": 100})
    assert answer.status_code == 200, answer.text
    PAGE.validate(answer.json())
    data: list[dict[str, Any]] = answer.json()["data"]
    return data


def as_secret(emu: EmulatorHandle, secret: str) -> httpx.Client:
    return httpx.Client(
        base_url=emu.base_url, headers={"Authorization": f"Bearer {secret}"}, timeout=10
    )


def test_the_started_secret_is_listed(api: httpx.Client, emu: EmulatorHandle) -> None:
    [started] = listed(api)
    assert list(started) == SECRET_KEY_FIELDS
    assert started["name"] == "started with"
    assert started["secret_key_hint"] == "aks_test_****" + emu.secrets[0][-4:]
    assert re.fullmatch(r"sec_[A-Za-z0-9]{24}", started["secret_key_id"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", started["created_at"])


def test_create_shows_the_secret_once_and_it_works_at_once(
    api: httpx.Client, emu: EmulatorHandle
) -> None:
    made = create(api, "github actions")
    assert list(made) == [*SECRET_KEY_FIELDS, "secret_key"]
    secret = made["secret_key"]
    assert re.fullmatch(r"aks_test_[A-Za-z0-9]{32}", secret)
    assert made["name"] == "github actions"
    assert made["secret_key_hint"] == "aks_test_****" + secret[-4:]
    entry = next(k for k in listed(api) if k["secret_key_id"] == made["secret_key_id"])
    assert "secret_key" not in entry
    assert entry == {k: made[k] for k in SECRET_KEY_FIELDS}
    with as_secret(emu, secret) as ci:
        assert ci.get("/wallet").json() == api.get("/wallet").json()  # the same wallet
        assert ci.post("/spend_keys", json={"name": "from ci"}).status_code == 201
    assert [k["name"] for k in api.get("/spend_keys").json()["data"]] == ["from ci"]


def test_the_list_pages_newest_first(api: httpx.Client) -> None:
    made = [create(api, f"k{n}")["secret_key_id"] for n in range(12)]
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 5, **({"cursor": cursor} if cursor else {})}
        page = api.get("/secret_keys", params=params).json()
        PAGE.validate(page)
        seen += [k["secret_key_id"] for k in page["data"]]
        if not page["has_more"]:
            assert page["next_cursor"] is None
            break
        cursor = page["next_cursor"]
    assert len(seen) == 13 and len(set(seen)) == 13
    assert set(made) < set(seen)
    assert len(api.get("/secret_keys").json()["data"]) == 10  # the default page
    for bad in ({"limit": 0}, {"limit": 101}, {"cursor": "garbage"}):
        assert api.get("/secret_keys", params=bad).status_code == 400


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"name": 5}, "name"),
        ({"name": None}, "name"),
        ({"name": "ok", "scope": "all"}, "scope"),
        ([], "body"),
    ],
)
def test_create_validates_the_body_naming_the_field(
    api: httpx.Client, body: Any, named: str
) -> None:
    answer = api.post("/secret_keys", json=body)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_request"
    assert answer.json()["error"]["message"].startswith(named)
    assert len(listed(api)) == 1


def test_a_deleted_secret_is_refused_at_once_everywhere(
    api: httpx.Client, emu: EmulatorHandle
) -> None:
    made = create(api)
    secret = made["secret_key"]
    ci = as_secret(emu, secret)
    wallet_key = ids.wallet_key(secret)
    alias = as_secret(emu, wallet_key)
    assert ci.get("/wallet").status_code == alias.get("/wallet").status_code == 200
    gone = api.delete(f"/secret_keys/{made['secret_key_id']}")
    assert gone.status_code == 200
    DELETED.validate(gone.json())
    assert gone.json() == {"id": made["secret_key_id"], "deleted": True}
    for path in ("/wallet", "/spend_keys", "/secret_keys", "/requests", "/usage",
                 "/payment_methods"):  # fmt: skip
        for client in (ci, alias):
            answer = client.get(path)
            assert answer.status_code == 401, (path, answer.text)
            assert answer.json()["error"]["code"] == "invalid_api_key"
    assert ci.post("/spend_keys", json={"name": "x"}).status_code == 401
    assert ci.post("/secret_keys", json={"name": "x"}).status_code == 401
    assert made["secret_key_id"] not in {k["secret_key_id"] for k in listed(api)}
    again = api.delete(f"/secret_keys/{made['secret_key_id']}")
    assert again.status_code == 404 and again.json()["error"]["code"] == "not_found"
    assert api.get("/wallet").status_code == 200  # the wallet's other secret still works
    ci.close()
    alias.close()


def test_the_last_secret_is_kept_with_a_409(api: httpx.Client, emu: EmulatorHandle) -> None:
    [started] = listed(api)
    refused = api.delete(f"/secret_keys/{started['secret_key_id']}")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "last_secret_key"
    assert started["secret_key_id"] in refused.json()["error"]["message"]
    assert api.get("/wallet").status_code == 200
    # With another secret in hand, the started one may go; then the other is the last.
    other = create(api)
    assert api.delete(f"/secret_keys/{started['secret_key_id']}").status_code == 200
    assert api.get("/wallet").status_code == 401
    with as_secret(emu, other["secret_key"]) as ci:
        last = ci.delete(f"/secret_keys/{other['secret_key_id']}")
        assert last.status_code == 409 and last.json()["error"]["code"] == "last_secret_key"
    emu.reset()  # the started secret lives again for the next test
    assert api.get("/wallet").status_code == 200


def test_unknown_and_other_wallets_secret_keys_are_404(
    api: httpx.Client, api_b: httpx.Client
) -> None:
    theirs = create(api_b)
    for secret_key_id in (theirs["secret_key_id"], "sec_" + "x" * 24, "nope"):
        answer = api.delete(f"/secret_keys/{secret_key_id}")
        assert answer.status_code == 404
        assert answer.json() == {
            "error": {"message": f"No such secret key: {secret_key_id}", "code": "not_found"}
        }
    assert theirs["secret_key_id"] in {k["secret_key_id"] for k in listed(api_b)}
    assert theirs["secret_key_id"] not in {k["secret_key_id"] for k in listed(api)}


def test_a_spend_key_or_nothing_cannot_manage_secret_keys(
    api: httpx.Client, anon: httpx.Client
) -> None:
    raw = api.post("/spend_keys", json={"name": "s"}).json()["key"]
    with httpx.Client(base_url=str(api.base_url), headers={"Authorization": f"Bearer {raw}"}) as c:
        assert c.get("/secret_keys").status_code == 403
        assert c.post("/secret_keys", json={"name": "x"}).status_code == 403
    assert anon.get("/secret_keys").status_code == 401
    assert anon.post("/secret_keys", json={"name": "x"}).status_code == 401


def test_wallet_key_alias_of_every_secret(api: httpx.Client, emu: EmulatorHandle) -> None:
    """``lava_wk_<body>`` is accepted where ``aks_test_<body>`` is."""
    made = create(api)
    for secret in (emu.secrets[0], made["secret_key"]):
        alias = ids.wallet_key(secret)
        assert alias.startswith("lava_wk_") and alias[len("lava_wk_") :] == secret[9:]
        with as_secret(emu, alias) as c:
            assert c.get("/wallet").json() == api.get("/wallet").json()
    with as_secret(emu, "lava_wk_" + "Z" * 32) as c:
        assert c.get("/wallet").status_code == 401


def test_a_wallet_started_with_a_wallet_key_answers_to_it() -> None:
    started = "lava_wk_" + "W" * 32
    with start_in_thread(secrets=[started]) as emu, as_secret(emu, started) as api:
        assert api.get("/wallet").status_code == 200
        [listed_key] = listed(api)
        assert listed_key["secret_key_hint"] == "lava_wk_****WWWW"
        assert re.fullmatch(r"aks_test_[A-Za-z0-9]{32}", create(api)["secret_key"])


def test_a_live_wallet_mints_live_secrets() -> None:
    live = "aks_live_" + "L" * 32
    with start_in_thread(secrets=[live]) as emu, as_secret(emu, live) as api:
        [started] = listed(api)
        assert started["secret_key_hint"] == "aks_live_****LLLL"
        made = create(api)
        assert re.fullmatch(r"aks_live_[A-Za-z0-9]{32}", made["secret_key"])
        with as_secret(emu, ids.wallet_key(live)) as alias:
            assert alias.get("/wallet").status_code == 200


@pytest.mark.slow  # two emulators on a file database, fsync on every commit
def test_secret_keys_survive_a_restart_and_a_started_secret_revives(tmp_path: Path) -> None:
    db = str(tmp_path / "emu.sqlite3")
    started = "aks_test_" + "R" * 32
    with start_in_thread(db_path=db, secrets=[started]) as emu, as_secret(emu, started) as api:
        made = create(api, "ci")
        assert api.delete(f"/secret_keys/{listed(api)[-1]['secret_key_id']}").status_code == 200
        assert api.get("/wallet").status_code == 401  # the started secret is deleted
    with start_in_thread(db_path=db, secrets=[started]) as emu:
        with as_secret(emu, made["secret_key"]) as ci:
            names = [k["name"] for k in listed(ci)]
            assert names == ["ci", "started with"]  # the operator's secret is live again
        with as_secret(emu, started) as api:
            assert api.get("/wallet").status_code == 200


def test_the_database_holds_only_hashes_of_secret_keys(tmp_path: Path, capsys: Any) -> None:
    """No raw secret, no secret body (which is also its lava_wk_ alias's), on disk."""
    db = tmp_path / "emu.sqlite3"
    started = "aks_test_" + "Q" * 32
    raws = [started]
    with start_in_thread(db_path=str(db), secrets=[started]) as emu, as_secret(emu, started) as api:
        for n in range(6):
            raws.append(create(api, f"k{n}")["secret_key"])
        gone = listed(api)[0]
        assert api.delete(f"/secret_keys/{gone['secret_key_id']}").status_code == 200
        blobs = {p.name: p.read_bytes() for p in sorted(tmp_path.iterdir())}
    blobs.update({f"{p.name} (closed)": p.read_bytes() for p in sorted(tmp_path.iterdir())})
    needles = [form for raw in raws for form in (raw, raw[len("aks_test_") :])]
    hits = sum(blob.count(n.encode()) for blob in blobs.values() for n in needles)
    hashes = sum(blob.count(ids.hash_secret(raws[-1]).encode()) for blob in blobs.values())
    report(
        capsys,
        f"database: {len(raws)} secret keys searched (raw and body) in {len(blobs)} file "
        f"images: {hits} raw occurrences",
    )
    assert hits == 0
    assert hashes >= 1, "the hashes themselves should be there (the search works)"
