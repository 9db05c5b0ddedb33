"""The emulator's management API as a Starlette app (contract: docs/lava-api.md).

Routes: the spend-key endpoints under ``/v1/spend_keys`` and the older
``/v1/manage/spend_keys`` alias, ``GET /v1/models``, ``GET /v1/services`` and
``GET /v1/wallet`` (the balance: starting balance + completed funding - spend).
Every answer, errors included (unknown route 404, wrong method 405, even an
unexpected 500), is JSON in the management error shape ``{"error": {"message",
"code"}}``.

Handlers are ``async`` and call the store synchronously: SQLite answers in
microseconds and the store serialises access with its own lock, so there is no
thread pool to reason about.

Shared with the other route modules: `ApiError` (an answer in that shape; a raised
`validation.InvalidField` is a 400 too), `ManagementApi.wallet` (the Bearer secret's
wallet), `json_body`, `route` (one route per path, every method) and `presented_key`
(the spend key of a gateway-style request).

More routes (the gateway, its read side, browser login, ``/openapi.json``) come in
through ``extra_routes``; they are matched first, see `server.build_app`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from lava_cli.emulator import catalogue, paging
from lava_cli.emulator.bodies import BodyTooLarge, InvalidJson, parse_json, read_body
from lava_cli.emulator.contract import MAX_KEYS_PER_WALLET, REVOKED, SPEND_KEY_PREFIX
from lava_cli.emulator.cycles import Clock, iso_z, parse_stored, utc_now
from lava_cli.emulator.limits import check_allowed
from lava_cli.emulator.money import money
from lava_cli.emulator.schema import KeyLimitReached, KeyRow, Wallet
from lava_cli.emulator.store import Store
from lava_cli.emulator.validation import InvalidField, parse_create, parse_update

T = TypeVar("T")


class ApiError(Exception):
    """An error answer in the management shape: status, contract code, message."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "code": code}}, status, headers)


def _time(stored: str | None) -> str | None:
    return None if stored is None else iso_z(parse_stored(stored))


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of ``Authorization: Bearer …``, or None."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def presented_key(headers: Mapping[str, str]) -> str | None:
    """The spend key a gateway-style request presents (the gateway, ``GET /v1/models``):
    ``x-api-key`` when the header is there, else ``Authorization: Bearer``.

    x-api-key wins, as ``ANTHROPIC_API_KEY`` wins over ``ANTHROPIC_AUTH_TOKEN`` in
    Claude Code (docs/lava-api.md), so a client sending both is judged by one key.
    """
    api_key = headers.get("x-api-key")
    if api_key:
        return api_key.strip() or None
    return bearer_token(headers)


async def json_body(request: Request) -> Any:
    """The JSON body, capped (413) and checked (400): see bodies.py."""
    try:
        return parse_json(await read_body(request))
    except BodyTooLarge as exc:
        raise ApiError(413, "request_too_large", str(exc)) from None
    except InvalidJson as exc:
        raise ApiError(400, "invalid_request", f"body: {exc}") from None


def caller_wallet(store: Store, request: Request) -> Wallet:
    """The wallet of the request's Bearer secret (a live ``aks_`` secret key, or its
    ``lava_wk_`` alias: store.wallet_for_secret); 401 unknown or deleted, 403 for a
    spend key. Every management route starts here."""
    token = bearer_token(request.headers)
    if token is not None and token.startswith(SPEND_KEY_PREFIX):
        raise ApiError(
            403,
            "wrong_key_type",
            "This endpoint needs a secret key (aks_…), not a spend key (lava_sk_…)",
        )
    wallet = store.wallet_for_secret(token) if token is not None else None
    if wallet is None:
        raise ApiError(401, "invalid_api_key", "Invalid API key")
    return wallet


class ManagementApi:
    """Handlers bound to one store and clock; `routes()` lists them for Starlette."""

    def __init__(self, store: Store, clock: Clock = utc_now) -> None:
        self.store = store
        self.clock = clock

    # -- helpers -----------------------------------------------------------------

    def wallet(self, request: Request) -> Wallet:
        return caller_wallet(self.store, request)

    def key_json(self, key: KeyRow, raw: str | None = None) -> dict[str, Any]:
        """The contract's SpendKey object; `raw` (create/rotate only) becomes ``key``."""
        s = key.settings
        usage = self.store.key_usage(key, self.clock())
        body: dict[str, Any] = {
            "spend_key_id": key.spend_key_id,
            "key_preview": key.key_preview,
            "name": s.name,
            "status": s.status,
            "request_shape": s.request_shape,
            "wallet_id": key.wallet_id,
            "allowed_models": None if s.allowed_models is None else list(s.allowed_models),
            "allowed_providers": None if s.allowed_providers is None else list(s.allowed_providers),
            "spend_limit": None
            if s.spend_limit is None
            else {"amount": money(s.spend_limit.amount), "cycle": s.spend_limit.cycle},
            "current_spend": money(usage.current_spend),
            "total_spend": money(usage.total_spend),
            "request_limit": None
            if s.request_limit is None
            else {"count": s.request_limit.count, "cycle": s.request_limit.cycle},
            "current_requests": usage.current_requests,
            "total_requests": usage.total_requests,
            "rate_limit": None
            if s.rate_limit is None
            else {"rpm": s.rate_limit.rpm, "burst": s.rate_limit.burst},
            "expires_at": _time(s.expires_at),
            "last_used_at": _time(usage.last_used_at),
            "created_at": _time(key.created_at),
        }
        if raw is not None:
            body["key"] = raw
        return body

    def target(self, request: Request) -> tuple[str, str]:
        """The caller's wallet id (401/403 first) and the ``{key_id}`` of the path."""
        return self.wallet(request).wallet_id, request.path_params["key_id"]

    @staticmethod
    def not_found(key_id: str) -> ApiError:
        """404: unknown, revoked or another wallet's key all look the same to a caller."""
        return ApiError(404, "not_found", f"No such spend key: {key_id}")

    def found(self, key_id: str, found: T | None) -> T:
        """What the store found for `key_id`, or `not_found`."""
        if found is None:
            raise self.not_found(key_id)
        return found

    # -- spend keys --------------------------------------------------------------

    async def create_key(self, request: Request) -> Response:
        wallet = self.wallet(request)
        settings = parse_create(await json_body(request))
        try:
            key, raw = self.store.create_key(wallet.wallet_id, settings)
        except KeyLimitReached:
            raise ApiError(
                409,
                "spend_key_limit_reached",
                f"This wallet already has {MAX_KEYS_PER_WALLET} spend keys; revoke one to create "
                "another",
            ) from None
        return JSONResponse(self.key_json(key, raw), 201)

    async def list_keys(self, request: Request) -> Response:
        wallet = self.wallet(request)
        page = self.store.list_keys(wallet.wallet_id, *paging.from_query(request.query_params))
        return JSONResponse(page.to_json(self.key_json))

    async def get_key(self, request: Request) -> Response:
        wallet_id, key_id = self.target(request)
        key = self.found(key_id, self.store.get_key(wallet_id, key_id))
        return JSONResponse(self.key_json(key))

    async def update_key(self, request: Request) -> Response:
        wallet_id, key_id = self.target(request)
        changes = parse_update(await json_body(request))
        key = self.found(key_id, self.store.update_key(wallet_id, key_id, changes))
        return JSONResponse(self.key_json(key))

    async def rotate_key(self, request: Request) -> Response:
        wallet_id, key_id = self.target(request)
        key, raw = self.found(key_id, self.store.rotate_key(wallet_id, key_id))
        return JSONResponse(self.key_json(key, raw))

    async def revoke_key(self, request: Request) -> Response:
        wallet_id, key_id = self.target(request)
        if not self.store.revoke_key(wallet_id, key_id):
            raise self.not_found(key_id)
        return JSONResponse({"success": True})

    # -- catalogue and wallet ----------------------------------------------------

    async def list_models(self, request: Request) -> Response:
        """All models; with a spend key, only those its allow-lists admit."""
        models = catalogue.MODELS
        token = presented_key(request.headers)
        if token is not None and token.startswith(SPEND_KEY_PREFIX):
            key = self.store.key_for_raw(token)
            if key is None or key.status == REVOKED:
                raise ApiError(401, "invalid_api_key", "Invalid API key")
            allowed = key.settings.allowed_models, key.settings.allowed_providers
            # Exactly the models the gateway would not refuse with a 403 (limits.py).
            models = tuple(m for m in models if check_allowed(m.id, m.provider, *allowed) is None)
        data = [
            {"id": m.id, "object": "model", "created": m.created, "owned_by": m.provider}
            for m in models
        ]
        return JSONResponse({"object": "list", "data": data})

    async def list_services(self, request: Request) -> Response:
        """Public catalogue with per-1M-token prices; ``?provider=`` filters the entries."""
        provider = request.query_params.get("provider") or None
        data = [
            {
                "id": m.id,
                "object": "service",
                "provider": m.provider,
                "name": m.label,
                "context_window": m.context_window,
                "pricing": {
                    "type": "tokens_1m",
                    "input": float(m.input_price),
                    "output": float(m.output_price),
                    "currency": "USD",
                },
            }
            for m in catalogue.models_for(provider)
        ]
        providers = [
            {"id": p.id, "label": p.label, "entry_count": len(catalogue.models_for(p.id))}
            for p in catalogue.PROVIDERS
        ]
        return JSONResponse({"object": "list", "data": data, "providers": providers})

    async def get_wallet(self, request: Request) -> Response:
        wallet = self.wallet(request)
        balance = self.store.wallet_balance(wallet.wallet_id)
        return JSONResponse({"wallet_id": wallet.wallet_id, "balance": money(balance)})

    def routes(self) -> list[BaseRoute]:
        routes: list[BaseRoute] = []
        for base in ("/v1/spend_keys", "/v1/manage/spend_keys"):
            routes += [
                route(base, POST=self.create_key, GET=self.list_keys),
                route(
                    base + "/{key_id}",
                    GET=self.get_key,
                    PUT=self.update_key,
                    DELETE=self.revoke_key,
                ),
                route(base + "/{key_id}/rotate", POST=self.rotate_key),
            ]
        routes += [
            route("/v1/models", GET=self.list_models),
            route("/v1/services", GET=self.list_services),
            route("/v1/wallet", GET=self.get_wallet),
        ]
        return routes


Endpoint = Callable[[Request], Awaitable[Response]]


def route(path: str, **handlers: Endpoint) -> Route:
    """One route per path, dispatching on the method, so a 405 lists every allowed one
    (the other route modules build theirs with it too)."""

    async def dispatch(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await handlers[method](request)

    return Route(path, dispatch, methods=list(handlers))


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, exc.headers)


async def _invalid_field(request: Request, exc: Exception) -> Response:
    return error_response(400, "invalid_request", str(exc))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return error_response(
            404, "not_found", f"No such endpoint: {request.method} {request.url.path}"
        )
    if exc.status_code == 405:
        return error_response(
            405,
            "method_not_allowed",
            f"{request.method} is not allowed on {request.url.path}",
            dict(exc.headers or {}),
        )
    headers = dict(exc.headers) if exc.headers else None
    return error_response(exc.status_code, "http_error", str(exc.detail), headers)


async def _internal_error(request: Request, exc: Exception) -> Response:
    return error_response(500, "internal_error", "The emulator failed; see its log")


def create_app(
    store: Store, clock: Clock = utc_now, extra_routes: Sequence[BaseRoute] = ()
) -> Starlette:
    """The emulator app: `extra_routes` (matched first), then the management routes."""
    api = ManagementApi(store, clock)
    app = Starlette(
        routes=[*extra_routes, *api.routes()],
        exception_handlers={
            ApiError: _api_error,
            InvalidField: _invalid_field,
            HTTPException: _http_error,
            Exception: _internal_error,
        },
    )
    app.state.store = store
    app.state.clock = clock
    return app
