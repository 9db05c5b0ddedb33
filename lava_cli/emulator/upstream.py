"""Forwarding a model to a real provider instead of the offline model (replies.py).

The operator maps models to providers (``lava emulator serve --upstream
MODEL=SHAPE:BASE_URL``, key from ``LAVA_UPSTREAM_API_KEY``). A forwarded reply, and so
its cost, is unknown up front, so the money works in two steps:

1. Reserve (`reserve`): the worst case, input tokens by our tokenizer plus
   ``max_tokens`` (or `RESERVE_TOKENS` when the request sets none), priced from the
   catalogue. The gateway admits the request against the key's limits with that charge,
   exactly as for the offline model (ledger.py), so the spend limit still holds.
2. Settle (`Forwarder`): once the provider's answer is complete (for a stream: when it
   ends or the client goes away), the request is re-priced at the usage the provider
   reported, never above the reservation (the output part gives way first). No usage
   reported: the reservation stands. A failed call (not 200, or a network error) is
   settled at zero.

The request's record is ``pending`` from admission until it settles, then
``completed`` (with the provider's answer id as its ``response_id``) or ``error``.

The provider's answer, errors included, is passed on as it came; a network error is a
502 ``upstream_error`` in the endpoint's shape (the gateway writes it).
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from starlette.responses import Response, StreamingResponse

from lava_cli.emulator.catalogue import Costs, Model, get_model, price
from lava_cli.emulator.contract import COMPLETED, ERROR, PENDING, SHAPE_ENDPOINTS, SHAPES
from lava_cli.emulator.ledger import Charge, Ledger
from lava_cli.emulator.limits import Refusal
from lava_cli.emulator.schema import Tags

if TYPE_CHECKING:
    import httpx

RESERVE_TOKENS = 4096


@dataclass(frozen=True)
class Upstream:
    """A provider endpoint a model is forwarded to, in the wire format it speaks.

    openai: ``POST {base_url}/chat/completions`` with ``Authorization: Bearer``
    (base_url like ``https://api.openai.com/v1``); anthropic: ``POST
    {base_url}/v1/messages`` with ``x-api-key`` (base_url like
    ``https://api.anthropic.com``). `model` renames the model for the upstream.
    """

    shape: str
    base_url: str
    api_key: str
    model: str | None = None

    def url(self) -> str:
        base = self.base_url.rstrip("/")
        return base + ("/chat/completions" if self.shape == "openai" else "/v1/messages")

    def headers(self, anthropic_version: str | None = None) -> dict[str, str]:
        if self.shape == "openai":
            return {"authorization": f"Bearer {self.api_key}"}
        return {"x-api-key": self.api_key, "anthropic-version": anthropic_version or "2023-06-01"}


def parse_upstream(text: str, api_key: str) -> tuple[str, Upstream]:
    """``MODEL=SHAPE:BASE_URL`` (e.g. ``gpt-4o=openai:https://api.openai.com/v1``)."""
    model, sep, rest = text.partition("=")
    shape, colon, base_url = rest.partition(":")
    if not sep or not colon or not model.strip() or shape not in SHAPES:
        raise ValueError(
            f"upstream {text!r}: write MODEL=SHAPE:BASE_URL with SHAPE openai or anthropic, "
            "e.g. gpt-4o=openai:https://api.openai.com/v1"
        )
    if not base_url.startswith(("http://", "https://")):
        raise ValueError(f"upstream {text!r}: the base URL must start with http:// or https://")
    return model.strip(), Upstream(shape, base_url, api_key)


def reserve(
    model: Model,
    upstream: Upstream,
    shape: str,
    input_tokens: int,
    max_tokens: int | None,
    tags: Tags | None = None,
) -> Charge | Refusal:
    """Step 1: the worst-case charge of forwarding a request that came in on `shape`'s
    endpoint (recorded ``pending``), or a 400 when the provider speaks the other shape
    (we do not translate)."""
    if upstream.shape != shape:
        return Refusal(
            400,
            "invalid_request",
            f"model: {model.id!r} is forwarded to an {upstream.shape}-shape provider; "
            f"call it through {SHAPE_ENDPOINTS[upstream.shape]}",
        )
    output_tokens = max_tokens or RESERVE_TOKENS
    return Charge(
        model.id,
        model.provider,
        SHAPE_ENDPOINTS[shape],
        input_tokens,
        output_tokens,
        price(model, input_tokens, output_tokens),
        status=PENDING,
        tags=tags or Tags(),
    )


def id_of(obj: Any) -> str | None:
    """The answer's id an upstream sent in a body or stream event (a chat completion
    or a chunk of one, a message or its ``message_start``), if any."""
    if not isinstance(obj, Mapping):
        return None
    if obj.get("type") == "message_start":
        obj = obj.get("message") or {}
    found = obj.get("id") if isinstance(obj, Mapping) else None
    return found if isinstance(found, str) and found else None


def usage_of(shape: str, obj: Any) -> tuple[int | None, int | None]:
    """(input, output) tokens an upstream reported in a body or stream event, if any."""
    if not isinstance(obj, Mapping):
        return None, None
    if obj.get("type") == "message_start":
        obj = obj.get("message") or {}
    usage = obj.get("usage")
    if not isinstance(usage, Mapping):
        return None, None
    first, second = (
        ("prompt_tokens", "completion_tokens")
        if shape == "openai"
        else ("input_tokens", "output_tokens")
    )
    used_in, used_out = usage.get(first), usage.get(second)
    return (
        used_in if isinstance(used_in, int) else None,
        used_out if isinstance(used_out, int) else None,
    )


class StreamMeter:
    """Watches an upstream SSE stream go by and keeps the usage it reports and the id
    of the answer (from the first event that carries one)."""

    def __init__(self, shape: str) -> None:
        self.shape = shape
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.response_id: str | None = None
        self._partial = b""

    def feed(self, chunk: bytes) -> None:
        lines = (self._partial + chunk).split(b"\n")
        self._partial = lines.pop()
        for line in lines:
            if not line.startswith(b"data:"):
                continue
            if self.response_id is not None and b"usage" not in line:
                continue
            try:
                obj = json.loads(line[5:])
            except ValueError:
                continue
            self.response_id = self.response_id or id_of(obj)
            used_in, used_out = usage_of(self.shape, obj)
            self.input_tokens = used_in if used_in is not None else self.input_tokens
            self.output_tokens = used_out if used_out is not None else self.output_tokens


@dataclass(frozen=True)
class Outcome:
    """How a forwarded call ended: `ok` (a complete 200), the usage the provider
    reported (None when it did not), and the id of its answer."""

    ok: bool
    input_tokens: int | None = None
    output_tokens: int | None = None
    response_id: str | None = None


Settle = Callable[[Outcome], None]


async def forward(
    client: httpx.AsyncClient,
    upstream: Upstream,
    body: dict[str, Any],
    *,
    stream: bool,
    anthropic_version: str | None,
    settle: Settle,
) -> tuple[int, bytes | AsyncIterator[bytes]]:
    """Send `body` to `upstream`; answer (status, whole body or stream of raw chunks).

    `settle(outcome)` is called exactly once: when the answer is complete (for a
    stream, when it ends or is abandoned). Network errors raise httpx.HTTPError after
    settling as failed.
    """
    import httpx

    if upstream.model:
        body = {**body, "model": upstream.model}
    request = client.build_request(
        "POST", upstream.url(), json=body, headers=upstream.headers(anthropic_version)
    )
    try:
        response = await client.send(request, stream=stream)
    except httpx.HTTPError:
        settle(Outcome(False))
        raise
    if response.status_code != 200 or not stream:
        content = await response.aread()
        await response.aclose()
        outcome = Outcome(False)
        if response.status_code == 200:
            answer: Any = None
            with contextlib.suppress(ValueError):
                answer = json.loads(content)
            outcome = Outcome(True, *usage_of(upstream.shape, answer), id_of(answer))
        settle(outcome)
        return response.status_code, content

    async def relay() -> AsyncIterator[bytes]:
        meter = StreamMeter(upstream.shape)
        ok = False
        try:
            async for chunk in response.aiter_raw():
                meter.feed(chunk)
                yield chunk
            ok = True
        finally:
            await response.aclose()
            settle(Outcome(ok, meter.input_tokens, meter.output_tokens, meter.response_id))

    return 200, relay()


class Forwarder:
    """Step 2: relays admitted requests to their provider and settles each charge.

    One HTTP client for the life of the gateway (made on first use), so forwarded
    requests reuse connections.
    """

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._client: httpx.AsyncClient | None = None

    async def relay(
        self,
        request_id: str,
        reserved: Charge,
        upstream: Upstream,
        body: Any,
        *,
        stream: bool,
        anthropic_version: str | None,
    ) -> Response | Refusal:
        """The provider's answer as a response, or a 502 refusal when it cannot be
        reached; either way the request's charge is settled (see `settle`)."""
        import httpx

        if self._client is None:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=10.0))
        headers = {"x-lava-request-id": request_id}
        try:
            status, content = await forward(
                self._client,
                upstream,
                body,
                stream=stream,
                anthropic_version=anthropic_version,
                settle=functools.partial(self.settle, request_id, reserved),
            )
        except httpx.HTTPError as exc:
            return Refusal(502, "upstream_error", f"The upstream provider failed: {exc!r}")
        if isinstance(content, bytes):
            return Response(content, status, headers=headers, media_type="application/json")
        return StreamingResponse(content, headers=headers, media_type="text/event-stream")

    def settle(self, request_id: str, reserved: Charge, outcome: Outcome) -> None:
        """Re-price a forwarded request at the usage the provider reported (capped at the
        reservation) and mark it ``completed``; ``error`` at zero when the call failed;
        the reservation's numbers when no usage was reported."""
        if not outcome.ok:
            rates = reserved.costs.input_rate, reserved.costs.output_rate
            zero = Costs(Decimal(0), Decimal(0), *rates)
            self.ledger.settle(
                request_id, input_tokens=0, output_tokens=0, costs=zero, status=ERROR
            )
            return
        used_in, used_out, costs = reserved.input_tokens, reserved.output_tokens, reserved.costs
        if outcome.input_tokens is not None and outcome.output_tokens is not None:
            model = get_model(reserved.model)
            assert model is not None  # it was priced from the catalogue at admission
            used_in, used_out = outcome.input_tokens, outcome.output_tokens
            costs = capped(price(model, used_in, used_out), reserved.cost)
        self.ledger.settle(
            request_id,
            input_tokens=used_in,
            output_tokens=used_out,
            costs=costs,
            status=COMPLETED,
            response_id=outcome.response_id,
        )


def capped(costs: Costs, limit: Decimal) -> Costs:
    """`costs`, or when they add up to more than `limit` (the reservation), parts that
    add up to exactly `limit`: the input part as far as it fits, the output the rest."""
    if costs.total <= limit:
        return costs
    input_cost = min(costs.input_cost, limit)
    return Costs(input_cost, limit - input_cost, costs.input_rate, costs.output_rate)
