"""Never a 500 on bad input: arbitrary JSON bodies, hostile paths and queries."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FIELDS = [
    "name", "status", "request_shape", "allowed_models", "allowed_providers",
    "spend_limit", "request_limit", "rate_limit", "expires_at",
]  # fmt: skip
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
values = st.recursive(
    scalars | st.sampled_from(["daily", "total", "5.00", "active", "openai"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["amount", "cycle", "count", "rpm", "burst"]), inner)
    ),
    max_leaves=6,
)
bodies = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), values, max_size=5)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=bodies | values)
def test_arbitrary_bodies_get_an_answer_never_a_500(api: httpx.Client, body: Any) -> None:
    created = api.post("/spend_keys", json=body)
    assert created.status_code in (201, 400, 409), created.text
    assert "error" in created.json() or created.status_code == 201
    if created.status_code == 201:
        api.delete(f"/spend_keys/{created.json()['spend_key_id']}")
    page = api.get("/spend_keys", params={"limit": 1}).json()["data"]
    if page:
        updated = api.put(f"/spend_keys/{page[0]['spend_key_id']}", json=body)
        assert updated.status_code in (200, 400), updated.text


@pytest.mark.parametrize(
    ("method", "path", "content"),
    [
        ("POST", "/spend_keys", b"[" * 100_000 + b"]" * 100_000),
        ("POST", "/spend_keys", b'{"name": "\\ud800"}'),
        ("POST", "/spend_keys", b'{"name": "k", "allowed_models": ["\\udfff"]}'),
        ("POST", "/spend_keys", b'{"name": NaN}'),
        ("POST", "/spend_keys", b'{"name": "k", "request_limit": {"count": Infinity}}'),
        ("GET", "/spend_keys/%00%ff", b""),
        ("GET", "/spend_keys?limit=99999999999999999999999", b""),
        ("GET", "/spend_keys?cursor=%00", b""),
        ("GET", "/services?provider=%00", b""),
        ("PUT", "/spend_keys/" + "x" * 5000, b"{}"),
    ],
)
def test_hostile_requests_are_answered_in_json(
    api: httpx.Client, method: str, path: str, content: bytes
) -> None:
    r = api.request(method, path, content=content)
    assert r.status_code < 500, r.text
    assert r.headers["content-type"] == "application/json"
