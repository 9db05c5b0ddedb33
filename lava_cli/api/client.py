"""LavaClient: the one place that speaks HTTP to Lava (or the emulator).

A typed method for every management, catalogue and usage endpoint (answers are
`api.types`; HTTP errors are mapped by `api.http_errors`) on top of `api.session`,
which owns how a request is sent: base-URL policy, auth header, whole-call deadline,
size cap and bounded retries (never for create and rotate once they may have been sent).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from lava_cli.api.session import Session
from lava_cli.api.types import (
    MalformedResponse,
    MissingKeyValueError,
    NewKey,
    Page,
    SpendKey,
    minted,
)
from lava_cli.errors import ApiUnavailableError, MaybeCreatedError

if TYPE_CHECKING:
    from datetime import datetime

    from lava_cli.api.model_types import Model, Service
    from lava_cli.api.paging import RequestWalk
    from lava_cli.api.usage_types import Usage, Wallet
    from lava_cli.api.wallet_types import FundResult, NewSecret, PaymentMethod, SecretKey

PAGE_LIMIT = 100  # the API's largest page


class LavaClient(Session):
    """Typed access to the spend-key, secret-key, wallet, catalogue and usage endpoints."""

    # -- spend keys -------------------------------------------------------------

    def _page(self, path: str, cursor: str | None, limit: int, **filters: str | None) -> Page:
        """One page of a list: `limit`, the filters given, then `cursor` when there is one."""
        params: dict[str, Any] = {"limit": limit}
        params.update({name: value for name, value in filters.items() if value})
        if cursor:
            params["cursor"] = cursor
        return Page.from_json(self._json("GET", path, params=params))

    def list_spend_keys_page(self, cursor: str | None = None, limit: int = PAGE_LIMIT) -> Page:
        return self._page("/spend_keys", cursor, limit)

    def iter_spend_keys(self, page_size: int = PAGE_LIMIT) -> Iterator[SpendKey]:
        """Every spend key, following next_cursor to the end (at most LAVA_MAX_PAGES)."""
        pages = self._walk(
            lambda cursor: self.list_spend_keys_page(cursor, page_size),
            "spend keys",
            "a wallet holds at most 10 keys",
        )
        for page in pages:
            for item in page.data:
                yield SpendKey.from_json(item)

    def _walk(self, fetch: Callable[[str | None], Page], what: str, why: str) -> Iterator[Page]:
        """Every page of a list, following next_cursor to the end, for at most
        LAVA_MAX_PAGES pages: a server that always says has_more (with a new cursor each
        time) would otherwise keep the loop, and its memory, growing forever. `why` says
        why a list that long is suspicious."""
        cursor: str | None = None
        seen: set[str] = set()
        for _ in range(self.limits.max_pages):
            page = fetch(cursor)
            yield page
            if not page.has_more:
                return
            if page.next_cursor in seen:
                raise MalformedResponse("the API sent the same page cursor twice")
            cursor = page.next_cursor
            seen.add(cursor or "")
        raise ApiUnavailableError(
            f"the API was still listing {what} after {self.limits.max_pages} pages "
            "(LAVA_MAX_PAGES)",
            hint=f"{why}, so check --base-url points at the Lava API; raise LAVA_MAX_PAGES "
            "if this list is really that long",
        )

    def get_spend_key(self, spend_key_id: str) -> SpendKey:
        return SpendKey.from_json(self._json("GET", f"/spend_keys/{_seg(spend_key_id)}"))

    def create_spend_key(self, body: dict[str, Any]) -> NewKey:
        return _new_key(self._json("POST", "/spend_keys", json=body))

    def update_spend_key(self, spend_key_id: str, body: dict[str, Any]) -> SpendKey:
        return SpendKey.from_json(self._json("PUT", f"/spend_keys/{_seg(spend_key_id)}", json=body))

    def rotate_spend_key(self, spend_key_id: str) -> NewKey:
        return _new_key(self._json("POST", f"/spend_keys/{_seg(spend_key_id)}/rotate"))

    def revoke_spend_key(self, spend_key_id: str) -> None:
        body = self._json("DELETE", f"/spend_keys/{_seg(spend_key_id)}")
        if not isinstance(body, dict) or body.get("success") is not True:
            raise MalformedResponse("unexpected answer from the API to revoke: no success flag")

    # -- secret keys ------------------------------------------------------------

    def list_secret_keys_page(self, cursor: str | None = None, limit: int = PAGE_LIMIT) -> Page:
        return self._page("/secret_keys", cursor, limit)

    def iter_secret_keys(self) -> Iterator[SecretKey]:
        """Every secret key of the wallet (all pages, at most LAVA_MAX_PAGES)."""
        from lava_cli.api.wallet_types import SecretKey

        pages = self._walk(self.list_secret_keys_page, "secret keys", "a wallet has a few")
        for page in pages:
            for item in page.data:
                yield SecretKey.from_json(item)

    def create_secret_key(self, name: str) -> NewSecret:
        """`POST /v1/secret_keys`: never retried once sent (a retry could mint a second
        secret and lose the first)."""
        try:
            body = self._json("POST", "/secret_keys", json={"name": name})
        except MaybeCreatedError as exc:
            exc.hint = (
                "the secret key may have been created anyway: check with "
                "`lava secret-keys list` (and revoke it) before trying again"
            )
            raise
        from lava_cli.api.wallet_types import NewSecret

        return NewSecret.from_json(body)

    def delete_secret_key(self, secret_key_id: str) -> None:
        """`DELETE /v1/secret_keys/{id}`: the secret stops working at once."""
        body = self._json("DELETE", f"/secret_keys/{_seg(secret_key_id)}")
        if not isinstance(body, dict) or body.get("deleted") is not True:
            raise MalformedResponse("unexpected answer from the API to delete: no deleted flag")

    # -- money in ---------------------------------------------------------------

    def payment_methods(self) -> list[PaymentMethod]:
        """`GET /v1/payment_methods`: the wallet's cards."""
        from lava_cli.api.wallet_types import PaymentMethod

        body = self._json("GET", "/payment_methods")
        return [PaymentMethod.from_json(item) for item in Page.from_json(body).data]

    def fund_wallet(self, payment_method_id: str, amount: str, idempotency_key: str) -> FundResult:
        """`POST /v1/wallet/fund`. Never retried by this client (a POST); the
        Idempotency-Key lets a later run repeat this very attempt safely (ops/wallet.py).
        A lost answer is MaybeCreatedError: the payment may have gone through."""
        from lava_cli.api.wallet_types import FundResult

        response = self._send(
            "POST",
            "/wallet/fund",
            auth=True,
            headers={"Idempotency-Key": idempotency_key},
            json={"payment_method_id": payment_method_id, "amount": amount},
        )
        try:
            body = response.json()
        except (ValueError, UnicodeDecodeError):
            raise MalformedResponse(
                f"the API sent an unreadable answer to the payment (HTTP {response.status_code})",
                hint="check the balance with `lava wallet` before trying again",
            ) from None
        replayed = response.headers.get("idempotent-replayed", "").lower() == "true"
        return FundResult.from_json(body, replayed=replayed)

    # -- catalogue, usage, wallet ------------------------------------------------

    def list_models(self, spend_key: str | None = None) -> list[Model]:
        """`GET /v1/models`: public; with a spend key, only what that key may use."""
        from lava_cli.api.model_types import Model

        headers = {"Authorization": f"Bearer {spend_key}"} if spend_key else None
        body = self._json("GET", "/models", auth=False, headers=headers)
        return [Model.from_json(item) for item in Page.from_json(body).data]

    def list_services(self, provider: str | None = None) -> list[Service]:
        """`GET /v1/services`: the public catalogue with prices per 1M tokens."""
        from lava_cli.api.model_types import Service

        params = {"provider": provider} if provider else None
        body = self._json("GET", "/services", auth=False, params=params)
        return [Service.from_json(item) for item in Page.from_json(body).data]

    def wallet(self) -> Wallet:
        from lava_cli.api.usage_types import Wallet

        return Wallet.from_json(self._json("GET", "/wallet"))

    def usage(self, start: datetime, end: datetime) -> Usage:
        """`GET /v1/usage`: the wallet's UTC days from `start` to `end` (whole seconds)."""
        from lava_cli.api.usage_types import Usage
        from lava_cli.parsing import iso_utc

        params = {"start": iso_utc(start), "end": iso_utc(end)}
        return Usage.from_json(self._json("GET", "/usage", params=params))

    def list_requests_page(
        self, cursor: str | None = None, limit: int = PAGE_LIMIT, spend_key_id: str | None = None
    ) -> Page:
        return self._page("/requests", cursor, limit, spend_key_id=spend_key_id)

    def iter_requests(self, since: datetime, *, spend_key_id: str | None = None) -> RequestWalk:
        """The wallet's requests from `since` on, newest first (see `RequestWalk`).

        `spend_key_id` is a filter Lava does not document (the emulator has it): an API
        without it may answer 400 or 404, or ignore it, so check `spend_key_id` on the
        records before taking them to be one key's.
        """
        from lava_cli.api.paging import RequestWalk

        return RequestWalk(
            lambda cursor: self.list_requests_page(cursor, spend_key_id=spend_key_id),
            since,
            self.limits.max_pages,
        )

    # -- browser login -----------------------------------------------------------

    def exchange_auth_code(self, code: str) -> dict[str, Any]:
        """Trade a browser-login code for credentials (`POST /auth/callback`, no auth).

        Sent once, never retried after it may have arrived: codes are single-use.
        """
        body = self._json("POST", "/auth/callback", auth=False, json={"code": code})
        if not isinstance(body, dict):
            raise MalformedResponse("unexpected answer from the API: credentials not an object")
        return body


def _new_key(body: Any) -> NewKey:
    """A create/rotate answer: the key and its raw value, or one error.

    Without a value, `MissingKeyValueError` (the key exists, nobody holds it); a value
    is never lost to an unreadable rest of the answer (`types.minted`)."""
    kid = body.get("spend_key_id") if isinstance(body, dict) else None
    if isinstance(kid, str):
        about, hint = kid, f"see its details with `lava keys show {kid}`"
    else:
        about, hint = "the new key", "find it with `lava keys list`"
    key, raw = minted(body, "key", SpendKey.from_json, about=about, what="key", hint=hint)
    if raw is None:
        raise MissingKeyValueError(key.spend_key_id)
    return NewKey(key, raw)


def _seg(value: str) -> str:
    """Quote a path segment so an id can never escape its path."""
    from urllib.parse import quote

    return quote(value, safe="")
