#!/usr/bin/env python3
"""Exits 0 when consumer group GROUP has committed, for every partition of
each TOPIC, the partition's end (its high watermark): it has read and
committed everything. Prints the lag otherwise.

usage: committed.py BOOTSTRAP GROUP TOPIC...
"""
import sys

from confluent_kafka import Consumer, TopicPartition

bootstrap, group, topics = sys.argv[1], sys.argv[2], sys.argv[3:]
c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
lag = 0
for t in topics:
    parts = [TopicPartition(t, p) for p in c.list_topics(t, timeout=10).topics[t].partitions]
    for tp in c.committed(parts, timeout=10):
        hi = c.get_watermark_offsets(tp, timeout=10)[1]
        lag += hi - max(tp.offset, 0)
c.close()
print("lag %d" % lag)
sys.exit(0 if lag == 0 else 1)
