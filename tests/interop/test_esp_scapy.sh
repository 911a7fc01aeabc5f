#!/usr/bin/env bash
# ESP interoperability of espd's data path against scapy (esp_scapy.py):
# every supported algorithm in tunnel and transport mode, IPv4 and IPv6
# outer headers, plain ESP and NAT-T, both directions; then replay, ICV,
# padding, malformed, dummy and randomly damaged ESP, selector, plaintext,
# sequence exhaustion, ESN wrap, unsupported algorithms, HMAC truncations in
# bits and empty HMAC keys, MTU and DSCP/ECN,
# each asserting its named counter.
# Topology and espd start from tests/e2e/lib.sh; scapy plays the IPsec peer
# 10.2.0.2 in hostB's namespace. Run as root.
# shellcheck shell=bash
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"

# ESP_SCAPY_DRIVER: espd's port driver (af-packet unless told).
DRIVER=${ESP_SCAPY_DRIVER:-af-packet}
CONF=$SCRATCH/espd.conf
at_exit cleanup

if [ ! -x "$ESPD" ] || [ ! -x "$ESPCTL" ]; then
	skip "ESP interop against scapy (espd not built at $ESPD)"
	exit 0
fi
if ! "$PY" -c 'import scapy.layers.ipsec, cryptography' 2>/dev/null; then
	skip "ESP interop against scapy (python3-scapy or python3-cryptography missing)"
	exit 0
fi

mirrored() {
	local table
	table=$(espctl show neighbors) || return 1
	for addr in 10.1.0.2 10.2.0.2 fd00:1::2 fd00:2::2; do
		grep -q " $addr " <<<"$table" || return 1
	done
	espctl show routes | grep -q 192.168.200.0/24
}

topology_up
write_config "$CONF" "$DRIVER"
if ! espd_start "$CONF"; then
	fail "espd starts for the ESP interop cases"
	exit 1
fi
# The remote LANs behind the peer, as an IKE daemon's route would have them.
in_r ip route add 192.168.200.0/24 via 10.2.0.2
in_r ip -6 route add fd00:200::/64 via fd00:2::2
# Let the kernel resolve the hosts so espd forwards by itself.
for addr in 10.1.0.2 10.2.0.2; do in_r ping -c 1 -W 2 "$addr" >/dev/null; done
for addr in fd00:1::2 fd00:2::2; do in_r ping -6 -c 1 -W 2 "$addr" >/dev/null; done
check "routes and neighbors mirrored before the ESP cases" wait_until 5 mirrored

in_b "$PY" "$(dirname "${BASH_SOURCE[0]}")/esp_scapy.py" --espctl "$ESPCTL" --socket "$SOCK" \
	--ns-a "$NS_A" --ns-r "$NS_R" --ns-b "$NS_B" --log "$ESPD_LOG" --driver "$DRIVER" \
	--scratch "$SCRATCH" "$@"
driver=$?
check "espd still running after the ESP cases" kill -0 "$ESPD_PID"
check "espd exits 0 on SIGTERM after the ESP cases" espd_stop
[ $driver -eq 0 ] && [ "${FAILED:-0}" -eq 0 ]
