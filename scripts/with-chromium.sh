#!/usr/bin/env bash
# Runs a command with a headless Chromium for the browser tests: installs Chromium from
# Debian's packages when it is missing, exports CARBONMESH_TEST_CHROMIUM (the browser's
# path), and runs the command.
#
#   scripts/with-chromium.sh COMMAND [ARGS...]
set -euo pipefail

find_chromium() {
  local candidate
  for candidate in chromium chromium-browser; do
    command -v "$candidate" && return 0
  done
  return 1
}

if ! CHROMIUM=$(find_chromium); then
  # shellcheck source=scripts/debian.sh
  source "$(dirname "$0")/debian.sh"
  install_from_debian with-chromium chromium
  CHROMIUM=$(find_chromium) || { echo "with-chromium: Chromium install failed" >&2; exit 1; }
fi

export CARBONMESH_TEST_CHROMIUM="$CHROMIUM"
echo "with-chromium: $("$CHROMIUM" --version 2>/dev/null | head -n 1)" >&2
"$@"
