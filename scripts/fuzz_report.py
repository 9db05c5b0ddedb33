"""Run the fuzzers, the canary hunt and the crash test with more examples; print the figures.

`make fuzz` runs this with --scale 10 (LAVA_FUZZ_EXAMPLES overrides it): every
hypothesis-driven test runs `scale` times the examples `make test` runs, unseeded, so
each run explores new inputs. The figures are the lines the tests report.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUITES = ["tests/fuzz", "tests/security", "tests/emulator/test_crash_safety.py"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10, help="examples multiplier (default 10)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        figures = Path(tmp) / "figures.txt"
        env = {
            **os.environ,
            "LAVA_FUZZ_EXAMPLES": str(max(1, args.scale)),
            "LAVA_FIGURES_FILE": str(figures),
        }
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SUITES]
        code = subprocess.call(command, cwd=ROOT, env=env)
        print(f"\nFigures (examples x{args.scale}; reproduce: make fuzz):")
        if figures.exists():
            for line in figures.read_text(encoding="utf-8").splitlines():
                print(f"  {line}")
    return code


if __name__ == "__main__":
    sys.exit(main())
