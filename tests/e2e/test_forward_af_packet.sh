#!/usr/bin/env bash
# hostA - espd (af-packet) - hostB: forwarding, punt, mirroring, restore.
T=fwp$$
source "$(dirname "$0")/lib_forward.sh"
run_forward_suite af-packet
case_jumbo af-packet
case_mtu_change af-packet
case_cli_exchange af-packet
