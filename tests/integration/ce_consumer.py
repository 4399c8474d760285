"""Reads every alert message of a topic as a CloudEvents-aware Kafka consumer
would (CloudEvents 1.0, Kafka protocol binding: binary mode from ce_* headers,
structured mode from an application/cloudevents+json value) and checks each
event: the required attributes (specversion, id, source, type), subject and
time (RFC 3339), header names that are legal attribute names, the envelope
and the alert against schemas/alert.schema.json, and the PagerDuty fields
(summary, severity, dedup_key) equal to those `healthscore replay` wrote.

usage: ce_consumer.py BOOTSTRAP TOPIC MODE(binary|structured) SRC REPLAY_ALERTS
"""
import datetime
import json
import os
import re
import sys

from confluent_kafka import Consumer, KafkaError, TopicPartition
from jsonschema import Draft202012Validator, RefResolver

bootstrap, topic, mode, src, replay = sys.argv[1:6]
schema = json.load(open(os.path.join(src, "schemas/alert.schema.json")))
resolver = RefResolver(schema["$id"], schema, store={schema["$id"]: schema})
alert_v = Draft202012Validator(schema, resolver=resolver)
envelope_v = Draft202012Validator({"$ref": schema["$id"] + "#/$defs/cloudevent"}, resolver=resolver)
want = {}
for line in open(replay):
    a = json.loads(line)
    want[(a["alert_id"], a["state"])] = a

c = Consumer({"bootstrap.servers": bootstrap, "group.id": "ce-check-%d" % os.getpid(),
              "enable.auto.commit": False, "enable.partition.eof": True})
parts = c.list_topics(topic, timeout=10).topics[topic].partitions
c.assign([TopicPartition(topic, p, 0) for p in parts])  # offset 0: the beginning
eof, events, problems = set(), [], []


def problem(msg):
    problems.append(msg)
    if len(problems) <= 5:
        print("  " + msg)


def rfc3339(t):
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", t):
        return False
    datetime.datetime.fromisoformat(t.replace("Z", "+00:00"))
    return True


while len(eof) < len(parts):
    m = c.poll(10)
    if m is None:
        problem("no message or end of partition within 10 s")
        break
    if m.error():
        if m.error().code() == KafkaError._PARTITION_EOF:
            eof.add(m.partition())
            continue
        problem("kafka: %s" % m.error())
        break
    headers = [(k, v.decode()) for k, v in (m.headers() or [])]
    names = [k for k, _ in headers]
    if len(names) != len(set(names)):
        problem("a header repeats: %s" % names)
    h = dict(headers)
    ctype = h.get("content-type", "")
    if ctype.startswith("application/cloudevents"):  # structured mode
        env = json.loads(m.value())
        errs = list(envelope_v.iter_errors(env))
        if errs:
            problem("envelope: %s" % errs[0].message)
        attrs = {k: v for k, v in env.items() if k != "data"}
        data, got_mode = env.get("data"), "structured"
    else:  # binary mode
        for k in names:
            if k.startswith("ce_") and not re.fullmatch(r"ce_[a-z0-9]{1,20}", k):
                problem("illegal CloudEvents attribute header %r" % k)
        attrs = {k[3:]: v for k, v in headers if k.startswith("ce_")}
        attrs["datacontenttype"] = ctype
        data, got_mode = json.loads(m.value()), "binary"
    if got_mode != mode:
        problem("a %s-mode message where %s was configured" % (got_mode, mode))
    for a in ("specversion", "id", "source", "type", "subject", "time"):
        if not attrs.get(a):
            problem("attribute %s is missing or empty: %s" % (a, attrs))
    if attrs.get("specversion") != "1.0":
        problem("specversion %r" % attrs.get("specversion"))
    if not rfc3339(attrs.get("time", "")):
        problem("time %r is not RFC 3339" % attrs.get("time"))
    if attrs.get("datacontenttype") != "application/json":
        problem("datacontenttype %r" % attrs.get("datacontenttype"))
    if not re.fullmatch(r"[!#-~]+", attrs.get("source", "")):  # a URI reference, no spaces
        problem("source %r" % attrs.get("source"))
    errs = list(alert_v.iter_errors(data))
    if errs:
        problem("alert: %s" % errs[0].message)
        continue
    if attrs["id"] != "%s-%s" % (data["alert_id"], data["state"]):
        problem("id %s for %s %s" % (attrs["id"], data["alert_id"], data["state"]))
    if attrs["type"] != "dev.healthscore.alert." + data["state"]:
        problem("type %s for a %s alert" % (attrs["type"], data["state"]))
    if attrs["subject"] != data["account_id"] or m.key().decode() != data["account_id"]:
        problem("subject %s, key %s, account %s" % (attrs["subject"], m.key(), data["account_id"]))
    if attrs["time"] != data["event_time"]:
        problem("time %s, event_time %s" % (attrs["time"], data["event_time"]))
    if not re.fullmatch(r"\d{13}", h.get("source_timestamp", "0" * 13)):
        problem("source_timestamp %r" % h.get("source_timestamp"))
    r = want.get((data["alert_id"], data["state"]))
    if r is None:
        problem("not from replay: %s %s" % (data["alert_id"], data["state"]))
    else:
        for k in ("summary", "severity", "dedup_key"):
            if r[k] != data[k]:
                problem("%s: replay %r, published %r" % (k, r[k], data[k]))
    events.append(attrs)
c.close()
ids = {e["id"] for e in events}
print("  cloudevents: %d read (%d distinct ids, %d from replay), %d problems"
      % (len(events), len(ids), len(want), len(problems)))
ok = events and not problems and len(ids) == len(want)
sys.exit(0 if ok else 1)
