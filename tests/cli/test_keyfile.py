"""The key file of `keys apply`/`keys export`: every field's bad values, the line of each
problem, and the writer's round trip through the reader.

No emulator: a file is validated whole before any request, so these runs have no
secret at all. A valid file then fails on the missing secret (exit 3), which proves
each bad one was stopped by validation (exit 2), not by the server.
"""

from __future__ import annotations

import io
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lava_cli.ops.keyfile import Settings, to_toml, toml_string
from lava_cli.ops.keyfile_read import read_key_file
from lava_cli.ops.toml_lines import statement_lines
from lava_cli.safetext import printable
from tests.conftest import run_lava
from tests.helpers.fuzz import fuzz_settings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# field, the TOML text of a bad value, words the problem must hold
BAD_VALUES = [
    ("shape", "1", "shape must be a string"),
    ("shape", '"gemini"', "unknown request shape 'gemini'"),
    ("shape", '["openai"]', "not an array"),
    ("models", '"gpt-4o"', "models must be an array of strings"),
    ("models", "[1]", "models must be an array of strings"),
    ("models", "[]", "models = [] would allow nothing"),
    ("models", '[""]', "models cannot be empty"),
    ("models", '["ok", "  "]', "models cannot be empty"),
    ("providers", "[]", "providers = [] would allow nothing"),
    ("providers", "{ a = 1 }", "providers must be an array of strings"),
    ("spend_limit", "50", "spend_limit must be a string"),
    ("spend_limit", '"50"', "spend_limit needs a cycle"),
    ("spend_limit", '"50/yearly"', "unknown cycle 'yearly'"),
    ("spend_limit", '"0/monthly"', "the amount must be more than 0"),
    ("spend_limit", '"-1/monthly"', "not an amount in dollars"),
    ("spend_limit", '"1,5/monthly"', "comma that is not a thousands separator"),
    ("spend_limit", '"١٠/monthly"', "digits other than 0-9"),
    ("spend_limit", '"50.123/monthly"', "at most 2 decimals"),
    ("spend_limit", '"9999999999999/monthly"', "not an amount"),
    ("request_limit", "1000", "request_limit must be a string"),
    ("request_limit", '"0/daily"', "between 1 and 5,000,000"),
    ("request_limit", '"1.5/daily"', "must be a whole number"),
    ("request_limit", '"6000000/daily"', "between 1 and 5,000,000"),
    ("request_limit", '"10/hourly"', "unknown cycle 'hourly'"),
    ("rate_limit", "0", "between 1 and 5,000,000"),
    ("rate_limit", "-1", "must be a whole number"),
    ("rate_limit", '"60/0"', "the burst must be between 1"),
    ("rate_limit", '"a/b"', "must be a whole number"),
    ("rate_limit", "1.5", "rate_limit must be a string"),
    ("rate_limit", "true", "rate_limit must be a string"),
    ("expires_at", '"tomorrow"', "not an ISO 8601 date or time"),
    ("expires_at", '"7d"', "not an ISO 8601 date or time"),
    ("expires_at", '"2030-13-01"', "not an ISO 8601 date or time"),
    ("expires_at", "2030", "expires_at must be a date-time"),
    ("expires_at", "10:00:00", "not a time"),
    ("expires_at", '"0001-01-01T00:00:00+01:00"', "out of range"),
    ("paused", '"false"', "paused must be true or false, not a string"),
    ("paused", "0", "paused must be true or false, not an integer"),
    ("spend_limt", '"5/daily"', "unknown field 'spend_limt' (did you mean 'spend_limit'?)"),
    ("request_shape", '"openai"', "did you mean 'shape'?"),
    ("expires_in", '"7d"', "absolute times only"),
    ("name", '"x"', "the name is the table's"),
]


def check(path: str) -> tuple[int, str]:
    result = run_lava("keys", "apply", "-f", path, "--dry-run")
    assert "Traceback" not in result.output
    return result.code, result.stderr


@pytest.mark.parametrize(("field", "value", "words"), BAD_VALUES)
def test_each_bad_value_is_refused_on_its_line_before_any_request(tmp_path, field, value, words):
    path = tmp_path / "keys.toml"
    path.write_text(f"# keys\n[keys.k]\n# a comment\n\n{field} = {value}\n", encoding="utf-8")
    code, stderr = check(str(path))
    assert code == 2, stderr
    problem = next(ln for ln in stderr.splitlines() if ln.startswith(f"{path}:"))
    assert problem.startswith(f"{path}:5: keys.k: "), problem
    assert words in problem, problem


def test_a_valid_file_gets_past_validation(tmp_path):
    path = tmp_path / "keys.toml"
    path.write_text('[keys.k]\nrate_limit = 60\nexpires_at = 2031-01-01\nmodels = ["a"]\n')
    code, stderr = check(str(path))
    assert code == 3, stderr  # no secret: validation passed, the request could not go


def test_every_bad_line_of_one_file_is_listed(tmp_path):
    body = "".join(f"[keys.k{n}]\n{field} = {value}\n" for n, (field, value, _) in
                   enumerate(BAD_VALUES))  # fmt: skip
    path = tmp_path / "keys.toml"
    path.write_text(body, encoding="utf-8")
    code, stderr = check(str(path))
    assert code == 2
    lines = [
        int(ln.removeprefix(f"{path}:").split(":")[0])
        for ln in stderr.splitlines()
        if ln.startswith(f"{path}:")
    ]
    assert lines == [2 * n + 2 for n in range(len(BAD_VALUES))]
    assert f"has {len(BAD_VALUES)} problems" in stderr


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('[keys." padded "]\n', 1, "no blanks around it"),
        ('[keys.""]\n', 1, "a name is 1 to 255 characters"),
        ("[[keys]]\nshape = 1\n", 1, "keys must be tables"),
        ('keys = "x"\n', 1, "keys must be tables"),
        ('[keys]\nk = "openai"\n', 2, "keys.k must be a table"),
        ("[keys.k]\n[keys.k.extra]\n", 2, "unknown field 'extra'"),
        ('[keys.k]\nshape = "openai"\nshape = "anthropic"\n', 3, "not valid TOML"),
        ('[keys.k]\nmodels = [\n  "a",\n', 3, "not valid TOML"),
        ('[keys.k]\nshape = "\x01"\n', 2, "not valid TOML"),
        ("[keys.k]\n\n[wallet]\n", 3, "wallet: unknown table"),
    ],
)
def test_file_level_problems_name_their_line(tmp_path, text, line, words):
    path = tmp_path / "keys.toml"
    path.write_text(text, encoding="utf-8")
    code, stderr = check(str(path))
    assert code == 2, stderr
    assert f"{path}:{line}: " in stderr and words in stderr, stderr


def test_a_file_that_is_not_utf8_names_its_line(tmp_path):
    path = tmp_path / "keys.toml"
    path.write_bytes(b'[keys.k]\n\nshape = "\xff"\n')
    code, stderr = check(str(path))
    assert code == 2 and f"{path}:3: the file is not UTF-8 text" in stderr


def test_a_huge_file_is_refused(tmp_path):
    path = tmp_path / "keys.toml"
    path.write_text("#" * (300 * 1024))
    code, stderr = check(str(path))
    assert code == 2 and "larger than 256 KiB" in stderr


# --- where statements start ---------------------------------------------------------------


def test_statement_lines_follow_the_toml_grammar():
    text = "\r\n".join(
        [
            "# [keys.not-a-table] in a comment",  # 1
            '[ keys . "a.b" ]  # a quoted name with a dot',  # 2
            'shape = "x = y # not a comment"',  # 3
            "models = [",  # 4
            '  "m1",  # shape = "inside an array"',  # 5
            "  [true]",  # 6: an element, not a header
            "]",  # 7
            'paused = """',  # 8
            "[keys.fake]",  # 9: inside a multi-line string
            'shape = "fake"',  # 10
            'still \\""" open',  # 11: an escaped delimiter does not close it
            'closing with an extra quote""""',  # 12
            "spend_limit = '''",  # 13
            "rate_limit = 1",  # 14: inside a literal string
            "'''",  # 15
            "[keys]",  # 16
            'c.shape = "dotted"',  # 17
            '"d e" = { shape = "inline", paused = true }',  # 18
            "keys.f.paused = false",  # 19: under [keys], so keys.keys.f
            "[[arr]]",  # 20
            "x = 1",  # 21
        ]
    )
    tomllib.loads(text)  # the case is valid TOML
    lines = statement_lines(text)
    assert lines[("keys", "a.b")] == 2
    assert lines[("keys", "a.b", "shape")] == 3
    assert lines[("keys", "a.b", "models")] == 4
    assert lines[("keys", "a.b", "paused")] == 8
    assert lines[("keys", "a.b", "spend_limit")] == 13
    assert ("keys", "fake") not in lines and ("true",) not in lines
    assert ("keys", "a.b", "rate_limit") not in lines
    assert lines[("keys",)] == 2  # first seen in the header of line 2
    assert lines[("keys", "c")] == lines[("keys", "c", "shape")] == 17
    assert lines[("keys", "d e")] == 18
    assert lines[("keys", "keys", "f", "paused")] == 19
    assert lines[("arr",)] == 20 and lines[("arr", "x")] == 21


def test_an_inline_table_field_is_reported_on_its_line(tmp_path):
    path = tmp_path / "keys.toml"
    path.write_text('[keys]\nok = {}\nbad = { shape = "openai", paused = "no" }\n')
    code, stderr = check(str(path))
    assert code == 2 and f"{path}:3: keys.bad: paused must be true or false" in stderr


# --- the writer reads back ------------------------------------------------------------------

words = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12).filter(
    lambda n: n == n.strip()
)


@fuzz_settings(200)
@given(words)
def test_toml_string_reads_back_exactly_and_holds_no_control_character(text):
    written = toml_string(text)
    assert tomllib.loads(f"x = {written}")["x"] == text
    assert printable(written) == written  # nothing a terminal would act on


settings = st.builds(
    Settings,
    shape=st.sampled_from(["openai", "anthropic"]),
    models=st.one_of(
        st.none(),
        st.lists(st.sampled_from(["a", "b", 'c"q', "é"]), min_size=1, unique=True).map(tuple),
    ),
    providers=st.one_of(st.none(), st.just(("anthropic",))),
    spend_limit=st.one_of(st.none(), st.sampled_from(["50/monthly", "0.50/daily", "1/total"])),
    request_limit=st.one_of(st.none(), st.just("1000/daily")),
    rate_limit=st.one_of(st.none(), st.sampled_from(["60", "60/10"])),
    expires_at=st.one_of(st.none(), st.just("2031-01-01T00:00:00Z")),
    status=st.sampled_from(["active", "paused"]),
)


@pytest.mark.slow  # hypothesis: 40 generated files through the reader (1.4 s under load)
@fuzz_settings(40)
@given(st.dictionaries(names, settings, max_size=4))
def test_what_export_writes_apply_reads_back_the_same(keys):
    text = to_toml(list(keys.items()))
    read = read_key_file("-", io.StringIO(text))
    assert {k.name: k.settings for k in read.keys} == keys
    # And each table is found on the line where the writer put its header.
    headers = {n + 1 for n, line in enumerate(text.split("\n")) if line.startswith("[keys.")}
    assert {k.line() for k in read.keys} == headers


def test_a_toml_date_time_and_a_date_are_absolute_expiries(tmp_path):
    path = tmp_path / "k.toml"
    path.write_text(
        "[keys.a]\nexpires_at = 2031-01-01T02:00:00+02:00\n"
        "[keys.b]\nexpires_at = 2031-01-01\n"
        "[keys.c]\nexpires_at = 2031-01-01T00:00:00.750\n"
    )
    read = read_key_file(str(path), io.StringIO())
    got = {k.name: k.settings.expires_at for k in read.keys}
    assert got == dict.fromkeys("abc", "2031-01-01T00:00:00Z")


def test_the_example_of_the_issue_reads_as_written():
    example = """\
[keys.claude]
shape = "anthropic"
models = ["claude-sonnet-4-6"]     # optional; omitted = all models
providers = ["anthropic"]          # optional
spend_limit = "50/monthly"         # AMOUNT/CYCLE as on the command line
request_limit = "1000/daily"
rate_limit = "60/10"
expires_at = "2027-01-01T00:00:00Z"
paused = false
"""
    [claude] = read_key_file("-", io.StringIO(example)).keys
    assert claude.settings == Settings(
        shape="anthropic",
        models=("claude-sonnet-4-6",),
        providers=("anthropic",),
        spend_limit="50/monthly",
        request_limit="1000/daily",
        rate_limit="60/10",
        expires_at="2027-01-01T00:00:00Z",
        status="active",
    )
    assert claude.line("rate_limit") == 7
