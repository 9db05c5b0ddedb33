"""Gateway benchmarks: `lava prompt` streaming cost, and emulator throughput.

1. `lava prompt` streaming a 20,000-token reply from the emulator (no delay) into
   /dev/null, against a bare httpx script reading the same stream and writing the
   same text (SSE lines, one json.loads per chunk, write + flush each delta): the
   ratio of median wall times (budget <= 1.5x). Both run from the core-only venv that
   `bench_startup.py` builds, so both pay the same interpreter and httpx start-up.
2. Emulator gateway throughput: 20 concurrent clients sending non-streaming chat
   completions for a fixed time; requests/s and p50/p99 latency (goal >= 500 req/s
   on a 2-core machine). The emulator runs as its own process (`lava emulator serve`),
   the load from two client processes of 10 threads each.

Usage: `python scripts/bench_gateway.py [--runs 7] [--seconds 5] [--write-readme]`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
REPLY_TOKENS = 20_000

# The floor: the least a program can do to print the same reply from the same stream
# (read the SSE lines, decode each chunk's JSON, write the delta text).
BARE = """
import json, os, sys, httpx
body = {"model": "gpt-4o-mini", "max_tokens": REPLY_TOKENS, "stream": True,
        "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": "hi"}]}
with httpx.Client(verify=False) as client:
    with client.stream("POST", os.environ["LAVA_BASE_URL"] + "/chat/completions", json=body,
                       headers={"Authorization": "Bearer " + os.environ["LAVA_SPEND_KEY"]}) as r:
        out = sys.stdout
        for line in r.iter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                choices = json.loads(line[6:]).get("choices")
                if choices and choices[0]["delta"].get("content"):
                    out.write(choices[0]["delta"]["content"])
                    out.flush()
""".replace("REPLY_TOKENS", str(REPLY_TOKENS))

CLIENT = """
import json, os, sys, threading, time, httpx
url, key, seconds, threads = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
body = {"model": "gpt-4o-mini", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}
latencies, errors = [], [0]
deadline = time.monotonic() + seconds
def worker():
    with httpx.Client(headers={"Authorization": "Bearer " + key}, timeout=30) as c:
        while time.monotonic() < deadline:
            t = time.perf_counter()
            r = c.post(url, json=body)
            if r.status_code != 200:
                errors[0] += 1
            latencies.append(time.perf_counter() - t)
ts = [threading.Thread(target=worker) for _ in range(threads)]
[t.start() for t in ts]; [t.join() for t in ts]
print(json.dumps({"latencies": latencies, "errors": errors[0]}))
"""


def median_time(argv: list[str], env: dict[str, str], runs: int) -> float:
    samples = []
    for i in range(runs + 1):
        started = time.perf_counter()
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=True)
        if i:  # the first run warms caches
            samples.append(time.perf_counter() - started)
    return statistics.median(samples)


@contextlib.contextmanager
def emulator(*flags: str) -> Iterator[tuple[str, str]]:
    """`lava emulator serve` as its own process; yields (base URL, a fresh spend key)."""
    import httpx

    secret = "aks_test_" + "b" * 32
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAVA_")}
    env["LAVA_SECRET_KEY"] = secret
    with tempfile.TemporaryDirectory() as tmp:
        server = subprocess.Popen(
            [sys.executable, "-m", "lava_cli", "emulator", "serve", "--port", "0",
             "--db", str(Path(tmp) / "bench.sqlite3"), *flags],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        try:
            assert server.stdout is not None
            base = ""
            while not base:
                line = server.stdout.readline()
                if not line:
                    raise SystemExit("the emulator did not start")
                found = re.search(r"LAVA_BASE_URL=(\S+)", line)
                base = found.group(1) if found else ""
            auth = {"Authorization": f"Bearer {secret}"}
            raw = httpx.post(base + "/spend_keys", json={"name": "bench"}, headers=auth).json()
            yield base, raw["key"]
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=20)


def bench_stream(runs: int) -> dict[str, float]:
    from scripts.bench_startup import core_venv

    bin_dir = core_venv()
    with emulator("--reply-tokens", str(REPLY_TOKENS)) as (base, raw):
        env = {k: v for k, v in os.environ.items() if not k.startswith("LAVA_")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.update(LAVA_BASE_URL=base, LAVA_SPEND_KEY=raw, LAVA_CONFIG_DIR=tempfile.mkdtemp())
        lava = median_time(
            [str(bin_dir / "lava"), "prompt", "--max-tokens", str(REPLY_TOKENS), "hi"], env, runs
        )
        bare = median_time([str(bin_dir / "python"), "-c", BARE], env, runs)
    return {"lava_ms": lava * 1000, "bare_ms": bare * 1000, "ratio": lava / bare}


def bench_throughput(seconds: float) -> dict[str, float]:
    with emulator() as (base, raw):
        url = base + "/chat/completions"
        argv = [sys.executable, "-c", CLIENT, url, raw, str(seconds), "10"]
        clients = [subprocess.Popen(argv, stdout=subprocess.PIPE, text=True) for _ in range(2)]
        results = [json.loads(c.communicate(timeout=seconds + 60)[0]) for c in clients]
    latencies = sorted(x for r in results for x in r["latencies"])
    errors = sum(r["errors"] for r in results)
    return {
        "rps": len(latencies) / seconds,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
        "requests": float(len(latencies)),
        "errors": float(errors),
    }


def table(stream: dict[str, float], load: dict[str, float], seconds: float) -> str:
    ok = "✓" if stream["ratio"] <= 1.5 else "✗ over"
    goal = "✓" if load["rps"] >= 500 else "✗ under"
    return "\n".join(
        [
            f"Measured by `make bench` ({os.cpu_count()} cores, medians):",
            "",
            "| measure | result | budget |",
            "|---|---|---|",
            f"| `lava prompt` streaming {REPLY_TOKENS:,} tokens to /dev/null vs a bare httpx "
            f"reader | {stream['lava_ms']:.0f} ms vs {stream['bare_ms']:.0f} ms = "
            f"{stream['ratio']:.2f}× | ≤ 1.5× {ok} |",
            f"| gateway throughput, 20 concurrent clients, non-streaming, {seconds:g} s | "
            f"{load['rps']:.0f} req/s, p50 {load['p50_ms']:.0f} ms, p99 {load['p99_ms']:.0f} ms, "
            f"{load['errors']:.0f} errors | ≥ 500 req/s {goal} |",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()
    stream = bench_stream(args.runs)
    load = bench_throughput(args.seconds)
    block = table(stream, load, args.seconds)
    print(block)
    if args.write_readme:
        from scripts.bench_startup import write_readme

        write_readme(block, "gateway-bench")
        print("README.md updated")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
