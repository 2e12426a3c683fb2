#!/usr/bin/env bash
# Scale benchmark (issue 14): N distinct real messages, ingested into a fresh data directory.
#
#   scripts/bench-scale.sh [--messages N] [--slices K] [--quick] [--keep] [CORPUS]
#
# The corpus (default: the benchmark maildir beside the checkout) is cycled the way its README
# says: each message's Message-ID is replaced by a fresh `<scale-K@example.test>`, written into
# mbox files of 10,000 messages (N/10 for smaller N; kept under /var/tmp/deskmail-scale-N and reused by later runs;
# --keep also keeps the data directory). Then:
#   - ingest in ten slices of N/10 messages (--slices K: K slices; --slices 1: the whole corpus
#     in one process, as a desk backfills), one `deskmail ingest` process each, one after the
#     other into the same data directory: msg/s of each slice (does it decay as the store
#     grows?) and of its 10-second windows (from the blob log's growth), its CPU seconds and
#     peak RSS (/usr/bin/time), with the largest anonymous and file-backed (mapped index
#     files) parts sampled from /proc;
#   - the size of each part of the data directory, against the mbox bytes; then
#     `deskmail compact` (its time, and the data directory after it) and sled's records per key
#     space (`deskmail bench store`);
#   - search latency with process start included (`deskmail bench search`, 50 runs each) for a
#     single word, `from:`, a date range and `category:`: the CLI opening the index itself, then
#     through a running daemon (`deskmail run`, which the CLI asks over its control socket),
#     with the daemon's memory after those searches.
# --quick: 10,000 messages. The binary: $DESKMAIL_BIN, else the release build in
# $CARGO_TARGET_DIR (built if missing). A benchmark, not a test: it prints, it asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
n=100000 slices=10 keep=0 corpus=""
while [ $# -gt 0 ]; do
  case "$1" in
    --messages) n="$2"; shift ;;
    --quick) n=10000 ;;
    --keep) keep=1 ;;
    --slices) slices="$2"; shift ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) corpus="$1" ;;
  esac
  shift
done
for c in "$corpus" "${DESKMAIL_CORPUS:-}" "$root/../shared/corpus/spamassassin" /work/shared/corpus/spamassassin; do
  if [ -n "$c" ] && [ -d "$c" ]; then corpus="$c"; break; fi
done
[ -d "$corpus" ] || { echo "bench-scale.sh: no corpus (give a maildir)" >&2; exit 2; }
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/deskmail-target}"
bin="${DESKMAIL_BIN:-$CARGO_TARGET_DIR/release/deskmail}"
[ -x "$bin" ] || cargo build --release --locked
unset DESKMAIL_DATA DESKMAIL_RULES DESKMAIL_CONFIG
command -v /usr/bin/time >/dev/null || { apt-get install -y time >/dev/null; }

mail="/var/tmp/deskmail-scale-$n"
if [ ! -f "$mail/done" ]; then
  rm -rf "$mail"; mkdir -p "$mail"
  echo "== writing $n distinct messages into $mail"
  python3 - "$corpus" "$mail" "$n" <<'PY'
import pathlib, re, sys
corpus, out, n = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), int(sys.argv[3])
msgs = []
for p in sorted(x for x in corpus.rglob("*") if x.is_file()):
    b = p.read_bytes().replace(b"\r\n", b"\n")
    if b.startswith(b"From "):
        b = b.split(b"\n", 1)[1] if b"\n" in b else b""
    head, sep, body = b.partition(b"\n\n")
    head = re.sub(rb"(?im)^message-id:[^\n]*(\n[ \t][^\n]*)*\n?", b"", head + b"\n").rstrip(b"\n")
    body = re.sub(rb"(?m)^(>*From )", rb">\1", body)  # mboxrd
    msgs.append((head, body))
per_file, f = max(1, min(10_000, n // 10)), None
for k in range(n):
    if k % per_file == 0:
        if f: f.close()
        f = open(out / f"part-{k // per_file:04d}.mbox", "wb")
    head, body = msgs[k % len(msgs)]
    f.write(b"From scale@example.test Thu Jan  1 00:00:00 2002\n")
    f.write(b"Message-ID: <scale-%d@example.test>\n" % k + head + b"\n\n" + body + b"\n\n")
f.close()
PY
  touch "$mail/done"
fi
mbox_bytes=$(cat "$mail"/*.mbox | wc -c)
data="$(mktemp -d /var/tmp/deskmail-scale-data.XXXXXX)"
cleanup() { rm -f "$data.time"; [ "$keep" = 1 ] && echo "data directory kept: $data" || rm -rf "$data"; }
trap cleanup EXIT

mapfile -t parts < <(ls "$mail"/*.mbox)
per=$(( (${#parts[@]} + slices - 1) / slices ))
echo "== ingest: $n messages ($(( mbox_bytes / 1048576 )) MiB of mbox) in slices of $per file(s), $(uptime | sed 's/.*load/load/')"
# RSS counts the pages of files the process maps (tantivy reads its segments, merges included,
# through mmap) beside its own memory: sample both every 0.2 s (/proc/PID/status) and report
# the largest anonymous part (what the process allocated) and file-backed part (page cache
# the kernel may take back) seen.
# About every 10 s the blob log's growth too: the messages of a window, at the slice's bytes per
# message (the ingest holds the store, so nothing else can count them meanwhile).
anon_file_peaks() { # PID: prints "max RssAnon kB, max RssFile kB, bytes:ms,..." (blob growth per window) once PID is gone
  local pid=$1 anon=0 file=0 a f tick=0 last windows="" now since
  last=$(du -sb "$data/store/blobs" 2>/dev/null | cut -f1 || echo 0)
  since=$(date +%s%N)
  while [ -n "$pid" ] && [ -r "/proc/$pid/status" ]; do
    read -r a f < <(awk '/^RssAnon/{a=$2} /^RssFile/{f=$2} END{print a+0, f+0}' "/proc/$pid/status" 2>/dev/null || echo "0 0")
    if (( a > anon )); then anon=$a; fi
    if (( f > file )); then file=$f; fi
    sleep 0.2
    if (( ++tick % 50 == 0 )); then
      b=$(du -sb "$data/store/blobs" 2>/dev/null | cut -f1 || echo "$last")
      now=$(date +%s%N)
      windows+="$((b - last)):$(( (now - since) / 1000000 )),"; last=$b since=$now
    fi
  done
  echo "$anon $file ${windows:-0,}"
}
peak=0 peak_anon=0 total_s=0 stored=0
for ((i = 0; i < ${#parts[@]}; i += per)); do
  slice=("${parts[@]:i:per}")
  /usr/bin/time -o "$data.time" -f "%e %M %U %S" "$bin" ingest --data "$data" "${slice[@]}" > /dev/null 2>&1 &
  timer=$!
  child=""
  while [ -z "$child" ] && kill -0 "$timer" 2>/dev/null; do child=$(pgrep -P "$timer" | head -1 || true); done
  blobs_before=$(du -sb "$data/store/blobs" 2>/dev/null | cut -f1 || echo 0)
  read -r anon_kb file_kb windows < <(anon_file_peaks "$child")
  wait "$timer"
  read -r secs rss_kb user_s sys_s < "$data.time"
  before=$stored
  stored=$("$bin" stats --json --data "$data" | python3 -c 'import json,sys; print(json.load(sys.stdin)["messages"])')
  rate=$(python3 -c "print(round(($stored - $before) / max($secs, 0.01)))")
  echo "  slice $((i / per + 1)): $before → $stored messages, $secs s (CPU $(python3 -c "print(round($user_s + $sys_s, 1))") s), $rate msg/s, peak RSS $((rss_kb / 1024)) MiB (largest anonymous $((anon_kb / 1024)), file-backed $((file_kb / 1024)))"
  python3 - "$windows" "$blobs_before" "$(du -sb "$data/store/blobs" | cut -f1)" "$((stored - before))" <<'PY'
import statistics, sys
windows = [tuple(map(int, w.split(":"))) for w in sys.argv[1].split(",") if ":" in w]
per_msg = (int(sys.argv[3]) - int(sys.argv[2])) / max(int(sys.argv[4]), 1)
if per_msg > 0 and len(windows) > 3:  # a slice of two or three windows says nothing more than its rate
    # The last window is cut short by the end of the ingest; the last fifth is of the others.
    full = [round(b / per_msg / (ms / 1000)) for b, ms in windows[:-1] if ms > 0]
    last = full[-max(1, len(full) // 5):]
    print(f"    10-second windows ({len(full)} whole): msg/s {min(full):,}–{max(full):,}, "
          f"median {round(statistics.median(full)):,}, the last fifth {round(sum(last) / len(last)):,}")
PY
  (( rss_kb > peak )) && peak=$rss_kb
  if (( anon_kb > peak_anon )); then peak_anon=$anon_kb; fi
  total_s=$(python3 -c "print($total_s + $secs)")
done
# Bytes on disk: a sparse file (the store engine's journal is pre-sized to 64 MiB) counts the
# blocks written, not its length.
size() { python3 -c 'import os,sys
t=0
for r,_,fs in os.walk(sys.argv[1]):
    for f in fs:
        s=os.lstat(os.path.join(r,f)); t+=min(s.st_size,s.st_blocks*512)
print(t)' "$1"; }
db=$(size "$data/store/kv"); blobs=$(size "$data/store/blobs"); index=$(size "$data/index"); all=$(size "$data")
mb() { python3 -c "print(f'{$1 / 1e6:,.0f} MB')"; }
echo "== data directory: $(mb "$all") = $(python3 -c "print(round($all / $mbox_bytes, 2))")x the mbox; key-value files $(mb "$db"), blobs $(mb "$blobs"), index $(mb "$index")"
echo "== deskmail compact (the store rewritten in key order, as after a backfill)"
/usr/bin/time -o "$data.time" -f "%e %M" "$bin" compact --data "$data" | sed 's/^/  /'
read -r secs rss_kb < "$data.time"
all_c=$(size "$data")
echo "  $secs s, peak RSS $((rss_kb / 1024)) MiB; data directory now $(mb "$all_c") = $(python3 -c "print(round($all_c / $mbox_bytes, 2))")x the mbox"
echo "== where the store's bytes go (deskmail bench store)"
"$bin" bench store --data "$data" | sed 's/^/  /'
queries=(money "from:spamassassin.taint.org" "date:2002-08" "category:other")
search_each() {
  for q in "${queries[@]}"; do
    printf '  %-30s ' "$q"
    "$bin" bench search --data "$data" --runs 50 "$q" 2>&1 | tail -1 | sed 's/CLI search, whole process, 50 runs: //'
  done
}
echo "== search (whole process, 50 runs each): the CLI opens the index itself"
search_each
# A desk runs the daemon; `deskmail search` then asks it over the control socket.
empty_drop=$(mktemp -d /var/tmp/deskmail-scale-drop.XXXXXX)
"$bin" run --data "$data" --drop "$empty_drop" >/dev/null 2>&1 &
daemon=$!
for _ in $(seq 300); do [ -S "$data/control.sock" ] && break; sleep 0.1; done
# The daemon builds its table of each thread's activity after its first search, in the
# background (a tenth of a second at 1M): one search and a second's wait, so the runs measure
# the steady state.
"$bin" search --data "$data" money >/dev/null; sleep 1
echo "== search (whole process, 50 runs each): through the running daemon"
search_each
echo "  the daemon after these searches: RSS $(awk '/^VmRSS/ {print int($2 / 1024)}' /proc/$daemon/status) MiB (anonymous $(awk '/^RssAnon/ {print int($2 / 1024)}' /proc/$daemon/status))"
kill -TERM "$daemon"; wait "$daemon" || true
rm -rf "$empty_drop"
echo
echo "| messages | ingest msg/s (all slices) | peak RSS (anonymous) | data dir | × mbox | key-value files | blobs | index |"
echo "|---|---|---|---|---|---|---|---|"
echo "| $n | $(python3 -c "print(f'{round($stored / $total_s):,}')") | $((peak / 1024)) MiB ($((peak_anon / 1024)) MiB) | $(mb "$all") | $(python3 -c "print(round($all / $mbox_bytes, 2))") | $(mb "$db") | $(mb "$blobs") | $(mb "$index") |"
