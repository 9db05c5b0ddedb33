"""`lava emulator serve` and `lava demo`: the local emulator of Lava's API.

The emulator lives in the optional `[emulator]` extra (starlette + uvicorn); these
commands import it only when run, and say how to install it when it is missing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lava_cli.cli.common import app_of
from lava_cli.cli.numbers import AsciiFloatRange, AsciiInt, AsciiIntRange
from lava_cli.errors import UsageError

if TYPE_CHECKING:
    from types import ModuleType

app = typer.Typer(
    help="Run a local emulator of Lava's API.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


@app.callback()
def _group() -> None:
    """Run a local emulator of Lava's API."""  # a callback keeps a one-command app a group


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
    """One `aks_…` secret per line; blank lines and `#` comments are skipped."""
    from lava_cli.credentials import header_safe, looks_like_secret

    hint = "the file holds one aks_live_…/aks_test_… secret per line (# starts a comment)"
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
                f"--secrets-file: line {number} of {path} is not an aks_live_/aks_test_ secret",
                hint=hint,
            )
        secrets.append(text)
    return secrets


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[
        int,
        typer.Option(
            "--port", help="Port (0 picks a free one).", click_type=AsciiIntRange(0, 65535)
        ),
    ] = 8787,
    db: Annotated[
        Path | None, typer.Option("--db", help="SQLite file (default: in the user data dir).")
    ] = None,
    secrets_file: Annotated[
        Path | None, typer.Option("--secrets-file", help="One wallet secret (aks_…) per line.")
    ] = None,
    fault: Annotated[
        list[str] | None,
        typer.Option(
            "--fault",
            help="Inject failures into the gateway: KIND[:RATE] with KIND one of 500, 429, "
            "slow-first-byte, drop-mid-stream (repeatable).",
        ),
    ] = None,
    token_delay_ms: Annotated[
        float,
        typer.Option(
            "--token-delay-ms",
            help="Pause between streamed tokens.",
            click_type=AsciiFloatRange(0, 10_000),
        ),
    ] = 0.0,
    reply_tokens: Annotated[
        int | None,
        typer.Option(
            "--reply-tokens",
            help="Length of the offline models' replies (max_tokens can cut it).",
            click_type=AsciiIntRange(1, 1_000_000),
        ),
    ] = None,
    upstream: Annotated[
        list[str] | None,
        typer.Option(
            "--upstream",
            help="Forward a model to a real provider: MODEL=SHAPE:BASE_URL (repeatable); "
            "the provider key comes from LAVA_UPSTREAM_API_KEY.",
        ),
    ] = None,
    fault_seed: Annotated[
        int | None,
        typer.Option(
            "--fault-seed",
            help="Seed for --fault rates (repeatable runs).",
            click_type=AsciiInt(),
        ),
    ] = None,
) -> None:
    """Serve the emulator in the foreground until Ctrl-C.

    The secret in LAVA_SECRET_KEY is the first wallet's; --secrets-file adds one wallet
    per line; with neither, a test secret is generated and printed.
    Example: lava emulator serve --port 8787
    """
    server = load_emulator()
    factory = gateway_factory(fault or [], token_delay_ms, reply_tokens, upstream, fault_seed)
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
    import sys

    server.serve(
        host=host,
        port=port,
        db_path=str(db) if db else str(server.default_db_path()),
        secrets=secrets,
        generated_secret=not secrets,
        out=sys.stdout,
        app_factory=factory,
    )


def gateway_factory(
    faults: list[str],
    token_delay_ms: float,
    reply_tokens: int | None = None,
    upstreams: list[str] | None = None,
    fault_seed: int | None = None,
) -> object | None:
    """An app factory with the operator's gateway options (None for the defaults)."""
    if not (faults or token_delay_ms or reply_tokens or upstreams):
        return None
    from lava_cli.emulator.faults import Faults
    from lava_cli.emulator.gateway import GatewayOptions
    from lava_cli.emulator.replies import DEFAULT_REPLY_TOKENS, parse_upstream
    from lava_cli.emulator.server import with_gateway_options

    try:
        rules = Faults(faults, seed=fault_seed)
    except ValueError as exc:
        raise UsageError(f"--fault: {exc}") from None
    routed = {}
    if upstreams:
        from lava_cli.credentials import header_safe

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
        for text in upstreams:
            try:
                model, upstream = parse_upstream(text, api_key)
            except ValueError as exc:
                raise UsageError(f"--upstream: {exc}") from None
            routed[model] = upstream
    options = GatewayOptions(
        token_delay_ms=token_delay_ms,
        reply_tokens=reply_tokens or DEFAULT_REPLY_TOKENS,
        faults=rules,
        upstreams=routed,
    )
    return with_gateway_options(options)


def demo(
    ctx: typer.Context,
    pause_s: Annotated[
        float,
        typer.Option(
            "--pause", help="Seconds to wait between steps.", click_type=AsciiFloatRange(0, 10)
        ),
    ] = 0.0,
) -> None:
    """Tour the main job against a throwaway emulator: nothing touches your real config.

    Example: lava demo
    """
    from lava_cli.ops.demo import run_demo

    run_demo(app_of(ctx), pause_s=pause_s)
