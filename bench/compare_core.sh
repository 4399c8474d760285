#!/usr/bin/env bash
# Compares two bench_core binaries in one run: for each events file, RUNS
# (default 3) rounds, each running both on one core (taskset -c 0), OLD
# first in odd rounds and NEW first in even ones, and prints the median
# events/s and ns/event of decode + apply for each, and the median of the
# rounds' NEW/OLD speed ratios. Pairing the two within each round keeps a
# shared machine's load the same for both; swapping their order keeps
# either from always running on the caches and clocks the other left.
#   bash bench/compare_core.sh OLD_BENCH_CORE NEW_BENCH_CORE CONFIG FILE...
set -euo pipefail
[ $# -ge 4 ] || {
  echo "usage: bash bench/compare_core.sh OLD_BENCH_CORE NEW_BENCH_CORE CONFIG FILE..." >&2
  exit 2
}
old=$1 new=$2 cfg=$3
shift 3
runs=${RUNS:-3}
one() { # BIN FILE: "events_per_s ns_per_event" of decode+score
  taskset -c 0 "$1" "$cfg" "$2" | awk '/phase=decode\+score/ {
    for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    print v["events_per_s"], v["ns_per_event"] }'
}
median() { sort -n | awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }'; }
echo "| events file | old events/s | new events/s | old ns/event | new ns/event | new/old speed |"
echo "|---|---|---|---|---|---|"
for f in "$@"; do
  o=() n=() r=()
  for i in $(seq "$runs"); do
    if ((i % 2)); then
      a=$(one "$old" "$f") b=$(one "$new" "$f")
    else
      b=$(one "$new" "$f") a=$(one "$old" "$f")
    fi
    o+=("$a") n+=("$b")
    r+=("$(awk -v a="${b%% *}" -v b="${a%% *}" 'BEGIN { printf "%.4f", a / b }')")
  done
  read -r oe ons <<<"$(printf '%s\n' "${o[@]}" | median)"
  read -r ne nns <<<"$(printf '%s\n' "${n[@]}" | median)"
  echo "| $(basename "$f") | $oe | $ne | $ons | $nns | $(printf '%s\n' "${r[@]}" | median | awk '{ printf "%.2f×", $1 }') |"
done
