#!/usr/bin/env bash
# Installs what the build and tests need beyond npm packages, only where it is missing:
# pnpm (npm's global install: corepack's signature check fails against some registry mirrors)
# and Debian's Chromium, in which the browser checks run.
set -euo pipefail
command -v pnpm >/dev/null 2>&1 || npm install --global pnpm@10
if ! command -v chromium >/dev/null 2>&1 && [ -z "${CHROMIUM:-}" ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
