"""The plugin that keeps `make check` fast (tests/helpers/speed.py), run on sample test
files by an inner pytest (pytester), the way it runs on this suite."""

from __future__ import annotations

import pytest

from tests.helpers import speed

pytestmark = pytest.mark.slow  # each case starts processes on purpose (inside the inner run)

PLUGIN = ("-p", "tests.helpers.speed", "-p", "no:cacheprovider")


def test_a_fast_test_that_starts_a_process_fails_naming_it(pytester: pytest.Pytester):
    pytester.makepyfile(
        test_sample="""
        import subprocess, pytest

        def test_fast():
            subprocess.run(["true"], check=True)

        @pytest.mark.slow
        def test_marked():
            subprocess.run(["true"], check=True)

        def test_no_process():
            assert True
        """
    )
    result = pytester.runpytest_inprocess(*PLUGIN)
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(
        ["*ERROR at teardown of test_fast*", "*not marked slow but started a process*'true'*"]
    )


def test_not_slow_never_imports_a_module_marked_slow_as_a_whole(pytester: pytest.Pytester):
    pytester.makepyfile(
        test_heavy="""
        import pytest
        raise ImportError("a module this heavy must not be imported by make check")

        pytestmark = pytest.mark.slow  # the whole file
        """,
        test_light="def test_light():\n    assert True\n",
    )
    fast = pytester.runpytest_inprocess(*PLUGIN, "-m", "not slow")
    fast.assert_outcomes(passed=1)
    whole = pytester.runpytest_inprocess(*PLUGIN)  # make test still imports (and fails) it
    whole.assert_outcomes(errors=1)
    whole.stdout.fnmatch_lines(["*ImportError: a module this heavy*"])


def test_fast_tests_over_the_limit_are_listed(pytester: pytest.Pytester, monkeypatch):
    monkeypatch.setattr(speed, "SLOW_S", 0.05)
    pytester.makepyfile(
        test_sample="""
        import time, pytest

        def test_sleepy():
            time.sleep(0.1)

        @pytest.mark.slow
        def test_sleepy_but_marked():
            time.sleep(0.1)
        """
    )
    result = pytester.runpytest_inprocess(*PLUGIN)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*tests not marked slow that took over 0.05 s*", "*test_sleepy"])
    assert "test_sleepy_but_marked" not in result.stdout.str()
