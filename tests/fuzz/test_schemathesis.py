"""Schema fuzzing of the emulator with schemathesis, from its own /openapi.json.

Every operation in the document gets generated requests (positive and negative data)
sent over a real socket to a running emulator, in turn, so none is left out;
schemathesis checks each answer: no 5xx, a documented status, a documented content
type and headers, a body matching the documented schema. Real ids (spend keys,
request records, secret keys, cards, payments) are swapped in half of the time, so
the fuzzer reaches the answers behind them too. Figure: 0 server errors, 0
non-conforming answers, every operation covered.

A second test keeps the document and the routes in step both ways.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from lava_cli.emulator import secretkeys
from lava_cli.emulator.openapi import build_document
from lava_cli.emulator.schema import KeySettings
from lava_cli.emulator.server import build_app, start_in_thread
from lava_cli.emulator.store import Store
from tests.helpers.fuzz import fuzz_settings, report

pytestmark = pytest.mark.slow  # fuzzing the whole OpenAPI document

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
SECRET_A = "aks_test_" + "S" * 32  # the fuzzed management wallet
SECRET_B = "aks_test_" + "T" * 32  # owns the gateway keys, never fuzzed directly


@pytest.fixture(scope="module")
def emu() -> Any:
    with start_in_thread(secrets=[SECRET_A, SECRET_B]) as handle:
        yield handle


def _wallet(emu: Any, secret: str) -> str:
    return str(emu.store.wallet_for_secret(secret).wallet_id)


def _real_ids(emu: Any) -> dict[str, Any]:
    """Ids of wallet A's things the fuzzer swaps in: a request record, its cards, a
    payment waiting on the confirmation page."""
    a = httpx.Client(base_url=emu.base_url, headers={"Authorization": f"Bearer {SECRET_A}"})
    raw = a.post("/spend_keys", json={"name": "fuzz-gateway"}).json()["key"]
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    answer = httpx.post(
        emu.base_url + "/chat/completions", json=body, headers={"Authorization": f"Bearer {raw}"}
    )
    cards = [m["payment_method_id"] for m in a.get("/payment_methods").json()["data"]]
    waiting = a.post("/wallet/fund", json={"payment_method_id": cards[1], "amount": "10.00"})
    a.close()
    return {
        "request_id": answer.headers["x-lava-request-id"],
        "cards": cards,
        "payment_id": waiting.json()["payment_id"],
    }


def test_emulator_answers_conform_to_its_openapi_document(emu, capsys):
    raw = httpx.get(emu.root_url + "/openapi.json").json()
    schema = schemathesis.openapi.from_dict(raw)
    operations = [result.ok() for result in schema.get_all_operations()]
    store: Store = emu.store
    wallet_a, wallet_b = _wallet(emu, SECRET_A), _wallet(emu, SECRET_B)
    gateway_keys = {
        shape: store.create_key(wallet_b, KeySettings(name=shape, request_shape=shape))[1]
        for shape in ("openai", "anthropic")
    }
    real = _real_ids(emu)
    statuses: Counter[int] = Counter()
    per_operation: Counter[str] = Counter()
    each = -(-480 // len(operations))  # ~480 requests in all, split evenly (a run with
    # nothing to vary, e.g. GET /openapi.json, stops early: at least 400 arrive)

    def run(operation: Any, data: Any) -> None:
        mode = data.draw(st.sampled_from([GenerationMode.POSITIVE, GenerationMode.NEGATIVE]))
        case = data.draw(operation.as_strategy(generation_mode=mode))
        path = operation.path
        real_ids = data.draw(st.booleans())
        live = store.list_keys(wallet_a, limit=10).data
        if operation.method.upper() == "POST" and path.endswith("spend_keys") and len(live) >= 10:
            for key in live:  # keep room for creates, so 201s stay reachable
                store.revoke_key(wallet_a, key.spend_key_id)
            live = []
        if "{key_id}" in path and real_ids:
            if not live:
                live = [store.create_key(wallet_a, KeySettings(name="fuzz"))[0]]
            case.path_parameters = {"key_id": live[0].spend_key_id}
        if "{request_id}" in path and real_ids:
            case.path_parameters = {"request_id": real["request_id"]}
        if "{payment_id}" in path and real_ids:
            case.path_parameters = {"payment_id": real["payment_id"]}
        if "{secret_key_id}" in path and real_ids:
            # a secret minted for the purpose: wallet A's own secret must keep working
            minted, _ = secretkeys.mint(store, store.get_wallet(wallet_a), "fuzz")
            case.path_parameters = {"secret_key_id": minted.secret_key_id}
        if path == "/v1/wallet/fund" and real_ids and mode is GenerationMode.POSITIVE:
            card = data.draw(st.sampled_from(real["cards"]))
            amount = data.draw(st.sampled_from(["10.00", "25", "9999.99", "10000.00"]))
            case.body = {"payment_method_id": card, "amount": amount}
        if path in ("/v1/chat/completions", "/v1/messages"):
            shape = "openai" if path.endswith("completions") else "anthropic"
            token = data.draw(st.sampled_from([gateway_keys[shape], gateway_keys[shape], SECRET_A]))
        else:
            token = data.draw(st.sampled_from([SECRET_A, SECRET_A, SECRET_A, "aks_test_nope"]))
        headers = dict(case.headers or {})
        headers.pop("x-api-key", None)
        headers["Authorization"] = f"Bearer {token}"
        case.headers = headers
        response = case.call_and_validate(base_url=emu.root_url, checks=CHECKS)
        statuses[response.status_code] += 1
        per_operation[f"{operation.method.upper()} {path}"] += 1

    def fuzzer(operation: Any) -> Any:
        @fuzz_settings(each)
        @given(st.data())
        def fuzz(data: Any) -> None:
            run(operation, data)

        return fuzz

    for operation in operations:  # one run per operation: none left out
        fuzzer(operation)()
    total = sum(statuses.values())
    report(
        capsys,
        f"schemathesis: {total} requests over {len(per_operation)}/{len(operations)} operations, "
        f"0 server errors, 0 answers breaking the document; statuses {dict(sorted(statuses.items()))}",
    )
    assert total >= 400
    assert len(per_operation) == len(operations), "every operation gets requests"
    assert statuses[200] and statuses[400], "the fuzzer should reach successes and refusals"


def _routes() -> set[tuple[str, str]]:
    app = build_app(Store(None))
    pairs = set()
    for route in app.routes:
        for method in getattr(route, "methods", None) or ():
            if method != "HEAD":
                pairs.add((route.path, method.lower()))  # type: ignore[attr-defined]
    return pairs


def _documented() -> set[tuple[str, str]]:
    return {
        (path, method)
        for path, item in build_document()["paths"].items()
        for method in item
        if method in ("get", "post", "put", "delete", "patch")
    }


def test_document_and_routes_are_in_step():
    routes, documented = _routes(), _documented()
    assert routes - documented == set(), "routes the OpenAPI document does not describe"
    assert documented - routes == set(), "documented operations the emulator does not serve"


def test_document_is_served_and_valid_openapi(emu):
    answer = httpx.get(emu.root_url + "/openapi.json")
    assert answer.status_code == 200
    assert answer.json() == build_document()
    assert answer.json()["openapi"].startswith("3.1")
