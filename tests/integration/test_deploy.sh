#!/usr/bin/env bash
# deploy/: the container recipe, the compose stack, the Kubernetes manifests,
# the systemd unit and the monitoring material are checked without Docker or
# a cluster:
#   1. yamllint (deploy/.yamllint) over every YAML file in deploy/; the
#      dashboard is valid JSON;
#   2. `kubectl kustomize` renders the base, the production, shadow and
#      production-split overlays and the dashboard ConfigMap; the rendered
#      objects hang together (probes, ports, selectors, settings and profiles
#      mounted, secrets provided); in production-split the engines run
#      --role engine and the healthscore-mapper Deployment --role mapper with
#      its sources' mapping files mounted;
#   3. `systemd-analyze verify` accepts the units (and rejects a broken copy);
#      the mapper's unit runs --role mapper;
#   4. every settings file passes `healthscore check --settings` and, with
#      its profiles, `healthscored --check`;
#   5. every metric named by the Grafana dashboard and the alert rules is
#      exposed by a running healthscored, with the labels they use;
#   6. the Dockerfile installs what the build and the binaries need; the
#      compose stack's files, topics and scrape targets agree.
# A missing tool fails the test: bash scripts/setup.sh installs them all.
source "$(dirname "$0")/lib.sh"
deploy=$src/deploy
export HS_TEST_ENV="REDIS_PASSWORD=test-redis KAFKA_PASSWORD=test-kafka POD_NAME=healthscored-0 HOSTNAME=vm-1 SCHEMA_REGISTRY_PASSWORD=test-registry"

have() {
  command -v "$1" >/dev/null || {
    echo "  $1 is missing: bash scripts/setup.sh installs it"
    return 1
  }
}
for tool in yamllint kubectl systemd-analyze python3 redis-server kcat curl dpkg-query ldd; do
  check "tool present: $tool" have "$tool"
done
check "python3 has the yaml module (python3-yaml, a yamllint dependency)" python3 -c 'import yaml'

# --- 1. yamllint -------------------------------------------------------------
mapfile -t yamls < <(cd "$deploy" && find . -name '*.yaml' -o -name '*.yml' | sort)
echo "yamllint: ${#yamls[@]} YAML files in deploy/ with deploy/.yamllint"
lint() {
  (cd "$deploy" && yamllint --strict -c .yamllint .) || {
    echo "  yamllint found problems (above)"
    return 1
  }
}
check "yamllint --strict passes on all ${#yamls[@]} YAML files" lint
check "the Grafana dashboard is valid JSON" python3 -m json.tool "$deploy/grafana/healthscore.json" /dev/null

# --- 2. kustomize ------------------------------------------------------------
kubectl version --client 2>/dev/null | head -n 2 | sed 's/^/  /'
render() { # NAME DIR
  if ! kubectl kustomize "$2" >"$work/render-$1.yaml" 2>"$work/render-$1.err"; then
    cat "$work/render-$1.err"
    return 1
  fi
  grep -v '^# Warning: .* is deprecated' "$work/render-$1.err" || true
  echo "  $2: $(grep -c '^kind:' "$work/render-$1.yaml") objects"
}
has_kinds() { # NAME KIND...
  local f=$work/render-$1.yaml k missing=0
  shift
  for k in "$@"; do
    grep -q "^kind: $k\$" "$f" || {
      echo "  no $k rendered"
      missing=1
    }
  done
  return $missing
}
base_kinds=(ServiceAccount Secret ConfigMap Service StatefulSet PodDisruptionBudget ServiceMonitor PrometheusRule)
check "kubectl kustomize deploy/k8s/base renders" render base "$deploy/k8s/base"
check "the base has ${base_kinds[*]}" has_kinds base "${base_kinds[@]}"
check "kubectl kustomize deploy/k8s/overlays/production renders" render production "$deploy/k8s/overlays/production"
check "production has Namespace ${base_kinds[*]}" has_kinds production Namespace "${base_kinds[@]}"
check "kubectl kustomize deploy/k8s/overlays/shadow renders" render shadow "$deploy/k8s/overlays/shadow"
check "shadow has Namespace ${base_kinds[*]}" has_kinds shadow Namespace "${base_kinds[@]}"
check "kubectl kustomize deploy/k8s/overlays/production-split renders" render split \
  "$deploy/k8s/overlays/production-split"
check "production-split has Namespace Deployment ${base_kinds[*]}" has_kinds split Namespace Deployment \
  "${base_kinds[@]}"
check "kubectl kustomize deploy/grafana renders" render grafana "$deploy/grafana"
check "deploy/grafana is the dashboard ConfigMap" has_kinds grafana ConfigMap

# The rendered objects, taken apart: the settings and profiles files of each
# ConfigMap are written to $work/k8s-NAME-{settings,profiles}.yaml.
k8s_consistent() { # NAME [WORKLOAD ROLE]: with two workloads, the one named, running --role ROLE
  python3 - "$work/render-$1.yaml" "$work/k8s-$1${2:+-$3}" "$@" <<'PY'
import re, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
out = sys.argv[2]
bad = []
def find(kind, name=None):
    return [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
def sel_matches(sel, labels):
    return all(labels.get(k) == v for k, v in sel.items())

name, role = (sys.argv[4], sys.argv[5]) if len(sys.argv) > 5 else (None, None)
sts = [w for w in find("StatefulSet") + find("Deployment") if name in (None, w["metadata"]["name"])]
if len(sts) != 1:
    print("  expected one StatefulSet or Deployment%s, got %d" % (" " + name if name else "", len(sts))); sys.exit(1)
w = sts[0]
spec = w["spec"]
pod = spec["template"]
podlabels = pod["metadata"]["labels"]
ps = pod["spec"]
c = ps["containers"][0]
if not sel_matches(spec["selector"]["matchLabels"], podlabels):
    bad.append("the workload's selector does not match its pod labels")
if isinstance(spec.get("volumeClaimTemplates"), dict):
    bad.append("a malformed volumeClaimTemplates (kustomize commonLabels on a StatefulSet)")
grace = ps.get("terminationGracePeriodSeconds", 30)
if grace < 30:
    bad.append("terminationGracePeriodSeconds %d does not cover the 25 s shutdown plus a flush" % grace)
for kind in ("requests", "limits"):
    for r in ("cpu", "memory"):
        if r not in c.get("resources", {}).get(kind, {}):
            bad.append("no resources.%s.%s" % (kind, r))
ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
probes = {}
for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
    g = c.get(probe, {}).get("httpGet", {})
    if g.get("path") != path:
        bad.append("%s is not GET %s" % (probe, path))
    probes[probe] = ports.get(g.get("port"), g.get("port"))
sc = c.get("securityContext", {})
if not (ps.get("securityContext", {}).get("runAsNonRoot") or sc.get("runAsNonRoot")):
    bad.append("the pod may run as root (no runAsNonRoot)")

# settings: the file named by --config, in a ConfigMap volume
args = c.get("args", []) + c.get("command", [])
cfg = args[args.index("--config") + 1] if "--config" in args else None
got_role = args[args.index("--role") + 1] if "--role" in args[:-1] else "all"
if role and got_role != role:
    bad.append("%s %s runs --role %s, not --role %s" % (w["kind"], w["metadata"]["name"], got_role, role))
# the ServiceMonitors and PodDisruptionBudgets of this workload's component
component = podlabels.get("app.kubernetes.io/component")
def mine(d):
    return name is None or d["metadata"].get("labels", {}).get("app.kubernetes.io/component") == component
mounts = {m["mountPath"].rstrip("/"): m["name"] for m in c.get("volumeMounts", [])}
vols = {v["name"]: v for v in ps.get("volumes", [])}
def file_of(path):
    d, f = path.rsplit("/", 1)
    v = vols.get(mounts.get(d), {})
    cm = v.get("configMap", {}).get("name")
    if cm is None:
        return None
    got = find("ConfigMap", cm)
    if not got:
        bad.append("ConfigMap %s mounted at %s is not rendered" % (cm, d)); return None
    data = got[0].get("data", {})
    if f not in data:
        bad.append("ConfigMap %s has no %s (for %s)" % (cm, f, path)); return None
    return data[f]
settings_text = file_of(cfg) if cfg else None
if settings_text is None:
    bad.append("--config names no file of a mounted ConfigMap")
else:
    open(out + "-settings.yaml", "w").write(settings_text)
    s = yaml.safe_load(settings_text)
    if role == "mapper":
        # no profiles; every mapping file is mounted. A copy of the settings
        # names the copies of the mapping files, for healthscored --check.
        if not s.get("sources"):
            bad.append("the mapper's settings have no sources:")
        for src in s.get("sources", []):
            for key in ("mapping", "schema"):
                text = file_of(src[key]) if key in src else None
                if text is not None:
                    open(out + "-" + src[key].rsplit("/", 1)[1], "w").write(text)
                    settings_text = settings_text.replace(src[key], out + "-" + src[key].rsplit("/", 1)[1])
        open(out + "-settings-local.yaml", "w").write(settings_text)
    else:
        prof = s.get("engine", {}).get("profiles", "/etc/healthscore/profiles.yaml")
        prof_text = file_of(prof)
        if prof_text is not None:
            open(out + "-profiles.yaml", "w").write(prof_text)
    http = s.get("http", {})
    port = http.get("port", 8080)
    if http.get("host", "127.0.0.1") != "0.0.0.0":
        bad.append("settings http.host is %r: the probes and Prometheus cannot reach it" % http.get("host"))
    for probe, p in probes.items():
        if p != port:
            bad.append("%s targets port %s, the settings serve %s" % (probe, p, port))
    # every value written "${NAME}" comes from the container's environment
    env = {e["name"]: e for e in c.get("env", [])}
    def values(node):
        if isinstance(node, dict):
            for v in node.values():
                yield from values(v)
        elif isinstance(node, list):
            for v in node:
                yield from values(v)
        else:
            yield node
    names = sorted({m.group(1) for v in values(s) if isinstance(v, str)
                    for m in [re.fullmatch(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", v)] if m})
    for name in names:
        if name not in env:
            bad.append("settings use ${%s}, the container has no such variable" % name)
    print("  settings %s: http %s:%s, from the environment: %s" % (cfg, http.get("host"), port, " ".join(names)))
for e in c.get("env", []):
    ref = e.get("valueFrom", {}).get("secretKeyRef")
    if ref:
        sec = find("Secret", ref["name"])
        if sec:
            keys = set(sec[0].get("data", {})) | set(sec[0].get("stringData", {}))
            if ref["key"] not in keys:
                bad.append("Secret %s has no key %s" % (ref["name"], ref["key"]))
        else:
            print("  %s comes from Secret %s, managed outside the manifests" % (e["name"], ref["name"]))

svc = [s for s in find("Service") if sel_matches(s["spec"].get("selector", {}), podlabels)
       and s["spec"].get("selector")]
if not svc:
    bad.append("no Service selects the pods")
else:
    svcport = {p["name"]: p for p in svc[0]["spec"]["ports"]}
    if not [sm for sm in find("ServiceMonitor") if mine(sm)]:
        bad.append("no ServiceMonitor scrapes the pods")
    for sm in filter(mine, find("ServiceMonitor")):
        if not sel_matches(sm["spec"]["selector"]["matchLabels"], svc[0]["metadata"].get("labels", {})):
            bad.append("ServiceMonitor %s does not select Service %s" % (sm["metadata"]["name"],
                                                                       svc[0]["metadata"]["name"]))
        for ep in sm["spec"]["endpoints"]:
            if ep.get("port") not in svcport:
                bad.append("ServiceMonitor port %s is not a port of the Service" % ep.get("port"))
            elif (svcport[ep["port"]].get("targetPort") not in ports
                  and svcport[ep["port"]].get("targetPort") not in ports.values()):
                bad.append("the Service's port %s does not lead to the container's admin port" % ep["port"])
            if ep.get("path", "/metrics") != "/metrics":
                bad.append("ServiceMonitor scrapes %s" % ep.get("path"))
for pdb in filter(mine, find("PodDisruptionBudget")):
    if not sel_matches(pdb["spec"]["selector"]["matchLabels"], podlabels):
        bad.append("PodDisruptionBudget does not select the pods")
alerts = {r.get("alert") for pr in find("PrometheusRule") for g in pr["spec"]["groups"] for r in g["rules"]}
for a in ("HealthscoreConsumerLagHigh", "HealthscoreDeadLetters", "HealthscoreRedisFlushFailures",
          "HealthscoreEngineStalled"):
    if a not in alerts:
        bad.append("PrometheusRule has no %s" % a)
print("  %s %s: --role %s, %d replicas, probes /healthz /readyz on %s, grace %ds, %d alert rules" % (
    w["kind"], w["metadata"]["name"], got_role, spec.get("replicas", 1), probes.get("livenessProbe"), grace,
    len(alerts)))
for b in bad:
    print("  " + b)
sys.exit(1 if bad else 0)
PY
}
check "base: workload, probes, ports, selectors, ConfigMap and Secret agree" k8s_consistent base
check "production: workload, probes, ports, selectors, ConfigMap and Secret agree" k8s_consistent production
check "shadow: workload, probes, ports, selectors, ConfigMap and Secret agree" k8s_consistent shadow
shadow_apart() {
  python3 - "$work/k8s-production-settings.yaml" "$work/k8s-shadow-settings.yaml" <<'PY'
import sys, yaml
prod, shadow = (yaml.safe_load(open(f)) for f in sys.argv[1:3])
bad = []
for section, key, default in (("kafka", "group_id", "healthscore"), ("redis", "prefix", "hs"),
                              ("kafka", "alerts_topic", "healthscore.alerts"),
                              ("kafka", "deadletter_topic", "healthscore.deadletter")):
    a, b = (x.get(section, {}).get(key, default) for x in (prod, shadow))
    print("  %s.%s: production %s, shadow %s" % (section, key, a, b))
    if a == b:
        bad.append("the shadow shares %s.%s with production" % (section, key))
for k in ("bootstrap", "topics"):
    if prod["kafka"].get(k) != shadow["kafka"].get(k):
        bad.append("the shadow reads other input than production (kafka.%s)" % k)
for b in bad:
    print("  " + b)
sys.exit(1 if bad else 0)
PY
}
check "the shadow reads production's input with its own group, prefix, alerts and dead-letter topics" shadow_apart
check "production-split: the engine StatefulSet runs --role engine; probes, ports, selectors, ConfigMap agree" \
  k8s_consistent split healthscored engine
check "production-split: the Deployment healthscore-mapper runs --role mapper; probes, ports, scrape, mappings agree" \
  k8s_consistent split healthscore-mapper mapper
split_apart() {
  python3 - "$work/k8s-production-settings.yaml" "$work/k8s-split-engine-settings.yaml" \
    "$work/k8s-split-mapper-settings.yaml" <<'PY'
import sys, yaml
prod, engine, mapper = (yaml.safe_load(open(f)) for f in sys.argv[1:4])
bad = []
if engine != prod:
    bad.append("the engines' settings differ from production's")
if "sources" in engine:
    bad.append("the engines' settings have sources: (the mapper reads them)")
for key in ("bootstrap", "group_id", "topics", "deadletter_topic", "client"):
    if engine["kafka"].get(key) != mapper["kafka"].get(key):
        bad.append("the mapper's kafka.%s differs from the engines'" % key)
if "instance_id" in mapper["kafka"]:
    bad.append("the mapper sets kafka.instance_id: a Deployment's pod names are not stable")
for src in mapper.get("sources", []):
    if src["topic"] in engine["kafka"]["topics"]:
        bad.append("source topic %s is an input topic" % src["topic"])
    if src.get("to", engine["kafka"]["topics"][0]) not in engine["kafka"]["topics"]:
        bad.append("source %s goes to %s, not an input topic" % (src["topic"], src.get("to")))
print("  mapper group %s.mapper: %s" % (mapper["kafka"].get("group_id", "healthscore"), ", ".join(
    "%s -> %s" % (s["topic"], s.get("to", engine["kafka"]["topics"][0])) for s in mapper.get("sources", []))))
for b in bad:
    print("  " + b)
sys.exit(1 if bad else 0)
PY
}
check "production-split: the engines keep production's settings; the mapper reads the same Kafka, into the input topics" \
  split_apart
for m in "$deploy"/k8s/overlays/production-split/mappings/*.yaml; do
  check "production-split's mappings/$(basename "$m") is examples/mappings/$(basename "$m")" cmp "$m" \
    "$src/examples/mappings/$(basename "$m")"
done
check "the base's profiles are examples/eight-categories.yaml" cmp "$deploy/k8s/base/profiles.yaml" \
  "$src/examples/eight-categories.yaml"

# --- 3. systemd unit ---------------------------------------------------------
# verify insists that ExecStart's program exists: a copy of the unit runs the
# binaries of this build instead of /usr/local/bin's. Any message is a failure.
unit=$deploy/systemd/healthscored.service
mkdir -p "$work/unit" "$work/unit-broken"
sed "s#/usr/local/bin/healthscored#$daemon#g" "$unit" >"$work/unit/healthscored.service"
verify_unit() { # DIR
  local out rc=0
  out=$(cd "$1" && systemd-analyze verify ./healthscored.service 2>&1) || rc=$?
  [ -z "$out" ] || echo "$out" | sed 's/^/  /'
  [ "$rc" -eq 0 ] && [ -z "$out" ]
}
check "systemd-analyze verify accepts deploy/systemd/healthscored.service" verify_unit "$work/unit"
sed 's/^Restart=on-failure/Restart=on-failur/' "$work/unit/healthscored.service" >"$work/unit-broken/healthscored.service"
broken_unit_rejected() {
  ! verify_unit "$work/unit-broken" >/dev/null
}
check "systemd-analyze verify rejects a copy with a typo (the check can fail)" broken_unit_rejected
unit_has() {
  grep -Eq "^$1" "$unit" || {
    echo "  $unit has no $1"
    return 1
  }
}
unit_ok() {
  local ok=0 k
  for k in "Type=(simple|exec)" "User=healthscore" \
    "ExecStart=/usr/local/bin/healthscored --config /etc/healthscore/healthscored.yaml$" \
    'ExecReload=/bin/kill -HUP \$MAINPID' "KillSignal=SIGTERM" "TimeoutStopSec=(3[0-9]|[4-9][0-9])" \
    "Restart=on-failure" "EnvironmentFile=" "LimitNOFILE=" "NoNewPrivileges=yes" "ProtectSystem=strict"; do
    unit_has "$k" || ok=1
  done
  return $ok
}
check "the unit runs as healthscore, reloads with SIGHUP, gives SIGTERM 30+ s, is hardened" unit_ok
# The mapper's unit: the same checks, and the mapper role.
mapper_unit=$deploy/systemd/healthscore-mapper.service
mkdir -p "$work/mapper-unit"
sed "s#/usr/local/bin/healthscored#$daemon#g" "$mapper_unit" >"$work/mapper-unit/healthscore-mapper.service"
verify_mapper_unit() {
  local out rc=0
  out=$(cd "$work/mapper-unit" && systemd-analyze verify ./healthscore-mapper.service 2>&1) || rc=$?
  [ -z "$out" ] || echo "$out" | sed 's/^/  /'
  [ "$rc" -eq 0 ] && [ -z "$out" ]
}
check "systemd-analyze verify accepts deploy/systemd/healthscore-mapper.service" verify_mapper_unit
mapper_unit_ok() {
  local ok=0 k
  for k in "Type=(simple|exec)" "User=healthscore" \
    "ExecStartPre=/usr/local/bin/healthscored --config /etc/healthscore/healthscore-mapper.yaml --role mapper --check$" \
    "ExecStart=/usr/local/bin/healthscored --config /etc/healthscore/healthscore-mapper.yaml --role mapper$" \
    'ExecReload=/bin/kill -HUP \$MAINPID' "KillSignal=SIGTERM" "TimeoutStopSec=(3[0-9]|[4-9][0-9])" \
    "Restart=on-failure" "EnvironmentFile=-/etc/healthscore/healthscored.env$" "NoNewPrivileges=yes" \
    "ProtectSystem=strict"; do
    grep -Eq "^$k" "$mapper_unit" || {
      echo "  $mapper_unit has no $k"
      ok=1
    }
  done
  return $ok
}
check "the mapper's unit runs --role mapper with its settings, reloads with SIGHUP, is hardened" mapper_unit_ok
check "healthscored --help documents the --config the unit uses" bash -c "'$daemon' --help | grep -q -- '--config FILE'"

# --- 4. settings and profiles ------------------------------------------------
settings_files=("$deploy/compose/healthscored.yaml" "$deploy/systemd/healthscored.yaml"
  "$work/k8s-base-settings.yaml" "$work/k8s-production-settings.yaml" "$work/k8s-shadow-settings.yaml"
  "$work/k8s-split-engine-settings.yaml")
settings_ok() { # FILE PROFILES
  # shellcheck disable=SC2086
  env $HS_TEST_ENV "$bin" check --settings "$1" &&
    env $HS_TEST_ENV "$daemon" --config "$1" --profiles "$2" --check
}
for f in "${settings_files[@]}"; do
  profiles=$src/examples/eight-categories.yaml
  case $f in "$work"/k8s-*) profiles=${f%-settings.yaml}-profiles.yaml ;; esac
  check "settings $(basename "$(dirname "$f")")/$(basename "$f") pass healthscore check --settings and healthscored --check" \
    settings_ok "$f" "$profiles"
done
mapper_settings_ok() { # FILE: the mapper's settings, with the mapping files they name
  # shellcheck disable=SC2086
  env $HS_TEST_ENV "$bin" check --settings "$1" &&
    env $HS_TEST_ENV "$daemon" --config "$1" --role mapper --check
}
check "production-split: the mapper's settings and mappings pass healthscore check --settings and healthscored --role mapper --check" \
  mapper_settings_ok "$work/k8s-split-mapper-settings-local.yaml"
sed "s#/etc/healthscore/mappings/#$src/examples/mappings/#" "$deploy/systemd/healthscore-mapper.yaml" \
  >"$work/systemd-mapper-settings-local.yaml"
check "systemd: healthscore-mapper.yaml with examples/mappings passes healthscore check --settings and healthscored --role mapper --check" \
  mapper_settings_ok "$work/systemd-mapper-settings-local.yaml"
vm_ports_apart() {
  python3 - "$deploy/systemd/healthscored.yaml" "$deploy/systemd/healthscore-mapper.yaml" <<'PY'
import sys, yaml
engine, mapper = (yaml.safe_load(open(f)) for f in sys.argv[1:3])
bad = []
if engine.get("http", {}).get("port", 8080) == mapper.get("http", {}).get("port", 8080):
    bad.append("the mapper and the engine serve the same admin port on one host")
for key in ("bootstrap", "group_id", "topics", "deadletter_topic", "client"):
    if engine["kafka"].get(key) != mapper["kafka"].get(key):
        bad.append("the mapper's kafka.%s differs from the engine's" % key)
if "sources" in engine:
    bad.append("the engine's settings have sources: (healthscore-mapper reads them)")
for b in bad:
    print("  " + b)
sys.exit(1 if bad else 0)
PY
}
check "systemd: the mapper reads the engine's Kafka and serves another admin port" vm_ports_apart
check "the profiles of the base ConfigMap pass healthscore check" "$bin" check --quiet "$work/k8s-base-profiles.yaml"
for o in production shadow; do
  check "the profiles of the $o ConfigMap pass healthscore check" "$bin" check --quiet "$work/k8s-$o-profiles.yaml"
done
check "a settings file with an unknown key is refused (the check can fail)" bash -c \
  "printf 'kafka:\n  bootstrapp: x\n' >'$work/bad.yaml'; ! '$bin' check --settings '$work/bad.yaml' 2>/dev/null"
# settings_vars FILE: the NAMEs of the values written "${NAME}" in a settings file.
settings_vars() {
  python3 - "$1" <<'PY'
import re, sys, yaml
def values(node):
    if isinstance(node, dict):
        for v in node.values():
            yield from values(v)
    elif isinstance(node, list):
        for v in node:
            yield from values(v)
    elif isinstance(node, str):
        m = re.fullmatch(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", node)
        if m:
            yield m.group(1)
print("\n".join(sorted(set(values(yaml.safe_load(open(sys.argv[1])))))))
PY
}
env_provided() { # SETTINGS NAME... : every ${VAR} of SETTINGS is one of NAME...
  local f=$1 v bad=0
  shift
  for v in $(settings_vars "$f"); do
    case " $* " in *" $v "*) ;; *)
      echo "  $f uses \${$v}, which is not provided"
      bad=1
      ;;
    esac
  done
  return $bad
}
systemd_env=$(sed -n 's/^\([A-Z_][A-Z0-9_]*\)=.*/\1/p' "$deploy/systemd/healthscored.env.example"
  sed -n 's/^Environment=\([A-Z_][A-Z0-9_]*\)=.*/\1/p' "$unit")
# shellcheck disable=SC2086
check "systemd: the settings' \${VARS} are in the env file or the unit ($(echo $systemd_env))" \
  env_provided "$deploy/systemd/healthscored.yaml" $systemd_env
# shellcheck disable=SC2086
check "systemd: the mapper settings' \${VARS} are in the env file ($(echo $systemd_env))" \
  env_provided "$deploy/systemd/healthscore-mapper.yaml" $systemd_env
check "compose: the settings' \${VARS} are set by Docker (HOSTNAME)" \
  env_provided "$deploy/compose/healthscored.yaml" HOSTNAME

# --- 5. metrics used by the dashboard and the alert rules --------------------
# A live healthscored with the base's profiles and a source (the mapper's
# metrics, which the source alerts read): events, one bad message (a dead
# letter) and a reload, so that labelled series and histograms exist.
start_broker 4 -t healthscore.usage -t healthscore.engagement -t healthscore.billing \
  -t healthscore.surveys -t healthscore.accounts -t healthscore.alerts -t healthscore.deadletter \
  -t segment:2
start_redis
engine_conf d1 deploy-$$ "sources:" "  - {topic: segment, format: json, mapping: $src/examples/mappings/segment.yaml}"
"$daemon" --config "$work/d1.yaml" --profiles "$work/k8s-base-profiles.yaml" >>"$work/d1.log" 2>&1 &
echo $! >"$work/d1.pid"
pids+=($!)
check "healthscored with the deployed profiles becomes ready" wait_for 30 ready d1
"$bin" gen --accounts 60 --days 45 --seed 5 --kafka "$bs" --quiet
printf 'not json' | kcat -b "$bs" -P -t healthscore.usage -k acct-000001 -p 0 2>/dev/null
n=$("$bin" gen --accounts 60 --days 45 --seed 5 --quiet | wc -l)
check "healthscored drains $n events and a bad message" wait_for 30 drained $((n + 1)) d1
kill -HUP "$(cat "$work/d1.pid")"
# consumer lag comes with librdkafka's statistics, every 5 s
check "healthscored reports its consumer lag" wait_for 15 bash -c \
  "curl -sf http://127.0.0.1:$(cat "$work/d1.port")/metrics | grep -q '^healthscore_consumer_lag{'"
http_get d1 /metrics >"$work/metrics.txt"
echo "  /metrics: $(grep -c '^# TYPE' "$work/metrics.txt") families, $(grep -vc '^#' "$work/metrics.txt") samples"

metrics_used() {
  python3 - "$work/metrics.txt" "$deploy/grafana/healthscore.json" "$deploy/compose/prometheus/rules.yaml" \
    "$work/render-base.yaml" "$work/render-production.yaml" "$work/render-shadow.yaml" <<'PY'
import json, re, sys, yaml

# the live exposition: sample names with their label names; families by type
samples, types = {}, {}
for line in open(sys.argv[1]):
    if line.startswith("# TYPE "):
        _, _, name, kind = line.split()
        types[name] = kind
    elif line.strip() and not line.startswith("#"):
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s", line)
        samples.setdefault(m.group(1), set()).update(re.findall(r'([a-zA-Z_]\w*)="', m.group(2) or ""))

# every expression, with where it comes from
exprs = []
dash = json.load(open(sys.argv[2]))
def walk(node, where):
    if isinstance(node, dict):
        where = "panel " + node["title"] if "title" in node else where
        if isinstance(node.get("expr"), str):
            exprs.append((where, node["expr"]))
        for v in node.values():
            walk(v, where)
    elif isinstance(node, list):
        for v in node:
            walk(v, where)
walk(dash.get("panels", []), "dashboard")
for var in dash.get("templating", {}).get("list", []):
    q = var.get("query")
    q = q.get("query") if isinstance(q, dict) else q
    if var.get("type") == "query" and q:
        exprs.append(("dashboard variable $" + var["name"], q))
for path in sys.argv[4:]:
    for d in yaml.safe_load_all(open(path)):
        if d and d["kind"] == "PrometheusRule":
            for g in d["spec"]["groups"]:
                for r in g["rules"]:
                    exprs.append(("rule %s (%s)" % (r.get("alert", r.get("record", "?")),
                                                   path.rsplit("render-", 1)[-1]), r["expr"]))
for g in yaml.safe_load(open(sys.argv[3]))["groups"]:
    for r in g["rules"]:
        exprs.append(("compose rule " + r.get("alert", "?"), r["expr"]))

TARGET_LABELS = {"job", "instance", "namespace", "pod", "service", "container", "endpoint"}
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
            "offset", "bool", "inf", "nan"}
FUNCTIONS = {"abs", "absent", "absent_over_time", "avg", "avg_over_time", "bottomk", "ceil", "changes",
             "clamp", "clamp_max", "clamp_min", "count", "count_over_time", "count_values", "delta",
             "deriv", "exp", "floor", "group", "histogram_quantile", "idelta", "increase", "irate",
             "label_join", "label_replace", "last_over_time", "ln", "log2", "log10", "max",
             "max_over_time", "min", "min_over_time", "predict_linear", "present_over_time", "quantile",
             "quantile_over_time", "rate", "resets", "round", "scalar", "sgn", "sort", "sort_desc", "sqrt",
             "stddev", "stddev_over_time", "stdvar", "sum", "sum_over_time", "time", "timestamp", "topk",
             "vector"}
bad, used, notes = [], {}, set()

def balanced(e):
    depth = {"(": 0, "[": 0, "{": 0}
    close = {")": "(", "]": "[", "}": "{"}
    for ch in e:
        if ch in depth:
            depth[ch] += 1
        elif ch in close:
            depth[close[ch]] -= 1
            if depth[close[ch]] < 0:
                return False
    return not any(depth.values())

for where, e in exprs:
    extra_labels = []
    m = re.fullmatch(r"\s*label_values\((.*),\s*([a-zA-Z_]\w*)\s*\)\s*", e, re.S)
    if m:  # Grafana's label_values(SELECTOR, LABEL)
        e, extra_labels = m.group(1), [m.group(2)]
    e = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', e)  # strings
    e = re.sub(r"\$\{?\w+\}?", "5m", e)                                     # Grafana variables
    if not balanced(e):
        bad.append("%s: unbalanced brackets in %r" % (where, e)); continue
    names = []
    selectors = re.findall(r"([a-zA-Z_:][\w:]*)\s*\{([^}]*)\}", e)
    e = re.sub(r"\{[^}]*\}", " ", e)
    e = re.sub(r"\[[^\]]*\]", " ", e)
    groupings = re.findall(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)", e)
    e = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    for tok in re.finditer(r"(?<![\w.:])([a-zA-Z_:][\w:]*)(?![\w:])", e):
        word = tok.group(1)
        if word in KEYWORDS:
            continue
        if e[tok.end():].lstrip().startswith("("):
            if word not in FUNCTIONS:
                bad.append("%s: unknown function %s" % (where, word))
            continue
        names.append(word)
    if not names:
        bad.append("%s: no metric in %r" % (where, e.strip())); continue
    labels_here = set()
    for n in names:
        used.setdefault(n, set()).add(where)
        base = re.sub(r"_(bucket|sum|count)$", "", n)
        if n in samples:
            labels_here |= samples[n]
        elif types.get(n) == "histogram":
            bad.append("%s: %s is a histogram: use %s_bucket, _sum or _count" % (where, n, n))
        elif n in types or (base != n and types.get(base) == "histogram"):
            notes.add(n)  # declared, no series yet (e.g. no failed produce so far)
        else:
            bad.append("%s: %s is not exposed by healthscored" % (where, n))
    for n, matchers in selectors:
        for label in re.findall(r"([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)", matchers):
            if label not in TARGET_LABELS and n in samples and label not in samples[n]:
                bad.append("%s: %s has no label %s" % (where, n, label))
    for g in groupings:
        for label in [l.strip() for l in g.split(",") if l.strip()] + extra_labels:
            if label not in TARGET_LABELS and label not in labels_here and not (notes & set(names)):
                bad.append("%s: no metric of the expression has a label %s" % (where, label))

print("  %d expressions (dashboard, PrometheusRule of base, production and shadow, compose rules) use %d metrics:"
      % (len(exprs), len(used)))
for n in sorted(used):
    print("    %s%s" % (n, "  (declared, no series in this run)" if n in notes else ""))
for b in bad:
    print("  " + b)
sys.exit(1 if bad else 0)
PY
}
check "every metric and label in the dashboard and the alert rules is exposed by healthscored" metrics_used
kill -TERM "$(cat "$work/d1.pid")"
check "healthscored stops with exit 0" wait "$(cat "$work/d1.pid")"

# --- 6. Dockerfile, compose, runbook -----------------------------------------
dockerfile_ok() {
  python3 - "$deploy/Dockerfile" "$src/scripts/setup.sh" "$bin" "$daemon" <<'PY'
import re, subprocess, sys
text = open(sys.argv[1]).read().replace("\\\n", " ")
stages = re.split(r"(?m)^FROM\s+", text)[1:]
bad = []
if len(stages) != 2:
    print("  expected two stages (build, runtime), got %d" % len(stages)); sys.exit(1)
def installed(stage):
    pkgs = set()
    for run in re.findall(r"(?m)^RUN (.*)$", stage):
        for part in run.split("&&"):
            if "apt-get install" in part:
                pkgs |= {w for w in part.split() if re.fullmatch(r"[a-z0-9][a-z0-9.+-]+", w)} - {"apt-get", "install",
                                                                                               "env"}
    return pkgs
build, runtime = stages
if not re.match(r"debian:(\$\{DEBIAN_RELEASE\}|bookworm|12)\s", build) or "DEBIAN_RELEASE=bookworm" not in text:
    bad.append("the build stage is not Debian 12 (bookworm)")
if not re.match(r"debian:(\$\{DEBIAN_RELEASE\}-slim|bookworm-slim|12-slim)\s", runtime):
    bad.append("the runtime stage is not debian:12-slim")
setup = open(sys.argv[2]).read()
want = set(re.findall(r"\blib[a-z0-9.+-]+-dev\b", setup)) - {"libcmocka-dev", "libclang-rt-14-dev"}
want |= {"cmake", "ninja-build", "pkg-config"}
for p in sorted(want - installed(build)):
    bad.append("the build stage does not install %s (scripts/setup.sh does)" % p)
if "CMAKE_BUILD_TYPE=Release" not in build:
    bad.append("the build is not a Release build")
rt = installed(runtime)
if any(p.endswith("-dev") for p in rt):
    bad.append("the runtime stage installs -dev packages: %s" % sorted(p for p in rt if p.endswith("-dev")))
# the runtime packages (and their dependencies, and Debian's required
# packages, which debian:12-slim has) cover every library the binaries load
rows = subprocess.run(["dpkg-query", "-W", "-f", "${Package}\t${Priority}\t${Depends}, ${Pre-Depends}\n"],
                      capture_output=True, text=True).stdout.splitlines()
deps, have = {}, set()
for row in rows:
    name, prio, dep = row.split("\t")
    deps[name] = {re.split(r"[\s(:]", alt.strip())[0] for d in dep.split(",") for alt in d.split("|")[:1]
                  if alt.strip()}
    if prio == "required":
        have.add(name)
todo = list(rt | have)
while todo:
    p = todo.pop()
    for d in deps.get(p, ()):
        if d not in have and d not in rt:
            have.add(d); todo.append(d)
have |= rt
for binary in sys.argv[3:5]:
    for line in subprocess.run(["ldd", binary], capture_output=True, text=True).stdout.splitlines():
        m = re.search(r"=> (/\S+)", line)
        if not m or re.search(r"lib(a|ub|l|t)san", m.group(1)):
            continue
        owner = None
        for path in (m.group(1), subprocess.run(["readlink", "-f", m.group(1)], capture_output=True,
                                                text=True).stdout.strip()):
            r = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
            if r.returncode == 0:
                owner = r.stdout.split(":")[0]; break
        if owner is None:
            bad.append("%s: no Debian package owns %s" % (binary, m.group(1)))
        elif owner not in have:
            bad.append("%s needs %s from %s, which the runtime stage does not install" % (binary, m.group(1), owner))
copies = re.findall(r"(?m)^COPY --from=build (.*)$", runtime)
progs = sorted(w.rsplit("/", 1)[-1] for c in copies for w in c.split()[:-1])
if progs != ["healthscore", "healthscored"]:
    bad.append("the runtime stage copies %s from the build, not the two programs" % progs)
user = re.findall(r"(?m)^USER\s+(\S+)", runtime)
if not user or user[-1].split(":")[0] in ("root", "0"):
    bad.append("the runtime stage does not switch to a non-root USER")
if not re.search(r'(?m)^ENTRYPOINT \["healthscored"\]', runtime):
    bad.append("the ENTRYPOINT is not healthscored")
if not re.search(r"(?m)^EXPOSE 8080\b", runtime):
    bad.append("the admin port 8080 is not EXPOSEd")
print("  build stage: %d packages; runtime stage: %s" % (len(installed(build)), " ".join(sorted(rt))))
for b in bad:
    print("  " + b)
sys.exit(1 if bad else 0)
PY
}
check "Dockerfile: bookworm build with setup.sh's -dev packages; slim runtime with every library, two programs, non-root" \
  dockerfile_ok

# The topic script with a stand-in for kafka-topics.sh that records its calls.
cat >"$work/kafka-topics" <<'SH'
#!/usr/bin/env bash
echo "$*" >>"$TOPICS_LOG"
case " $* " in *" --describe "*)
  t=$(echo "$*" | sed -n 's/.*--topic \([^ ]*\).*/\1/p')
  printf 'Topic: %s\tTopicId: x\tPartitionCount: %s\tReplicationFactor: 1\tConfigs:\n' "$t" "${FAKE_COUNT:-$PARTITIONS}"
  ;;
esac
SH
chmod +x "$work/kafka-topics"
compose_ok() {
  TOPICS_LOG=$work/topics.log KAFKA_TOPICS=$work/kafka-topics PARTITIONS=12 \
    bash "$deploy/compose/create-topics.sh" >"$work/create-topics.out" || return 1
  python3 - "$deploy/compose" "$work/topics.log" <<'PY'
import os, re, sys, yaml
d = sys.argv[1]
compose = yaml.safe_load(open(os.path.join(d, "compose.yaml")))
svcs = compose["services"]
bad = []
for name in ("kafka", "kafka-init", "redis", "prometheus", "grafana"):
    if name not in svcs:
        bad.append("no service %s" % name)
k = svcs.get("kafka", {})
if not str(k.get("image", "")).startswith("apache/kafka:"):
    bad.append("kafka is not the apache/kafka image")
if "controller" not in str(k.get("environment", {}).get("KAFKA_PROCESS_ROLES", "")):
    bad.append("kafka is not in KRaft mode (KAFKA_PROCESS_ROLES)")
if "create-topics.sh" not in " ".join(map(str, svcs.get("kafka-init", {}).get("entrypoint", []))):
    bad.append("kafka-init does not run create-topics.sh")
rcmd = " ".join(map(str, svcs.get("redis", {}).get("command", [])))
if "--appendonly yes" not in rcmd:
    bad.append("redis runs without --appendonly yes")
engines = {n: s for n, s in svcs.items() if "--config" in s.get("command", [])}
if len(engines) < 2:
    bad.append("fewer than two healthscored replicas")
targets = set()
for n, s in engines.items():
    cmd = s["command"]
    cfg = cmd[cmd.index("--config") + 1]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in s.get("volumes", []) if isinstance(v, str)}
    if cfg not in mounts:
        bad.append("%s: --config %s is not mounted" % (n, cfg)); continue
    settings = yaml.safe_load(open(os.path.join(d, mounts[cfg])))
    prof = settings.get("engine", {}).get("profiles")
    if prof not in mounts:
        bad.append("%s: engine.profiles %s is not mounted" % (n, prof))
    http = settings.get("http", {})
    if http.get("host") != "0.0.0.0":
        bad.append("%s: http.host is not 0.0.0.0 (Prometheus could not scrape it)" % n)
    targets.add("%s:%s" % (s.get("hostname", n), http.get("port", 8080)))
    grace = str(s.get("stop_grace_period", "10s"))
    if not re.fullmatch(r"([3-9]\d|\d{3,})s", grace):
        bad.append("%s: stop_grace_period %s is shorter than the 25 s shutdown plus a flush" % (n, grace))
for n, s in svcs.items():
    for v in s.get("volumes", []):
        srcpath = v.split(":")[0] if isinstance(v, str) else ""
        if srcpath.startswith(".") and not os.path.exists(os.path.join(d, srcpath)):
            bad.append("%s mounts %s, which does not exist" % (n, srcpath))
prom = yaml.safe_load(open(os.path.join(d, "prometheus", "prometheus.yaml")))
scraped = {t for j in prom["scrape_configs"] if j["job_name"] == "healthscored"
           for sc in j.get("static_configs", []) for t in sc["targets"]}
if scraped != targets:
    bad.append("Prometheus scrapes %s, the replicas are %s" % (sorted(scraped), sorted(targets)))
for rf in prom.get("rule_files", []):
    if not os.path.exists(os.path.join(d, "prometheus", os.path.basename(rf))):
        bad.append("Prometheus rule file %s is not in prometheus/" % rf)
k8s_groups = yaml.safe_load(open(os.path.join(d, "..", "k8s", "base", "prometheusrule.yaml")))["spec"]["groups"]
if yaml.safe_load(open(os.path.join(d, "prometheus", "rules.yaml")))["groups"] != k8s_groups:
    bad.append("prometheus/rules.yaml differs from the groups of k8s/base/prometheusrule.yaml")
# the topics the script creates: every topic of the settings, inputs with one count
settings = yaml.safe_load(open(os.path.join(d, "healthscored.yaml")))["kafka"]
created = {}
for line in open(sys.argv[2]):
    m = re.search(r"--create .*--topic (\S+) --partitions (\d+)", line)
    if m:
        created[m.group(1)] = int(m.group(2))
inputs = settings.get("topics")
for t in inputs + [settings.get("alerts_topic"), settings.get("deadletter_topic")]:
    if t not in created:
        bad.append("create-topics.sh does not create %s" % t)
if len({created.get(t) for t in inputs}) != 1:
    bad.append("the input topics get different partition counts: %s" % {t: created.get(t) for t in inputs})
print("  services: %s; Prometheus scrapes %s; topics created: %s" % (
    " ".join(svcs), " ".join(sorted(scraped)), " ".join("%s:%s" % kv for kv in sorted(created.items()))))
for b in bad:
    print("  " + b)
sys.exit(1 if bad else 0)
PY
}
check "compose: Kafka KRaft, topics, Redis AOF, two replicas, mounts, scrape targets, rules agree" compose_ok
check "create-topics.sh fails when an input topic has another partition count" bash -c \
  "! TOPICS_LOG=/dev/null KAFKA_TOPICS='$work/kafka-topics' PARTITIONS=12 FAKE_COUNT=8 bash '$deploy/compose/create-topics.sh' >/dev/null 2>&1"

runbook_anchors() {
  python3 - "$src/docs/runbook.md" "$deploy/k8s/base/prometheusrule.yaml" <<'PY'
import re, sys
slug = lambda h: re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
anchors = {slug(m) for m in re.findall(r"(?m)^#{1,6}\s+(.*)$", open(sys.argv[1]).read())}
refs = set(re.findall(r"runbook\.md#([\w-]+)", open(sys.argv[2]).read()))
missing = sorted(refs - anchors)
print("  %d runbook sections referenced by the alerts%s" % (len(refs), ", missing: " + " ".join(missing) if missing else ""))
sys.exit(1 if missing else 0)
PY
}
check "every runbook section an alert points to exists in docs/runbook.md" runbook_anchors

finish deploy
