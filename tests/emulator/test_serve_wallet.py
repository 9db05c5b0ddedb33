"""`serve()` as people run it (`lava emulator serve`), in real subprocesses: the SDK's
base URL, one wallet kept across restarts through the secret beside the database, a
URL that works when listening on every interface, and a browser login that lands in
the wallet the emulator was started with."""

from __future__ import annotations

import signal
import socket
import stat
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from tests.helpers.emulators import Served, serving

GIVEN = "aks_test_" + "G" * 32

pytestmark = pytest.mark.slow


def test_the_sdk_base_url_is_printed_with_its_trailing_slash(tmp_path: Path) -> None:
    with serving(tmp_path / "db.sqlite3", secrets=(GIVEN,)) as served:
        sdk = next(line for line in served.lines if line.startswith("# Lava's Node SDK"))
        assert sdk == f"# Lava's Node SDK: baseUrl {served.base}/ (with the trailing slash)\n"
        with served.client(GIVEN) as api:  # the SDK's base + "spend_keys" works
            assert httpx.get(served.base + "/spend_keys", headers=api.headers).status_code == 200


def test_started_without_a_secret_the_wallet_is_kept_across_restarts(tmp_path: Path) -> None:
    db = tmp_path / "emu.sqlite3"
    kept = tmp_path / "emu.sqlite3.secret"
    with serving(db) as first:
        secret = first.exports["LAVA_SECRET_KEY"]
        assert secret.startswith("aks_test_")
        assert kept.read_text() == secret + "\n"
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600
        assert f"# a new wallet; its secret is kept in {kept} (0600) for the next start\n" in (
            first.lines
        )
        with first.client(secret) as api:
            key = api.post("/spend_keys", json={"name": "made before the restart"}).json()
            wallet = api.get("/wallet").json()["wallet_id"]
    with serving(db) as second:
        assert second.exports["LAVA_SECRET_KEY"] == secret  # printed again
        assert any("the same wallet as last time" in line for line in second.lines)
        with second.client(secret) as api:
            assert api.get("/wallet").json()["wallet_id"] == wallet
            listed = api.get("/spend_keys").json()["data"]
            assert [k["spend_key_id"] for k in listed] == [key["spend_key_id"]]
    assert kept.read_text() == secret + "\n"


def test_a_given_secret_leaves_no_file_and_is_never_printed(tmp_path: Path) -> None:
    with serving(tmp_path / "db.sqlite3", secrets=(GIVEN,)) as served:
        assert "LAVA_SECRET_KEY" not in served.exports
        assert GIVEN not in "".join(served.lines)
    assert not (tmp_path / "db.sqlite3.secret").exists()


def test_a_secret_file_others_can_read_is_tightened_with_a_warning(tmp_path: Path) -> None:
    kept = tmp_path / "db.sqlite3.secret"
    mine = "aks_test_" + "m" * 32
    kept.write_text(mine + "\n")
    kept.chmod(0o644)
    with serving(tmp_path / "db.sqlite3") as served:
        assert served.exports["LAVA_SECRET_KEY"] == mine
        served.proc.send_signal(signal.SIGINT)
        served.proc.wait(timeout=20)
        assert served.proc.stderr is not None
        err = served.proc.stderr.read()
    assert f"WARNING: {kept} was readable by others (mode 0644); it is now 0600" in err
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600


@pytest.mark.parametrize("content", ["", "not a secret\n", "lava_sk_" + "x" * 40, "aks_test_"])
def test_a_secret_file_without_a_secret_is_a_usage_error(tmp_path: Path, content: str) -> None:
    kept = tmp_path / "db.sqlite3.secret"
    kept.write_text(content)
    code = (
        "import sys\n"
        "from lava_cli.emulator.server import serve\n"
        "from lava_cli.errors import UsageError\n"
        "try:\n"
        f"    serve(port=0, db_path={str(tmp_path / 'db.sqlite3')!r}, out=sys.stdout)\n"
        "except UsageError as exc:\n"
        "    print(exc.message); print(exc.hint); sys.exit(2)\n"
    )
    # A subprocess with a deadline: a serve() that took the file would serve forever.
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    message, hint = done.stdout.splitlines()
    assert str(kept) in message and "delete" in hint
    assert kept.read_text() == content  # never overwritten


def test_listening_everywhere_prints_a_url_that_works(tmp_path: Path) -> None:
    with serving(tmp_path / "db.sqlite3", host="0.0.0.0", secrets=(GIVEN,)) as served:
        assert served.base.startswith("http://127.0.0.1:")
        with served.client(GIVEN) as api:
            assert api.get("/wallet").status_code == 200
        text = "".join(served.lines)
        port = urlsplit(served.base).port
        assert (
            f"From another container or machine: http://<this machine's name or address>:{port}/v1"
            in text
        )
        assert socket.gethostname() in text and "LAVA_ALLOW_HTTP_HOSTS" in text
        assert "0.0.0.0" not in text


def test_listening_on_every_ipv6_interface_prints_the_ipv6_loopback(tmp_path: Path) -> None:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    with serving(tmp_path / "db.sqlite3", host="::", secrets=(GIVEN,)) as served:
        assert served.base.startswith("http://[::1]:")
        with served.client(GIVEN) as api:
            assert api.get("/wallet").status_code == 200


# --- browser login lands in the started wallet ------------------------------------------


def _web_login(served: Served) -> dict[str, str]:
    """Be the browser and the CLI: open the page, authorize, trade the code."""
    page = httpx.get(served.root + "/auth/connect", params={"state": "s1", "port": "5"})
    assert page.status_code == 200
    decided = httpx.post(
        served.root + "/auth/connect/decision",
        data={"state": "s1", "port": "5", "decision": "authorize"},
    )
    assert decided.status_code == 303
    code = dict(parse_qsl(urlsplit(decided.headers["location"]).query))["code"]
    credentials = httpx.post(served.base + "/auth/callback", json={"code": code})
    assert credentials.status_code == 200
    body: dict[str, str] = credentials.json()
    body["page"] = page.text
    return body


@pytest.mark.parametrize("given", [(), (GIVEN, "aks_test_" + "H" * 32)], ids=["generated", "given"])
def test_web_login_authorizes_into_the_started_wallet(
    tmp_path: Path, given: tuple[str, ...]
) -> None:
    with serving(tmp_path / "db.sqlite3", secrets=given) as served:
        started = given[0] if given else served.exports["LAVA_SECRET_KEY"]
        with served.client(started) as owner:
            wallet = owner.get("/wallet").json()["wallet_id"]
            key = owner.post("/spend_keys", json={"name": "made by the owner"}).json()
            login = _web_login(served)
            assert f"id=wallet>{wallet}</dd>" in login["page"]  # the page names the wallet
            assert login["wallet_id"] == wallet
            assert login["secret_key"].startswith("aks_test_") and login["secret_key"] != started
            minted = {k["secret_key_id"]: k for k in owner.get("/secret_keys").json()["data"]}
            assert minted[login["secret_key_id"]]["name"] == "lava login --web"
            assert login["secret_key"][-4:] in minted[login["secret_key_id"]]["secret_key_hint"]
        with served.client(login["secret_key"]) as cli:
            assert cli.get("/wallet").json()["wallet_id"] == wallet
            assert [k["spend_key_id"] for k in cli.get("/spend_keys").json()["data"]] == [
                key["spend_key_id"]
            ]
        again = _web_login(served)
        assert again["wallet_id"] == wallet and again["secret_key"] != login["secret_key"]
        assert (again["merchant_id"], again["account_id"]) == (
            login["merchant_id"],
            login["account_id"],
        )
