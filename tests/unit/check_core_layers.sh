#!/bin/bash
# The scoring core stands on the base libraries only: it includes (directly
# or through the headers it includes) no header of another module, and
# CMake links hs_core to nothing but base, time, hash and event. Fails,
# naming the offending line, if either breaks.
# usage: check_core_layers.sh [SOURCE_DIR]
set -u
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
allowed_headers="base.h time.h hash.h event.h core.h"
allowed_libs="hs_base hs_time hs_hash hs_event m PUBLIC PRIVATE INTERFACE"
fail=0

# walk the includes of src/core, following the public headers they name
declare -A seen
queue=("$root"/src/core/*.c "$root"/src/core/*.h)
while ((${#queue[@]})); do
  f=${queue[0]}
  queue=("${queue[@]:1}")
  [[ -n ${seen[$f]:-} ]] && continue
  seen[$f]=1
  re='^[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]*)"'
  while IFS= read -r line; do
    [[ $line =~ $re ]] || continue
    inc=${BASH_REMATCH[1]}
    case $inc in
    healthscore/*)
      h=${inc#healthscore/}
      if [[ " $allowed_headers " != *" $h "* ]]; then
        echo "core includes $inc (in ${f#"$root"/}): only base, time, hash, event and core headers are allowed"
        fail=1
      else
        queue+=("$root/include/healthscore/$h")
      fi
      ;;
    */*)
      echo "core includes $inc (in ${f#"$root"/}): outside src/core"
      fail=1
      ;;
    *) queue+=("$(dirname "$f")/$inc") ;;
    esac
  done <"$f"
done

# the link line of hs_core (possibly over several lines)
libs=$(tr '\n' ' ' <"$root/CMakeLists.txt" |
  grep -o 'target_link_libraries([[:space:]]*hs_core[[:space:]][^)]*)' |
  sed 's/target_link_libraries([[:space:]]*hs_core//; s/)$//')
for l in $libs; do
  if [[ " $allowed_libs " != *" $l "* ]]; then
    echo "hs_core links $l: it may link only hs_base, hs_time, hs_hash and hs_event"
    fail=1
  fi
done
if tr '\n' ' ' <"$root/CMakeLists.txt" | grep -q 'target_include_directories([[:space:]]*hs_core[[:space:]]'; then
  echo "hs_core has extra include directories: it sees only include/ and src/core"
  fail=1
fi

if ((fail == 0)); then
  echo "core layering ok: $(printf '%s\n' "${!seen[@]}" | wc -l) files checked"
fi
exit $fail
