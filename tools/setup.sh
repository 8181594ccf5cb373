#!/usr/bin/env bash
# One-time, idempotent machine setup for Dirigent on Debian 12 (bookworm):
# enables bookworm-backports for a recent Mesa lavapipe and VkFFT, installs build,
# runtime, test and training packages (clang with libFuzzer and the sanitizer runtimes, and
# llvm-symbolizer for their stack traces, for tools/fuzz.sh). Runs as root or through sudo.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

backports=/etc/apt/sources.list.d/backports.sources
if [ ! -f "$backports" ]; then
  # Use the same mirror as the main Debian sources.
  mirror=$(grep -h '^URIs:' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1 | awk '{print $2}')
  [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
  printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$mirror" | $SUDO tee "$backports" >/dev/null
  stamp_update=1
fi

packages=(
  build-essential pkg-config meson ninja-build
  libvulkan-dev vulkan-tools vulkan-validationlayers glslang-tools glslang-dev spirv-tools
  libpng-dev libjpeg-dev libdeflate-dev libjson-glib-dev libgtk-4-dev libadwaita-1-dev
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev
  xvfb xauth dbus-x11 imagemagick
  at-spi2-core libglib2.0-bin xdotool
  python3-torch python3-numpy libopenblas0-pthread
  python3-pil
  python3-regex
  clang libclang-rt-14-dev llvm
)
backport_packages=(mesa-vulkan-drivers libvkfft-dev)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# The backported Mesa is 25.x; bookworm's own is 22.x.
mesa_ok=0
if dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | grep -q '^25\.'; then mesa_ok=1; fi
vkfft_ok=0
if dpkg-query -W -f='${Version}' libvkfft-dev 2>/dev/null | grep -q '^1\.3'; then vkfft_ok=1; fi

if [ ${#missing[@]} -gt 0 ] || [ $mesa_ok -eq 0 ] || [ $vkfft_ok -eq 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  if [ ${#missing[@]} -gt 0 ]; then
    $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
  $SUDO apt-get install -y -q --no-install-recommends -t bookworm-backports "${backport_packages[@]}"
fi
echo "setup: packages ready"
