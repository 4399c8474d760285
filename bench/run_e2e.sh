#!/usr/bin/env bash
# End to end on this machine: the broker (a separate process) -> healthscored
# -> Redis. Produces a backlog, then in the same run (1) drains it with a
# bare librdkafka consumer, the ceiling, and (2) with healthscored; reports
# both rates and their ratio, healthscored's RSS and Redis's used_memory per
# account, and the Redis commands and bytes per event (many events per
# account per flush); PERF=1 adds a perf profile of healthscored and Redis
# during the drain (kept in build/perf.{d,r}.data). Then (3) steady rates for
# DURATION seconds each: a trickle at RATE events/s (few events per account
# per flush), 5,000 events/s, and 50 % and 90 % of the drain rate (not with
# SMOKE=1): Redis traffic per event, produce -> applied latency, event ->
# alert latency next to the transport alone (produce -> a bare consumer),
# and the CPU each process used. CALLGRIND=1 runs healthscored under
# callgrind and prints the instructions of the whole process (every thread)
# per event during the drain (and the bare consumer's per message), the loop thread's profile kept in build/callgrind.drain.out (its
# rate is then meaningless; use small sizes). RATES="r1 r2 ..." runs those steady rates
# instead. ALERT_LINGER_MS and GEN_LINGER_MS set linger.ms of healthscored's
# producer and of the event producer (default 5, librdkafka's).
# THREADS=N runs healthscored with engine.threads N; THREADS="1 2 ..." instead
# drains the backlog with each in turn, REPS times (default 3), Redis emptied
# before each drain, and reports each one's events/s and the medians, then
# stops (no mapped path, no steady rates).
#   bash bench/run_e2e.sh [ACCOUNTS] [DAYS] [RATE] [DURATION]
set -euo pipefail
cd "$(dirname "$0")/.."
accounts=${1:-20000}
days=${2:-12}
rate=${3:-2000}
duration=${4:-20}
partitions=${PARTITIONS:-32}
keep_log=build/e2e-healthscored.log # for a look afterwards
mapped_accounts=${MAPPED_ACCOUNTS:-$((accounts / 10))}
[ -z "${NO_MAPPED:-}" ] && extra_topics="bench.segment:$partitions bench.mapped:$partitions"
source bench/lib.sh
now() { date +%s.%N; }
if [ -n "${CALLGRIND:-}" ]; then # healthscored under callgrind, counted from the drain's start
  printf '#!/bin/sh\nexec valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file=%s/cg.%%p "%s" "$@"\n' \
    "$work" "$(realpath "$hsd")" >"$work/hsd-callgrind"
  chmod +x "$work/hsd-callgrind"
  hsd=$work/hsd-callgrind
fi
# Event time starts ten years back: the steady runs below continue the
# backlog's days, up to ~2 years at 90 % of a 300 k/s drain, and events
# further ahead of the wall clock than engine.max_future are dead-lettered,
# not scored.
first_day=${E2E_FIRST_DAY:-2016-01-01}
"$hs" gen --accounts "$accounts" --days "$days" --seed 1 --start "$first_day" --kafka "$bs" --quiet
n=$("$hs" gen --accounts "$accounts" --days "$days" --seed 1 --start "$first_day" --quiet | wc -l)
echo "backlog: $n events of $accounts accounts x $days days, $partitions partitions per topic"

# (1) the ceiling: a bare consumer
if [ -n "${CALLGRIND:-}" ]; then # its instructions per message, start and group join included
  valgrind --tool=callgrind --callgrind-out-file="$work/cg.bare" \
    "$build"/bench/bench_consume "$bs" "$n" "${topics[@]}" 2>/dev/null | tee "$work/bare"
  awk -v n="$n" '/^summary:/ { t += $2 } END { printf "bare consumer under callgrind: %.0f instructions per message, every thread\n", t / n }' "$work/cg.bare"
else
  "$build"/bench/bench_consume "$bs" "$n" "${topics[@]}" | tee "$work/bare"
fi
bare=$(sed -E 's/.*messages_per_s=([0-9]+).*/\1/' "$work/bare")

# THREADS="1 2": the drain with each number of engine threads, side by side
threads=(${THREADS:-1})
cpu() { # PID...: CPU seconds (user + system) used so far, per process
  local p
  for p in "$@"; do awk -v t="$(getconf CLK_TCK)" '{ printf "%.2f ", ($14 + $15) / t }' "/proc/$p/stat" 2>/dev/null || printf "0 "; done
}
if [ "${#threads[@]}" -gt 1 ]; then
  for r in $(seq "${REPS:-3}"); do
    for t in "${threads[@]}"; do
     for try in 1 2 3 4; do
      redis-cli -p "$redis_port" flushall >/dev/null
      start_engine "bench-$$-$t-$r-$try" "threads: $t"
      until [ "$(metric healthscore_events_total)" -gt 0 ]; do sleep 0.02; done
      t0=$(now)
      u0=$(cpu "$dpid" "${pids[0]}" "${pids[1]}")
      until [ "$(covered)" -ge "$n" ]; do sleep 0.05; done
      t1=$(now)
      u1=$(cpu "$dpid" "${pids[0]}" "${pids[1]}")
      rate_t=$(awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
      echo "threads $t, run $r: drained $n events in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s: $rate_t events/s"
      awk -v a="$u0" -v b="$u1" -v t0="$t0" -v t1="$t1" -v l="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
        split(a, x, " "); split(b, y, " "); split("healthscored broker redis", n, " ")
        printf "  CPU (cores) during the drain:"; for (i = 1; i <= 3; i++) printf " %s %.2f", n[i], (y[i] - x[i]) / (t1 - t0)
        printf "; load average %s\n", l }'
      echo "  healthscored RSS after the drain: $(awk '/VmRSS/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$dpid/status"), $(metric healthscore_accounts) accounts held, threads: $(ls "/proc/$dpid/task" | wc -l)"
      kill -TERM "$dpid"
      wait "$dpid" 2>/dev/null || true
      # a member joining the group late (a loaded machine) makes the mock
      # broker rebalance, and wait, mid-drain: that run measures the group
      # protocol, not the engines; it is run again
      if sed '/stopping/q' "$work/d.log" | grep -q 'revoked'; then
        echo "  left out: the group rebalanced during the drain (a late join); again"
        continue
      fi
      echo "$t $rate_t" >>"$work/threads"
      break
     done
    done
  done
  for t in "${threads[@]}"; do
    awk -v t="$t" '$1 == t { print $2 }' "$work/threads" | sort -n | awk -v t="$t" -v b="$bare" '
      { r[NR] = $1 } END { m = r[int((NR + 1) / 2)]
      printf "threads %s: median of %d drains %d events/s, %.3f of the bare consumer\n", t, NR, m, m / b }'
  done
  exit 0
fi

# (2) healthscored drains the same backlog
start_engine "bench-$$" "threads: ${threads[0]}"
if [ -n "${CALLGRIND:-}" ]; then
  # counted from when it serves /metrics: its start done, its first group
  # join (~3 s with the mock broker) not yet
  until curl -sf "http://127.0.0.1:$http_port/metrics" >/dev/null; do sleep 0.05; done
  callgrind_control -z "$dpid" >/dev/null
  e0=$(metric healthscore_events_total)
fi
until [ "$(metric healthscore_events_total)" -gt 0 ]; do sleep 0.02; done
t0=$(now)
if [ -n "${PERF:-}" ]; then # PERF=1: profile healthscored and Redis during the drain
  perf record -q -g -o build/perf.d.data -p "$dpid" 2>/dev/null &
  perf_d=$!
  perf record -q -g -o build/perf.r.data -p "${pids[1]}" 2>/dev/null &
  perf_r=$!
fi
until [ "$(covered)" -ge "$n" ]; do sleep 0.05; done
t1=$(now)
if [ -n "${CALLGRIND:-}" ]; then
  callgrind_control -d "$dpid" >/dev/null
  # one file per thread: the loop's (thread 1) and librdkafka's
  cat "$work"/cg."$dpid"*-01 >build/callgrind.drain.out # for callgrind_annotate
  ir=$(cat "$work"/cg."$dpid"* | awk '/^summary:/ { t += $2 } END { print t + 0 }')
  loop=$(awk '/^summary:/ { t += $2 } END { print t + 0 }' build/callgrind.drain.out)
  awk -v i="$ir" -v l="$loop" -v n="$n" -v e="$e0" 'BEGIN { printf "healthscored under callgrind: %.0f instructions per event during the drain, %.0f of them in its loop thread (%d events)\n", i / (n - e), l / (n - e), n - e }'
fi
if [ -n "${PERF:-}" ]; then
  kill -INT "$perf_d" "$perf_r"
  wait "$perf_d" "$perf_r" 2>/dev/null || true
  for w in d r; do
    echo "--- perf, $([ $w = d ] && echo healthscored || echo redis-server) during the drain (self time)"
    perf report -i "build/perf.$w.data" --no-children --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -n 25 || true
  done
fi
drain=$(awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
rss=$(awk '/VmRSS/ { print $2 * 1024 }' "/proc/$dpid/status")
held=$(metric healthscore_accounts)
used=$(redis-cli -p "$redis_port" info memory | awk -F: '/^used_memory:/ { print $2 + 0 }')
empty=$(redis-cli -p "$redis_port" memory usage "nonexistent" >/dev/null; echo 0)
cmds=$(metric healthscore_redis_commands_total)
bytes=$(metric healthscore_redis_sent_bytes_total)
flushes=$(metric healthscore_redis_flush_seconds_count)
echo "healthscored: drained $n events in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s: $drain events/s"
awk -v d="$drain" -v b="$bare" 'BEGIN { printf "ratio healthscored / bare consumer: %.3f\n", d / b }'
awk -v r="$rss" -v h="$held" 'BEGIN { printf "healthscored RSS: %.1f MiB, %.0f bytes per account held (%d)\n", r / 1048576, r / h, h }'
awk -v u="$used" -v h="$accounts" 'BEGIN { printf "redis used_memory: %.1f MiB, %.0f bytes per account\n", u / 1048576, u / h }'
echo "resyncs: $(metric healthscore_resyncs_total), flush failures: $(metric healthscore_redis_flush_failures_total)"
writes=$(metric healthscore_redis_flush_accounts_sum)
awk -v c="$cmds" -v b="$bytes" -v n="$n" -v f="$flushes" -v w="$writes" 'BEGIN { printf "redis traffic, backlog: %.4f commands and %.0f bytes per event; %d flushes wrote %d accounts: %.1f events per account per flush\n", c / n, b / n, f, w, n / w }'
for k in state cover score history; do
  key=$(redis-cli -p "$redis_port" --scan --pattern "hs:{acct-000001}:$k" | head -1)
  echo "  $key: $(redis-cli -p "$redis_port" memory usage "$key") bytes"
done

# (2b) the mapped path in the same run: Segment calls of other accounts
# (tests/integration/sources_gen.py: per user a group call, then track and
# identify calls) on a topic keyed by user id; a second healthscored with the
# segment preset as its source maps them to its own input topic
# (bench.mapped, keyed by account) and scores them. From the mapper's
# assignment to every mapped event applied and written to Redis.
if [ -z "${NO_MAPPED:-}" ]; then
  mkdir "$work/src"
  python3 tests/integration/sources_gen.py "$work/src" --accounts "$mapped_accounts" --days "$days" --seed 1
  sm=$(wc -l <"$work/src/segment.jsonl")
  me=$("$hs" map --mapping examples/mappings/segment.yaml --quiet "$work/src/segment.jsonl" | wc -l)
  "$hs" produce --kafka "$bs" --topic bench.segment --key-path userId -X linger.ms=50 \
    "$work/src/segment.jsonl" 2>"$work/produce-src.log"
  saved="$group $http_port $dpid"
  ENGINE_TOPICS=bench.mapped ENGINE_EXTRA="sources:
  - {topic: bench.segment, format: json, mapping: examples/mappings/segment.yaml}" \
    start_engine "bench-mapped-$$"
  # from the assignment of the source partitions (the log's time: the loop
  # may be too busy mapping to answer /metrics at once)
  until grep -q 'source partitions assigned' "$work/d.log"; do sleep 0.02; done
  t0=$(date -d "$(grep -m1 'source partitions assigned' "$work/d.log" | cut -d' ' -f1)" +%s.%N)
  until [ "$(covered)" -ge "$me" ]; do sleep 0.05; done
  t1=$(now)
  awk -v s="$sm" -v e="$me" -v a="$t0" -v b="$t1" -v d="$drain" -v bare="$bare" 'BEGIN {
    printf "mapped path: %d Segment messages -> %d events mapped, scored and written in %.2f s: %.0f messages/s, %.0f events/s\n", s, e, b - a, s / (b - a), e / (b - a)
    printf "ratio mapped / direct drain (events/s): %.3f; mapped / bare consumer (messages/s): %.3f\n", e / (b - a) / d, s / (b - a) / bare }'
  kill -TERM "$dpid"
  wait "$dpid" 2>/dev/null || true
  read -r group http_port dpid <<<"$saved"
fi

# (3) steady rates: a trickle (few events per account per flush), then 50 %
# and 90 % of the drain rate measured above
buckets() { # NAME: a histogram's cumulative buckets, "le count" lines
  curl -sf "http://127.0.0.1:$http_port/metrics" |
    sed -nE "s/^$1_bucket\\{le=\"([^\"]*)\"\\} (.*)/\\1 \\2/p"
}
hists="healthscore_processing_latency_seconds healthscore_engine_delay_seconds healthscore_alert_delivery_seconds"
# Each steady run continues where the data before it ended (a gap of days
# would empty every account's windows at once: an alert storm), with as many
# of the accounts as give each about 45 days of events in the run, so that
# alerts come at the rate scores move rather than at the start of histories.
next_start=$(date -u -d "$first_day + $days days" +%F)
steady() { # RATE SEED LABEL
  local r=$1 label=$3 c0 b0 e0 c1 b1 e1 gpid apid tpid u0 u1 acc sdays start
  for h in $hists; do buckets "$h" >"$work/$h.0"; done
  c0=$(metric healthscore_redis_commands_total) b0=$(metric healthscore_redis_sent_bytes_total)
  e0=$(metric healthscore_events_total)
  local l0 l1 bufmax=0 x d0 d1
  d0=$(metric healthscore_deadletter_total)
  l0=$(metric healthscore_state_loads_total)
  # event -> alert: each alert's arrival minus its source event's produce time
  # (--skip 3: events produced in the producer's first two seconds, while it
  # connects and gets its producer id, are counted apart as its warm-up)
  "$build"/bench/bench_alert_latency "$bs" "$((duration + 3))" --skip 3 >"$work/alerts" &
  apid=$!
  pids+=("$apid")
  # the transport alone: produce -> arrival at a bare consumer of the input topics
  "$build"/bench/bench_alert_latency "$bs" "$((duration + 3))" "$(
    IFS=,
    echo "${topics[*]}"
  )" \
    --skip 3 >"$work/transport" &
  tpid=$!
  pids+=("$tpid")
  sleep 1 # the follower joins first
  # enough events for the whole run (about 2.5 per account and day)
  acc=$((r * duration / 112))
  acc=$((acc < 100 ? 100 : acc > accounts ? accounts : acc))
  sdays=$(((r * duration * 12 / 10) / (acc * 5 / 2) + 1))
  "$hs" gen --accounts "$acc" --days "$sdays" --seed "$2" --start "$next_start" --kafka "$bs" \
    --rate "$r" -X "linger.ms=${GEN_LINGER_MS:-5}" --quiet &
  gpid=$!
  pids+=("$gpid")
  start=$next_start
  next_start=$(date -u -d "$next_start + $sdays days" +%F)
  [[ $next_start > $(date -u +%F) ]] &&
    echo "warning: event time passes the wall clock ($next_start): events ahead of it by over engine.max_future are dead-lettered; set E2E_FIRST_DAY earlier" >&2
  u0=$(cpu "$dpid" "${pids[0]}" "${pids[1]}" "$gpid")
  for _ in $(seq $((duration * 5))); do
    sleep 0.2
    x=$(metric healthscore_messages_buffered)
    [ "$x" -gt "$bufmax" ] && bufmax=$x
  done
  u1=$(cpu "$dpid" "${pids[0]}" "${pids[1]}" "$gpid")
  kill "$gpid" 2>/dev/null || true
  wait "$apid" "$tpid" || true
  sleep 1
  c1=$(metric healthscore_redis_commands_total)
  b1=$(metric healthscore_redis_sent_bytes_total)
  e1=$(metric healthscore_events_total)
  d1=$(metric healthscore_deadletter_total)
  echo "--- steady $r events/s ($label): $acc accounts from $start over $sdays days of event time"
  awk -v c="$((c1 - c0))" -v b="$((b1 - b0))" -v n="$((e1 - e0))" -v d="$((d1 - d0))" 'BEGIN { printf "events consumed during the run: %d (dead-lettered: %d); redis traffic: %.5f commands and %.0f bytes per event\n", n, d, c / n, b / n }'
  echo "event -> alert: $(cat "$work/alerts")"
  echo "transport alone, produce -> a bare consumer of the input topics: $(sed 's/alerts=/messages=/; s/ untimed=0//' "$work/transport")"
  awk -v a="$u0" -v b="$u1" -v d="$duration" 'BEGIN { split(a, x, " "); split(b, y, " "); split("healthscored broker redis producer", n, " ");
    printf "CPU (cores) over the run:"; for (i = 1; i <= 4; i++) printf " %s %.2f", n[i], (y[i] - x[i]) / d; printf "\n" }'
  l1=$(metric healthscore_state_loads_total)
  echo "accounts loaded from Redis: $((l1 - l0)); messages buffered in the engine, max of samples: $bufmax"
  echo "flushes: $(metric healthscore_redis_flush_seconds_count), accounts per flush (mean): $(awk -v s="$(metric healthscore_redis_flush_accounts_sum)" -v c="$(metric healthscore_redis_flush_accounts_count)" 'BEGIN { printf "%.0f", c ? s / c : 0 }')"
  for h in $hists; do
    buckets "$h" >"$work/$h.1"
    # percentiles of this run alone: the difference of the two histograms
    paste "$work/$h.0" "$work/$h.1" | awk -v h="$h" '
      { le[NR] = $1; c[NR] = $4 - $2 }
      END { t = c[NR]; printf "%s (%d): ", h, t; split("0.5 0.99 0.999", q, " ");
        for (k = 1; k <= 3; k++) for (i = 1; i <= NR; i++) if (c[i] >= t * q[k]) { printf " p%s <= %s s", q[k] * 100, le[i]; break }
        printf "\n" }'
  done
}
steady "$rate" 2 "trickle"
if [ -n "${RATES:-}" ]; then # RATES="r1 r2 ...": these steady rates instead
  seed=3
  for r in $RATES; do
    steady "$r" "$seed" "chosen"
    seed=$((seed + 1))
  done
elif [ -z "${SMOKE:-}" ]; then
  steady 5000 3 "a rate the mock broker carries here with everything else"
  steady "$((drain / 2))" 4 "50 % of the drain rate"
  steady "$((drain * 9 / 10))" 5 "90 % of the drain rate"
fi
