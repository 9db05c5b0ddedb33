"""`lava keys rotate KEY --deliver COMMAND`: the new key reaches each command on its stdin
only, is proven at the gateway, and is never lost when a step fails.

The commands are real programs (Python scripts written here), run by the real CLI
against the real emulator over loopback; what a command saw (its stdin, its own
/proc/self/cmdline and /proc/self/environ) is written to a file the test reads.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import sys
import time
from pathlib import Path

import httpx
import pytest

from lava_cli.emulator.faults import Faults
from lava_cli.emulator.gateway import GatewayOptions
from lava_cli.emulator.server import start_in_thread, with_gateway_options
from tests.conftest import run_lava, wait_for
from tests.helpers.env import NULL_KEYRING, clean_env
from tests.helpers.process import spawn_lava

pytestmark = pytest.mark.slow  # every test starts the delivery commands as processes

# What a delivery command saw: its stdin, and its own argv and environment as the
# kernel holds them (not as Python parsed them).
RECORDER = """
import json, pathlib, sys
key = sys.stdin.read()
proc = pathlib.Path("/proc/self")
pathlib.Path(sys.argv[1]).write_text(json.dumps({
    "key": key,
    "cmdline": proc.joinpath("cmdline").read_bytes().decode("utf-8", "replace"),
    "environ": proc.joinpath("environ").read_bytes().decode("utf-8", "replace"),
}))
print("stored the key; it was", key)  # a careless command echoes it: lava must scrub it
"""

# Takes the key, then pauses it through the management API, as a destination that
# broke between the rotation and the probe would leave it: the probe must catch it.
PAUSER = """
import json, pathlib, sys, urllib.request
sys.stdin.read()
base, secret_file, key_id = sys.argv[1:4]
secret = pathlib.Path(secret_file).read_text().strip()
request = urllib.request.Request(
    f"{base}/spend_keys/{key_id}", data=json.dumps({"status": "paused"}).encode(),
    method="PUT", headers={"authorization": f"Bearer {secret}", "content-type": "application/json"},
)
urllib.request.urlopen(request, timeout=10).read()
"""

SLEEPER = """
import os, pathlib, sys, time
pathlib.Path(sys.argv[1]).write_text(str(os.getpid()))
time.sleep(120)
"""


def script(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def command(*argv: object) -> str:
    return shlex.join([sys.executable, *map(str, argv)])


def create(*args: str) -> dict:
    result = run_lava("keys", "create", *args, "--json")
    assert result.code == 0, result.output
    return json.loads(result.stdout)


def gateway_status(emulator, raw: str) -> int:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    headers = {"Authorization": f"Bearer {raw}"}
    url = emulator.base_url + "/chat/completions"
    return httpx.post(url, headers=headers, json=body, timeout=10).status_code


def seen(path: Path) -> dict:
    return json.loads(path.read_text())


def test_the_command_gets_the_new_key_on_stdin_and_nowhere_else(logged_in, tmp_path, monkeypatch):
    old = create("--name", "ci", "--spend-limit", "5/monthly")
    stale = old["key"]  # a spend key in the caller's environment must not reach the command
    monkeypatch.setenv("OPENAI_API_KEY", stale)
    monkeypatch.setenv("DELIVER_MARKER", "kept")
    out = tmp_path / "seen.json"
    recorder = script(tmp_path, "recorder.py", RECORDER)
    result = run_lava("--verbose", "keys", "rotate", "ci", "--deliver", command(recorder, out))
    assert result.code == 0, result.output
    assert result.stdout == ""  # delivered: the key is printed nowhere
    got = seen(out)
    new = got["key"]
    assert new.startswith("lava_sk_") and new != stale and "\n" not in new
    assert gateway_status(logged_in, new) == 200 and gateway_status(logged_in, stale) == 401
    for where in ("cmdline", "environ"):
        assert new not in got[where] and stale not in got[where]
    environ = dict(v.split("=", 1) for v in got["environ"].split("\0") if "=" in v)
    assert "LAVA_SECRET_KEY" not in environ and "OPENAI_API_KEY" not in environ
    assert logged_in.secrets[0] not in got["environ"]
    assert environ["DELIVER_MARKER"] == "kept"  # the rest of the environment is passed on
    # Every step reported with its time; the echo relayed, scrubbed; --verbose logs no key.
    assert new not in result.stderr and stale not in result.stderr
    assert "stored the key; it was lava_sk_" in result.stderr
    for step in ("rotate: ok", "deliver 1/1: ok", "probe: ok: POST /v1/chat/completions"):
        assert step in result.stderr
    assert "400 with the new key, 401 with a made-up one" in result.stderr
    assert " s)" in result.stderr and "> POST" in result.stderr  # timings, verbose log


def test_several_destinations_each_get_the_same_key(logged_in, tmp_path):
    create("--name", "multi")
    recorder = script(tmp_path, "recorder.py", RECORDER)
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    result = run_lava(
        "keys", "rotate", "multi", "--json",
        "--deliver", command(recorder, a), "--deliver", command(recorder, b),
    )  # fmt: skip
    assert result.code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is True and "key" not in report
    # The probe is free: nothing billed, recorded or counted against the key's limits.
    shown = json.loads(run_lava("keys", "show", "multi", "--json").stdout)
    assert (shown["current_requests"], shown["total_spend"]) == (0, "0.00")
    requests = json.loads(run_lava("usage", "--wallet", "--since", "1d", "--json").stdout)
    assert requests["totals"]["requests"] == 0
    assert [s["step"] for s in report["steps"]] == ["rotate", "deliver 1/2", "deliver 2/2", "probe"]
    assert all(s["ok"] and s["seconds"] >= 0 for s in report["steps"])
    probe = report["steps"][-1]
    assert probe["request"] == "POST /v1/chat/completions"
    assert (probe["status"], probe["control_status"]) == (400, 401)
    assert seen(a)["key"] == seen(b)["key"]
    assert gateway_status(logged_in, seen(a)["key"]) == 200


def test_a_failing_command_leaves_the_key_on_stdout_and_exits_7(logged_in, tmp_path):
    create("--name", "ci")
    recorder = script(tmp_path, "recorder.py", RECORDER)
    out = tmp_path / "seen.json"
    failing = command("-c", "import sys; sys.stdin.read(); sys.exit(3)")
    result = run_lava(
        "keys", "rotate", "ci", "--deliver", failing, "--deliver", command(recorder, out)
    )
    assert result.code == 8, result.output
    printed = result.stdout.strip()
    assert printed.startswith("lava_sk_") and result.stdout.count("\n") == 1
    assert gateway_status(logged_in, printed) == 200  # the printed key is the live one
    assert seen(out)["key"] == printed  # a failure does not stop the other deliveries
    assert "deliver 1/2: FAILED" in result.stderr and "exited with 3" in result.stderr
    assert "deliver 2/2: ok" in result.stderr and "probe: ok" in result.stderr
    assert "the old value no longer works" in result.stderr
    assert "printed on stdout" in result.stderr
    assert printed not in result.stderr


def test_with_save_a_failed_delivery_saves_the_key_instead(logged_in, memory_keyring):
    key = create("--name", "kept")
    result = run_lava("keys", "rotate", "kept", "--save", "--deliver", "false")
    assert result.code == 8, result.output
    assert result.stdout == ""  # saved, so not printed
    saved = memory_keyring.entries[("lava-cli", f"spend_key:{key['spend_key_id']}")]
    assert gateway_status(logged_in, saved) == 200
    assert "save: ok" in result.stderr and "saved in" in result.stderr


def test_a_json_report_of_a_failure_carries_the_key(logged_in):
    create("--name", "ci")
    result = run_lava("keys", "rotate", "ci", "--json", "--deliver", "false")
    assert result.code == 8
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["saved"] is None
    failed = report["steps"][1]
    assert failed["ok"] is False and failed["exit_code"] == 1 and failed["command"] == "false"
    assert gateway_status(logged_in, report["key"]) == 200


def test_a_command_that_hangs_is_stopped_at_the_deadline(logged_in, tmp_path, monkeypatch):
    create("--name", "slow")
    monkeypatch.setenv("LAVA_DELIVER_TIMEOUT", "1")
    pid_file = tmp_path / "pid"
    sleeper = script(tmp_path, "sleeper.py", SLEEPER)
    started = time.monotonic()
    result = run_lava("keys", "rotate", "slow", "--deliver", command(sleeper, pid_file))
    assert time.monotonic() - started < 30  # 1 s deadline + 2 s grace, on a loaded machine
    assert result.code == 8, result.output
    assert "did not finish within 1 s (LAVA_DELIVER_TIMEOUT)" in result.stderr
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)  # stopped, not left running
    assert gateway_status(logged_in, result.stdout.strip()) == 200


def test_a_command_that_cannot_start_after_the_rotation(logged_in, tmp_path):
    create("--name", "ci")
    broken = script(tmp_path, "broken", "#!/nonexistent/interpreter\n")
    broken.chmod(0o755)  # found by the check before the rotation; exec then fails
    result = run_lava("keys", "rotate", "ci", "--deliver", str(broken))
    assert result.code == 8, result.output
    assert "command not found" in result.stderr
    assert gateway_status(logged_in, result.stdout.strip()) == 200


def test_a_missing_program_is_refused_before_anything_rotates(logged_in):
    key = create("--name", "ci")
    result = run_lava("keys", "rotate", "ci", "--deliver", "no-such-program-xyz --flag")
    assert result.code == 2
    assert "command not found" in result.stderr and "nothing was rotated" in result.stderr
    assert gateway_status(logged_in, key["key"]) == 200  # the old key still works


@pytest.mark.parametrize(
    "args",
    [
        ("--deliver", "gh 'unbalanced"),
        ("--deliver", "   "),
        ("--deliver", "cat", "-q"),
        ("--deliver", "cat", "--format", "env"),
    ],
)
def test_bad_deliver_flags_are_refused_before_any_request(logged_in, args):
    key = create("--name", "ci")
    result = run_lava("keys", "rotate", "ci", *args)
    assert result.code == 2, result.output
    assert gateway_status(logged_in, key["key"]) == 200


def test_a_bad_deadline_is_refused_before_anything_rotates(logged_in, monkeypatch):
    key = create("--name", "ci")
    monkeypatch.setenv("LAVA_DELIVER_TIMEOUT", "soon")
    result = run_lava("keys", "rotate", "ci", "--deliver", "cat")
    assert result.code == 2 and "LAVA_DELIVER_TIMEOUT" in result.stderr
    assert gateway_status(logged_in, key["key"]) == 200


def test_the_probe_fails_when_the_gateway_refuses_the_new_key(logged_in, tmp_path):
    key = create("--name", "ci")
    secret_file = tmp_path / "secret"
    secret_file.write_text(logged_in.secrets[0])
    pauser = script(tmp_path, "pauser.py", PAUSER)
    deliver = command(pauser, logged_in.base_url, secret_file, key["spend_key_id"])
    result = run_lava("keys", "rotate", "ci", "--deliver", deliver)
    assert result.code == 8, result.output
    assert "deliver 1/1: ok" in result.stderr
    assert "probe: FAILED: POST /v1/chat/completions with the new key: 401" in result.stderr
    printed = result.stdout.strip()
    assert printed.startswith("lava_sk_")
    run_lava("keys", "resume", "ci")
    assert gateway_status(logged_in, printed) == 200  # the printed key is the live one


def test_a_gateway_answering_before_the_key_check_proves_nothing(tmp_path, monkeypatch):
    """Every gateway request gets 429 before its key is looked at (the emulator's fault
    injection): the new key's 429 would look like "accepted", but the made-up key's 429
    shows the answer proves nothing, so the probe fails."""
    options = GatewayOptions(faults=Faults(["429"]))
    with start_in_thread(app_factory=with_gateway_options(options)) as emu:
        monkeypatch.setenv("LAVA_SECRET_KEY", emu.secrets[0])
        monkeypatch.setenv("LAVA_BASE_URL", emu.base_url)
        monkeypatch.setenv("LAVA_MAX_RETRIES", "0")
        create("--name", "ci")
        result = run_lava("keys", "rotate", "ci", "--deliver", "cat")
    assert result.code == 8, result.output
    assert "so did a made-up key (429)" in result.stderr
    assert result.stdout.strip().startswith("lava_sk_")


def test_ctrl_c_during_a_delivery_still_hands_the_key_over(logged_in, tmp_path):
    create("--name", "ci")
    pid_file = tmp_path / "pid"
    sleeper = script(tmp_path, "sleeper.py", SLEEPER)
    env = clean_env(
        LAVA_SECRET_KEY=logged_in.secrets[0],
        LAVA_BASE_URL=logged_in.base_url,
        LAVA_CONFIG_DIR=str(tmp_path / "config"),
        PYTHON_KEYRING_BACKEND=NULL_KEYRING,
    )
    proc = spawn_lava(["keys", "rotate", "ci", "--deliver", command(sleeper, pid_file)], env)
    try:
        wait_for(pid_file.exists, "the delivery command to start")
        wait_for(lambda: pid_file.read_text().strip(), "the delivery command's pid")
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "interrupted after the rotation" in stderr
    assert gateway_status(logged_in, stdout.strip()) == 200
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)
