"""The checks of `lava doctor` on this machine's setup and the API's answers.

Each check yields `Check`s (pass, warn or fail with a fix) and records what later
checks need in `State`. `guarded` runs one check so that any error in it becomes that
check's failure: a diagnostic tool must finish its report. The order, and which
check needs which, is `ops.doctor`'s.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from lava_cli.credentials import redact, scrub
from lava_cli.errors import ApiUnavailableError, LavaError

if TYPE_CHECKING:
    from lava_cli.api.client import LavaClient
    from lava_cli.api.types import SpendKey
    from lava_cli.context import AppContext
    from lava_cli.credentials import Secret

SKEW_WARN = timedelta(seconds=60)
SKEW_FAIL = timedelta(minutes=5)
EXPIRY_WARN = timedelta(days=7)
PROBE_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Check:
    check: str
    status: str  # pass | warn | fail
    detail: str
    fix: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class State:
    """What earlier checks found, for the later ones."""

    secret: Secret | None = None
    url: str | None = None
    client: LavaClient | None = None
    reachable: bool = False
    keys: dict[str, SpendKey] | None = None
    wallet_id: str | None = None


def guarded(name: str, check: Callable[[], Iterable[Check] | Check]) -> list[Check]:
    """Run one check; an error in it becomes its failure (checks yielded before stay)."""
    done: list[Check] = []
    try:
        result = check()
        done.extend([result] if isinstance(result, Check) else result)
    except LavaError as exc:
        done.append(Check(name, "fail", scrub(exc.message), exc.hint))
    except Exception as exc:  # a diagnostic tool must finish its report
        detail = f"unexpected {type(exc).__name__}: {scrub(str(exc))[:200]}"
        done.append(Check(name, "fail", detail, "this is a bug in lava; please report it"))
    return done


# --- the profile, the config dir, the secret, the URL ---------------------------------


def profile(app: AppContext) -> Iterable[Check]:
    env = "LAVA_PROFILE" if os.environ.get("LAVA_PROFILE") else "default"
    source = "--profile" if app.profile_flag else env
    name = app.profile
    where = f"profile {name!r} (from {source}), config {app.config.path}"
    if source != "default" and not app.profile_settings and "LAVA_SECRET_KEY" not in os.environ:
        yield Check("profile", "warn", f"{where}: not saved yet", f"lava --profile {name} login")
    else:
        yield Check("profile", "pass", where)


def config_dir(app: AppContext) -> Iterable[Check]:
    """A directory other users can write to is no place for secrets or settings."""
    from lava_cli.config import unsafe_dir_problem

    directory = app.config.path.parent
    problem = unsafe_dir_problem(directory)
    if problem is not None:
        yield Check("config dir", "fail", problem[0], problem[1])
    else:
        yield Check("config dir", "pass", f"{directory}: only you can change it")


def credential(app: AppContext, state: State) -> Iterable[Check]:
    """Which secret wins, where it lives, and whether it is a management secret at all."""
    from lava_cli.credentials import SPEND_KEY_PREFIX, looks_like_secret

    found = app.find_secret()
    if found is None:
        fix = "run `lava login`, or set LAVA_SECRET_KEY (aks_live_… / aks_test_… / lava_wk_…)"
        yield Check("credential", "fail", f"no secret for profile {app.profile!r}", fix)
        return
    where = _secret_home(found)
    if found.value.startswith(SPEND_KEY_PREFIX) or not looks_like_secret(found.value):
        yield Check(
            "credential", "fail", f"{redact(found.value)} from {where} is not a secret key",
            "use the secret key (aks_…) from Dashboard > Gateway > Secrets: `lava login`",
        )  # fmt: skip
        return
    state.secret = found
    detail = f"{redact(found.value)} ({found.mode} mode) from {where}"
    stored = app.profile_settings.get("secret_storage")
    if found.source == "env" and stored:
        detail += f"; it overrides the secret stored in the {stored} for this profile"
    if found.source == "file":
        yield _secret_file(found, detail)
    else:
        yield Check("credential", "pass", detail)


def _secret_home(found: Secret) -> str:
    if found.source == "keyring":
        from lava_cli.credentials import keyring_backend_name

        return f"the OS keyring ({keyring_backend_name()})"
    return "the environment (LAVA_SECRET_KEY)" if found.source == "env" else found.location


def _secret_file(found: Secret, detail: str) -> Check:
    """A plaintext store works but is second best; one others can read is a failure."""
    mode = os.stat(found.location).st_mode & 0o777
    if mode & 0o077:
        text = f"{detail}; the file is readable by others ({mode:o})"
        return Check("credential", "fail", text, f"chmod 600 {found.location}")
    fix = "prefer the OS keyring: `lava login` without --insecure-storage"
    return Check("credential", "warn", detail + " (a plaintext file)", fix)


def base_url(app: AppContext, state: State) -> Iterable[Check]:
    url, source = app.base_url(state.secret.value if state.secret else None)
    state.url = url
    # check_base_url (in base_url) allows plain http to loopback addresses, or to a host
    # named in LAVA_ALLOW_HTTP_HOSTS with an aks_test_ secret.
    from lava_cli.contract import is_loopback_host

    parts = urlsplit(url)
    if parts.scheme == "https":
        transport = "over TLS (https)"
    elif is_loopback_host(parts.hostname or ""):
        transport = "plain http to this machine (the emulator?)"
    else:
        transport = f"plain http to {parts.hostname} (LAVA_ALLOW_HTTP_HOSTS, a test secret)"
    yield Check("base URL", "pass", f"{url} (from {source}), {transport}")


# --- the API ---------------------------------------------------------------------------


def reachable(state: State) -> Iterable[Check]:
    from lava_cli.api.client import LavaClient
    from lava_cli.envvars import env_seconds

    assert state.url is not None
    state.client = LavaClient(
        state.url,
        state.secret.value if state.secret else None,
        timeout=env_seconds("LAVA_TIMEOUT", PROBE_TIMEOUT_S),
        max_retries=0,  # an honest answer now, not a retried one later
    )
    models = state.client.list_models()
    state.reachable = True
    yield Check("API reachable", "pass", f"{state.url} answered ({len(models)} models listed)")


def clock(state: State) -> Iterable[Check]:
    """Local time against the API's Date header: expiry times are computed locally."""
    from email.utils import parsedate_to_datetime

    assert state.client is not None
    before = datetime.now(timezone.utc)
    try:
        header = state.client.server_date()  # public: the secret is not sent
    except ApiUnavailableError as exc:
        yield Check("clock", "pass", f"not measured: {exc.message}")
        return
    after = datetime.now(timezone.utc)
    if header is None:
        yield Check("clock", "pass", "not measured: the API sent no Date header")
        return
    try:
        server = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        yield Check("clock", "pass", f"not measured: unreadable Date header {header!r}")
        return
    yield _skew(before + (after - before) / 2 - server)


def _skew(skew: timedelta) -> Check:
    size = abs(skew)
    side = "ahead of" if skew > timedelta(0) else "behind"
    text = f"local clock is {size.total_seconds():.0f} s {side} the API"
    fix = "sync your clock (NTP): expiry times (--expires-in) are computed locally"
    if size > SKEW_FAIL:
        return Check("clock", "fail", text, fix)
    if size > SKEW_WARN:
        return Check("clock", "warn", text, fix)
    return Check("clock", "pass", text + " (Date header, 1 s resolution)")


def secret_valid(state: State) -> Iterable[Check]:
    from lava_cli.render.output import money

    assert state.client is not None
    keys = list(state.client.iter_spend_keys())
    state.keys = {k.spend_key_id: k for k in keys}
    wallet = state.client.wallet()
    state.wallet_id = wallet.wallet_id or None
    balance = wallet.balance
    detail = (
        f"accepted: wallet {wallet.wallet_id or '-'}, {len(keys)} spend keys, "
        f"balance {money(balance)}"
    )
    if balance <= 0:
        yield Check("secret valid", "warn", detail, "top up the wallet: requests will be refused")
    else:
        yield Check("secret valid", "pass", detail)


# --- saved spend keys ------------------------------------------------------------------


def saved_keys(app: AppContext, state: State) -> Iterable[Check]:
    """Each saved key on its own: one broken record does not hide the others."""
    from functools import partial

    from lava_cli.ops.saved import saved_keys as saved

    entries = saved(app)
    if not entries:
        yield Check("saved keys", "pass", "none saved in this profile")
        return
    for kid, meta in entries.items():
        info = meta if isinstance(meta, dict) else {}
        yield from guarded(_key_title(kid, info), partial(saved_key, state, kid, info))


def _key_title(kid: str, meta: dict[str, Any]) -> str:
    return f"saved key {meta.get('name') or kid}"


def saved_key(state: State, kid: str, meta: dict[str, Any]) -> Check:
    """A saved key: still there, usable now, its stored value current, not near a limit."""
    from lava_cli.ops.check import evaluate, fix_hint

    assert state.keys is not None
    key = state.keys.get(kid)
    if key is None:
        return _missing_key(state, kid, meta)
    now = datetime.now(timezone.utc)
    verdict = evaluate(key, now)
    if not verdict.ok:
        return Check(_key_title(kid, meta), "fail", "; ".join(verdict.reasons), fix_hint(verdict))
    problem = _stored_value(kid, meta, key) or _key_warning(kid, meta, key, now)
    if problem is not None:
        return problem
    detail = f"{kid}: active, {key.request_shape} shape, budget left"
    return Check(_key_title(kid, meta), "pass", detail)


def _missing_key(state: State, kid: str, meta: dict[str, Any]) -> Check:
    """Not in this wallet's list: revoked, or saved from another wallet."""
    name = _key_title(kid, meta)
    saved_wallet = meta.get("wallet_id")
    if saved_wallet and state.wallet_id and saved_wallet != state.wallet_id:
        text = f"{kid} was saved from wallet {saved_wallet}; this secret manages {state.wallet_id}"
        fix = f"check it with that wallet's secret, or drop it here: `lava keys forget {kid}`"
        return Check(name, "warn", text, fix)
    fix = (
        f"drop the saved copy: `lava keys forget {kid}` (then, for a new one, "
        f"`lava keys create --name {meta.get('name') or 'NAME'} --save`)"
    )
    return Check(name, "fail", f"{kid} no longer exists (revoked?)", fix)


def _stored_value(kid: str, meta: dict[str, Any], key: SpendKey) -> Check | None:
    """The raw value in the store: present, and the one the server knows (not rotated)."""
    from lava_cli.credentials import load_secret, spend_key_entry

    raw = load_secret(spend_key_entry(kid), "file" if meta.get("storage") == "file" else "keyring")
    rotate = f"`lava keys rotate {kid} --save`"
    if not raw:
        return Check(
            _key_title(kid, meta), "fail", "its raw value is missing from the keyring", rotate
        )
    if key.key_preview and redact(raw) != key.key_preview:
        return Check(
            _key_title(kid, meta), "fail", "the saved value is stale (rotated elsewhere)", rotate
        )
    return None


def _key_warning(kid: str, meta: dict[str, Any], key: SpendKey, now: datetime) -> Check | None:
    """Usable now, but soon not: expiring, near its spend limit, or its shape changed."""
    from lava_cli.ops.usage import fraction
    from lava_cli.parsing import parse_api_time
    from lava_cli.render.usage import DANGER_AT

    name = _key_title(kid, meta)
    expires = parse_api_time(key.expires_at)
    if expires is not None and expires - now <= EXPIRY_WARN:
        fix = f"`lava keys update {kid} --expires-in 30d`"
        return Check(name, "warn", f"expires at {key.expires_at}", fix)
    share = fraction(key.current_spend, key.spend_limit.amount if key.spend_limit else None)
    if share is not None and share >= DANGER_AT:
        fix = f"`lava keys update {kid} --spend-limit AMOUNT/CYCLE`"
        return Check(name, "warn", f"{share * 100:.0f}% of its spend limit is used", fix)
    saved_shape = meta.get("request_shape")
    if saved_shape and saved_shape != key.request_shape:
        text = f"saved as {saved_shape} shape, now {key.request_shape}"
        return Check(name, "warn", text, f"re-save it: `lava keys rotate {kid} --save`")
    return None
