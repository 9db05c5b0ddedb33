"""How both clients (management and gateway) reach the host: TLS, proxies, failure names."""

from __future__ import annotations

from collections.abc import Callable

import httpx

Logger = Callable[[str], None]
CONNECT_TIMEOUT_S = 10.0  # connecting, within whatever deadline the call has left


def http_client(
    base_url: str, timeout: float, *, root: str = "", headers: dict[str, str] | None = None
) -> httpx.Client:
    """The httpx client of both clients: lava's User-Agent, no redirects (a Bearer secret
    never follows one), loopback and plain http never through a proxy, TLS only for
    https. `root` is httpx's base for relative paths; every request also passes its
    own timeout, cut to the deadline left."""
    from lava_cli import __version__

    return httpx.Client(
        base_url=root,
        headers={"User-Agent": f"lava-cli/{__version__}", **(headers or {})},
        timeout=httpx.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT_S)),
        follow_redirects=False,
        mounts=direct_mounts(base_url),
        verify=tls_verify(base_url),
    )


def tls_verify(base_url: str) -> bool:
    """Verify certificates for https; skip building a TLS context for plain http.

    Loading the CA bundle costs ~40 ms per start, and check_base_url only lets http://
    go to loopback (the emulator), where no TLS happens and nothing is redirected.
    """
    return not base_url.startswith("http://")


def direct_mounts(base_url: str) -> dict[str, None]:
    """httpx mounts that send requests to a loopback or plain-http base URL straight to
    it, never through HTTP_PROXY / ALL_PROXY.

    A proxy's 127.0.0.1 is not ours, and plain http:// to an emulator (loopback, or a
    LAVA_ALLOW_HTTP_HOSTS host) would hand the proxy the Bearer secret in clear. A `None`
    mount is httpx's own NO_PROXY mechanism (the client's direct transport), so every
    other host keeps honouring the proxy variables, and trust_env keeps its other duties
    (SSL_CERT_FILE for https).
    """
    from urllib.parse import urlsplit

    from lava_cli.contract import is_loopback_host

    host = urlsplit(base_url).hostname
    if not host or not (is_loopback_host(host) or base_url.startswith("http://")):
        return {}
    return {f"all://[{host}]" if ":" in host else f"all://{host}": None}


def transport_reason(exc: Exception) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the connection was closed mid-answer"
    if isinstance(exc, httpx.DecodingError):
        return "the answer could not be decoded"
    return type(exc).__name__
