"""`lava prompt`'s choice of key and model.

Which key: `--key` (saved with --save), else LAVA_SPEND_KEY, else the profile's
default saved key; with none and a management secret at hand, a key named
`lava-cli` is provisioned and saved (as Lava's MCP `login` does), with the spend limit
of keys lava makes itself (`ops.defaults`). Which model: `--model`, else the shape's
default, and when the key's allow-lists refuse that, the first model it allows
(`allowed_instead`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lava_cli.credentials import env_credential
from lava_cli.errors import ApiError, LavaError, NotAuthenticatedError

if TYPE_CHECKING:
    from lava_cli.api.client import LavaClient
    from lava_cli.context import AppContext

AUTO_KEY_NAME = "lava-cli"
DEFAULT_MODEL = {"openai": "gpt-4o-mini", "anthropic": "claude-haiku-4-5"}


@dataclass(frozen=True)
class KeyChoice:
    raw: str
    shape: str
    spend_key_id: str | None
    source: str  # --key, LAVA_SPEND_KEY, default, provisioned
    name: str | None = None

    def describe(self) -> str:
        """Which key, for messages: its name and id and how it was chosen; for a raw
        LAVA_SPEND_KEY its preview. Never the value."""
        if self.spend_key_id is None:
            from lava_cli.credentials import redact

            return f"the key in {self.source} ({redact(self.raw)})"
        how = {
            "--key": "from --key",
            "default": "the profile's default key",
            "provisioned": "created for lava prompt",
        }.get(self.source, self.source)
        return f"key {self.name or self.spend_key_id!r} ({self.spend_key_id}, {how})"


def choose_key(app: AppContext, ref: str | None, shape: str | None) -> KeyChoice:
    from lava_cli.ops.saved import load_saved_key
    from lava_cli.parsing import parse_shape

    shape = parse_shape(shape) if shape is not None else None
    if ref:
        kid, meta, raw = load_saved_key(app, ref)
        return KeyChoice(raw, _shape_of(shape, meta, ref), kid, "--key", _name(meta))
    env = env_credential("LAVA_SPEND_KEY")
    if env:
        if env.endswith("****"):
            raise NotAuthenticatedError(
                "LAVA_SPEND_KEY holds a key preview (…****), not the key",
                hint="the full lava_sk_… value is shown once at create; "
                "rotate the key to get a new one",
            )
        return KeyChoice(env, shape or "openai", None, "LAVA_SPEND_KEY")
    return _default_key(app, shape) or provision(app, shape or "openai")


def _default_key(app: AppContext, shape: str | None) -> KeyChoice | None:
    """The profile's default saved key, when there is one."""
    from lava_cli.ops.saved import load_saved_key, saved_keys

    default = app.profile_settings.get("default_key")
    if isinstance(default, str) and default in saved_keys(app):
        kid, meta, raw = load_saved_key(app, default)
        ref = _name(meta) or kid
        return KeyChoice(raw, _shape_of(shape, meta, ref), kid, "default", _name(meta))
    return None


def _shape_of(flag: str | None, meta: dict[str, Any], ref: str) -> str:
    """The request shape for a saved key: its own. A --shape that contradicts it would
    send every request to the endpoint the key cannot call, so it is refused (exit 2)
    before anything is sent, not obeyed into a 403."""
    from lava_cli.errors import UsageError

    saved = str(meta.get("request_shape") or "openai")
    if flag is not None and flag != saved:
        raise UsageError(
            f"--shape {flag} does not go with key {ref!r}, which is an {saved}-shape key",
            hint=f"leave out --shape (the key's own, {saved}, is used), or use a key created "
            f"with --shape {flag}",
        )
    return saved


def _name(meta: dict[str, Any]) -> str | None:
    name = meta.get("name")
    return name if isinstance(name, str) else None


def provision(app: AppContext, shape: str) -> KeyChoice:
    """Create and save a `lava-cli` key, when a management secret is available.

    Under the state lock, and only after looking again: parallel first runs (six
    terminals, a CI matrix) would otherwise each create one, and orphans count
    against the wallet's 10-key cap. The one that gets the lock first creates the key;
    the others wait, then find it saved.
    """
    from lava_cli.config import state_lock
    from lava_cli.ops.defaults import auto_limit, creation_note
    from lava_cli.ops.handoff import save_or_revoke
    from lava_cli.ops.saved import check_can_save

    if app.find_secret() is None:
        raise NotAuthenticatedError(
            "no spend key to send the prompt with",
            hint="set LAVA_SPEND_KEY, or `lava login` and let `lava prompt` create one, "
            "or `lava keys create --name NAME --save`",
        )
    check_can_save(app)
    limit = auto_limit(app)
    with state_lock():
        app.config.reload()
        found = _default_key(app, shape)
        if found is not None:
            return found
        client = app.client()
        body: dict[str, object] = {"name": free_name(client), "request_shape": shape}
        if limit.body is not None:
            body["spend_limit"] = limit.body
        minted = client.create_spend_key(body)
        where = save_or_revoke(app, minted)
    key = minted.key
    app.out.note(
        f"Created spend key {key.name!r} ({key.spend_key_id}) and saved it in {where}. "
        + creation_note(limit, key.name)
    )
    return KeyChoice(minted.raw, key.request_shape, key.spend_key_id, "provisioned", key.name)


def free_name(client: LavaClient) -> str:
    """`lava-cli`, or `lava-cli-2`, … when another key (another machine's) has it: a
    second key of one name would make every lookup by that name fail."""
    taken = {k.name for k in client.iter_spend_keys()}
    return next(
        name
        for n in range(1, len(taken) + 2)
        if (name := AUTO_KEY_NAME if n == 1 else f"{AUTO_KEY_NAME}-{n}") not in taken
    )


def default_model(choice: KeyChoice) -> str:
    """The model sent when none is asked for: the key's shape's default."""
    return DEFAULT_MODEL.get(choice.shape, "gpt-4o-mini")


def allowed_instead(app: AppContext, choice: KeyChoice, err: ApiError, model: str) -> str | None:
    """After the gateway refused the default `model` for this key's allow-lists (403,
    not the shape), the first model the key may call (`GET /v1/models` with the key
    lists exactly those; /v1/messages serves Anthropic models only); None when there
    is no other, or the listing fails (the refusal then stands, with its advice).

    Asked only after a refusal, so the usual prompt costs no extra request."""
    from lava_cli.ops.catalogue import SHAPE_PROVIDER

    if err.status != 403 or err.code == "wrong_request_shape":
        return None
    try:
        listed = app.public_client().list_models(choice.raw)
    except LavaError:
        return None
    needed = SHAPE_PROVIDER.get(choice.shape)
    usable = [m.id for m in listed if needed is None or m.owned_by == needed]
    if not usable or model in usable:
        return None
    app.out.note(f"{choice.describe()} does not allow {model}: using {usable[0]} (--model)")
    return usable[0]
