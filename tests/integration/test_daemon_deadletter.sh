#!/usr/bin/env bash
# Dead letters are never lost: a 2 MiB input message (more than Kafka takes
# by default) is dead-lettered cut to fit, with headers saying so and its
# original size; a burst of bad messages through a producer queue of two
# messages is sent again until delivered; an empty key or value stays
# present (never null, a tombstone on a compacted topic). What is counted
# (healthscore_deadletter_total) is what the topic holds, and the positions
# pass only delivered dead letters.
source "$(dirname "$0")/lib.sh"
group=dead-$$

start_broker 2
start_redis
engine_conf d1 "$group"
# a producer queue of two messages: a burst of dead letters finds it full
sed -i 's/^kafka:$/kafka:\n  producer:\n    queue.buffering.max.messages: "2"/' "$work/d1.yaml"
start_daemon d1
check "healthscored becomes ready" wait_for 30 ready d1

p=$(home_partition acme 2)
python3 -c 'import sys; sys.stdout.write("{" + " " * (2 * 1024 * 1024 - 2) + "}")' >"$work/big"
kcat -b "$bs" -P -X message.max.bytes=10000000 -t healthscore.usage -k acme -p "$p" "$work/big" 2>/dev/null
for i in $(seq 30); do echo "acme:garbage $i"; done | kcat -b "$bs" -P -K: -t healthscore.usage -p "$p" 2>/dev/null
printf 'acme:\n' | kcat -b "$bs" -P -K: -t healthscore.billing -p "$p" 2>/dev/null
printf ':{"type":"login","event_id":"e1","account_id":"acme","ts":"2026-01-05T00:00:00Z"}\n' |
  kcat -b "$bs" -P -K: -t healthscore.engagement -p "$(home_partition '' 2)" 2>/dev/null
n=33

check "every dead letter delivered and counted" \
  wait_for 60 bash -c "$(declare -f http_get metric); work=$work; [ \$(metric d1 healthscore_deadletter_total) -eq $n ]"
kcat -b "$bs" -C -t healthscore.deadletter -o beginning -e -q -Z -f '%K|%S|%h\n' >"$work/dead" 2>/dev/null
echo "  dead-letter topic: $(wc -l <"$work/dead") messages; counted $(metric d1 healthscore_deadletter_total)," \
  "$(metric d1 healthscore_deadletter_failures_total) failed attempts, $(metric d1 healthscore_deadletter_truncated_total) truncated"
check "the topic holds what was counted" test "$(wc -l <"$work/dead")" -eq "$n"
{ grep original_size "$work/dead" || true; } | cut -c1-200 | sed "s/^/  big: /"
check "the big one is there, cut to fit, its original size in a header" \
  grep -qE '^4[|][0-9]{6}[|].*original_size=2097152,truncated=value cut to its first [0-9]+ bytes' "$work/dead"
check "the truncation is counted" test "$(metric d1 healthscore_deadletter_truncated_total)" -eq 1
check "the full queue was retried, not lost" test "$(metric d1 healthscore_deadletter_failures_total)" -gt 0
check "an empty value stays present (not null)" grep -qE '^4[|]0[|]reason=invalid event' "$work/dead"
check "an empty key stays present (not null)" grep -qE '^0[|][0-9]+[|]reason=wrong key' "$work/dead"
check "no null key or value" bash -c "! grep -qE '^-1[|]|^[0-9]+[|]-1[|]' '$work/dead'"
check "the positions pass them all" wait_for 30 drained_positions "$group" "$n"
kill -TERM "$(cat "$work/d1.pid")"
rc=0
wait "$(cat "$work/d1.pid")" || rc=$?
check "SIGTERM: exit 0" test "$rc" -eq 0

# a dead letter Kafka never takes (the producer is told the topic does not exist):
# the position stays before it, the replica says it makes no progress, and
# nothing is counted delivered
engine_conf d2 "$group-2"
sed -i 's/^kafka:$/kafka:\n  producer:\n    topic.blacklist: healthscore.deadletter\n    message.timeout.ms: "500"/' "$work/d2.yaml"
start_daemon d2
check "the second replica becomes ready" wait_for 30 ready d2
printf 'acme:not json\n' | kcat -b "$bs" -P -K: -t healthscore.accounts -p "$p" 2>/dev/null
readyz() {
  curl -s --max-time 5 "http://127.0.0.1:$(cat "$work/$1.port")/readyz"
}
check "its delivery failures are counted" \
  wait_for 30 bash -c "$(declare -f http_get metric); work=$work; [ \$(metric d2 healthscore_deadletter_failures_total) -gt 0 ]"
check "not ready: no durable progress, the dead letter undelivered" \
  wait_for 60 bash -c "$(declare -f readyz); work=$work; readyz d2 | grep -q 'no durable progress.*dead letter.*undelivered'"
echo "  readyz: $(readyz d2)"
off=$(kcat -b "$bs" -C -t healthscore.accounts -p "$p" -o -1 -e -q -f '%o' 2>/dev/null)
pos=$(rcli hget "hs:pos:$group-2:$p" healthscore.accounts)
echo "  the rejected message is at offset $off of healthscore.accounts[$p]; the position stored: ${pos:-none}"
check "no position passes the undelivered dead letter" test "${pos:-0}" -le "$off"
check "it is not counted delivered" test "$(metric d2 healthscore_deadletter_total)" -eq 0
kill -TERM "$(cat "$work/d2.pid")"
rc=0
wait "$(cat "$work/d2.pid")" || rc=$?
check "SIGTERM with a dead letter undelivered: exit 1, its input read again at the next start" test "$rc" -eq 1
finish daemon-deadletter
