#!/usr/bin/env python3
"""Writes raw source records for the sources tests, in the vendors' shapes
(tests/fixtures/sources/README.md names where each shape comes from):

  segment.jsonl            Segment group / track / identify calls: per user a
                           group call first (it teaches user -> account), then
                           track calls, some without context.groupId (their
                           account is the learned alias)
  stripe-customers.jsonl   customer.created events (metadata.account_id),
                           fitting tests/fixtures/sources/stripe-customer.avsc
  stripe-invoices.jsonl    invoice.paid / invoice.payment_failed events, fitting
                           stripe-invoice-payment-failed.avsc
  delighted.jsonl          survey_response.created (nps) and .updated webhooks

A fraction (--redeliver) of each file's records appears a second time a few
records later, as a source that retries would deliver it. With --disjoint,
each account has one user and is in one source only (three in five Segment,
one Stripe, one Delighted), so that all its events come through one source
partition in time order.

usage: sources_gen.py OUTDIR --accounts N --days D --seed S [--redeliver F] [--disjoint]
"""
import argparse
import copy
import datetime
import json
import os
import random

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--accounts", type=int, default=20)
ap.add_argument("--days", type=int, default=30)
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--redeliver", type=float, default=0.0)
ap.add_argument("--disjoint", action="store_true")
ap.add_argument("--src", default=os.path.join(os.path.dirname(__file__), "..", ".."))
a = ap.parse_args()
rnd = random.Random(a.seed)
start = datetime.datetime(2026, 9, 1, tzinfo=datetime.timezone.utc)
features = ["dashboards", "reports", "integrations", "Report Built", "Export Clicked"]
plans = ["starter", "team", "enterprise"]


def at(day, sec):
    return start + datetime.timedelta(days=day, seconds=sec)


def rfc(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


def redeliver(recs):
    out = []
    for r in recs:
        out.append(r)
        if rnd.random() < a.redeliver:  # sent again a few records later
            out.insert(len(out) - rnd.randint(0, min(5, len(out) - 1)), r)
    return out


def write(name, recs):
    with open(os.path.join(a.out, name), "w") as f:
        for r in redeliver(recs):
            f.write(json.dumps(r, separators=(",", ":")) + "\n")


accounts = ["acct-%03d" % i for i in range(a.accounts)]


def of(source):
    if not a.disjoint:
        return accounts
    return [x for i, x in enumerate(accounts)
            if {"segment": i % 5 < 3, "stripe": i % 5 == 3, "delighted": i % 5 == 4}[source]]


seg, n = [], 0
for acct in of("segment"):
    for u in range(1 if a.disjoint else rnd.randint(1, 4)):
        user = "%s-u%d" % (acct, u)
        n += 1  # group calls in the first seconds of day 0, before any track call
        seg.append((at(0, n / 1000), {
            "type": "group", "messageId": "grp-%s" % user, "userId": user, "groupId": acct,
            "timestamp": rfc(at(0, n / 1000)),
            "traits": {"name": acct.upper(), "industry": rnd.choice(["Technology", "Retail"]),
                       "plan": rnd.choice(plans), "employees": rnd.randint(5, 900)},
            "context": {"library": {"name": "analytics-node", "version": "6.0.0"}}}))
        # the first account fades out over the second half (one sign-in a
        # week), so that every seed gives its score a fall that alerts
        fading = acct == of("segment")[0]
        for day in range(a.days):
            busy = not fading or day < a.days // 2
            for k in range(rnd.randint(2, 3) if fading and busy else
                           rnd.randint(0, 3) if busy else int(day % 7 == 0)):
                t = at(day, 3600 + rnd.randint(0, 80000))
                mid = "seg-%s-%d-%d" % (user, day, k)
                kind = rnd.random() if busy else 0
                if kind < 0.45:
                    r = {"type": "track", "event": "Signed In", "userId": user, "messageId": mid,
                         "timestamp": rfc(t), "properties": {"username": user},
                         "context": {"groupId": acct}}
                elif kind < 0.75:
                    r = {"type": "track", "event": rnd.choice(features), "userId": user,
                         "messageId": mid, "timestamp": rfc(t), "properties": {},
                         "context": {"groupId": acct}}
                elif kind < 0.9:  # no groupId: the account is the alias learned from the group call
                    r = {"type": "track", "event": rnd.choice(features), "userId": user,
                         "messageId": mid, "timestamp": rfc(t), "properties": {}}
                else:  # identify: no rule, counted and skipped
                    r = {"type": "identify", "userId": user, "messageId": mid,
                         "timestamp": rfc(t), "traits": {"email": user + "@example.com"}}
                seg.append((t, r))
seg.sort(key=lambda x: x[0])
write("segment.jsonl", [r for _, r in seg])

src = a.src
inv_tpl = json.load(open(os.path.join(src, "tests/fixtures/sources/stripe-invoice-payment-failed.json")))
customers, invoices = [], []
for i, acct in enumerate(accounts):
    if acct not in of("stripe"):
        continue
    cus = "cus_T%06d" % i
    created = int(at(0, 10 + i).timestamp())
    customers.append({
        "id": "evt_cus_%06d" % i, "object": "event", "api_version": "2024-06-20",
        "created": created, "livemode": False, "pending_webhooks": 1, "type": "customer.created",
        "data": {"object": {"id": cus, "object": "customer", "created": created,
                            "email": "billing@%s.example.com" % acct, "name": acct.upper(),
                            "metadata": {"account_id": acct}}}})
    for month in range(0, a.days, 30):
        t = int(at(month + rnd.randint(1, 5), rnd.randint(0, 80000)).timestamp())
        inv = copy.deepcopy(inv_tpl)
        paid = rnd.random() < 0.7
        amount = rnd.choice([2000, 4900, 19900])
        inv["id"] = "evt_inv_%06d_%d" % (i, month)
        inv["created"] = t
        inv["type"] = "invoice.paid" if paid else "invoice.payment_failed"
        o = inv["data"]["object"]
        o.update({"id": "in_T%06d_%d" % (i, month), "customer": cus, "created": t,
                  "amount_due": amount, "amount_paid": amount if paid else 0,
                  "amount_remaining": 0 if paid else amount, "status": "paid" if paid else "open",
                  "customer_email": "billing@%s.example.com" % acct, "customer_name": acct.upper()})
        o["lines"]["data"][0].update({"id": "il_T%06d_%d" % (i, month), "amount": amount})
        invoices.append((t, inv))
invoices.sort(key=lambda x: x[0])
write("stripe-customers.jsonl", customers)
write("stripe-invoices.jsonl", [r for _, r in invoices])

surveys = []
for i, acct in enumerate(accounts):
    if acct not in of("delighted"):
        continue
    for k in range(rnd.randint(1, 4) if a.disjoint else rnd.randint(0, 3)):
        t = int(at(rnd.randint(0, a.days - 1), rnd.randint(0, 80000)).timestamp())
        rid = "%d%03d" % (i, k)
        data = {"id": rid, "person": {"id": "p%s" % rid, "email": "p%s@example.com" % rid,
                                      "name": "Person %s" % rid, "created_at": t - 60},
                "survey_type": "nps", "score": rnd.randint(0, 10), "comment": None,
                "permalink": "https://app.delighted.com/r/%s" % rid, "created_at": t,
                "updated_at": t, "person_properties": {"account_id": acct}, "notes": [],
                "tags": [], "additional_answers": []}
        surveys.append((t, {"event_type": "survey_response.created",
                            "event_id": "dl-%s-created" % rid, "event_data": data}))
        if rnd.random() < 0.3:  # a comment added later: no rule, skipped
            upd = copy.deepcopy(data)
            upd["comment"], upd["updated_at"] = "Thanks", t + 300
            surveys.append((t + 300, {"event_type": "survey_response.updated",
                                      "event_id": "dl-%s-updated" % rid, "event_data": upd}))
surveys.sort(key=lambda x: x[0])
write("delighted.jsonl", [r for _, r in surveys])
