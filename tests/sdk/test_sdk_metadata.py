"""Metadata set through the official SDKs' own parameters lands on the request record
and is what ``metadata_filters`` finds: OpenAI's ``metadata=`` on chat completions,
Anthropic's ``metadata={"user_id": …}`` on messages, and Lava's ``X-Lava-Metadata-*``
headers through each SDK's ``extra_headers``."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.helpers.gateway import Emu

pytestmark = pytest.mark.slow  # the official SDKs: ~3 s to import, collected only by make test

HI: Any = [{"role": "user", "content": "hi"}]


def _find(emu: Emu, **params: str) -> list[dict[str, Any]]:
    answer = emu.http.get("/v1/requests", params={"limit": "100", **params})
    assert answer.status_code == 200, answer.text
    data: list[dict[str, Any]] = answer.json()["data"]
    return data


def test_openai_sdk_metadata_parameter_and_extra_headers(emu: Emu) -> None:
    _, raw = emu.create_key()
    client = emu.openai(raw)
    plain = client.chat.completions.create(
        model="gpt-4o-mini", messages=HI, metadata={"feature": "chat", "session": "s-1"}
    )
    emu.clock.advance(seconds=1)  # newest first: one call per second
    streamed = list(
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=HI,
            stream=True,
            metadata={"feature": "chat"},
            extra_headers={"X-Lava-Metadata-Team": "red", "X-Lava-Customer-Id": "con_1"},
        )
    )
    emu.clock.advance(seconds=1)
    client.chat.completions.create(model="gpt-4o-mini", messages=HI)  # untagged
    found = _find(emu, metadata_filters=json.dumps([["feature", "chat"]]))
    assert [r["metadata"] for r in found] == [
        {"feature": "chat", "team": "red"},
        {"feature": "chat", "session": "s-1"},
    ]
    assert [r["response_id"] for r in found] == [streamed[0].id, plain.id]
    assert found[0]["customer_id"] == "con_1" and found[1]["customer_id"] is None
    assert [r["metadata"] for r in _find(emu, customer_id="con_1")] == [found[0]["metadata"]]


def test_anthropic_sdk_metadata_user_id(emu: Emu) -> None:
    _, raw = emu.create_key(request_shape="anthropic")
    client = emu.anthropic(raw)
    message = client.messages.create(
        model="claude-haiku-4-5",
        max_tokens=5,
        messages=HI,
        metadata={"user_id": "u-42"},
        extra_headers={"x-lava-meter-id": "prd_chat"},
    )
    with client.messages.stream(
        model="claude-haiku-4-5",
        max_tokens=5,
        messages=HI,
        metadata={"user_id": "u-43"},
    ) as stream:
        streamed = stream.get_final_message()
    found = _find(emu, metadata_filters=json.dumps([["user_id", "u-42"]]))
    assert len(found) == 1
    assert found[0]["response_id"] == message.id and found[0]["meter_id"] == "prd_chat"
    [other] = _find(emu, metadata_filters=json.dumps([["user_id", "u-43"]]))
    assert other["response_id"] == streamed.id and other["status"] == "completed"
