#!/usr/bin/env bash
# Installs what espd needs to build, run its demo and run its tests on Debian 12.
set -euo pipefail
packages=(
	build-essential meson ninja-build pkg-config
	libdpdk-dev dpdk libmnl-dev libipsec-mb-dev libssl-dev libcmocka-dev libxdp-dev libbpf-dev
	iproute2 iputils-ping ethtool nftables iperf3 procps kmod psmisc
	user-mode-linux charon-systemd strongswan-swanctl systemd
	python3 python3-scapy python3-cryptography tshark tcpdump
)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
