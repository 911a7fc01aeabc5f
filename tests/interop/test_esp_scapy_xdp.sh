#!/usr/bin/env bash
# The ESP interop against scapy on xdp ports: two suites of the matrix, and
# the cases whose path depends on the port driver. On xdp ports IPv4
# fragments reach espd's ip-reassemble (an af_packet port's socket
# reassembles them first), and a whole ESP packet larger than the 2 KB
# receive buffers is copied into one of espd's large ones to be decrypted.
# Run as root.
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
T=espx$$ ESP_SCAPY_DRIVER=xdp TEST_NAME=$(basename "$0" .sh) \
	exec bash "$(dirname "$0")/test_esp_scapy.sh" \
	--only "aes-gcm-128/icv16 " --only "aes-cbc-128/sha2-256-128 " \
	--only "fragmented ESP" --only "6000-byte ESP" --only "fragmented UDP"
