#!/bin/sh
# Instructions per operation (callgrind; stable on a noisy machine), counted only
# inside the timed loop (`sample`) and divided by the iterations.
#   benches/compare-raft-rs/icount.sh '<case substring>' ballot|raft [iters]
#   benches/compare-raft-rs/icount.sh --table     # every per-op case, both sides, as markdown
set -e
cd "$(dirname "$0")"
cargo build --release -q
one() { # case side iters
  out=$(mktemp)
  valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect='compare_raft_rs::sample*' \
    ./target/release/compare-raft-rs icount "$1" "$2" "$3" >/dev/null 2>&1
  ir=$(callgrind_annotate "$out" 2>/dev/null | grep -m1 "PROGRAM TOTALS" | awk '{gsub(",","",$1); print $1}')
  rm -f "$out"
  echo "$ir $3" | awk '{printf "%.0f", $1 / $2}'
}
if [ "$1" = "--table" ]; then
  echo "| case | ballot instructions/op | raft-rs instructions/op | raft-rs ÷ ballot |"
  echo "| --- | --- | --- | --- |"
  for c in 'step only (`step_into`)' 'step only (`step`)' 'outputs (`step_into`)' 'outputs (`step`)' \
           'vote grant' 'tick, nothing due' 'round, 5 voters' 'round, 101 voters' \
           'construction + drop, 3 voters' 'construction + drop, 501 voters'; do
    case "$c" in *101*|*501*) n=100;; *round*|*construction*) n=2000;; *) n=20000;; esac
    b=$(one "$c" ballot $n); r=$(one "$c" raft $n)
    name=$(./target/release/compare-raft-rs icount "$c" ballot 1 | sed 's/:.*//')
    echo "| $name | $b | $r | $(echo "$r $b" | awk '{printf "%.1f×", $1 / $2}') |"
  done
else
  echo "instructions per op: $(one "$1" "$2" "${3:-10000}")"
fi
