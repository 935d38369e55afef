#!/usr/bin/env bash
# Runs every test of cutover on a fresh machine: installs what the tests
# need (tmux for the real-terminal tests, chromium for the HTML report,
# cargo-nextest, and a venv with the moto and kmock emulators for the live
# tests and jsonschema for the report's schema), then runs them.
# Safe to run again: installed things are left as they are.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v tmux >/dev/null || need_apt+=(tmux)
# Headless Chromium renders the HTML report (tests/report_browser.rs).
command -v chromium >/dev/null || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "tests: installing ${need_apt[*]} with apt-get" >&2
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if ! cargo nextest --version >/dev/null 2>&1; then
  echo "tests: installing cargo-nextest" >&2
  cargo install --locked cargo-nextest
fi

# The live tests' peers (moto, kmock) run from a venv of the project's own.
if [ ! -x .venv/bin/python ]; then
  echo "tests: creating .venv for the emulators" >&2
  python3 -m venv .venv || { echo "tests: python3 -m venv failed (apt-get install python3-venv)" >&2; exit 2; }
fi
.venv/bin/pip install -q --disable-pip-version-check -r tests/harness/requirements.txt

# Snapshots are compared, never rewritten, when run from here.
export INSTA_UPDATE=no
exec cargo nextest run --locked --no-fail-fast "$@"
