#!/usr/bin/env bash
# The benchmarks still run and still check what they measure: each table
# row of the ESP bench has gone through espd's graph on ring ports and come
# out as ESP the bench's own engine decrypts (or as the inner packet), with
# nothing dropped or punted; the crypto ceiling has no job errors; the
# forwarding and ACL benches lose no packet. Runs are a few milliseconds:
# no number is asserted. A misspelt suite or size is refused, not measured
# as nothing. The bench wrappers reserve hugepages and give them back.
T=bench$$
source "$(dirname "$0")/lib.sh"
export ESPD_BUILD CORE=$(($(nproc) - 1))
hugepages_before=$(cat /proc/sys/vm/nr_hugepages)
out=$SCRATCH/bench.out

# rows NAME PATTERN COUNT: COUNT lines of $out match PATTERN.
rows() {
	local got
	got=$(grep -cE "$2" "$out")
	check "$1 ($got rows)" [ "$got" -eq "$3" ]
}

suites="aes128-cbc-sha256|aes256-cbc-sha256|aes128-gcm|aes256-gcm|chacha20-poly1305"
table_row="^($suites) +(64|512|1400|IMIX) (enc|dec) "

# measured NAME COUNT: COUNT table rows of $out (a suite, frame and
# direction) whose first figure, espd's Mpps, is above zero.
measured() {
	local got
	got=$(awk -F'|' -v row="$table_row" '$1 ~ row && $2 + 0 > 0' "$out" | wc -l)
	check "$1 ($got rows)" [ "$got" -eq "$2" ]
}

check "ESP bench: every suite, frame and direction runs" \
	bash -c "'$TOP/bench/run-esp.sh' --rounds 1 --window-ms 2 >'$out' 2>&1"
measured "ESP bench: 5 suites x 4 frames x 2 directions measured" 40
check "ESP bench: espd dropped or punted nothing, no job errors" \
	grep -q "packets espd dropped or punted: 0; ceiling/rte_ipsec job errors: 0" "$out"

check "ESP bench: a misspelt suite is refused" \
	bash -c "'$TOP/bench/run-esp.sh' --suite aes128gcm >'$out' 2>&1; [ \$? -eq 2 ]"
check "ESP bench: the refusal lists the suites" grep -q "suites: aes128-cbc-sha256 .*chacha20" "$out"
rows "ESP bench: nothing measured for a misspelt suite" "^($suites) " 0
check "ESP bench: a frame size it has no packets for is refused" \
	bash -c "'$TOP/bench/run-esp.sh' --size 100 >'$out' 2>&1; [ \$? -eq 2 ]"
check "ESP bench: a direction other than enc or dec is refused" \
	bash -c "'$TOP/bench/run-esp.sh' --dir both >'$out' 2>&1; [ \$? -eq 2 ]"

check "crypto ceiling bench: runs without job errors" \
	bash -c "'$TOP/bench/run-crypto.sh' --runs 1 >'$out' 2>&1"
rows "crypto ceiling bench: 5 suites x 4 frames x 2 directions" "$table_row" 40
check "crypto ceiling bench: no row with job errors" bash -c "! grep -q 'JOB ERRORS' '$out'"
check "crypto ceiling bench: a misspelt suite is refused" \
	bash -c "'$TOP/bench/run-crypto.sh' --suite aes-gcm >'$out' 2>&1; [ \$? -eq 2 ]"

check "forwarding bench: runs" bash -c "'$TOP/bench/run-fwd.sh' >'$out' 2>&1"
check "forwarding bench: no packet dropped or punted" \
	grep -q "packets dropped or punted during the run: 0 (expected 0)" "$out"
check "ACL bench: runs" bash -c "'$TOP/bench/run-acl.sh' >'$out' 2>&1"
check "ACL bench: no packet dropped or punted" \
	grep -q "packets dropped or punted during the runs: 0 (expected 0)" "$out"

check "the benches gave the hugepages they reserved back" \
	[ "$(cat /proc/sys/vm/nr_hugepages)" -eq "$hugepages_before" ]
exit "${FAILED:-0}"
