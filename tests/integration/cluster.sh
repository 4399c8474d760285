# A local Redis Cluster for the daemon's tests: six redis-server processes
# (three masters, three replicas) on free loopback ports, joined by
# redis-cli --cluster create. Source it after lib.sh; start_cluster sets
# $redis_port (a seed node that the tests never stop, for rcli and show) and
# $redis_nodes (every node, for healthscored's redis.nodes).
cluster_ports=()
cluster_bus=()
declare -A cluster_pid
node_timeout=${NODE_TIMEOUT:-1500}

# start_node PORT BUS: one cluster-enabled redis-server; its config (node id,
# epochs) in $work/cluster, so that a restarted node rejoins as itself.
start_node() {
  local port=$1 bus=$2
  redis-server --port "$port" --cluster-port "$bus" --bind 127.0.0.1 --dir "$work/cluster" \
    --cluster-enabled yes --cluster-config-file "nodes-$port.conf" \
    --cluster-node-timeout "$node_timeout" --save "" --appendonly no --repl-diskless-sync-delay 0 \
    --logfile "$work/cluster/redis-$port.log" &
  cluster_pid[$port]=$!
  pids+=($!)
  wait_for 10 redis-cli -p "$port" ping
}

cluster_ok() {
  redis-cli -p "$1" cluster info 2>/dev/null | grep -q "cluster_state:ok"
}

start_cluster() {
  local t0=$SECONDS ports i
  mkdir -p "$work/cluster"
  read -r -a ports <<<"$(python3 -c '
import socket
ss = [socket.socket() for _ in range(12)]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))')"
  cluster_ports=("${ports[@]:0:6}")
  cluster_bus=("${ports[@]:6:6}")
  for i in 0 1 2 3 4 5; do start_node "${cluster_ports[$i]}" "${cluster_bus[$i]}"; done
  redis-cli --cluster create $(printf '127.0.0.1:%s ' "${cluster_ports[@]}") \
    --cluster-replicas 1 --cluster-yes >"$work/cluster/create.log" 2>&1
  for i in 0 1 2 3 4 5; do wait_for 20 cluster_ok "${cluster_ports[$i]}"; done
  # every replica in sync (redis.wait_replicas needs them)
  for i in 0 1 2 3 4 5; do
    wait_for 20 bash -c "redis-cli -p ${cluster_ports[$i]} info replication |
      grep -q 'role:slave' || redis-cli -p ${cluster_ports[$i]} info replication | grep -q 'state=online'"
  done
  redis_port=${cluster_ports[0]}
  redis_nodes=$(printf '127.0.0.1:%s,' "${cluster_ports[@]}")
  redis_nodes=${redis_nodes%,}
  echo "  Redis Cluster: 3 masters + 3 replicas on ports ${cluster_ports[*]}, ok after $((SECONDS - t0)) s"
}

# node_id PORT
node_id() {
  redis-cli -p "$1" cluster myid
}

# masters: the ports of the masters that own slots, as the seed node sees them.
masters() {
  redis-cli -p "$redis_port" cluster nodes |
    awk '$3 ~ /master/ && $3 !~ /fail/ && NF >= 9 { split($2, a, "[:@]"); print a[2] }' | sort -n
}

# replica_of PORT: the port of a replica of the master on PORT.
replica_of() {
  local id
  id=$(node_id "$1")
  redis-cli -p "$redis_port" cluster nodes |
    awk -v id="$id" '$4 == id && $3 ~ /slave/ { split($2, a, "[:@]"); print a[2]; exit }'
}

# role PORT: master or slave, as the node itself says.
role() {
  redis-cli -p "$1" role 2>/dev/null | head -1
}

# slots_of PORT: how many slots the master on PORT owns.
slots_of() {
  redis-cli -p "$redis_port" cluster nodes | awk -v p=":$1@" '
    index($2, p) { n = 0; for (i = 9; i <= NF; i++) { if ($i ~ /^\[/) continue;
      split($i, r, "-"); n += (r[2] == "" ? 1 : r[2] - r[1] + 1) } print n }'
}

# keys_on PORT: the keys held by the node on PORT.
keys_on() {
  redis-cli -p "$1" dbsize
}

# kill_node PORT: SIGKILL.
kill_node() {
  kill -9 "${cluster_pid[$1]}" 2>/dev/null || true
  wait "${cluster_pid[$1]}" 2>/dev/null || true
}

# restart_node PORT: the node at PORT again, empty, with its cluster config.
restart_node() {
  local i
  for i in 0 1 2 3 4 5; do
    [ "${cluster_ports[$i]}" = "$1" ] && start_node "$1" "${cluster_bus[$i]}"
  done
  return 0
}
