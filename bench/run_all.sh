#!/usr/bin/env bash
# Every benchmark, one command; writes bench/results.md (machine, commit,
# date, every figure) and prints it.
#   bash bench/run_all.sh           full size (about 20 minutes, ~12 GB RAM at 1 M accounts)
#   SMOKE=1 bash bench/run_all.sh   tiny sizes, seconds: checks the harness runs (CI)
# Figures are medians of RUNS runs (default 3; 1 with SMOKE); comparisons are
# ratios taken within this run. Nothing here is a pass/fail test of speed.
set -euo pipefail
cd "$(dirname "$0")/.."
smoke=${SMOKE:-}
runs=${RUNS:-$([ -n "$smoke" ] && echo 1 || echo 3)}
# HS_BENCH_BUILD names a build to use as it is (CI's smoke run reuses its
# RelWithDebInfo build); by default the release build, made here
build=${HS_BENCH_BUILD:-build/release}
if [ -z "${HS_BENCH_BUILD:-}" ]; then
  cmake --preset release >/dev/null
  cmake --build build/release -j "$(nproc)" >/dev/null
fi
hs=$build/healthscore
core=$build/bench/bench_core
data=build/bench-data
mkdir -p "$data"
out=${OUT:-bench/results.md}
[ -n "$smoke" ] && out=${OUT:-build/bench-smoke.md}
cfg=examples/eight-categories.yaml

# gen_file ACCOUNTS DAYS FORMAT: a cached events file
gen_file() {
  local f=$data/events-$1-$2.$3
  [ -s "$f" ] || "$hs" gen --accounts "$1" --days "$2" --seed 1 --format "$3" --quiet --output "$f"
  echo "$f"
}

# medians_in_turn CONFIG FILE PASSES [CONFIG FILE PASSES ...]: for each
# triple (FILE applied PASSES >= 2 times, into a new engine each, so that a small
# file is as many seconds of work as a large one), one line in order: the
# medians of decode+score ns/event over the passes after the first (memory
# the pass before freed, reused: an event on accounts held), of the first
# pass (every account created, in memory first touched), and of the first
# pass's minor page faults per 1,000 events. The runs take the triples in
# turn (each once, then again), so that a while when the machine is slower
# weighs on every one alike and their ratios hold
medians_in_turn() {
  local -a a=("$@")
  local r i
  for r in $(seq "$runs"); do
    for ((i = 0; i < ${#a[@]} / 3; i++)); do
      taskset -c 0 "$core" "${a[3 * i]}" "${a[3 * i + 1]}" --passes "${a[3 * i + 2]}" |
        awk -v i="$i" '/phase=decode\+score|phase=passes/ {
        for (k = 1; k <= NF; k++) { split($k, kv, "="); v[kv[1]] = kv[2] } }
        END { print i, v["later_ns_per_event"], v["first_ns_per_event"],
                    1000 * v["first_faults"] / v["events"] }'
    done
  done | awk '{ c[$1]++; for (f = 2; f <= 4; f++) m[$1, f, c[$1]] = $f }
    function med(i, f,   j, t, y, x) { # insertion sort of the runs, the middle one
      for (j = 1; j <= c[i]; j++) x[j] = m[i, f, j]
      for (j = 2; j <= c[i]; j++) for (t = j; t > 1 && x[t - 1] > x[t]; t--) { y = x[t]; x[t] = x[t - 1]; x[t - 1] = y }
      return x[int((c[i] + 1) / 2)] }
    END { for (i = 0; i in c; i++) printf "%s %s %.0f\n", med(i, 2), med(i, 3), med(i, 4) }'
}

# decode-only median: "events_per_s ns_per_event"
median_decode() {
  for _ in $(seq "$runs"); do
    taskset -c 0 "$core" "$1" "$2" --decode-only | awk '/phase=decode / {
      for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      print v["events_per_s"], v["ns_per_event"] }'
  done | sort -n | awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }'
}

# instructions per event from callgrind (stable on noisy VMs): "APPLY EVAL",
# decode + apply (a run minus a --decode-only run) and the evaluation alone
# (hs__evaluate, inclusive: scoring, the rules, the explanation where built)
ir_per_event() {
  local f=$1 full dec n ev cg=$data/callgrind.out
  full=$(valgrind --tool=callgrind --callgrind-out-file="$cg" "$core" "$cfg" "$f" 2>&1 |
    awk '/Collected :/ { print $NF }')
  ev=$(callgrind_annotate --inclusive=yes "$cg" 2>/dev/null |
    awk '/hs__evaluate/ { gsub(",", "", $1); print $1; exit }')
  dec=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$core" "$cfg" "$f" --decode-only \
    2>&1 | awk '/Collected :/ { print $NF }')
  n=$("$core" "$cfg" "$f" --decode-only | sed -E 's/.* events=([0-9]+).*/\1/')
  rm -f "$cg"
  awk -v a="$full" -v b="$dec" -v e="${ev:-0}" -v n="$n" 'BEGIN { printf "%.0f %.0f", (a - b) / n, e / n }'
}

if [ -n "$smoke" ]; then
  core_acc=500 core_days=20 cg_acc=100 cg_days=10 scale=(200 2000) sdays=4 wdays=10 wacc=300
else
  # the same days for every size, so that only the number of accounts differs
  core_acc=100000 core_days=30 cg_acc=2000 cg_days=30 scale=(10000 100000 1000000) sdays=4
  wdays=90 wacc=10000
fi

{
  echo "# Benchmark results"
  echo
  echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "- commit: $(git rev-parse --short HEAD)$(git diff --quiet -- . ':(exclude)bench/results.md' || echo ' (modified)')"
  echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "- runs: medians of $runs; one core (taskset -c 0); $cfg unless said"
  echo
  echo "## 1. Core: decode + update + score + alert rules, one core"
  echo
  echo "Each file applied twice, into a new engine each time: events/s and ns/event on the accounts held (the second pass, in memory the first freed), and ns/event of the first pass (every account created, in memory first touched)."
  echo
  echo "| format | accounts × days | events | decode events/s | decode + score events/s, accounts held | ns/event, accounts held | ns/event, first pass | callgrind instructions/event: decode + apply, of which evaluation |"
  echo "|---|---|---|---|---|---|---|---|"
  fmts=(json msgpack) triples=()
  for fmt in "${fmts[@]}"; do
    triples+=("$cfg" "$(gen_file "$core_acc" "$core_days" "$fmt")" 2)
  done
  mapfile -t res < <(medians_in_turn "${triples[@]}")
  for i in "${!fmts[@]}"; do
    f=${triples[3 * i + 1]}
    cgf=$(gen_file "$cg_acc" "$cg_days" "${fmts[$i]}")
    n=$("$core" "$cfg" "$f" --decode-only | sed -E 's/.* events=([0-9]+).*/\1/')
    read -r deps _ <<<"$(median_decode "$cfg" "$f")"
    read -r held first _ <<<"${res[$i]}"
    read -r ir_all ir_eval <<<"$(ir_per_event "$cgf")"
    echo "| ${fmts[$i]} | $core_acc × $core_days | $n | $deps | $(awk -v ns="$held" 'BEGIN { printf "%.0f", 1e9 / ns }') | $held | $first | $ir_all, $ir_eval ($cg_acc × $cg_days) |"
  done
  echo
  echo "## 2. Scaling: per-event cost by accounts held and by window length"
  echo
  echo "An event on accounts held (the passes after the first, into a new engine each, reuse the memory the one before freed) and an account's first events (the first pass: every account created, in memory the process touches for the first time, each 4 KB page a minor fault)."
  echo
  echo "| data | events | ns/event, accounts held | vs first | ns/event, first pass | vs first | page faults per 1,000 events, first pass |"
  echo "|---|---|---|---|---|---|---|"
  # each size applied as many times as makes it about the largest's events
  # (the 10 k set alone is a tenth of a second of work: a run's noise), and
  # once more: the first pass, reported apart
  files=() counts=() triples=()
  for acc in "${scale[@]}"; do
    f=$(gen_file "$acc" "$sdays" msgpack)
    files+=("$f")
    counts+=("$("$core" "$cfg" "$f" --decode-only | sed -E 's/.* events=([0-9]+).*/\1/')")
  done
  most=$(printf '%s\n' "${counts[@]}" | sort -n | tail -1)
  for i in "${!scale[@]}"; do
    triples+=("$cfg" "${files[$i]}" "$((1 + (most + counts[i] / 2) / counts[i]))")
  done
  ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f×", a / b }'; }
  mapfile -t res < <(medians_in_turn "${triples[@]}")
  read -r held0 first0 _ <<<"${res[0]}"
  for i in "${!scale[@]}"; do
    read -r held first faults <<<"${res[$i]}"
    echo "| ${scale[$i]} accounts × $sdays days (msgpack), applied ${triples[3 * i + 2]} times | ${counts[$i]} | $held | $(ratio "$held" "$held0") | $first | $(ratio "$first" "$first0") | $faults |"
  done
  f=$(gen_file "$wacc" "$wdays" msgpack)
  triples=()
  windows=(7 90 365)
  for w in "${windows[@]}"; do
    sed -E "s/window: [0-9]+d/window: ${w}d/g" "$cfg" >"$data/windows-$w.yaml"
    triples+=("$data/windows-$w.yaml" "$f" 2)
  done
  mapfile -t res < <(medians_in_turn "${triples[@]}")
  read -r held0 first0 _ <<<"${res[0]}"
  for i in "${!windows[@]}"; do
    read -r held first faults <<<"${res[$i]}"
    echo "| every window ${windows[$i]} days, $wacc accounts × $wdays days, applied twice | | $held | $(ratio "$held" "$held0") | $first | $(ratio "$first" "$first0") | $faults |"
  done
  echo
  echo "## 3, 5. End to end: drain, steady rates, latency, Redis traffic (one engine)"
  echo
  echo '```'
  if [ -n "$smoke" ]; then
    bash bench/run_e2e.sh 300 10 300 3
  else
    # 5,000 accounts x 48 days: a backlog with over 10 events per account per flush
    bash bench/run_e2e.sh 5000 48 2000 15
  fi
  echo '```'
  echo
  echo "## 3b. The drain by engine threads (engine.threads 1 and 2, the same backlog)"
  echo
  echo '```'
  if [ -n "$smoke" ]; then
    THREADS="1 2" REPS=1 NO_MAPPED=1 bash bench/run_e2e.sh 300 10
  else
    THREADS="1 2" NO_MAPPED=1 bash bench/run_e2e.sh 5000 48
  fi
  echo '```'
  echo
  echo "## 4. Memory per account held: many accounts, and a long history"
  echo
  echo '```'
  if [ -n "$smoke" ]; then
    PARTITIONS=8 LATER=1 bash bench/run_memory.sh 300 3
  else
    bash bench/run_memory.sh 1000000 2
    bash bench/run_memory.sh 20000 90
  fi
  echo '```'
} | tee "$out"
echo "written to $out"
