#!/usr/bin/env bash
# Benchmark (not a test): `deskmail search` of two builds on the same data directory, whole
# process (`deskmail bench search`), per query build A then build B, several rounds, and the
# range of each build's p50 and p99 over the rounds (the machine drifts: interleaving keeps the
# comparison fair, the ranges show the noise).
# Usage: scripts/bench-search-ab.sh --data DIR [--data-b DIR] [--runs 50] [--rounds 3] A_BIN B_BIN [QUERY...]
# --data-b: build B searches its own data directory (two builds of different index schemas,
# each on the same messages indexed by itself, e.g. by `deskmail reindex`).
# Without queries: the scale benchmark's four, four more with tens of thousands of hits, and
# one that matches nothing (process start and opening the index).
set -euo pipefail
runs=50 rounds=3 data= data_b=
while [ $# -gt 0 ]; do
  case "$1" in
    --data) data=$2; shift 2 ;;
    --data-b) data_b=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    *) break ;;
  esac
done
[ -n "$data" ] && [ $# -ge 2 ] || { sed -n 2,10p "$0" >&2; exit 2; }
a=$1 b=$2
data_b=${data_b:-$data}
shift 2
queries=("$@")
[ ${#queries[@]} -gt 0 ] || queries=(money 'from:spamassassin.taint.org' 'date:2002-08'
  'category:other' 'subject:free' 'has:attachment' '"click here"'
  'after:2002-09-01 before:2002-10-01' 'qqqzzzxx')
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for round in $(seq "$rounds"); do
  for q in "${queries[@]}"; do
    # By side, not by binary: one build on two data directories (--data-b) is a comparison too.
    for side in A B; do
      bin=$a dir=$data
      [ "$side" = B ] && bin=$b dir=$data_b
      line=$("$bin" bench search --data "$dir" --runs "$runs" "$q" 2>&1 | tail -1)
      p50=$(sed -n 's/.*p50 \([0-9.]*\) ms.*/\1/p' <<<"$line")
      p99=$(sed -n 's/.*p99 \([0-9.]*\) ms.*/\1/p' <<<"$line")
      [ -n "$p50" ] || { echo "no timing from $bin for $q: $line" >&2; exit 1; }
      printf '%s\t%s\t%s\t%s\t%s\n' "$round" "$side" "$q" "$p50" "$p99" >>"$out"
    done
  done
done
echo "| query | A p50 / p99 (ms) | B p50 / p99 (ms) |"
echo "|---|---|---|"
for q in "${queries[@]}"; do
  cell() {
    awk -F'\t' -v b="$1" -v q="$q" '$2 == b && $3 == q {
        if (n == 0 || $4 < l50) l50 = $4; if (n == 0 || $4 > h50) h50 = $4
        if (n == 0 || $5 < l99) l99 = $5; if (n == 0 || $5 > h99) h99 = $5; n++ }
      END { printf "%.1f–%.1f / %.1f–%.1f", l50, h50, l99, h99 }' "$out"
  }
  echo "| \`$q\` | $(cell A) | $(cell B) |"
done
echo "A = $a on $data, B = $b on $data_b; $rounds rounds of $runs runs per query and build"
