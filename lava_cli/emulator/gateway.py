"""The emulator's gateway: ``POST /v1/chat/completions`` and ``POST /v1/messages``.

Each request goes through, in this order (see limits.py for the statuses): injected
500/429 faults, key state (401), request shape (403) -- both before a byte of the body
is read --, body size (413, bodies.py), body validation and the call's metadata,
customer and meter (400, attribution.py), catalogue
(404 ``model_not_found``; a non-Anthropic model on /v1/messages is 400), allow-lists
(403), rate limit (429), request limit (429), spend limit (402). Key checks, limits and
the charge run in one SQLite transaction (ledger.py), so concurrent clients can never
push a key past its limits.

Spend-limit semantics: the offline model's reply is a pure function of the request
(replies.py), so its exact cost is known before answering. The request is charged that
cost up front and accepted only if ``current_spend + cost <= limit``: ``current_spend``
never exceeds the limit. An accepted request stays charged even if the client goes
away or an injected ``drop-mid-stream`` cuts it. A model forwarded to an upstream
provider (``GatewayOptions.upstreams``) is admitted on a worst-case reservation and
settled at the usage the provider reports, never above the reservation (upstream.py).

The request log and usage report this gateway writes are served by reads.py. Each
record carries the id of the answer (``response_id``: the ``chatcmpl-…`` or ``msg_…``
the client got) and the tags of the call.

Every answer, errors included, carries ``x-lava-request-id``. Errors use the
endpoint's provider shape so the official SDKs raise their typed exceptions.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Send

from lava_cli.emulator import wire
from lava_cli.emulator.app import presented_key
from lava_cli.emulator.attribution import call_tags
from lava_cli.emulator.bodies import BodyTooLarge, InvalidJson, parse_json, read_body
from lava_cli.emulator.catalogue import Model, get_model, price
from lava_cli.emulator.contract import SHAPE_ENDPOINTS
from lava_cli.emulator.cycles import utc_now
from lava_cli.emulator.faults import Faults
from lava_cli.emulator.ledger import Charge, Ledger
from lava_cli.emulator.limits import Refusal
from lava_cli.emulator.replies import (
    DEFAULT_REPLY_TOKENS,
    Reply,
    conversation_texts,
    count_input_tokens,
    make_reply,
)
from lava_cli.emulator.schema import Tags
from lava_cli.emulator.store import Store
from lava_cli.emulator.upstream import Forwarder, Upstream, reserve


@dataclass(frozen=True)
class GatewayOptions:
    """Operator settings (``lava emulator serve`` flags).

    token_delay_ms: pause before each streamed SSE frame (and, one per token, before a
        non-streamed answer), so streaming is visible.
    reply_tokens: the offline model's natural reply length; ``max_tokens`` can only
        shorten it.
    faults: injected failures (faults.py); None or empty for none.
    upstreams: model id -> real provider to forward it to (upstream.Upstream) instead of
        the offline model; charged by reservation then settled (see upstream.py).
    """

    token_delay_ms: float = 0.0
    reply_tokens: int = DEFAULT_REPLY_TOKENS
    faults: Faults | None = None
    upstreams: Mapping[str, Upstream] = field(default_factory=dict)


@dataclass(frozen=True)
class _Plan:
    """A validated request with its reply and price decided up front."""

    request: wire.ChatRequest
    reply: Reply
    charge: Charge
    upstream: Upstream | None = None
    body: Any = None


class _CutStreamingResponse(StreamingResponse):
    """Sends the body it is given and never the final empty chunk: the server then
    closes the connection mid-body, as a dropped upstream would."""

    async def stream_response(self, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        async for chunk in self.body_iterator:
            body = chunk.encode() if isinstance(chunk, str) else bytes(chunk)
            await send({"type": "http.response.body", "body": body, "more_body": True})


def _request_id() -> str:
    """``req_`` + 24 alphanumerics (hex), like `ids.new_request_id` but ~40x cheaper:
    it runs on every gateway request."""
    return "req_" + secrets.token_hex(12)


class Gateway:
    """The two gateway endpoints, bound to a store, a clock and options."""

    def __init__(
        self,
        store: Store,
        clock: Callable[[], datetime] = utc_now,
        options: GatewayOptions | None = None,
    ) -> None:
        self.ledger = Ledger(store)
        self.clock = clock
        self.options = options or GatewayOptions()
        self.forwarder = Forwarder(self.ledger)

    async def chat_completions(self, request: Request) -> Response:
        return await self._serve(request, "openai")

    async def messages(self, request: Request) -> Response:
        return await self._serve(request, "anthropic")

    # --- the pipeline --------------------------------------------------------------

    async def _serve(self, request: Request, shape: str) -> Response:
        request_id = _request_id()
        plan = await self._admit(request, shape, request_id)
        if isinstance(plan, Refusal):
            return self._error(shape, request_id, plan)
        faults = self.options.faults
        if faults is not None and faults.roll("slow-first-byte"):
            await asyncio.sleep(faults.first_byte_delay_s)
        if plan.upstream is not None:
            forwarded = await self.forwarder.relay(
                request_id,
                plan.charge,
                plan.upstream,
                plan.body,
                stream=plan.request.stream,
                anthropic_version=request.headers.get("anthropic-version"),
            )
            if isinstance(forwarded, Refusal):
                return self._error(shape, request_id, forwarded)
            return forwarded
        cut = faults is not None and faults.roll("drop-mid-stream")
        return await self._answer(shape, request_id, plan, cut)

    async def _admit(self, request: Request, shape: str, request_id: str) -> _Plan | Refusal:
        """Every check of the module docstring, in its order; the plan once it is charged."""
        refusal = self._injected_fault()
        if refusal is not None:
            return refusal
        raw_key = presented_key(request.headers)
        checked = self.ledger.check_key(raw_key, shape, self.clock())
        if isinstance(checked, Refusal):
            return checked  # the body is never read
        try:
            body = await read_body(request)
        except BodyTooLarge as exc:
            return Refusal(413, "request_too_large", str(exc), retryable=False)
        plan = self._plan(shape, body, request.headers.raw, request_id)
        refusal = self.ledger.admit(
            raw_key=raw_key,
            shape=shape,
            plan=plan.charge if isinstance(plan, _Plan) else plan,
            now=self.clock(),
            request_id=request_id,
        )
        if refusal is not None:
            return refusal  # admit() passes an invalid plan's refusal back, after the key's
        assert isinstance(plan, _Plan)
        return plan

    def _injected_fault(self) -> Refusal | None:
        """An injected 500 or 429 (faults.py), decided before anything else."""
        faults = self.options.faults
        if faults is not None and faults.roll("500"):
            return Refusal(500, "internal_error", "Injected fault: internal server error")
        if faults is not None and faults.roll("429"):
            return Refusal(
                429, "rate_limit_exceeded", "Injected fault: rate limited", retry_after=1
            )
        return None

    def _plan(
        self,
        shape: str,
        body: bytes,
        headers: Sequence[tuple[bytes, bytes]],
        request_id: str,
    ) -> _Plan | Refusal:
        """Validate the body and the call's tags, find the model and price the reply
        (no I/O, no key)."""
        parsed = _parse(shape, body, headers)
        if isinstance(parsed, Refusal):
            return parsed
        data, req, tags = parsed
        model = _model_for(shape, req.model)
        if isinstance(model, Refusal):
            return model
        input_tokens = count_input_tokens(req.system, req.messages)
        upstream = self.options.upstreams.get(model.id)
        if upstream is not None:
            reserved = reserve(model, upstream, shape, input_tokens, req.max_tokens, tags)
            if isinstance(reserved, Refusal):
                return reserved
            return _Plan(req, Reply((), False), reserved, upstream, data)
        reply = make_reply(
            model.id,
            conversation_texts(req.system, req.messages),
            req.max_tokens,
            self.options.reply_tokens,
        )
        charge = Charge(
            model=model.id,
            provider=model.provider,
            endpoint=SHAPE_ENDPOINTS[shape],
            input_tokens=input_tokens,
            output_tokens=reply.output_tokens,
            costs=price(model, input_tokens, reply.output_tokens),
            response_id=wire.reply_id(shape, request_id),
            tags=tags,
        )
        return _Plan(req, reply, charge)

    # --- answers -------------------------------------------------------------------

    def _error(self, shape: str, request_id: str, refusal: Refusal) -> Response:
        headers = {"x-lava-request-id": request_id}
        if refusal.retry_after is not None:
            headers["retry-after"] = str(refusal.retry_after)
        if not refusal.retryable:
            headers["x-should-retry"] = "false"
        body = wire.error_body(shape, refusal.status, refusal.code, refusal.message)
        return Response(
            json.dumps(body, separators=(",", ":")),
            status_code=refusal.status,
            headers=headers,
            media_type="application/json",
        )

    async def _answer(self, shape: str, request_id: str, plan: _Plan, cut: bool) -> Response:
        """The offline model's reply, streamed or whole, paced by the token delay; `cut`
        (an injected ``drop-mid-stream``) sends about half of it, then drops the line."""
        headers = {"x-lava-request-id": request_id}
        delay = self.options.token_delay_ms / 1000.0
        if plan.request.stream:
            frames: Iterable[bytes] = wire.reply_frames(
                shape,
                request_id,
                plan.charge.model,
                plan.reply,
                plan.charge.input_tokens,
                include_usage=plan.request.include_usage,
            )
            if cut:
                frames = _first_half(list(frames))
            streaming = _CutStreamingResponse if cut else StreamingResponse
            return streaming(
                self._paced(frames, delay),
                headers={**headers, "cache-control": "no-cache"},
                media_type="text/event-stream",
            )
        if delay:
            await asyncio.sleep(delay * plan.reply.output_tokens)
        reply = wire.reply_body(
            shape, request_id, plan.charge.model, plan.reply, plan.charge.input_tokens
        )
        body = json.dumps(reply, separators=(",", ":")).encode()
        if cut:
            return _CutStreamingResponse(
                _once(body[: len(body) // 2]), headers=headers, media_type="application/json"
            )
        return Response(body, headers=headers, media_type="application/json")

    @staticmethod
    async def _paced(frames: Iterable[bytes], delay: float) -> AsyncIterator[bytes]:
        """One frame per write after `delay`; without a delay, up to 64 frames per write
        (a 20,000-token stream: 0.64 s -> 0.08 s), still one SSE event per token."""
        if delay:
            for frame in frames:
                await asyncio.sleep(delay)
                yield frame
            return
        batch: list[bytes] = []
        for frame in frames:
            batch.append(frame)
            if len(batch) == 64:
                yield b"".join(batch)
                batch = []
        if batch:
            yield b"".join(batch)


def _parse(
    shape: str, body: bytes, headers: Sequence[tuple[bytes, bytes]]
) -> tuple[Any, wire.ChatRequest, Tags] | Refusal:
    """The body as JSON and as the endpoint's request, and the call's tags (400 naming
    the problem)."""
    try:
        data = parse_json(body) if body else None
        if shape == "openai":
            req = wire.parse_openai_request(data)
        else:
            req = wire.parse_anthropic_request(data)
        return data, req, call_tags(shape, data, headers)
    except (InvalidJson, wire.InvalidRequest) as exc:
        return Refusal(400, "invalid_request", str(exc))


def _model_for(shape: str, model_id: str) -> Model | Refusal:
    """The catalogue entry for a request's model: 404 when unknown; 400 for a model of
    another provider on /v1/messages."""
    model = get_model(model_id)
    if model is None:
        return Refusal(
            404, "model_not_found", f"The model {model_id!r} does not exist (see GET /v1/models)"
        )
    if shape == "anthropic" and model.provider != "anthropic":
        return Refusal(
            400,
            "invalid_request",
            f"model: {model_id!r} is served by {model.provider!r}; /v1/messages serves "
            "anthropic models only (use /v1/chat/completions with an OpenAI-shape key)",
        )
    return model


def _first_half(frames: list[bytes]) -> list[bytes]:
    return frames[: max(1, len(frames) // 2)]


async def _once(body: bytes) -> AsyncIterator[bytes]:
    yield body


def gateway_routes(
    store: Store, clock: Callable[[], datetime] = utc_now, options: GatewayOptions | None = None
) -> list[Route]:
    """The gateway's Starlette routes, for `create_app(..., extra_routes=...)`."""
    gateway = Gateway(store, clock, options)
    return [
        Route("/v1/chat/completions", gateway.chat_completions, methods=["POST"]),
        Route("/v1/messages", gateway.messages, methods=["POST"]),
    ]
