#!/usr/bin/env bash
# Installs dependencies, builds espd and runs every test (needs root).
set -euo pipefail
top=$(cd "$(dirname "$0")" && pwd)
"$top/scripts/install-deps.sh"
"$top/scripts/build.sh"
exec "$top/tests/run" "$@"
