# Helpers for the daemon's integration tests: a mock Kafka broker, a real
# redis-server and healthscored processes on free loopback ports, all
# stopped on exit. Source it; then call the functions below.
set -euo pipefail
bin=${HS_BIN:?}
daemon=${HS_DAEMON:?}
src=${HS_SOURCE_DIR:?}
work=$(mktemp -d)
pids=()
passed=0
failed=0

cleanup() {
  local p
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "$failed" -ne 0 ] || [ -n "${KEEP_WORK:-}" ]; then
    for f in "$work"/*.log; do
      [ -f "$f" ] || continue
      echo "--- last lines of $f"
      tail -n 25 "$f"
      if grep -q "ERROR: .*Sanitizer\|runtime error" "$f"; then
        echo "--- sanitizer report in $f"
        grep -m1 -A60 "ERROR: .*Sanitizer\|runtime error" "$f"
      fi
    done
  fi
  rm -rf "$work"
}
trap cleanup EXIT

check() {
  local what=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
    echo "ok: $what"
  else
    failed=$((failed + 1))
    echo "FAIL: $what"
  fi
}

finish() {
  echo "$1: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

# Random choices (kill points, how far a stream runs before a fault) come
# from one seed, printed at the start so that a failing run can be repeated:
# HS_TEST_SEED=N ctest -R NAME.
seed=${HS_TEST_SEED:-$(($(date +%s%N) / 1000 % 1000000))}
echo "seed: $seed (repeat with HS_TEST_SEED=$seed)"
RANDOM=$seed

# random_between LO HI: sets $random to an integer in [LO, HI] drawn from the
# seed (call it in the test's own shell, not in $(...), to keep the sequence).
random=
random_between() {
  random=$(($1 + (RANDOM * 32768 + RANDOM) % ($2 - $1 + 1)))
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for SECONDS COMMAND...: polls every 0.1 s until COMMAND succeeds.
wait_for() {
  local n=$(($1 * 10))
  shift
  while [ "$n" -gt 0 ]; do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
    n=$((n - 1))
  done
  return 1
}

# start_broker PARTITIONS [broker options]: sets $bs to the bootstrap address
# and $partitions.
partitions=
start_broker() {
  local parts=$1
  partitions=$parts
  shift
  "$bin" broker --partitions "$parts" --bootstrap-file "$work/bs" --quiet "$@" >"$work/broker.log" 2>&1 &
  pids+=($!)
  wait_for 10 test -s "$work/bs"
  bs=$(cat "$work/bs")
}

# start_redis [redis-server options]: sets $redis_port and $redis_pid; data in $work/redis.
redis_port=
start_redis() {
  [ -n "$redis_port" ] || redis_port=$(free_port)
  mkdir -p "$work/redis"
  redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work/redis" --save "" \
    --appendonly no "$@" >>"$work/redis.log" 2>&1 &
  redis_pid=$!
  pids+=("$redis_pid")
  wait_for 10 redis-cli -p "$redis_port" ping
}

# rcli ARGS...: redis-cli on $redis_port, following MOVED and ASK in a cluster.
rcli() {
  redis-cli -c -p "$redis_port" "$@"
}

# engine_conf NAME GROUP [extra YAML lines]: writes $work/NAME.yaml for a
# daemon on a free HTTP port (remembered in $work/NAME.port). $max_idle
# (default 300ms) is engine.max_idle: a test comparing histories with a
# replay needs it above the producers' skew, which a loaded machine widens.
engine_conf() {
  local name=$1 group=$2
  shift 2
  local port
  port=$(free_port)
  echo "$port" >"$work/$name.port"
  cat >"$work/$name.yaml" <<YAML
engine:
  profiles: $src/examples/customer-behavior.yaml
  idle_interval: 0
  max_idle: ${max_idle:-300ms}
  flush_interval: 100ms
kafka:
  bootstrap: $bs
  group_id: $group
  consumer:
    session.timeout.ms: "6000"
    heartbeat.interval.ms: "500"
    fetch.wait.max.ms: "20"
redis:
  port: $redis_port
  nodes: "${redis_nodes:-}"
  wait_replicas: ${redis_wait_replicas:-0}
http:
  port: $port
log:
  format: text
  level: info
YAML
  local line
  for line in "$@"; do echo "$line" >>"$work/$name.yaml"; done
}

# start_daemon NAME: runs healthscored with $work/NAME.yaml; its pid in $work/NAME.pid.
start_daemon() {
  local name=$1
  "$daemon" --config "$work/$name.yaml" >>"$work/$name.log" 2>&1 &
  echo $! >"$work/$name.pid"
  pids+=($!)
}

http_get() {
  curl -sf --max-time 5 "http://127.0.0.1:$(cat "$work/$1.port")$2"
}

# metric NAME SERIES: the sum of every sample of SERIES (a name, or a name
# with labels) on NAME's /metrics; 0 when absent.
metric() {
  http_get "$1" /metrics | awk -v s="$2" '
    index($0, s) == 1 && (substr($0, length(s) + 1, 1) == " " || substr($0, length(s) + 1, 1) == "{") { t += $NF }
    END { printf "%d\n", t }'
}

ready() {
  http_get "$1" /readyz >/dev/null
}

# all_ready NAME...: every daemon named is ready.
all_ready() {
  local n
  for n in "$@"; do ready "$n" || return 1; done
}

# not_ready NAME: NAME's /readyz answers, and not 200.
not_ready() {
  curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$(cat "$work/$1.port")/readyz" |
    grep -qx 503
}

# metric_sum SERIES NAME...: the sum of SERIES over the daemons named.
metric_sum() {
  local s=$1 total=0 n
  shift
  for n in "$@"; do total=$((total + $(metric "$n" "$s"))); done
  echo "$total"
}

# metric_at_least NAME SERIES N: NAME's SERIES is at least N.
metric_at_least() {
  [ "$(metric "$1" "$2")" -ge "$3" ]
}

# metric_is NAME SERIES N: NAME's SERIES is exactly N.
metric_is() {
  [ "$(metric "$1" "$2")" -eq "$3" ]
}

# advance NAME N [SECONDS]: waits until NAME has read N more events than
# when called (at most SECONDS, default 60; returns 1 if it has not).
advance() {
  local base
  base=$(metric "$1" healthscore_events_total)
  wait_for "${3:-60}" metric_at_least "$1" healthscore_events_total $((base + $2))
}

# advance_all N NAME...: waits (up to 60 s) until the daemons named have
# read N more events together than when called.
advance_all() {
  local n=$1 base
  shift
  base=$(metric_sum healthscore_events_total "$@")
  wait_for 60 sum_at_least $((base + n)) "$@"
}
sum_at_least() { # N NAME...
  local n=$1
  shift
  [ "$(metric_sum healthscore_events_total "$@")" -ge "$n" ]
}

# settled NAME...: every daemon has no account waiting to be written and no
# message buffered; used once the positions cover every event, before
# comparing what Redis holds.
settled() {
  local n
  for n in "$@"; do
    [ "$(metric "$n" healthscore_accounts_dirty)" -eq 0 ] || return 1
    [ "$(metric "$n" healthscore_messages_buffered)" -eq 0 ] || return 1
  done
}

# drained NAME... : every daemon has nothing dirty and all of $1 events read.
drained() {
  local want=$1
  shift
  local total=0 n
  for n in "$@"; do
    [ "$(metric "$n" healthscore_accounts_dirty)" -eq 0 ] || return 1
    total=$((total + $(metric "$n" healthscore_events_total)))
  done
  [ "$total" -ge "$want" ]
}

# positions_total GROUP: the sum of every position stored in Redis for GROUP
# (a hash per partition group: topic -> next offset).
positions_total() {
  local total=0 p v
  for p in $(seq 0 $((partitions - 1))); do
    for v in $(rcli hvals "hs:pos:$1:$p"); do total=$((total + v)); done
  done
  echo "$total"
}

# same_states CONFIG EVENTS: the states in Redis equal `replay` of EVENTS, byte for byte.
same_states() {
  "$bin" replay --config "$1" --states "$work/replay.states" --report none --quiet <"$2"
  sort "$work/replay.states" >"$work/want.states"
  # shellcheck disable=SC2046
  "$bin" show --redis "${redis_nodes:-127.0.0.1:$redis_port}" --state $(cut -d' ' -f1 "$work/want.states") |
    sort >"$work/got.states"
  local w g
  w=$(wc -l <"$work/want.states")
  g=$(wc -l <"$work/got.states")
  echo "  states: $g in Redis, $w from replay"
  cmp -s "$work/want.states" "$work/got.states"
}

# same_history CONFIG EVENTS: each account's daily score history in Redis
# equals the last score of each day in `replay --all-evaluations`.
same_history() {
  "$bin" replay --config "$1" --scores "$work/replay.scores" --all-evaluations --no-advance --report none \
    --quiet <"$2"
  python3 - "$work/replay.scores" "$redis_port" <<'PY'
import json, socket, sys

# one connection per Redis node, following MOVED and ASK as `redis-cli -c` does
conns = {}
def node(port):
    if port not in conns:
        s = socket.create_connection(("127.0.0.1", port))
        conns[port] = (s, s.makefile("rb"))
    return conns[port]
def reply(f):
    line = f.readline()
    kind, rest = line[:1], line[1:-2]
    if kind == b"*":
        return [reply(f) for _ in range(int(rest))]
    if kind == b"$":
        n = int(rest)
        return None if n < 0 else f.read(n + 2)[:-2].decode()
    if kind == b"-":
        return Exception(rest.decode())
    return rest.decode()
def command(port, *args, asking=False):
    s, f = node(port)
    msg = b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in (x.encode() for x in args))
    if asking:
        s.sendall(b"*1\r\n$6\r\nASKING\r\n")
        reply(f)
    s.sendall(b"*%d\r\n" % len(args) + msg)
    r = reply(f)
    if isinstance(r, Exception):
        words = str(r).split()
        if words[0] in ("MOVED", "ASK"):
            return command(int(words[2].rsplit(":", 1)[1]), *args, asking=words[0] == "ASK")
        raise r
    return r

want = {}
for line in open(sys.argv[1]):
    # the record's own fields come before its groups and metrics: parse those only
    cut = line.find(',"groups":')
    r = json.loads(line[:cut] + "}" if cut > 0 else line)
    if r.get("score") is None:
        continue
    want.setdefault(r["account_id"], {})[r["updated_at"][:10]] = "%.1f" % r["score"]
bad = 0
for acct, days in want.items():
    out = command(int(sys.argv[2]), "HGETALL", "hs:{%s}:history" % acct)
    got = dict(zip(out[0::2], out[1::2]))
    if got != days:
        bad += 1
        if bad <= 3:
            diff = {d: (days.get(d), got.get(d)) for d in set(days) | set(got) if days.get(d) != got.get(d)}
            print("  history of %s differs (day: replay, redis): %s" % (acct, sorted(diff.items())[:5]))
print("  history: %d accounts compared, %d differ" % (len(want), bad))
sys.exit(1 if bad else 0)
PY
}

# alerts_ok CONFIG EVENTS [REPLAY OPTIONS...]: the alerts topic holds exactly
# replay's alert episodes (alert_id and state); duplicates only repeat an
# alert_id. (--no-advance: no alert of idle accounts ageing to the last
# event's time, as healthscored with engine.idle_interval 0.)
alerts_ok() {
  "$bin" replay --config "$1" --alerts "$work/replay.alerts" --report none --quiet "${@:3}" <"$2"
  kcat -b "$bs" -C -t healthscore.alerts -o beginning -e -q -f '%s\n' >"$work/live.alerts" 2>/dev/null
  python3 - "$work/replay.alerts" "$work/live.alerts" <<'PY'
import json, sys
key = lambda r: (r["alert_id"], r["state"])
want = [key(json.loads(l)) for l in open(sys.argv[1]) if l.strip()]
got = [key(json.loads(l)) for l in open(sys.argv[2]) if l.strip()]
print("  alerts: %d from replay, %d published (%d distinct)" % (len(want), len(got), len(set(got))))
for a in sorted(set(want) - set(got))[:5]:
    print("  missing: %s %s" % a)
for a in sorted(set(got) - set(want))[:5]:
    print("  not from replay: %s %s" % a)
sys.exit(0 if set(want) == set(got) and len(set(want)) == len(want) else 1)
PY
}

# home_partition ACCOUNT N: the partition of ACCOUNT among N (murmur2, as
# Java clients and healthscore gen place it).
home_partition() {
  python3 - "$1" "$2" <<'PY'
import sys
def murmur2(data):
    m, h = 0x5BD1E995, (0x9747B28C ^ len(data)) & 0xFFFFFFFF
    for i in range(len(data) // 4):
        k = (int.from_bytes(data[4 * i:4 * i + 4], "little") * m) & 0xFFFFFFFF
        k = ((k ^ (k >> 24)) * m) & 0xFFFFFFFF
        h = ((h * m) & 0xFFFFFFFF) ^ k
    rest, base = len(data) % 4, len(data) & ~3
    if rest >= 3: h ^= data[base + 2] << 16
    if rest >= 2: h ^= data[base + 1] << 8
    if rest >= 1: h = ((h ^ data[base]) * m) & 0xFFFFFFFF
    h = ((h ^ (h >> 13)) * m) & 0xFFFFFFFF
    return h ^ (h >> 15)
print((murmur2(sys.argv[1].encode()) & 0x7FFFFFFF) % int(sys.argv[2]))
PY
}

# drained_positions GROUP N: the positions stored for GROUP cover N messages
# (each topic partition's position is the count of messages before it).
drained_positions() {
  [ "$(positions_total "$1")" -ge "$2" ]
}
