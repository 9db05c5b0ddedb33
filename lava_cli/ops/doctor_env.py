"""`lava doctor`'s environment rules: variables that would shadow a tool's Lava settings.

The troubleshooting list from the seeds, applied to the variables AI tools read: a
key preview where a key belongs, a spend key sent to the provider's own host, an
Anthropic API key that Claude Code prefers over Lava's token, base URLs with or
without the `/v1` each SDK expects. One small rule per tool family; each returns the
checks it failed (none when all is well).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from lava_cli.config import LIVE_BASE_URL, SANDBOX_BASE_URL
from lava_cli.credentials import SPEND_KEY_PREFIX, redact
from lava_cli.ops.doctor_checks import Check

LAVA_HOSTS = frozenset(urlsplit(url).hostname for url in (LIVE_BASE_URL, SANDBOX_BASE_URL))
TOKEN_VARS = ("LAVA_SPEND_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_API_KEY", "OPENAI_API_KEY")


def is_lava(url: str, lava_url: str | None) -> bool:
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


def _spend(value: str) -> bool:
    return value.startswith(SPEND_KEY_PREFIX)


@dataclass(frozen=True)
class Env:
    """The variables, read the way tools read them, and where this profile's API is."""

    env: Mapping[str, str]
    lava_url: str | None

    def get(self, name: str) -> str:
        return self.env.get(name, "").strip()

    def at_lava(self, url: str) -> bool:
        return is_lava(url, self.lava_url)


def _fail(var: str, detail: str, fix: str) -> Check:
    return Check(f"env {var}", "fail", detail, fix)


def _warn(var: str, detail: str, fix: str) -> Check:
    return Check(f"env {var}", "warn", detail, fix)


def _previews(env: Env) -> list[Check]:
    """`lava_sk_abcd****` is what `keys list` shows, not a key anything accepts."""
    fix = "use the full lava_sk_ key; lost it? `lava keys rotate KEY --save`"
    return [
        _fail(var, f"{var} holds a key preview ({env.get(var)}), not the key", fix)
        for var in TOKEN_VARS
        if _spend(env.get(var)) and env.get(var).endswith("****")
    ]


def _spend_key_var(env: Env) -> list[Check]:
    spend = env.get("LAVA_SPEND_KEY")
    if not spend or _spend(spend):
        return []
    fix = "spend keys start with lava_sk_: `lava keys create --name NAME --save`"
    return [_fail("LAVA_SPEND_KEY", f"not a spend key ({redact(spend)})", fix)]


def _anthropic(env: Env) -> list[Check]:
    """Claude Code and the Anthropic SDK: which key wins, and where it goes."""
    key, token, base = (env.get(f"ANTHROPIC_{n}") for n in ("API_KEY", "AUTH_TOKEN", "BASE_URL"))
    found: list[Check] = []
    if key and not _spend(key) and (_spend(token) or env.at_lava(base)):
        detail = (
            f"ANTHROPIC_API_KEY ({redact(key)}) is set: it wins over ANTHROPIC_AUTH_TOKEN "
            "in Claude Code, and Lava will refuse it"
        )
        found.append(_fail("ANTHROPIC_API_KEY", detail, "unset ANTHROPIC_API_KEY"))
    if (_spend(key) or _spend(token)) and not env.at_lava(base):
        where = base or "api.anthropic.com (the default)"
        detail = f"a Lava spend key is set for Anthropic tools, but they go to {where}"
        fix = "export ANTHROPIC_BASE_URL=https://api.lava.so (or `lava env claude-code`)"
        found.append(_fail("ANTHROPIC_BASE_URL", detail, fix))
    if env.at_lava(base) and base.rstrip("/").endswith("/v1"):
        fix = "drop the /v1: the Anthropic SDK appends /v1/messages itself"
        found.append(_warn("ANTHROPIC_BASE_URL", f"ANTHROPIC_BASE_URL={base} ends in /v1", fix))
    return found


def _openai_pair(env: Env) -> list[Check]:
    """OpenAI SDK tools: a spend key and a base URL that must point the same way."""
    key, base = env.get("OPENAI_API_KEY"), env.get("OPENAI_BASE_URL")
    if _spend(key) and not env.at_lava(base):
        where = base or "api.openai.com (the default)"
        detail = f"OPENAI_API_KEY is a Lava spend key, but OpenAI tools go to {where}"
        fix = "export OPENAI_BASE_URL=https://api.lava.so/v1 (or `lava env openai-sdk`)"
        return [_fail("OPENAI_BASE_URL", detail, fix)]
    if key and not _spend(key) and env.at_lava(base):
        detail = f"OPENAI_BASE_URL is Lava's, but OPENAI_API_KEY ({redact(key)}) is no spend key"
        return [_fail("OPENAI_API_KEY", detail, '`eval "$(lava env openai-sdk --key KEY)"`')]
    if base and not env.at_lava(base) and env.get("LAVA_SPEND_KEY"):
        detail = f"OPENAI_BASE_URL={base} sends OpenAI-SDK tools elsewhere, not to Lava"
        return [_warn("OPENAI_BASE_URL", detail, 'unset it, or `eval "$(lava env openai-sdk)"`')]
    return []


def _openai_path(env: Env) -> list[Check]:
    base = env.get("OPENAI_BASE_URL")
    if not env.at_lava(base) or base.rstrip("/").endswith("/v1"):
        return []
    fix = "OpenAI SDKs append /chat/completions: use https://api.lava.so/v1"
    return [_warn("OPENAI_BASE_URL", f"OPENAI_BASE_URL={base} lacks /v1", fix)]


RULES: tuple[Callable[[Env], list[Check]], ...] = (
    _previews,
    _spend_key_var,
    _anthropic,
    _openai_pair,
    _openai_path,
)


def environment_checks(env: Mapping[str, str], lava_url: str | None) -> list[Check]:
    """Every rule's findings in order, or one pass when no variable is in the way."""
    view = Env(env, lava_url)
    found = [check for rule in RULES for check in rule(view)]
    return found or [Check("environment", "pass", "no variables shadow a tool's Lava settings")]
