#!/usr/bin/env bash
# The Dockerfile's build steps, run without a Docker engine: build the release binary, lay out
# the runtime image's files in a staging root, and run the image's build-time check and entry
# point against that layout as an unprivileged user. Keep in step with Dockerfile.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/deskmail-target}"

# build stage
cargo build --release --locked
stage="$(mktemp -d /tmp/deskmail-image.XXXXXX)"
trap 'rm -rf "$stage"' EXIT
install -D -m 0755 -t "$stage/usr/local/bin" "$CARGO_TARGET_DIR/release/deskmail" \
  "$CARGO_TARGET_DIR/release/deskmail-engine"

# runtime stage: same paths as the image (the binary carries its rules and templates)
mkdir -p "$stage/var/lib/deskmail"
# Sample mail for the smoke test below only; the image holds none.
sample="$(mktemp -d /tmp/deskmail-sample.XXXXXX)"
trap 'rm -rf "$stage" "$sample"' EXIT
cp -r fixtures/mail "$sample/mail"
chmod -R a+rX "$sample"

run_as_nobody() {
  if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
    chown -R nobody:nogroup "$stage/var/lib/deskmail"
    chmod 0755 "$stage"
    setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
  else
    "$@"
  fi
}

export DESKMAIL_DATA="$stage/var/lib/deskmail"
unset DESKMAIL_RULES DESKMAIL_TEMPLATES DESKMAIL_CONFIG
cd "$stage/var/lib/deskmail"
run_as_nobody "$stage/usr/local/bin/deskmail" --version
run_as_nobody "$stage/usr/local/bin/deskmail" rules check
run_as_nobody "$stage/usr/local/bin/deskmail" ingest --json "$sample/mail" >/dev/null
run_as_nobody "$stage/usr/local/bin/deskmail" stats --json
run_as_nobody "$stage/usr/local/bin/deskmail" search --json invoice >/dev/null
echo "container layout OK: $(du -sh "$stage/usr/local/bin" | cut -f1) of executables"
