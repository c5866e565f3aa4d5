#!/usr/bin/env bash
# Headless Chromium (the analytics report's render test) and a CJK font (Chinese chart labels and
# report text), from Debian's packages. Idempotent and quiet; without apt-get (not Debian) or without
# root it says so and exits 0, and the render test then skips with its reason.
set -euo pipefail
if [ -x /usr/bin/chromium ] && fc-list :lang=zh 2>/dev/null | grep -q .; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
  echo "install_chromium: needs apt-get as root; the headless report test will be skipped" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >/dev/null
