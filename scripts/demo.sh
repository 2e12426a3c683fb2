#!/usr/bin/env bash
# deskmail's main job on the embedded default (sled + tantivy in one data directory, no server):
# ingest the fixture AP/AR mailbox, classify every message, extract invoice data, answer searches.
# Usage: scripts/demo.sh [MAIL_PATH...]   (default: fixtures/mail)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/deskmail-target}"
cargo build --release --locked --quiet
bin="$CARGO_TARGET_DIR/release/deskmail"
data="${DESKMAIL_DATA:-demo-data}"
paths=("$@")
[ ${#paths[@]} -gt 0 ] || paths=(fixtures/mail)

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
step "$bin" rules check --rules rules
step "$bin" ingest --data "$data" --rules rules --mailbox ap "${paths[@]}"
step "$bin" stats --data "$data"
step "$bin" search --data "$data" --limit 5 category:ap.invoice
step "$bin" search --data "$data" --limit 5 'amount:>1000 has:attachment'
step "$bin" search --data "$data" --limit 5 'category:ar.dispute OR category:ar.promise_to_pay'
first=$("$bin" search --data "$data" --json --limit 1 category:ap.invoice | python3 -c 'import json,sys; t=json.load(sys.stdin)["threads"]; print(t[0]["message_ids"][0] if t else "")')
if [ -n "$first" ]; then
  step "$bin" show --data "$data" "$first"
fi
