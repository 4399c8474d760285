#!/usr/bin/env bash
# The admin endpoints under hostile clients: healthscored with a broker and
# Redis, 1,000 connections of each kind (idle, half a request line,
# slowloris, slow body, answers never read, pipelined, 64 KiB heads) held
# open and opened again as they are closed, while /healthz is requested
# 8 times (every 250 ms, once the thousand are open) with the manifests' 3 s
# liveness timeout: every request is answered.
# The worst latency is printed, never judged. What was shed is counted
# and logged.
source "$(dirname "$0")/lib.sh"
group=http-attack-$$

start_broker 2 -t healthscore.usage -t healthscore.engagement -t healthscore.billing \
  -t healthscore.surveys -t healthscore.accounts -t healthscore.alerts -t healthscore.deadletter
start_redis
engine_conf d1 "$group"
start_daemon d1
check "healthscored becomes ready" wait_for 30 ready d1
port=$(cat "$work/d1.port")

checks=8
kinds=(idle partial slowloris slowbody noread pipeline bighead)
for kind in "${kinds[@]}"; do
  out=$(python3 "$src/tests/integration/http_attack.py" "$port" "$kind" --conns 1000 \
    --checks "$checks" --interval 0.25 --warmup 1 2>&1) && rc=0 || rc=$?
  echo "  $out"
  check "/healthz answers every request under 1,000 $kind connections" test "$rc" -eq 0
done

check "evicted connections are counted" \
  test "$(metric d1 'healthscore_http_connections_closed_total{reason="evicted"}')" -gt 0
check "the answers are counted by status" \
  test "$(metric d1 'healthscore_http_responses_total{status="200"}')" -ge $((checks * ${#kinds[@]}))
check "shedding is logged" grep -q "http: shed [0-9]* connections" "$work/d1.log"
check "healthscored is still ready" ready d1
finish test_daemon_http_attack
