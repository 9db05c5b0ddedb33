"""The emulator's boundary: it is the independent oracle the client is tested against, so
it keeps its own reading of the contract and imports nothing of the client."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import lava_cli.emulator as package
from lava_cli.emulator.server import is_loopback

# The package root (for __version__) and the error classes the CLI maps to exit codes.
ALLOWED_OUTSIDE = {"lava_cli", "lava_cli.errors"}


def _imports(path: Path) -> list[str]:
    """Every module `path` imports, at module level or inside a function."""
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_the_emulator_imports_nothing_of_the_client() -> None:
    offenders = [
        f"{path.name}: {name}"
        for path in sorted(Path(package.__file__).parent.glob("*.py"))
        for name in _imports(path)
        if name.split(".")[0] == "lava_cli"
        and not name.startswith("lava_cli.emulator")
        and name not in ALLOWED_OUTSIDE
    ]
    assert offenders == []


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
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
