"""`lava keys apply -f FILE` end to end: the in-process CLI against the emulator.

Requests are counted by a `Relay` between the CLI and the emulator (the `relay`
fixture): every request passes through it with its method, path and JSON body, so
"nothing sent" means no POST, PUT or DELETE reached the server (listing is a GET).
The same relay injects failures at a precise request for the partial-failure tests.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from tests.conftest import run_lava
from tests.helpers.servers import response

FULL = """\
[keys.claude]
shape = "anthropic"
models = ["claude-sonnet-4-6"]
providers = ["anthropic"]
spend_limit = "50/monthly"
request_limit = "1000/daily"
rate_limit = "60/10"
expires_at = "2031-01-01T00:00:00Z"
paused = false

[keys.ci]
spend_limit = "5/total"
paused = true

[keys.batch]
rate_limit = 120
"""


@pytest.fixture
def keyfile(tmp_path: Path):
    def write(text: str, name: str = "keys.toml") -> str:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


def apply(path: str, *args: str, input: str | None = None, tty: bool = False):
    return run_lava("keys", "apply", "-f", path, *args, input=input, tty=tty)


def wallet() -> dict[str, dict]:
    listed = run_lava("keys", "list", "--json")
    assert listed.code == 0, listed.output
    return {k["name"]: k for k in json.loads(listed.stdout)}


def create(*args: str) -> dict:
    result = run_lava("keys", "create", *args, "--json")
    assert result.code == 0, result.output
    return json.loads(result.stdout)


def raw_keys(text: str) -> list[str]:
    return [word for word in text.replace("'", " ").split() if word.startswith("lava_sk_")]


def error(status: str, code: str, message: str) -> bytes:
    body = json.dumps({"error": {"message": message, "code": code}}).encode()
    return response(status, body)


# --- from empty, again, drift -----------------------------------------------------------


def test_apply_from_empty_creates_every_key_and_prints_each_value_once(logged_in, relay, keyfile):
    counted = relay()
    result = apply(keyfile(FULL), "--yes")
    assert result.code == 0, result.output
    assert [(m, p) for m, p, _ in counted.writes()] == [("POST", "/v1/spend_keys")] * 3
    keys = wallet()
    claude = keys["claude"]
    assert claude["request_shape"] == "anthropic"
    assert claude["allowed_models"] == ["claude-sonnet-4-6"]
    assert claude["allowed_providers"] == ["anthropic"]
    assert claude["spend_limit"] == {"amount": "50.00", "cycle": "monthly"}
    assert claude["request_limit"] == {"count": 1000, "cycle": "daily"}
    assert claude["rate_limit"] == {"rpm": 60, "burst": 10}
    assert claude["expires_at"] == "2031-01-01T00:00:00Z"
    assert claude["status"] == "active"
    assert keys["ci"]["status"] == "paused"
    assert keys["ci"]["spend_limit"] == {"amount": "5.00", "cycle": "total"}
    assert keys["ci"]["request_shape"] == "openai" and keys["ci"]["allowed_models"] is None
    assert keys["batch"]["rate_limit"] == {"rpm": 120, "burst": None}
    # Each new value: once, on stdout, after the plan; never on stderr.
    values = raw_keys(result.stdout)
    assert len(values) == 3 and len(set(values)) == 3
    assert "lava_sk_" not in result.stderr.replace("lava_sk_…", "")
    plan_end = result.stdout.index("Plan: 3 to create")
    assert all(result.stdout.index(v) > plan_end for v in values)
    for value in values:
        owner = logged_in.store.key_for_raw(value)
        assert owner is not None and owner.settings.name in keys
    assert "+ create claude" in result.stdout and "spend_limit: 50/monthly" in result.stdout


def test_a_second_apply_sends_nothing(logged_in, relay, keyfile):
    path = keyfile(FULL)
    assert apply(path, "--yes").code == 0
    counted = relay()
    again = apply(path, "--yes")
    assert again.code == 0, again.output
    assert counted.writes() == []  # only the listing: GET /v1/spend_keys
    assert {m for m, _, _ in counted.calls} == {"GET"}
    assert "Nothing to do" in again.stderr
    assert again.stdout.count("= unchanged") == 3 and "lava_sk_" not in again.stdout


def test_drift_is_put_back_in_place_sending_only_the_fields_that_differ(logged_in, relay, keyfile):
    path = keyfile(FULL)
    assert apply(path, "--yes").code == 0
    before = {name: k["spend_key_id"] for name, k in wallet().items()}
    assert run_lava("keys", "update", "claude", "--spend-limit", "80/weekly").code == 0
    assert run_lava("keys", "update", "ci", "--model", "gpt-4o-mini", "--no-spend-limit").code == 0
    assert run_lava("keys", "resume", "ci").code == 0
    counted = relay()
    result = apply(path, "--yes")
    assert result.code == 0, result.output
    assert "spend_limit: 80/weekly → 50/monthly" in result.stdout
    assert "models: gpt-4o-mini → all" in result.stdout
    assert "spend_limit: none → 5/total" in result.stdout
    assert "paused: false → true" in result.stdout
    puts = {path: body for method, path, body in counted.writes() if method == "PUT"}
    assert len(counted.writes()) == len(puts) == 2
    assert puts[f"/v1/spend_keys/{before['claude']}"] == {
        "spend_limit": {"amount": "50.00", "cycle": "monthly"}
    }
    assert puts[f"/v1/spend_keys/{before['ci']}"] == {
        "allowed_models": None,
        "spend_limit": {"amount": "5.00", "cycle": "total"},
        "status": "paused",
    }
    after = wallet()
    assert {name: k["spend_key_id"] for name, k in after.items()} == before  # same ids
    assert after["ci"]["allowed_models"] is None and after["ci"]["status"] == "paused"
    assert "lava_sk_" not in result.stdout  # an update mints nothing


def test_a_line_removed_from_the_file_clears_that_setting(logged_in, relay, keyfile):
    assert apply(keyfile(FULL), "--yes").code == 0
    lighter = FULL.replace('spend_limit = "50/monthly"\n', "").replace(
        'models = ["claude-sonnet-4-6"]\n', ""
    )
    lighter = lighter.replace('expires_at = "2031-01-01T00:00:00Z"\n', "")
    counted = relay()
    assert apply(keyfile(lighter, "lighter.toml"), "--yes").code == 0
    [(method, _, body)] = counted.writes()
    assert method == "PUT"
    assert body == {"allowed_models": None, "spend_limit": None, "expires_at": None}
    claude = wallet()["claude"]
    assert claude["spend_limit"] is None and claude["expires_at"] is None


def test_model_order_is_not_a_change_and_shape_case_does_not_matter(logged_in, relay, keyfile):
    assert (
        apply(keyfile('[keys.m]\nmodels = ["a-1", "b-2"]\nshape = "openai"\n'), "--yes").code == 0
    )
    counted = relay()
    same = keyfile('[keys.m]\nmodels = ["b-2", "a-1"]\nshape = "OpenAI"\n', "same.toml")
    result = apply(same, "--check")
    assert result.code == 0, result.output
    assert counted.writes() == []


# --- prune and the cap --------------------------------------------------------------------


def test_keys_not_in_the_file_are_left_alone_unless_prune(logged_in, relay, keyfile):
    stray = create("--name", "stray", "--save")
    path = keyfile(FULL)
    result = apply(path, "--yes")
    assert result.code == 0, result.output
    assert "left alone (--prune revokes them): stray" in result.stdout
    assert "stray" in wallet()
    counted = relay()
    pruned = apply(path, "--yes", "--prune")
    assert pruned.code == 0, pruned.output
    assert f"- revoke stray ({stray['spend_key_id']})" in pruned.stdout
    assert [(m, p) for m, p, _ in counted.writes()] == [
        ("DELETE", f"/v1/spend_keys/{stray['spend_key_id']}")
    ]
    assert set(wallet()) == {"claude", "ci", "batch"}
    forgotten = run_lava("keys", "forget", "stray")  # its saved copy went with it
    assert forgotten.code == 4, forgotten.output


def test_prune_with_a_file_that_declares_nothing_is_refused(logged_in, relay, keyfile):
    create("--name", "keep-me")
    counted = relay()
    result = apply(keyfile("# nothing here yet\n"), "--yes", "--prune")
    assert result.code == 2
    assert "declares no keys, so --prune would revoke every key" in result.stderr
    assert counted.calls == []
    assert "keep-me" in wallet()


def test_the_ten_key_cap_is_checked_in_the_plan_before_anything_is_sent(logged_in, relay, keyfile):
    for n in range(9):
        create("--name", f"old-{n}")
    text = "[keys.old-0]\n" + "".join(
        f'[keys.new-{n}]\nspend_limit = "1/daily"\n' for n in range(2)
    )
    path = keyfile(text)
    counted = relay()
    result = apply(path, "--yes")
    assert result.code == 5, result.output
    assert "would leave 11 keys in the wallet (9 now, 2 to create); Lava allows 10" in result.stderr
    assert "--prune revokes the 8 the file does not declare" in result.stderr
    assert counted.writes() == []
    # With --prune the plan makes room first: every revoke is sent before any create.
    pruned = apply(path, "--yes", "--prune")
    assert pruned.code == 0, pruned.output
    methods = [m for m, _, _ in counted.writes()]
    assert methods == ["DELETE"] * 8 + ["POST"] * 2
    assert set(wallet()) == {"old-0", "new-0", "new-1"}


# --- names the wallet holds twice, expiry ---------------------------------------------------


def test_a_declared_name_the_wallet_holds_twice_is_refused(logged_in, relay, keyfile):
    first = create("--name", "dup")
    second = create("--name", "dup", "--allow-duplicate-name")
    counted = relay()
    result = apply(keyfile('[keys.other]\n\n[keys.dup]\nspend_limit = "1/daily"\n'), "--yes")
    assert result.code == 2, result.output
    line = next(ln for ln in result.stderr.splitlines() if "keys.dup" in ln)
    assert line.split(": ")[0].endswith("keys.toml:3")
    assert first["spend_key_id"] in line and second["spend_key_id"] in line
    assert counted.writes() == []
    # Not declared, the two are left alone like any key outside the file.
    fine = apply(keyfile('[keys.other]\nspend_limit = "1/daily"\n', "other.toml"), "--yes")
    assert fine.code == 0, fine.output


def test_an_expiry_in_the_past_is_refused_for_a_new_key_with_its_line(logged_in, relay, keyfile):
    counted = relay()
    text = '[keys.late]\nshape = "openai"\nexpires_at = 2020-01-01T00:00:00Z\n'
    result = apply(keyfile(text), "--yes")
    assert result.code == 2
    assert "keys.toml:3: keys.late: expires_at 2020-01-01T00:00:00Z is in the past" in (
        result.stderr
    )
    assert counted.writes() == []


def test_an_expired_key_the_file_leaves_as_it_is_is_in_sync(logged_in, keyfile):
    from lava_cli.emulator.schema import KeySettings

    store = logged_in.store
    wallet_id = store.wallet_for_secret(logged_in.secrets[0]).wallet_id
    store.create_key(wallet_id, KeySettings(name="old", expires_at="2020-01-01T00:00:00.000000Z"))
    exported = run_lava("keys", "export")
    assert 'expires_at = "2020-01-01T00:00:00Z"' in exported.stdout
    result = apply(keyfile(exported.stdout), "--check")
    assert result.code == 0, result.output


# --- a bad file: nothing sent ---------------------------------------------------------------


BAD = """\
[keys.claude]
shape = "gemini"
modles = ["x"]
spend_limit = "50/fortnightly"
request_limit = 1000
rate_limit = "0"
expires_at = "tomorrow"
paused = "no"
models = []

[keys."two words"]
spend-limit = "5/total"
status = "paused"
providers = ["", "x"]

[key.x]
"""


def test_a_bad_file_lists_every_problem_with_its_line_and_sends_nothing(logged_in, relay, keyfile):
    counted = relay()
    path = keyfile(BAD)
    result = apply(path, "--yes")
    assert result.code == 2
    assert counted.calls == []  # not even the listing
    problems = [ln for ln in result.stderr.splitlines() if ln.startswith(path + ":")]
    lines = [int(ln.removeprefix(path + ":").split(":")[0]) for ln in problems]
    assert lines == [2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 16]
    text = "\n".join(problems)
    for expected in (
        "unknown request shape 'gemini'",
        "unknown field 'modles' (did you mean 'models'?)",
        "unknown cycle 'fortnightly'",
        'request_limit must be a string like "1000/daily", not an integer',
        "requests per minute must be between 1 and 5,000,000, got 0",
        "'tomorrow' is not an ISO 8601 date or time",
        "paused must be true or false, not a string",
        "models = [] would allow nothing",
        "unknown field 'spend-limit' (did you mean 'spend_limit'?)",
        "unknown field 'status' (did you mean 'paused'?",
        "providers cannot be empty",
        "key: unknown table (did you mean 'keys'?)",
    ):
        assert expected in text, expected
    assert f"error: {path} has 12 problems; nothing was changed" in result.stderr


def test_a_file_that_is_not_toml_names_the_line(logged_in, relay, keyfile):
    counted = relay()
    path = keyfile('[keys.a]\nshape = "openai"\nspend_limit = 50/monthly\n')
    result = apply(path, "--yes")
    assert result.code == 2
    assert f"{path}:3: not valid TOML" in result.stderr
    assert counted.calls == []


def test_a_missing_file_is_exit_2(logged_in, tmp_path):
    result = apply(str(tmp_path / "nope.toml"), "--yes")
    assert result.code == 2
    assert "cannot read" in result.stderr and "Traceback" not in result.output


# --- partial failure, and the run after it -----------------------------------------------


PARTIAL = """\
[keys.d]
spend_limit = "9/daily"

[keys.a]
[keys.b]
[keys.c]
[keys.e]
"""


def test_a_failure_half_way_reports_what_was_done_keeps_the_keys_and_a_rerun_converges(
    logged_in, relay, keyfile
):
    create("--name", "d", "--spend-limit", "1/daily")
    path = keyfile(PARTIAL)

    def third_create_fails(method: str, path: str, body: object) -> bytes | None:
        if method == "POST" and isinstance(body, dict) and body.get("name") == "c":
            return error("500 Internal Server Error", "internal_error", "upstream fell over")
        return None

    counted = relay(third_create_fails)
    result = apply(path, "--yes")
    assert result.code == 6, result.output  # the failed call's own code: server unavailable
    assert [m for m, _, _ in counted.writes()] == ["PUT", "POST", "POST", "POST"]
    # The keys minted before the failure are on stdout, each once.
    values = raw_keys(result.stdout)
    assert len(values) == 2
    owners = {logged_in.store.key_for_raw(v).settings.name for v in values}
    assert owners == {"a", "b"}
    assert "lava_sk_" not in result.stderr
    assert "~ updated d" in result.stderr and "+ created b" in result.stderr
    assert "not applied (failed): + create c" in result.stderr
    assert "not applied (not tried): + create e" in result.stderr
    assert "error: applied 3 of 5 changes; creating c failed" in result.stderr
    assert "run the same apply again" in result.stderr
    assert set(wallet()) == {"d", "a", "b"}
    # The re-run sends only what is still missing, then nothing at all.
    counted.intercept = None
    again = apply(path, "--yes")
    assert again.code == 0, again.output
    assert [(m, b["name"]) for m, _, b in counted.writes()[4:]] == [("POST", "c"), ("POST", "e")]
    assert len(raw_keys(again.stdout)) == 2
    assert set(wallet()) == {"d", "a", "b", "c", "e"}
    writes = len(counted.writes())
    third = apply(path, "--yes")
    assert third.code == 0 and len(counted.writes()) == writes


def test_a_refused_update_stops_the_run_with_its_exit_code(logged_in, relay, keyfile):
    create("--name", "d", "--spend-limit", "1/daily")

    def refuse_puts(method: str, path: str, body: object) -> bytes | None:
        if method == "PUT":
            return error("403 Forbidden", "forbidden", "this secret may not change keys")
        return None

    relay(refuse_puts)
    result = apply(keyfile(PARTIAL), "--yes")
    assert result.code == 5, result.output
    assert "applied 0 of 5 changes; updating d failed: this secret may not change keys" in (
        result.stderr
    )
    assert result.stdout.count("lava_sk_") == 0
    assert set(wallet()) == {"d"}


def test_a_create_whose_answer_never_came_says_how_to_recover(logged_in, relay, keyfile):
    def drop_the_create(method: str, path: str, body: object) -> bytes | None:
        return b"" if method == "POST" else None  # the connection closes, no answer

    relay(drop_the_create)
    result = apply(keyfile("[keys.lost]\n"), "--yes")
    assert result.code == 6, result.output
    assert "'lost' may have been created without its value reaching lava" in result.stderr
    assert "lava keys rotate lost" in result.stderr


# --- --check, --dry-run, asking ----------------------------------------------------------------


def test_check_exits_0_in_sync_and_7_on_drift_and_changes_nothing(logged_in, relay, keyfile):
    path = keyfile(FULL)
    counted = relay()
    assert apply(path, "--check").code == 7  # empty wallet: 3 to create
    assert apply(path, "--yes").code == 0
    assert apply(path, "--check").code == 0
    create("--name", "stray")
    assert apply(path, "--check").code == 0  # left alone: not drift without --prune
    assert apply(path, "--check", "--prune").code == 7
    assert run_lava("keys", "pause", "claude").code == 0
    before = len(counted.writes())
    drift = apply(path, "--check")
    assert drift.code == 7
    assert "paused: true → false" in drift.stdout
    assert "error: the wallet differs from" in drift.stderr and "1 to update" in drift.stderr
    assert len(counted.writes()) == before
    assert apply(keyfile("[keys.x]\nshape = 1\n", "bad.toml"), "--check").code == 2


def test_dry_run_prints_the_plan_and_sends_nothing(logged_in, relay, keyfile):
    counted = relay()
    result = apply(keyfile(FULL), "--dry-run")
    assert result.code == 0
    assert "Plan: 3 to create, 0 to update, 0 to revoke, 0 unchanged." in result.stdout
    assert counted.writes() == [] and wallet() == {}


def test_without_a_terminal_and_without_yes_it_refuses(logged_in, relay, keyfile):
    counted = relay()
    result = apply(keyfile(FULL))
    assert result.code == 2
    assert "no terminal to ask" in result.stderr and "--yes" in result.stderr
    assert "+ create claude" in result.stdout  # the plan is shown all the same
    assert counted.writes() == []


def test_on_a_terminal_it_asks_first(logged_in, relay, keyfile, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    path = keyfile(FULL)
    counted = relay()
    declined = apply(path, input="n\n", tty=True)
    assert declined.code == 2 and "not applied" in declined.stderr
    assert "Apply these 3 changes to the wallet? [y/N]" in declined.stderr
    assert counted.writes() == []
    accepted = apply(path, input="y\n", tty=True)
    assert accepted.code == 0, accepted.output
    assert len(counted.writes()) == 3
    assert accepted.stdout.count("lava_sk_") == 3
    assert "shown once" in accepted.stdout


def test_the_file_can_come_from_stdin(logged_in, keyfile):
    assert apply(keyfile(FULL), "--yes").code == 0
    exported = run_lava("keys", "export")
    result = run_lava("keys", "apply", "-f", "-", "--check", input=exported.stdout)
    assert result.code == 0, result.output


# --- where new keys go -----------------------------------------------------------------------


def test_save_keeps_new_keys_and_prints_no_value(logged_in, keyfile, memory_keyring):
    result = apply(keyfile(FULL), "--yes", "--save")
    assert result.code == 0, result.output
    assert "lava_sk_" not in result.output.replace("lava_sk_…", "")
    stored = [v for v in memory_keyring.entries.values() if v.startswith("lava_sk_")]
    assert len(stored) == 3
    assert {logged_in.store.key_for_raw(v).settings.name for v in stored} == set(wallet())
    assert "Saved claude" in result.stderr


def test_format_env_prints_one_variable_per_new_key_and_the_plan_on_stderr(logged_in, keyfile):
    text = '[keys.claude-ci]\n[keys."ops key"]\nshape = "anthropic"\n'
    result = apply(keyfile(text), "--yes", "--format", "env")
    assert result.code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and all(line.startswith("export ") for line in lines)
    values = dict(shlex.split(line)[1].split("=", 1) for line in lines)
    assert set(values) == {"LAVA_SPEND_KEY_CLAUDE_CI", "LAVA_SPEND_KEY_OPS_KEY"}
    owner = logged_in.store.key_for_raw(values["LAVA_SPEND_KEY_OPS_KEY"])
    assert owner.settings.name == "ops key"
    assert "+ create claude-ci" in result.stderr  # the plan, off stdout


def test_format_json_is_one_array_of_the_new_keys(logged_in, keyfile):
    result = apply(keyfile('[keys.one]\n[keys.two]\nspend_limit = "2/daily"\n'), "--yes",
                   "--format", "json")  # fmt: skip
    assert result.code == 0, result.output
    minted = json.loads(result.stdout)
    assert [k["name"] for k in minted] == ["one", "two"]
    assert all(k["key"].startswith("lava_sk_") for k in minted)


def test_format_github_masks_and_exports_each_new_key(logged_in, keyfile, tmp_path, monkeypatch):
    github_env = tmp_path / "github_env"
    github_env.write_text("")
    monkeypatch.setenv("GITHUB_ENV", str(github_env))
    result = apply(keyfile("[keys.ci]\n[keys.nightly]\n"), "--yes", "--format", "github",
                   "--var-prefix", "AI_KEY")  # fmt: skip
    assert result.code == 0, result.output
    masks = [ln.removeprefix("::add-mask::") for ln in result.stdout.splitlines()]
    exported = dict(line.split("=", 1) for line in github_env.read_text().splitlines())
    assert set(exported) == {"AI_KEY_CI", "AI_KEY_NIGHTLY"}
    assert sorted(masks) == sorted(exported.values())


def test_format_refuses_two_names_that_make_one_variable(logged_in, relay, keyfile):
    counted = relay()
    result = apply(keyfile("[keys.a-b]\n[keys.a_b]\n"), "--yes", "--format", "dotenv")
    assert result.code == 2
    assert "keys.toml:2: keys.a_b: its variable LAVA_SPEND_KEY_A_B is also 'a-b''s" in (
        result.stderr
    )
    assert counted.calls == []


def test_a_failed_save_prints_the_keys_instead(logged_in, keyfile, memory_keyring, monkeypatch):
    def locked(service: str, username: str, password: str) -> None:
        raise RuntimeError("the keyring is locked")

    monkeypatch.setattr(memory_keyring, "set_password", locked)
    result = apply(keyfile("[keys.one]\n[keys.two]\n"), "--yes", "--save")
    assert result.code == 1, result.output
    values = raw_keys(result.stdout)
    assert {logged_in.store.key_for_raw(v).settings.name for v in values} == {"one", "two"}
    assert "2 new key(s) could not be saved and were printed above" in result.stderr
    assert set(wallet()) == {"one", "two"}  # the run went on: the keys are kept, not lost


def test_save_and_format_together_are_refused_before_anything_is_read(logged_in, relay):
    counted = relay()
    result = apply("/nonexistent.toml", "--yes", "--save", "--format", "env")
    assert result.code == 2 and "use --save or --format, not both" in result.stderr
    assert counted.calls == []
