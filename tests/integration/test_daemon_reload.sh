#!/usr/bin/env bash
# Reloading hostile profiles: SIGHUP with a file nested 128 k levels deep is
# refused at level 64 with FILE:LINE:COLUMN, the running profiles stay and
# the endpoints keep answering; a burst of SIGHUPs ends with the newest file
# loaded; SIGTERM right after a SIGHUP stops cleanly; the settings check refuses
# what the engine would refuse at start, with the same message.
source "$(dirname "$0")/lib.sh"
cfg=$src/examples/customer-behavior.yaml
group=reload-$$

start_broker 2 -t healthscore.usage -t healthscore.engagement -t healthscore.billing \
  -t healthscore.surveys -t healthscore.accounts -t healthscore.alerts -t healthscore.deadletter
start_redis

# the one validation: check and start refuse a bad setting alike
engine_conf bad "$group-bad"
sed -i 's/^http:$/&\n  host: localhost/' "$work/bad.yaml"
rc=0
"$bin" check --settings "$work/bad.yaml" >"$work/check.out" 2>&1 || rc=$?
check "check --settings refuses http.host: localhost" test "$rc" -eq 1
check "... at its line and column" grep -q "bad.yaml:[0-9]*:9: http.host must be an IP address" "$work/check.out"
rc=0
"$daemon" --config "$work/bad.yaml" --check >"$work/dcheck.out" 2>&1 || rc=$?
check "healthscored --check refuses it too (exit 2)" test "$rc" -eq 2
rc=0
timeout 60 "$daemon" --config "$work/bad.yaml" >"$work/bad.log" 2>&1 || rc=$?
check "... and so does the start, with the same message" \
  bash -c "[ $rc -eq 2 ] && grep -qF \"\$(cat '$work/check.out')\" '$work/bad.log'"

cp "$cfg" "$work/profiles.yaml"
engine_conf d1 "$group"
sed -i "s|profiles: .*|profiles: $work/profiles.yaml|" "$work/d1.yaml"
start_daemon d1
check "healthscored becomes ready" wait_for 30 ready d1

reloads() { # RESULT COUNT
  bash -c "$(declare -f http_get metric); work=$work; [ \$(metric d1 'healthscore_config_reloads_total{result=\"$1\"}') -eq $2 ]"
}
python3 -c 'import sys; n = 1 << 17; sys.stdout.write("metrics: " + "[" * n + "]" * n + "\n")' \
  >"$work/profiles.yaml"
kill -HUP "$(cat "$work/d1.pid")"
check "SIGHUP with 128 k nested lists: refused and counted" wait_for 10 reloads error 1
check "... refused where the nesting passes 64 levels" \
  grep -q "reload of $work/profiles.yaml refused, the running profiles stay: $work/profiles.yaml:1:73: nesting deeper than 64" "$work/d1.log"
check "... /healthz answers" bash -c "$(declare -f http_get); work=$work; http_get d1 /healthz | grep -q ok"
check "... and the engine stays ready" ready d1

printf 'metrics: !!python/object:os.system {}\nprofiles: []\n' >"$work/profiles.yaml"
kill -HUP "$(cat "$work/d1.pid")"
check "SIGHUP with a tag: refused" wait_for 10 reloads error 2
check "... saying so" grep -q "profiles.yaml:1:10: tags are not supported" "$work/d1.log"

# a burst: a SIGHUP while a read runs asks for one more read once it ends,
# so the last file read is the newest
cp "$cfg" "$work/profiles.yaml"
sed -i 's/version: "1"/version: "2"/' "$work/profiles.yaml"
for i in 1 2 3 4 5; do kill -HUP "$(cat "$work/d1.pid")"; done
check "a burst of SIGHUPs with a good file: reloaded" wait_for 10 metric_at_least d1 'healthscore_config_reloads_total{result="ok"}' 1
# one SIGHUP more: reads run one at a time, so once one more read ends
# every read the burst asked for has ended
ok=$(metric d1 'healthscore_config_reloads_total{result="ok"}')
kill -HUP "$(cat "$work/d1.pid")"
check "... and one more" wait_for 10 metric_at_least d1 'healthscore_config_reloads_total{result="ok"}' $((ok + 1))
check "... no reload refused" reloads error 2
check "... the log names the new file" grep -q "profiles reloaded from $work/profiles.yaml" "$work/d1.log"

# a SIGHUP just before SIGTERM: the read is dropped or done, the stop is clean
kill -HUP "$(cat "$work/d1.pid")"
kill -TERM "$(cat "$work/d1.pid")"
rc=0
wait "$(cat "$work/d1.pid")" || rc=$?
check "SIGTERM right after a SIGHUP: exit 0" test "$rc" -eq 0
finish test_daemon_reload
