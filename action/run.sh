#!/usr/bin/env bash
# The action's second step: run `nsgsim lint|test|diff` on the given paths with --format sarif,
# one SARIF file per run in INPUT_SARIF_DIR, a summary table in GITHUB_STEP_SUMMARY, the outputs
# `sarif-dir` and `exit-code`, and nsgsim's exit code as the step's (the highest of its runs:
# 2 invalid input, 1 a finding or a failed case, 0 pass). Text answers go to the log.
set -uo pipefail
: "${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set: run inside GitHub Actions or set it}"
: "${NSGSIM:?NSGSIM is not set: the install step names the binary}"
command="${INPUT_COMMAND:-lint}"
dir="${INPUT_SARIF_DIR:-nsgsim-sarif}"
read -r -a extra <<< "${INPUT_ARGS:-}"
mapfile -t paths < <(tr ' ' '\n' <<< "${INPUT_PATHS:-}" | sed '/^[[:space:]]*$/d')
if [[ ${#paths[@]} -eq 0 ]]; then
  echo "::error::input paths is empty: name the files to $command" >&2
  exit 2
fi
mkdir -p "$dir"
worst=0
rows=()
# Runs nsgsim with SARIF on stdout into $1; the text answer is the log's.
run() {
  local out="$1"; shift
  "$NSGSIM" "$@" "${extra[@]}" --format sarif > "$out"
  local code=$?
  "$NSGSIM" "$@" "${extra[@]}" >&2 || true
  local n
  n=$(grep -c '"ruleId"' "$out" || true)
  rows+=("| \`nsgsim $*\` | $code | $n |")
  if (( code > worst )); then worst=$code; fi
}
name_of() { local b; b=$(basename "$1"); echo "${b%.*}"; }
case "$command" in
  lint)
    for p in "${paths[@]}"; do run "$dir/lint-$(name_of "$p").sarif" lint "$p"; done ;;
  test)
    scenario=()
    if [[ -n "${INPUT_SCENARIO:-}" ]]; then scenario=(--scenario "$INPUT_SCENARIO"); fi
    run "$dir/test.sarif" test "${paths[@]}" "${scenario[@]}" ;;
  diff)
    if [[ ${#paths[@]} -ne 2 ]]; then
      echo "::error::diff takes two paths (OLD NEW); got ${#paths[@]}" >&2
      exit 2
    fi
    run "$dir/diff-$(name_of "${paths[1]}").sarif" diff "${paths[0]}" "${paths[1]}" --fail-on-change ;;
  *)
    echo "::error::input command: '$command' is not one of lint, test, diff" >&2
    exit 2 ;;
esac
{
  echo "sarif-dir=$dir"
  echo "exit-code=$worst"
} >> "$GITHUB_OUTPUT"
if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
  {
    echo "### nsgsim $command"
    echo
    echo "| run | exit code | results |"
    echo "|---|---|---|"
    printf '%s\n' "${rows[@]}"
  } >> "$GITHUB_STEP_SUMMARY"
fi
exit "$worst"
