#!/usr/bin/env bash
# Fuzz deskmail's input parsers with cargo-fuzz (libFuzzer): builds the targets in fuzz/, copies
# the committed seeds (fuzz/seeds/<target>/) into a working corpus outside the tree, runs each
# target in turn for a fixed time, and prints one row per target. Exits 1 if any target found a
# crash, a timeout or an out-of-memory input (its artifact path is printed).
#
# Usage: scripts/fuzz.sh [--quick] [--seconds N] [TARGET...]
#   --quick       20 s per target (a smoke run)
#   --seconds N   N s per target (default 600)
#   TARGET        mail_parse rules_read query_parse query_search csv_import config_read
#                 einvoice_xml (default: all, in that order)
#
# Requires: a nightly toolchain (`rustup toolchain install nightly`) and cargo-fuzz
# (`cargo install cargo-fuzz`). Linux x86_64 or aarch64.
#
# Environment:
#   DESKMAIL_FUZZ_WORK        working corpora, artifacts and logs (default ${TMPDIR:-/tmp}/deskmail-fuzz);
#                             kept between runs, so a corpus grows from one run to the next
#   DESKMAIL_FUZZ_TARGET_DIR  cargo target directory of the fuzz build
#                             (default ${TMPDIR:-/tmp}/deskmail-fuzz-build)
#
# One libFuzzer process with one worker at a time: the machines this runs on are shared.
set -euo pipefail

ALL_TARGETS=(mail_parse rules_read query_parse query_search csv_import config_read einvoice_xml)

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
}

seconds=600
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) seconds=20 ;;
    --seconds)
      [ $# -ge 2 ] || { echo "fuzz.sh: --seconds needs a number" >&2; exit 2; }
      seconds="$2"
      shift
      ;;
    --seconds=*) seconds="${1#--seconds=}" ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) targets+=("$1") ;;
  esac
  shift
done
case "$seconds" in
  '' | *[!0-9]* | 0) echo "fuzz.sh: --seconds must be a positive whole number, not '$seconds'" >&2; exit 2 ;;
esac
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")
for t in "${targets[@]}"; do
  case " ${ALL_TARGETS[*]} " in
    *" $t "*) ;;
    *) echo "fuzz.sh: unknown target '$t' (targets: ${ALL_TARGETS[*]})" >&2; exit 2 ;;
  esac
done

root="$(cd "$(dirname "$0")/.." && pwd)"
work="${DESKMAIL_FUZZ_WORK:-${TMPDIR:-/tmp}/deskmail-fuzz}"
target_dir="${DESKMAIL_FUZZ_TARGET_DIR:-${TMPDIR:-/tmp}/deskmail-fuzz-build}"

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz.sh: needs a nightly toolchain: rustup toolchain install nightly" >&2
  exit 2
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "fuzz.sh: needs cargo-fuzz: cargo install cargo-fuzz" >&2
  exit 2
fi

# Release build with debug assertions (integer overflow and debug_assert! are findings too), no
# sanitizer: deskmail forbids unsafe code, and without ASan every target runs about twice as many
# inputs in the same time.
echo "Building ${targets[*]} (nightly cargo-fuzz, target dir $target_dir)" >&2
for t in "${targets[@]}"; do
  (cd "$root" && cargo +nightly fuzz build --debug-assertions --sanitizer none \
    --target-dir "$target_dir" "$t")
done
host="$(rustc +nightly -vV | sed -n 's/^host: //p')"
bin_dir="$target_dir/$host/release"

failed=0
rows=()
for t in "${targets[@]}"; do
  corpus="$work/corpus/$t"
  artifacts="$work/artifacts/$t"
  log="$work/logs/$t.log"
  mkdir -p "$corpus" "$artifacts" "$work/logs"
  # Seeds are copied, never fuzzed in place: libFuzzer writes new inputs into its first corpus
  # directory, and the tree must stay clean.
  cp -n "$root/fuzz/seeds/$t/"* "$corpus/" 2>/dev/null || true
  before="$(find "$artifacts" -type f | wc -l)"
  echo "Fuzzing $t for ${seconds}s (log: $log)" >&2
  start="$(date +%s)"
  status=0
  # -timeout: one input running longer than 10 s is a finding (a hang the API would feel);
  # -rss_limit_mb: libFuzzer's default, stated so a memory blow-up is reported as an OOM.
  "$bin_dir/$t" "$corpus" \
    -max_total_time="$seconds" \
    -timeout=10 \
    -rss_limit_mb=2048 \
    -print_final_stats=1 \
    -artifact_prefix="$artifacts/" \
    >"$log" 2>&1 || status=$?
  elapsed=$(($(date +%s) - start))
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
  files="$(find "$corpus" -type f | wc -l)"
  kib="$(du -sk --apparent-size "$corpus" | cut -f1)"
  found="$(find "$artifacts" -type f | wc -l)"
  new=$((found - before))
  artifact=""
  if [ "$status" -ne 0 ] || [ "$new" -gt 0 ]; then
    failed=1
    # The newest artifact is this run's (libFuzzer stops at its first finding).
    artifact="$(find "$artifacts" -type f -printf '%T@ %p\n' | sort -n | tail -n 1 | cut -d' ' -f2-)"
    [ "$new" -gt 0 ] || new="exit $status"
    echo "--- $t: libFuzzer exited $status; end of its log:" >&2
    tail -n 30 "$log" >&2
  fi
  rows+=("$(printf '%-13s %8s %12s %9s %9s %-8s %s' "$t" "$elapsed" "${execs:-?}" "$files" "${kib}K" "$new" "$artifact")")
done

printf '\n%-13s %8s %12s %9s %9s %-8s %s\n' target seconds execs corpus size crashes artifact
for row in "${rows[@]}"; do
  echo "$row"
done
echo "corpora: $work/corpus   artifacts: $work/artifacts   logs: $work/logs"
exit "$failed"
