#!/usr/bin/env bash
# espd's main job on a built-in topology: two sites joined by IPsec between
# two espd routers (tests/e2e/lib_site.sh draws it), each router, host and
# link in its own network namespace. Each espd takes over its router's two
# interfaces (af-packet), mirrors the kernel's addresses, routes and
# neighbors, and does ESP itself with SAs and policies entered as `ip xfrm`
# lines. The script pings and runs TCP across the tunnel, shows what crossed
# the WAN, and prints what `espctl show` reports. Needs root; touches only
# the namespaces it creates; its scratch files (espd's logs, the capture)
# live in a directory of its own, removed at the end. Should the demo fail,
# it says so and keeps the logs in tests/out/demo/. With ESPD_BUILD set,
# that build is used as is.
set -euo pipefail
top=$(cd "$(dirname "$0")" && pwd)
if [ -z "${ESPD_BUILD:-}" ]; then
	"$top/scripts/install-deps.sh"
	"$top/scripts/build.sh" >/dev/null
fi
T=demo
source "$top/tests/e2e/lib.sh"
source "$top/tests/e2e/lib_site.sh"
capture=$SCRATCH/wan.pcapng
iperf3_pid=$SCRATCH/iperf3.pid
# iperf3's server outlives its namespace if no client came.
at_exit '[ ! -s "$iperf3_pid" ] || kill "$(cat "$iperf3_pid")" 2>/dev/null; site_cleanup'
site_cleanup
site_up
site_espd_start 1
site_espd_start 2
site_tunnel
echo "== router 1: espctl ipsec sa add ... / ipsec policy add ... (keys never shown)"
site_ctl 1 show ipsec tunnel
site_ctl 1 pcap on "$capture" max 64 >/dev/null
echo "== hostA pings hostB across the tunnel (IPv4, IPv6)"
in_a ping -c 3 -i 0.2 10.2.0.2
in_a ping -6 -c 3 -i 0.2 fd00:2::2
site_ctl 1 pcap off >/dev/null
echo "== what router 1 received and sent (espctl pcap): clear on lan, ESP on wan"
# The capture names each port by its device; show pcap says which interface that is.
tshark -r "$capture" -Y 'icmp or icmpv6.type == 128 or icmpv6.type == 129 or esp' \
	-T fields -E separator=/t -e frame.interface_name -e frame.packet_flags_direction \
	-e _ws.col.Source -e _ws.col.Destination -e _ws.col.Info 2>/dev/null | "$PY" -c '
import json, sys
names = {i["in_file"]: i["interface"] for i in json.loads(sys.argv[1])["interfaces"]}
for line in sys.stdin.readlines()[:12]:
    device, direction, src, dst, info = line.rstrip("\n").split("\t")
    print("%-4s %-4s %-22s %-22s %s" % (names.get(device, device),
          ("?", "in", "out", "?")[int(direction, 16) & 3], src, dst, info))
' "$(site_ctl 1 show pcap --json)"
echo "== TCP across the tunnel (iperf3, 3 s)"
in_b iperf3 -s -1 -D -I "$iperf3_pid"
sleep 0.5
in_a iperf3 -c 10.2.0.2 -t 3 -f m | grep -E 'sender|receiver'
echo "== router 1: espctl show ipsec sa"; site_ctl 1 show ipsec sa
echo "== router 2: espctl show ipsec sa"; site_ctl 2 show ipsec sa
echo "== router 1: espctl show interfaces"; site_ctl 1 show interfaces
echo "== router 1: espctl show routes"; site_ctl 1 show routes
echo "== router 1: espctl show errors"; site_ctl 1 show errors
echo "== router 1: espctl show runtime"; site_ctl 1 show runtime
site_select 1
espd_stop
echo "== espd stopped on router 1; lan and wan are the kernel's again:"
# Carrier comes back a moment after the devices are given back.
wait_until 5 bash -c "ip -n $NS_R1 -br link show lan | grep -q ' UP ' &&
	ip -n $NS_R1 -br link show wan | grep -q ' UP '"
ip -n "$NS_R1" -br addr show
