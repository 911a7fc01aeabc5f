#!/usr/bin/env bash
# ACL benchmark on one pinned core: forwarding with 0-1000 rules bound, and
# the classifier alone. (ESPD_BUILD, CORE, BENCH_HUGEPAGES: see run-fwd.sh)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/eal.sh"
bench_run acl_bench
