# Shared by scripts/dovecot.sh and scripts/postfix.sh (sourced): a safe data directory, the
# traverse bit unprivileged mail daemons need to reach it, and free loopback ports.
# The sourcing script defines die() and usage().

# Resolve DIR to an absolute path and refuse anything that would need quoting in a config file.
resolve_dir() {
  local d=$1
  [ -n "$d" ] || usage
  mkdir -p "$d"
  d=$(cd "$d" && pwd -P)
  [ "$d" != / ] || die "refusing DIR=/"
  [[ "$d" =~ ^[A-Za-z0-9._+@/-]+$ ]] || die "DIR must only hold [A-Za-z0-9._+@/-]: $d"
  printf '%s\n' "$d"
}

# The servers' helpers run as unprivileged users and must reach files under DIR: give every
# ancestor the world-traverse bit it lacks (e.g. a 0700 mktemp dir), and say so.
make_traversable() {
  local p=$1
  while [ "$p" != / ]; do
    if [ "$(( 0$(stat -c %a "$p") & 1 ))" = 0 ]; then
      chmod o+x "$p"
      echo "${0##*/}: added o+x to $p so the server's unprivileged processes can reach DIR" >&2
    fi
    p=$(dirname "$p")
  done
}

# N distinct free ports below the kernel's ephemeral range (32768+), so an outgoing
# connection cannot grab them while a server restarts. Checked by binding; start retries on a race.
pick_ports() {
  local n=$1 py
  # The system python first: a pyenv shim costs ~0.2 s per call.
  py=$(command -v /usr/bin/python3 || command -v python3 || true)
  if [ -n "$py" ]; then
    "$py" - "$n" <<'EOF'
import random, socket, sys
held, ports = [], []
while len(ports) < int(sys.argv[1]):
    p = random.randrange(15000, 32000)
    if p in ports:
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        s.close()
        continue
    held.append(s)
    ports.append(p)
print(*ports)
EOF
  else
    # No python: a port nothing answers on is very likely free; a clash is caught by the retry.
    local ports=() p
    while [ ${#ports[@]} -lt "$n" ]; do
      p=$(( 15000 + RANDOM % 17000 ))
      [[ " ${ports[*]} " == *" $p "* ]] && continue
      (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
      ports+=("$p")
    done
    echo "${ports[@]}"
  fi
}
