#!/usr/bin/env bash
# `healthscore produce` sends every record of a file to a topic as it was
# asked to: the key from a record path (on the partition murmur2 gives it, as
# Java clients would), headers, the Confluent wire format, Avro encoding,
# length-prefixed binary and msgpack input; read back with kcat and compared
# byte for byte. A record without the key path stops the run naming its
# line; an unreachable or vanished broker is a non-zero exit with a reason.
set -euo pipefail
src=${HS_SOURCE_DIR:?}
source "$src/tests/integration/lib.sh"
fx=$src/tests/fixtures/sources

start_broker 4

# consume TOPIC OUT: every message as partition \t key \t headers \t size \t
# value (no separator after the value: the checker reads `size` bytes).
consume() {
  kcat -C -b "$bs" -t "$1" -o beginning -e -q -f '%p\t%k\t%h\t%S\t%s' >"$2" 2>/dev/null
}

cat >"$work/check.py" <<'PY'
# check.py MESSAGES KEYS VALUES HEADERS PREFIX_HEX PARTITIONS: the messages
# consumed are the records in order (per partition), each with its key, on
# murmur2's partition, with the headers and PREFIX + value byte for byte.
# KEYS: one key a line ("-" for none); VALUES: the values, each preceded by
# its length as 4 bytes big-endian.
import sys

def murmur2(data):
    m, h = 0x5BD1E995, 0x9747B28C ^ len(data)
    n4 = len(data) // 4 * 4
    for i in range(0, n4, 4):
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> 24
        k = (k * m) & 0xFFFFFFFF
        h = ((h * m) & 0xFFFFFFFF) ^ k
    rest = len(data) % 4
    if rest >= 3: h ^= data[n4 + 2] << 16
    if rest >= 2: h ^= data[n4 + 1] << 8
    if rest >= 1:
        h ^= data[n4]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return h

msgs_f, keys_f, vals_f, headers, prefix, nparts = sys.argv[1:7]
prefix, nparts = bytes.fromhex(prefix), int(nparts)
raw = open(msgs_f, "rb").read()
got, i = {}, 0
while i < len(raw):
    fields = []
    for _ in range(4):
        j = raw.index(b"\t", i)
        fields.append(raw[i:j])
        i = j + 1
    size = int(fields[3])
    got.setdefault(int(fields[0]), []).append((fields[1], fields[2].decode(), raw[i:i + size]))
    i += size
keys = [k for k in open(keys_f, "rb").read().split(b"\n")[:-1]]
vraw, vals, i = open(vals_f, "rb").read(), [], 0
while i < len(vraw):
    n = int.from_bytes(vraw[i:i + 4], "big")
    vals.append(vraw[i + 4:i + 4 + n])
    i += 4 + n
assert len(keys) == len(vals), (len(keys), len(vals))
want = {}
for k, v in zip(keys, vals):
    key = b"" if k == b"-" else k
    p = murmur2(key) & 0x7FFFFFFF if key else None
    want.setdefault(p % nparts if key else None, []).append((key, headers, prefix + v))
if None in want:  # no key: any partition, order kept within each
    flat = sorted(m for ms in got.values() for m in ms)
    assert flat == sorted(want[None]), "unkeyed messages differ"
else:
    for p in range(nparts):
        g, w = got.get(p, []), want.get(p, [])
        assert len(g) == len(w), f"partition {p}: {len(g)} messages, want {len(w)}"
        for n, (a, b) in enumerate(zip(g, w)):
            assert a[0] == b[0], f"partition {p} message {n}: key {a[0]!r}, want {b[0]!r}"
            assert a[1] == b[1], f"partition {p} message {n}: headers {a[1]!r}, want {b[1]!r}"
            assert a[2] == b[2], f"partition {p} message {n}: value {a[2][:60]!r}, want {b[2][:60]!r}"
print(f"{len(vals)} messages as expected")
PY

# lines_to_values FILE OUT: the JSON lines of FILE, length-prefixed.
lines_to_values() {
  python3 -c '
import sys
out = open(sys.argv[2], "wb")
for line in open(sys.argv[1], "rb").read().split(b"\n"):
    if line.strip():
        out.write(len(line).to_bytes(4, "big") + line)' "$1" "$2"
}

# 1. Segment, keyed by userId, two headers, framed for schema id 42 (0x2a)
"$bin" produce --kafka "$bs" --topic seg --key-path userId --header source=segment \
  --header ce_type=com.segment.track --frame confluent --schema-id 42 "$fx/segment.jsonl" \
  2>"$work/seg.err"
check "segment: every record delivered" grep -q "12 records sent, 12 delivered, 0 failed" "$work/seg.err"
consume seg "$work/seg.msgs"
jq -r .userId "$fx/segment.jsonl" >"$work/seg.keys"
lines_to_values "$fx/segment.jsonl" "$work/seg.vals"
check "segment: keys on murmur2's partitions, headers, frame and values byte for byte" \
  python3 "$work/check.py" "$work/seg.msgs" "$work/seg.keys" "$work/seg.vals" \
  "source=segment,ce_type=com.segment.track" 000000002a 4

# 2. Delighted from standard input, a constant key, no header, no frame
"$bin" produce --kafka "$bs" --topic nps --key acme <"$fx/delighted.jsonl" 2>"$work/nps.err"
consume nps "$work/nps.msgs"
sed 's/.*/acme/' "$fx/delighted.jsonl" >"$work/nps.keys"
lines_to_values "$fx/delighted.jsonl" "$work/nps.vals"
check "delighted: constant key, values as read" \
  python3 "$work/check.py" "$work/nps.msgs" "$work/nps.keys" "$work/nps.vals" "" "" 4

# 3. msgpack records keyed by a field; the values are the file's bytes
"$bin" gen --accounts 3 --days 4 --seed 2 --format msgpack --quiet >"$work/ev.mp"
"$bin" gen --accounts 3 --days 4 --seed 2 --quiet >"$work/ev.jsonl"
n=$(wc -l <"$work/ev.jsonl")
"$bin" produce --kafka "$bs" --topic mp --format msgpack --key-path account_id "$work/ev.mp" \
  2>"$work/mp.err"
check "msgpack: $n records delivered" grep -q "$n records sent, $n delivered, 0 failed" "$work/mp.err"
consume mp "$work/mp.msgs"
jq -r .account_id "$work/ev.jsonl" >"$work/mp.keys"
python3 - "$work/mp.msgs" "$work/mp.keys" "$work/ev.mp" "$work/mp.order" <<'PY'
# puts the consumed values back in input order (the i-th message of a
# partition is the i-th record whose key goes there) to compare with the file
import subprocess, sys
raw, keys = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read().split(b"\n")[:-1]
parts, i = {}, 0
while i < len(raw):
    f = []
    for _ in range(4):
        j = raw.index(b"\t", i); f.append(raw[i:j]); i = j + 1
    n = int(f[3]); parts.setdefault(int(f[0]), []).append((f[1], raw[i:i + n])); i += n
by_key = {}
for p, ms in parts.items():
    for k, v in ms:
        by_key.setdefault(k, []).append(v)
out = b"".join(by_key[k].pop(0) for k in keys)
open(sys.argv[4], "wb").write(out)
PY
check "msgpack: values byte for byte, keyed by account_id" cmp "$work/mp.order" "$work/ev.mp"

# 4. Length-prefixed binary records (bytes 0x00..0xff, tabs and newlines included)
python3 -c '
import sys
out = open(sys.argv[1], "wb")
for n in (0, 1, 256, 3000):
    out.write(n.to_bytes(4, "big") + bytes(i % 256 for i in range(n)))' "$work/bin.vals"
printf 'k\nk\nk\nk\n' >"$work/bin.keys"
"$bin" produce --kafka "$bs" --topic bin --format binary --key k --header h= "$work/bin.vals" \
  2>"$work/bin.err"
consume bin "$work/bin.msgs"
check "binary: records of 0 to 3000 bytes as they were" \
  python3 "$work/check.py" "$work/bin.msgs" "$work/bin.keys" "$work/bin.vals" "h=" "" 4

# 5. Avro: the Stripe fixture encoded with its schema, framed for schema id 7
jq -c . "$fx/stripe-invoice-payment-failed.json" >"$work/stripe.jsonl"
"$bin" produce --kafka "$bs" --topic avro --avro-schema "$fx/stripe-invoice-payment-failed.avsc" \
  --frame confluent --schema-id 7 --key-path data.object.customer "$work/stripe.jsonl" \
  2>"$work/avro.err"
check "avro: delivered" grep -q "1 records sent, 1 delivered, 0 failed" "$work/avro.err"
kcat -C -b "$bs" -t avro -o beginning -e -q -f '%k\n%s' >"$work/avro.msg" 2>/dev/null
check "avro: frame and the first fields as the Avro specification encodes them" \
  python3 - "$work/avro.msg" "$work/stripe.jsonl" <<'PY'
import json, sys
raw, doc = open(sys.argv[1], "rb").read(), json.loads(open(sys.argv[2]).read())
key, _, v = raw.partition(b"\n")
assert key == doc["data"]["object"]["customer"].encode(), key
assert v[:5] == b"\x00\x00\x00\x00\x07", v[:5]
i = 5
def varint():
    global i
    shift = n = 0
    while True:
        b = v[i]; i += 1; n |= (b & 0x7F) << shift; shift += 7
        if not b & 0x80: return (n >> 1) ^ -(n & 1)
def string():
    global i
    n = varint(); s = v[i:i + n].decode(); i += n; return s
assert string() == doc["id"]
assert string() == doc["object"]
assert varint() == 1 and string() == doc["api_version"]  # ["null","string"], branch 1
assert varint() == doc["created"]
assert v[i] == (1 if doc["livemode"] else 0); i += 1
assert varint() == doc["pending_webhooks"]
assert string() == doc["type"]
PY

# 6. a record without the key path: the run stops naming the line
cp "$fx/segment.jsonl" "$work/bad.jsonl"
echo '{"type":"track","event":"Signed In","anonymousId":"a1"}' >>"$work/bad.jsonl"
rc=0
"$bin" produce --kafka "$bs" --topic bad --key-path userId "$work/bad.jsonl" 2>"$work/bad.err" || rc=$?
check "missing key path: exit 1" test "$rc" -eq 1
check "missing key path: names line 13 and the path" \
  grep -q 'line 13: no value at key path "userId"' "$work/bad.err"
check "missing key path: the 12 records before it delivered, no other" \
  grep -q "12 records sent, 12 delivered, 0 failed" "$work/bad.err"
rc=0
printf '{"userId":1}\n{oops\n' | "$bin" produce --kafka "$bs" --topic bad2 2>"$work/bad2.err" || rc=$?
check "a malformed JSON line: exit 1 naming it" \
  bash -c "[ $rc -eq 1 ] && grep -q 'line 2: malformed JSON' '$work/bad2.err'"
rc=0
"$bin" produce --kafka "$bs" --topic bad5 --format msgpack "$fx/segment.jsonl" 2>"$work/bad5.err" || rc=$?
check "JSON read as msgpack: exit 1, the first record is not a map" \
  bash -c "[ $rc -eq 1 ] && grep -q 'record 1 (byte 0): not a msgpack map' '$work/bad5.err'"
rc=0
echo '[1,2]' | "$bin" produce --kafka "$bs" --topic bad6 2>"$work/bad6.err" || rc=$?
check "a JSON line that is not an object: exit 1" \
  bash -c "[ $rc -eq 1 ] && grep -q 'line 1: not a JSON object' '$work/bad6.err'"
rc=0
printf '\0\0\0\x09abc' | "$bin" produce --kafka "$bs" --topic bad3 --format binary \
  2>"$work/bad3.err" || rc=$?
check "a truncated binary record: exit 1 with its offset" \
  bash -c "[ $rc -eq 1 ] && grep -q 'record 1 (byte 0): length prefix 9 exceeds the bytes left' '$work/bad3.err'"
rc=0
"$bin" produce --kafka "$bs" --topic bad4 --avro-schema "$fx/stripe-invoice-payment-failed.avsc" \
  "$fx/segment.jsonl" 2>"$work/bad4.err" || rc=$?
check "a record that does not fit the Avro schema: exit 1 naming line and field" \
  bash -c "[ $rc -eq 1 ] && grep -q 'line 1: avro: \$: no such field in the schema' '$work/bad4.err'"

# 7. usage errors
for args in "--topic t" "--kafka $bs" "--kafka $bs --topic t --key a --key-path b" \
  "--kafka $bs --topic t --frame confluent" "--kafka $bs --topic t --schema-id 1" \
  "--kafka $bs --topic t --format binary --key-path a" "--kafka $bs --topic t --key-path \$key"; do
  rc=0
  # shellcheck disable=SC2086
  "$bin" produce $args </dev/null 2>/dev/null || rc=$?
  check "usage error: $args" test "$rc" -eq 2
done

# 8. an unreachable broker: non-zero exit with a reason after --timeout
port=$(free_port)
rc=0
"$bin" produce --kafka "127.0.0.1:$port" --topic x --timeout 2 "$fx/delighted.jsonl" \
  2>"$work/down.err" || rc=$?
check "unreachable broker: exit 1" test "$rc" -eq 1
check "unreachable broker: the reason" grep -q "healthscore produce: .*127.0.0.1:$port" "$work/down.err"

# 9. the broker vanishes mid-stream: the records it never acknowledged fail
for _ in $(seq 40); do cat "$fx/delighted.jsonl"; done >"$work/many.jsonl"
rc=0
"$bin" produce --kafka "$bs" --topic gone --rate 20 --timeout 2 -X message.timeout.ms=1000 \
  "$work/many.jsonl" 2>"$work/gone.err" &
ppid=$!
wait_for 10 grep -q "sent" "$work/gone.err" || true
kill -9 "${pids[0]}"
wait "$ppid" || rc=$?
check "broker gone: exit 1" test "$rc" -eq 1
check "broker gone: failures counted" grep -Eq "records sent, [0-9]+ delivered, [1-9][0-9]* failed" "$work/gone.err"

finish produce-tool
