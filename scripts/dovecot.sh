#!/usr/bin/env bash
# A private, real Dovecot (IMAP, IMAPS, LMTP, auth on 127.0.0.1 high ports) for tests, benchmarks.
#
# Usage:
#   scripts/dovecot.sh start DIR    wipe DIR's state, write DIR/dovecot.conf, users and a test CA,
#                                   start Dovecot on fresh free ports, wait until IMAP answers,
#                                   write DIR/env and print the same KEY=VALUE lines on stdout
#   scripts/dovecot.sh stop DIR     stop it (SIGTERM, up to 5 s, then SIGKILL); quiet if not running
#   scripts/dovecot.sh restart DIR  stop, then start again on the same ports, keeping mail, users
#                                   and certificates (only the runtime dir DIR/run is wiped)
#   OAUTH_INTROSPECTION_URL=URL scripts/dovecot.sh start DIR
#                                   also accept XOAUTH2/OAUTHBEARER, tokens checked at URL+token
#
# DIR/env keys: DOVECOT_DIR IMAP_PORT (plain + STARTTLS) IMAPS_PORT (implicit TLS) LMTP_PORT
#               CA_FILE DOVECOT_CONF (for `doveadm -c`) MAIL_ROOT (user U: $MAIL_ROOT/U/Maildir)
#               PID_FILE AUTH_PORT (Dovecot's auth protocol, for Postfix's smtpd_sasl_type =
#               dovecot; see scripts/postfix.sh). Values are never quoted (DIR may only hold
#               [A-Za-z0-9._+@/-]).
# Users (DIR/users): ap ar billing bench catchall vendor customer, password "secret-USER"
# (scripts/postfix.sh delivers mail for outside addresses to catchall). "ap" and "ap@anything"
# are the same user. The server certificate names DNS:localhost only: TLS to "localhost"
# verifies against CA_FILE, TLS to "127.0.0.1" must not.
# Needs root (mail is delivered as uid 65534, which Dovecot needs root to switch to); installs
# dovecot-imapd, dovecot-lmtpd and openssl with apt-get when they are missing.
set -euo pipefail

USERS=(ap ar billing bench catchall vendor customer)
MAIL_UID=65534 # nobody:nogroup; Dovecot refuses to deliver mail as uid 0
MAIL_GID=65534

die() { echo "dovecot.sh: $*" >&2; exit 1; }

usage() {
  sed -n '3,10p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

need_root() {
  [ "$(id -u)" = 0 ] || die "must run as root (Dovecot has to switch to uid $MAIL_UID for mail)"
}

# Install the Debian packages when a binary is missing (root only, never interactive).
ensure_packages() {
  local pkgs=()
  command -v dovecot >/dev/null 2>&1 || pkgs+=(dovecot-imapd)
  [ -x /usr/lib/dovecot/lmtp ] || pkgs+=(dovecot-lmtpd)
  command -v openssl >/dev/null 2>&1 || pkgs+=(openssl)
  [ ${#pkgs[@]} -eq 0 ] && return 0
  need_root
  echo "dovecot.sh: installing ${pkgs[*]}" >&2
  # The packages' postinst tries to start the system service; policy-rc.d/no systemd may refuse,
  # which is fine: our instance never uses /etc/dovecot or /run/dovecot.
  {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}"
  } >&2 || die "apt-get install ${pkgs[*]} failed"
}

# shellcheck source=scripts/server-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/server-lib.sh"

# The PID in the pid file, if that process is alive and is a dovecot master.
running_pid() {
  local pid_file=$1/run/master.pid pid exe
  [ -f "$pid_file" ] || return 1
  pid=$(head -n1 "$pid_file" 2>/dev/null || true)
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null || true)
  [[ "$exe" == */dovecot ]] || return 1
  echo "$pid"
}

# True while PID exists and is not a zombie. The daemonized master's parent is PID 1, which
# may reap it only seconds after it exited; a zombie holds no ports and counts as stopped.
alive() {
  local state
  state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# PIDs whose parent is $1 (read from /proc with builtins: procps may not be installed).
children_of() {
  local f stat fields
  for f in /proc/[0-9]*/stat; do
    { read -r stat <"$f"; } 2>/dev/null || continue
    read -r -a fields <<<"${stat##*) }" # after "pid (comm) ": state ppid ...
    if [ "${fields[1]}" = "$1" ]; then f=${f#/proc/}; echo "${f%/stat}"; fi
  done
}

# The process title of PID (Dovecot's children show as "dovecot-INSTANCE/SERVICE").
title_of() { { tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null || true; }

do_stop() {
  local dir=$1 pid kids k i instance left
  pid=$(running_pid "$dir") || return 0
  instance=$(sed -n 's/^instance_name = //p' "$dir/dovecot.conf" 2>/dev/null || true)
  kids=$(children_of "$pid")
  kill -TERM "$pid" 2>/dev/null || return 0
  # Left alone, imap processes keep their clients up to ~10 s after the master is gone (Dovecot
  # spreads the disconnects); SIGTERM makes them say BYE and close now. The log process stays
  # so that their last lines are written.
  for k in $kids; do
    case "$(title_of "$k")" in
      *"$instance/log"*) ;;
      *"$instance/"*) kill -TERM "$k" 2>/dev/null || true ;;
    esac
  done
  for ((i = 0; i < 100; i++)); do # 5 s in 50 ms steps; Dovecot itself needs about 1 s
    alive "$pid" || break
    sleep 0.05
  done
  if alive "$pid"; then
    echo "dovecot.sh: dovecot $pid did not stop in 5 s, killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  # Wait for our children too (normally already gone), so nothing holds DIR or a port.
  for ((i = 0; i < 40; i++)); do
    left=""
    for k in $kids; do
      if alive "$k" && [[ "$(title_of "$k")" == *"$instance/"* ]]; then left+=" $k"; fi
    done
    [ -z "$left" ] && return 0
    sleep 0.05
  done
  for k in $left; do kill -KILL "$k" 2>/dev/null || true; done
}

# Test CA and a server certificate for DNS:localhost only (no IP SAN, on purpose: a client
# connecting to 127.0.0.1 must see a name mismatch). EC P-256 keys: instant to make.
make_certs() {
  local tls=$1/tls
  mkdir -p "$tls"
  (
    cd "$tls"
    openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
      -keyout ca.key -out ca.pem -days 3650 -subj "/CN=deskmail test CA $(basename "$1")" \
      -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
      -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
    cat >server.ext <<'EOF'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
      -out server.pem -days 3650 -extfile server.ext 2>/dev/null
    rm -f server.csr ca.srl
    chmod 600 ca.key server.key
  ) || die "openssl failed to make the test certificates"
}

# With OAUTH_INTROSPECTION_URL set at start (a token introspection endpoint the caller runs; the
# token is appended to the URL), XOAUTH2 and OAUTHBEARER logins are checked against it.
oauth_passdb() {
  local dir=$1
  [ -n "${OAUTH_INTROSPECTION_URL:-}" ] || return 0
  cat >"$dir/oauth2.conf.ext" <<EOF
introspection_mode = get
introspection_url = $OAUTH_INTROSPECTION_URL
username_attribute = username
active_attribute = active
active_value = true
EOF
  cat <<EOF
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $dir/oauth2.conf.ext
}
EOF
}

write_config() {
  local dir=$1 imap=$2 imaps=$3 lmtp=$4 auth=$5 instance
  # Unique per DIR, so instances never share a name (or a base_dir) with each other or with a
  # system Dovecot (instance "dovecot", base_dir /run/dovecot).
  instance="deskmail-test-$(printf '%s' "$dir" | sha1sum | cut -c1-12)"
  cat >"$dir/dovecot.conf" <<EOF
# Private test Dovecot written by scripts/dovecot.sh; includes nothing from /etc/dovecot.
instance_name = $instance
base_dir = $dir/run
state_dir = $dir/state
log_path = $dir/dovecot.log
login_greeting = Dovecot ready ($instance)

listen = 127.0.0.1
protocols = imap lmtp

ssl = yes
ssl_cert = <$dir/tls/server.pem
ssl_key = <$dir/tls/server.key
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = plain login${OAUTH_INTROSPECTION_URL:+ xoauth2 oauthbearer}
auth_verbose = yes

# A wrong password must not slow the next login down (tests try wrong passwords on purpose).
auth_failure_delay = 0

# "ap" and "ap@anything" are the same user (LMTP recipients carry a domain).
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n $dir/passwd
}
$(oauth_passdb "$dir")
userdb {
  driver = static
  args = uid=$MAIL_UID gid=$MAIL_GID home=$dir/mail/%n
}
mail_location = maildir:~/Maildir

service imap-login {
  inet_listener imap {
    port = $imap
  }
  inet_listener imaps {
    port = $imaps
    ssl = yes
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $lmtp
  }
}
# Postfix's smtpd_sasl_type = dovecot (smtpd_sasl_path = inet:127.0.0.1:AUTH_PORT).
service auth {
  inet_listener auth-client {
    address = 127.0.0.1
    port = $auth
  }
}
service anvil {
  # Nobody may register auth penalties, so failed logins never delay later ones.
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
EOF
}

write_env() {
  local dir=$1 imap=$2 imaps=$3 lmtp=$4 auth=$5
  cat >"$dir/env.tmp" <<EOF
DOVECOT_DIR=$dir
IMAP_PORT=$imap
IMAPS_PORT=$imaps
LMTP_PORT=$lmtp
CA_FILE=$dir/tls/ca.pem
DOVECOT_CONF=$dir/dovecot.conf
MAIL_ROOT=$dir/mail
PID_FILE=$dir/run/master.pid
AUTH_PORT=$auth
EOF
  mv "$dir/env.tmp" "$dir/env"
}

# Start the daemon from an existing config; wait until the IMAP port greets with our instance's
# greeting (not just any listener). Returns 2 when a port was taken, 1 on other failures.
launch() {
  local dir=$1 imap=$2 instance greeting i line
  rm -rf "$dir/run" # a stale anvil socket brings the auth-penalty stall back
  mkdir -p "$dir/state"
  instance=$(sed -n 's/^instance_name = //p' "$dir/dovecot.conf")
  greeting="Dovecot ready ($instance)"
  # The daemon must not keep the caller's stdout/stderr open (a piping caller would hang).
  if ! dovecot -c "$dir/dovecot.conf" </dev/null >"$dir/dovecot.out" 2>&1; then
    grep -q 'Address already in use' "$dir/dovecot.out" && return 2
    return 1
  fi
  for ((i = 0; i < 200; i++)); do # 10 s in 50 ms steps
    if running_pid "$dir" >/dev/null &&
      line=$( (exec 3<>"/dev/tcp/127.0.0.1/$imap" && IFS= read -r -t 1 l <&3 && printf '%s' "$l") 2>/dev/null) &&
      [[ "$line" == *"$greeting"* ]]; then
      return 0
    fi
    if grep -q 'Address already in use' "$dir/dovecot.out" 2>/dev/null; then
      do_stop "$dir"
      return 2
    fi
    sleep 0.05
  done
  do_stop "$dir"
  return 1
}

fail_with_log() {
  local dir=$1
  echo "dovecot.sh: Dovecot did not come up in $dir; its output and the end of its log:" >&2
  cat "$dir/dovecot.out" >&2 2>/dev/null || true
  tail -n 100 "$dir/dovecot.log" >&2 2>/dev/null || true
  exit 1
}

do_start() {
  local dir=$1 u attempt rc imap imaps lmtp auth
  do_stop "$dir"
  make_traversable "$dir"
  # Wipe only what this script owns, never the whole of a caller's DIR.
  rm -rf "$dir/run" "$dir/state" "$dir/mail" "$dir/tls" "$dir/passwd" "$dir/users" \
    "$dir/dovecot.conf" "$dir/dovecot.log" "$dir/dovecot.out" "$dir/env" "$dir/env.tmp"
  chmod 755 "$dir"

  # Users: passwd-file readable by the dovecot user (auth runs as it), or every login fails.
  : >"$dir/passwd"
  for u in "${USERS[@]}"; do
    echo "$u:secret-$u" >>"$dir/passwd"
    echo "$u" >>"$dir/users"
    mkdir -p "$dir/mail/$u/Maildir/cur" "$dir/mail/$u/Maildir/new" "$dir/mail/$u/Maildir/tmp"
  done
  chown root:dovecot "$dir/passwd"
  chmod 640 "$dir/passwd"
  chown -R "$MAIL_UID:$MAIL_GID" "$dir/mail"

  make_certs "$dir"

  # Fresh ports each start; if another process grabbed one in the meantime, pick again.
  for attempt in 1 2 3 4 5; do
    read -r imap imaps lmtp auth < <(pick_ports 4)
    write_config "$dir" "$imap" "$imaps" "$lmtp" "$auth"
    rc=0
    launch "$dir" "$imap" || rc=$?
    if [ "$rc" = 0 ]; then
      write_env "$dir" "$imap" "$imaps" "$lmtp" "$auth"
      cat "$dir/env"
      return 0
    fi
    [ "$rc" = 2 ] || break
    echo "dovecot.sh: a port was taken (attempt $attempt), picking others" >&2
  done
  fail_with_log "$dir"
}

do_restart() {
  local dir=$1 imap
  if [ ! -f "$dir/env" ] || [ ! -f "$dir/dovecot.conf" ]; then
    die "$dir has no started Dovecot (run start first)"
  fi
  do_stop "$dir"
  # Same config, so same ports; only the runtime dir is wiped (in launch).
  imap=$(sed -n 's/^IMAP_PORT=//p' "$dir/env")
  launch "$dir" "$imap" || fail_with_log "$dir"
  cat "$dir/env"
}

[ $# -eq 2 ] || usage
cmd=$1
case "$cmd" in
  start | restart)
    ensure_packages
    need_root
    dir=$(resolve_dir "$2")
    if [ "$cmd" = start ]; then do_start "$dir"; else do_restart "$dir"; fi
    ;;
  stop)
    [ -d "$2" ] || exit 0
    dir=$(cd "$2" && pwd -P)
    do_stop "$dir"
    ;;
  *) usage ;;
esac
