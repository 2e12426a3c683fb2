#!/usr/bin/env bash
# Benchmark (not a test): searches through a running daemon, two builds on the same data
# directory. Per round and build: `deskmail run` started on DIR (an empty drop folder), one
# search to warm it, a 3 s rest (the daemon builds its thread activity table), then
# `deskmail bench search --runs N` per query (each search a new CLI process that asks the
# daemon), and the daemon's RSS before it is stopped.
# Usage: scripts/bench-daemon-search-ab.sh --data DIR [--runs 50] [--rounds 2] A_BIN B_BIN [QUERY...]
set -euo pipefail
runs=50 rounds=2 data=
while [ $# -gt 0 ]; do
  case "$1" in
    --data) data=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    *) break ;;
  esac
done
[ -n "$data" ] && [ $# -ge 2 ] || { sed -n 2,7p "$0" >&2; exit 2; }
a=$1 b=$2
shift 2
queries=("$@")
[ ${#queries[@]} -gt 0 ] || queries=(money 'from:spamassassin.taint.org' 'date:2002-08'
  'category:other' 'after:2002-09-01 before:2002-10-01')
daemon= drop=
stop() {
  [ -n "$daemon" ] && { kill -TERM "$daemon" 2>/dev/null; wait "$daemon" 2>/dev/null || true; }
  [ -n "$drop" ] && rm -rf "$drop"
  daemon= drop=
}
trap stop EXIT
for round in $(seq "$rounds"); do
  for bin in "$a" "$b"; do
    drop=$(mktemp -d)
    "$bin" run --data "$data" --drop "$drop" >/dev/null 2>&1 &
    daemon=$!
    for _ in $(seq 300); do [ -S "$data/control.sock" ] && break; sleep 0.1; done
    [ -S "$data/control.sock" ] || { echo "the daemon of $bin did not start" >&2; exit 1; }
    "$bin" search --data "$data" warmup >/dev/null
    sleep 3
    for q in "${queries[@]}"; do
      line=$("$bin" bench search --data "$data" --runs "$runs" "$q" 2>&1 | tail -1)
      printf 'round %s  %s  %-40s %s\n' "$round" "$bin" "$q" "${line#*runs: }"
    done
    echo "round $round  $bin  daemon RSS $(awk '/^VmRSS/ {print int($2 / 1024)}' "/proc/$daemon/status") MiB"
    stop
  done
done
