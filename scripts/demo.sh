#!/usr/bin/env bash
# The live demo: a local Kafka-protocol broker, redis-server, healthscored
# and a generator producing synthetic customers' events at a steady rate; a
# terminal view shows events/s, latency, the band mix and alerts as they
# arrive. It ends once the stream is drained (or at Ctrl-C), stopping
# everything cleanly. `scripts/demo.sh --offline` runs the offline backtest
# demo instead. `scripts/demo.sh --sources` feeds healthscored the topics a
# company already has instead of engine events: Segment calls (7 partitions,
# keyed by user id), Stripe events framed for the Schema Registry in Avro
# (schemas served by tests/unit/registry_standin.py, a stand-in of the
# registry's REST API) and Delighted survey webhooks, mapped by the presets of
# examples/mappings/ with nothing but settings.
#
#   DEMO_ACCOUNTS (default 400), DEMO_DAYS (120), DEMO_RATE (3000 events/s)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
hs=build/release/healthscore
hsd=build/release/healthscored
out=build/demo
rm -rf "$out"
mkdir -p "$out"
profiles=examples/customer-behavior.yaml

if [ "${1:-}" = "--offline" ]; then
  echo "== the profile: $hs check $profiles"
  "$hs" check "$profiles"
  echo "== 300 synthetic accounts over 150 days, scored offline; alerts as they fire (first 25)"
  "$hs" gen --accounts 300 --days 150 --seed 7 --output "$out/events.jsonl"
  "$hs" replay --quiet --config "$profiles" --alerts "$out/alerts.txt" --alert-format text \
    --report none "$out/events.jsonl"
  head -n 25 "$out/alerts.txt"
  echo "   ... $(wc -l <"$out/alerts.txt") alert messages in all"
  echo "== the backtest report"
  "$hs" replay --quiet --config "$profiles" --html "$out/report.html" "$out/events.jsonl"
  echo
  echo "== the backtest report with charts: $(cd "$out" && pwd)/report.html"
  echo "   open it in a browser (self-contained: no network needed); docs/backtest.md explains it"
  exit 0
fi

sources=
[ "${1:-}" = "--sources" ] && sources=1
accounts=${DEMO_ACCOUNTS:-400}
days=${DEMO_DAYS:-120}
rate=${DEMO_RATE:-3000}
pids=()
stopping=
stop_all() {
  [ -n "$stopping" ] && return
  stopping=1
  echo
  echo "== stopping: healthscored writes its state and leaves the group (SIGTERM)"
  [ -n "${gen_pid:-}" ] && kill "$gen_pid" 2>/dev/null
  if [ -n "${daemon_pid:-}" ] && kill -0 "$daemon_pid" 2>/dev/null; then
    kill -TERM "$daemon_pid"
    local rc=0
    wait "$daemon_pid" || rc=$?
    echo "   healthscored exited with status $rc"
  fi
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "   logs and data: $out/"
}
trap 'stop_all; exit 130' INT TERM
trap stop_all EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

echo "== starting a local broker (librdkafka's mock cluster), redis-server and healthscored"
topics=()
if [ -n "$sources" ]; then
  for t in healthscore.usage healthscore.engagement healthscore.billing healthscore.surveys \
    healthscore.accounts healthscore.alerts healthscore.deadletter segment:7 stripe:3 delighted:2; do
    topics+=(--topic "$t")
  done
fi
"$hs" broker --partitions 8 "${topics[@]}" --bootstrap-file "$out/bootstrap" --quiet >"$out/broker.log" 2>&1 &
pids+=($!)
redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$out" --save "" --appendonly no \
  >"$out/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$out/bootstrap" ] && break; sleep 0.1; done
bs=$(cat "$out/bootstrap")
http_port=$(free_port)
cat >"$out/engine.yaml" <<EOF
engine:
  profiles: $profiles
  idle_interval: 0 # the generator compresses months into a minute
kafka:
  bootstrap: $bs
  group_id: demo
  consumer:
    fetch.wait.max.ms: "10"
redis:
  port: $redis_port
http:
  port: $http_port
log:
  format: text
EOF
if [ -n "$sources" ]; then
  mkdir -p "$out/schemas"
  cp tests/fixtures/sources/stripe-invoice-payment-failed.avsc "$out/schemas/1.avsc"
  cp tests/fixtures/sources/stripe-customer.avsc "$out/schemas/2.avsc"
  python3 tests/unit/registry_standin.py --port-file "$out/registry.port" --schemas "$out/schemas" \
    --log "$out/registry.log" >"$out/registry.out" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do [ -s "$out/registry.port" ] && break; sleep 0.1; done
  maps=examples/mappings
  cat >>"$out/engine.yaml" <<EOF
sources:
  - {topic: segment, format: json, mapping: $maps/segment.yaml, to: healthscore.usage}
  - topic: stripe
    format: confluent-avro
    mapping: $maps/stripe.yaml
    to: healthscore.billing
    registry: {url: "http://127.0.0.1:$(cat "$out/registry.port")"}
  - {topic: delighted, format: json, mapping: $maps/delighted.yaml, to: healthscore.surveys}
EOF
fi
"$hsd" --config "$out/engine.yaml" >"$out/healthscored.log" 2>&1 &
daemon_pid=$!
url=http://127.0.0.1:$http_port
for _ in $(seq 300); do curl -sf "$url/readyz" >/dev/null && break; sleep 0.1; done
echo "   broker $bs, redis 127.0.0.1:$redis_port, healthscored $url (ready)"

"$hs" alerts --kafka "$bs" --from-beginning >"$out/alerts.txt" 2>"$out/alerts.log" &
pids+=($!)
if [ -n "$sources" ]; then
  accounts=${DEMO_ACCOUNTS:-200}
  days=${DEMO_DAYS:-90}
  python3 tests/integration/sources_gen.py "$out" --accounts "$accounts" --days "$days" --seed 7
  cat "$out/stripe-customers.jsonl" "$out/stripe-invoices.jsonl" >"$out/stripe.jsonl"
  total=0
  for s in segment stripe delighted; do
    n=$("$hs" map --mapping "examples/mappings/$s.yaml" --quiet "$out/$s.jsonl" | wc -l)
    echo "== $s: $(wc -l <"$out/$s.jsonl") records in the vendor's shape, $n engine events ($hs map)"
    total=$((total + n))
  done
  echo "== producing them to topics segment (keyed by user id), stripe (Avro, Schema Registry"
  echo "   framing) and delighted: healthscored maps them with the presets and scores them"
  (
    "$hs" produce --kafka "$bs" --topic stripe --key-path data.object.id --frame confluent --schema-id 2 \
      --avro-schema tests/fixtures/sources/stripe-customer.avsc "$out/stripe-customers.jsonl" &&
      "$hs" produce --kafka "$bs" --topic stripe --key-path data.object.customer --frame confluent \
        --schema-id 1 --avro-schema tests/fixtures/sources/stripe-invoice-payment-failed.avsc \
        "$out/stripe-invoices.jsonl" &&
      "$hs" produce --kafka "$bs" --topic delighted "$out/delighted.jsonl" &&
      "$hs" produce --kafka "$bs" --topic segment --key-path userId --rate "$rate" "$out/segment.jsonl"
  ) >"$out/produce.log" 2>&1 &
  gen_pid=$!
else
  total=$("$hs" gen --accounts "$accounts" --days "$days" --seed 7 --quiet | wc -l)
  echo "== producing $total events of $accounts accounts over $days days at $rate events/s"
  "$hs" gen --accounts "$accounts" --days "$days" --seed 7 --kafka "$bs" --rate "$rate" --quiet &
  gen_pid=$!
fi

# the view: numbers from /metrics (latency over the last second), the newest
# alerts from the alerts topic
touch "$out/buckets.prev"
view() {
  curl -sf "$url/metrics" >"$out/metrics.txt" || return 0
  awk -v total="$total" -v dt="$1" -v prev="$2" -v bprev="$out/buckets.prev" '
    BEGIN { while ((getline l < bprev) > 0) { split(l, f, " "); old[f[1]] = f[2] } }
    /^healthscore_events_total/ { ev += $NF }
    /^healthscore_events_applied_total / { applied = $NF }
    /^healthscore_deadletter_total/ { dead += $NF }
    /^healthscore_accounts / { held = $NF }
    /^healthscore_accounts_by_band/ { match($0, /band="[^"]*"/); b = substr($0, RSTART + 6, RLENGTH - 7); band[b] += $NF }
    /^healthscore_alerts_total/ { alerts += $NF }
    /^healthscore_source_messages_total/ { smsg += $NF; sources = 1 }
    /^healthscore_source_events_total/ { sev += $NF }
    /^healthscore_source_unmatched_total/ { sun += $NF }
    /^healthscore_source_rejects_total/ { srej += $NF }
    /^healthscore_source_paused/ { spaused += $NF }
    /^healthscore_processing_latency_seconds_bucket/ {
      match($0, /le="[^"]*"/); le[++n] = substr($0, RSTART + 4, RLENGTH - 5)
      cnt[n] = $NF - old[le[n]]; all[n] = $NF
    }
    function pct(c, q, i) { for (i = 1; i <= n; i++) if (c[i] >= c[n] * q && c[n] > 0) return le[i] * 1000; return "-" }
    END {
      rate = dt > 0 ? (ev - prev) / dt : 0
      if (sources)
        printf "sources  %d messages mapped: %d events, %d unmatched (skipped), %d dead-lettered; %d partitions paused\n", smsg, sev, sun, srej, spaused
      printf "events   %d of %d read (%.0f/s), %d applied, %d dead-lettered\n", ev, total, rate, applied, dead
      printf "accounts %d held   bands: red %d  yellow %d  green %d  unknown %d\n", held, band["red"], band["yellow"], band["green"], band["unknown"]
      if (n) {
        printf "latency  produce -> applied, last second: p50 <= %s ms, p99 <= %s ms (since start: p50 <= %s ms, p99 <= %s ms)\n", pct(cnt, 0.5), pct(cnt, 0.99), pct(all, 0.5), pct(all, 0.99)
        for (i = 1; i <= n; i++) print le[i], all[i] > bprev
      }
      printf "alerts   %d published\n", alerts
      print ev > "/dev/stderr"
    }' "$out/metrics.txt" 2>"$out/events.count"
}
prev=0
last=$(date +%s.%N)
while :; do
  sleep 1
  now=$(date +%s.%N)
  dt=$(awk -v a="$last" -v b="$now" 'BEGIN { print b - a }')
  last=$now
  [ -t 1 ] && clear
  echo "healthscore live demo  (Ctrl-C stops everything)   $url"
  echo
  view "$dt" "$prev"
  prev=$(cat "$out/events.count" 2>/dev/null || echo "$prev")
  echo
  echo "latest alerts:"
  tail -n 8 "$out/alerts.txt" | cut -c1-150 | sed 's/^/  /'
  if ! kill -0 "$gen_pid" 2>/dev/null && [ "$prev" -ge "$total" ]; then
    break
  fi
  [ -t 1 ] || echo "----"
done
gen_pid=
echo
acct=$(awk '/FIRING/ { print $4; exit }' "$out/alerts.txt")
if [ -n "$acct" ]; then
  echo "== one alerted account, as stored in Redis: $hs show --redis 127.0.0.1:$redis_port $acct"
  "$hs" show --redis "127.0.0.1:$redis_port" "$acct" | head -n 24
fi
