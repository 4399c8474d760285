#!/usr/bin/env bash
# The JSON Schemas agree with the code: the event examples and the events
# `healthscore gen` writes validate; malformed examples do not; the alert
# messages and score records `healthscore replay` writes validate.
set -euo pipefail
src=${HS_SOURCE_DIR:?}
bin=${HS_BIN:?}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$bin" gen --accounts 60 --days 120 --seed 5 --quiet > "$work/events.jsonl"
"$bin" replay --quiet --config "$src/examples/eight-categories.yaml" --report none \
  --alerts "$work/alerts.jsonl" --scores "$work/scores.jsonl" --final "$work/final.jsonl" \
  "$work/events.jsonl"

/usr/bin/python3 - "$src" "$work" <<'PY'
import json, os, sys
from jsonschema import Draft202012Validator, RefResolver

src, work = sys.argv[1], sys.argv[2]
store = {}
for root, _, files in os.walk(os.path.join(src, "schemas")):
    for f in files:
        if f.endswith(".schema.json"):
            s = json.load(open(os.path.join(root, f)))
            Draft202012Validator.check_schema(s)
            store[s["$id"]] = s

def validator(name):
    s = store["https://healthscore.dev/schemas/" + name]
    return Draft202012Validator(s, resolver=RefResolver(s["$id"], s, store=store))

event, alert, score = validator("events/event.schema.json"), validator("alert.schema.json"), validator("score.schema.json")
# a structured-mode CloudEvent around an alert (kafka.alerts_format: structured)
_a = store["https://healthscore.dev/schemas/alert.schema.json"]
cloudevent = Draft202012Validator({"$ref": _a["$id"] + "#/$defs/cloudevent"},
                                  resolver=RefResolver(_a["$id"], _a, store=store))
passed = failed = 0

def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)

def no_dupes(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key")
    return dict(pairs)

good = os.path.join(src, "schemas/examples/events")
for f in sorted(os.listdir(good)):
    doc = json.load(open(os.path.join(good, f)))
    errs = list(event.iter_errors(doc))
    check(not errs, f"{f} should validate: {errs[:1]}")

bad = os.path.join(src, "schemas/examples/bad")
for f in sorted(os.listdir(bad)):
    if not (f.startswith("schema-") or f.startswith("range-")):
        continue
    try:
        doc = json.loads(open(os.path.join(bad, f), "rb").read(), object_pairs_hook=no_dupes)
    except ValueError:
        continue  # not JSON a schema can judge (e.g. duplicate keys): covered by the decoder tests
    check(not event.is_valid(doc), f"{f} should not validate")

def lines(name, v, limit=None):
    # at most `limit` lines, spread evenly over the whole file (every event
    # type and every stretch of the period, not only its first days)
    all_lines = open(os.path.join(work, name)).readlines()
    step = max(1, -(-len(all_lines) // limit)) if limit else 1
    n = 0
    for line in all_lines[::step]:
        errs = list(v.iter_errors(json.loads(line)))
        check(not errs, f"{name}: {errs[:1]}")
        n += 1
    check(n > 0, f"{name} is empty")

for name, v in (("alert-firing.json", alert), ("alert-resolved.json", alert), ("score.json", score)):
    errs = list(v.iter_errors(json.load(open(os.path.join(src, "schemas/examples", name)))))
    check(not errs, f"{name}: {errs[:1]}")

doc = json.load(open(os.path.join(src, "schemas/examples/alert-cloudevent.json")))
errs = list(cloudevent.iter_errors(doc))
check(not errs, f"alert-cloudevent.json: {errs[:1]}")
check(not cloudevent.is_valid(doc["data"]), "a bare alert is not a CloudEvent")
bad = dict(doc, specversion="0.3")
check(not cloudevent.is_valid(bad), "specversion 0.3 does not validate")
bad = dict(doc, data=dict(doc["data"], severity="high"))
check(not cloudevent.is_valid(bad), "a severity outside PagerDuty's does not validate")

# the PagerDuty fields: dedup_key is the episode's alert_id; one sentence
for line in open(os.path.join(work, "alerts.jsonl")):
    a = json.loads(line)
    check(a["dedup_key"] == a["alert_id"] and a["summary"].endswith(".")
          and a["account_id"] in a["summary"] and a["state"] in a["summary"], f"pagerduty fields: {a}")

lines("events.jsonl", event, 1000)
lines("alerts.jsonl", alert)
lines("scores.jsonl", score, 1000)
lines("final.jsonl", score)
print(f"schemas: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
