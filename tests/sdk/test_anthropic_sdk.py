"""The official `anthropic` SDK against the emulator's /v1/messages, unchanged."""

from __future__ import annotations

import json

import anthropic
import httpx
import pytest

from tests.helpers.gateway import Emu

pytestmark = pytest.mark.slow  # the official SDK: ~2 s to import, collected only by make test

MESSAGES: list[dict[str, str]] = [{"role": "user", "content": "Tell me about lava."}]
MODEL = "claude-haiku-4-5"


def test_plain_message(emu: Emu) -> None:
    _, raw = emu.create_key(request_shape="anthropic")
    client = emu.anthropic(raw)
    response = client.messages.with_raw_response.create(
        model=MODEL,
        max_tokens=200,
        system="Be brief.",
        messages=MESSAGES,  # type: ignore[arg-type]
    )
    assert response.headers["x-lava-request-id"].startswith("req_")
    message = response.parse()
    assert message.type == "message" and message.role == "assistant"
    assert message.model == MODEL
    assert message.content[0].type == "text" and message.content[0].text
    assert message.stop_reason == "end_turn"
    # "Be brief." 3 + "Tell me about lava." 5
    assert message.usage.input_tokens == 8
    assert message.usage.output_tokens == 64


def test_max_tokens_cuts_the_reply(emu: Emu) -> None:
    _, raw = emu.create_key(request_shape="anthropic")
    message = emu.anthropic(raw).messages.create(model=MODEL, max_tokens=7, messages=MESSAGES)  # type: ignore[arg-type]
    assert message.stop_reason == "max_tokens"
    assert message.usage.output_tokens == 7


def test_streaming_helper_reassembles_the_message(emu: Emu) -> None:
    _, raw = emu.create_key(request_shape="anthropic")
    client = emu.anthropic(raw)
    plain = client.messages.create(model=MODEL, max_tokens=20, messages=MESSAGES)  # type: ignore[arg-type]
    with client.messages.stream(model=MODEL, max_tokens=20, messages=MESSAGES) as stream:  # type: ignore[arg-type]
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == plain.content[0].text  # type: ignore[union-attr]
    assert final.stop_reason == "max_tokens"
    assert final.usage.output_tokens == 20 and final.usage.input_tokens == 5


def test_stream_event_sequence(emu: Emu) -> None:
    _, raw = emu.create_key(request_shape="anthropic")
    with httpx.stream(
        "POST",
        emu.root + "/v1/messages",
        json={"model": MODEL, "max_tokens": 3, "messages": MESSAGES, "stream": True},
        headers={"x-api-key": raw, "anthropic-version": "2023-06-01"},
    ) as response:
        assert response.status_code == 200
        assert response.headers["x-lava-request-id"].startswith("req_")
        lines = [line for line in response.iter_lines() if line]
    events = [line.removeprefix("event: ") for line in lines if line.startswith("event: ")]
    assert events == [
        "message_start",
        "content_block_start",
        "ping",
        "content_block_delta",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    data = [json.loads(line.removeprefix("data: ")) for line in lines if line.startswith("data: ")]
    assert [d["type"] for d in data] == events
    assert data[-2]["usage"] == {"output_tokens": 3}
    assert data[-2]["delta"]["stop_reason"] == "max_tokens"


def test_bearer_auth_works_on_messages(emu: Emu) -> None:
    """Claude Code's ANTHROPIC_AUTH_TOKEN sends Authorization: Bearer."""
    _, raw = emu.create_key(request_shape="anthropic")
    client = anthropic.Anthropic(base_url=emu.root, auth_token=raw, max_retries=0)
    assert client.messages.create(model=MODEL, max_tokens=2, messages=MESSAGES).content  # type: ignore[arg-type]


def test_authentication_error(emu: Emu) -> None:
    with pytest.raises(anthropic.AuthenticationError) as info:
        emu.anthropic("lava_sk_unknown").messages.create(
            model=MODEL, max_tokens=5, messages=MESSAGES
        )  # type: ignore[arg-type]
    assert info.value.body == {
        "type": "error",
        "error": {
            "type": "authentication_error",
            "message": "Invalid API key",
            "code": "invalid_api_key",
        },
    }
    assert info.value.response.headers["x-lava-request-id"].startswith("req_")


def test_permission_errors(emu: Emu) -> None:
    _, openai_raw = emu.create_key()
    with pytest.raises(anthropic.PermissionDeniedError) as shape:
        emu.anthropic(openai_raw).messages.create(model=MODEL, max_tokens=5, messages=MESSAGES)  # type: ignore[arg-type]
    assert shape.value.body["error"]["type"] == "permission_error"  # type: ignore[index]
    assert "/v1/chat/completions" in shape.value.message

    _, raw = emu.create_key(request_shape="anthropic", allowed_providers=["openai"])
    with pytest.raises(anthropic.PermissionDeniedError) as provider:
        emu.anthropic(raw).messages.create(model=MODEL, max_tokens=5, messages=MESSAGES)  # type: ignore[arg-type]
    assert provider.value.body["error"]["code"] == "provider_not_allowed"  # type: ignore[index]


def test_invalid_requests(emu: Emu) -> None:
    _, raw = emu.create_key(request_shape="anthropic")
    response = httpx.post(
        emu.root + "/v1/messages",
        json={"model": MODEL, "messages": MESSAGES},
        headers={"x-api-key": raw},
    )
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert "max_tokens" in response.json()["error"]["message"]
    with pytest.raises(anthropic.BadRequestError):
        emu.anthropic(raw).messages.create(model="gpt-4o", max_tokens=5, messages=MESSAGES)  # type: ignore[arg-type]
    with pytest.raises(anthropic.NotFoundError):
        emu.anthropic(raw).messages.create(model="claude-9", max_tokens=5, messages=MESSAGES)  # type: ignore[arg-type]


def test_rate_and_request_limits_raise_rate_limit_error(emu: Emu) -> None:
    _, raw = emu.create_key(
        request_shape="anthropic", request_limit={"count": 1, "cycle": "weekly"}
    )
    client = emu.anthropic(raw)
    client.messages.create(model=MODEL, max_tokens=1, messages=MESSAGES)  # type: ignore[arg-type]
    with pytest.raises(anthropic.RateLimitError) as info:
        client.messages.create(model=MODEL, max_tokens=1, messages=MESSAGES)  # type: ignore[arg-type]
    assert info.value.body["error"]["type"] == "rate_limit_error"  # type: ignore[index]
    assert info.value.body["error"]["code"] == "request_limit_exceeded"  # type: ignore[index]
    # Wednesday 12:00 -> Monday 00:00 is 4.5 days
    assert info.value.response.headers["retry-after"] == str(int(4.5 * 86400))


def test_spend_limit_raises_payment_required(emu: Emu) -> None:
    key_id, raw = emu.create_key(
        request_shape="anthropic", spend_limit={"amount": "0.01", "cycle": "total"}
    )
    client = emu.anthropic(raw)
    # 5 in + 64 out of Haiku: 5*1/1e6 + 64*5/1e6 = 0.000325; 30 fit in $0.01
    for _ in range(30):
        client.messages.create(model=MODEL, max_tokens=64, messages=MESSAGES)  # type: ignore[arg-type]
    with pytest.raises(anthropic.PaymentRequiredError) as info:
        client.messages.create(model=MODEL, max_tokens=64, messages=MESSAGES)  # type: ignore[arg-type]
    assert info.value.status_code == 402
    assert info.value.body["error"]["type"] == "billing_error"  # type: ignore[index]
    assert "never resets" in info.value.message
    assert emu.key(key_id)["current_spend"] == "0.00975"
