#!/bin/bash
# No source file of src/ or tools/ is longer than a reader can hold: fails,
# naming each file over the limit and its length.
# usage: check_file_length.sh [SOURCE_DIR] [MAX_LINES]
set -u
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
max=${2:-700}
fail=0
n=0
while IFS= read -r -d '' f; do
  n=$((n + 1))
  lines=$(wc -l <"$f")
  if ((lines > max)); then
    echo "${f#"$root"/}: $lines lines, over $max: split it by concern"
    fail=1
  fi
done < <(find "$root/src" "$root/tools" -type f \( -name '*.c' -o -name '*.h' \) -print0)
if ((n == 0)); then
  echo "no source files under $root/src and $root/tools"
  exit 1
fi
((fail == 0)) && echo "file length ok: $n files of at most $max lines"
exit $fail
