"""`lava emulator serve`: the local emulator of Lava's API, in the foreground.

The emulator lives in the optional `[emulator]` extra (starlette + uvicorn); it is
imported only when a command needs it, and a missing extra is a usage error that
names what to install. `lava demo` starts it the same way (`load_emulator`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lava_cli.errors import UsageError

if TYPE_CHECKING:
    from types import ModuleType

    from lava_cli.context import AppContext
    from lava_cli.emulator.upstream import Upstream


@dataclass(frozen=True)
class ServeOptions:
    """`lava emulator serve` after parsing: where to listen, which wallets, which faults."""

    host: str = "127.0.0.1"
    port: int = 8787
    db: Path | None = None
    secrets_file: Path | None = None
    faults: tuple[str, ...] = ()
    token_delay_ms: float = 0.0
    reply_tokens: int | None = None
    upstreams: tuple[str, ...] = ()
    fault_seed: int | None = None


def load_emulator() -> ModuleType:
    """The emulator's server module, or a usage error naming the extra to install."""
    try:
        from lava_cli.emulator import server
    except ImportError as exc:
        raise UsageError(
            f"the emulator needs the [emulator] extra ({exc.name or 'starlette'} is missing)",
            hint="pip install 'lava-cli[emulator]'",
        ) from None
    return server


def read_secrets_file(path: Path) -> list[str]:
    """One secret per line (`aks_…`, or a `lava_wk_…` wallet key); blank lines and `#`
    comments are skipped."""
    from lava_cli.credentials import header_safe, looks_like_secret

    hint = "the file holds one aks_live_…/aks_test_…/lava_wk_… secret per line (# starts a comment)"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UsageError(f"--secrets-file: cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"--secrets-file: {path} is not UTF-8 text", hint=hint) from None
    secrets: list[str] = []
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if not looks_like_secret(text) or not header_safe(text):
            raise UsageError(
                f"--secrets-file: line {number} of {path} is not an aks_live_/aks_test_/lava_wk_ "
                "secret",
                hint=hint,
            )
        secrets.append(text)
    return secrets


def wallet_secrets(secrets_file: Path | None) -> list[str]:
    """LAVA_SECRET_KEY's secret first (the first wallet), then the file's, each once."""
    secrets: list[str] = []
    env_secret = os.environ.get("LAVA_SECRET_KEY", "").strip()
    if env_secret:
        from lava_cli.credentials import check_secret_format

        try:
            secrets.append(check_secret_format(env_secret))
        except UsageError as exc:
            raise UsageError(f"LAVA_SECRET_KEY: {exc.message}", hint=exc.hint) from None
    if secrets_file is not None:
        secrets.extend(s for s in read_secrets_file(secrets_file) if s not in secrets)
    return secrets


def upstream_routes(upstreams: Sequence[str]) -> dict[str, Upstream]:
    """`MODEL=SHAPE:BASE_URL` flags as routes to real providers, keyed by model.

    The provider's key comes from LAVA_UPSTREAM_API_KEY, never from argv.
    """
    from lava_cli.credentials import header_safe
    from lava_cli.emulator.upstream import parse_upstream

    api_key = os.environ.get("LAVA_UPSTREAM_API_KEY", "").strip()
    if not api_key:
        raise UsageError(
            "--upstream needs the provider's API key in LAVA_UPSTREAM_API_KEY",
            hint="the key stays out of argv and shell history",
        )
    if not header_safe(api_key):
        raise UsageError(
            "LAVA_UPSTREAM_API_KEY holds characters no key has (non-ASCII, spaces or "
            "control characters)",
            hint="set it again to the provider's key, copied exactly",
        )
    routed: dict[str, Upstream] = {}
    for text in upstreams:
        try:
            model, upstream = parse_upstream(text, api_key)
        except ValueError as exc:
            raise UsageError(f"--upstream: {exc}") from None
        routed[model] = upstream
    return routed


def gateway_factory(
    faults: Sequence[str],
    token_delay_ms: float,
    reply_tokens: int | None = None,
    upstreams: Sequence[str] | None = None,
    fault_seed: int | None = None,
) -> object | None:
    """An app factory with the operator's gateway options (None for the defaults)."""
    if not (faults or token_delay_ms or reply_tokens or upstreams):
        return None
    from lava_cli.emulator.faults import Faults
    from lava_cli.emulator.gateway import GatewayOptions
    from lava_cli.emulator.replies import DEFAULT_REPLY_TOKENS
    from lava_cli.emulator.server import with_gateway_options

    try:
        rules = Faults(faults, seed=fault_seed)
    except ValueError as exc:
        raise UsageError(f"--fault: {exc}") from None
    options = GatewayOptions(
        token_delay_ms=token_delay_ms,
        reply_tokens=reply_tokens or DEFAULT_REPLY_TOKENS,
        faults=rules,
        upstreams=upstream_routes(upstreams) if upstreams else {},
    )
    return with_gateway_options(options)


def run_serve(app: AppContext, opts: ServeOptions) -> None:
    """Check every option, then serve until Ctrl-C (the emulator prints its exports)."""
    server = load_emulator()
    factory = gateway_factory(
        opts.faults, opts.token_delay_ms, opts.reply_tokens, opts.upstreams, opts.fault_seed
    )
    secrets = wallet_secrets(opts.secrets_file)
    server.serve(
        host=opts.host,
        port=opts.port,
        db_path=str(opts.db) if opts.db else str(server.default_db_path()),
        secrets=secrets,
        generated_secret=not secrets,
        out=app.stdout,
        app_factory=factory,
    )
