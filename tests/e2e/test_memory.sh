#!/usr/bin/env bash
# espd's memory: sized for its configuration (workers, interfaces), on
# hugepages when all of it is free there, else on 4 KB pages with a line
# saying why; a machine with a few hugepages to spare must not stop espd
# from starting. Changes vm.nr_hugepages for the test and puts it back.
T=mem$$
source "$(dirname "$0")/lib.sh"
CONF=$SCRATCH/espd.conf
hugepages_before=$(cat /proc/sys/vm/nr_hugepages)
at_exit 'cleanup; echo "$hugepages_before" >/proc/sys/vm/nr_hugepages'

free_pages() { sed -n 's/^HugePages_Free: *//p' /proc/meminfo; }

# reserve N: N free 2 MB pages beyond those in use, or fail.
reserve() {
	local in_use=$(($(cat /proc/sys/vm/nr_hugepages) - $(free_pages)))
	echo $((in_use + $1)) >/proc/sys/vm/nr_hugepages 2>/dev/null
	[ "$(free_pages)" -ge "$1" ]
}

# start_and_forward CASE [CONFIG LINE]: espd starts on the topology and forwards.
start_and_forward() {
	cleanup; : >"$ESPD_LOG"
	topology_up
	write_config "$CONF" af-packet ${2:+"$2"}
	check "$1: espd starts" espd_start "$CONF"
	check "$1: espd forwards" in_a ping -c 2 -i 0.2 -W 2 10.2.0.2
}

# A few pages free, far fewer than espd needs: 4 KB pages, none taken.
if reserve 8; then
	start_and_forward "8 hugepages free"
	check "8 hugepages free: espd says it runs on 4 KB pages and why" \
		grep -q "16 MB of hugepages free, 512 MB needed: DPDK runs in 512 MB of 4 KB pages" \
		"$ESPD_LOG"
	check "8 hugepages free: espd took none of them" [ "$(free_pages)" -eq 8 ]
else
	fail "the kernel reserves 8 hugepages"
fi

# All it needs free (512 MB for one worker): espd runs on them, and gives
# them back at exit.
if reserve 300; then
	start_and_forward "needs free"
	used=$((300 - $(free_pages)))
	check "needs free: espd runs on hugepages ($used pages taken)" [ "$used" -gt 0 ]
	check "needs free: no 4 KB pages line" bash -c "! grep -q 'of 4 KB pages' $ESPD_LOG"
	espd_stop
	check "needs free: the pages are free again once espd stops" [ "$(free_pages)" -ge 300 ]
else
	skip "needs free (the kernel could not reserve 300 hugepages: memory)"
fi

# Four workers need more than the least espd takes, and on 4 KB pages more
# again (a 2 KB mbuf there takes a page): sized for them, espd starts.
if reserve 0; then
	start_and_forward "4 workers, 4 KB pages" "set vpp settings cpu workers 4"
	check "4 workers, 4 KB pages: sized for them" \
		grep -qE "0 MB of hugepages free, [0-9]+ MB needed: DPDK runs in ([6-9][0-9]{2}|[0-9]{4}) MB of 4 KB pages" \
		"$ESPD_LOG"
else
	fail "the kernel gives its hugepages back"
fi

# A budget that is not a number stops espd; the interfaces stay the kernel's.
cleanup; : >"$ESPD_LOG"
topology_up
write_config "$CONF" af-packet
ESPD_MEMORY_MB=lots ip netns exec "$NS_R" "$ESPD" -c "$CONF" --name "$T" --socket "$SOCK" \
	>"$ESPD_LOG" 2>&1
rc=$?
check "ESPD_MEMORY_MB=lots: espd refuses it" \
	bash -c "[ $rc -ne 0 ] && grep -q 'ESPD_MEMORY_MB=lots: not a number of MB' $ESPD_LOG"
check "ESPD_MEMORY_MB=lots: interfaces stay the kernel's" \
	bash -c "in_r() { ip netns exec $NS_R \"\$@\"; }; in_r ip link show r-a | grep -q 'state UP' && in_r ip -4 addr show r-a | grep -q 10.1.0.1"
exit "${FAILED:-0}"
