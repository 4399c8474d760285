#!/usr/bin/env bash
# Old timestamps do not stall the loop: accounts whose only event is dated
# 1970 (ts 0, or epoch seconds where milliseconds are expected) make the
# idle pass catch each of them up by up to 3,660 days; that work is split
# over turns of the loop (healthscore_loop_turn_work_max stays within the
# budget, healthscore_loop_deferrals_total counts the splits), so /healthz
# keeps answering, and every account is aged all the same. The worst
# /healthz latency seen is printed (not a pass/fail criterion).
# OLD_ACCOUNTS=20000 reproduces the full attack.
source "$(dirname "$0")/lib.sh"
group=old-$$
n=${OLD_ACCOUNTS:-3000}

start_broker 4
start_redis
engine_conf d1 "$group"
# the event-time guard off (times from 1970 accepted), so that the loop
# itself is what is under test
sed -i 's/^  idle_interval: 0$/  idle_interval: 1s\n  allowed_lateness: 0ms\n  min_event_time: "1970-01-01T00:00:00Z"/' "$work/d1.yaml"
start_daemon d1
check "healthscored becomes ready" wait_for 30 ready d1

python3 - "$n" >"$work/old.kv" <<'PY'
import sys
for i in range(1, int(sys.argv[1]) + 1):
    ts = 0 if i % 2 else 1733500000  # 1970-01-01, and seconds read as ms: 1970-01-21
    print('old-%d:{"type":"login","event_id":"o%d","account_id":"old-%d","ts":%d,"user_id":"u","session_seconds":60}' % (i, i, i, ts))
PY
port=$(cat "$work/d1.port")
# the latency probe: one process asks /healthz, at most 20 times a second,
# until the test closes its end of the pipe `probe.ctl` (no fixed sleep: it
# waits on that pipe); it keeps the worst time in $work/worst
mkfifo "$work/probe.ctl"
python3 - "$port" "$work/worst" "$work/probe.ctl" <<'PY' &
import http.client, os, select, sys, time
port, out, ctl = int(sys.argv[1]), sys.argv[2], os.open(sys.argv[3], os.O_RDONLY)
worst = 0.0
while not select.select([ctl], [], [], 0.05)[0]:
    t0 = time.monotonic()
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.request("GET", "/healthz")
        ok = c.getresponse().status == 200
        c.close()
        t = time.monotonic() - t0 if ok else 30.0
    except OSError:
        t = 30.0
    worst = max(worst, t)
    with open(out, "w") as f:
        print("%.3f" % worst, file=f)
PY
pids+=($!)
exec 7>"$work/probe.ctl"
kcat -b "$bs" -P -K: -X partitioner=murmur2_random -t healthscore.usage <"$work/old.kv" 2>/dev/null
aged() { # ACCOUNT: its record is as of today
  http_get d1 "/v1/accounts/$1" | grep -q "\"updated_at\":\"$(date -u +%Y-%m-%d)"
}
check "all $n events applied" \
  wait_for 120 bash -c "$(declare -f http_get metric); work=$work; [ \$(metric d1 healthscore_events_applied_total) -eq $n ]"
# events that were not applied are never aged: do not wait 300 s for each
[ "$failed" -eq 0 ] || {
  echo "  dead letters: $(http_get d1 /metrics | grep '^healthscore_deadletter_total' | tr '\n' ' ')"
  finish daemon-old-timestamps
  exit 1
}
for a in old-1 old-2 "old-$((n / 2))" "old-$n"; do
  check "account $a is aged to today" wait_for 300 bash -c "$(declare -f http_get aged); work=$work; aged $a"
done
exec 7>&- # the probe ends
max=$(metric d1 healthscore_loop_turn_work_max)
echo "  most work in one turn: $max account-days; turns that left work for the next:" \
  "$(metric d1 healthscore_loop_deferrals_total); worst /healthz latency: $(cat "$work/worst") s"
check "the work per turn is measured" bash -c "http_get() { curl -sf http://127.0.0.1:$port\$2; }; http_get d1 /metrics | grep -q '^healthscore_loop_turn_work_max '"
check "catching up was split over turns" test "$(metric d1 healthscore_loop_deferrals_total)" -gt 0
check "no turn did more than its budget and one account's catch-up" test "$max" -le $((16384 + 3661))
kill -TERM "$(cat "$work/d1.pid")"
rc=0
wait "$(cat "$work/d1.pid")" || rc=$?
check "SIGTERM: exit 0" test "$rc" -eq 0
finish daemon-old-timestamps
