#!/usr/bin/env bash
# Runs the crypto ceiling bench pinned to one core (default: the last one),
# so the numbers are not spread over cores or migrated mid-run.
# Usage: bench/run-crypto.sh [--all] [--runs N]   (ESPD_BUILD, CPU override)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${ESPD_BUILD:-$top/build}
cpu=${CPU:-$(($(nproc) - 1))}
bin=$build/bench/bench_crypto
if [ ! -x "$bin" ]; then
	echo "missing $bin: build it with ninja -C $build bench/bench_crypto" >&2
	exit 1
fi
exec taskset -c "$cpu" "$bin" "$@"
