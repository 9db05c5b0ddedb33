"""User text is data: names, models and error messages from the server are shown as
written, never read as rich markup and never obeyed by the terminal.

The keys are named through the API directly (as any other client, or an attacker
holding the wallet secret, could), then the real CLI runs in a pseudo-terminal and
through pipes, and the test looks at the bytes that arrive.
"""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from lava_cli.credentials import redact
from lava_cli.safetext import printable, printable_json
from tests.helpers.servers import RawServer, answering, response
from tests.helpers.terminal import Ran, lava_env, run_lava_process

TITLE = "a\x1b]0;pwned\x07b"  # OSC 0: sets the window title
CLEAR = "\x1b[2J"  # CSI 2 J: clears the screen
CSI_C1 = "c\x9bd"  # the one-byte C1 form of CSI
LINK = "[link=https://evil.example]click[/link]"
BIDI = "evil\u202egnp.exe"  # reads as "evilexe.png"
EMOJI = ":warning:"  # rich's emoji code for ⚠
NAMES = ("[/x]", "prod [eu]", LINK, TITLE, CLEAR, CSI_C1, BIDI, EMOJI)
EVERYTHING = " ".join(NAMES)  # one key that carries every trap, for one-key commands

# How each name must look: the text as written, control characters as visible escapes.
SHOWN = {
    "[/x]": "[/x]",
    "prod [eu]": "prod [eu]",
    LINK: LINK,
    TITLE: r"a\x1b]0;pwned\x07b",
    CLEAR: r"\x1b[2J",
    CSI_C1: r"c\x9bd",
    BIDI: r"evil\u202egnp.exe",
    EMOJI: EMOJI,
}
# Sequences that must never reach the terminal. rich's own colour codes (ESC [ … m)
# are fine; OSC (ESC ]) covers the window title and OSC 8 hyperlinks.
OBEYED = {"ESC ]": "\x1b]", "BEL": "\x07", "clear screen": "\x1b[2J", "C1 CSI": "\x9b"}
OBEYED["bidi override"] = "\u202e"
RAW_KEY = re.compile(r"lava_sk_[A-Za-z0-9_-]{16,}")


def assert_inert(ran: Ran, *, shown: tuple[str, ...] = ()) -> None:
    for what, seq in OBEYED.items():
        assert seq not in ran.output, f"{what} reached the terminal:\n{ran.output!r}"
    for name in shown:
        assert SHOWN[name] in ran.output, f"{SHOWN[name]!r} not shown:\n{ran.output}"


@pytest.fixture
def wallet(emulator: object, tmp_path: Path) -> dict[str, str]:
    """The environment for a `lava` subprocess logged in to the emulator by env vars."""
    return lava_env(
        LAVA_SECRET_KEY=emulator.secrets[0],  # type: ignore[attr-defined]
        LAVA_BASE_URL=emulator.base_url,  # type: ignore[attr-defined]
        LAVA_CONFIG_DIR=str(tmp_path / "config"),
    )


@pytest.fixture
def hostile(wallet: dict[str, str]) -> str:
    """Keys named with every trap, made through the API; returns the all-in-one key's id."""
    auth = {"Authorization": f"Bearer {wallet['LAVA_SECRET_KEY']}"}
    with httpx.Client(base_url=wallet["LAVA_BASE_URL"], headers=auth) as client:
        for name in (*NAMES, EVERYTHING):
            answer = client.post("/spend_keys", json={"name": name})
            assert answer.status_code == 201, answer.text
        return str(answer.json()["spend_key_id"])


def lava(env: dict[str, str], *args: str, terminal: bool = True) -> Ran:
    return run_lava_process(args, env, terminal=terminal)


def api_keys(env: dict[str, str]) -> list[dict[str, object]]:
    auth = {"Authorization": f"Bearer {env['LAVA_SECRET_KEY']}"}
    answer = httpx.get(f"{env['LAVA_BASE_URL']}/spend_keys", headers=auth)
    return list(answer.json()["data"])


# --- the shown-once key -------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "terminal"),
    [("[/x]", True), (EVERYTHING, True), (EVERYTHING, False)],
    ids=["tty-[/x]", "tty-everything", "piped-everything"],
)
def test_create_prints_the_raw_key_whatever_the_name(wallet, name, terminal):
    ran = lava(wallet, "keys", "create", "--name", name, terminal=terminal)
    assert ran.code == 0, ran.output
    raw = RAW_KEY.search(ran.stdout)
    assert raw, f"the raw key was never printed:\n{ran.output}"
    (key,) = api_keys(wallet)
    assert key["name"] == name  # the server kept the name exactly
    assert redact(raw.group()) == key["key_preview"]  # and the printed key is that key
    assert_inert(ran, shown=NAMES if name == EVERYTHING else ("[/x]",))


# --- every view of the keys ---------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("command", "terminal"),
    [
        (("keys", "list"), True),
        (("keys", "list"), False),
        (("keys", "show", "ID"), True),
        (("keys", "show", "ID"), False),
        (("keys", "rotate", "ID"), True),
        (("keys", "pause", "ID"), True),
        (("usage",), True),
        (("usage",), False),
        (("usage", "ID"), True),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, tuple) else ("tty" if v else "piped"),
)
def test_hostile_names_are_shown_as_text(wallet, hostile, command, terminal):
    ran = lava(wallet, *(hostile if part == "ID" else part for part in command), terminal=terminal)
    assert ran.code == 0, ran.output
    shown = NAMES
    if command == ("usage",) and terminal:
        # The overview cuts names at 24 columns: the long ones show their start.
        shown = tuple(n for n in NAMES if len(SHOWN[n]) <= 24)
        assert "[link=https://evil" in ran.stdout
    assert_inert(ran, shown=shown)


@pytest.mark.slow
def test_doctor_shows_a_saved_key_with_a_hostile_name(wallet, tmp_path):
    config = tmp_path / "config"
    config.mkdir(mode=0o700)
    # File storage: the subprocess cannot reach the tests' in-memory keyring.
    (config / "config.json").write_text(
        json.dumps({"profiles": {"default": {"secret_storage": "file"}}})
    )
    saved = lava(wallet, "keys", "create", "--name", EVERYTHING, "--save", terminal=False)
    assert saved.code == 0, saved.output
    ran = lava(wallet, "doctor")
    assert ran.code == 0, ran.output
    assert "saved key" in ran.stdout
    assert_inert(ran, shown=NAMES)


@pytest.mark.slow
def test_json_stays_exact_and_inert(wallet, hostile):
    ran = lava(wallet, "keys", "list", "--json", terminal=False)
    assert ran.code == 0, ran.stderr
    assert sorted(k["name"] for k in json.loads(ran.stdout)) == sorted((*NAMES, EVERYTHING))
    assert_inert(ran)  # C1 and bidi are spelled \u009b, \u202e: the same JSON value


# --- text from a misbehaving server, and from argv -----------------------------------------

TRAPPED_MESSAGE = f"name {TITLE} is {CLEAR} bad {CSI_C1} {BIDI}"


@pytest.fixture
def stand_in(raw_server) -> Callable[[Callable[[str, str], bytes]], RawServer]:
    """A stand-in server that answers every request with `answer(method, path)`."""
    return lambda answer: raw_server(answering(answer))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("broken", "hint"),
    [
        # A total spend too big for any formatter: refused as implausible.
        ({"spend_key_id": "sk_standin1234", "total_spend": "1e999999"}, "keys show sk_standin1234"),
        # An id that is no string: nothing to show it by, so the hint lists the keys.
        ({"spend_key_id": 5}, "lava keys list"),
    ],
)
def test_a_minted_key_is_printed_when_the_rest_of_the_answer_is_unreadable(
    stand_in, tmp_path, broken, hint
):
    raw = "lava_sk_" + "k" * 40
    key = {
        "spend_key_id": "sk_standin1234", "name": TITLE, "status": "active",
        "request_shape": "openai", "key_preview": redact(raw), "key": raw,
        "current_spend": "0", "total_spend": "0", **broken,
    }  # fmt: skip
    server = stand_in(lambda method, path: response("201 Created", json.dumps(key).encode()))
    env = lava_env(
        LAVA_SECRET_KEY="aks_test_" + "e" * 32,
        LAVA_BASE_URL=server.base_url,
        LAVA_CONFIG_DIR=str(tmp_path / "config"),
    )
    # --allow-duplicate-name: this stand-in answers a list of names with the key too.
    ran = lava(env, "keys", "create", "--name", "x", "--allow-duplicate-name")
    assert ran.stdout == raw + "\n", ran.output
    assert ran.code == 1
    assert ran.stderr.count("\n") == 2, ran.stderr
    assert "printed above" in ran.stderr and hint in ran.stderr
    assert "bug" not in ran.stderr
    assert_inert(ran)


@pytest.mark.slow
def test_an_implausible_amount_in_a_list_is_one_error_line(stand_in, tmp_path):
    key = {
        "spend_key_id": "sk_standin1234", "name": "n", "status": "active",
        "key_preview": "lava_sk_abcdefgh****", "current_spend": "0", "total_spend": "1e999999",
    }  # fmt: skip
    page = {"data": [key], "has_more": False, "next_cursor": None}
    server = stand_in(lambda method, path: response("200 OK", json.dumps(page).encode()))
    env = lava_env(
        LAVA_SECRET_KEY="aks_test_" + "e" * 32,
        LAVA_BASE_URL=server.base_url,
        LAVA_CONFIG_DIR=str(tmp_path / "config"),
    )
    ran = lava(env, "keys", "list")
    assert ran.code == 1, ran.output
    assert "implausibly large" in ran.stderr and "bug" not in ran.stderr


@pytest.mark.slow
def test_server_error_message_reaches_stderr_inert(stand_in, tmp_path):
    error = {"error": {"message": TRAPPED_MESSAGE, "code": "invalid_request"}}
    server = stand_in(lambda method, path: response("400 Bad Request", json.dumps(error).encode()))
    env = lava_env(
        LAVA_SECRET_KEY="aks_test_" + "e" * 32,
        LAVA_BASE_URL=server.base_url,
        LAVA_CONFIG_DIR=str(tmp_path / "config"),
    )
    ran = lava(env, "keys", "list")
    assert ran.code == 2, ran.output
    assert ran.stderr.count("\n") == 1 and "error:" in ran.stderr  # one line, as always
    assert_inert(ran, shown=(TITLE, CLEAR, CSI_C1, BIDI))


@pytest.mark.slow
def test_typer_usage_error_quoting_argv_is_inert(wallet):
    # Typer escapes C0 and C1 in the argv it quotes, but not a bidi override.
    ran = lava(wallet, "keys", "list", f"--no-such{TITLE}{BIDI}")
    assert ran.code == 2, ran.output
    assert ran.stderr.startswith("error: No such option")
    assert_inert(ran, shown=(TITLE, BIDI))


def test_last_resort_error_lines_are_inert():
    """The printers cli/app.py falls back on when there is no context (or it failed)."""
    from lava_cli.cli.app import click_or_crash, print_error
    from lava_cli.errors import LavaError

    stderr = io.StringIO()
    print_error(LavaError(TRAPPED_MESSAGE, hint=f"try {TITLE}"), stderr, None)
    click_or_crash(RuntimeError(TRAPPED_MESSAGE), stderr)
    assert_inert(Ran(1, "", stderr.getvalue()), shown=(TITLE, CLEAR, CSI_C1, BIDI))
    assert stderr.getvalue().count("\n") == 4  # error + hint, twice


@pytest.mark.slow
def test_streamed_answer_is_inert_but_keeps_its_lines(stand_in, tmp_path):
    words = f"first line {TITLE}\n\tsecond {CLEAR}{CSI_C1}\n"
    chunk = {"model": "gpt-4o-mini", "choices": [{"index": 0, "delta": {"content": words}}]}
    sse = f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n".encode()

    def answer(method: str, path: str) -> bytes:
        if method == "POST":
            return response("200 OK", sse, "text/event-stream")
        return response("404 Not Found", b'{"error": "no"}')

    server = stand_in(answer)
    env = lava_env(
        LAVA_SPEND_KEY="lava_sk_" + "s" * 40,
        LAVA_BASE_URL=server.base_url,
        LAVA_CONFIG_DIR=str(tmp_path / "config"),
    )
    ran = lava(env, "prompt", "hello")
    assert ran.code == 0, ran.output
    assert f"first line {SHOWN[TITLE]}\n\tsecond \\x1b[2Jc\\x9bd\n" in ran.stdout
    assert_inert(ran)


# --- the one sanitiser ------------------------------------------------------------------------


def test_printable_escapes_every_control_character_and_nothing_else():
    controls = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))]
    controls += ["\u061c", "\u200e", "\u200f", "\u2028", "\u2029"]
    controls += [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]
    for char in controls:
        one_line = printable(f"a{char}b")
        assert one_line.isascii() and one_line.isprintable(), repr(char)
        assert one_line.startswith("a\\") and one_line.endswith("b")
    assert printable("a\tb\nc\rd", multiline=True) == "a\tb\nc\\rd"
    assert printable("a\tb\nc") == "a\\tb\\nc"
    # Text that is only unusual stays as it is: accents, CJK, emoji joined by ZWJ.
    plain = "café 東京 👩\u200d💻 [bold] \\x1b"
    assert printable(plain) == plain


def test_printable_json_is_the_same_value():
    value = {"name": EVERYTHING, "lone": "\ud800", "del": "\x7f"}
    dumped = printable_json(json.dumps(value, ensure_ascii=False))
    assert json.loads(dumped) == value
    assert not any(seq in dumped for seq in OBEYED.values())
    dumped.encode("utf-8")  # a lone surrogate written raw could not even be encoded


@pytest.mark.slow
def test_a_key_with_a_newline_is_never_written_to_github_env(stand_in, tmp_path):
    raw = "lava_sk_" + "k" * 40 + "\nPATH=/tmp/evil"
    key = {
        "spend_key_id": "sk_standin1234", "name": "ci", "status": "active",
        "key_preview": "lava_sk_kkkkkkkk****", "key": raw,
    }  # fmt: skip
    server = stand_in(lambda method, path: response("201 Created", json.dumps(key).encode()))
    github_env = tmp_path / "github_env"
    github_env.write_text("")
    env = lava_env(
        LAVA_SECRET_KEY="aks_test_" + "e" * 32,
        LAVA_BASE_URL=server.base_url,
        LAVA_CONFIG_DIR=str(tmp_path / "config"),
        GITHUB_ENV=str(github_env),
    )
    ran = lava(
        env, "keys", "create", "--name", "ci", "--format", "github", "--allow-duplicate-name"
    )
    assert ran.code == 1, ran.output
    assert github_env.read_text() == ""
    assert "::add-mask::" not in ran.stdout
    assert "k" * 40 in ran.stdout and "\\nPATH" in ran.stdout  # shown, inert
    assert "not written to $GITHUB_ENV" in ran.stderr


VALUELESS = {
    "spend_key_id": "sk_standin1234", "name": "n", "status": "active",
    "request_shape": "openai", "key_preview": "lava_sk_abcdefgh****",
    "current_spend": "0", "total_spend": "0",
}  # fmt: skip


def _valueless(method: str, path: str) -> bytes:
    """A server that mints keys but never returns their value (create and rotate)."""
    if method == "POST":
        return response("201 Created", json.dumps(VALUELESS).encode())
    if method == "DELETE":
        return response("200 OK", b'{"success": true}')
    if path.startswith("/v1/spend_keys/"):
        return response("200 OK", json.dumps(VALUELESS).encode())
    page = {"data": [VALUELESS], "has_more": False, "next_cursor": None}
    return response("200 OK", json.dumps(page).encode())


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        ("keys", "create", "--name", "n", "--allow-duplicate-name"),  # its list has an "n"
        ("keys", "create", "--name", "n", "--allow-duplicate-name", "--save", "--format", "env"),
        ("keys", "rotate", "sk_standin1234"),
        ("run", "--", sys.executable, "-c", "import sys; sys.exit(9)"),
        ("env", "openai-sdk", "--create"),
        ("prompt", "hi"),
    ],
    ids=["create", "create-save", "rotate", "run", "env-create", "prompt"],
)
def test_a_key_minted_without_its_value_is_one_error_everywhere(stand_in, tmp_path, args):
    server = stand_in(_valueless)
    env = lava_env(
        LAVA_SECRET_KEY="aks_test_" + "e" * 32,
        LAVA_BASE_URL=server.base_url,
        LAVA_CONFIG_DIR=str(tmp_path / "config"),
    )
    ran = lava(env, *args, terminal=False)
    assert ran.code == 1, ran.output  # not 2 (usage), not 6 (maybe created), not the child's 9
    assert ran.stdout == ""
    assert ran.stderr.splitlines() == [
        "error: the API did not return the new key's value (sk_standin1234)",
        "hint: rotate it to get a value (`lava keys rotate sk_standin1234`), "
        "or revoke it (`lava keys revoke sk_standin1234 --yes`)",
    ]
