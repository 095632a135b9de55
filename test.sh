#!/usr/bin/env bash
# Every test: the Rust workspace, then the console's browser tests (headless system
# Chromium driven by playwright-core against a real `rolecall serve --demo`).
set -euo pipefail
cd "$(dirname "$0")"

cargo test --workspace

# The browser tests need the binary, the npm packages and Debian's Chromium.
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ]; then
  apt-get update -qq && apt-get install -y -qq chromium chromium-driver
fi
cargo build --quiet -p rolecall-cli
if [ ! -d console-tests/node_modules/playwright-core ]; then
  (cd console-tests && npm ci --no-audit --no-fund)
fi
ROLECALL_BIN="$PWD/target/debug/rolecall" node --test console-tests/
