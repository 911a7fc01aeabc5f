#!/usr/bin/env bash
# ESP interoperability with the Linux kernel's own ESP, inside User-Mode
# Linux (the host kernel has none): tests/uml/esp_kernel_peer.sh, where
# hostB's kernel is the IPsec peer of espd's CLI-entered SAs, over AES-GCM,
# AES-CBC/HMAC, ChaCha20-Poly1305, AES-CTR/HMAC, ESN, HMAC truncations in
# bits and an empty HMAC key, IPv4 and IPv6 tunnels and a transport SA for
# the router's own traffic.
# Prints one line per case, "PASS: uml: <case>". Run as root.
# ESPD_BUILD selects the build directory (default: build/ in the tree).
# Logs of a failed run: tests/out/test_uml_esp/.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=$(realpath -m "${ESPD_BUILD:-$top/build}")
# shellcheck source=tests/uml/uml.sh
. "$here/uml.sh"
# shellcheck source=tests/e2e/lib_scratch.sh
. "$top/tests/e2e/lib_scratch.sh"
# The kernel ciphers beyond the harness's default set.
UML_MODULES="$UML_MODULES chacha20poly1305 authencesn"

# The workdir must be on the host filesystem the guest sees (not under /run).
scratch_begin
work=$SCRATCH

{
	printf 'top=%q\nbuild=%q\n' "$top" "$build"
	cat <<'INNER'
# Runs inside UML: the case lines go to $UML_OUT/results. espd gets less
# memory than on the host and more time to start.
mkdir -p "$UML_OUT"
ESPD_BUILD=$build ESPD_MEMORY_MB=700 ESPD_START_WAIT=60 ESPD_LOG=$UML_OUT/espd.log \
	TEST_OUT=$UML_OUT bash "$top/tests/uml/esp_kernel_peer.sh" \
	>"$UML_OUT/results" 2>"$UML_OUT/stderr.log"
INNER
} | uml_write_script "$work/inner.sh" || exit 1

UML_TIMEOUT=${UML_TIMEOUT:-400} uml_run "$work" "$work/inner.sh"
uml_results "$work" "ESP against the kernel's" $?
