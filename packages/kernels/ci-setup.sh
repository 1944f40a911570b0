#!/usr/bin/env bash
# CI setup for @gpunet/kernels' modes on a GPU-less Debian 12 machine (idempotent; run as root).
#   headlessgl: the `gl` package's native addon (built from source) and an X display (xvfb)
#   webgl2, webgl: Debian's chromium, driven by playwright-core (no browser download)
# Then run the full suite under a display:  xvfb-run -a pnpm --filter @gpunet/kernels test:all
set -euo pipefail

PACKAGES=(xvfb xauth libxi-dev libx11-dev libxext-dev libgl1-mesa-dev python3 make g++ pkg-config chromium)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

# pnpm builds `gl` at install time (it is in onlyBuiltDependencies), but only if the libraries
# above were there then; rebuild it when the addon is missing.
root="$(cd "$(dirname "$0")/../.." && pwd)"
if [ -d "$root/node_modules/.pnpm" ]; then
  addon="$(find "$root/node_modules/.pnpm" -path '*gl@*/node_modules/gl/build/Release/webgl.node' 2>/dev/null | head -n 1)"
  if [ -z "$addon" ]; then
    (cd "$root" && pnpm -r rebuild gl)
  fi
fi
