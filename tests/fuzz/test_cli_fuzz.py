"""Hypothesis drives every command with generated arguments and options.

Whatever comes in (valid and invalid amounts, cycles, durations, dates, names, ids,
unicode, huge numbers, unknown flags), `lava` must end with a documented exit code and
one error line: never a traceback, never the "this is a bug in lava" crash line.

Runs against the session emulator with LAVA_SECRET_KEY set (so commands really call the
API and the gateway) and again with no secret at all. Not fuzzed: `emulator serve` and
`demo` (they serve or tour until stopped) and `login --web` (waits for a browser).
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lava_cli.emulator.schema import KeySettings
from tests.conftest import run_lava
from tests.helpers.fuzz import DOCUMENTED_EXIT_CODES, fuzz_settings, report

pytestmark = pytest.mark.slow  # fuzzing: hundreds of generated runs, children of lava run

CYCLES = ["daily", "weekly", "monthly", "total", "DAILY", "yearly", "", "total/extra"]
TOOLS = ["claude-code", "openai-sdk", "cursor", "codex", "nope", ""]

junk = st.text(max_size=24)
huge = st.sampled_from(["9" * 40, "1e308", "-1", "0", "NaN", "inf", "٣", "１２", "0x10", "2**64"])


# Zeros of scripts whose digits Python's int()/float()/Decimal() and `\d` all accept:
# Arabic-Indic, Extended Arabic-Indic, Devanagari, Bengali, fullwidth.
ZEROS = ["\u0660", "\u06f0", "\u0966", "\u09e6", "\uff10"]
foreign_digits = st.builds(
    lambda n, zero: "".join(chr(ord(zero) + int(d)) for d in str(n)),
    st.integers(min_value=0, max_value=10**6),
    st.sampled_from(ZEROS),
)
# Thousands grouping (valid: 1,000 and 1,000.50) and every other comma (refused).
commas = st.one_of(
    st.integers(min_value=1000, max_value=10**9).map(lambda n: f"{n:,}"),
    st.builds(lambda n, c: f"{n:,}.{c:02d}", st.integers(1000, 10**8), st.integers(0, 99)),
    st.sampled_from(["1,5", "2,50", "1,00,000", ",5", "1,", "1.000,50", "1,000,5"]),
)


def mostly(valid: Any, invalid: Any) -> Any:
    """Valid values two times in three, so runs get past parsing to the API."""
    return st.one_of(valid, valid, invalid)


number = mostly(
    st.integers(min_value=1, max_value=500).map(str),
    st.one_of(
        st.integers(min_value=-(10**12), max_value=10**15).map(str),
        st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
        huge,
        foreign_digits,
        commas,
    ),
)
cycle = mostly(st.sampled_from(CYCLES[:4]), st.one_of(st.sampled_from(CYCLES[4:]), junk))
amount = mostly(
    st.builds(lambda n, c: f"{n}/{c}", number, cycle),
    st.one_of(st.builds(lambda n, c: f"${n}/{c}", number, cycle), number, junk),
)
count_limit = mostly(st.builds(lambda n, c: f"{n}/{c}", number, cycle), junk)
rate = mostly(st.builds(lambda a, b: f"{a}/{b}", number, number), st.one_of(number, junk))
duration = mostly(
    st.builds(lambda n, u: f"{n}{u}", number, st.sampled_from(["s", "m", "min", "h", "d", "w"])),
    st.one_of(st.builds(lambda n, u: f"{n}{u}", number, st.sampled_from(["y", "", "ms"])), junk),
)
date = mostly(
    st.datetimes(min_value=datetime(2031, 1, 1)).map(lambda d: d.isoformat()),
    st.one_of(
        st.datetimes().map(lambda d: d.isoformat()),
        st.dates().map(str),
        st.sampled_from(
            [
                "2030-13-45",
                "0001-01-01",
                "9999-12-31",
                "9999-12-31T23:59:59+14:00",
                "2030-01-01T00:00:00Z",
                "yesterday",
                "-1",
                "2030-02-30",
            ]
        ),
        junk,
    ),
)
name = mostly(
    st.text(min_size=1, max_size=40),
    st.one_of(st.text(min_size=250, max_size=300), st.sampled_from(["", " ", "ci\n"])),
)
ref = mostly(
    st.sampled_from(["ci", "ci", "sk_" + "A" * 24]),
    st.one_of(st.sampled_from(["sk_", "lava_sk_abcdefgh****", "", "../../etc"]), junk),
)
model = mostly(st.sampled_from(["gpt-4o-mini", "claude-haiku-4-5"]), st.one_of(st.just(""), junk))
shape = mostly(st.sampled_from(["openai", "anthropic"]), st.one_of(st.just("gemini"), junk))
flag = None  # a boolean flag

# (argv prefix, positional argument strategy or None, {option: value strategy or flag})
COMMANDS: list[tuple[list[str], Any, dict[str, Any]]] = [
    (["keys", "create"], None, {
        "--name": name, "--model": model, "--provider": junk, "--shape": shape,
        "--spend-limit": amount, "--request-limit": count_limit, "--rate-limit": rate,
        "--expires-at": date, "--expires-in": duration, "--paused": flag, "--save": flag,
        "--quiet": flag, "--json": flag, "--format": st.sampled_from(["env", "dotenv", "json", "github", "yaml"]),
        "--var": st.one_of(st.sampled_from(["LAVA_SPEND_KEY", "1X", "A-B"]), junk),
    }),
    (["keys", "list"], None, {"--status": st.one_of(st.sampled_from(["active", "paused", "expired"]), junk), "--quiet": flag, "--json": flag}),
    (["keys", "show"], ref, {"--json": flag}),
    (["keys", "update"], ref, {
        "--name": name, "--model": model, "--all-models": flag, "--provider": junk,
        "--all-providers": flag, "--shape": shape, "--spend-limit": amount,
        "--no-spend-limit": flag, "--request-limit": count_limit, "--no-request-limit": flag,
        "--rate-limit": rate, "--no-rate-limit": flag, "--expires-at": date,
        "--expires-in": duration, "--no-expiry": flag, "--quiet": flag, "--json": flag,
    }),
    (["keys", "pause"], ref, {"--quiet": flag, "--json": flag}),
    (["keys", "resume"], ref, {"--quiet": flag, "--json": flag}),
    (["keys", "rotate"], ref, {"--save": flag, "--quiet": flag, "--json": flag, "--format": st.sampled_from(["env", "json", "x"])}),
    (["keys", "revoke"], ref, {"--yes": flag, "--quiet": flag, "--json": flag}),
    (["keys", "check"], ref, {"--min-remaining": number, "--expires-within": duration, "--json": flag}),
    (["keys", "apply"], None, {
        "-f": st.sampled_from(["-", "-", "/nonexistent/keys.toml", "", "/"]), "--prune": flag,
        "--yes": flag, "--dry-run": flag, "--check": flag, "--save": flag,
        "--format": st.sampled_from(["env", "dotenv", "json", "github", "yaml"]),
        "--var-prefix": st.one_of(st.sampled_from(["AI", "1X", "A-B"]), junk),
    }),
    (["keys", "export"], None, {"--json": flag}),
    (["prompt"], junk, {
        "--model": model, "--system": junk, "--max-tokens": number, "--temperature": number,
        "--key": ref, "--shape": shape, "--no-stream": flag, "--usage": flag, "--json": flag,
    }),
    (["models"], None, {"--provider": st.one_of(st.sampled_from(["openai", "anthropic"]), junk), "--key": ref, "--json": flag}),
    (["env"], st.sampled_from(TOOLS), {
        "--list": flag, "--key": ref, "--create": flag, "--name": name,
        "--shell": st.sampled_from(["bash", "zsh", "fish", "powershell", "tcsh"]),
        "--format": st.sampled_from(["shell", "dotenv", "json", "xml"]), "--model": model,
    }),
    (["run"], None, {
        "--spend-limit": amount, "--expires-in": duration, "--model": model, "--provider": junk,
        "--shape": shape, "--name": name, "--tool": st.sampled_from(TOOLS), "--keep": flag,
    }),
    (["usage"], st.one_of(st.none(), ref), {
        "--wallet": flag, "--since": duration, "--start": date, "--end": date, "--json": flag,
    }),
    (["doctor"], None, {"--json": flag}),
    (["login", "--with-token"], None, {"--insecure-storage": flag}),
    (["logout"], None, {}),
    (["auth", "status"], None, {"--json": flag}),
    # Only invalid ports: a valid serve runs until stopped.
    (["emulator", "serve", "--port"], st.sampled_from(["-1", "65536", "x", "\uff18\uff17\uff18\uff17"]), {}),
]  # fmt: skip

# For `keys apply -f -`: a valid file, so some runs get to the plan and past it.
KEY_FILE = '[keys.ci]\nspend_limit = "5/total"\n[keys.fuzz]\nmodels = ["gpt-4o-mini"]\n'
GLOBAL: dict[str, Any] = {"--verbose": flag, "--profile": st.one_of(st.just("default"), junk)}
CHILDREN = [["true"], ["false"], [sys.executable, "-c", "pass"]]


@st.composite
def invocations(draw: Any) -> tuple[list[str], str]:
    """One argv for a random command, plus what stdin holds."""
    prefix, positional, options = draw(st.sampled_from(COMMANDS))
    argv: list[str] = []
    for opt, strategy in GLOBAL.items():
        if draw(st.integers(0, 5)) == 0:
            argv += [opt] if strategy is None else [opt, draw(strategy)]
    argv += prefix
    chosen = (
        draw(st.lists(st.sampled_from(sorted(options)), unique=True, max_size=5)) if options else []
    )
    for opt in chosen:
        strategy = options[opt]
        argv += [opt] if strategy is None else [opt, draw(strategy)]
    if draw(st.integers(0, 9)) == 0:
        argv.append(draw(st.sampled_from(["--bogus", "-Z", "--json=maybe", "--", "extra"])))
    if positional is not None:
        value = draw(positional)
        if value is not None:
            argv.append(value)
    if prefix == ["run"]:
        argv += ["--", *draw(st.sampled_from(CHILDREN))]
    stdin = draw(
        st.sampled_from(["", "hello\n", "aks_test_" + "z" * 32 + "\n", "\x00\xff", KEY_FILE])
    )
    return argv, stdin


def check(argv: list[str], stdin: str) -> int:
    result = run_lava(*argv, input=stdin)
    context = f"lava {argv!r} -> {result.code}\n{result.stderr[-2000:]}"
    assert result.code in DOCUMENTED_EXIT_CODES, context
    assert "Traceback" not in result.output, context
    assert "this is a bug in lava" not in result.stderr, context
    return result.code


@pytest.fixture
def seeded(logged_in: Any) -> Any:
    """The emulator with one known key, so some generated references hit a real key."""
    return logged_in


def _seed(emulator: Any) -> str:
    emulator.reset()
    store = emulator.store
    wallet = store.wallet_for_secret(emulator.secrets[0])
    _, raw = store.create_key(wallet.wallet_id, KeySettings(name="ci"))
    return str(raw)


def test_every_command_with_a_secret_against_the_emulator(seeded, monkeypatch, capsys):
    codes: dict[int, int] = {}
    monkeypatch.setenv("LAVA_MAX_RETRIES", "0")
    monkeypatch.setenv("LAVA_TIMEOUT", "5")

    @fuzz_settings(300)
    @given(invocations(), st.booleans())
    def run(invocation: tuple[list[str], str], with_spend_key: bool) -> None:
        raw = _seed(seeded)
        if with_spend_key:
            monkeypatch.setenv("LAVA_SPEND_KEY", raw)
        else:
            monkeypatch.delenv("LAVA_SPEND_KEY", raising=False)
        code = check(*invocation)
        codes[int(code)] = codes.get(int(code), 0) + 1

    run()
    total = sum(codes.values())
    report(
        capsys,
        f"cli fuzz (secret, emulator): {total} examples, 0 tracebacks, exit codes {dict(sorted(codes.items()))}",
    )
    assert total >= 300
    assert len(codes) >= 3, "the generator should reach success and several error exits"


def test_every_command_without_a_secret(emulator, monkeypatch, capsys):
    codes: dict[int, int] = {}
    monkeypatch.setenv("LAVA_BASE_URL", emulator.base_url)
    monkeypatch.setenv("LAVA_MAX_RETRIES", "0")

    @fuzz_settings(150)
    @given(invocations())
    def run(invocation: tuple[list[str], str]) -> None:
        code = check(*invocation)
        codes[int(code)] = codes.get(int(code), 0) + 1

    run()
    total = sum(codes.values())
    report(
        capsys,
        f"cli fuzz (no secret): {total} examples, 0 tracebacks, exit codes {dict(sorted(codes.items()))}",
    )
    assert total >= 150
