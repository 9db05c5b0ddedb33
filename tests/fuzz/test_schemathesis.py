"""Schema fuzzing of the emulator with schemathesis, from its own /openapi.json.

Every operation in the document gets generated requests (positive and negative data)
sent over a real socket to a running emulator; schemathesis checks each answer: no
5xx, a documented status, a documented content type and headers, a body matching the
documented schema. Figure: 0 server errors, 0 non-conforming answers.

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
    statuses: Counter[int] = Counter()
    per_operation: Counter[str] = Counter()

    @fuzz_settings(400)
    @given(st.data())
    def run(data: Any) -> None:
        operation = data.draw(st.sampled_from(operations))
        mode = data.draw(st.sampled_from([GenerationMode.POSITIVE, GenerationMode.NEGATIVE]))
        case = data.draw(operation.as_strategy(generation_mode=mode))
        path = operation.path
        live = store.list_keys(wallet_a, limit=10).data
        if operation.method.upper() == "POST" and path.endswith("spend_keys") and len(live) >= 10:
            for key in live:  # keep room for creates, so 201s stay reachable
                store.revoke_key(wallet_a, key.spend_key_id)
            live = []
        if "{key_id}" in path and data.draw(st.booleans()):
            if not live:
                live = [store.create_key(wallet_a, KeySettings(name="fuzz"))[0]]
            case.path_parameters = {"key_id": live[0].spend_key_id}
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

    run()
    total = sum(statuses.values())
    report(
        capsys,
        f"schemathesis: {total} requests over {len(per_operation)}/{len(operations)} operations, "
        f"0 server errors, 0 answers breaking the document; statuses {dict(sorted(statuses.items()))}",
    )
    assert total >= 400
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
