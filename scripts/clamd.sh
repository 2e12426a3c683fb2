#!/usr/bin/env bash
# A private, real clamd (Debian's clamav-daemon) on 127.0.0.1 and a unix socket, for tests.
#
# Usage:
#   scripts/clamd.sh start DIR    wipe DIR's clamd state, write DIR/clamd.conf and a signature
#                                 database the script writes itself (no download: the machine
#                                 may be offline), start clamd as the current user on a fresh
#                                 free port, wait until it answers PING, write DIR/env and print
#                                 the same KEY=VALUE lines on stdout
#   scripts/clamd.sh stop DIR     stop it (SIGTERM, up to 5 s, then SIGKILL); quiet if not running
#   scripts/clamd.sh restart DIR  stop, then start again with the same config (same port/socket)
#
# DIR/env keys: CLAMD_DIR CLAMD_PORT CLAMD_TCP (tcp://127.0.0.1:PORT) CLAMD_SOCKET (unix socket
#               path) CLAMD_CONF PID_FILE. Values are never quoted.
# Signatures (DIR/db/deskmail-test.ndb, body signatures on any file type clamd looks at,
# MIME parts and archives included; clamd reports them with ".UNOFFICIAL" appended):
#   Deskmail.Test.EICAR    the EICAR anti-virus test string
#   Deskmail.Test.Marker   the text DESKMAIL-AV-TEST-MARKER
# CLAMD_STREAM_MAX (default 10M) sets StreamMaxLength: INSTREAM data past it is refused.
# Installs clamav-daemon with apt-get when clamd is missing (root only). Debian's own
# clamav-daemon service is never used (it would need downloaded signatures).
set -euo pipefail

die() { echo "clamd.sh: $*" >&2; exit 1; }

usage() {
  sed -n '3,12p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# The EICAR test string and our marker, as hex (the script itself must not carry EICAR in
# clear, or a scanner would flag this file).
EICAR_HEX=58354f2150254041505b345c505a58353428505e2937434329377d2445494341522d5354414e444152442d414e544956495255532d544553542d46494c452124482b482a
MARKER_HEX=4445534b4d41494c2d41562d544553542d4d41524b4552

ensure_packages() {
  if command -v clamd >/dev/null 2>&1 || [ -x /usr/sbin/clamd ]; then return 0; fi
  [ "$(id -u)" = 0 ] || die "clamd is missing: install clamav-daemon (as root)"
  echo "clamd.sh: installing clamav-daemon" >&2
  # Its postinst may try to start the system service; that one fails without signatures or is
  # refused by policy-rc.d, which is fine: ours never uses /etc/clamav or /run/clamav.
  {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clamav-daemon
  } >&2 || die "apt-get install clamav-daemon failed"
}

clamd_bin() { command -v clamd 2>/dev/null || echo /usr/sbin/clamd; }

# shellcheck source=scripts/server-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/server-lib.sh"

# The PID in the pid file, if that process is alive and is clamd.
running_pid() {
  local pid exe
  [ -f "$1/clamd.pid" ] || return 1
  pid=$(head -n1 "$1/clamd.pid" 2>/dev/null || true)
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null || true)
  [[ "$exe" == */clamd ]] || return 1
  echo "$pid"
}

alive() {
  local state
  state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

do_stop() {
  local pid i
  pid=$(running_pid "$1") || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    alive "$pid" || break
    sleep 0.05
  done
  if alive "$pid"; then
    echo "clamd.sh: clamd $pid did not stop in 5 s, killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$1/clamd.sock"
}

write_db() {
  mkdir -p "$1/db"
  # .ndb: Name:TargetType(0 = any):Offset(* = anywhere):HexSignature
  cat >"$1/db/deskmail-test.ndb" <<EOF
Deskmail.Test.EICAR:0:*:$EICAR_HEX
Deskmail.Test.Marker:0:*:$MARKER_HEX
EOF
}

write_config() {
  local dir=$1 port=$2
  cat >"$dir/clamd.conf" <<EOF
# Private test clamd written by scripts/clamd.sh; nothing from /etc/clamav.
Foreground no
PidFile $dir/clamd.pid
LogFile $dir/clamd.log
LogTime yes
DatabaseDirectory $dir/db
TemporaryDirectory $dir/tmp
LocalSocket $dir/clamd.sock
LocalSocketMode 600
TCPAddr 127.0.0.1
TCPSocket $port
StreamMaxLength ${CLAMD_STREAM_MAX:-10M}
MaxThreads 4
ScanMail yes
ScanArchive yes
SelfCheck 0
EOF
}

write_env() {
  local dir=$1 port=$2
  cat >"$dir/env.tmp" <<EOF
CLAMD_DIR=$dir
CLAMD_PORT=$port
CLAMD_TCP=tcp://127.0.0.1:$port
CLAMD_SOCKET=$dir/clamd.sock
CLAMD_CONF=$dir/clamd.conf
PID_FILE=$dir/clamd.pid
EOF
  mv "$dir/env.tmp" "$dir/env"
}

# PONG on the TCP port (bash's /dev/tcp: no client tool needed).
pong() {
  local reply
  reply=$( (exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'zPING\0' >&3 &&
    IFS= read -r -t 1 -d '' reply_line <&3 && printf '%s' "$reply_line") 2>/dev/null) || return 1
  [ "$reply" = PONG ]
}

# Start clamd from an existing config and wait for PONG. 2: the port was taken; 1: other.
launch() {
  local dir=$1 port=$2 i rc=0
  mkdir -p "$dir/tmp"
  rm -f "$dir/clamd.sock" "$dir/clamd.pid"
  # clamd must not keep the caller's stdout/stderr open (a piping caller would hang). Its
  # parent waits until the daemon it forked says it is ready; once in a while (seen in a CI
  # run: the daemon listening, the parent still waiting for its child 10 minutes later) that
  # word never comes, so the parent gets 30 s and then the PONG below decides.
  timeout 30 "$(clamd_bin)" --config-file="$dir/clamd.conf" </dev/null >"$dir/clamd.out" 2>&1 ||
    rc=$?
  if [ "$rc" != 0 ] && [ "$rc" != 124 ]; then
    grep -qi 'address already in use' "$dir/clamd.out" "$dir/clamd.log" 2>/dev/null && return 2
    return 1
  fi
  for ((i = 0; i < 600; i++)); do # 30 s in 50 ms steps; a tiny database loads in about 1 s
    pong "$port" && running_pid "$dir" >/dev/null && return 0
    if grep -qi 'address already in use' "$dir/clamd.log" 2>/dev/null; then
      do_stop "$dir"
      return 2
    fi
    sleep 0.05
  done
  do_stop "$dir"
  return 1
}

# launch, once more when clamd's parent exits non-zero without a word (seen under a loaded
# machine right after binding): the status of the last try, 2 for a port that was taken.
launch_retrying() {
  local dir=$1 port=$2 attempt rc
  for attempt in 1 2; do
    rc=0
    launch "$dir" "$port" || rc=$?
    [ "$rc" = 1 ] && [ "$attempt" = 1 ] || return "$rc"
    echo "clamd.sh: clamd did not come up (attempt $attempt): $(tail -c 300 "$dir/clamd.out" 2>/dev/null)" >&2
    do_stop "$dir"
  done
}

fail_with_log() {
  echo "clamd.sh: clamd did not come up in $1; its output and the end of its log:" >&2
  cat "$1/clamd.out" >&2 2>/dev/null || true
  tail -n 50 "$1/clamd.log" >&2 2>/dev/null || true
  exit 1
}

do_start() {
  local dir=$1 attempt rc port
  do_stop "$dir"
  rm -rf "$dir/db" "$dir/tmp" "$dir/clamd.conf" "$dir/clamd.log" "$dir/clamd.out" \
    "$dir/env" "$dir/env.tmp"
  write_db "$dir"
  for attempt in 1 2 3 4 5; do
    read -r port < <(pick_ports 1)
    write_config "$dir" "$port"
    rc=0
    launch_retrying "$dir" "$port" || rc=$?
    if [ "$rc" = 0 ]; then
      write_env "$dir" "$port"
      cat "$dir/env"
      return 0
    fi
    [ "$rc" = 2 ] || break
    echo "clamd.sh: the port was taken (attempt $attempt), picking another" >&2
  done
  fail_with_log "$dir"
}

do_restart() {
  local dir=$1 port
  if [ ! -f "$dir/env" ] || [ ! -f "$dir/clamd.conf" ]; then
    die "$dir has no started clamd (run start first)"
  fi
  do_stop "$dir"
  port=$(sed -n 's/^CLAMD_PORT=//p' "$dir/env")
  # The same port again.
  launch_retrying "$dir" "$port" || fail_with_log "$dir"
  cat "$dir/env"
}

[ $# -eq 2 ] || usage
case "$1" in
  start | restart)
    ensure_packages
    dir=$(resolve_dir "$2")
    if [ "$1" = start ]; then do_start "$dir"; else do_restart "$dir"; fi
    ;;
  stop)
    [ -d "$2" ] || exit 0
    do_stop "$(cd "$2" && pwd -P)"
    ;;
  *) usage ;;
esac
