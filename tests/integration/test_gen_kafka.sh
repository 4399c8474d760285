#!/usr/bin/env bash
# `healthscore gen --kafka` produces every event, to the topic of its type,
# keyed by account id, through the broker's Kafka protocol; --rate paces it.
source "$(dirname "$0")/lib.sh"

start_broker 4

args=(--accounts 30 --days 20 --seed 4)
want=$("$bin" gen "${args[@]}" --quiet | wc -l)
"$bin" gen "${args[@]}" --kafka "$bs" 2>"$work/gen.err"
check "gen reports every delivery" grep -q "$want delivered, 0 failed" "$work/gen.err"

total=0
for t in usage engagement billing surveys accounts; do
  kcat -b "$bs" -C -t "healthscore.$t" -o beginning -e -q -f '%k %s\n' >"$work/$t" 2>/dev/null
  n=$(wc -l <"$work/$t")
  total=$((total + n))
done
check "all $want events arrived (got $total)" test "$total" -eq "$want"
check "logins on the usage topic" grep -q '"type":"login"' "$work/usage"
check "no login elsewhere" bash -c "! grep -q '\"type\":\"login\"' '$work/billing' '$work/surveys' '$work/accounts' '$work/engagement'"
check "invoices on billing" grep -q '"type":"invoice_issued"' "$work/billing"
check "keyed by account id" bash -c "awk '{ split(\$2, a, \"\\\"account_id\\\":\\\"\"); split(a[2], b, \"\\\"\"); if (\$1 != b[1]) bad++ } END { exit bad > 0 }' '$work/accounts'"

start=$(date +%s.%N)
"$bin" gen --accounts 5 --days 2 --seed 9 --kafka "$bs" --rate 100 --quiet
elapsed=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
n=$("$bin" gen --accounts 5 --days 2 --seed 9 --quiet | wc -l)
check "--rate 100 paces $n events (took ${elapsed}s)" \
  awk -v e="$elapsed" -v n="$n" 'BEGIN { exit !(e >= (n - 1) / 100 * 0.9) }'

n=$("$bin" gen --accounts 3 --days 2 --seed 5 --quiet | wc -l)
"$bin" gen --accounts 3 --days 2 --seed 5 --kafka "$bs" --topic-prefix x. -X linger.ms=0 \
  -X acks=all 2>"$work/x.err"
check "-X settings are taken: $n delivered" grep -q "$n delivered, 0 failed" "$work/x.err"
rc=0
"$bin" gen --accounts 3 --days 2 --kafka "$bs" -X no.such.setting=1 2>"$work/x.err" || rc=$?
check "-X with an unknown setting: exit 1 naming it" \
  bash -c "[ $rc -eq 1 ] && grep -q no.such.setting '$work/x.err'"
rc=0
"$bin" gen -X linger.ms=0 2>/dev/null || rc=$?
check "-X without --kafka is a usage error" test "$rc" -eq 2

rc=0
"$bin" gen --kafka "$bs" --output /tmp/x 2>/dev/null || rc=$?
check "--kafka with --output is a usage error" test "$rc" -eq 2

finish gen-kafka
