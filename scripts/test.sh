#!/usr/bin/env bash
# Run the whole test suite: installs what the tests need (Debian packages), then cargo test.
# Usage: scripts/test.sh [extra cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
# python3: tests/fixtures.rs regenerates the PDF fixtures with scripts/make-fixtures.py.
command -v python3 >/dev/null 2>&1 || need_pkgs+=(python3)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need_pkgs+=(python3-venv)
# tests/imap.rs: a real Dovecot (IMAP, IMAPS, LMTP) started by scripts/dovecot.sh per test;
# installed here once so parallel tests do not race for apt's lock.
command -v dovecot >/dev/null 2>&1 || need_pkgs+=(dovecot-imapd)
[ -x /usr/lib/dovecot/lmtp ] || need_pkgs+=(dovecot-lmtpd)
command -v openssl >/dev/null 2>&1 || need_pkgs+=(openssl)
# tests/smtp.rs: a real Postfix (scripts/postfix.sh) delivering into that Dovecot over LMTP.
if ! command -v postfix >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
fi
command -v postfix >/dev/null 2>&1 || need_pkgs+=(postfix)
# tests/antivirus.rs: a real clamd started by scripts/clamd.sh with signatures it writes. The
# package's own service may fail to start without downloaded signatures; nothing uses it.
command -v clamd >/dev/null 2>&1 || [ -x /usr/sbin/clamd ] || need_pkgs+=(clamav-daemon)
# tests/browser.rs: the web page in Debian's Chromium, driven by Playwright (Node.js).
[ -x /usr/bin/chromium ] || need_pkgs+=(chromium)
command -v node >/dev/null 2>&1 || need_pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || need_pkgs+=(npm)
# tests/ops.rs: `systemd-analyze verify examples/deskmail.service`.
command -v systemd-analyze >/dev/null 2>&1 || need_pkgs+=(systemd)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}"
  else
    echo "missing packages: ${need_pkgs[*]} (install them with apt-get, or run as root)" >&2
    exit 1
  fi
fi

# playwright-core only (no browser download: it drives /usr/bin/chromium), pinned by the lock.
if [ ! -d tests/browser/node_modules/playwright-core ]; then
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi

# tests/fixtures.rs regenerates the generated corpora (fixtures/einvoice, fixtures/eval) with
# their pinned PyPI packages: one virtualenv outside the clone, rebuilt when a pin changes.
venv="${DESKMAIL_VENV:-/var/tmp/deskmail-py}"
reqs=(scripts/requirements-*.txt)
stamp=$(cat "${reqs[@]}" | sha256sum | cut -c1-16)
if [ "$(cat "$venv/.deskmail-stamp" 2>/dev/null)" != "$stamp" ]; then
  python3 -m venv "$venv"
  for r in "${reqs[@]}"; do "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$r"; done
  echo "$stamp" > "$venv/.deskmail-stamp"
fi
export DESKMAIL_PYTHON="$venv/bin/python"

# The server-backed tests skip where their servers cannot start (plain `cargo test` as a user);
# here they must run.
export DESKMAIL_REQUIRE_SERVERS=1
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/deskmail-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
cargo test --locked "$@"
