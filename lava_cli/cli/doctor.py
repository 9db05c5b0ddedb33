"""`lava doctor`: one command that answers "why doesn't it work?".

Each check passes, warns or fails with a fix. A check never raises: any error in it
becomes that check's failure, so the report always completes. Checks that need an
earlier one (API calls need a secret and a reachable URL) are left out when it failed.
Exit 0 when nothing failed (warnings allowed), 1 when any check failed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import typer

from lava_cli.cli.common import JsonOpt, app_of
from lava_cli.credentials import redact, scrub
from lava_cli.errors import ExitCode, LavaError

if TYPE_CHECKING:
    from lava_cli.api.client import LavaClient
    from lava_cli.api.types import SpendKey
    from lava_cli.context import AppContext
    from lava_cli.credentials import Secret

LAVA_HOSTS = frozenset({"api.lava.so", "sandbox-api.lavapayments.com"})
SKEW_WARN = timedelta(seconds=60)
SKEW_FAIL = timedelta(minutes=5)
EXPIRY_WARN = timedelta(days=7)
PROBE_TIMEOUT_S = 10.0


class DoctorFailed(LavaError):
    """At least one doctor check failed (exit 1)."""

    exit_code = ExitCode.API_ERROR


@dataclass(frozen=True)
class Check:
    check: str
    status: str  # pass | warn | fail
    detail: str
    fix: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _State:
    """What earlier checks found, for the later ones."""

    secret: Secret | None = None
    url: str | None = None
    client: LavaClient | None = None
    reachable: bool = False
    keys: dict[str, SpendKey] | None = None
    wallet_id: str | None = None
    results: list[Check] = field(default_factory=list)


def _guard(state: _State, name: str, fn: Callable[[], Iterable[Check]]) -> None:
    try:
        state.results.extend(fn())
    except LavaError as exc:
        state.results.append(Check(name, "fail", scrub(exc.message), exc.hint))
    except Exception as exc:  # a diagnostic tool must finish its report
        detail = f"unexpected {type(exc).__name__}: {scrub(str(exc))[:200]}"
        state.results.append(Check(name, "fail", detail, "this is a bug in lava; please report it"))


def _profile(app: AppContext) -> Iterable[Check]:
    env = "LAVA_PROFILE" if os.environ.get("LAVA_PROFILE") else "default"
    source = "--profile" if app.profile_flag else env
    name = app.profile
    where = f"profile {name!r} (from {source}), config {app.config.path}"
    if source != "default" and not app.profile_settings and "LAVA_SECRET_KEY" not in os.environ:
        yield Check("profile", "warn", f"{where}: not saved yet", f"lava --profile {name} login")
    else:
        yield Check("profile", "pass", where)


def _config_dir(app: AppContext) -> Iterable[Check]:
    """A directory other users can write to is no place for secrets or settings."""
    from lava_cli.config import unsafe_dir_problem

    directory = app.config.path.parent
    problem = unsafe_dir_problem(directory)
    if problem is not None:
        yield Check("config dir", "fail", problem[0], problem[1])
    else:
        yield Check("config dir", "pass", f"{directory}: only you can change it")


def _credential(app: AppContext, state: _State) -> Iterable[Check]:
    from lava_cli.credentials import SPEND_KEY_PREFIX, looks_like_secret

    found = app.find_secret()
    if found is None:
        fix = "run `lava login`, or set LAVA_SECRET_KEY (aks_live_… / aks_test_…)"
        yield Check("credential", "fail", f"no secret for profile {app.profile!r}", fix)
        return
    where = "the environment (LAVA_SECRET_KEY)" if found.source == "env" else found.location
    if found.source == "keyring":
        from lava_cli.credentials import keyring_backend_name

        where = f"the OS keyring ({keyring_backend_name()})"
    detail = f"{redact(found.value)} ({found.mode} mode) from {where}"
    if found.value.startswith(SPEND_KEY_PREFIX) or not looks_like_secret(found.value):
        yield Check(
            "credential", "fail", f"{redact(found.value)} from {where} is not a secret key",
            "use the secret key (aks_…) from Dashboard > Gateway > Secrets: `lava login`",
        )  # fmt: skip
        return
    state.secret = found
    stored = app.profile_settings.get("secret_storage")
    if found.source == "env" and stored:
        detail += f"; it overrides the secret stored in the {stored} for this profile"
    if found.source == "file":
        mode = os.stat(found.location).st_mode & 0o777
        if mode & 0o077:
            text = f"{detail}; the file is readable by others ({mode:o})"
            yield Check("credential", "fail", text, f"chmod 600 {found.location}")
            return
        fix = "prefer the OS keyring: `lava login` without --insecure-storage"
        yield Check("credential", "warn", detail + " (a plaintext file)", fix)
        return
    yield Check("credential", "pass", detail)


def _base_url(app: AppContext, state: _State) -> Iterable[Check]:
    url, source = app.base_url(state.secret.value if state.secret else None)
    state.url = url
    # check_base_url (in base_url) allows plain http to loopback addresses only.
    tls = urlsplit(url).scheme == "https"
    transport = "over TLS (https)" if tls else "plain http to this machine (the emulator?)"
    yield Check("base URL", "pass", f"{url} (from {source}), {transport}")


def _reachable(state: _State) -> Iterable[Check]:
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


def _server_date(url: str) -> str | None:
    """The Date header of GET {url}/models (public, no secret sent), or None."""
    import urllib.error
    import urllib.request

    from lava_cli.config import is_loopback_host

    # The URL passed check_base_url: https, or http to loopback only.
    request = urllib.request.Request(url + "/models", headers={"User-Agent": "lava-cli"})  # noqa: S310
    # urllib reads HTTP_PROXY/ALL_PROXY too: loopback goes direct, as the API clients do.
    direct = is_loopback_host(urlsplit(url).hostname or "")
    opener = urllib.request.build_opener(*([urllib.request.ProxyHandler({})] if direct else []))
    try:
        with opener.open(request, timeout=PROBE_TIMEOUT_S) as response:
            value = response.headers.get("Date")
    except urllib.error.HTTPError as exc:
        value = exc.headers.get("Date")
    except (OSError, ValueError):
        return None
    return value if isinstance(value, str) else None


def _clock(state: _State) -> Iterable[Check]:
    from email.utils import parsedate_to_datetime

    assert state.url is not None
    before = datetime.now(timezone.utc)
    header = _server_date(state.url)
    after = datetime.now(timezone.utc)
    if header is None:
        yield Check("clock", "pass", "not measured: the API sent no Date header")
        return
    try:
        server = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        yield Check("clock", "pass", f"not measured: unreadable Date header {header!r}")
        return
    skew = before + (after - before) / 2 - server
    size = abs(skew)
    side = "ahead of" if skew > timedelta(0) else "behind"
    text = f"local clock is {size.total_seconds():.0f} s {side} the API"
    fix = "sync your clock (NTP): expiry times (--expires-in) are computed locally"
    if size > SKEW_FAIL:
        yield Check("clock", "fail", text, fix)
    elif size > SKEW_WARN:
        yield Check("clock", "warn", text, fix)
    else:
        yield Check("clock", "pass", text + " (Date header, 1 s resolution)")


def _secret_valid(state: _State) -> Iterable[Check]:
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


def _saved_key(state: _State, kid: str, meta: dict[str, Any]) -> Check:
    from lava_cli.credentials import load_secret, spend_key_entry
    from lava_cli.ops.check import evaluate, fix_hint
    from lava_cli.ops.usage_numbers import fraction
    from lava_cli.parsing import parse_api_time
    from lava_cli.render.usage import DANGER_AT

    assert state.keys is not None
    name = f"saved key {meta.get('name') or kid}"
    key = state.keys.get(kid)
    saved_wallet = meta.get("wallet_id")
    if key is None and saved_wallet and state.wallet_id and saved_wallet != state.wallet_id:
        text = f"{kid} was saved from wallet {saved_wallet}; this secret manages {state.wallet_id}"
        fix = f"check it with that wallet's secret, or drop it here: `lava keys forget {kid}`"
        return Check(name, "warn", text, fix)
    if key is None:
        fix = (
            f"drop the saved copy: `lava keys forget {kid}` (then, for a new one, "
            f"`lava keys create --name {meta.get('name') or 'NAME'} --save`)"
        )
        return Check(name, "fail", f"{kid} no longer exists (revoked?)", fix)
    now = datetime.now(timezone.utc)
    verdict = evaluate(key, now)
    if not verdict.ok:
        return Check(name, "fail", "; ".join(verdict.reasons), fix_hint(verdict))
    raw = load_secret(spend_key_entry(kid), "file" if meta.get("storage") == "file" else "keyring")
    rotate = f"`lava keys rotate {kid} --save`"
    if not raw:
        return Check(name, "fail", "its raw value is missing from the keyring", rotate)
    if key.key_preview and redact(raw) != key.key_preview:
        return Check(name, "fail", "the saved value is stale (rotated elsewhere)", rotate)
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
        return Check(name, "warn", text, f"re-save it: {rotate}")
    return Check(name, "pass", f"{kid}: active, {key.request_shape} shape, budget left")


def _saved_keys(app: AppContext, state: _State) -> Iterable[Check]:
    from lava_cli.ops.keys import saved_keys

    entries = saved_keys(app)
    if not entries:
        yield Check("saved keys", "pass", "none saved in this profile")
        return
    for kid, meta in entries.items():
        info = meta if isinstance(meta, dict) else {}
        one = _State()
        _guard(one, f"saved key {info.get('name') or kid}", partial(_one_key, state, kid, info))
        yield from one.results


def _one_key(state: _State, kid: str, info: dict[str, Any]) -> list[Check]:
    return [_saved_key(state, kid, info)]


# --- environment variables that shadow a tool's settings -------------------------------


def _is_lava(url: str, lava_url: str | None) -> bool:
    """Lava's hosts, or the host:port this profile talks to (the emulator)."""
    if not url:
        return False
    parts = urlsplit(url.strip())
    if parts.hostname in LAVA_HOSTS:
        return True
    if lava_url:
        mine = urlsplit(lava_url)
        return (parts.hostname, parts.port) == (mine.hostname, mine.port)
    return False


def environment_checks(env: Mapping[str, str], lava_url: str | None) -> list[Check]:
    """The seeds' troubleshooting list, applied to the variables tools read."""
    from lava_cli.credentials import SPEND_KEY_PREFIX

    out: list[Check] = []

    def add(var: str, status: str, detail: str, fix: str) -> None:
        out.append(Check(f"env {var}", status, detail, fix))

    def get(name: str) -> str:
        return env.get(name, "").strip()

    def lava(value: str) -> bool:
        return value.startswith(SPEND_KEY_PREFIX)

    def at_lava(url: str) -> bool:
        return _is_lava(url, lava_url)

    for var in ("LAVA_SPEND_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_API_KEY", "OPENAI_API_KEY"):
        if lava(get(var)) and get(var).endswith("****"):
            fix = "use the full lava_sk_ key; lost it? `lava keys rotate KEY --save`"
            add(var, "fail", f"{var} holds a key preview ({get(var)}), not the key", fix)
    spend = get("LAVA_SPEND_KEY")
    if spend and not lava(spend):
        fix = "spend keys start with lava_sk_: `lava keys create --name NAME --save`"
        add("LAVA_SPEND_KEY", "fail", f"not a spend key ({redact(spend)})", fix)
    a_key, a_token, a_base = (get(f"ANTHROPIC_{n}") for n in ("API_KEY", "AUTH_TOKEN", "BASE_URL"))
    if a_key and not lava(a_key) and (lava(a_token) or at_lava(a_base)):
        detail = (
            f"ANTHROPIC_API_KEY ({redact(a_key)}) is set: it wins over ANTHROPIC_AUTH_TOKEN "
            "in Claude Code, and Lava will refuse it"
        )
        add("ANTHROPIC_API_KEY", "fail", detail, "unset ANTHROPIC_API_KEY")
    if (lava(a_key) or lava(a_token)) and not at_lava(a_base):
        where = a_base or "api.anthropic.com (the default)"
        detail = f"a Lava spend key is set for Anthropic tools, but they go to {where}"
        fix = "export ANTHROPIC_BASE_URL=https://api.lava.so (or `lava env claude-code`)"
        add("ANTHROPIC_BASE_URL", "fail", detail, fix)
    if at_lava(a_base) and a_base.rstrip("/").endswith("/v1"):
        fix = "drop the /v1: the Anthropic SDK appends /v1/messages itself"
        add("ANTHROPIC_BASE_URL", "warn", f"ANTHROPIC_BASE_URL={a_base} ends in /v1", fix)
    o_key, o_base = get("OPENAI_API_KEY"), get("OPENAI_BASE_URL")
    if lava(o_key) and not at_lava(o_base):
        where = o_base or "api.openai.com (the default)"
        detail = f"OPENAI_API_KEY is a Lava spend key, but OpenAI tools go to {where}"
        fix = "export OPENAI_BASE_URL=https://api.lava.so/v1 (or `lava env openai-sdk`)"
        add("OPENAI_BASE_URL", "fail", detail, fix)
    elif o_key and not lava(o_key) and at_lava(o_base):
        detail = f"OPENAI_BASE_URL is Lava's, but OPENAI_API_KEY ({redact(o_key)}) is no spend key"
        add("OPENAI_API_KEY", "fail", detail, '`eval "$(lava env openai-sdk --key KEY)"`')
    elif o_base and not at_lava(o_base) and spend:
        detail = f"OPENAI_BASE_URL={o_base} sends OpenAI-SDK tools elsewhere, not to Lava"
        add("OPENAI_BASE_URL", "warn", detail, 'unset it, or `eval "$(lava env openai-sdk)"`')
    if at_lava(o_base) and not o_base.rstrip("/").endswith("/v1"):
        fix = "OpenAI SDKs append /chat/completions: use https://api.lava.so/v1"
        add("OPENAI_BASE_URL", "warn", f"OPENAI_BASE_URL={o_base} lacks /v1", fix)
    if not out:
        out.append(Check("environment", "pass", "no variables shadow a tool's Lava settings"))
    return out


def run_checks(app: AppContext) -> list[Check]:
    state = _State()
    _guard(state, "profile", lambda: _profile(app))
    _guard(state, "config dir", lambda: _config_dir(app))
    _guard(state, "credential", lambda: _credential(app, state))
    _guard(state, "base URL", lambda: _base_url(app, state))
    if state.url is not None:
        _guard(state, "API reachable", lambda: _reachable(state))
    if state.reachable:
        _guard(state, "clock", lambda: _clock(state))
        if state.secret is not None:
            _guard(state, "secret valid", lambda: _secret_valid(state))
    if state.keys is not None:
        _guard(state, "saved keys", lambda: _saved_keys(app, state))
    _guard(state, "environment", lambda: environment_checks(os.environ, state.url))
    if state.client is not None:
        state.client.close()
    return state.results


def doctor(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """Check the setup end to end and say what to fix.

    Profile and base URL (and why), which secret wins and where it lives, whether
    the API answers and accepts it, saved spend keys' health, environment variables
    that would shadow a tool's settings, clock skew. Exit 0 when nothing fails.

    Example: lava doctor --json | jq '.[] | select(.status != "pass")'
    """
    app_ = app_of(ctx)
    results = run_checks(app_)
    if json_:
        app_.out.json([c.to_json() for c in results])
    else:
        _render(app_, results)
    failed = [c for c in results if c.status == "fail"]
    if failed:
        raise DoctorFailed(
            f"{len(failed)} of {len(results)} checks failed: " + ", ".join(c.check for c in failed),
            hint="follow the fix under each failed check",
        )


def _render(app: AppContext, results: list[Check]) -> None:
    if not app.stdout_tty:
        app.out.tsv([[c.status, c.check, c.detail, c.fix or "-"] for c in results])
        return
    from lava_cli.render.output import markup_safe as safe

    con = app.out.console()
    marks = {"pass": "[green]✓[/]", "warn": "[yellow]![/]", "fail": "[red]✗[/]"}
    for c in results:
        con.print(f"{marks[c.status]} [bold]{safe(c.check)}[/]: {safe(c.detail)}")
        if c.fix and c.status != "pass":
            con.print(f"    [cyan]fix:[/] {safe(c.fix)}")
