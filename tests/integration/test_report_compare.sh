#!/usr/bin/env bash
# `healthscore replay --compare` through the real binary: the band transition
# matrix and the largest mover agree with two separate replays' last score
# records (--all-evaluations: the band at the last evaluation, as the band
# mix of the report); a configuration compared with itself moves nothing; the HTML page
# is the same bytes for the same input; bad arguments fail with a reason
# before any work.
set -euo pipefail
src=${HS_SOURCE_DIR:?}
bin=${HS_BIN:?}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
a=$src/examples/customer-behavior.yaml

"$bin" gen --accounts 150 --days 90 --seed 21 --quiet >"$work/events.jsonl"
# B: the Sentiment group weighs more, Adoption less
awk '/name: Adoption/ { x = 1 } /name: Sentiment/ { y = 1 }
     x && /weight: 25/ { sub(/25/, "10"); x = 0 } y && /weight: 15/ { sub(/15/, "30"); y = 0 }
     { print }' "$a" >"$work/b.yaml"
"$bin" check "$work/b.yaml" >/dev/null

"$bin" replay -q --config "$a" --scores "$work/scores_a.jsonl" --all-evaluations --report none \
  "$work/events.jsonl"
"$bin" replay -q --config "$work/b.yaml" --scores "$work/scores_b.jsonl" --all-evaluations \
  --report none "$work/events.jsonl"
"$bin" replay -q --config "$a" --compare "$work/b.yaml" --report json "$work/events.jsonl" \
  >"$work/cmp.json"
"$bin" replay -q --config "$a" --compare "$a" "$work/events.jsonl" >"$work/self.txt"

/usr/bin/python3 - "$work" <<'PY'
import json, sys
from collections import Counter
w = sys.argv[1]
def finals(name):  # the last record of each account
    return {r["account_id"]: r for r in map(json.loads, open(f"{w}/{name}"))}
fa, fb = finals("scores_a.jsonl"), finals("scores_b.jsonl")
lines = open(f"{w}/cmp.json").read().splitlines()
assert len(lines) == 2, "the report, then the comparison"
report, cmp = json.loads(lines[0]), json.loads(lines[1])
assert cmp["common_accounts"] == len(fa) == len(fb)
want = Counter((fa[k]["band"], fb[k]["band"]) for k in fa)
got = {(t["from"], t["to"]): t["accounts"] for t in cmp["transitions"]}
assert got == dict(want), (got, want)
assert sum(got.values()) == len(fa)
assert any(f != t for f, t in got), "B should move some account across a band"
# the largest mover: final scores differ most (records round to 0.1)
diff = {k: abs(fa[k]["score"] - fb[k]["score"]) for k in fa}
top = cmp["movers"][0]
assert diff[top["account"]] >= max(diff.values()) - 0.1, (top, max(diff.values()))
assert abs(top["score_a"] - fa[top["account"]]["score"]) < 0.051
assert top["metrics"], "the mover says which metrics differ"
assert abs(cmp["a"]["roc_auc"] - report["prediction"]["roc_auc"]) < 1e-6
print("transitions", dict(want), "top mover", top["account"], round(diff[top["account"]], 1))
PY
grep -q "none: every account scores the same" "$work/self.txt"

# the same input gives the same page
for i in 1 2; do
  (cd "$work" && "$bin" replay -q --config "$a" --compare b.yaml --html page.html \
    --report none events.jsonl && mv page.html "page$i.html")
done
cmp "$work/page1.html" "$work/page2.html"

# bad arguments: a reason, status 1, before reading any event
if "$bin" replay -q --config "$a" --compare "$work/missing.yaml" "$work/events.jsonl" \
  >/dev/null 2>"$work/err"; then
  echo "a missing --compare file was accepted" >&2
  exit 1
fi
grep -q "missing.yaml" "$work/err"
if "$bin" replay -q --config "$a" --html "$work/no/such/dir/x.html" "$work/events.jsonl" \
  >"$work/out" 2>"$work/err"; then
  echo "an unwritable --html path was accepted" >&2
  exit 1
fi
grep -q "cannot write" "$work/err"
test ! -s "$work/out" # nothing replayed
echo ok
