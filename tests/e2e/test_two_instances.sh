#!/usr/bin/env bash
# Two espd instances on one machine, each with its own topology, DPDK file
# prefix, state directory and CLI socket, forward at the same time without
# seeing each other.
DIR=$(dirname "$0")
T=twoa$$
source "$DIR/lib.sh"
first=(T="$T" NS_A="$NS_A" NS_R="$NS_R" NS_B="$NS_B" SOCK="$SOCK")
cleanup_both() {
	(T=${first[0]#T=}; NS_A=${first[1]#NS_A=}; NS_R=${first[2]#NS_R=}; NS_B=${first[3]#NS_B=}
	 SOCK=${first[4]#SOCK=}; ESPD_PID=$PID1; cleanup)
	cleanup
}
at_exit cleanup_both
topology_up
write_config "$SCRATCH/first.conf" af-packet
espd_start "$SCRATCH/first.conf" || fail "first instance starts"
PID1=$ESPD_PID SOCK1=$SOCK NS_A1=$NS_A

T=twob$$
NS_A=$T-a NS_R=$T-r NS_B=$T-b SOCK=/run/espd/$T.sock ESPD_LOG=$SCRATCH/second-espd.log ESPD_PID=""
topology_up
write_config "$SCRATCH/second.conf" af-packet
check "second instance starts while the first runs" espd_start "$SCRATCH/second.conf"
check "first instance forwards" ip netns exec "$NS_A1" ping -c 2 -i 0.2 -W 2 10.2.0.2
check "second instance forwards" in_a ping -c 2 -i 0.2 -W 2 10.2.0.2
check "each CLI socket answers for its own instance" bash -c "
	[ \$($ESPCTL --socket $SOCK1 show interfaces --json | $PY -c 'import json,sys; print(len(json.load(sys.stdin)))') = 2 ] &&
	[ \$($ESPCTL --socket $SOCK show interfaces --json | $PY -c 'import json,sys; print(len(json.load(sys.stdin)))') = 2 ] &&
	[ -d /run/espd/${first[0]#T=} ] && [ -d /run/espd/$T ]"
check "stopping the second leaves the first running" bash -c "
	kill -TERM $ESPD_PID; sleep 1; kill -0 $PID1 && ip netns exec $NS_A1 ping -c 1 -W 2 10.2.0.2 >/dev/null"
