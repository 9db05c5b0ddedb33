"""Plain http to a host that is not this machine's loopback (an emulator in another
container): only when LAVA_ALLOW_HTTP_HOSTS names the host AND the calls carry an
`aks_test_` secret. The policy is config.check_base_url (unit tests below); end to end,
a refusal happens before any connection, and an allowed host really is used (this
machine's own name, which the policy does not treat as loopback)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from lava_cli.config import check_base_url
from lava_cli.errors import UsageError
from tests.conftest import run_lava

TEST = "aks_test_" + "h" * 32
LIVE = "aks_live_" + "h" * 32
WALLET_KEY = "lava_wk_" + "h" * 32
URL = "http://emulator:8787/v1"


def refused(url: str, secret: object = None) -> UsageError:
    with pytest.raises(UsageError) as caught:
        check_base_url(url, "LAVA_BASE_URL", secret=secret)  # type: ignore[arg-type]
    return caught.value


def never_read() -> str:
    raise AssertionError("the secret was read where the policy does not need it")


# --- the policy ---------------------------------------------------------------------------


def test_a_host_not_named_is_refused_and_the_hint_names_the_variable():
    err = refused(URL, TEST)
    assert "refusing plain http:// to emulator" in err.message
    assert err.hint is not None and "LAVA_ALLOW_HTTP_HOSTS" in err.hint


def test_a_named_host_is_allowed_with_a_test_secret(monkeypatch):
    monkeypatch.setenv("LAVA_ALLOW_HTTP_HOSTS", "emulator")
    assert check_base_url(URL + "/", secret=TEST) == URL


@pytest.mark.parametrize(
    ("secret", "said"),
    [(LIVE, "not aks_test_"), (WALLET_KEY, "not aks_test_"), (None, "no secret")],
)
def test_a_named_host_is_refused_without_a_test_secret(monkeypatch, secret, said):
    monkeypatch.setenv("LAVA_ALLOW_HTTP_HOSTS", "emulator")
    err = refused(URL, secret)
    assert said in err.message and "only aks_test_ secrets" in err.message


def test_the_secret_is_read_only_when_the_policy_needs_it(monkeypatch):
    monkeypatch.setenv("LAVA_ALLOW_HTTP_HOSTS", "emulator")
    for url in ("https://api.lava.so/v1", "http://127.0.0.1:8787/v1", "http://localhost/v1"):
        assert check_base_url(url, secret=never_read)
    refused("http://other:8787/v1", never_read)  # not named: refused without reading it
    assert check_base_url(URL, secret=lambda: TEST) == URL


@pytest.mark.parametrize(
    ("allowed", "url"),
    [
        ("Emulator", "http://EMULATOR.:8787/v1"),  # any case, a trailing dot
        (" lava-emu , emulator ,", URL),  # blanks and an empty entry
        ("10.0.0.5", "http://10.0.0.5:8787/v1"),
        ("[fd00::1]", "http://[fd00::1]:8787/v1"),
        ("fd00::1", "http://[fd00::1]:8787/v1"),
    ],
)
def test_names_are_exact_hosts(monkeypatch, allowed, url):
    monkeypatch.setenv("LAVA_ALLOW_HTTP_HOSTS", allowed)
    assert check_base_url(url, secret=TEST)


@pytest.mark.parametrize(
    "url", ["http://emulator2:8787/v1", "http://emulator.evil.example/v1", "http://10.0.0.50/v1"]
)
def test_no_other_host_rides_on_a_name(monkeypatch, url):
    monkeypatch.setenv("LAVA_ALLOW_HTTP_HOSTS", "emulator,10.0.0.5")
    refused(url, TEST)


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("*.internal", "is a wildcard"),
        ("emulator,*", "is a wildcard"),
        ("http://emulator", "is not a host name"),
        ("emulator:8787", "is not a host name"),
        ("emu lator", "is not a host name"),
    ],
)
def test_a_bad_variable_is_a_usage_error_naming_it(monkeypatch, value, said):
    monkeypatch.setenv("LAVA_ALLOW_HTTP_HOSTS", value)
    err = refused(URL, TEST)
    assert err.message.startswith("LAVA_ALLOW_HTTP_HOSTS: ") and said in err.message


# --- end to end -----------------------------------------------------------------------------


def own_name() -> tuple[str, str]:
    """This machine's name and the address it resolves to: a host the policy does not
    treat as loopback (it is not `localhost` nor an IP), but which reaches this machine."""
    name = socket.gethostname()
    try:
        address = socket.getaddrinfo(name, None, socket.AF_INET, socket.SOCK_STREAM)[0][4][0]
    except (OSError, IndexError):
        pytest.skip(f"this machine's name {name!r} does not resolve")
    if name.lower() in ("localhost", "localhost."):
        pytest.skip("this machine is called localhost")
    return name, str(address)


@pytest.fixture
def listener() -> Iterator[tuple[str, int, socket.socket]]:
    """A socket on this machine's own name that nobody should connect to."""
    name, address = own_name()
    sock = socket.create_server((address, 0))
    sock.setblocking(False)
    yield name, sock.getsockname()[1], sock
    sock.close()


def no_connection(sock: socket.socket) -> bool:
    try:
        conn, _ = sock.accept()
    except BlockingIOError:
        return True
    conn.close()
    return False


@pytest.mark.parametrize(
    ("allowed", "secret"),
    [(False, TEST), (True, LIVE), (True, WALLET_KEY)],
    ids=["not-named", "live-secret", "wallet-key"],
)
def test_a_refusal_happens_before_any_connection(listener, monkeypatch, allowed, secret):
    name, port, sock = listener
    monkeypatch.setenv("LAVA_BASE_URL", f"http://{name}:{port}/v1")
    monkeypatch.setenv("LAVA_SECRET_KEY", secret)
    if allowed:
        monkeypatch.setenv("LAVA_ALLOW_HTTP_HOSTS", name)
    result = run_lava("keys", "list")
    assert result.code == 2, result.output
    assert f"LAVA_BASE_URL: refusing plain http:// to {name}" in result.stderr
    assert secret not in result.output
    assert no_connection(sock)


@pytest.fixture
def named_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An emulator listening on the address this machine's name resolves to; the CLI
    pointed at it by that name, with the variable and a test secret."""
    from lava_cli.emulator.server import start_in_thread

    name, address = own_name()
    with start_in_thread(secrets=[TEST], host=address) as emu:
        port = emu.root_url.rsplit(":", 1)[1]
        base = f"http://{name}:{port}/v1"
        monkeypatch.setenv("LAVA_BASE_URL", base)
        monkeypatch.setenv("LAVA_SECRET_KEY", TEST)
        monkeypatch.setenv("LAVA_ALLOW_HTTP_HOSTS", name)
        yield base


def test_a_named_host_with_a_test_secret_is_used_for_management_and_the_gateway(
    named_emulator, monkeypatch
):
    made = run_lava("keys", "create", "--name", "over-http", "-q")
    assert made.code == 0, made.output
    listed = run_lava("keys", "list", "-q")
    assert listed.code == 0 and len(listed.stdout.split()) == 1
    # The gateway client holds only the spend key; the management secret decides.
    monkeypatch.setenv("LAVA_SPEND_KEY", made.stdout.strip())
    reply = run_lava("prompt", "hello", "--model", "gpt-4o-mini", "--no-stream")
    assert reply.code == 0, reply.output
    env = run_lava("env", "openai-sdk")  # tools get the same URL
    assert env.code == 0, env.output
    assert f"export OPENAI_BASE_URL='{named_emulator}'" in env.stdout


def test_plain_http_to_a_named_host_never_goes_through_a_proxy(named_emulator, proxy, monkeypatch):
    for variable, value in proxy.env().items():
        monkeypatch.setenv(variable, value)
    result = run_lava("keys", "list")
    assert result.code == 0, result.output
    assert proxy.connections() == 0  # the proxy would have seen the Bearer secret in clear
