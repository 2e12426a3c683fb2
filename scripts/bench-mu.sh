#!/usr/bin/env bash
# deskmail's ingest against `mu index` on the same maildir, runs alternating so that both see
# the same machine load; prints each run, the medians and their ratio (issue 14: "the same code
# on 6k keeps >= 5x mu index"). A benchmark, not a test; needs mu (`apt-get install
# maildir-utils`).
#
#   scripts/bench-mu.sh [DESKMAIL_BINARY] [RUNS] [MAILDIR]
#
# Defaults: target/release/deskmail, 5 runs, ../shared/corpus/spamassassin. Each run starts
# from an empty data directory (deskmail) and an empty database (`mu init` is timed with
# `mu index`, as the corpus README measured it); wall time from process start to exit, the
# page cache warm (one untimed read of the maildir first).
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-target/release/deskmail}"
runs="${2:-5}"
maildir="${3:-../shared/corpus/spamassassin}"
command -v mu > /dev/null || { echo "mu is not installed: apt-get install maildir-utils" >&2; exit 2; }
[ -x "$bin" ] || { echo "no deskmail binary at $bin (cargo build --release)" >&2; exit 2; }
[ -d "$maildir/cur" ] || { echo "not a maildir: $maildir" >&2; exit 2; }
maildir="$(cd "$maildir" && pwd)"
messages=$(find "$maildir" -type f \( -path '*/cur/*' -o -path '*/new/*' \) | wc -l)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat "$maildir"/cur/* > /dev/null

now() { date +%s.%N; }
rate() { python3 -c "print(round($messages / ($2 - $1)))"; }

mu_run() {
  rm -rf "$work/mu"
  local t0 t1
  t0=$(now)
  mu init --muhome="$work/mu" --maildir="$maildir" > /dev/null
  mu index --muhome="$work/mu" --quiet > /dev/null 2>&1
  t1=$(now)
  local found
  found=$(mu find --muhome="$work/mu" --fields=i '' 2>/dev/null | wc -l || true)
  [ "$found" -gt 0 ] || { echo "mu indexed nothing" >&2; exit 1; }
  rate "$t0" "$t1"
}

deskmail_run() {
  rm -rf "$work/data"
  local t0 t1
  t0=$(now)
  "$bin" ingest --data "$work/data" "$maildir" > "$work/ingest.out" 2>&1
  t1=$(now)
  grep -q "ingested" "$work/ingest.out" || { cat "$work/ingest.out" >&2; exit 1; }
  rate "$t0" "$t1"
}

echo "== $messages messages in $maildir; $(mu --version | head -1); $("$bin" --version)"
mus=(); desks=()
for i in $(seq 1 "$runs"); do
  m=$(mu_run); d=$(deskmail_run)
  mus+=("$m"); desks+=("$d")
  echo "run $i: mu index $m msg/s, deskmail ingest $d msg/s"
done
python3 - "${mus[*]}" "${desks[*]}" <<'PY'
import statistics, sys
mu = [int(x) for x in sys.argv[1].split()]
dm = [int(x) for x in sys.argv[2].split()]
m, d = statistics.median(mu), statistics.median(dm)
print(f"median: mu index {m:,.0f} msg/s, deskmail ingest {d:,.0f} msg/s: {d / m:.2f}x mu")
PY
