#!/usr/bin/env bash
# Compare two deskmail binaries on the same corpus, runs alternating so that both see the same
# machine load; prints each run and the medians. A benchmark, not a test.
#
#   scripts/bench-ab.sh OLD_BINARY:OLD_RULES NEW_BINARY:NEW_RULES [RUNS] [CORPUS]
#
# e.g. scripts/bench-ab.sh /tmp/deskmail-old:/tmp/old-src/rules target/release/deskmail:rules 7
set -euo pipefail
old="$1"; new="$2"; runs="${3:-7}"
corpus="${4:-$(dirname "$0")/../../shared/corpus/spamassassin}"
declare -A full parse rules
for i in $(seq 1 "$runs"); do
  for side in old new; do
    spec="${!side}"; bin="${spec%%:*}"; rdir="${spec#*:}"
    out=$("$bin" bench ingest --json --rules "$rdir" "$corpus")
    read -r f p r < <(python3 -c '
import json,sys
d=json.load(sys.stdin)
ph={x["name"].split(" (")[0]:x["messages_per_second"] for x in d["phases"]}
print(round(ph["full pipeline"]), round(ph["parse only"]), round(ph["parse + rules"]))' <<<"$out")
    full[$side]+="$f "; parse[$side]+="$p "; rules[$side]+="$r "
    echo "run $i $side: full $f msg/s, parse only $p, parse + rules $r"
  done
done
median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for side in old new; do
  echo "median $side: full $(median "${full[$side]}") msg/s, parse only $(median "${parse[$side]}"), parse + rules $(median "${rules[$side]}")"
done
