#!/usr/bin/env bash
# ESP benchmark on one pinned core: espd's ESP path against raw
# intel-ipsec-mb (the ceiling) and librte_ipsec, medians of 5 rounds.
# Usage: bench/run-esp.sh [--suite NAME] [--size 64|512|1400|imix] [--dir enc|dec]
#        [--rounds N] [--window-ms N] [--burst N] [--nodes] [--espd-only]
#        [--no-rte-ipsec] [--policies N]
#        (ESPD_BUILD: build directory; CORE: the CPU, default 1;
#        BENCH_HUGEPAGES=0: 4 KB pages, see bench/eal.sh)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/eal.sh"
bench_run bench_esp -- "$@"
