"""`serve()`, the foreground runner behind `lava emulator serve`, in real subprocesses."""

from __future__ import annotations

import signal
import socket
import sys
from pathlib import Path

import httpx
import pytest

from lava_cli.contract import is_loopback_host as is_loopback
from lava_cli.emulator.server import default_db_path, serve
from lava_cli.errors import UsageError
from tests.helpers.emulators import serving

GIVEN = "aks_test_" + "g" * 32


@pytest.mark.slow
def test_serve_prints_the_generated_secret_and_serves(tmp_path: Path) -> None:
    with serving(tmp_path / "db.sqlite3") as served:
        proc, exports = served.proc, served.exports
        assert exports["LAVA_BASE_URL"].startswith("http://127.0.0.1:")
        secret = exports["LAVA_SECRET_KEY"]
        assert secret.startswith("aks_test_")
        headers = {"Authorization": f"Bearer {secret}"}
        r = httpx.post(
            exports["LAVA_BASE_URL"] + "/spend_keys", json={"name": "k"}, headers=headers
        )
        assert r.status_code == 201
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
        assert proc.stderr is not None
        assert "WARNING" not in proc.stderr.read()
    assert (tmp_path / "db.sqlite3").exists()


@pytest.mark.slow
def test_serve_never_prints_a_given_secret_and_warns_off_loopback(tmp_path: Path) -> None:
    with serving(tmp_path / "db.sqlite3", host="0.0.0.0", secrets=(GIVEN,)) as served:
        proc, exports = served.proc, served.exports
        assert "LAVA_SECRET_KEY" not in exports
        port = exports["LAVA_BASE_URL"].rsplit(":", 1)[1].removesuffix("/v1")
        r = httpx.get(
            f"http://127.0.0.1:{port}/v1/wallet", headers={"Authorization": f"Bearer {GIVEN}"}
        )
        assert r.status_code == 200
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
        assert proc.stderr is not None
        assert "WARNING" in proc.stderr.read()
        assert proc.stdout is not None
        assert GIVEN not in proc.stdout.read()


def test_serve_on_a_busy_port_is_a_usage_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(UsageError, match=str(port)):
            serve(port=port, db_path=str(tmp_path / "db"), secrets=[GIVEN], out=sys.stdout)
    assert not (tmp_path / "db").exists()


def test_default_db_path_is_in_the_user_data_dir() -> None:
    path = default_db_path()
    assert path.name == "emulator.sqlite3"
    assert "lava-cli" in path.parts


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST.", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.10", False),
        ("example.com", False),
        ("localhost.example.com", False),
        ("", False),
    ],
)
def test_is_loopback_decides_the_warning(host: str, loopback: bool) -> None:
    """`serve` warns unless it listens on one of these; the emulator's own check."""
    assert is_loopback(host) is loopback
