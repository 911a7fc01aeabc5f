#!/usr/bin/env bash
# espd's memory: on hugepages when its whole budget (ESPD_MEMORY_MB) is free
# there, else on 4 KB pages with a line saying why; a machine with a few
# hugepages to spare must not stop espd from starting. Changes
# vm.nr_hugepages for the test and puts it back.
T=huge$$
source "$(dirname "$0")/lib.sh"
hugepages_before=$(cat /proc/sys/vm/nr_hugepages)
trap 'cleanup; echo "$hugepages_before" >/proc/sys/vm/nr_hugepages' EXIT

free_pages() { sed -n 's/^HugePages_Free: *//p' /proc/meminfo; }

# reserve N: N free 2 MB pages beyond those in use, or fail.
reserve() {
	local in_use=$(($(cat /proc/sys/vm/nr_hugepages) - $(free_pages)))
	echo $((in_use + $1)) >/proc/sys/vm/nr_hugepages 2>/dev/null
	[ "$(free_pages)" -ge "$1" ]
}

# start_and_forward CASE: espd starts on the topology and forwards.
start_and_forward() {
	local config=/tmp/$T.conf
	cleanup; : >"$ESPD_LOG"
	topology_up
	write_config "$config" af-packet
	check "$1: espd starts" espd_start "$config"
	check "$1: espd forwards" in_a ping -c 2 -i 0.2 -W 2 10.2.0.2
}

# A few pages free, far fewer than the budget: 4 KB pages, none taken.
if reserve 8; then
	start_and_forward "8 hugepages free"
	check "8 hugepages free: espd says it runs on 4 KB pages and why" \
		grep -q "16 MB of hugepages free, 512 MB needed (ESPD_MEMORY_MB): DPDK runs on 4 KB pages" \
		"$ESPD_LOG"
	check "8 hugepages free: espd took none of them" [ "$(free_pages)" -eq 8 ]
else
	fail "the kernel reserves 8 hugepages"
fi

# The whole budget free: espd runs on them, and gives them back at exit.
if reserve 160 && [ "$(free_pages)" -ge 160 ]; then
	ESPD_MEMORY_MB=320 start_and_forward "budget free"
	used=$((160 - $(free_pages)))
	check "budget free: espd runs on hugepages ($used pages taken)" [ "$used" -gt 0 ]
	check "budget free: no 4 KB pages line" bash -c "! grep -q 'DPDK runs on 4 KB pages' $ESPD_LOG"
	espd_stop
	check "budget free: the pages are free again once espd stops" [ "$(free_pages)" -ge 160 ]
else
	skip "budget free (the kernel could not reserve 160 hugepages: memory)"
fi

# A budget that is not a number stops espd; the interfaces stay the kernel's.
cleanup; : >"$ESPD_LOG"
topology_up
write_config /tmp/$T.conf af-packet
ESPD_MEMORY_MB=lots ip netns exec "$NS_R" "$ESPD" -c /tmp/$T.conf --name "$T" --socket "$SOCK" \
	>"$ESPD_LOG" 2>&1
rc=$?
check "ESPD_MEMORY_MB=lots: espd refuses it" \
	bash -c "[ $rc -ne 0 ] && grep -q 'ESPD_MEMORY_MB=lots: not a number of MB' $ESPD_LOG"
check "ESPD_MEMORY_MB=lots: interfaces stay the kernel's" \
	bash -c "in_r() { ip netns exec $NS_R \"\$@\"; }; in_r ip link show r-a | grep -q 'state UP' && in_r ip -4 addr show r-a | grep -q 10.1.0.1"
exit "${FAILED:-0}"
