#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing, then
#   1. builds everything with -Werror and runs every test (ctest),
#   2. builds with AddressSanitizer + UndefinedBehaviorSanitizer what it
#      runs (the tool, the daemon, the unit tests) and runs the unit tests
#      (but replay's and tune's tool tests) and healthscored's live, signal
#      and eviction tests (a leak, a memory error or undefined behaviour
#      fails),
#   3. runs the unit tests under valgrind, twice as many at a time as there
#      are cores (leaks and memory errors fail), with fewer seeds and fewer
#      hostile connections (HS_TEST_SEEDS=5, HS_TEST_HOSTILE=400),
#   4. checks clang-format on every C (and C++) source,
#   5. builds the libFuzzer targets with clang and runs them side by side,
#      each over its corpus
#      and then for HS_FUZZ_SECONDS (default 10; longer runs are for
#      `cmake --preset fuzz`, docs/development.md),
#   6. runs the benchmark harness at tiny sizes (SMOKE=1) on the build of
#      stage 1, so that it never rots; its timings are printed, never judged.
# Every stage runs; the summary at the end lists each with PASS or FAIL.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)
fuzz_seconds=${HS_FUZZ_SECONDS:-10}

bash scripts/setup.sh || exit 1

declare -a names results times
stage() {
  local name=$1
  shift
  echo
  echo "=== $name"
  local t0=$SECONDS
  if "$@"; then results+=(PASS); else results+=(FAIL); fi
  names+=("$name")
  times+=($((SECONDS - t0)))
}

# ctest runs three times as many tests as there are cores: the daemon's
# tests spend most of their time waiting (a paced stream, the group
# protocol, timers); a test that keeps a core busy takes one slot of the
# resource `cores` (tests/CMakeLists.txt), of which there are as many as
# cores, so that those never outnumber the cores.
cores_spec() {
  printf '{"version": {"major": 1, "minor": 0}, "local": [{"cores": [{"id": "0", "slots": %d}]}]}\n' \
    "$jobs" >"$1"
}

build_and_test() {
  cmake -S . -B build/dev -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHS_WERROR=ON >/dev/null &&
    cmake --build build/dev -j "$jobs" && cores_spec build/dev/cores.json &&
    (cd build/dev && ctest --output-on-failure -j "$((3 * jobs))" --resource-spec-file cores.json)
}

# replay's and tune's tool tests replay tens of thousands of accounts through
# the binary many times: minutes under ASan. The reader, the report and the
# tools' code paths run under ASan in test_tool_event_reader, test_report_*
# and test_tool_gen; these two run in the first stage. The arrival-order
# property runs 200 seeds in the first stage; a memory error shows on any
# path, so 20 seeds here and 5 under valgrind cover its code.
asan_skip='^test_tool_(replay|tune)$'

# The targets the sanitizers' stage runs: the unit test programs (but those
# of asan_skip), the tool and the daemon; not the benchmarks, which stage 6
# runs from stage 1's build.
asan_targets() {
  local f name
  echo healthscore healthscored
  for f in tests/unit/test_*.c; do
    name=$(basename "$f" .c)
    [[ $name =~ $asan_skip ]] || echo "$name"
  done
}

sanitizers() {
  cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug \
    -DHS_SANITIZE=address,undefined >/dev/null &&
    cmake --build build/asan -j "$jobs" --target $(asan_targets) && cores_spec build/asan/cores.json &&
    (cd build/asan && export ASAN_OPTIONS=detect_leaks=1 \
      UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 HS_TEST_SEEDS=20 &&
      ctest --output-on-failure -L unit -E "$asan_skip" -j "$((3 * jobs))" \
        --resource-spec-file cores.json &&
      ctest --output-on-failure -R 'test_daemon_(live|signals|evict)' -j "$((2 * jobs))")
}

# valgrind_one TEST: one unit test program under valgrind; prints one line
# (and the report's end when it fails).
valgrind_one() {
  local t=$1 log
  log="build/dev/$(basename "$t").valgrind"
  if HS_TEST_SEEDS=5 HS_TEST_HOSTILE=400 valgrind -q --error-exitcode=1 --leak-check=full \
    --errors-for-leak-kinds=definite,indirect "$t" >"$log" 2>&1; then
    echo "valgrind: $(basename "$t") clean"
  else
    echo "valgrind: $(basename "$t") FAILED"
    tail -n 40 "$log"
    return 1
  fi
}

valgrind_units() {
  local -a progs=()
  local t
  # the longest first, so that they do not end the stage alone (the live
  # engine's in-process tests mostly wait on Redis and the mock cluster)
  for t in build/dev/tests/test_live_contracts build/dev/tests/test_core_incremental \
    build/dev/tests/test_live_sync build/dev/tests/test_http_hostile build/dev/tests/test_live_commit \
    build/dev/tests/test_live_merge build/dev/tests/test_store_cluster \
    build/dev/tests/test_kafka_consumer build/dev/tests/test_*; do
    [[ " ${progs[*]} " == *" $t "* ]] && continue
    [ -x "$t" ] || continue
    case $(basename "$t") in test_tool_*) continue ;; esac # runs other processes
    progs+=("$t")
  done
  export -f valgrind_one
  # twice as many at a time as cores (several mostly wait); xargs exits
  # non-zero when any did
  printf '%s\n' "${progs[@]}" | xargs -P "$((2 * jobs))" -I{} bash -c 'valgrind_one "$1"' _ {}
  local rc=$?
  echo "valgrind: ${#progs[@]} test programs checked"
  return $rc
}

format_check() {
  local bad
  bad=$(git ls-files '*.c' '*.h' '*.cc' | xargs clang-format --dry-run --Werror 2>&1 | grep -c "error:" || true)
  if [ "$bad" != 0 ]; then
    git ls-files '*.c' '*.h' '*.cc' | xargs clang-format --dry-run --Werror 2>&1 | head -n 30
    echo "format: $bad places differ from .clang-format (run clang-format -i)"
    return 1
  fi
  echo "format: $(git ls-files '*.c' '*.h' '*.cc' | wc -l) files formatted"
}

bench_smoke() {
  SMOKE=1 HS_BENCH_BUILD=build/dev bash bench/run_all.sh
}

fuzz() {
  CC=clang cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHS_FUZZ=ON \
    >/dev/null && cmake --build build/fuzz -j "$jobs" --target fuzz_decode_json fuzz_decode_msgpack fuzz_map \
    fuzz_decode_source fuzz_json_scan fuzz_decode_msgpack_diff ||
    return 1
  # every target at once, each for $fuzz_seconds of wall time after its
  # corpus (the corpora are the regression check; the time finds new inputs)
  local failed=0 target
  local -a targets=(fuzz_decode_json fuzz_decode_msgpack fuzz_map fuzz_decode_source fuzz_json_scan
    fuzz_decode_msgpack_diff)
  local -A pid_of=()
  for target in "${targets[@]}"; do
    local corpus=build/fuzz/corpus-$target
    mkdir -p "$corpus"
    # the differential target starts from the msgpack decoder's corpus
    cp -n fuzz/corpus/"${target%_diff}"/* "$corpus"/ 2>/dev/null || true
    echo "fuzz: $target for ${fuzz_seconds}s"
    build/fuzz/fuzz/$target -max_total_time="$fuzz_seconds" -max_len=4096 \
      -print_final_stats=1 "$corpus" >"build/fuzz/$target.log" 2>&1 &
    pid_of[$target]=$!
  done
  for target in "${targets[@]}"; do
    if ! wait "${pid_of[$target]}"; then
      echo "fuzz: $target FAILED"
      tail -n 40 "build/fuzz/$target.log"
      failed=1
    fi
    echo "fuzz: $target"
    grep -E "stat::number_of_executed_units|Done" "build/fuzz/$target.log" | tail -n 2
  done
  return $failed
}

stage "build + ctest (unit, integration)" build_and_test
stage "ASan + UBSan (unit, daemon)" sanitizers
stage "valgrind unit tests" valgrind_units
stage "clang-format" format_check
stage "fuzz decoders" fuzz
stage "benchmark harness, smoke" bench_smoke

echo
echo "=== summary"
status=0
for i in "${!names[@]}"; do
  printf '%-36s %s  %4ss\n' "${names[$i]}" "${results[$i]}" "${times[$i]}"
  [ "${results[$i]}" = PASS ] || status=1
done
exit $status
