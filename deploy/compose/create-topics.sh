#!/usr/bin/env bash
# Creates healthscore's topics in the compose stack's Kafka (the kafka-init
# service runs it once, with the apache/kafka image's tools): every input
# topic with the same partition count (the engine refuses to start
# otherwise), then the alerts and dead-letter topics. Idempotent; fails when
# an existing input topic has another partition count.
set -euo pipefail

bootstrap=${BOOTSTRAP:-kafka:9092}
partitions=${PARTITIONS:-6}
input_topics=${INPUT_TOPICS:-healthscore.usage healthscore.engagement healthscore.billing healthscore.surveys healthscore.accounts}
alerts_topic=${ALERTS_TOPIC:-healthscore.alerts}
deadletter_topic=${DEADLETTER_TOPIC:-healthscore.deadletter}
topics_cmd=${KAFKA_TOPICS:-/opt/kafka/bin/kafka-topics.sh}

create() { # TOPIC [--config KEY=VALUE]...
  local topic=$1
  shift
  "$topics_cmd" --bootstrap-server "$bootstrap" --create --if-not-exists --topic "$topic" \
    --partitions "$partitions" --replication-factor 1 "$@"
}

partition_count() {
  "$topics_cmd" --bootstrap-server "$bootstrap" --describe --topic "$1" |
    sed -n 's/.*PartitionCount: *\([0-9][0-9]*\).*/\1/p' | head -n 1
}

# Input topics keep their events forever: rebuilding the state in Redis
# from Kafka (docs/runbook.md) needs at least the longest window of the
# profiles. Never compact them (the key is the account id).
for t in $input_topics; do
  create "$t" --config retention.ms=-1 --config cleanup.policy=delete
done
create "$alerts_topic" --config retention.ms=604800000
create "$deadletter_topic" --config retention.ms=1209600000

status=0
for t in $input_topics; do
  n=$(partition_count "$t")
  echo "create-topics: $t has $n partitions"
  if [ "$n" != "$partitions" ]; then
    echo "create-topics: $t has $n partitions, not $partitions: every input topic needs the same count" >&2
    status=1
  fi
done
exit $status
