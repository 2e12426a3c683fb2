#!/usr/bin/env bash
# Benchmark (not a test): API search latency and throughput with wrk against `deskmail serve` on
# 127.0.0.1, over the SpamAssassin corpus. Each request is authenticated and audited, as in use.
# Usage: scripts/bench-api.sh   (CORPUS=maildir, SECONDS_PER_RUN=10, DESKMAIL=binary)
# DATA=dir: serve that data directory instead of ingesting the corpus into a fresh one (the
# 1M directory `scripts/bench-scale.sh --keep` leaves; a token named bench is added to it).
set -euo pipefail
[ -n "${CORPUS:-}" ] && [[ "$CORPUS" != /* ]] && CORPUS=$PWD/$CORPUS
cd "$(dirname "$0")/.."
CORPUS=${CORPUS:-../shared/corpus/spamassassin}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/deskmail-target}"
DESKMAIL=${DESKMAIL:-$CARGO_TARGET_DIR/release/deskmail}
RUN=${SECONDS_PER_RUN:-10}
command -v wrk >/dev/null 2>&1 || {
  [ "$(id -u)" = 0 ] || { echo "install wrk" >&2; exit 1; }
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
}
[ -x "$DESKMAIL" ] || cargo build --release --locked
WORK=$(mktemp -d)
cleanup() { [ -n "${PID:-}" ] && kill "$PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
if [ -n "${DATA:-}" ]; then
  data=$DATA
else
  data=$WORK/data
  "$DESKMAIL" ingest --data "$data" "$CORPUS" | tail -1
fi
TOKEN=$("$DESKMAIL" token create --data "$data" --role agent --name bench | tail -1)
export TOKEN
"$DESKMAIL" serve --data "$data" --listen 127.0.0.1:0 --auth-failures-per-minute 1000000 >"$WORK/serve.out" 2>&1 &
PID=$!
for _ in $(seq 50); do grep -q listening "$WORK/serve.out" && break; sleep 0.1; done
URL=$(sed -n 's/^listening on //p' "$WORK/serve.out")
# Warm the index pages once, then measure: 1 connection (latency), 8 connections (throughput).
wrk -t1 -c1 -d2s -s scripts/bench-api.lua "$URL" >/dev/null
for c in 1 8; do
  echo "== $c connection(s), ${RUN}s, 8 queries in rotation (scripts/bench-api.lua)"
  wrk -t1 -c"$c" -d"${RUN}s" --latency -s scripts/bench-api.lua "$URL" |
    grep -E "50%|75%|90%|99%|Requests/sec|Non-2xx"
done
echo "peak RSS of the server: $(awk '/VmHWM/ {print $2, $3}' /proc/$PID/status)"
