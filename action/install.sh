#!/usr/bin/env bash
# The action's first step: provide an nsgsim binary and name it in the step's output `nsgsim`.
# INPUT_NSGSIM (a binary given by the workflow) wins; otherwise this repository (the action's own
# checkout, GITHUB_ACTION_PATH) is built with `cargo install --locked` into RUNNER_TEMP.
set -euo pipefail
: "${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set: run inside GitHub Actions or set it}"
if [[ -n "${INPUT_NSGSIM:-}" ]]; then
  if [[ ! -x "$INPUT_NSGSIM" ]]; then
    echo "::error::input nsgsim: '$INPUT_NSGSIM' is not an executable file" >&2
    exit 2
  fi
  bin="$INPUT_NSGSIM"
else
  : "${RUNNER_TEMP:?RUNNER_TEMP is not set}"
  root="$RUNNER_TEMP/nsgsim"
  source="${GITHUB_ACTION_PATH:-$(cd "$(dirname "$0")/.." && pwd)}"
  if ! command -v cargo >/dev/null 2>&1; then
    echo "::error::cargo is not installed: add a Rust toolchain step (e.g. dtolnay/rust-toolchain@stable) before nsgsim, or give the input nsgsim" >&2
    exit 2
  fi
  cargo install --locked --quiet --path "$source" --root "$root"
  bin="$root/bin/nsgsim"
fi
"$bin" --version
echo "nsgsim=$bin" >> "$GITHUB_OUTPUT"
