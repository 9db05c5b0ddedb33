"""The official `openai` SDK against the emulator's /v1/chat/completions, unchanged."""

from __future__ import annotations

import openai
import pytest

from tests.helpers.gateway import Emu

pytestmark = pytest.mark.slow  # the official SDK: ~1 s to import, collected only by make test

MESSAGES: list[dict[str, str]] = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hello there, how are you?"},
]


def test_plain_completion(emu: Emu) -> None:
    _, raw = emu.create_key()
    client = emu.openai(raw)
    raw_response = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
        max_tokens=10,  # type: ignore[arg-type]
    )
    assert raw_response.headers["x-lava-request-id"].startswith("req_")
    completion = raw_response.parse()
    assert completion.object == "chat.completion"
    assert completion.model == "gpt-4o-mini"
    choice = completion.choices[0]
    assert choice.message.role == "assistant" and choice.message.content
    assert choice.finish_reason == "length"  # the natural reply is 64 tokens
    assert completion.usage is not None
    # "Be brief." = 3 tokens, "Hello there, how are you?" = 7 tokens
    assert completion.usage.prompt_tokens == 10
    assert completion.usage.completion_tokens == 10
    assert completion.usage.total_tokens == 20
    again = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, max_tokens=10)  # type: ignore[arg-type]
    assert again.choices[0].message.content == choice.message.content


def test_natural_stop_without_max_tokens(emu: Emu) -> None:
    _, raw = emu.create_key()
    completion = emu.openai(raw).chat.completions.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.completion_tokens == 64


def test_streaming_with_usage(emu: Emu) -> None:
    _, raw = emu.create_key()
    client = emu.openai(raw)
    plain = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, max_tokens=12)  # type: ignore[arg-type]
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,  # type: ignore[arg-type]
        max_tokens=12,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == plain.choices[0].message.content
    finish = [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ]
    assert finish == ["length"]
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    assert last.usage.completion_tokens == 12 and last.usage.prompt_tokens == 10
    assert all(c.usage is None for c in chunks[:-1])


def test_streaming_without_usage_ends_with_done(emu: Emu) -> None:
    _, raw = emu.create_key()
    with emu.http.stream(
        "POST",
        "/v1/chat/completions",
        json={"model": "gpt-4o", "messages": MESSAGES, "stream": True, "max_tokens": 3},
        headers={"authorization": f"Bearer {raw}"},
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["x-lava-request-id"].startswith("req_")
        lines = [line for line in response.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    assert len(lines) == 1 + 3 + 1 + 1  # role chunk, 3 tokens, finish chunk, [DONE]
    assert '"usage"' not in "".join(lines)


def test_openai_key_may_call_any_provider(emu: Emu) -> None:
    _, raw = emu.create_key()
    completion = emu.openai(raw).chat.completions.create(
        model="claude-opus-4-6",
        messages=MESSAGES,
        max_tokens=5,  # type: ignore[arg-type]
    )
    assert completion.model == "claude-opus-4-6"


def test_authentication_error(emu: Emu) -> None:
    with pytest.raises(openai.AuthenticationError) as info:
        emu.openai("lava_sk_nope").chat.completions.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
    assert info.value.status_code == 401
    assert info.value.code == "invalid_api_key"
    assert info.value.response.headers["x-lava-request-id"].startswith("req_")


def test_permission_denied_for_wrong_shape_and_model(emu: Emu) -> None:
    _, anthropic_raw = emu.create_key(request_shape="anthropic")
    with pytest.raises(openai.PermissionDeniedError) as shape:
        emu.openai(anthropic_raw).chat.completions.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
    assert shape.value.code == "wrong_request_shape"
    assert "/v1/messages" in shape.value.message

    _, raw = emu.create_key(allowed_models=["gpt-4o-mini"])
    with pytest.raises(openai.PermissionDeniedError) as model:
        emu.openai(raw).chat.completions.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
    assert model.value.code == "model_not_allowed"


def test_bad_request_and_unknown_model(emu: Emu) -> None:
    _, raw = emu.create_key()
    client = emu.openai(raw)
    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(model="gpt-4o", messages=[])
    assert bad.value.code == "invalid_request" and "messages" in bad.value.message
    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="gpt-9", messages=MESSAGES)  # type: ignore[arg-type]
    assert missing.value.code == "model_not_found"


def test_rate_limit_error_has_retry_after(emu: Emu) -> None:
    _, raw = emu.create_key(rate_limit={"rpm": 60, "burst": 1})
    client = emu.openai(raw)
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, max_tokens=1)  # type: ignore[arg-type]
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, max_tokens=1)  # type: ignore[arg-type]
    assert info.value.code == "rate_limit_exceeded"
    assert info.value.response.headers["retry-after"] == "1"


def test_spend_limit_is_a_402_status_error(emu: Emu) -> None:
    # 10 + 64 tokens of gpt-4o: 10*2.5/1e6 + 64*10/1e6 = 0.000665 per request: 15 fit in $0.01
    _, raw = emu.create_key(spend_limit={"amount": "0.01", "cycle": "daily"})
    client = emu.openai(raw)
    for _ in range(15):
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
    with pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
    assert info.value.status_code == 402
    assert info.value.code == "spend_limit_exceeded"
    assert "$0.01" in info.value.message and "2025-01-16T00:00:00Z" in info.value.message
    assert info.value.response.headers["x-should-retry"] == "false"
