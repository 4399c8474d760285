#!/usr/bin/env bash
# `healthscore map` and `healthscore check --mapping` through the real binary:
# the presets' vendor fixtures map to engine events that `healthscore replay`
# scores the same whether they travel as JSON lines or msgpack; rejects are
# reported on stderr with source, rule and path and make the exit status 1;
# mapping file errors name file:line:column.
set -euo pipefail
src=${HS_SOURCE_DIR:?}
bin=${HS_BIN:?}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fx=$src/tests/fixtures/sources
mp=$src/examples/mappings
cfg=$src/examples/customer-behavior.yaml
fail() { echo "FAIL: $*" >&2; exit 1; }

"$bin" map --help | grep -q -- "--mapping FILE" || fail "map --help"
"$bin" --help | grep -q "^  map " || fail "map is not listed"
for f in "$mp"/*.yaml; do
  "$bin" check --mapping "$f" >/dev/null || fail "check --mapping $f"
done

# JSON and msgpack out: replay gives the same final scores
for s in segment stripe delighted; do
  "$bin" map -q -m "$mp/$s.yaml" "$fx/$s.jsonl" >>"$work/events.jsonl" 2>>"$work/rejects" || true
  "$bin" map -q -f msgpack -m "$mp/$s.yaml" "$fx/$s.jsonl" >>"$work/events.mp" 2>/dev/null || true
done
cmp -s <(cat "$fx"/{segment,stripe,delighted}.expected.jsonl) "$work/events.jsonl" ||
  fail "map output differs from the hand-checked expected events"
"$bin" replay -c "$cfg" --report none --final "$work/a.jsonl" "$work/events.jsonl" 2>/dev/null
"$bin" replay -c "$cfg" --report none --final "$work/b.jsonl" --format msgpack "$work/events.mp" 2>/dev/null
cmp -s "$work/a.jsonl" "$work/b.jsonl" || fail "replay of JSON and msgpack output differ"
grep -q '"account_id":"acme".*"nps_latest".*"value":9.000' "$work/a.jsonl" || fail "nps not scored"
grep -q 'rule "track_by_user" (.*segment.yaml:[0-9]*): account_id: path "userId": unknown alias' \
  "$work/rejects" || fail "reject reason: $(cat "$work/rejects")"

# exit status and summary; the piped form works
set +e
"$bin" map -m "$mp/segment.yaml" "$fx/segment.jsonl" >/dev/null 2>"$work/err"
rc=$?
set -e
[ $rc -eq 1 ] || fail "a reject must exit 1, got $rc"
grep -q "segment: 12 records: 10 events, 0 without event, 1 unmatched, 1 rejected" "$work/err" ||
  fail "summary: $(cat "$work/err")"
grep -q "rule signed_in .*segment.yaml:[0-9]* *matched 1, rejected 0" "$work/err" || fail "per rule"
"$bin" map -q -m "$mp/delighted.yaml" <"$fx/delighted.jsonl" | "$bin" replay -c "$cfg" \
  --report none --final - 2>/dev/null | grep -q '"score":90.0' || fail "map | replay"

# --key and --header reach $key and $headers.NAME
cat >"$work/k.yaml" <<'YAML'
rules:
  - when: {$headers.ce_type: com.example.nps}
    emit: nps
    set: {event_id: id, account_id: $key, ts: t, score: s}
YAML
echo '{"id":"e1","t":"2026-01-01T00:00:00Z","s":7}' >"$work/k.jsonl"
"$bin" map -q -m "$work/k.yaml" -k acme -H ce_type=com.example.nps "$work/k.jsonl" |
  grep -q '"account_id":"acme","type":"nps"' || fail "--key/--header"

# a record neither JSON nor msgpack, and malformed JSON, are rejects with a reason
printf 'hello\n{"id":"e2","t":1,"s":1,"s":2}\n' >"$work/bad.jsonl"
set +e
"$bin" map -q -m "$work/k.yaml" -k a "$work/bad.jsonl" 2>"$work/err2"
rc=$?
set -e
[ $rc -eq 1 ] || fail "bad records must exit 1"
grep -q "record 1 (line 1): k: neither a JSON object nor a msgpack map" "$work/err2" || fail "framing"
grep -q 'record 2 (line 2): k: malformed JSON at byte [0-9]*: duplicate key "s"' "$work/err2" ||
  fail "dup key: $(cat "$work/err2")"

# check: file:line:column, exit 1; map refuses a bad mapping with 2
printf 'rules:\n  - emit: signup\n' >"$work/bad.yaml"
set +e
"$bin" check --mapping "$work/bad.yaml" 2>"$work/err3"
rc=$?
"$bin" map -m "$work/bad.yaml" "$work/k.jsonl" 2>/dev/null
rc2=$?
set -e
[ $rc -eq 1 ] && [ $rc2 -eq 2 ] || fail "bad mapping: check $rc map $rc2"
grep -q "bad.yaml:2:11: emit: \"signup\" is not an engine event type" "$work/err3" || fail "check msg"
echo "ok"
