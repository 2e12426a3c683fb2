#!/usr/bin/env bash
# A private, real Postfix (SMTP + STARTTLS, SMTPS on 127.0.0.1 high ports) for tests, delivering
# over LMTP into the private Dovecot of scripts/dovecot.sh, so a test can send with an SMTP client
# and read the result back over IMAP.
#
# Usage:
#   scripts/postfix.sh start DIR DOVECOT_DIR
#                                   DOVECOT_DIR: where `scripts/dovecot.sh start` runs (its env
#                                   gives LMTP_PORT, AUTH_PORT, users, test CA). Wipe DIR's state,
#                                   write DIR/main.cf, DIR/master.cf and maps, start Postfix on
#                                   fresh free ports, wait until SMTP greets (10 s), write DIR/env
#                                   and print the same KEY=VALUE lines on stdout
#   scripts/postfix.sh stop DIR     stop it (SIGTERM, up to 5 s, then SIGKILL); quiet if not running
#   scripts/postfix.sh restart DIR  stop, then start again on the same ports with the same config,
#                                   keeping the queue (mail not yet delivered stays queued)
#
# DIR/env keys: SMTP_PORT (plain + STARTTLS) SMTPS_PORT (implicit TLS, "submissions") POSTFIX_DIR
#               POSTFIX_LOG (Postfix's log file). Values are never quoted (DIR may only hold
#               [A-Za-z0-9._+@/-]).
# Mail routing (nothing ever leaves the machine):
#   USER@example.test, USER a Dovecot user (DOVECOT_DIR/users) -> that user's INBOX (LMTP)
#   rejected@example.test   -> refused at RCPT TO, at once: "550 5.1.1 <rejected@example.test>:
#                              Recipient address rejected: no such user here"
#   any other @example.test -> refused at RCPT TO, at once: "550 5.1.1 <...>: Recipient address
#                              rejected: User unknown in virtual mailbox table"
#   any other address       -> the INBOX of Dovecot user "catchall" (envelope rewrite only;
#                              headers stay as sent; one copy however many such recipients)
# DIR/postfix.log has a line per delivery: "to=<catchall@example.test>, orig_to=<a@b.example>".
# If Dovecot is started anew (new ports, new CA), start Postfix anew too; restart reuses both.
# Clients from 127.0.0.0/8 may send without AUTH; AUTH PLAIN/LOGIN (Dovecot's users, password
# secret-USER) is offered on both ports, with or without TLS. The certificate is Dovecot's test
# certificate (DNS:localhost only): verify against DOVECOT_DIR's CA_FILE and connect to "localhost".
# Needs root; installs postfix with apt-get when it is missing (the system instance is left
# unconfigured and never started).
set -euo pipefail
export PATH="$PATH:/usr/sbin:/usr/bin:/sbin:/bin" # postfix, postconf live in /usr/sbin

DOMAIN=example.test
REJECTED=rejected@example.test
CATCHALL=catchall

die() { echo "postfix.sh: $*" >&2; exit 1; }

usage() {
  sed -n '6,15p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

need_root() {
  [ "$(id -u)" = 0 ] || die "must run as root (Postfix's master runs as root)"
}

# Install Postfix when missing (root only, never interactive). "No configuration" leaves
# /etc/postfix/main.cf absent, so the system instance cannot start; policy-rc.d / no systemd
# refusing to start it during the install is fine.
ensure_packages() {
  command -v postfix >/dev/null 2>&1 && [ -x /usr/lib/postfix/sbin/master ] && return 0
  need_root
  echo "postfix.sh: installing postfix" >&2
  {
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postfix
  } >&2 || die "apt-get install postfix failed"
}

# shellcheck source=scripts/server-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/server-lib.sh"

# True while PID exists and is not a zombie (a zombie holds no ports and counts as stopped).
alive() {
  local state
  state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# Live (non-zombie) PIDs in process group $1 (the master leads its own group; every Postfix
# daemon it starts stays in it). Read from /proc with builtins: procps may not be installed.
group_members() {
  local f stat fields pid
  for f in /proc/[0-9]*/stat; do
    { read -r stat <"$f"; } 2>/dev/null || continue
    read -r -a fields <<<"${stat##*) }" # after "pid (comm) ": state ppid pgrp ...
    if [ "${fields[2]}" = "$1" ] && [ "${fields[0]}" != Z ] && [ "${fields[0]}" != X ]; then
      pid=${f#/proc/}
      echo "${pid%/stat}"
    fi
  done
}

# The PID in the master's pid file, if that process is alive and is a Postfix master.
running_pid() {
  local pid_file=$1/queue/pid/master.pid pid exe
  [ -f "$pid_file" ] || return 1
  pid=$(head -n1 "$pid_file" 2>/dev/null | tr -d ' ' || true)
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null || true)
  [[ "$exe" == */postfix/sbin/master ]] || return 1
  alive "$pid" || return 1
  echo "$pid"
}

# `postfix stop` polls in 1 s steps; signalling the master ourselves stops in ~50 ms. On SIGTERM
# the master terminates its whole process group (smtpd, qmgr, lmtp, ...) and exits.
do_stop() {
  local dir=$1 pid i left
  pid=$(running_pid "$dir") || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do # 5 s in 50 ms steps
    left=$(group_members "$pid")
    [ -z "$left" ] && return 0
    sleep 0.05
  done
  echo "postfix.sh: postfix $pid did not stop in 5 s, killing it" >&2
  kill -KILL -- "-$pid" 2>/dev/null || true
  for ((i = 0; i < 40; i++)); do
    [ -z "$(group_members "$pid")" ] && return 0
    sleep 0.05
  done
}

# Read KEY from an env file (KEY=VALUE lines, never quoted).
env_get() { sed -n "s/^$2=//p" "$1" | head -n1; }

# Config files written less than a second ago make every Postfix command wait ~300 ms
# each (it guards against half-written files): backdate what we wrote.
backdate() { touch -d '-2 seconds' "$@"; }

write_config() {
  local dir=$1 smtp=$2 smtps=$3 lmtp=$4 auth=$5 instance=$6
  cat >"$dir/main.cf" <<EOF
# Private test Postfix written by scripts/postfix.sh; uses nothing from /etc/postfix but the
# shared program metadata. Delivers to the private Dovecot over LMTP port $lmtp.
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
mail_owner = postfix
setgid_group = postdrop
syslog_name = $instance
maillog_file_prefixes = $dir
maillog_file = $dir/postfix.log

inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = localhost
mydomain = localdomain
myorigin = \$myhostname
smtpd_banner = \$myhostname ESMTP $instance
biff = no
append_dot_mydomain = no
smtputf8_enable = no

# No local delivery, no relaying out: $DOMAIN users go to Dovecot, everything else to $CATCHALL.
mydestination =
local_transport = error:5.1.1 local delivery is disabled
alias_maps =
alias_database =
relayhost =
relay_domains =
virtual_alias_domains =
virtual_alias_maps = regexp:$dir/virtual_alias.regexp
virtual_mailbox_domains = $DOMAIN
virtual_mailbox_maps = texthash:$dir/vmailbox
virtual_transport = lmtp:inet:127.0.0.1:$lmtp
default_transport = error:5.7.1 outside delivery is disabled
lmtp_host_lookup = native

# Messages arrive as sent: no header rewriting and no added Message-ID/Date for SMTP clients.
local_header_rewrite_clients =

mynetworks = 127.0.0.0/8
smtpd_peername_lookup = no
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:127.0.0.1:$auth
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions = check_recipient_access texthash:$dir/recipient_access
smtpd_error_sleep_time = 0
in_flow_delay = 0

smtpd_tls_security_level = may
smtpd_tls_chain_files = $dir/tls/server.key, $dir/tls/server.pem
smtpd_tls_session_cache_database =
smtpd_tls_received_header = yes

# While Dovecot (its auth) is down, every new smtpd exits at the first connection ("fatal: no
# SASL authentication mechanisms") and the master then pauses the service: 1 s, not 60 s.
service_throttle_time = 1s

# Quick retries of deferred mail (e.g. while Dovecot is down).
queue_run_delay = 2s
minimal_backoff_time = 2s
maximal_backoff_time = 4s
EOF

  # No chroot anywhere (the column after "private"/"unpriv" is "n"); smtpd on 127.0.0.1 only.
  cat >"$dir/master.cf" <<EOF
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:$smtp inet n  -       n       -       -       smtpd
127.0.0.1:$smtps inet n -       n       -       -       smtpd
  -o syslog_name=$instance/submissions
  -o smtpd_tls_wrappermode=yes
  -o smtpd_tls_security_level=encrypt
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
}

write_maps() {
  local dir=$1 dovecot_dir=$2 u
  : >"$dir/vmailbox"
  while IFS= read -r u; do
    [ -n "$u" ] && echo "$u@$DOMAIN $u" >>"$dir/vmailbox"
  done <"$dovecot_dir/users"
  # Listed as a valid mailbox so that the access map, not "User unknown", refuses it.
  echo "$REJECTED rejected" >>"$dir/vmailbox"
  cat >"$dir/recipient_access" <<EOF
$REJECTED 550 5.1.1 no such user here
EOF
  # Every recipient outside $DOMAIN goes to the catch-all user (case-insensitive).
  cat >"$dir/virtual_alias.regexp" <<EOF
!/@${DOMAIN//./\\.}\$/ $CATCHALL@$DOMAIN
EOF
}

write_env() {
  local dir=$1 smtp=$2 smtps=$3
  cat >"$dir/env.tmp" <<EOF
SMTP_PORT=$smtp
SMTPS_PORT=$smtps
POSTFIX_DIR=$dir
POSTFIX_LOG=$dir/postfix.log
EOF
  mv "$dir/env.tmp" "$dir/env"
}

# Queue and data directories with the owners and modes Postfix insists on (as in
# /etc/postfix/postfix-files; `postfix start` would create them with "post-install create-missing"
# in its ~0.4 s of integrity checks, which launch skips).
make_dirs() {
  local dir=$1 q private=()
  for q in active bounce corrupt defer deferred flush hold incoming private saved trace; do
    private+=("$dir/queue/$q")
  done
  mkdir -p "$dir/queue/pid" "$dir/queue/maildrop" "$dir/queue/public" "$dir/data" "${private[@]}"
  chown root:root "$dir/queue" "$dir/queue/pid"
  chmod 755 "$dir/queue" "$dir/queue/pid"
  chown postfix:root "${private[@]}"
  chmod 700 "${private[@]}"
  chown postfix:postdrop "$dir/queue/maildrop" "$dir/queue/public"
  chmod 730 "$dir/queue/maildrop"
  chmod 710 "$dir/queue/public"
  chown postfix:postfix "$dir/data"
  chmod 700 "$dir/data"
}

# Start Postfix from an existing config; wait until the SMTP port greets with our instance's
# banner (not just any listener). Returns 2 when a port was taken, 1 on other failures.
launch() {
  local dir=$1 smtp=$2 instance banner deadline line log_size
  instance=$(sed -n 's/^syslog_name = //p' "$dir/main.cf")
  banner="ESMTP $instance"
  backdate "$dir/main.cf" "$dir/master.cf" "$dir/vmailbox" "$dir/recipient_access" \
    "$dir/virtual_alias.regexp"
  # quick-start: skip `postfix start`'s integrity checks (~0.4 s; make_dirs did their work, and
  # they only warn that the queue lives inside the config directory). Postfix removes the file.
  touch "$dir/queue/quick-start"
  log_size=$(stat -c %s "$dir/postfix.log" 2>/dev/null || echo 0)
  # The daemon must not keep the caller's stdout/stderr open (a piping caller would hang).
  if ! postfix -c "$dir" start </dev/null >"$dir/postfix.out" 2>&1; then
    port_taken "$dir" "$log_size" && return 2
    return 1
  fi
  # 10 s by the clock, not by count: a probe may itself wait up to 1 s for a greeting (smtpd
  # accepts, then dies without one, while Dovecot's auth is down).
  deadline=$((${EPOCHREALTIME/[.,]/} + 10000000))
  while [ "${EPOCHREALTIME/[.,]/}" -lt "$deadline" ]; do
    if running_pid "$dir" >/dev/null &&
      line=$( (exec 3<>"/dev/tcp/127.0.0.1/$smtp" && IFS= read -r -t 1 l <&3 &&
        printf 'QUIT\r\n' >&3 && printf '%s' "$l") 2>/dev/null) &&
      [[ "$line" == "220 "*"$banner"* ]]; then
      return 0
    fi
    sleep 0.05
  done
  do_stop "$dir"
  port_taken "$dir" "$log_size" && return 2
  return 1
}

# Did this launch fail to bind (the master logs that; the log grew from $2 bytes)?
port_taken() {
  { cat "$1/postfix.out"; tail -c "+$(($2 + 1))" "$1/postfix.log"; } 2>/dev/null |
    grep -q 'Address already in use'
}

fail_with_log() {
  local dir=$1
  echo "postfix.sh: Postfix did not come up in $dir; its output, the end of its log:" >&2
  cat "$dir/postfix.out" >&2 2>/dev/null || true
  tail -n 40 "$dir/postfix.log" >&2 2>/dev/null || true
  # The postfix command sends its fatal errors (bad main.cf values) to syslog only, unless
  # stderr is a terminal: have it check main.cf again on a pseudo-terminal to show them here.
  echo "postfix.sh: postfix -c $dir status says:" >&2
  script -qec "postfix -c $dir status" /dev/null >&2 </dev/null || true
  if grep -qs 'Connect to Dovecot auth socket' "$dir/postfix.log"; then
    echo "postfix.sh: Dovecot's auth is unreachable and smtpd cannot run without it" >&2
  fi
  exit 1
}

do_start() {
  local dir=$1 dovecot_dir=$2 denv lmtp auth instance attempt rc smtp smtps
  denv=$dovecot_dir/env
  [ -f "$denv" ] || die "$dovecot_dir has no env: start it with scripts/dovecot.sh start first"
  lmtp=$(env_get "$denv" LMTP_PORT)
  auth=$(env_get "$denv" AUTH_PORT)
  [ -n "$lmtp" ] || die "no LMTP_PORT in $denv"
  [ -n "$auth" ] || die "no AUTH_PORT in $denv (started by an older scripts/dovecot.sh?)"
  grep -qx "$CATCHALL" "$dovecot_dir/users" 2>/dev/null ||
    die "no user $CATCHALL in $dovecot_dir/users (started by an older scripts/dovecot.sh?)"
  [ -f "$dovecot_dir/tls/server.pem" ] || die "no $dovecot_dir/tls/server.pem"

  do_stop "$dir"
  make_traversable "$dir"
  # Wipe only what this script owns, never the whole of a caller's DIR.
  rm -rf "$dir/queue" "$dir/data" "$dir/tls" "$dir/main.cf" "$dir/master.cf" "$dir/vmailbox" \
    "$dir/recipient_access" "$dir/virtual_alias.regexp" "$dir/postfix.log" "$dir/postfix.out" \
    "$dir/env" "$dir/env.tmp"
  chmod 755 "$dir"

  mkdir -p "$dir/tls"
  cp "$dovecot_dir/tls/server.pem" "$dovecot_dir/tls/server.key" "$dovecot_dir/tls/ca.pem" \
    "$dir/tls/"
  chmod 600 "$dir/tls/server.key"
  make_dirs "$dir"
  write_maps "$dir" "$dovecot_dir"
  # Unique per DIR: syslog_name, banner and log tag of this instance.
  instance="postfix-deskmail-$(printf '%s' "$dir" | sha1sum | cut -c1-12)"

  # Fresh ports each start; if another process grabbed one in the meantime, pick again.
  for attempt in 1 2 3 4 5; do
    read -r smtp smtps < <(pick_ports 2)
    write_config "$dir" "$smtp" "$smtps" "$lmtp" "$auth" "$instance"
    rc=0
    launch "$dir" "$smtp" || rc=$?
    if [ "$rc" = 0 ]; then
      write_env "$dir" "$smtp" "$smtps"
      cat "$dir/env"
      return 0
    fi
    [ "$rc" = 2 ] || break
    echo "postfix.sh: a port was taken (attempt $attempt), picking others" >&2
  done
  fail_with_log "$dir"
}

do_restart() {
  local dir=$1 smtp
  if [ ! -f "$dir/env" ] || [ ! -f "$dir/main.cf" ]; then
    die "$dir has no started Postfix (run start first)"
  fi
  do_stop "$dir"
  # Same config, so same ports; the queue stays.
  smtp=$(env_get "$dir/env" SMTP_PORT)
  launch "$dir" "$smtp" || fail_with_log "$dir"
  cat "$dir/env"
}

[ $# -ge 2 ] || usage
cmd=$1
case "$cmd" in
  start)
    [ $# -eq 3 ] || usage
    ensure_packages
    need_root
    dir=$(resolve_dir "$2")
    [ -d "$3" ] || die "DOVECOT_DIR $3 does not exist"
    dovecot_dir=$(cd "$3" && pwd -P)
    do_start "$dir" "$dovecot_dir"
    ;;
  restart)
    [ $# -eq 2 ] || usage
    ensure_packages
    need_root
    dir=$(resolve_dir "$2")
    do_restart "$dir"
    ;;
  stop)
    [ $# -eq 2 ] || usage
    [ -d "$2" ] || exit 0
    dir=$(cd "$2" && pwd -P)
    do_stop "$dir"
    ;;
  *) usage ;;
esac
