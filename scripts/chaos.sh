#!/usr/bin/env bash
# Crash campaigns: kill -9 deskmail at random points, resume, and check the invariants against
# a clean run. Results and what is promised: docs/RELIABILITY.md.
#
#   scripts/chaos.sh [--quick] [--kills N] [--only ingest|imap|outage|sender|erase|diskfull] [CORPUS]
#
# ingest  `deskmail ingest` of the corpus, killed N times (default 50; --quick 8 on a
#         600-message slice), then run to the end: every message stored exactly once, threads
#         (ids and members) equal to a clean run's, `reindex` changes nothing, audit verifies.
# imap    `deskmail run` syncing a real Dovecot folder with `after = { move_to = "Processed" }`,
#         killed N times (default 50; --quick 8), then `run --once`: every message stored once,
#         INBOX empty and Processed holding them all, threads equal to a clean sync's.
#         Needs root (scripts/dovecot.sh).
# outage  the same sync while Dovecot restarts 20 times (--quick 5): all stored once, all moved.
# sender  `deskmail run` acknowledging 300 invoices (--quick 60) through a real Postfix into
#         Dovecot, killed N times while sending: each reply delivered at most once; after
#         `outbox retry` of the uncertain ones the recipient lacks, exactly once.
# erase   `deskmail erase` of the corpus's most frequent sender, killed N times, then to the end:
#         the same store and threads as a clean erasure, 0 search hits, not in the blob log,
#         reindex changes nothing, the audit chain verifies.
# diskfull ingest into a tmpfs a third the size it needs until ENOSPC: a clear error, the store opens, and after a
#         remount with space the ingest completes with the clean run's threads. Needs root.
# The binary: $DESKMAIL_BIN, else the release build in $CARGO_TARGET_DIR (built if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

quick=0 kills="" only="" corpus=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --kills) kills="$2"; shift ;;
    --only) only="$2"; shift ;;
    -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) corpus="$1" ;;
  esac
  shift
done
# The benchmark corpus beside the checkout (or $DESKMAIL_CORPUS); --quick falls back to the
# project's own fixtures when a clone has no corpus beside it (CI clones anywhere).
if [ -z "$corpus" ]; then
  for c in "${DESKMAIL_CORPUS:-}" "$root/../shared/corpus/spamassassin" /work/shared/corpus/spamassassin; do
    if [ -n "$c" ] && [ -d "$c" ]; then corpus="$c"; break; fi
  done
fi
if [ -z "$corpus" ] && [ "$quick" = 1 ]; then
  corpus="$root/fixtures/mail"
  echo "chaos.sh: no benchmark corpus found; using fixtures/mail"
fi
[ -d "$corpus" ] || { echo "chaos.sh: no corpus at ${corpus:-../shared/corpus/spamassassin}" >&2; exit 2; }
if [ -z "$kills" ]; then
  if [ "$quick" = 1 ]; then kills=8; else kills=50; fi
fi

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/deskmail-target}"
bin="${DESKMAIL_BIN:-$CARGO_TARGET_DIR/release/deskmail}"
[ -x "$bin" ] || cargo build --release --locked
unset DESKMAIL_DATA DESKMAIL_RULES DESKMAIL_CONFIG

work="$(mktemp -d /tmp/deskmail-chaos.XXXXXX)"
cleanup() {
  pkill -9 -f "$work" 2>/dev/null || true
  mountpoint -q "$work/small" 2>/dev/null && umount "$work/small"
  [ -d "$work/sender/postfix" ] && "$root/scripts/postfix.sh" stop "$work/sender/postfix" >/dev/null 2>&1
  for d in "$work/dovecot" "$work/dovecot-outage" "$work/sender/dovecot"; do
    [ -d "$d" ] && "$root/scripts/dovecot.sh" stop "$d" >/dev/null 2>&1
  done
  if [ -n "${DESKMAIL_CHAOS_KEEP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# The corpus as a file list; --quick takes a slice so CI stays fast.
# Only messages (the fixtures' malformed/ inputs are for rejection tests, not campaigns).
find "$corpus" -type f ! -path '*/malformed/*' ! -name '*.json' ! -name '*.md' | sort > "$work/files"
if [ "$quick" = 1 ]; then
  head -n 600 "$work/files" > "$work/files.q" && mv "$work/files.q" "$work/files"
fi
total=$(wc -l < "$work/files")

results=()
failed=0
check() { # NAME VALUE EXPECTED
  if [ "$2" = "$3" ]; then
    echo "  ok   $1: $2"
  else
    echo "  FAIL $1: got $2, expected $3"
    failed=1
  fi
}

same_or_differ() { cmp -s "$1" "$2" && echo same || echo differ; }

# Every stored message with its thread, as the index groups them (thread id + sorted members).
threads_dump() { # DATA MAILBOX
  "$bin" search --json --limit 1000000 --data "$1" "mailbox:$2" | python3 -c '
import json, sys
d = json.load(sys.stdin)
for t in sorted(d["threads"], key=lambda t: t["thread_id"]):
    print(t["thread_id"], " ".join(sorted(t["message_ids"])))'
}

stat() { # DATA KEY
  "$bin" stats --json --data "$1" | python3 -c "import json,sys; print(json.load(sys.stdin)['$2'])"
}

# Sleep a random time in [lo, hi) seconds (fractions allowed).
random_sleep() {
  # awk, not python: an interpreter's start-up (~40 ms) would overshoot the short windows.
  sleep "$(awk -v lo="$1" -v hi="$2" -v r="$RANDOM" 'BEGIN {printf "%.3f", lo + (hi - lo) * r / 32768}')"
}

# Put every corpus file into Dovecot user ap's INBOX (the Dovecot whose env was sourced last),
# as mail delivered before deskmail first looks.
fill_inbox() { # TAG
  local new="$MAIL_ROOT/ap/Maildir/new" i=0
  mkdir -p "$new"
  while IFS= read -r f; do
    cp "$f" "$new/1700000000.M${i}P1.$1"; i=$((i + 1))
  done < "$work/files"
  chown -R 65534:65534 "$MAIL_ROOT"
}

campaign_ingest() {
  echo "== ingest: $total messages, $kills kills"
  local clean="$work/ingest-clean" data="$work/ingest-chaos" started injected=0
  started=$(date +%s.%N)
  xargs -a "$work/files" -d '\n' "$bin" ingest --data "$clean" >/dev/null 2>&1
  # Kill points within the first 60 % of a clean run's time: each resumed run has less left
  # to do (what was committed is recognised), so later points would mostly miss.
  local clean_secs
  clean_secs=$(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN {printf "%.3f", (e - s) * 0.6}')
  started=$(date +%s)
  for _ in $(seq 1 "$kills"); do
    (xargs -a "$work/files" -d '\n' "$bin" ingest --data "$data" >/dev/null 2>&1; :) &
    local pid=$!
    random_sleep 0.01 "$clean_secs"
    if pkill -9 -f "ingest --data $data" 2>/dev/null; then injected=$((injected + 1)); fi
    { wait "$pid"; } 2>/dev/null || true
  done
  xargs -a "$work/files" -d '\n' "$bin" ingest --data "$data" >/dev/null 2>&1
  local secs=$(( $(date +%s) - started ))
  local want have
  want=$(stat "$clean" messages); have=$(stat "$data" messages)
  check "messages stored (clean run: $want)" "$have" "$want"
  check "threads" "$(stat "$data" threads)" "$(stat "$clean" threads)"
  threads_dump "$clean" files > "$work/clean.threads"
  threads_dump "$data" files > "$work/chaos.threads"
  check "thread ids and members equal to the clean run" \
    "$(same_or_differ "$work/clean.threads" "$work/chaos.threads")" same
  check "index documents = stored messages" \
    "$(awk '{n += NF - 1} END {print n}' "$work/chaos.threads")" "$have"
  "$bin" reindex --data "$data" >/dev/null 2>&1
  threads_dump "$data" files > "$work/reindexed.threads"
  check "reindex changes nothing" \
    "$(same_or_differ "$work/chaos.threads" "$work/reindexed.threads")" same
  check "audit chain verifies" \
    "$("$bin" audit verify --data "$data" >/dev/null 2>&1 && echo ok || echo broken)" ok
  local lost=$(( want > have ? want - have : 0 )) dup=$(( have > want ? have - want : 0 ))
  results+=("| ingest (kill -9 during \`deskmail ingest\`) | $kills | $injected | $have | $lost | $dup | ${secs} s |")
}

campaign_imap() {
  if [ "$(id -u)" != 0 ]; then
    echo "== imap: skipped (needs root for scripts/dovecot.sh)"
    return
  fi
  echo "== imap: $total messages through Dovecot with move_to, $kills kills"
  "$root/scripts/dovecot.sh" start "$work/dovecot" >/dev/null
  # shellcheck disable=SC1091
  . "$work/dovecot/env"
  fill_inbox chaos
  local data="$work/imap-data" config="$work/imap.toml"
  cat > "$config" <<EOF
data = "$data"
[daemon]
io_timeout_secs = 10
backoff_initial_secs = 0.2
backoff_max_secs = 1

[[mailbox]]
name = "ap"
host = "localhost"
port = $IMAPS_PORT
tls = "implicit"
ca_file = "$CA_FILE"
username = "ap"
password_env = "CHAOS_PW"
folders = ["INBOX"]
after = { move_to = "Processed" }
batch_size = 64
EOF
  export CHAOS_PW=secret-ap
  local started injected=0
  started=$(date +%s)
  for _ in $(seq 1 "$kills"); do
    "$bin" run --config "$config" >/dev/null 2>&1 &
    local pid=$!
    random_sleep 0.1 1.5
    if kill -9 "$pid" 2>/dev/null; then injected=$((injected + 1)); fi
    { wait "$pid"; } 2>/dev/null || true
  done
  "$bin" run --config "$config" --once >/dev/null 2>&1 || true
  local secs=$(( $(date +%s) - started ))
  local have inbox processed
  have=$(stat "$data" messages)
  inbox=$(doveadm -c "$DOVECOT_CONF" -f flow mailbox status -u ap messages INBOX | sed 's/.*messages=//')
  processed=$(doveadm -c "$DOVECOT_CONF" -f flow mailbox status -u ap messages Processed | sed 's/.*messages=//')
  local want
  want=$(stat "$work/ingest-clean" messages 2>/dev/null || echo "$total")
  check "messages stored (distinct in the folder: $want)" "$have" "$want"
  check "INBOX after move_to" "$inbox" 0
  check "Processed holds every message once" "$processed" "$total"
  check "threads equal to a clean ingest of the same mail" \
    "$(stat "$data" threads)" "$(stat "$work/ingest-clean" threads 2>/dev/null || stat "$data" threads)"
  local lost=$(( want > have ? want - have : 0 )) dup=$(( have > want ? have - want : 0 ))
  results+=("| IMAP sync with move_to (kill -9 of \`deskmail run\`) | $kills | $injected | $have | $lost | $dup | ${secs} s |")
  "$root/scripts/dovecot.sh" stop "$work/dovecot" >/dev/null 2>&1 || true
}

campaign_outage() {
  if [ "$(id -u)" != 0 ]; then
    echo "== outage: skipped (needs root for scripts/dovecot.sh)"
    return
  fi
  local restarts=20
  [ "$quick" = 1 ] && restarts=5
  echo "== outage: $total messages synced while Dovecot restarts $restarts times"
  local dir="$work/dovecot-outage"
  "$root/scripts/dovecot.sh" start "$dir" >/dev/null
  # shellcheck disable=SC1091
  . "$dir/env"
  fill_inbox outage
  local data="$work/outage-data" config="$work/outage.toml"
  sed -e "s|^data = .*|data = \"$data\"|" -e "s|^port = .*|port = $IMAPS_PORT|" \
    -e "s|^ca_file = .*|ca_file = \"$CA_FILE\"|" "$work/imap.toml" > "$config"
  export CHAOS_PW=secret-ap
  local started
  started=$(date +%s)
  "$bin" run --config "$config" > "$work/outage.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 "$restarts"); do
    random_sleep 0.2 1.0
    "$root/scripts/dovecot.sh" restart "$dir" >/dev/null
  done
  # Then give the daemon time to finish: wait until INBOX is empty or 120 s pass.
  for _ in $(seq 1 240); do
    local left
    left=$(doveadm -c "$DOVECOT_CONF" -f flow mailbox status -u ap messages INBOX | sed 's/.*messages=//')
    [ "$left" = 0 ] && break
    sleep 0.5
  done
  kill -TERM "$pid"; { wait "$pid"; } 2>/dev/null || true
  local secs=$(( $(date +%s) - started ))
  local have processed want reconnects
  have=$(stat "$data" messages)
  processed=$(doveadm -c "$DOVECOT_CONF" -f flow mailbox status -u ap messages Processed | sed 's/.*messages=//')
  want=$(stat "$work/ingest-clean" messages)
  reconnects=$(grep -c "will reconnect" "$work/outage.log" || true)
  check "messages stored" "$have" "$want"
  check "Processed holds every message once" "$processed" "$total"
  check "the daemon saw the outages (reconnects logged > 0)" "$([ "$reconnects" -gt 0 ] && echo yes || echo no)" yes
  "$root/scripts/dovecot.sh" stop "$dir" >/dev/null 2>&1 || true
  local lost=$(( want > have ? want - have : 0 )) dup=$(( have > want ? have - want : 0 ))
  results+=("| IMAP sync while Dovecot restarts (outage) | 1 | $restarts restarts, $reconnects reconnects | $have | $lost | $dup | ${secs} s |")
}

campaign_diskfull() {
  if [ "$(id -u)" != 0 ]; then
    echo "== disk full: skipped (needs root to mount a small tmpfs)"
    return
  fi
  # The reserve deskmail keeps (DESKMAIL_MIN_FREE_MB, small here) plus half of what the clean
  # run needed: full halfway.
  local reserve=4 size_mb
  size_mb=$(du -sm "$work/ingest-clean" | awk -v r="$reserve" '{m = int($1 / 2); print r + (m < 1 ? 1 : m)}')
  echo "== disk full: ingest into a ${size_mb} MB filesystem until it is nearly full, then with space"
  local mnt="$work/small"
  mkdir -p "$mnt"
  mount -t tmpfs -o "size=${size_mb}m" tmpfs "$mnt"
  local data="$mnt/data" out rc=0
  out=$(DESKMAIL_MIN_FREE_MB=$reserve xargs -a "$work/files" -d '\n' "$bin" ingest --data "$data" 2>&1 >/dev/null) || rc=$?
  local said
  said=$(grep -m1 -i -E "nearly full|no space|space left|os error 28" <<<"$out" || true)
  check "ingest fails with a clear disk-full error" "$([ "$rc" != 0 ] && [ -n "$said" ] && echo yes || echo "no (exit $rc)")" yes
  [ -n "$said" ] && echo "       said: ${said:0:200}"
  local partial
  partial=$(DESKMAIL_MIN_FREE_MB=$reserve stat "$data" messages 2>/dev/null || echo unreadable)
  check "the store opens afterwards" "$([ "$partial" != unreadable ] && echo yes || echo no)" yes
  mount -o remount,size=2g "$mnt"
  DESKMAIL_MIN_FREE_MB=$reserve xargs -a "$work/files" -d '\n' "$bin" ingest --data "$data" >/dev/null 2>&1 || true
  local have want
  have=$(stat "$data" messages 2>/dev/null || echo 0)
  want=$(stat "$work/ingest-clean" messages)
  check "ingest completes once space is freed (stored before: $partial)" "$have" "$want"
  threads_dump "$data" files > "$work/full.threads"
  threads_dump "$work/ingest-clean" files > "$work/clean2.threads"
  check "threads equal to the clean run" \
    "$(same_or_differ "$work/clean2.threads" "$work/full.threads")" same
  umount "$mnt"
  local lost=$(( want > have ? want - have : 0 )) dup=$(( have > want ? have - want : 0 ))
  results+=("| disk full (${size_mb} MB tmpfs, then 2 GB) | 1 | refused (disk nearly full) after $partial messages | $have | $lost | $dup | — |")
}

campaign_erase() {
  # The person with the most messages in the corpus.
  local who
  who=$(xargs -a "$work/files" -d '\n' grep -h -m1 -i '^From:' 2>/dev/null \
    | grep -o -E '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+' | tr '[:upper:]' '[:lower:]' | sort | uniq -c \
    | sort -rn | awk 'NR == 1 {print $2}')
  echo "== erase: $who's messages, $kills runs killed during \`deskmail erase\`"
  local ref="$work/erase-ref" data="$work/erase-chaos" injected=0 started
  cp -a "$work/ingest-clean" "$ref"
  cp -a "$work/ingest-clean" "$data"
  started=$(date +%s.%N)
  "$bin" erase --data "$ref" "$who" > "$work/erase-ref.json"
  local secs_clean
  secs_clean=$(python3 -c "import time; print(max(0.05, time.time() - $started))")
  local erased
  erased=$(python3 -c "import json; print(json.load(open('$work/erase-ref.json'))['erased'])")
  threads_dump "$ref" files > "$work/erase-ref.threads"
  # Each run: a fresh copy, one kill at a random point of the erasure, then the erasure again to
  # the end, compared with the clean erasure (an erasure that finished leaves nothing to cut).
  local differ=0
  started=$(date +%s)
  for _ in $(seq 1 "$kills"); do
    rm -rf "$data"
    cp -a "$work/ingest-clean" "$data"
    ("$bin" erase --data "$data" "$who" >/dev/null 2>&1; :) &
    local pid=$!
    random_sleep 0.005 "$secs_clean"
    if pkill -9 -f "erase --data $data" 2>/dev/null; then injected=$((injected + 1)); fi
    { wait "$pid"; } 2>/dev/null || true
    "$bin" erase --data "$data" "$who" >/dev/null
    threads_dump "$data" files > "$work/erase-chaos.threads"
    cmp -s "$work/erase-ref.threads" "$work/erase-chaos.threads" || differ=$((differ + 1))
  done
  local secs=$(( $(date +%s) - started ))
  check "runs whose threads differ from a clean erasure" "$differ" 0
  check "messages left (clean erasure of $erased)" "$(stat "$data" messages)" "$(stat "$ref" messages)"
  check "threads" "$(stat "$data" threads)" "$(stat "$ref" threads)"
  check "thread ids and members equal to a clean erasure" \
    "$(same_or_differ "$work/erase-ref.threads" "$work/erase-chaos.threads")" same
  local hits
  hits=$("$bin" search --json --data "$data" "from:$who" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total_threads"])')
  check "search hits for the person (from:)" "$hits" 0
  hits=$("$bin" search --json --data "$data" "\"$who\"" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total_threads"])')
  check "search hits for the address as text" "$hits" 0
  check "the address in the blob log" "$(cat "$data"/store/blobs/* 2>/dev/null | grep -a -c -i -F "$who" || true)" 0
  "$bin" reindex --data "$data" >/dev/null 2>&1
  threads_dump "$data" files > "$work/erase-reindexed.threads"
  check "reindex changes nothing" \
    "$(same_or_differ "$work/erase-chaos.threads" "$work/erase-reindexed.threads")" same
  check "audit chain verifies" \
    "$("$bin" audit verify --data "$data" >/dev/null 2>&1 && echo ok || echo broken)" ok
  # Not an invariant yet (issue 17, finding 7): sled's log-structured file keeps old pages.
  echo "  note sled's db file still holds the address $(grep -a -c -i -F "$who" "$data/store/db" || true) times (encryption at rest is open work)"
  results+=("| erasure (kill -9 during \`deskmail erase\` of $erased messages) | $kills | $injected | $(stat "$data" messages) left | 0 | 0 | ${secs} s |")
}

campaign_sender() {
  if [ "$(id -u)" != 0 ]; then
    echo "== sender: skipped (needs root for scripts/dovecot.sh and scripts/postfix.sh)"
    return
  fi
  local n=300
  [ "$quick" = 1 ] && n=60
  echo "== sender: $n acknowledgements (one vendor and invoice each) through Postfix, $kills kills of the sending daemon"
  local dir="$work/sender"
  mkdir -p "$dir/drop"
  "$root/scripts/dovecot.sh" start "$dir/dovecot" >/dev/null
  "$root/scripts/postfix.sh" start "$dir/postfix" "$dir/dovecot" >/dev/null
  # shellcheck disable=SC1091
  . "$dir/dovecot/env"
  # shellcheck disable=SC1091
  . "$dir/postfix/env"
  # One invoice per vendor: each earns one acknowledgement (to an outside address, which
  # Postfix delivers to the catchall mailbox).
  local i
  local tag
  for i in $(seq 1 "$n"); do
    # Unrelated names: vendor1/vendor10 would be look-alike domains, held for review.
    tag=$(printf 'chaos%s' "$i" | sha256sum | tr '0-9' 'g-p' | cut -c1-12)
    sed -e "s/brightline-office.example/$tag.example/g" \
      -e "s/Brightline Office Supply Co./${tag^} Supply Co./g" \
      -e "s/BRIGHTLINE OFFICE SUPPLY CO./${tag^^} SUPPLY CO./g" \
      -e "s/INV-20417/INV-C$i/g; s/inv-20417/inv-c$i/g" \
      "$root/fixtures/mail/ap/invoice-en-us-plain-text-net30.eml" > "$dir/drop/inv$i.eml"
  done
  {
    echo 'data = "data"'
    echo '[[drop_folder]]'
    echo 'name = "ap"'
    echo 'path = "drop"'
    echo 'interval_secs = 1'
    echo '[outbound]'
    echo 'from = "ap@example.test"'
    echo "transport = { type = \"smtp\", host = \"localhost\", port = $SMTP_PORT, tls = \"starttls\", ca_file = \"$CA_FILE\", username = \"ap\", password_env = \"SMTP_PW\" }"
  } > "$dir/deskmail.toml"
  export SMTP_PW=secret-ap
  local started injected=0
  started=$(date +%s)
  for _ in $(seq 1 "$kills"); do
    (cd "$dir" && exec "$bin" run --config deskmail.toml >/dev/null 2>&1) &
    local pid=$!
    random_sleep 0.2 1.5
    if kill -9 "$pid" 2>/dev/null; then injected=$((injected + 1)); fi
    { wait "$pid"; } 2>/dev/null || true
  done
  (cd "$dir" && "$bin" run --config deskmail.toml --once >/dev/null 2>&1) || true
  sender_settle
  local delivered="$dir/delivered" records="$dir/records" most uncertain=0
  sender_delivered > "$delivered"
  "$bin" outbox list --json --data "$dir/data" | python3 -c '
import json, sys
for r in json.load(sys.stdin):
    print(r["id"], r["state"])' > "$records"
  most=$(uniq -c < "$delivered" | awk 'BEGIN {m = 0} $1 > m {m = $1} END {print m}')
  check "deliveries per reply before retry (at most once)" \
    "$([ "$most" -le 1 ] && echo "at most 1" || echo "$most")" "at most 1"
  # What an operator does with the uncertain ones: retry those the recipient never got.
  local id state
  while read -r id state; do
    if [ "$state" = uncertain ] || [ "$state" = failed ]; then
      uncertain=$((uncertain + 1))
      grep -qx "$id" "$delivered" || "$bin" outbox retry --data "$dir/data" "$id" >/dev/null
    fi
  done < "$records"
  (cd "$dir" && "$bin" run --config deskmail.toml --once >/dev/null 2>&1) || true
  sender_settle
  sender_delivered > "$delivered"
  local secs=$(( $(date +%s) - started ))
  local replies once twice
  replies=$(wc -l < "$records")
  once=$(uniq -c < "$delivered" | awk '$1 == 1' | wc -l)
  twice=$(uniq -c < "$delivered" | awk '$1 > 1' | wc -l)
  check "stored invoices" "$(stat "$dir/data" messages)" "$n"
  check "replies queued (one per invoice)" "$replies" "$n"
  check "replies delivered exactly once after retrying the uncertain ones" "$once" "$n"
  check "replies delivered twice" "$twice" 0
  "$root/scripts/postfix.sh" stop "$dir/postfix" >/dev/null 2>&1 || true
  "$root/scripts/dovecot.sh" stop "$dir/dovecot" >/dev/null 2>&1 || true
  results+=("| sender through Postfix (kill -9 of \`deskmail run\` while sending) | $kills | $injected ($uncertain left uncertain) | $replies replies | $(( n - once )) | $twice | ${secs} s |")
}

# The outbox ids of the replies in the catchall mailbox (a reply's Message-ID is <ID.deskmail@…>), one line a copy.
sender_delivered() {
  find "$MAIL_ROOT/catchall/Maildir" \( -path '*/new/*' -o -path '*/cur/*' \) -type f \
    -exec cat {} + 2>/dev/null | { grep -i '^Message-ID:' || true; } | sed 's/.*<\([0-9a-f]*\).*/\1/' | sort
}

# Wait until what Postfix delivers stops changing (3 s without a new copy, at most 60 s): a
# reply a killed daemon handed over is delivered a moment later, and must be counted before
# anyone decides to send it again.
sender_settle() {
  local last=-1 now stable=0
  for _ in $(seq 1 120); do
    now=$(sender_delivered | wc -l)
    if [ "$now" = "$last" ]; then stable=$((stable + 1)); else stable=0; fi
    [ "$stable" -ge 6 ] && return 0
    last=$now
    sleep 0.5
  done
}

[ -z "$only" ] || [ "$only" = ingest ] && campaign_ingest
if [ -z "$only" ] || [ "$only" = imap ]; then
  [ -d "$work/ingest-clean" ] || xargs -a "$work/files" -d '\n' "$bin" ingest --data "$work/ingest-clean" >/dev/null 2>&1
  campaign_imap
fi
if [ -z "$only" ] || [ "$only" = outage ]; then
  [ -d "$work/ingest-clean" ] || xargs -a "$work/files" -d '\n' "$bin" ingest --data "$work/ingest-clean" >/dev/null 2>&1
  [ -f "$work/imap.toml" ] || { echo "chaos.sh: the outage campaign follows the imap one" >&2; exit 2; }
  campaign_outage
fi
if [ -z "$only" ] || [ "$only" = sender ]; then
  campaign_sender
fi
# Not in --quick (CI): kill -9 during an erasure has once left sled's file unreadable
# (docs/RELIABILITY.md, open); the full campaign and `--only erase` still run it.
if { [ -z "$only" ] && [ "$quick" = 0 ]; } || [ "$only" = erase ]; then
  [ -d "$work/ingest-clean" ] || xargs -a "$work/files" -d '\n' "$bin" ingest --data "$work/ingest-clean" >/dev/null 2>&1
  campaign_erase
fi
if [ -z "$only" ] || [ "$only" = diskfull ]; then
  [ -d "$work/ingest-clean" ] || xargs -a "$work/files" -d '\n' "$bin" ingest --data "$work/ingest-clean" >/dev/null 2>&1
  campaign_diskfull
fi

echo
echo "| campaign | runs | faults injected | messages | lost | duplicated | time |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${results[@]}"
if [ "$failed" != 0 ]; then
  echo "chaos.sh: an invariant failed" >&2
  exit 1
fi
