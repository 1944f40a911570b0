#!/usr/bin/env bash
# Installs what the build and tests need beyond npm packages, only where it is missing (idempotent):
#   pnpm (npm's global install: corepack's signature check fails against some registry mirrors);
#   Debian's Chromium, in which the browser checks and the webgl2/webgl kernel modes run;
#   xvfb and the X/GL headers: gpu.js's headlessgl mode needs the `gl` package built from source
#   (pnpm builds it at install: it is in onlyBuiltDependencies) and a display;
#   the Vulkan loader (libvulkan1): webgpu in Node is Dawn (npm `webgpu`) on Vulkan, on the GPU's
#   driver where there is one, else on the SwiftShader driver Chromium ships (@gpunet/kernels
#   finds it in /usr/lib/chromium; set VK_ICD_FILENAMES to choose another).
# Run it before `pnpm install`; if node_modules predates it, the `gl` addon is rebuilt here.
set -euo pipefail
command -v pnpm >/dev/null 2>&1 || npm install --global pnpm@10

packages=(chromium libvulkan1 xvfb xauth libxi-dev libx11-dev libxext-dev libgl1-mesa-dev pkg-config python3 make g++)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

root="$(cd "$(dirname "$0")/.." && pwd)"
if [ -d "$root/node_modules/.pnpm" ] && ls -d "$root"/node_modules/.pnpm/gl@* >/dev/null 2>&1; then
  if ! find "$root/node_modules/.pnpm" -path '*gl@*/node_modules/gl/build/Release/webgl.node' 2>/dev/null | grep -q .; then
    (cd "$root" && pnpm -r rebuild gl)
  fi
fi
