#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 30) on a copy of its committed
# corpus, so a short run (CI) leaves the repository unchanged. Needs the nightly
# toolchain and cargo-fuzz (`cargo +nightly install cargo-fuzz --locked`).
# A crash stops the run with the failing input under fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-30}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
declare -A dict=([profile]=profile [world]=profile [expression]=expression [api_body]=json [differential]="")
declare -A maxlen=([profile]=65536 [world]=16384 [expression]=2048 [api_body]=16384 [differential]=64)
cargo +nightly fuzz build -O -s none
for target in profile expression world api_body differential; do
  mkdir -p "$work/$target"
  cp corpus/"$target"/* "$work/$target"/
  args=(-max_total_time="$seconds" -max_len="${maxlen[$target]}" -rss_limit_mb=4096 -timeout=20 -print_final_stats=1)
  if [ -n "${dict[$target]}" ]; then args+=(-dict="dict/${dict[$target]}.dict"); fi
  echo "== $target (${seconds}s)"
  status=0
  cargo +nightly fuzz run -O -s none "$target" "$work/$target" -- "${args[@]}" > "$work/$target.log" 2>&1 || status=$?
  grep -E '^(stat::|Done)|panicked|ERROR|SUMMARY|deadly signal' "$work/$target.log" || true
  if [ "$status" -ne 0 ]; then
    tail -n 40 "$work/$target.log" >&2
    echo "fuzz target $target failed (exit $status); the input is under fuzz/artifacts/$target/" >&2
    exit 1
  fi
done
