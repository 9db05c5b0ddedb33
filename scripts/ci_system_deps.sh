#!/usr/bin/env bash
# Install the Debian packages the test suite needs, once: chromium (the browser-login
# test drives it through playwright; browser downloads do not work here), fish and zsh
# (`lava env` output is evaluated in each shell) and node (the JavaScript snippet is
# syntax-checked). Idempotent: `apt-get update` runs only when something is missing.
# This script itself never fails: without apt or root it prints a visible warning,
# and the tests that need the missing program then FAIL under CI=true (`.ci/run` sets
# it) and skip with a reason elsewhere (tests/conftest.py: require_tool, CI_TOOLS).
set -u

# command name -> Debian package (keep in step with CI_TOOLS in tests/conftest.py)
declare -A WANT=([chromium]=chromium [fish]=fish [zsh]=zsh [node]=nodejs)

missing=()
for cmd in "${!WANT[@]}"; do
    if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/bin/$cmd" ]; then
        missing+=("${WANT[$cmd]}")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    echo "ci_system_deps: all present (${!WANT[*]})"
    exit 0
fi

warn() {
    echo "WARNING: ci_system_deps: $* — tests needing ${missing[*]} will fail under CI=true (skip elsewhere)" >&2
}

if ! command -v apt-get >/dev/null 2>&1; then
    warn "apt-get is not available"
    exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo_cmd=(sudo -n)
    else
        warn "not root and no password-less sudo"
        exit 0
    fi
fi

echo "ci_system_deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! "${sudo_cmd[@]}" apt-get update -qq; then
    warn "apt-get update failed"
    exit 0
fi
if ! "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    warn "apt-get install ${missing[*]} failed"
    exit 0
fi
echo "ci_system_deps: installed ${missing[*]}"
