#!/usr/bin/env bash
# ESP benchmark on one pinned core: espd's ESP path against raw
# intel-ipsec-mb (the ceiling) and librte_ipsec, medians of 5 rounds.
# Usage: bench/run-esp.sh [--suite NAME] [--size 64|512|1400|imix] [--dir enc|dec]
#        [--rounds N] [--window-ms N] [--burst N] [--nodes] [--espd-only]
#        (ESPD_BUILD: build directory; CORE: the CPU, default 1;
#        BENCH_HUGEPAGES=0: 4 KB pages, see bench/hugepages.sh)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${ESPD_BUILD:-$top/build}
bin=$build/bench/bench_esp
if [ ! -x "$bin" ]; then
	echo "missing $bin: build it with ninja -C $build bench/bench_esp" >&2
	exit 1
fi
. "$top/bench/hugepages.sh"
taskset -c "${CORE:-1}" "$bin" "${bench_eal_memory[@]}" --no-pci \
	--file-prefix bench-esp-$$ --log-level '*:warning' -l "${CORE:-1}" -- "$@"
