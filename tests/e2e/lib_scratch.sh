# Scratch files of a test script or the demo, in one directory of its own
# ($SCRATCH, made by scratch_begin) that goes when the script exits: at its
# end, on an error, on INT, TERM or HUP. If the script failed (a non-zero
# exit status, or a FAIL line: FAILED set), its files there (espd's logs,
# the outputs it kept, its configs) are first copied to
# $TEST_OUT/$TEST_NAME/ and it says so; if it passed, an older copy there
# goes too.
#   TEST_NAME: the script's file name without .sh, unless set.
#   TEST_OUT: tests/out, unless set (inside User-Mode Linux: the out/
#   directory of the script that boots it, which keeps it the same way).
# Sourced by tests/e2e/lib.sh (so by every script using it), test_lcp.sh
# and the UML scripts.
# shellcheck shell=bash

AT_EXIT=()

# at_exit CMD: CMD (evaluated) when the script exits, before the copy, so
# espd has stopped and written its log; in the order given.
at_exit() { AT_EXIT+=("$1"); }

# scratch_begin: makes $SCRATCH and takes the script's EXIT trap (register
# clean-ups with at_exit, not with trap).
scratch_begin() {
	local top
	top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	TEST_NAME=${TEST_NAME:-$(basename "$0" .sh)}
	TEST_OUT=${TEST_OUT:-$top/tests/out}
	# Not for the scripts this one runs (demo.sh under test_site_to_site.sh).
	export -n TEST_NAME TEST_OUT
	SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/espd-$TEST_NAME.XXXXXX") || exit 1
	trap scratch_end EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
}

scratch_end() {
	local rc=$? cmd kept=$TEST_OUT/$TEST_NAME
	set +e
	for cmd in "${AT_EXIT[@]}"; do eval "$cmd"; done
	rm -rf "$kept"
	if [ "$rc" -ne 0 ] || [ -n "${FAILED:-}" ]; then
		mkdir -p "$kept" &&
			(cd "$SCRATCH" && find . -type f -exec cp --parents -t "$kept" {} +) &&
			echo "$TEST_NAME failed: its logs are in $kept"
	fi
	rm -rf "$SCRATCH"
}
