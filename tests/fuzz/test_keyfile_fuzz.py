"""Hypothesis writes key files and `lava keys apply --dry-run` reads them.

Tables in every form TOML allows for them ([keys.NAME] headers, dotted keys, inline
tables), known and unknown fields, valid and invalid values, comments and blank lines
between. Whatever the file, apply ends with a documented exit code and no traceback,
and every problem it lists names a line that really holds what the problem is about:
the field's key, or the key's table.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lava_cli.ops.keyfile import toml_key
from tests.conftest import run_lava
from tests.helpers.fuzz import DOCUMENTED_EXIT_CODES, fuzz_settings, report

pytestmark = pytest.mark.slow  # fuzzing: hundreds of generated runs

NAMES = ["ci", "claude-code", "two words", "dot.ted", 'q"uote', "ünï", "k_1"]
VALUES: dict[str, list[str]] = {
    "shape": ['"openai"', '"Anthropic"', '"gemini"', "1", '["openai"]'],
    "models": ['["gpt-4o-mini"]', '["a", "b", "a"]', "[]", '[""]', '"gpt-4o"', "[1]",
               '[\n  "m1",\n  "m2",\n]'],
    "providers": ['["anthropic"]', "[]", "{}"],
    "spend_limit": ['"50/monthly"', '"0.50/daily"', '"1,000/total"', '"50"', '"0/monthly"',
                    '"1,5/weekly"', "50", '"50/yearly"', '"""50/monthly"""'],
    "request_limit": ['"1000/daily"', '"0/daily"', "1000", '"x/daily"'],
    "rate_limit": ['"60/10"', "60", "0", '"60/0"', "1.5", "true"],
    "expires_at": ['"2031-01-01T00:00:00Z"', "2031-01-01T00:00:00Z", "2031-01-01",
                   '"2020-01-01"', '"tomorrow"', "10:00:00", "2031"],
    "paused": ["true", "false", '"false"', "0"],
}  # fmt: skip
JUNK_FIELDS = ["spend-limit", "modles", "status", "name", "id", "x y", "Shape"]


@st.composite
def key_files(draw: Any) -> tuple[str, list[str]]:
    """A file's text, and its lines for the oracle."""
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True))
    headers: list[str] = []
    under_keys: list[str] = []
    for name in names:
        chosen = draw(st.lists(st.sampled_from([*VALUES, *JUNK_FIELDS]), max_size=4, unique=True))
        pairs = []
        for field in chosen:
            value = draw(st.sampled_from(VALUES.get(field, ['"x"', "1"])))
            pairs.append((toml_key(field), value))
        style = draw(st.sampled_from(["table", "dotted", "inline"]))
        if style == "inline" and any("\n" in v for _, v in pairs):
            style = "table"  # an inline table is one line
        key = toml_key(name)
        if style == "table":
            headers.append(f"[keys.{key}]")
            for field, value in pairs:
                if draw(st.booleans()):
                    headers.append(draw(st.sampled_from(["", "# a comment", "  # x = 1"])))
                headers.append(f"{field} = {value}")
        elif style == "dotted":
            under_keys += [f"{key}.{field} = {value}" for field, value in pairs] or [
                f"{key} = {{}}"
            ]
        else:
            inner = ", ".join(f"{field} = {value}" for field, value in pairs)
            under_keys.append(f"{key} = {{ {inner} }}")
    text = "\n".join([*headers, *(["[keys]", *under_keys] if under_keys else [])]) + "\n"
    return text, text.split("\n")


PROBLEM = re.compile(r"^(?P<path>.*?):(?P<line>\d+): (?P<message>.*)$")


def check_lines(path: str, lines: list[str], stderr: str) -> int:
    """Every `path:N: keys.NAME: …` problem points at a line holding that field or table."""
    checked = 0
    for row in stderr.splitlines():
        found = PROBLEM.match(row)
        if not found or found["path"] != path:
            continue
        number, message = int(found["line"]), found["message"]
        assert 1 <= number <= len(lines), row
        held = lines[number - 1]
        for name in NAMES:
            label = f"keys.{toml_key(name)}: "
            if not message.startswith(label):
                continue
            about = message.removeprefix(label)
            field = next(
                (
                    f
                    for f in [*VALUES, *JUNK_FIELDS]
                    if about.startswith((f, f"unknown field {f!r}"))
                ),
                None,
            )
            expected = {toml_key(name)} | ({toml_key(field)} if field else set())
            assert any(word in held for word in expected), f"{row!r} but line {number} is {held!r}"
            checked += 1
    return checked


def test_generated_key_files_end_in_documented_codes_with_true_line_numbers(
    logged_in, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("LAVA_MAX_RETRIES", "0")
    codes: dict[int, int] = {}
    lines_checked = 0
    path = tmp_path / "keys.toml"

    @fuzz_settings(200)
    @given(key_files())
    def run(generated: tuple[str, list[str]]) -> None:
        nonlocal lines_checked
        text, lines = generated
        path.write_text(text, encoding="utf-8")
        result = run_lava("keys", "apply", "-f", str(path), "--dry-run")
        context = f"{text}\n-> {result.code}\n{result.stderr[-3000:]}"
        assert result.code in DOCUMENTED_EXIT_CODES, context
        assert "Traceback" not in result.output, context
        assert "this is a bug in lava" not in result.stderr, context
        lines_checked += check_lines(str(path), lines, result.stderr)
        codes[int(result.code)] = codes.get(int(result.code), 0) + 1

    run()
    total = sum(codes.values())
    report(
        capsys,
        f"key file fuzz: {total} files, 0 tracebacks, {lines_checked} problem lines checked, "
        f"exit codes {dict(sorted(codes.items()))}",
    )
    assert {0, 2} <= set(codes), "the generator should reach valid and invalid files"
    assert lines_checked > 100
