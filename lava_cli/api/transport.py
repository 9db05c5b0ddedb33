"""How both clients (management and gateway) reach the host: TLS, proxies, failure names."""

from __future__ import annotations

from collections.abc import Callable

import httpx

Logger = Callable[[str], None]


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
