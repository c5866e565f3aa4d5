#!/usr/bin/env bash
# Install the contract test's Node peers exactly as locked (tests/contract/package-lock.json):
# wechaty-puppet-mock 1.19.4 and wechaty-puppet-service 1.19.9. Without node/npm the contract test
# skips and says why; with them, a failed install fails CI.
set -euo pipefail
cd "$(dirname "$0")/../tests/contract"
if ! command -v npm >/dev/null 2>&1; then
  echo "install_contract: npm not found; the WeChat contract test will be skipped" >&2
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
