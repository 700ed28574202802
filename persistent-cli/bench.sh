#!/usr/bin/env bash
# The command-line tool's benchmark (docs/benchmarks.md, "The command-line tool"): builds a
# SQLite database of OBJECTS items (default 1,000,000; examples/bench_db.rs), then runs the
# release binary's `verify` and `stats` on it under /usr/bin/time -v and prints, for each,
# the wall time, objects per second and the process's peak resident memory (maximum RSS).
#
#   persistent-cli/bench.sh [OBJECTS]        (from the workspace root)
#
# The database is written to $BENCH_DIR (default: a new temporary directory), removed at
# the end unless BENCH_KEEP=1.
set -euo pipefail
objects="${1:-1000000}"
dir="${BENCH_DIR:-$(mktemp -d)}"
db="$dir/bench.db"
target="${CARGO_TARGET_DIR:-target}"

cargo build --release -p persistent-cli --bin persistent --example bench_db
"$target/release/examples/bench_db" "$db" "$objects"
# Every object the tool visits: the stored ones (items, B-tree nodes, root, registry).
stored=$("$target/release/persistent" info --json "$db" | sed -n 's/^  "objects": \([0-9]*\),$/\1/p')
echo "stored objects: $stored"

for command in verify stats; do
  log="$dir/$command.time"
  # verify exits 1: the removed items are unreachable findings, by design.
  /usr/bin/time -v "$target/release/persistent" "$command" --json "$db" >"$dir/$command.json" 2>"$log" || true
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$log")
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log")
  seconds=$(echo "$wall" | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
  rate=$(awk -v n="$stored" -v s="$seconds" 'BEGIN { printf "%.0f", n / s }')
  echo "$command: ${seconds} s, ${rate} objects/s, peak RSS $((rss / 1024)) MiB"
done

if [ "${BENCH_KEEP:-0}" != 1 ] && [ -z "${BENCH_DIR:-}" ]; then
  rm -rf "$dir"
fi
