#!/usr/bin/env bash
# The graph fuzz test (tests/fuzz/graph_fuzz.c): espd's worker graph on DPDK
# ring ports, without hugepages, fed tests/fuzz/corpus.py's valid frames
# (built with scapy) and then FUZZ_FRAMES damaged ones from FUZZ_SEED. Its
# ESN SAs start just below 2^32 (one below 2^64, which the corpus
# exhausts): their frames cross it, the inbound ones out of order. The seed
# is fixed unless given (FUZZ_SEED=random draws one); the program prints it
# and --seed replays it:
#   graph_fuzz --no-huge -m 1024 --no-shconf -- --corpus FILE --seed N
# Its PASS/FAIL lines are this script's; dying of a signal is a FAIL too.
#
# Then the churn test (graph_fuzz --churn): the graph on a second lcore, as
# espd's workers run it, fed the corpus in a loop while SAs are rekeyed and
# deleted and policies updated, deleted and added for FUZZ_CHURN_S seconds
# (5), and the corpus once more after; the worker polling (a grace period
# ends only by its quiescent reports) and adaptive (it also goes offline):
#   graph_fuzz --no-huge -m 1024 --no-shconf -l 0,1 -- --corpus FILE --churn 5 \
#     --rx-mode polling
#
# Then the fuzz test and the adaptive churn under UndefinedBehaviorSanitizer
# (FUZZ_UBSAN=0 skips it), built in $ESPD_BUILD-ubsan (about 45 s on two
# cores), any report a failure. Alignment is not checked: DPDK's inline
# code loads words wherever its data lies (rte_hash_crc over an IPv6
# address 4 bytes into struct ip_addr loads 8 bytes at a time), which x86
# allows.
T=fuzz$$
source "$(dirname "$0")/lib.sh"
corpus=$SCRATCH/corpus out=$SCRATCH/graph_fuzz.out
seed=${FUZZ_SEED:-1}
[ "$seed" = random ] && seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
churn_s=${FUZZ_CHURN_S:-5}
ubsan=$ESPD_BUILD-ubsan

# graph_fuzz BUILD LCORES WHAT ARGS...: the test from BUILD on the EAL's
# LCORES with ARGS after the corpus; FAIL if it died of a signal, or failed
# without saying so in a FAIL line (a sanitizer's report halts it).
graph_fuzz() {
	local build=$1 lcores=$2 what=$3 rc
	shift 3
	"$build/tests/fuzz/graph_fuzz" --no-huge -m 1024 --no-pci --no-shconf --file-prefix "$T" \
		--log-level '*:error' -l "$lcores" -- --corpus "$corpus" "$@" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	check "$what ($(basename "$build")) ended without a signal (status $rc)" [ "$rc" -lt 128 ]
	if [ "$rc" -ne 0 ] && ! grep -q '^FAIL:' "$out"; then
		fail "$what ($(basename "$build")) exited with status $rc and no FAIL line"
	fi
	[ "$rc" -eq 0 ] || FAILED=1
}

# run_fuzz BUILD FRAMES, run_churn BUILD RX_MODE: the fuzz test, the churn test.
run_fuzz() {
	graph_fuzz "$1" 0 graph_fuzz --seed "$seed" --frames "$2" --counters-min 47
}

run_churn() {
	graph_fuzz "$1" 0,1 "graph_fuzz --churn --rx-mode $2" --churn "$churn_s" --rx-mode "$2"
}

ubsan_build() {
	{ [ -d "$ubsan" ] || meson setup "$ubsan" "$TOP" -Db_sanitize=undefined \
		-Db_lundef=false -Dc_args=-fno-sanitize=alignment; } >/dev/null &&
		ninja -C "$ubsan" tests/fuzz/graph_fuzz >/dev/null
}

check "corpus.py builds the valid frames with scapy" "$PY" "$TOP/tests/fuzz/corpus.py" "$corpus"
run_fuzz "$ESPD_BUILD" "${FUZZ_FRAMES:-5000000}"
run_churn "$ESPD_BUILD" polling
run_churn "$ESPD_BUILD" adaptive
if [ "${FUZZ_UBSAN:-1}" = 1 ]; then
	check "UBSan build of the fuzz test" ubsan_build
	export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
	run_fuzz "$ubsan" "${FUZZ_UBSAN_FRAMES:-1000000}"
	run_churn "$ubsan" adaptive
fi
exit "${FAILED:-0}"
