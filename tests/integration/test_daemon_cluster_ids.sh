#!/usr/bin/env bash
# Account ids are user data: ids made of braces ({, }, {}, }{, }evil), blank
# ones, one that looks percent-encoded and 128-byte ones, on a real Redis
# Cluster. Each account's keys share one slot, so nothing loops (an id
# starting with '}' made every read answer CROSSSLOT and froze the replica);
# the states in Redis equal `healthscore replay` of the same events, and
# `healthscore show` finds them.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cluster.sh"
cfg=$src/examples/customer-behavior.yaml
group=ids-$$

start_broker 4
start_cluster
engine_conf d1 "$group"
start_daemon d1
check "healthscored becomes ready on the cluster" wait_for 30 ready d1

python3 - "$work/events.jsonl" "$work/events.kv" <<'PY'
import json, sys
ids = ["{", "}", "{}", "}{", "}evil", "{x}", "a}b", " ", "  ", "%7D", "%", "}" * 128, "{}" * 64,
       ("}{ %" * 32)]
day = 86400000
t0 = 1764547200000  # 2025-12-01
with open(sys.argv[1], "w") as js, open(sys.argv[2], "w") as kv:
    n = 0
    for k in range(5):
        for i, a in enumerate(ids):
            n += 1
            ev = {"type": "login", "event_id": "e%d" % n, "account_id": a, "ts": t0 + k * day + i,
                  "user_id": "u%d" % k, "session_seconds": 300 + 10 * k}
            line = json.dumps(ev, separators=(",", ":"))
            js.write(line + "\n")
            kv.write(a + "\t" + line + "\n")
PY
good=$(wc -l <"$work/events.jsonl")
kcat -b "$bs" -P -K$'\t' -X partitioner=murmur2_random -t healthscore.usage <"$work/events.kv" 2>/dev/null
check "every event is applied, none dead-lettered" \
  wait_for 60 bash -c "$(declare -f http_get metric); work=$work; [ \$(metric d1 healthscore_events_applied_total) -eq $good ]"
check "the daemon drains every event" wait_for 60 drained_positions "$group" "$good"
check "no read failed, no resync loop" test "$(metric d1 'healthscore_resyncs_total{cause="read_failed"}')" -eq 0
"$bin" replay --config "$cfg" --states "$work/replay.states" --report none --quiet <"$work/events.jsonl"
check "states equal replay's, byte for byte, read by healthscore show" \
  python3 - "$bin" "$redis_nodes" "$work/replay.states" <<'PY'
import subprocess, sys
bad = 0
lines = open(sys.argv[3]).read().split("\n")
for line in filter(None, lines):
    acct, hexs = line.rsplit(" ", 1)
    got = subprocess.run([sys.argv[1], "show", "--redis", sys.argv[2], "--state", acct],
                         capture_output=True, text=True).stdout.rstrip("\n")
    if got != acct + " " + hexs:
        bad += 1
        print("  %r differs: %r" % (acct, got[:80]))
print("  states: %d compared, %d differ" % (len([l for l in lines if l]), bad))
sys.exit(1 if bad else 0)
PY
check "show prints the score of }evil" bash -c "'$bin' show --redis '$redis_nodes' '}evil' | grep -q '^}evil  '"
kill -TERM "$(cat "$work/d1.pid")"
rc=0
wait "$(cat "$work/d1.pid")" || rc=$?
check "SIGTERM: exit 0" test "$rc" -eq 0
finish daemon-cluster-ids
