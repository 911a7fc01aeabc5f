#!/usr/bin/env bash
# The graph fuzz test (tests/fuzz/graph_fuzz.c): espd's worker graph on DPDK
# ring ports, without hugepages, fed tests/fuzz/corpus.py's valid frames
# (built with scapy) and then FUZZ_FRAMES damaged ones from FUZZ_SEED. The
# seed is fixed unless given (FUZZ_SEED=random draws one); the program
# prints it and --seed replays it:
#   graph_fuzz --no-huge -m 1024 --no-shconf -- --corpus FILE --seed N
# Its PASS/FAIL lines are this script's; dying of a signal is a FAIL too.
#
# Then the same under UndefinedBehaviorSanitizer (FUZZ_UBSAN=0 skips it),
# built in $ESPD_BUILD-ubsan (about 45 s on two cores), any report a
# failure. Alignment is not checked: DPDK's inline code loads words
# wherever its data lies (rte_hash_crc over an IPv6 address 4 bytes into
# struct ip_addr loads 8 bytes at a time), which x86 allows.
T=fuzz$$
source "$(dirname "$0")/lib.sh"
corpus=/tmp/$T.corpus
trap 'rm -f "$corpus"' EXIT
seed=${FUZZ_SEED:-1}
[ "$seed" = random ] && seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
ubsan=$ESPD_BUILD-ubsan

# run_fuzz BUILD FRAMES: the test from BUILD; FAIL if it died of a signal.
run_fuzz() {
	local rc
	"$1/tests/fuzz/graph_fuzz" --no-huge -m 1024 --no-pci --no-shconf --file-prefix "$T" \
		--log-level '*:error' -l 0 -- --corpus "$corpus" --seed "$seed" --frames "$2" \
		--counters-min 45
	rc=$?
	check "graph_fuzz ($(basename "$1")) ended without a signal (status $rc)" [ "$rc" -lt 128 ]
	[ "$rc" -eq 0 ] || FAILED=1
}

ubsan_build() {
	{ [ -d "$ubsan" ] || meson setup "$ubsan" "$TOP" -Db_sanitize=undefined \
		-Db_lundef=false -Dc_args=-fno-sanitize=alignment; } >/dev/null &&
		ninja -C "$ubsan" tests/fuzz/graph_fuzz >/dev/null
}

check "corpus.py builds the valid frames with scapy" "$PY" "$TOP/tests/fuzz/corpus.py" "$corpus"
run_fuzz "$ESPD_BUILD" "${FUZZ_FRAMES:-5000000}"
if [ "${FUZZ_UBSAN:-1}" = 1 ]; then
	check "UBSan build of the fuzz test" ubsan_build
	export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
	run_fuzz "$ubsan" "${FUZZ_UBSAN_FRAMES:-1000000}"
fi
exit "${FAILED:-0}"
