#!/usr/bin/env bash
# Benchmark (not a test): deskmail's first full IMAP sync of a mailbox against mbsync (isync)
# copying the same mailbox, both from a private Dovecot on 127.0.0.1 (scripts/dovecot.sh).
#
# Usage: scripts/bench-imap.sh
#   CORPUS=DIR     maildir to serve (default ../shared/corpus/spamassassin beside the repo)
#   RUNS=N         timed runs per tool (default 3); each starts from a fresh local copy/state
#   DESKMAIL=PATH  deskmail binary (default $CARGO_TARGET_DIR/release/deskmail, built with
#                  `cargo build --release --locked` when that file is missing)
#   TMPDIR=DIR     where the work dir goes (default /tmp, on disk here; TMPDIR=/dev/shm takes
#                  the disk out: file creation on this VM's disk varies 2-3x from run to run)
# Prints every run and a summary (median seconds, messages/s, deskmail's peak RSS, and the ratio
# mbsync time / deskmail time). Installs dovecot, isync and GNU time with apt-get when missing
# (root). Needs root anyway: Dovecot runs as root here (see scripts/dovecot.sh).
set -euo pipefail
# Paths the caller gives are relative to the caller's directory; defaults to the repo root.
[ -n "${CORPUS:-}" ] && [[ "$CORPUS" != /* ]] && CORPUS=$PWD/$CORPUS
[ -n "${DESKMAIL:-}" ] && [[ "$DESKMAIL" != /* ]] && DESKMAIL=$PWD/$DESKMAIL
cd "$(dirname "$0")/.."
REPO=$(pwd -P)

RUNS=${RUNS:-3}
CORPUS=${CORPUS:-../shared/corpus/spamassassin}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/deskmail-target}"
DESKMAIL=${DESKMAIL:-$CARGO_TARGET_DIR/release/deskmail}

die() { echo "bench-imap: $*" >&2; exit 1; }
say() { echo "== $*"; }

[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer"
[ -d "$CORPUS" ] || die "no corpus at $CORPUS (set CORPUS=maildir)"
CORPUS=$(cd "$CORPUS" && pwd -P)

# 1. Tools. dovecot.sh installs Dovecot itself; mbsync, GNU time (peak RSS) and python3 (fast
#    maildir fill) are installed here.
need_pkgs=()
command -v mbsync >/dev/null 2>&1 || need_pkgs+=(isync)
[ -x /usr/bin/time ] || need_pkgs+=(time)
command -v python3 >/dev/null 2>&1 || need_pkgs+=(python3)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "missing packages: ${need_pkgs[*]} (install them, or run as root)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

# Build deskmail only when the binary is missing (a build in progress elsewhere holds the lock).
if [ ! -x "$DESKMAIL" ]; then
  [ "$DESKMAIL" = "$CARGO_TARGET_DIR/release/deskmail" ] || die "no deskmail binary at $DESKMAIL"
  say "building deskmail (cargo build --release --locked)"
  cargo build --release --locked
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-imap.XXXXXX")
chmod 755 "$WORK" # Dovecot's unprivileged processes must reach the mail below it
cleanup() {
  "$REPO/scripts/dovecot.sh" stop "$WORK/dovecot" || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 2. Dovecot, with user bench's INBOX filled straight from the corpus files.
say "starting Dovecot in $WORK/dovecot"
"$REPO/scripts/dovecot.sh" start "$WORK/dovecot" >/dev/null
# shellcheck source=/dev/null
. "$WORK/dovecot/env" # DOVECOT_CONF, IMAP_PORT, MAIL_ROOT, ...
: "${DOVECOT_CONF:?}" "${IMAP_PORT:?}" "${MAIL_ROOT:?}"

say "filling bench's INBOX from $CORPUS"
INBOX_DIR=$MAIL_ROOT/bench/Maildir
# Copy cur/ and new/ messages into cur/ under fresh maildir names (the corpus names are not
# unique across cur/new and carry flags); python does it without a process per file.
CORPUS_COUNT=$(python3 - "$CORPUS" "$INBOX_DIR/cur" <<'EOF'
import os, shutil, sys
src, dst = sys.argv[1], sys.argv[2]
n = 0
for sub in ("cur", "new"):
    d = os.path.join(src, sub)
    if not os.path.isdir(d):
        continue
    for name in sorted(os.listdir(d)):
        p = os.path.join(d, name)
        if not os.path.isfile(p):
            continue
        n += 1
        # maildir name "N.M.host:2,": unique, and name order is corpus order
        shutil.copyfile(p, os.path.join(dst, f"{1000000000 + n}.M{n}.bench:2,"))
print(n)
EOF
)
[ "$CORPUS_COUNT" -gt 0 ] || die "no messages in $CORPUS/cur or $CORPUS/new"
chown -R 65534:65534 "$INBOX_DIR"
# Let Dovecot build its index (and read every file once) before anything is timed, so neither
# tool pays for the first indexing; the sizes are what both tools ask for first.
doveadm -c "$DOVECOT_CONF" index -u bench INBOX
doveadm -c "$DOVECOT_CONF" fetch -u bench 'uid flags size.virtual date.received' mailbox INBOX all >/dev/null
DOVECOT_COUNT=$(doveadm -c "$DOVECOT_CONF" mailbox status -u bench messages INBOX | sed -n 's/.*messages=\([0-9]*\).*/\1/p')
echo "corpus files: $CORPUS_COUNT; Dovecot reports messages=$DOVECOT_COUNT"
[ "$DOVECOT_COUNT" = "$CORPUS_COUNT" ] || die "Dovecot sees $DOVECOT_COUNT messages, expected $CORPUS_COUNT"

# Median of the numbers given as arguments.
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN {printf "%.0f", (s > 0) ? n / s : 0}'; }

# Every run writes into a new directory, and nothing is deleted until all runs are done:
# on a disk mounted with `discard` (as here), deleting the previous run's thousands of files
# slows the next run's file creation several-fold, which would measure the disk, not the tool.

# 3. mbsync: pull INBOX into a fresh local maildir, fresh sync state each run.
# isync 1.4 says Far/Near; older versions only know Master/Slave.
mbsync_version=$(mbsync --version | awk '{print $2}')
if printf '%s\n' "1.4" "$mbsync_version" | sort -V -C; then far=Far near=Near; else far=Master near=Slave; fi
write_mbsyncrc() { # LOCAL_DIR
  cat <<EOF
IMAPAccount bench
Host 127.0.0.1
Port $IMAP_PORT
User bench
Pass secret-bench
SSLType None
# mbsync refuses to send a password in the clear unless told this mechanism explicitly.
AuthMechs LOGIN

IMAPStore remote
Account bench

MaildirStore local
Path $1/
Inbox $1/INBOX

Channel bench
$far :remote:INBOX
$near :local:INBOX
Sync Pull
Create $near
# sync state inside the local maildir, so each run starts from nothing
SyncState *
EOF
}

say "mbsync $mbsync_version: $RUNS runs"
mb_times=()
for ((run = 1; run <= RUNS; run++)); do
  local_dir=$WORK/mbsync-$run
  mkdir -p "$local_dir"
  write_mbsyncrc "$local_dir" >"$WORK/mbsyncrc-$run"
  sync
  if ! /usr/bin/time -f '%e %M' -o "$WORK/time.txt" \
    mbsync -c "$WORK/mbsyncrc-$run" -q bench >"$WORK/mbsync-$run.log" 2>&1; then
    cat "$WORK/mbsync-$run.log" >&2
    die "mbsync run $run failed"
  fi
  read -r secs rss_kb <"$WORK/time.txt"
  copied=$(find "$local_dir/INBOX/cur" "$local_dir/INBOX/new" -type f | wc -l)
  [ "$copied" = "$CORPUS_COUNT" ] || die "mbsync run $run copied $copied messages, expected $CORPUS_COUNT"
  echo "mbsync run $run: ${secs} s, $(rate "$CORPUS_COUNT" "$secs") msg/s, peak RSS $((rss_kb / 1024)) MiB, $copied messages"
  mb_times+=("$secs")
done

# 4. deskmail: first full sync (`run --once`) into a fresh data directory each run.
cat >"$WORK/deskmail.toml" <<EOF
[[mailbox]]
name = "bench"
host = "127.0.0.1"
port = $IMAP_PORT
tls = "plain"
allow_plain_loopback = true
username = "bench"
password_env = "DESKMAIL_BENCH_PASSWORD"
folders = ["INBOX"]
EOF

json_field() { sed -n "s/.*\"$1\": *\([0-9]*\).*/\1/p" <<<"$2"; }

say "deskmail ($DESKMAIL): $RUNS runs"
dm_times=()
dm_rss_max=0
for ((run = 1; run <= RUNS; run++)); do
  data=$WORK/deskmail-$run
  sync
  if ! DESKMAIL_BENCH_PASSWORD=secret-bench /usr/bin/time -f '%e %M' -o "$WORK/time.txt" \
    "$DESKMAIL" run --config "$WORK/deskmail.toml" --data "$data" --rules "$REPO/rules" --once \
    >"$WORK/deskmail-$run.log" 2>&1; then
    tail -n 40 "$WORK/deskmail-$run.log" >&2
    die "deskmail run $run failed (does this binary support run --config --once yet?)"
  fi
  read -r secs rss_kb <"$WORK/time.txt"
  stats=$("$DESKMAIL" stats --data "$data" --json)
  messages=$(json_field messages "$stats")
  rejected=$(json_field rejected "$stats")
  if [ -z "$messages" ] || [ -z "$rejected" ]; then die "unexpected stats output: $stats"; fi
  # The corpus holds some duplicate messages, so a few less than the count is expected.
  total=$((messages + rejected))
  if [ "$total" -gt "$CORPUS_COUNT" ] || [ "$total" -lt $((CORPUS_COUNT * 95 / 100)) ]; then
    die "deskmail run $run stored $messages + rejected $rejected = $total, corpus has $CORPUS_COUNT"
  fi
  echo "deskmail run $run: ${secs} s, $(rate "$CORPUS_COUNT" "$secs") msg/s, peak RSS $((rss_kb / 1024)) MiB, messages $messages + rejected $rejected = $total"
  dm_times+=("$secs")
  [ "$rss_kb" -gt "$dm_rss_max" ] && dm_rss_max=$rss_kb
done

# 5. Summary.
mb_med=$(median "${mb_times[@]}")
dm_med=$(median "${dm_times[@]}")
echo
echo "IMAP first full sync, $RUNS runs each, Dovecot on 127.0.0.1 (plain IMAP), local files on $(df --output=fstype "$WORK" | tail -n 1)"
echo "corpus: $CORPUS_COUNT messages ($CORPUS)"
echo "mbsync $mbsync_version: median $mb_med s, $(rate "$CORPUS_COUNT" "$mb_med") msg/s"
echo "deskmail: median $dm_med s, $(rate "$CORPUS_COUNT" "$dm_med") msg/s, peak RSS $((dm_rss_max / 1024)) MiB"
awk -v m="$mb_med" -v d="$dm_med" 'BEGIN {printf "ratio (mbsync time / deskmail time): %.2f\n", (d > 0) ? m / d : 0}'
