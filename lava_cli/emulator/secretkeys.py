"""A wallet's secret keys: ``/v1/secret_keys`` (the SDK's ``secretKeys``, 11.2).

Why several: CI gets a secret of its own, revocable without touching the owner's.
What the emulator decides where Lava is silent (contract.py holds the names):

- ``GET /v1/secret_keys?cursor=&limit=``: the wallet's live secret keys, newest first,
  paged like the spend keys (paging.py). The secrets the emulator was started with
  are there, named "started with"; one a browser login minted, "lava login --web".
- ``POST /v1/secret_keys {"name"}``: 201 with the key and its ``secret_key``, shown
  this once (the database keeps a SHA-256 hash and the hint only). A test wallet
  mints ``aks_test_…``, a live one ``aks_live_…`` (+ 32 alphanumerics). ``name`` is
  1-255 characters, as a spend key's.
- ``secret_key_hint``: the prefix, ``****`` and the last 4 characters.
- ``DELETE /v1/secret_keys/{id}``: ``{"id", "deleted": true}``; the secret (and its
  ``lava_wk_`` alias) is refused with 401 from that moment, on every route. 404 for
  an unknown id, another wallet's or one already deleted. A wallet keeps at least
  one secret: deleting its last live one is a 409 ``last_secret_key``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lava_cli.emulator import ids, paging
from lava_cli.emulator.app import ApiError, caller_wallet, json_body, route
from lava_cli.emulator.contract import CREATED, DEFAULT_PAGE, HINT_MASK
from lava_cli.emulator.cycles import iso_z, parse_stored, stored_time, utc_now
from lava_cli.emulator.schema import Wallet
from lava_cli.emulator.store import Store
from lava_cli.emulator.validation import InvalidField, parse_name


@dataclass(frozen=True)
class SecretKey:
    """One secret key as listed (never its raw value)."""

    secret_key_id: str
    name: str
    secret_key_hint: str
    created_at: str  # stored form

    def to_json(self) -> dict[str, Any]:
        return {
            "secret_key_id": self.secret_key_id,
            "name": self.name,
            "secret_key_hint": self.secret_key_hint,
            "created_at": iso_z(parse_stored(self.created_at)),
        }


class LastSecretKey(Exception):
    """Deleting this one would leave the wallet without a secret (409)."""


def _key(row: Any) -> SecretKey:
    # A migrated secret not presented since has no hint yet: the bare mask.
    return SecretKey(
        row["secret_key_id"], row["name"], row["secret_key_hint"] or "aks_" + HINT_MASK,
        row["created_at"],
    )  # fmt: skip


def mint(store: Store, wallet: Wallet, name: str, origin: str = CREATED) -> tuple[SecretKey, str]:
    """A new secret for `wallet` (its mode's prefix) and the raw value, shown once."""
    raw = ids.new_secret(wallet.mode)
    secret_key_id = store.add_secret(wallet.wallet_id, raw, name=name, origin=origin)
    found = get(store, wallet.wallet_id, secret_key_id)
    assert found is not None
    return found, raw


def get(store: Store, wallet_id: str, secret_key_id: str) -> SecretKey | None:
    """The wallet's live secret key `secret_key_id`, or None."""
    with store.transaction() as db:
        row = db.execute(
            "SELECT * FROM secret_keys WHERE secret_key_id = ? AND wallet_id = ?"
            " AND deleted_at IS NULL",
            (secret_key_id, wallet_id),
        ).fetchone()
    return None if row is None else _key(row)


def list_page(
    store: Store, wallet_id: str, after: paging.Position | None = None, limit: int = DEFAULT_PAGE
) -> paging.Page[SecretKey]:
    """One page of the wallet's live secret keys, newest first (ties broken by id)."""
    condition, params = paging.after(after, "secret_key_id")
    with store.transaction() as db:
        rows = db.execute(
            "SELECT * FROM secret_keys WHERE wallet_id = ? AND deleted_at IS NULL"  # noqa: S608
            f"{condition} ORDER BY created_at DESC, secret_key_id DESC LIMIT ?",
            (wallet_id, *params, limit + 1),
        ).fetchall()
    keys = [_key(row) for row in rows]
    return paging.cut(keys, limit, lambda key: (key.created_at, key.secret_key_id))


def delete(store: Store, wallet_id: str, secret_key_id: str, now: datetime) -> bool:
    """Delete a live secret key of the wallet: False when there is none such; raises
    `LastSecretKey` rather than leave the wallet without one."""
    with store.transaction() as db:
        live = [
            row[0]
            for row in db.execute(
                "SELECT secret_key_id FROM secret_keys WHERE wallet_id = ? AND deleted_at IS NULL",
                (wallet_id,),
            )
        ]
        if secret_key_id not in live:
            return False
        if len(live) == 1:
            raise LastSecretKey(secret_key_id)
        db.execute(
            "UPDATE secret_keys SET deleted_at = ? WHERE secret_key_id = ?",
            (stored_time(now), secret_key_id),
        )
        return True


def parse_create(body: Any) -> str:
    """The create body: ``{"name": …}`` and nothing else; its name."""
    if not isinstance(body, dict):
        raise InvalidField("body", "must be a JSON object")
    for field in body:
        if field != "name":
            raise InvalidField(field, "unknown field (expected name)")
    if "name" not in body:
        raise InvalidField("name", "is required")
    return parse_name(body["name"])


class SecretKeysApi:
    """The three routes, bound to one store and clock."""

    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self.store, self.clock = store, clock

    async def list_keys(self, request: Request) -> Response:
        wallet = caller_wallet(self.store, request)
        page = list_page(self.store, wallet.wallet_id, *paging.from_query(request.query_params))
        return JSONResponse(page.to_json(lambda key: key.to_json()))

    async def create_key(self, request: Request) -> Response:
        wallet = caller_wallet(self.store, request)
        name = parse_create(await json_body(request))
        key, raw = mint(self.store, wallet, name)
        return JSONResponse({**key.to_json(), "secret_key": raw}, 201)

    async def delete_key(self, request: Request) -> Response:
        wallet = caller_wallet(self.store, request)
        secret_key_id = request.path_params["secret_key_id"]
        try:
            deleted = delete(self.store, wallet.wallet_id, secret_key_id, self.clock())
        except LastSecretKey:
            raise ApiError(
                409,
                "last_secret_key",
                f"{secret_key_id} is this wallet's last secret key: create another "
                "(POST /v1/secret_keys) before deleting it",
            ) from None
        if not deleted:
            raise ApiError(404, "not_found", f"No such secret key: {secret_key_id}")
        return JSONResponse({"id": secret_key_id, "deleted": True})


def secret_key_routes(store: Store, clock: Callable[[], datetime] = utc_now) -> list[Route]:
    """``/v1/secret_keys`` routes, for `server.ROUTE_PROVIDERS`."""
    api = SecretKeysApi(store, clock)
    return [
        route("/v1/secret_keys", GET=api.list_keys, POST=api.create_key),
        route("/v1/secret_keys/{secret_key_id}", DELETE=api.delete_key),
    ]
