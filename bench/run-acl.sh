#!/usr/bin/env bash
# ACL benchmark on one pinned core: forwarding with 0-1000 rules bound, and
# the classifier alone.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${ESPD_BUILD:-$top/build}
. "$top/bench/hugepages.sh"
taskset -c "${CORE:-1}" "$build/bench/acl_bench" "${bench_eal_memory[@]}" --no-pci \
	--file-prefix bench-acl-$$ --log-level '*:error' -l "${CORE:-1}"
