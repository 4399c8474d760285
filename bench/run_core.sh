#!/usr/bin/env bash
# Core benchmark: decode + update + score + alert rules per event, one core,
# JSON and msgpack, on `healthscore gen` data held in memory. Prints the
# median of RUNS runs of each phase, with the machine, commit and date.
#   bash bench/run_core.sh [ACCOUNTS] [DAYS] [CONFIG]
set -euo pipefail
cd "$(dirname "$0")/.."
accounts=${1:-10000}
days=${2:-180}
config=${3:-examples/eight-categories.yaml}
runs=${RUNS:-3}
cmake --preset release >/dev/null
cmake --build build/release -j "$(nproc)" >/dev/null
data=build/bench-data
mkdir -p "$data"
for fmt in json msgpack; do
  f=$data/events-$accounts-$days.$fmt
  [ -s "$f" ] || build/release/healthscore gen --accounts "$accounts" --days "$days" --seed 1 \
    --format "$fmt" --quiet --output "$f"
done
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "commit:  $(git rev-parse --short HEAD) $(git diff --quiet -- . ':(exclude)bench/results.md' || echo '(modified)')"
echo "date:    $(date -u +%Y-%m-%dT%H:%MZ)"
echo "data:    $accounts accounts x $days days, $config"
for fmt in json msgpack; do
  f=$data/events-$accounts-$days.$fmt
  for i in $(seq "$runs"); do
    taskset -c 0 build/release/bench/bench_core "$config" "$f"
  done | awk -v fmt="$fmt" '
    { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      key = v["phase"]; n[key]++; eps[key, n[key]] = v["events_per_s"]; ns[key, n[key]] = v["ns_per_event"]
      ev = v["events"] }
    END {
      for (k in n) {
        m = n[k]; # median by sorting the small arrays
        for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) {
          if (eps[k, j] < eps[k, i]) { t = eps[k, i]; eps[k, i] = eps[k, j]; eps[k, j] = t }
          if (ns[k, j] < ns[k, i]) { t = ns[k, i]; ns[k, i] = ns[k, j]; ns[k, j] = t } }
        mid = int((m + 1) / 2)
        printf "%-8s %-13s events=%s  median events/s=%.0f  ns/event=%.0f  (%d runs)\n", fmt, k, ev, eps[k, mid], ns[k, mid], m
      } }' | sort
done
