#!/usr/bin/env bash
# hostA - espd (xdp) - hostB: forwarding, punt, mirroring, restore.
T=fwx$$
source "$(dirname "$0")/lib_forward.sh"
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
run_forward_suite xdp
case_mtu_change_xdp
