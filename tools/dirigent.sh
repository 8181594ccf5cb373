#!/usr/bin/env bash
# Sets everything up (packages, build) and starts Dirigent: the editor when a display is available
# and it has been built, otherwise the command-line device report. Extra arguments go to the program.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
if [ -f build/build.ninja ]; then meson setup --reconfigure build >/dev/null; else meson setup build >/dev/null; fi
ninja -C build
if [ -x build/ui/dirigent ] && { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; }; then
  exec build/ui/dirigent "$@"
fi
exec build/app/cli/dirigent-cli "${@:-device}"
