#!/usr/bin/env bash
# The offline demo: synthetic customers with known fates are scored day by day
# by the same core the live engine runs; alerts are printed as they fire,
# then the backtest report shows how well the score foretold churn.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
hs=build/release/healthscore
out=build/demo
mkdir -p "$out"

echo "== 1. the profile: $hs check examples/customer-behavior.yaml"
"$hs" check examples/customer-behavior.yaml
echo
echo "== 2. 300 synthetic accounts over 150 days (healthy, declining, churning, ...)"
"$hs" gen --accounts 300 --days 150 --seed 7 --output "$out/events.jsonl"
echo
echo "== 3. replay: alerts as they fire (first 25 shown; all in $out/alerts.jsonl)"
"$hs" replay --quiet --config examples/customer-behavior.yaml --alerts "$out/alerts.txt" \
  --alert-format text --scores "$out/scores.jsonl" --report none "$out/events.jsonl"
head -n 25 "$out/alerts.txt"
echo "   ... $(wc -l <"$out/alerts.txt") alert messages in all"
echo
echo "== 4. one account's score changing over time ($out/scores.jsonl)"
acct=$(grep -m1 FIRING "$out/alerts.txt" | awk '{print $4}')
grep "\"account_id\":\"$acct\"" "$out/scores.jsonl" | awk 'NR % 10 == 1' | head -n 12 |
  sed -E 's/.*"score":([^,]*),"band":"([^"]*)".*"updated_at":"([^"]*)".*/  \3  score \1  \2/'
echo
echo "== 5. the backtest report"
"$hs" replay --quiet --config examples/customer-behavior.yaml \
  --alerts "$out/alerts.jsonl" "$out/events.jsonl"
