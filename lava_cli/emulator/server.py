"""Run the emulator: in a background thread (tests, `lava demo`) or in the foreground
(`lava emulator serve`).

Plugging in more routes: every app built here comes from `build_app`, which mounts
the routes of each provider in `ROUTE_PROVIDERS` ahead of the management API. A
provider is any ``(store, clock) -> Sequence[BaseRoute]`` callable; the gateway
(``/v1/chat/completions``, ``/v1/messages``), its read side (``/v1/requests``,
``/v1/usage``), secret keys, payments, browser login and ``/openapi.json`` each came
in with one import line and their name in that tuple.

The first secret a server starts with is its default wallet's
(`Store.default_wallet_id`): a browser login lands there.

Callers that need gateway options (fault injection, token delay, reply length,
upstreams) pass ``app_factory=with_gateway_options(opts)`` to `start_in_thread` /
`serve`: the same app, the gateway built with those options.
"""

from __future__ import annotations

import contextlib
import ipaddress
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import TextIO

import uvicorn
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from lava_cli.contract import is_loopback_host
from lava_cli.emulator.app import create_app
from lava_cli.emulator.authflow import auth_routes
from lava_cli.emulator.cycles import Clock, utc_now
from lava_cli.emulator.gateway import GatewayOptions, gateway_routes
from lava_cli.emulator.ids import new_test_secret
from lava_cli.emulator.openapi import openapi_routes
from lava_cli.emulator.payments import payment_routes
from lava_cli.emulator.reads import read_routes
from lava_cli.emulator.secretfile import load_or_create, secret_path
from lava_cli.emulator.secretkeys import secret_key_routes
from lava_cli.emulator.store import Store, StoreUnavailable
from lava_cli.errors import UsageError

RouteProvider = Callable[[Store, Clock], Sequence[BaseRoute]]
AppFactory = Callable[[Store, Clock], Starlette]

ROUTE_PROVIDERS: tuple[RouteProvider, ...] = (
    gateway_routes,
    read_routes,
    secret_key_routes,
    payment_routes,
    auth_routes,
    openapi_routes,
)

_START_TIMEOUT_S = 10.0


def build_app(store: Store, clock: Clock = utc_now) -> Starlette:
    """The full emulator: routes from `ROUTE_PROVIDERS`, then the management API."""
    extra = [route for provider in ROUTE_PROVIDERS for route in provider(store, clock)]
    return create_app(store, clock, extra_routes=extra)


def with_gateway_options(options: GatewayOptions) -> AppFactory:
    """An app factory like `build_app`, with the gateway built from `options`."""

    def factory(store: Store, clock: Clock) -> Starlette:
        extra: list[BaseRoute] = list(gateway_routes(store, clock, options))
        for provider in ROUTE_PROVIDERS:
            if provider is not gateway_routes:
                extra.extend(provider(store, clock))
        return create_app(store, clock, extra_routes=extra)

    return factory


def default_db_path() -> Path:
    """Where `lava emulator serve` keeps its state unless told otherwise."""
    from platformdirs import user_data_path

    return user_data_path("lava-cli") / "emulator.sqlite3"


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _is_unspecified(host: str) -> bool:
    """``0.0.0.0`` / ``::``: listening on every interface, an address nobody can call."""
    try:
        return host == "" or ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return False


def reachable_host(host: str) -> str:
    """The host to put in a URL for the listening address `host`: this machine's
    loopback for an unspecified one (``0.0.0.0`` -> ``127.0.0.1``, ``::`` -> ``::1``:
    a client cannot connect to ``0.0.0.0``, and the CLI refuses it), else `host`."""
    if _is_unspecified(host):
        return "::1" if ":" in host else "127.0.0.1"
    return host


def _bind(host: str, port: int) -> socket.socket:
    """A bound socket (port 0 picks a free one), so the real port is known up front."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit this. Without it, uvicorn's separate header and body
    # writes meet Nagle + delayed ACK and every response takes ~40 ms (measured).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UsageError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}",
            hint="choose another --port (0 picks a free one) or --host",
        ) from None
    return sock


def _open_wallets(store: Store, secrets: Sequence[str]) -> None:
    """A wallet for each secret (kept when the database knows it); the first is the
    default wallet, where a browser login lands."""
    for n, secret in enumerate(secrets):
        wallet = store.create_wallet(secret)
        if n == 0:
            store.default_wallet_id = wallet.wallet_id


class EmulatorHandle:
    """A running emulator in a background thread. Use as a context manager.

    `secrets[0]` is the default wallet's secret; `reset()` forgets every key, request,
    payment and minted secret (wallets and the secrets they started with stay), for
    tests between cases.
    """

    def __init__(
        self,
        *,
        server: uvicorn.Server,
        thread: threading.Thread,
        sock: socket.socket,
        store: Store,
        secrets: list[str],
        root_url: str,
        tmpdir: str | None,
    ) -> None:
        self.store = store
        self.secrets = secrets
        self.root_url = root_url
        self.base_url = root_url + "/v1"
        self._server = server
        self._thread = thread
        self._sock = sock
        self._tmpdir = tmpdir

    def reset(self) -> None:
        self.store.reset()

    def stop(self) -> None:
        """Shut the server down, close the database, delete a throwaway one."""
        self._server.should_exit = True
        self._thread.join(timeout=_START_TIMEOUT_S)
        self._sock.close()
        self.store.close()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self) -> EmulatorHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_in_thread(
    *,
    db_path: str | None = None,
    secrets: list[str] | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    clock: Clock | None = None,
    app_factory: AppFactory | None = None,
) -> EmulatorHandle:
    """Start the emulator on a real socket in a daemon thread and wait until it serves.

    `db_path` None means a throwaway database file, deleted on `stop()`. Without
    `secrets`, one ``aks_test_`` wallet secret is generated.
    """
    clock = clock or utc_now
    tmpdir = None
    if db_path is None:
        tmpdir = tempfile.mkdtemp(prefix="lava-emulator-")
        store = Store(Path(tmpdir) / "emulator.sqlite3", clock=clock, durable=False)
    else:
        store = Store(db_path, clock=clock)
    wallet_secrets = list(secrets) if secrets else [new_test_secret()]
    _open_wallets(store, wallet_secrets)
    app = (app_factory or build_app)(store, clock)
    sock = _bind(host, port)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="lava-emulator", daemon=True
    )
    thread.start()
    if not _started(server, thread):
        server.should_exit = True
        sock.close()
        store.close()
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)
        raise RuntimeError("the emulator did not start")
    bound_port = sock.getsockname()[1]
    return EmulatorHandle(
        server=server,
        thread=thread,
        sock=sock,
        store=store,
        secrets=wallet_secrets,
        root_url=f"http://{_url_host(host)}:{bound_port}",
        tmpdir=tmpdir,
    )


def _started(server: uvicorn.Server, thread: threading.Thread) -> bool:
    """Wait until uvicorn serves; False when its thread died or `_START_TIMEOUT_S` passed."""
    deadline = time.monotonic() + _START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8787,
    db_path: str | None = None,
    secrets: Sequence[str] = (),
    generated_secret: bool = False,
    out: TextIO = sys.stdout,
    err: TextIO | None = None,
    app_factory: AppFactory | None = None,
) -> None:
    """Serve in the foreground until Ctrl-C (`lava emulator serve`).

    Prints the ``export`` lines a shell needs; ``LAVA_SECRET_KEY`` only when the
    secret is the emulator's own (or the caller generated it, `generated_secret`),
    never one the user supplied. With no secrets at all, the secret kept beside the
    database (secretfile.py) is used, made on the first start: the same wallet on
    every start.
    """
    err = err or sys.stderr
    wallet_secrets = list(secrets)
    path = Path(db_path) if db_path else default_db_path()
    sock = _bind(host, port)
    try:
        store = _open_store(path)
    except BaseException:
        sock.close()
        raise
    try:
        kept: Path | None = None
        made_now = False
        if not wallet_secrets:
            kept = secret_path(path)
            secret, made_now, warning = load_or_create(kept)
            if warning:
                err.write(f"WARNING: {warning}\n")
            wallet_secrets, generated_secret = [secret], True
        _open_wallets(store, wallet_secrets)
        app = (app_factory or build_app)(store, utc_now)
        bound = sock.getsockname()[1]
        root = f"http://{_url_host(reachable_host(host))}:{bound}"
        if not is_loopback_host(host):
            err.write(
                f"WARNING: listening on {host}, which is not a loopback address: anyone who "
                "can reach this machine can use the emulator. Use --host 127.0.0.1 unless "
                "you mean it.\n"
            )
            err.flush()
        lines = _announcement(root, path, wallet_secrets, generated_secret, kept, made_now)
        if _is_unspecified(host):
            lines += _elsewhere(bound)

        def announce() -> None:
            out.write(lines)
            out.flush()

        config = uvicorn.Config(app, log_level="warning", lifespan="off")
        # uvicorn shuts down cleanly on Ctrl-C, then re-raises the signal; stopping is
        # the normal way out of a foreground server, not an error.
        with contextlib.suppress(KeyboardInterrupt):
            _AnnouncingServer(config, announce).run(sockets=[sock])
    finally:
        sock.close()
        store.close()


def _announcement(
    root: str,
    path: Path,
    secrets: Sequence[str],
    generated: bool,
    kept: Path | None = None,
    made_now: bool = False,
) -> str:
    """The lines `serve` prints: a comment, then what a shell must ``eval``, then
    comments. The secret only when it is the emulator's own, never one the user
    supplied."""
    lines = [
        f"# Lava emulator on {root} (database {path}); Ctrl-C stops it.",
        f"export LAVA_BASE_URL={root}/v1",
    ]
    if generated:
        lines.append(f"export LAVA_SECRET_KEY={secrets[0]}")
    # Lava's Node SDK joins paths onto its baseUrl: without the slash every call 404s.
    lines.append(f"# Lava's Node SDK: baseUrl {root}/v1/ (with the trailing slash)")
    if kept is not None:
        first = "a new wallet; its" if made_now else "the same wallet as last time; its"
        lines.append(f"# {first} secret is kept in {kept} (0600) for the next start")
    elif generated:
        lines.append("# (a new wallet each start: set LAVA_SECRET_KEY to keep one)")
    else:
        lines.append(f"# {len(secrets)} wallet(s) from the secrets you gave.")
    return "".join(line + "\n" for line in lines)


def _elsewhere(port: int) -> str:
    """How other machines and containers reach an emulator listening everywhere."""
    name = socket.gethostname()
    return (
        f"# From another container or machine: http://<this machine's name or address>:{port}"
        f"/v1 (this one calls itself {name}; in docker compose, the service name).\n"
        "# lava speaks plain http to it only with that host in LAVA_ALLOW_HTTP_HOSTS and an "
        "aks_test_ secret.\n"
    )


def _open_store(path: Path) -> Store:
    """The database at `path`, or a usage error naming the file and what is wrong."""
    try:
        return Store(path)
    except StoreUnavailable as exc:
        raise UsageError(
            f"cannot use {path} as the emulator's database: {exc}",
            hint="pass --db a writable file: a new one, or one `lava emulator serve` made",
        ) from None


class _AnnouncingServer(uvicorn.Server):
    """A uvicorn server that prints the ``export`` lines once it is serving.

    Not before: a bound socket refuses connections until something listens on it, and
    a script (or a test) acts on ``LAVA_BASE_URL`` the moment it reads it. By the time
    `startup` returns, the socket listens and uvicorn's Ctrl-C handler is installed,
    so whatever the reader does next works.
    """

    def __init__(self, config: uvicorn.Config, announce: Callable[[], None]) -> None:
        super().__init__(config)
        self._announce = announce

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self._announce()
