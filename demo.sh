#!/usr/bin/env bash
# espd's main job on a built-in topology: hostA -- espd router -- hostB, each
# in its own network namespace. espd takes over the router's two interfaces
# (af-packet), mirrors the kernel and forwards; the script pings and fetches
# across it and prints what `espctl show` reports. Needs root; touches only
# the namespaces it creates.
set -euo pipefail
top=$(cd "$(dirname "$0")" && pwd)
"$top/scripts/install-deps.sh"
"$top/scripts/build.sh" >/dev/null
T=demo
source "$top/tests/e2e/lib.sh"
trap cleanup EXIT
cleanup
topology_up
config=$(mktemp /tmp/espd-demo-XXXX.conf)
write_config "$config" af-packet "set vpp settings interface-rx-mode adaptive"
echo "== configuration"; cat "$config"
espd_start "$config"
echo "== hostA pings hostB through espd (IPv4, IPv6)"
in_a ping -c 3 -i 0.2 10.2.0.2
in_a ping -6 -c 3 -i 0.2 fd00:2::2
echo "== espctl show interfaces"; espctl show interfaces
echo "== espctl show routes"; espctl show routes
echo "== espctl show neighbors"; espctl show neighbors
echo "== espctl show errors"; espctl show errors
echo "== espctl show runtime"; espctl show runtime
echo "== espctl show netlink"; espctl show netlink
espd_stop
echo "== espd stopped; r-a and r-b are the kernel's again:"
# Carrier comes back a moment after the devices are given back.
wait_until 5 bash -c "ip -n $NS_R -br link show r-a | grep -q ' UP ' && ip -n $NS_R -br link show r-b | grep -q ' UP '"
in_r ip -br addr show
