#!/bin/sh
# Instruction counts per op of one case on one side (stable on a noisy machine):
#   benches/compare-raft-rs/icount.sh '<case substring>' ballot|raft [iters]
set -e
cd "$(dirname "$0")"
cargo build --release -q
iters=${3:-10000}
out=$(mktemp)
valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect='compare_raft_rs::sample*' \
  ./target/release/compare-raft-rs icount "$1" "$2" "$iters" 2>&1 | grep -v '^==' || true
ir=$(callgrind_annotate "$out" 2>/dev/null | grep -m1 "PROGRAM TOTALS" | awk "{gsub(\",\",\"\",\$1); print \$1}")
echo "instructions per op: $(echo "$ir / $iters" | bc -l | xargs printf '%.1f')"
rm -f "$out"
