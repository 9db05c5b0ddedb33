"""The test suite's own layout: shared machinery lives in tests/helpers/ (or the root
conftest.py), so no test module depends on another test module or test folder.

Without this rule a helper written inside one test file gets imported by three others,
and deleting or moving that test breaks them (this is how tests/cli imported the
stand-in server of tests/api, and tests/emulator the fixtures of tests/sdk).
"""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ALLOWED = ("tests.helpers", "tests.conftest")


# An import statement naming a module of tests/, at any indentation (imports inside
# functions count): `from tests.x import …`, `from tests import x`, `import tests.x`.
IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+(tests(?:\.\w+)*)[ \t]+import[ \t]+\(?[ \t]*(\w+)|import[ \t]+(tests(?:\.\w+)*))",
    re.MULTILINE,
)


def imported_test_modules(path: Path) -> list[str]:
    """The `tests.…` modules `path` imports (a text scan: parsing every file is slower)."""
    found = []
    for match in IMPORT.finditer(path.read_text(encoding="utf-8")):
        module, name, plain = match.groups()
        if plain:
            found.append(plain)
        elif module == "tests":
            found.append(f"tests.{name}")
        else:
            found.append(module)
    return found


def test_tests_import_only_the_shared_helpers():
    wrong = {}
    for path in sorted(TESTS.rglob("*.py")):
        bad = [
            name
            for name in imported_test_modules(path)
            if not any(name == ok or name.startswith(ok + ".") for ok in ALLOWED)
        ]
        if bad:
            wrong[str(path.relative_to(TESTS.parent))] = bad
    assert wrong == {}, (
        "move what these tests share into tests/helpers/ (or a fixture of tests/conftest.py): "
        f"{wrong}"
    )


def test_the_rule_sees_imports_of_other_test_modules(tmp_path):
    sample = tmp_path / "test_sample.py"
    sample.write_text(
        "from tests.api.test_faults import RawServer\n"
        "import tests.sdk.conftest\n"
        "from tests import terminal\n"
        "from tests.helpers.servers import reply\n"
        "def later():\n    from tests.conftest import run_lava\n"
    )
    assert imported_test_modules(sample) == [
        "tests.api.test_faults",
        "tests.sdk.conftest",
        "tests.terminal",
        "tests.helpers.servers",
        "tests.conftest",
    ]
