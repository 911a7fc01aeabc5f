#!/usr/bin/env bash
# tests/e2e/test_lcp.sh inside User-Mode Linux (Linux 6.1), whose nftables
# has no netdev family: lcp_tool falls back to the tc ingress fence there,
# so every case of that script runs with it (LCP_FENCE=tc insists). Among
# them: the tc matchall drop is installed on the renamed device and removed
# on restore and crash repair; an AF_PACKET socket on the device still sees
# its frames while the kernel takes none of the echo requests sent to it
# (and, without a fence, does); ip -j addr/link/route and ethtool -k come
# back as they were.
# Prints one line per case, "PASS: uml: <case>". Run as root.
# ESPD_BUILD selects the build directory (default: build/ in the tree),
# LCP_TOOL the lcp_tool binary. Logs: tests/out/test_uml_lcp/.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=$(realpath -m "${ESPD_BUILD:-$top/build}")
tool=$(realpath -m "${LCP_TOOL:-$build/src/ports/lcp_tool}")
# shellcheck source=tests/uml/uml.sh
. "$here/uml.sh"
# shellcheck source=tests/e2e/lib_scratch.sh
. "$top/tests/e2e/lib_scratch.sh"

# The workdir must be on the host filesystem the guest sees (not under /run).
scratch_begin
work=$SCRATCH

{
	printf 'top=%q\ntool=%q\n' "$top" "$tool"
	cat <<'EOF'
# Runs inside UML: the case lines go to $UML_OUT/results.
LCP_FENCE=tc LCP_TOOL=$tool TEST_OUT=$UML_OUT bash "$top/tests/e2e/test_lcp.sh" \
	>"$UML_OUT/results" 2>"$UML_OUT/stderr.log"
EOF
} | uml_write_script "$work/inner.sh" || exit 1

UML_TIMEOUT=${UML_TIMEOUT:-300} uml_run "$work" "$work/inner.sh"
uml_results "$work" "lcp takeover and restore" $?
