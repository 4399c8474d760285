#!/usr/bin/env bash
# Byte-identity check of two `healthscore` binaries: replays the same inputs
# with each and compares every output byte for byte. For changes that must
# not change any output (a faster evaluation, a faster decoder).
#   bash bench/identity.sh OLD_HEALTHSCORE NEW_HEALTHSCORE [WORKDIR]
# Inputs (from `healthscore gen` of OLD, so both read the same bytes):
#  - the data of tests/unit/test_tool_replay.c (300 accounts x 150 days,
#    seed 11), as JSON lines and as msgpack;
#  - 200 accounts x 400 days (seed 5), so that 365-day windows fill;
#  - a disordered copy of the first (seeded): events out of order within
#    about a day, some delivered twice, overrides of the score and of
#    metrics (some lifted, some expired), accounts changing stage and
#    segment mid-stream, late events past the horizon;
# each under examples/eight-categories.yaml and
# examples/customer-behavior.yaml, and under each with every window at 7
# and at 365 days. Outputs compared: every evaluation's score record
# (--scores --all-evaluations), the alerts, the states, the final score
# records and the backtest report (JSON), and the same without the midnight
# advance at the end (--no-advance). Exit 0 when every output is identical.
set -euo pipefail
[ $# -ge 2 ] || {
  echo "usage: bash bench/identity.sh OLD_HEALTHSCORE NEW_HEALTHSCORE [WORKDIR]" >&2
  exit 2
}
old=$(realpath "$1")
new=$(realpath "$2")
cd "$(dirname "$0")/.."
work=${3:-$(mktemp -d)}
mkdir -p "$work"
[ $# -ge 3 ] || trap 'rm -rf "$work"' EXIT

gen() { # NAME ACCOUNTS DAYS SEED
  [ -s "$work/$1.jsonl" ] ||
    "$old" gen --accounts "$2" --days "$3" --seed "$4" --quiet --output "$work/$1.jsonl"
  [ -s "$work/$1.msgpack" ] || "$old" gen --accounts "$2" --days "$3" --seed "$4" --quiet \
    --format msgpack --output "$work/$1.msgpack"
}
gen replay 300 150 11
gen long 200 400 5
[ -s "$work/disorder.jsonl" ] || python3 - "$work/replay.jsonl" "$work/disorder.jsonl" <<'PY'
import json, random, sys
rnd = random.Random(20261207)
ev = [json.loads(l) for l in open(sys.argv[1])]
metrics = ["logins_30d", "nps_latest", "days_since_engagement", "paid_ratio_90d",
           "core_features_30d", "csm_rating", "tenure", "no_such_metric"]
out = []
for i, e in enumerate(ev):
    out.append(e)
    r = rnd.random()
    if r < 0.03:
        out.append(dict(e))  # a redelivery
    elif r < 0.045 and e["type"] != "account":
        base = e["ts"]
        o = {"event_id": "ovr-%d" % i, "account_id": e["account_id"], "type": "override",
             "ts": base, "target": rnd.choice(metrics + ["score"]),
             "value": rnd.choice([0, 12.5, 55, 100, 120]),
             "expires": rnd.choice([base, "2026-01-02T00:00:00Z", "2026-03-01T00:00:00Z",
                                    "2027-01-01T00:00:00Z"]),
             "reason": "check", "author": "bench"}
        out.append(o)
    elif r < 0.055:
        out.append({"event_id": "acc-%d" % i, "account_id": e["account_id"], "type": "account",
                    "ts": e["ts"], "stage": rnd.choice(["onboarding", "adoption", "mature"]),
                    "segment": rnd.choice(["smb", "enterprise", "mid"]),
                    "licenses": rnd.choice([0, 3, 40])})
# disorder: each event moves by up to ~30 positions (mostly within a day)
keyed = [(i + rnd.uniform(-30, 30), e) for i, e in enumerate(out)]
keyed.sort(key=lambda k: k[0])
# a few very late events (beyond a 90-day horizon for some configurations)
with open(sys.argv[2], "w") as f:
    for _, e in keyed:
        f.write(json.dumps(e, separators=(",", ":")) + "\n")
    for e in rnd.sample(ev[: len(ev) // 10], 200):
        e = dict(e)
        e["event_id"] += "-late"
        f.write(json.dumps(e, separators=(",", ":")) + "\n")
PY

configs=()
for c in eight-categories customer-behavior; do
  cp "examples/$c.yaml" "$work/$c.yaml"
  configs+=("$c")
  for w in 7 365; do
    sed -E "s/window: [0-9]+d/window: ${w}d/g" "examples/$c.yaml" >"$work/$c-w$w.yaml"
    configs+=("$c-w$w")
  done
done

run() { # BIN TAG CONFIG INPUT [OPTS...]
  local bin=$1 tag=$2 cfg=$3 in=$4
  shift 4
  local o="$work/out/$tag"
  mkdir -p "$o"
  "$bin" replay -q -c "$work/$cfg.yaml" --alerts "$o/alerts.jsonl" --scores "$o/scores.jsonl" \
    --all-evaluations --states "$o/states.txt" --final "$o/final.jsonl" --report json \
    -o "$o/report.json" --now 2030-01-01T00:00:00Z --keep-going "$@" "$work/$in" \
    2>"$o/stderr.txt" || echo "exit $?" >>"$o/stderr.txt"
}

fail=0 cases=0 bytes=0
for cfg in "${configs[@]}"; do
  for in in replay.jsonl replay.msgpack long.msgpack disorder.jsonl; do
    for mode in advance no-advance; do
      opts=()
      [ "$mode" = advance ] || opts=(--no-advance)
      [ "$mode" = advance ] || [ "$in" = replay.jsonl ] || [ "$in" = disorder.jsonl ] || continue
      tag="$cfg/$in/$mode"
      run "$old" "old/$tag" "$cfg" "$in" "${opts[@]}"
      run "$new" "new/$tag" "$cfg" "$in" "${opts[@]}"
      for f in alerts.jsonl scores.jsonl states.txt final.jsonl report.json stderr.txt; do
        cases=$((cases + 1))
        a="$work/out/old/$tag/$f" b="$work/out/new/$tag/$f"
        bytes=$((bytes + $(stat -c %s "$a")))
        if ! cmp -s "$a" "$b"; then
          echo "DIFFERS: $tag/$f"
          diff <(head -c 2000000 "$a") <(head -c 2000000 "$b") | head -4 || true
          fail=1
        fi
      done
      lines=$(wc -l <"$work/out/old/$tag/scores.jsonl")
      echo "$tag: $lines score records, $(wc -l <"$work/out/old/$tag/alerts.jsonl") alerts"
      rm -rf "$work/out/old/$tag" "$work/out/new/$tag"
    done
  done
done
if [ "$fail" = 0 ]; then
  echo "identical: $cases outputs ($bytes bytes) of $old and $new"
else
  echo "outputs differ" >&2
fi
exit "$fail"
