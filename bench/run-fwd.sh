#!/usr/bin/env bash
# Forwarding benchmark on one pinned core (medians of 5 runs per size).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${ESPD_BUILD:-$top/build}
. "$top/bench/hugepages.sh"
taskset -c "${CORE:-1}" "$build/bench/bench_fwd" "${bench_eal_memory[@]}" --no-pci \
	--file-prefix bench-fwd-$$ --log-level '*:warning' -l "${CORE:-1}"
