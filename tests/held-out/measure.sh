#!/usr/bin/env bash
# Measures `nsgsim import` on a held-out set of published templates or plans (issues 17 and 18).
#
# Usage: tests/held-out/measure.sh DIR [NSGSIM]
#   DIR     a directory of files downloaded as docs/held-out.md lists them (never committed:
#           their licences are their authors'). A template `X.json` with a parameters file
#           `X.parameters.json` beside it is imported twice: with the file and alone.
#   NSGSIM  the binary (default: target/release/nsgsim).
#
# Per import it prints one line: outcome, exit code, file, and the first error or the import's
# totals. Outcomes:
#   ok        exit 0, a VNet or NSG imported, and `nsgsim check` passes on the written scenario
#   check     exit 0 but `nsgsim check` fails on the written scenario (a defect)
#   empty     exit 0 with no VNet and no NSG imported (a silent all-clear: a defect)
#   refused   exit 1: nothing usable, with the per-type summary
#   error     exit 2: invalid input or a value only known at deployment (the message says which)
#   crash     any other exit code (a defect)
# A file that declares no resource of type Microsoft.Network/virtualNetworks or
# networkSecurityGroups (a `"type": "..."` member, in the template or an inline nested one), and no
# Terraform azurerm_virtual_network or azurerm_network_security_group, is marked "nonet" in the
# first column and kept out of the figure (it must still never end "empty"). A VNet that only a
# remote `templateLink` would deploy is not declared by the file; one in a local
# `templateLink.relativePath` file (resolved next to the template, as ARM resolves it) is.
#
# Two figures are printed. Per import: every run above. Per template, as an engineer deploys it:
# each template once, with its published parameters file where there is one, else alone; a
# template never leaves the denominator (issue 17 counts templates).
set -u
dir=${1:?usage: measure.sh DIR [NSGSIM]}
bin=${2:-target/release/nsgsim}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
total=0; good=0; defects=0; ttotal=0; tgood=0; last_outcome=; last_net=
declares_here() {
  grep -qiE '"type"[[:space:]]*:[[:space:]]*"(Microsoft\.Network/(virtualNetworks|networkSecurityGroups)|azurerm_(virtual_network|network_security_group))"' "$1"
}
declares() { # the file, or a local file it links with templateLink.relativePath (one level)
  declares_here "$1" && return 0
  local rel linked
  while IFS= read -r rel; do
    linked="$(dirname "$1")/$rel"
    [ -f "$linked" ] && declares_here "$linked" && return 0
  done < <(grep -oiE '"relativePath"[[:space:]]*:[[:space:]]*"[^"[]+"' "$1" | sed -E 's/.*"([^"]+)"$/\1/')
  return 1
}
run() { # label file [extra args...]
  local label=$1 file=$2; shift 2
  local scen="$out/s.ron" log="$out/log" rc outcome net
  rm -f "$scen"
  "$bin" import "$file" "$@" -o "$scen" >"$log" 2>&1; rc=$?
  net=net; declares "$file" || net=nonet
  case $rc in
    0) if grep -qE 'imported [1-9][0-9]* vnet|, [1-9][0-9]* nsg' "$log"; then
         if "$bin" check "$scen" >"$out/check" 2>&1; then outcome=ok; else outcome=check; fi
       else outcome=empty; fi ;;
    1) outcome=refused ;;
    2) outcome=error ;;
    *) outcome=crash ;;
  esac
  local detail
  detail=$(grep -m1 '^error' "$log" || grep -m1 '^imported' "$log" || tail -n1 "$log")
  printf '%-5s %-7s %s %s [%s] %s\n' "$net" "$outcome" "$rc" "$(basename "$file")" "$label" "${detail:0:300}"
  if [ "$net" = net ]; then
    total=$((total + 1))
    [ "$outcome" = ok ] && good=$((good + 1))
  fi
  case $outcome in empty|check|crash) defects=$((defects + 1)) ;; esac
  last_outcome=$outcome; last_net=$net
}
for f in "$dir"/*.json; do
  case $f in *.parameters.json) continue ;; esac
  params="${f%.json}.parameters.json"
  run alone "$f"
  [ -f "$params" ] && run "with $(basename "$params")" "$f" --parameters "$params"
  # the template as deployed: the last run (with its parameters file when there is one)
  if [ "$last_net" = net ]; then
    ttotal=$((ttotal + 1))
    [ "$last_outcome" = ok ] && tgood=$((tgood + 1))
  fi
done
echo "imports of files that declare a VNet or NSG: $total; into a non-empty scenario that passes check: $good"
echo "templates that declare a VNet or NSG (each once, with its published parameters file where there is one): $ttotal; imported into a non-empty scenario that passes check: $tgood"
echo "defects (exit 0 with nothing imported, check failing, crash): $defects"
