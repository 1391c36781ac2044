#!/usr/bin/env bash
# A server built with one connector and without the demo (each connector and the demo are
# Cargo features) reads that registry and no other, and has no `demo` command.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked --quiet -p carbonmesh-server --no-default-features --features verra
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp target/debug/carbonmesh "$work/carbonmesh"
cd "$work"
listed=$(./carbonmesh connectors | awk 'NR > 1 { print $1 }')
if [ "$listed" != verra ]; then
    echo "a build with --features verra reads: $listed (expected verra alone)" >&2
    exit 1
fi
if ./carbonmesh demo --help >/dev/null 2>&1; then
    echo "a build without the demo feature still has a demo command" >&2
    exit 1
fi
echo "one-connector build: reads verra alone, no demo"
