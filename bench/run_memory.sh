#!/usr/bin/env bash
# Memory per account held, end to end: the broker (a separate process) ->
# healthscored -> Redis, for ACCOUNTS accounts with DAYS days of events each.
# Produces the events (msgpack), lets healthscored drain them, then reports
# healthscored's RSS and Redis's used_memory per account, and the size of one
# account's keys.
#   bash bench/run_memory.sh [ACCOUNTS] [DAYS]
# Mind the mock broker's 5 MiB per partition: PARTITIONS (default 128) input
# partitions per topic hold about 2.5 million events. LATER (default 11)
# seconds after the drain, the RSS is read again (the engine returns memory
# freed after a burst every 10 s; the smoke run only checks the harness).
set -euo pipefail
cd "$(dirname "$0")/.."
accounts=${1:-1000000}
days=${2:-2}
partitions=${PARTITIONS:-128}
source bench/lib.sh

t0=$(date +%s.%N)
"$hs" gen --accounts "$accounts" --days "$days" --seed 1 --format msgpack --kafka "$bs" --quiet
n=$("$hs" gen --accounts "$accounts" --days "$days" --seed 1 --quiet | wc -l)
echo "events: $n of $accounts accounts x $days days, produced in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }') s"

start_engine "memory-$$" "max_accounts: $((accounts * 2 > 1000 ? accounts * 2 : 1000))"
t0=$(date +%s.%N)
until [ "$(covered)" -ge "$n" ]; do
  sleep 1
  kill -0 "$dpid" 2>/dev/null || {
    tail -n 20 "$work/d.log"
    exit 1
  }
done
echo "drained in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }') s"
held=$(metric healthscore_accounts)
rss=$(awk '/VmRSS/ { print $2 * 1024 }' "/proc/$dpid/status")
used=$(redis-cli -p "$redis_port" info memory | awk -F: '/^used_memory:/ { print $2 + 0 }')
keys=$(redis-cli -p "$redis_port" dbsize)
awk -v r="$rss" -v h="$held" 'BEGIN { printf "healthscored right after the drain: %d accounts held, RSS %.1f MiB, %.0f bytes per account\n", h, r / 1048576, r / h }'
later=${LATER:-11}
sleep "$later" # the engine returns memory freed after a burst every 10 s
rss=$(awk '/VmRSS/ { print $2 * 1024 }' "/proc/$dpid/status")
awk -v r="$rss" -v h="$held" -v l="$later" -v t="$(metric healthscore_memory_trims_total)" 'BEGIN { printf "healthscored %d s later: RSS %.1f MiB, %.0f bytes per account (memory given back to the system %d times so far)\n", l, r / 1048576, r / h, t }'
awk -v u="$used" -v h="$held" -v k="$keys" 'BEGIN { printf "redis: used_memory %.1f MiB for %d keys, %.0f bytes per account\n", u / 1048576, k, u / h }'
for k in state cover score history; do
  echo "  hs:{acct-000001}:$k: $(redis-cli -p "$redis_port" memory usage "hs:{acct-000001}:$k") bytes"
done
