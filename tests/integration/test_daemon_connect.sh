#!/usr/bin/env bash
# Failed connections say why, from the start: a wrong Redis password and a
# refused connection are logged with their cause (once, then at most every
# 10 s), and /readyz gives the cause; a Kafka broker that goes away is
# logged and named in /readyz too.
source "$(dirname "$0")/lib.sh"

start_broker 2
start_redis --requirepass s3cret
readyz() {
  curl -s --max-time 5 "http://127.0.0.1:$(cat "$work/$1.port")/readyz"
}

# a wrong password
engine_conf d1 connect-$$
sed -i 's/^redis:$/redis:\n  password: wrong/' "$work/d1.yaml"
start_daemon d1
check "the log says the password was refused" wait_for 20 grep -q 'redis: cannot connect: .*AUTH' "$work/d1.log"
check "/readyz names the AUTH error" wait_for 10 bash -c "$(declare -f readyz); work=$work; readyz d1 | grep -q 'Redis unreachable: .*AUTH'"
echo "  readyz: $(readyz d1)"
{ grep -m1 'cannot connect' "$work/d1.log" || true; } | sed 's/^/  log: /'
kill -TERM "$(cat "$work/d1.pid")"
wait "$(cat "$work/d1.pid")" || true
n=$(grep -c "cannot connect" "$work/d1.log" || true)
check "logged once or a few times, not at every attempt" test "$n" -le 3

# nothing listening
engine_conf d2 connect2-$$
closed=$(free_port)
sed -i "s/^  port: $redis_port$/  port: $closed/" "$work/d2.yaml"
start_daemon d2
check "the log says the connection was refused" wait_for 20 grep -q "redis: cannot connect: redis 127.0.0.1:$closed: Connection refused" "$work/d2.log"
check "/readyz names it" wait_for 10 bash -c "$(declare -f readyz); work=$work; readyz d2 | grep -q 'Redis unreachable: .*Connection refused'"
echo "  readyz: $(readyz d2)"
kill -TERM "$(cat "$work/d2.pid")"
wait "$(cat "$work/d2.pid")" || true

# Kafka going away once running
engine_conf d3 connect3-$$
sed -i 's/^redis:$/redis:\n  password: s3cret/' "$work/d3.yaml"
start_daemon d3
check "ready with the right password" wait_for 30 ready d3
kill -9 "${pids[0]}"
check "librdkafka's errors reach the log" wait_for 30 grep -qE '(kafka|librdkafka): .*(Connection refused|brokers are down|Disconnected)' "$work/d3.log"
check "/readyz says Kafka is unreachable, and why" \
  wait_for 30 bash -c "$(declare -f readyz); work=$work; readyz d3 | grep -q 'Kafka unreachable: .'"
echo "  readyz: $(readyz d3)"
kill -TERM "$(cat "$work/d3.pid")"
wait "$(cat "$work/d3.pid")" || true
finish daemon-connect
