#!/usr/bin/env bash
# Shared by the end-to-end benchmarks: builds the release binaries, prints
# the machine, commit and date, starts the broker (PARTITIONS per topic) and
# redis-server on free loopback ports, and stops everything on exit.
# Sets: hs, hsd, work, pids, bs, redis_port, topics; start_engine starts
# healthscored. The caller's `keep_log` (a path), if set, receives healthscored's
# log ($work/d.log) on exit.
# HS_BENCH_BUILD names a build to use as it is (CI's smoke run reuses its
# RelWithDebInfo build); by default the release build, made here
build=${HS_BENCH_BUILD:-build/release}
if [ -z "${HS_BENCH_BUILD:-}" ]; then
  cmake --preset release >/dev/null
  cmake --build build/release -j "$(nproc)" >/dev/null
fi
hs=$build/healthscore
hsd=$build/healthscored
work=$(mktemp -d)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "${keep_log:-}" ]; then cp "$work/d.log" "$keep_log" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
metric() { # NAME: summed over its series
  { curl -sf "http://127.0.0.1:$http_port/metrics" || true; } |
    awk -v s="$1" 'index($0, s) == 1 && (substr($0, length(s) + 1, 1) ~ /[ {]/) { t += $NF } END { printf "%.0f\n", t }'
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "commit:  $(git rev-parse --short HEAD) $(git diff --quiet -- . ':(exclude)bench/results.md' || echo '(modified)')"
echo "date:    $(date -u +%Y-%m-%dT%H:%MZ)"

# the caller's `extra_topics` (NAME:N items) are created besides the engine's
broker_topics=()
for t in ${extra_topics:+healthscore.usage healthscore.engagement healthscore.billing} \
  ${extra_topics:+healthscore.surveys healthscore.accounts healthscore.alerts healthscore.deadletter} \
  ${extra_topics:-}; do
  broker_topics+=(--topic "$t")
done
"$hs" broker --partitions "$partitions" "${broker_topics[@]}" --bootstrap-file "$work/bs" --quiet &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/bs" ] && break; sleep 0.1; done
bs=$(cat "$work/bs")
redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" \
  >/dev/null 2>&1 &
pids+=($!)
topics=(healthscore.usage healthscore.engagement healthscore.billing healthscore.surveys
  healthscore.accounts)

# start_engine GROUP [LINE...]: healthscored with the example profiles,
# consuming as GROUP; each LINE goes into its engine section; ENGINE_TOPICS
# (comma-separated) replaces kafka.topics and ENGINE_EXTRA is appended (a
# sources: section, say); HSD_TUNABLES, if set, is its GLIBC_TUNABLES. Sets
# group, http_port and dpid.
start_engine() {
  group=$1
  shift
  http_port=$(free_port)
  {
    printf 'engine:\n  profiles: examples/eight-categories.yaml\n  idle_interval: 0\n'
    for line in "$@"; do printf '  %s\n' "$line"; done
    cat <<YAML
kafka:
  bootstrap: $bs
  group_id: $group
${ENGINE_TOPICS:+  topics: [$ENGINE_TOPICS]}
  consumer:
    fetch.wait.max.ms: "1" # the mock broker holds a fetch for the whole wait
  producer:
    linger.ms: "${ALERT_LINGER_MS:-5}"
redis:
  port: $redis_port
  timeout: 30s
http:
  port: $http_port
log:
  format: text
YAML
    printf '%s\n' "${ENGINE_EXTRA:-}"
  } >"$work/engine.yaml"
  env ${HSD_TUNABLES:+GLIBC_TUNABLES=$HSD_TUNABLES} "$hsd" --config "$work/engine.yaml" >"$work/d.log" 2>&1 &
  dpid=$!
  pids+=("$dpid")
}

# covered: the messages covered by the positions healthscored wrote for
# $group (one hash per partition group; no KEYS, which would cost Redis more
# than the engine's own traffic)
covered() {
  for p in $(seq 0 $((partitions - 1))); do echo "HVALS hs:pos:$group:$p"; done |
    redis-cli -p "$redis_port" | awk '{ s += $1 } END { print s + 0 }'
}
