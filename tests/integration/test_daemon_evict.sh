#!/usr/bin/env bash
# healthscored over more accounts than it may hold (engine.max_accounts):
# clean accounts are evicted once written, read back from Redis on their next
# event, and the end state still equals `healthscore replay`.
source "$(dirname "$0")/lib.sh"
cfg=$src/examples/customer-behavior.yaml
group=evict-$$

start_broker 8
start_redis
gen=(--accounts 1200 --days 15 --seed 77)
"$bin" gen "${gen[@]}" --quiet >"$work/events.jsonl"
good=$(wc -l <"$work/events.jsonl")
"$bin" gen "${gen[@]}" --kafka "$bs" --quiet
engine_conf d1 "$group" "engine_extra: {}"
sed -i '/^engine_extra/d; s/^  flush_interval: 100ms$/&\n  max_accounts: 1000/' "$work/d1.yaml"
start_daemon d1
check "the daemon drains a backlog of $good events" wait_for 90 drained_positions "$group" "$good"
check "nothing is left to write" wait_for 10 settled d1
held=$(metric d1 healthscore_accounts)
evicted=$(metric d1 healthscore_accounts_evicted_total)
echo "  accounts held: $held, evicted: $evicted"
check "it holds at most engine.max_accounts" test "$held" -le 1000
check "it evicted clean accounts" test "$evicted" -ge 200
# more events for the same accounts, a few days later: evicted ones come back
more=(--accounts 1200 --days 5 --seed 78 --start 2026-01-20)
"$bin" gen "${more[@]}" --quiet >>"$work/events.jsonl"
good=$(wc -l <"$work/events.jsonl")
"$bin" gen "${more[@]}" --kafka "$bs" --quiet
check "the daemon drains the new events" \
  wait_for 60 drained_positions "$group" "$good"
check "nothing is left to write" wait_for 10 settled d1
loads=$(metric d1 healthscore_state_loads_total)
echo "  read back from Redis: $loads"
check "evicted accounts were read back on their next event" test "$loads" -ge 200
check "states equal replay's" same_states "$cfg" "$work/events.jsonl"
check "daily histories equal replay's" same_history "$cfg" "$work/events.jsonl"
finish daemon-evict
