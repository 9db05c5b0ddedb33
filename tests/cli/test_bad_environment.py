"""A bad environment is the user's input: one error naming the variable or file, a
hint, exit 2 (3 for a credential), never "unexpected … this is a bug" or a traceback.

Real processes (`python -m lava_cli`) with a clean environment, as a shell would run
them: the values reach the CLI the way they do for users (os.environ, files on disk).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from lava_cli.config import atomic_write
from lava_cli.errors import UsageError
from tests.helpers import process
from tests.helpers.env import NULL_KEYRING

pytestmark = pytest.mark.slow

SECRET = "aks_test_" + "e" * 32
NOWHERE = "http://127.0.0.1:9/v1"  # nothing listens: a request would exit 6, not 2/3


def lava(
    tmp_path: Path, args: list[str], stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    clean = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "LAVA_CONFIG_DIR": str(tmp_path / "config"),
        "PYTHON_KEYRING_BACKEND": NULL_KEYRING,
        "LAVA_MAX_RETRIES": "0",
        **env,
    }
    return process.lava(args, clean, input=stdin, timeout=60)


def assert_refused(result: subprocess.CompletedProcess[str], code: int, names: str) -> None:
    """Exit `code`, exactly one `error:` line naming `names`, then a `hint:` line."""
    lines = result.stderr.splitlines()
    errors = [line for line in lines if line.startswith("error:")]
    assert result.returncode == code, result.stderr
    assert len(errors) == 1 and names in errors[0], result.stderr
    after = lines[lines.index(errors[0]) + 1 :]
    assert after and after[0].startswith("hint:"), result.stderr
    assert "this is a bug" not in result.stderr and "Traceback" not in result.stderr
    assert "unexpected" not in result.stderr


def keyring_profile(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir(exist_ok=True)
    profiles = {"profiles": {"default": {"secret_storage": "keyring"}}}
    (config / "config.json").write_text(json.dumps(profiles))


@pytest.mark.parametrize("value", ["abc", "nan", "-5", "inf", "0", "\uff15"])
def test_keyring_timeout(tmp_path: Path, value: str) -> None:
    keyring_profile(tmp_path)
    result = lava(tmp_path, ["keys", "list"], LAVA_KEYRING_TIMEOUT=value)
    assert_refused(result, 2, "LAVA_KEYRING_TIMEOUT")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:abc/v1",
        "http://127.0.0.1:99999/v1",
        "http://127.0.0.1:\uff18\uff17/v1",
        "http://[::1/v1",
        "http://127.0.0.1:9/v1\r\nX-Injected: 1",
        "http://127.0.0.1:9/v\t1",
    ],
)
def test_base_url(tmp_path: Path, url: str) -> None:
    result = lava(tmp_path, ["keys", "list"], LAVA_SECRET_KEY=SECRET, LAVA_BASE_URL=url)
    assert_refused(result, 2, "LAVA_BASE_URL")


def test_base_url_saved_in_a_profile(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    profile = {"default": {"base_url": "http://127.0.0.1:9/v1\nX: y"}}
    (config / "config.json").write_text(json.dumps({"profiles": profile}))
    result = lava(tmp_path, ["keys", "list"], LAVA_SECRET_KEY=SECRET)
    assert_refused(result, 2, str(config / "config.json"))


@pytest.mark.parametrize("junk", ["\u00e9", "\u00a0", "\u2019", "\x07", " x"])
def test_secret_key_that_no_header_can_carry(tmp_path: Path, junk: str) -> None:
    value = SECRET[:20] + junk + SECRET[20:]
    result = lava(tmp_path, ["keys", "list"], LAVA_SECRET_KEY=value, LAVA_BASE_URL=NOWHERE)
    assert_refused(result, 3, "LAVA_SECRET_KEY")
    assert SECRET[9:20] not in result.stderr  # the value is never repeated


def test_spend_key_that_no_header_can_carry(tmp_path: Path) -> None:
    spend = "lava_sk_" + "s" * 20 + "\u00e9" + "s" * 20
    result = lava(tmp_path, ["prompt", "hi"], LAVA_SPEND_KEY=spend, LAVA_BASE_URL=NOWHERE)
    assert_refused(result, 3, "LAVA_SPEND_KEY")
    assert "s" * 20 not in result.stderr


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("not UTF-8", b'\xff\xfe{"profiles": {}}'),
        ("absurdly nested", b"[" * 100_000),
        ("not JSON", b"{profiles"),
        ("not an object", b"[]"),
    ],
)
@pytest.mark.parametrize(
    "env",
    # The file is read for what the environment does not give: the secret's store, or
    # the profile's base URL. (With LAVA_SECRET_KEY and LAVA_BASE_URL both set it is not
    # read at all.)
    [{"LAVA_BASE_URL": NOWHERE}, {"LAVA_SECRET_KEY": SECRET}],
    ids=["store", "base-url"],
)
def test_config_file(tmp_path: Path, name: str, content: bytes, env: dict[str, str]) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "config.json").write_bytes(content)
    result = lava(tmp_path, ["keys", "list"], **env)
    assert_refused(result, 2, str(config / "config.json"))


def test_insecure_secrets_file_that_is_not_utf8(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "config.json").write_text(
        json.dumps({"profiles": {"default": {"secret_storage": "file"}}})
    )
    (config / "secrets.json").write_bytes(b"\x80\x81 not text")
    result = lava(tmp_path, ["keys", "list"], LAVA_BASE_URL=NOWHERE)
    assert_refused(result, 2, str(config / "secrets.json"))


def test_stored_secret_that_no_header_can_carry(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "config.json").write_text(
        json.dumps({"profiles": {"default": {"secret_storage": "file"}}})
    )
    stored = SECRET[:20] + "\u00e9" + SECRET[20:]
    (config / "secrets.json").write_text(json.dumps({"profile:default": stored}))
    result = lava(tmp_path, ["keys", "list"], LAVA_BASE_URL=NOWHERE)
    assert_refused(result, 3, str(config / "secrets.json"))


def test_config_dir_that_is_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = lava(
        tmp_path, ["keys", "list"], LAVA_SECRET_KEY=SECRET, LAVA_CONFIG_DIR=str(blocker / "lava")
    )
    assert_refused(result, 2, str(blocker / "lava"))
    assert "LAVA_CONFIG_DIR" in result.stderr  # the hint says which variable chose it


def test_a_config_that_cannot_be_written_is_a_usage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(UsageError, match="cannot write"):
        atomic_write(blocker / "config.json", "{}")


def test_binary_secrets_file_for_the_emulator(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.bin"
    secrets.write_bytes(bytes(range(256)) * 4)
    # --port 0: were the file accepted, the test would see a server start, not hang on 8787.
    result = lava(tmp_path, ["emulator", "serve", "--port", "0", "--secrets-file", str(secrets)])
    assert_refused(result, 2, str(secrets))


def test_emulator_secret_from_the_environment(tmp_path: Path) -> None:
    value = SECRET[:20] + "\u00e9" + SECRET[20:]
    result = lava(tmp_path, ["emulator", "serve", "--port", "0"], LAVA_SECRET_KEY=value)
    assert_refused(result, 2, "LAVA_SECRET_KEY")


def test_upstream_key_that_no_header_can_carry(tmp_path: Path) -> None:
    result = lava(
        tmp_path,
        ["emulator", "serve", "--port", "0", "--upstream", "gpt-x=openai:https://example.com/v1"],
        LAVA_UPSTREAM_API_KEY="sk-\u2019abc",
    )
    assert_refused(result, 2, "LAVA_UPSTREAM_API_KEY")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LAVA_TIMEOUT", "\uff13\uff10"),
        ("LAVA_TIMEOUT", "1e3"),
        ("LAVA_TIMEOUT", "nan"),
        ("LAVA_MAX_RETRIES", "\u0661"),
        ("LAVA_MAX_RETRIES", "11"),
        ("LAVA_MAX_RETRIES", "-1"),
        ("LAVA_PROFILE", "a b"),
        ("LAVA_PROFILE", "../x"),
    ],
)
def test_other_variables(tmp_path: Path, variable: str, value: str) -> None:
    env = {"LAVA_SECRET_KEY": SECRET, "LAVA_BASE_URL": NOWHERE, variable: value}
    result = lava(tmp_path, ["keys", "list"], **env)
    assert_refused(result, 2, variable)


@pytest.mark.parametrize("value", ["nan", "\uff11\uff12\uff10", "-1", "soon"])
def test_login_timeout(tmp_path: Path, value: str) -> None:
    result = lava(tmp_path, ["login", "--web"], LAVA_LOGIN_TIMEOUT=value, LAVA_BASE_URL=NOWHERE)
    assert_refused(result, 2, "LAVA_LOGIN_TIMEOUT")
