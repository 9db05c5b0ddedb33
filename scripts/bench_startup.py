"""Start-up benchmark: `lava` commands as ratios to `python -c pass`.

A CLI is started thousands of times, so the budgets are ratios measured in the same
run on the same machine (robust to slow or loaded hosts):

    lava --version               <= 3x
    lava --help                  <= 8x
    one TAB completion           <= 6x   (a command name, or a value read from the config)
    lava keys list --json        <= 10x   (against a running emulator, LAVA_SECRET_KEY set)

and `lava keys list --json` against the floor every API command pays whatever lava does,
`python -c "import typer, httpx"`: <= 1.15x. That ratio is measured in pairs (floor,
list, floor, list, …) and is the median of the pairs' ratios, so a machine whose speed
drifts during the run does not move it.

The `[emulator]` extra pulls in click, which makes `import httpx` load its own CLI
module, so the commands run from a separate venv with the core dependencies only
(`.bench-venv`, built on first use). The emulator runs in this process, from the dev
venv. Usage: `python scripts/bench_startup.py [--runs 20] [--write-readme]`.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_VENV = ROOT / ".bench-venv"
README = ROOT / "README.md"
BUDGETS = {"version": 3.0, "help": 8.0, "complete": 6.0, "complete_value": 6.0, "list_json": 10.0}
FLOOR = "import typer, httpx"  # what any API command must load, lava aside
FLOOR_BUDGET = 1.15  # `keys list --json` over the floor: lava's own imports, request, output
LABELS = {
    "version": "`lava --version`",
    "help": "`lava --help`",
    "complete": "one TAB completion (`lava keys cr<TAB>`)",
    "complete_value": "one TAB on a value read from the config (`lava keys show <TAB>`)",
    "list_json": "`lava keys list --json` (emulator, `LAVA_SECRET_KEY`)",
}


def core_venv() -> Path:
    """A venv with lava-cli and its core dependencies only (no emulator, no click)."""
    python = BENCH_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
    # Reinstall every time: the measured code must be the working tree's.
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--force-reinstall", "--no-deps", str(ROOT)],
        check=True,
    )
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(ROOT)], check=True)
    subprocess.run([str(python), "-m", "compileall", "-q", str(BENCH_VENV / "lib")], check=False)
    return BENCH_VENV / "bin"


def run_once(argv: list[str], env: dict[str, str]) -> float:
    """Wall time in seconds of one run; a failing command ends the benchmark."""
    started = time.perf_counter()
    proc = subprocess.run(
        argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
    )
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{argv} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    return elapsed


def timed(argv: list[str], env: dict[str, str], runs: int) -> float:
    """Median wall time in seconds of `runs` runs (after two warm-up runs)."""
    samples = [run_once(argv, env) for _ in range(runs + 2)]
    return statistics.median(samples[2:])


def paired(
    a: list[str], b: list[str], env_a: dict[str, str], env_b: dict[str, str], runs: int
) -> float:
    """Median of a/b wall-time ratios over `runs` interleaved pairs (after one warm-up)."""
    ratios = [run_once(a, env_a) / run_once(b, env_b) for _ in range(runs + 1)]
    return statistics.median(ratios[1:])


def saved_key_config() -> dict[str, str]:
    """LAVA_CONFIG_DIR pointing at a config with ten saved keys (what TAB on KEY reads)."""
    import json
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="lava-bench-"))
    keys = {f"sk_{i:024d}": {"name": f"key-{i}", "request_shape": "openai"} for i in range(10)}
    config = {"profiles": {"default": {"saved_keys": keys}}}
    (root / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return {"LAVA_CONFIG_DIR": str(root)}


def measure(runs: int) -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    from lava_cli.emulator.server import start_in_thread

    bin_dir = core_venv()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("LAVA_", "_LAVA"))}
    base_env.pop("PYTHONDONTWRITEBYTECODE", None)  # measure with bytecode caches, as users run
    base_env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    lava = str(bin_dir / "lava")
    results: dict[str, float] = {}
    with start_in_thread() as emu:
        env_list = {**base_env, "LAVA_SECRET_KEY": emu.secrets[0], "LAVA_BASE_URL": emu.base_url}
        subprocess.run(
            [lava, "keys", "create", "--name", "bench", "-q"],
            env=env_list,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        baseline = timed([str(bin_dir / "python"), "-c", "pass"], base_env, runs)
        complete_env = {
            **base_env,
            "_LAVA_COMPLETE": "complete_bash",
            "COMP_WORDS": "lava keys cr",
            "COMP_CWORD": "2",
        }
        value_env = {
            **base_env,
            **saved_key_config(),
            "_LAVA_COMPLETE": "complete_bash",
            "COMP_WORDS": "lava keys show ",
            "COMP_CWORD": "3",
        }
        absolute = {
            "version": timed([lava, "--version"], base_env, runs),
            "help": timed([lava, "--help"], base_env, runs),
            "complete": timed([lava], complete_env, runs),
            "complete_value": timed([lava], value_env, runs),
            "list_json": timed([lava, "keys", "list", "--json"], env_list, runs),
            # Not a lava command: what importing the libraries an API call needs costs
            # by itself, so the table shows how much of the budget is ours.
            "floor": timed([str(bin_dir / "python"), "-c", FLOOR], base_env, runs),
        }
        results["list_over_floor"] = paired(
            [lava, "keys", "list", "--json"],
            [str(bin_dir / "python"), "-c", FLOOR],
            env_list,
            base_env,
            runs,
        )
    results["baseline_ms"] = baseline * 1000
    for name, seconds in absolute.items():
        results[name] = seconds / baseline
        results[name + "_ms"] = seconds * 1000
    return results


def table(results: dict[str, float]) -> str:
    lines = [
        f"Measured by `make bench` ({os.cpu_count()} cores; `python -c pass` = "
        f"{results['baseline_ms']:.1f} ms, median of the runs):",
        "",
        "| command | time | ratio | budget |",
        "|---|---|---|---|",
    ]
    for name, label in LABELS.items():
        ok = "✓" if results[name] <= BUDGETS[name] else "✗ over"
        lines.append(
            f"| {label} | {results[name + '_ms']:.0f} ms | {results[name]:.1f}× | "
            f"≤ {BUDGETS[name]:g}× {ok} |"
        )
    lines.append(
        f'| the floor: `python -c "{FLOOR}"` | {results["floor_ms"]:.0f} ms | '
        f"{results['floor']:.1f}× | (the libraries any API command loads) |"
    )
    ok = "✓" if results["list_over_floor"] <= FLOOR_BUDGET else "✗ over"
    lines += [
        "",
        f"`lava keys list --json` over the floor, in interleaved pairs: "
        f"**{results['list_over_floor']:.2f}×** (budget ≤ {FLOOR_BUDGET}× {ok}).",
    ]
    return "\n".join(lines)


def write_readme(block: str, marker: str = "bench") -> None:
    """Replace the README's `<!-- MARKER:start -->` … `<!-- MARKER:end -->` block."""
    text = README.read_text(encoding="utf-8")
    pattern = re.compile(rf"(<!-- {marker}:start -->\n).*?(\n<!-- {marker}:end -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"README.md has no <!-- {marker}:start --> / <!-- {marker}:end --> block")
    README.write_text(
        pattern.sub(lambda m: m.group(1) + block + m.group(2), text), encoding="utf-8"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()
    results = measure(args.runs)
    block = table(results)
    print(block)
    if args.write_readme:
        write_readme(block)
        print("README.md updated")
    over = [n for n in BUDGETS if results[n] > BUDGETS[n]]
    if results["list_over_floor"] > FLOOR_BUDGET:
        over.append("list_over_floor")
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main())
