#!/usr/bin/env bash
# Side-by-side wall and CPU times of `nsgsim replay` builds on one log, alternating, plus the
# guest's own ceiling for two threads: two one-thread runs of the first build started together.
#
# usage: benches/replay/side_by_side.sh ROUNDS LOG BUILD...   (BUILD: a path to an nsgsim binary)
# e.g.:  NSGSIM_WRITE_FLOWLOG=/tmp/v2-1m.json cargo bench --bench replay
#        cp target/release/nsgsim /tmp/nsgsim-new
#        benches/replay/side_by_side.sh 20 /tmp/v2-1m.json /tmp/nsgsim-old /tmp/nsgsim-new
# Prints, per build and thread count, the median wall time (with quartiles), median CPU time
# (user + system) and peak RSS; "pair" is each run of two started together.
set -euo pipefail
rounds=$1 log=$2
shift 2
scenario="$(dirname "$0")/../../scenarios/01-nsg-evaluation-order.ron"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
run() { # label binary threads
  /usr/bin/time -a -o "$out" -f "$1 %e %U %S %M" "$2" replay "$scenario" "$log" --at 0 --threads "$3" -q \
    >/dev/null 2>&1
}
for _ in $(seq "$rounds"); do
  for build in "$@"; do
    for threads in 1 2; do run "$build --threads $threads" "$build" "$threads"; done
  done
  run "pair: $1 --threads 1" "$1" 1 &
  run "pair: $1 --threads 1" "$1" 1
  wait
done
python3 - "$out" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    *label, wall, user, system, peak = line.split()
    runs[" ".join(label)].append((float(wall), float(user) + float(system), int(peak)))
for label, v in runs.items():
    w = sorted(x[0] for x in v)
    print(f"{label:<50} n={len(v):>2}  wall median {statistics.median(w):.3f} s "
          f"(quartiles {w[len(w) // 4]:.3f}-{w[3 * len(w) // 4]:.3f})  "
          f"CPU median {statistics.median(x[1] for x in v):.3f} s  peak {max(x[2] for x in v) // 1024} MB")
PY
