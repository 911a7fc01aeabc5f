#!/usr/bin/env bash
# Forwarding benchmark on one pinned core (medians of 5 runs per size).
# (ESPD_BUILD: build directory; CORE: the CPU, default 1; BENCH_HUGEPAGES=0:
# 4 KB pages, see bench/eal.sh)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/eal.sh"
bench_run bench_fwd
