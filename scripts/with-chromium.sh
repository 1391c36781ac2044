#!/usr/bin/env bash
# Runs a command with a headless Chromium and its WebDriver for the browser tests: installs
# Chromium and chromedriver from Debian's packages (chromium, chromium-driver) when they are
# missing, exports CARBONMESH_TEST_CHROMIUM (the browser's path) and
# CARBONMESH_TEST_CHROMEDRIVER (the driver's path), and runs the command.
#
#   scripts/with-chromium.sh COMMAND [ARGS...]
set -euo pipefail

# shellcheck source=scripts/debian.sh
source "$(dirname "$0")/debian.sh"

find_chromium() {
  local candidate
  for candidate in chromium chromium-browser; do
    command -v "$candidate" && return 0
  done
  return 1
}

if ! CHROMIUM=$(find_chromium); then
  install_from_debian with-chromium chromium
  CHROMIUM=$(find_chromium) || { echo "with-chromium: Chromium install failed" >&2; exit 1; }
fi

if ! CHROMEDRIVER=$(command -v chromedriver); then
  install_from_debian with-chromium chromium-driver
  CHROMEDRIVER=$(command -v chromedriver) || {
    echo "with-chromium: chromedriver install failed" >&2
    exit 1
  }
fi

export CARBONMESH_TEST_CHROMIUM="$CHROMIUM"
export CARBONMESH_TEST_CHROMEDRIVER="$CHROMEDRIVER"
echo "with-chromium: $("$CHROMIUM" --version 2>/dev/null | head -n 1)" >&2
echo "with-chromium: $("$CHROMEDRIVER" --version 2>/dev/null | head -n 1)" >&2
"$@"
