#!/usr/bin/env bash
# A Stripe source framed for the Schema Registry (confluent-avro) while the
# registry is down: the source pauses (healthscore_source_paused, /readyz
# naming the source), nothing is dead-lettered; once the registry answers,
# every event is mapped and scored, the customer -> account aliases are in
# Redis. An unknown schema id (404) is a dead letter with its reason.
# The registry is tests/unit/registry_standin.py, a stand-in of its REST API
# (there is no Schema Registry package on Debian).
source "$(dirname "$0")/lib.sh"
fx=$src/tests/fixtures/sources

start_broker 4 -t healthscore.usage -t healthscore.engagement -t healthscore.billing \
  -t healthscore.surveys -t healthscore.accounts -t healthscore.alerts -t healthscore.deadletter -t stripe:3
start_redis
python3 "$src/tests/integration/sources_gen.py" "$work" --accounts 8 --days 60 --seed "$seed"
mkdir "$work/schemas"
cp "$fx/stripe-invoice-payment-failed.avsc" "$work/schemas/1.avsc"
cp "$fx/stripe-customer.avsc" "$work/schemas/2.avsc"
sr_port=$(free_port)
engine_conf d1 srcreg-$$ "sources:" "  - topic: stripe" "    format: confluent-avro" \
  "    mapping: $src/examples/mappings/stripe.yaml" "    registry: {url: \"http://127.0.0.1:$sr_port\"}"
start_daemon d1
check "healthscored becomes ready" wait_for 30 ready d1

"$bin" produce --kafka "$bs" --topic stripe --key-path data.object.id --frame confluent --schema-id 2 \
  --avro-schema "$fx/stripe-customer.avsc" "$work/stripe-customers.jsonl" 2>>"$work/produce.log"
"$bin" produce --kafka "$bs" --topic stripe --key-path data.object.customer --frame confluent --schema-id 1 \
  --avro-schema "$fx/stripe-invoice-payment-failed.avsc" "$work/stripe-invoices.jsonl" 2>>"$work/produce.log"
invoices=$(wc -l <"$work/stripe-invoices.jsonl")

paused() { metric_at_least d1 'healthscore_source_paused{source="stripe"}' 1; }
check "registry down: the source pauses" wait_for 30 paused
check "... /readyz says why, naming the source" \
  bash -c "curl -s http://127.0.0.1:$(cat "$work/d1.port")/readyz | grep -q 'source stripe.*schema registry http://127.0.0.1:$sr_port not available'"
check "... the log says the partition paused" wait_for 10 grep -q "source stripe: partition .* paused at offset" "$work/d1.log"
sleep 1
check "... nothing is dead-lettered" metric_is d1 healthscore_source_rejects_total 0
check "... nothing reaches the engine" metric_is d1 healthscore_events_total 0

python3 "$src/tests/unit/registry_standin.py" --port "$sr_port" --port-file "$work/sr.port" \
  --schemas "$work/schemas" --log "$work/sr.log" >"$work/sr.out" 2>&1 &
pids+=($!)
check "registry back: every invoice is mapped and scored" \
  wait_for 40 metric_at_least d1 healthscore_events_total "$invoices"
check "... the source resumes" wait_for 10 metric_is d1 'healthscore_source_paused{source="stripe"}' 0
check "... and healthscored is ready" wait_for 10 ready d1
check "... still nothing dead-lettered" metric_is d1 healthscore_source_rejects_total 0
check "... each schema fetched once" test "$(grep -c 'GET /schemas/ids/' "$work/sr.log")" -eq 2
check "learned aliases are in Redis" test "$(rcli hget hs:alias:stripe:customers cus_T000003)" = acct-003

head -1 "$work/stripe-invoices.jsonl" >"$work/one.jsonl"
"$bin" produce --kafka "$bs" --topic stripe --key k99 --frame confluent --schema-id 99 \
  --avro-schema "$fx/stripe-invoice-payment-failed.avsc" "$work/one.jsonl" 2>>"$work/produce.log"
check "an unknown schema id is a dead letter" \
  wait_for 20 metric_is d1 'healthscore_source_rejects_total{source="stripe",reason="unknown_schema"}' 1
dead_letter_has() {
  kcat -b "$bs" -C -t healthscore.deadletter -o beginning -e -q -f '%k %h\n' 2>/dev/null | grep -q "$1"
}
check "... with its reason and source" wait_for 10 dead_letter_has \
  '^k99 reason=stripe: schema id 99: unknown to the schema registry (404),source_topic=stripe'

kill -TERM "$(cat "$work/d1.pid")"
rc=0
wait "$(cat "$work/d1.pid")" || rc=$?
check "SIGTERM: exit 0" test "$rc" -eq 0
finish sources-registry
