#!/usr/bin/env bash
# Make fixtures/legacy: a data directory written by an earlier deskmail release, and what that
# release printed about it, for tests/at_rest.rs's migration tests.
#
#   scripts/make-legacy-store.sh OLD_DESKMAIL_BINARY FORMAT [EXPECTED]
#
# Writes store-formatFORMAT.tar.zst and backup-formatFORMAT.tar.zst, and EXPECTED (what the
# release printed; expected.json by default: the releases of formats 1 to 3 printed the same
# for this mail, byte for byte; format 5's, expected-format5.json, names some threads after
# their subject).
# The committed fixtures were made with the release builds of
#   format 1 (records and raw messages in clear, no keyring): commit 2394fdd (2026-12-04), the
#     last before encryption at rest;
#   format 2 (sealed; message records sealed in sled, the master key in the directory):
#     commit 0ee99b9 (2026-12-04), the last before message records moved to the blob log;
#   format 3 (sled, records sealed, message records in the blob log): commit 22ecf03
#     (2026-12-05), the last before the store moved to fjall;
#   format 5 (fjall, ids in hex in the keys): commit b736a7c (2026-12-07), the last before ids
#     were kept in bytes (format 6).
# The directory holds fixtures/mail ingested, one contact erased (a tombstone, a pseudonymised
# invoice record, an audit record), a thread on legal hold and a second audit record; and
# that release's backup archive of it.
set -euo pipefail
cd "$(dirname "$0")/.."
old="${1:?usage: scripts/make-legacy-store.sh OLD_DESKMAIL_BINARY FORMAT}"
format="${2:?usage: scripts/make-legacy-store.sh OLD_DESKMAIL_BINARY FORMAT}"
expected_file="${3:-expected.json}"
out=fixtures/legacy
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
unset DESKMAIL_DATA DESKMAIL_RULES DESKMAIL_CONFIG DESKMAIL_AUDIT_KEY_FILE DESKMAIL_AUDIT_KEY_COMMAND \
  DESKMAIL_STORE_KEY_FILE DESKMAIL_STORE_KEY_COMMAND
data="$work/data"
"$old" ingest --data "$data" fixtures/mail > /dev/null 2>&1
"$old" erase --data "$data" crediteuren@visser-groothandel.example > /dev/null
# Hold the thread of the first stored message.
first=$(python3 - "$data" <<'PY'
import hashlib, pathlib, sys
for p in sorted(pathlib.Path("fixtures/mail").rglob("*.eml")):
    if "malformed" not in p.parts:
        print(hashlib.sha256(p.read_bytes()).hexdigest()[:32]); break
PY
)
thread=$("$old" show --data "$data" --json "$first" | python3 -c 'import json,sys; print(json.load(sys.stdin)["thread_id"])')
"$old" hold --data "$data" "$thread" > /dev/null

mkdir -p "$out"
python3 - "$old" "$data" "$out/$expected_file" <<'PY'
import hashlib, json, pathlib, subprocess, sys
old, data, dest = sys.argv[1:]
def run(*args):
    r = subprocess.run([old, *args, "--data", data], capture_output=True, text=True)
    return r
messages, threads = {}, {}
for p in sorted(pathlib.Path("fixtures/mail").rglob("*.eml")):
    mid = hashlib.sha256(p.read_bytes()).hexdigest()[:32]
    r = run("show", "--json", mid)
    if r.returncode != 0:
        continue  # rejected or erased
    shown = json.loads(r.stdout)
    shown.pop("raw", None)
    messages[mid] = shown
    t = shown["thread_id"]
    if t not in threads:
        threads[t] = json.loads(run("thread", "--json", t).stdout)
expected = {
    "made_with": subprocess.run([old, "--version"], capture_output=True, text=True).stdout.strip(),
    "stats": json.loads(run("stats", "--json").stdout),
    "messages": messages,
    "threads": threads,
    "audit": run("audit", "verify").stdout.strip(),
    "erased_address": "crediteuren@visser-groothandel.example",
    "held_thread": None,
}
pathlib.Path(dest).write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
PY
python3 - "$out/$expected_file" "$thread" <<'PY'
import json, sys
p, t = sys.argv[1:]
e = json.load(open(p)); e["held_thread"] = t
open(p, "w").write(json.dumps(e, indent=1, sort_keys=True) + "\n")
PY
tar -C "$data" -cf - store | zstd -19 -q -o "$out/store-format$format.tar.zst" -f
# The same directory as that release's `deskmail backup` archive.
rm -f "$out/backup-format$format.tar.zst"
"$old" backup --data "$data" "$out/backup-format$format.tar.zst" > /dev/null
ls -la "$out"
