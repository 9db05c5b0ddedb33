"""Output.table: a rich table for people, bare TSV rows for pipes, built without an
AppContext; and the commands that lay out their rows with it."""

from __future__ import annotations

import io

from lava_cli.render.output import Output, Terminal
from tests.conftest import run_lava

HOSTILE = "[bold]x[/] \x1b]0;title\x07\tand\nmore"


def test_piped_table_is_bare_tsv_rows_cleaned_like_tsv():
    stdout = io.StringIO()
    out = Output(Terminal(stdout, io.StringIO()))
    out.table(("name", "value"), [["a", HOSTILE], ["b", ""]])
    lines = stdout.getvalue().splitlines()
    assert lines[0].split("\t") == ["a", "[bold]x[/] \\x1b]0;title\\x07 and more"]
    assert lines[1] == "b\t-"  # an empty cell keeps its column
    assert len(lines) == 2  # no header row: `cut` and `read` get data only


def test_terminal_table_has_headers_and_shows_cells_as_written():
    stdout = io.StringIO()
    out = Output(Terminal(stdout, io.StringIO(), stdout_tty=True, stderr_tty=True))
    out.table(("name", "value"), [["a", HOSTILE]])
    text = stdout.getvalue()
    assert text.splitlines()[0].split() == ["name", "value"]
    assert "[bold]x[/]" in text  # markup in a cell is text, not style
    assert "\x1b" not in text and "\x07" not in text  # no colour asked, nothing obeyed
    headless = io.StringIO()
    Output(Terminal(headless, io.StringIO(), stdout_tty=True)).table(
        ("k", "v"), [["profile", "default"]], show_header=False
    )
    assert headless.getvalue().split() == ["profile", "default"]


def test_env_list_is_a_table_on_a_terminal_and_tsv_in_a_pipe(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    tty = run_lava("env", "--list", tty=True)
    assert tty.code == 0, tty.output
    first = tty.stdout.splitlines()[0].split()
    assert first == ["tool", "shape", "setup", "label"]
    assert any(line.split()[:2] == ["claude-code", "anthropic"] for line in tty.stdout.splitlines())
    piped = run_lava("env", "--list").stdout.splitlines()
    assert "claude-code\tanthropic\tenv\tClaude Code" in piped
    assert all(len(line.split("\t")) == 4 for line in piped)


def test_auth_status_is_one_row_per_setting_in_both_forms(emulator, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("LAVA_SECRET_KEY", emulator.secrets[0])
    monkeypatch.setenv("LAVA_BASE_URL", emulator.base_url)
    tty = run_lava("auth", "status", tty=True)
    assert tty.code == 0, tty.output
    rows = [line.split() for line in tty.stdout.splitlines()]
    assert rows[0] == ["profile", "default"]  # no header row: the names say it
    assert ["base_url", emulator.base_url] in rows
    assert emulator.secrets[0] not in tty.stdout  # only the preview
    piped = run_lava("auth", "status").stdout.splitlines()
    assert f"base_url\t{emulator.base_url}" in piped and "logged_in\tTrue" in piped
