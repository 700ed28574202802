#!/usr/bin/env bash
# Issue 15's rows side by side, back to back, in rounds (docs/benchmarks.md, "Issue 15: every
# row in one run"): the peers' fsync probe and their bulk / read / durable-transaction
# workloads, ours (the database and cache benchmarks), then the Python reference. Usage, from
# the repository's root:
#
#   PEERS=/tmp/bench-peers PYREF=/tmp/bench-python tests/benches/issue15_round.sh [ROUNDS]
#
# PEERS is a built checkout (`cargo build --release`) of the peers' benchmark program
# (`peers-bench`: redb, plain rusqlite and fjall on the same row shape); PYREF one of the
# Python reference suite (`run_all.sh`, Python's `persistent` and ZODB; it makes its own
# venv). Both are kept outside this repository.
set -u
ROUNDS="${1:-2}"
PEERS="${PEERS:?set PEERS to a built copy of bench-peers}"
PYREF="${PYREF:?set PYREF to a copy of bench-python}"
OURS="commit_100k_new_sqlite|load_ghosts_sqlite|load_ghosts_prefetched_sqlite|transactions_10k_sqlite|transactions_10k_4_threads_sqlite|fsync_8_bytes_sync_data"
cargo bench -p persistent-tests --bench database --no-run
cargo bench -p persistent-core --bench cache --no-run
for round in $(seq 1 "$ROUNDS"); do
  echo "=== round $round $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
  "$PEERS/target/release/peers-bench" fsync 2>&1 | grep RESULT
  for peer in rusqlite redb fjall; do
    for workload in bulk read tx; do
      "$PEERS/target/release/peers-bench" "$peer" --runs 3 --only "$workload" 2>&1 \
        | grep RESULT | grep -v untimed
    done
  done
  echo "--- ours $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
  cargo bench -p persistent-tests --bench database -- "$OURS" 2>&1 \
    | grep -E "├|╰|transactions in|Kitem"
  cargo bench -p persistent-core --bench cache -- 'incrgc_1m_to_10k$' 2>&1 | grep -E "├|╰"
  echo "--- python $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
  (cd "$PYREF" && ./run_all.sh activate cache_gc commit 2>&1 | tail -40)
done
echo "=== end $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
