"""Emulator hygiene: wallets are isolated on every endpoint, secrets are compared in
constant time and stored only as hashes, and the server binds loopback by default
(warning loudly when told otherwise).
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from lava_cli.emulator import ids, server, store
from lava_cli.emulator.openapi import build_document
from tests.helpers.emulators import serve_emulator
from tests.helpers.env import clean_env
from tests.helpers.fuzz import report

pytestmark = pytest.mark.slow  # security hunts: every wallet-scoped operation, file images searched

ROOT = Path(__file__).resolve().parents[2]


def _client(emulator: Any, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=emulator.root_url, headers=headers, timeout=10)


@pytest.fixture
def two_wallets(emulator: Any) -> Any:
    """Wallet A with a used key; wallet B, the intruder."""
    a = _client(emulator, emulator.secrets[0])
    b = _client(emulator, emulator.secrets[1])
    created = a.post("/v1/spend_keys", json={"name": "a-key"}).json()
    gateway = _client(emulator, created["key"])
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    assert gateway.post("/v1/chat/completions", json=body).status_code == 200
    yield emulator, a, b, created
    for c in (a, b, gateway):
        c.close()


def _operations() -> list[tuple[str, str]]:
    return [
        (method.upper(), path)
        for path, item in build_document()["paths"].items()
        for method in item
        if method in ("get", "post", "put", "delete")
    ]


def test_a_wallet_can_never_reach_another_wallets_keys(two_wallets, capsys):
    emulator, a, b, key = two_wallets
    key_id, raw = key["spend_key_id"], key["key"]
    before = a.get(f"/v1/spend_keys/{key_id}").json()
    request_id = a.get("/v1/requests").json()["data"][0]["request_id"]
    a_secrets = a.get("/v1/secret_keys").json()
    secret_key_id = a_secrets["data"][0]["secret_key_id"]
    a_cards = [m["payment_method_id"] for m in a.get("/v1/payment_methods").json()["data"]]
    a_balance = a.get("/v1/wallet").json()["balance"]
    checked: dict[tuple[str, str], int] = {}
    chat = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    anthropic = {"model": "claude-haiku-4-5", "max_tokens": 5, "messages": chat["messages"]}
    public = {"/v1/models", "/v1/services", "/openapi.json", "/auth/connect"}
    for method, path in _operations():
        url = path.replace("{key_id}", key_id)
        if path in public or path.startswith("/auth/") or path == "/v1/auth/callback":
            continue  # no wallet behind these: nothing to isolate
        if path.startswith("/wallet/confirm/"):
            continue  # the payment id is the capability (a 3-D Secure link), not a secret
        if "{key_id}" in path:
            body = {"name": "stolen", "status": "paused"} if method == "PUT" else None
            answer = b.request(method, url, json=body)
            assert answer.status_code == 404, (method, path, answer.text)
            assert key_id in answer.text or "No such" in answer.text
        elif path.endswith("spend_keys") and method == "GET":
            answer = b.get(url, params={"limit": 100})
            assert answer.status_code == 200 and key_id not in answer.text
        elif path.endswith("spend_keys") and method == "POST":
            answer = b.post(url, json={"name": "b-key"})
            assert answer.status_code == 201 and answer.json()["wallet_id"] != before["wallet_id"]
        elif path == "/v1/requests/{request_id}":
            answer = b.get(url.replace("{request_id}", request_id))
            assert answer.status_code == 404 and request_id in answer.text
        elif path == "/v1/secret_keys" and method == "GET":
            answer = b.get(url, params={"limit": 100})
            assert answer.status_code == 200 and secret_key_id not in answer.text
        elif path == "/v1/secret_keys" and method == "POST":
            answer = b.post(url, json={"name": "b-ci"})
            assert (
                answer.status_code == 201
                and answer.json()["secret_key_id"] not in a.get(url, params={"limit": 100}).text
            )
        elif path == "/v1/secret_keys/{secret_key_id}":
            answer = b.delete(url.replace("{secret_key_id}", secret_key_id))
            assert answer.status_code == 404
        elif path == "/v1/payment_methods":
            answer = b.get(url)
            b_cards = {m["payment_method_id"] for m in answer.json()["data"]}
            assert answer.status_code == 200 and b_cards.isdisjoint(a_cards)
        elif path == "/v1/wallet/fund":
            for card in a_cards:  # A's cards, each one: none pays into or from B
                answer = b.post(url, json={"payment_method_id": card, "amount": "25.00"})
                assert answer.status_code == 404, answer.text
        elif path == "/v1/requests":
            answer = b.get(url, params={"spend_key_id": key_id, "limit": 100})
            assert answer.status_code == 200 and answer.json()["data"] == []
            assert b.get(url).json()["data"] == []
        elif path == "/v1/usage":
            answer = b.get(url)
            assert answer.status_code == 200
            assert answer.json()["totals"]["total_requests"] == 0
        elif path == "/v1/wallet":
            answer = b.get(url)
            assert answer.json()["wallet_id"] != before["wallet_id"]
            assert answer.json()["balance"] == "100.00"  # A's spend is not B's
        elif path in ("/v1/chat/completions", "/v1/messages"):
            # B's secret is no spend key: it cannot spend, least of all A's budget.
            answer = b.post(url, json=chat if path.endswith("completions") else anthropic)
            assert answer.status_code == 401, (path, answer.text)
        else:
            raise AssertionError(f"no isolation check for {method} {path}: add one")
        checked[(method, path)] = answer.status_code
    after = a.get(f"/v1/spend_keys/{key_id}").json()
    assert after == before, "B's attempts changed A's key"
    assert a.get("/v1/secret_keys").json() == a_secrets, "B's attempts changed A's secrets"
    assert a.get("/v1/wallet").json()["balance"] == a_balance, "B moved A's money"
    models = _client(emulator, raw)
    assert models.get("/v1/models").status_code == 200  # A's raw key still works: not rotated
    models.close()
    report(
        capsys,
        f"isolation: {len(checked)} wallet-scoped operations tried with another wallet's "
        "secret, 0 reads, 0 changes, 0 spends",
    )
    assert len(checked) >= 23


def test_a_spend_key_is_refused_on_management_endpoints(two_wallets):
    _, _, _, key = two_wallets
    with httpx.Client(headers={"Authorization": f"Bearer {key['key']}"}, timeout=10) as c:
        base = two_wallets[0].root_url
        for path in ("/v1/spend_keys", "/v1/wallet", "/v1/requests", "/v1/usage"):
            assert c.get(base + path).status_code == 403


def _calls(function: Any) -> set[str]:
    tree = ast.parse(inspect.getsource(function).lstrip().replace("\n    ", "\n"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            target = node.func
            names.add(ast.unparse(target))
    return names


@pytest.mark.parametrize("method", ["wallet_for_secret", "key_for_raw"])
def test_secrets_are_found_by_hash_and_compared_in_constant_time(method):
    """A hash lookup, then hmac.compare_digest: no `==` on secrets anywhere on the path."""
    function = getattr(store.Store, method)
    calls = _calls(function)
    assert "ids.hash_secret" in calls
    assert "hmac.compare_digest" in calls
    source = inspect.getsource(function)
    assert re.search(r"WHERE \w+_hash = \?", source), "must look the row up by hash"
    assert "sha256" in inspect.getsource(ids.hash_secret)


def test_no_raw_secret_is_compared_with_equals_in_the_emulator():
    offenders = []
    for path in sorted((ROOT / "lava_cli" / "emulator").glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare) and any(
                isinstance(op, (ast.Eq, ast.NotEq)) for op in node.ops
            ):
                text = ast.unparse(node)
                if (
                    re.search(r"\b(secret|raw_key|raw|token|api_key)\b", text)
                    and "None" not in text
                ):
                    offenders.append(f"{path.name}: {text}")
    assert offenders == []


def test_the_database_holds_only_hashes_of_raw_keys(tmp_path, capsys):
    db = tmp_path / "emu.sqlite3"
    secret = "aks_test_" + "Q" * 32
    raws: list[str] = []
    with server.start_in_thread(db_path=str(db), secrets=[secret]) as emu:
        c = _client(emu, secret)
        for n in range(5):
            key = c.post("/v1/spend_keys", json={"name": f"k{n}"}).json()
            raws.append(key["key"])
            rotated = c.post(f"/v1/spend_keys/{key['spend_key_id']}/rotate").json()
            raws.append(rotated["key"])
            g = _client(emu, rotated["key"])
            body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
            assert g.post("/v1/chat/completions", json=body).status_code == 200
            g.close()
        c.close()
        files = sorted(tmp_path.iterdir())
        blobs = {p.name: p.read_bytes() for p in files}  # WAL included, before checkpoint
    blobs.update({f"{p.name} (closed)": p.read_bytes() for p in sorted(tmp_path.iterdir())})
    hits = sum(
        blob.count(value.encode()) + blob.count(value[len("lava_sk_") + 8 :].encode())
        for blob in blobs.values()
        for value in [*raws, secret]
    )
    hashes = sum(blob.count(ids.hash_secret(raws[-1]).encode()) for blob in blobs.values())
    report(
        capsys,
        f"database: {len(raws)} raw keys + 1 secret searched in {len(blobs)} file images "
        f"({sum(map(len, blobs.values()))} bytes): {hits} raw occurrences",
    )
    assert hits == 0
    assert hashes >= 1, "the hashes themselves should be there (the search works)"


def test_binds_loopback_by_default():
    assert inspect.signature(server.serve).parameters["host"].default == "127.0.0.1"
    assert inspect.signature(server.start_in_thread).parameters["host"].default == "127.0.0.1"
    from lava_cli.cli import emulator as cli

    assert inspect.signature(cli.serve).parameters["host"].default == "127.0.0.1"


def _serve(tmp_path: Path, *extra: str) -> tuple[str, str]:
    """Start `lava emulator serve --port 0` and return (first stdout line with the URL, stderr)."""
    env = clean_env(LAVA_CONFIG_DIR=str(tmp_path / "cfg"))
    served = serve_emulator(["--db", str(tmp_path / "db.sqlite3"), *extra], env)
    return served.export_line, served.stop(timeout=10)


def test_serve_listens_on_loopback_by_default_and_says_nothing(tmp_path):
    line, err = _serve(tmp_path)
    assert line.startswith("export LAVA_BASE_URL=http://127.0.0.1:")
    assert "WARNING" not in err


def test_serve_warns_loudly_on_another_interface(tmp_path):
    line, err = _serve(tmp_path, "--host", "0.0.0.0")
    # The URL printed is one a client can call (0.0.0.0 is nobody's address).
    assert "LAVA_BASE_URL=http://127.0.0.1:" in line
    assert "WARNING: listening on 0.0.0.0, which is not a loopback address" in err
