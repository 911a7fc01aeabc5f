#!/usr/bin/env bash
# espd's ESP against the Linux kernel's, run inside User-Mode Linux by
# test_uml_esp.sh (the host kernel has no ESP). On the topology of
# tests/e2e/lib.sh, hostB is the IPsec peer: its kernel holds XFRM SAs and
# policies for a "remote LAN" (192.168.200.1, fd00:200::1 on its loopback);
# espd on the router holds the same SAs and policies, entered with espctl.
# hostA pings the remote LAN: espd encrypts, hostB's kernel decrypts and
# answers through its own SA, espd decrypts and checks the fwd policy.
# hostB's kernel drops plaintext under its in policy, so a reply proves both
# directions; the SA packet counters on both sides must show every packet.
# The transport case is the router's own ping to hostB: the router's kernel
# holds no policy, so espd's spd-local must encrypt what it sends.
# Prints one PASS/FAIL line per case.
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"
CONF=$SCRATCH/espd.conf
at_exit cleanup
PINGS=3

key() { echo "0x$(head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n')"; }

# both_sa SRC DST SPI MODE ALGORITHM-WORDS...: one SA in espd and in hostB's
# kernel, in the same words; reqid is the SPI.
both_sa() {
	local src=$1 dst=$2 spi=$3 mode=$4; shift 4
	espctl ipsec sa add src "$src" dst "$dst" proto esp spi "$spi" reqid "$spi" mode "$mode" "$@" &&
		in_b ip xfrm state add src "$src" dst "$dst" proto esp spi "$spi" reqid "$spi" \
			mode "$mode" "$@"
}

# both_policy ESPD-DIR KERNEL-DIR SRC DST MODE REQID [TUNNEL-SRC TUNNEL-DST]
both_policy() {
	local dir_espd=$1 dir_kernel=$2 src=$3 dst=$4 mode=$5 reqid=$6 ends=()
	[ $# -eq 8 ] && ends=(src "$7" dst "$8")
	espctl ipsec policy add src "$src" dst "$dst" dir "$dir_espd" \
		tmpl "${ends[@]}" proto esp mode "$mode" reqid "$reqid" &&
		in_b ip xfrm policy add src "$src" dst "$dst" dir "$dir_kernel" \
			tmpl "${ends[@]}" proto esp mode "$mode" reqid "$reqid"
}

espd_packets() {
	espctl show ipsec sa "$1" --json | "$PY" -c 'import json, sys; print(json.load(sys.stdin)[0]["packets"])'
}

kernel_packets() { # kernel_packets SRC DST SPI
	in_b ip -s xfrm state get src "$1" dst "$2" proto esp spi "$3" |
		sed -n 's/.*[^0-9]\([0-9][0-9]*\)(packets).*/\1/p' | head -1
}

flush_all() {
	espctl ipsec policy flush >/dev/null; espctl ipsec sa flush >/dev/null
	in_b ip xfrm policy flush; in_b ip xfrm state flush
}

# counted NAME SPI-OUT SPI-IN R B: every ping counted by both ends' SAs.
counted() {
	local out=$2 in=$3 r=$4 b=$5 got
	got="espd $(espd_packets "$out")/$(espd_packets "$in"), kernel $(kernel_packets "$r" "$b" "$out")/$(kernel_packets "$b" "$r" "$in")"
	if [ "$got" = "espd $PINGS/$PINGS, kernel $PINGS/$PINGS" ]; then
		pass "$1: SA counters on both ends ($got)"
	else
		fail "$1: SA counters on both ends (out/in: $got; want $PINGS each)"
	fi
}

next_spi=$((0x1000))

# tunnel_case NAME FAMILY ALGORITHM-WORDS...
tunnel_case() {
	local name=$1 fam=$2 r b lan remote_net remote; shift 2
	if [ "$fam" = 4 ]; then
		r=10.2.0.1 b=10.2.0.2 lan=10.1.0.0/24 remote_net=192.168.200.0/24 remote=192.168.200.1
	else
		r=fd00:2::1 b=fd00:2::2 lan=fd00:1::/64 remote_net=fd00:200::/64 remote=fd00:200::1
	fi
	local out=$((next_spi += 1)) in=$((next_spi += 1))
	if ! { both_sa $r $b $out tunnel "$@" && both_sa $b $r $in tunnel "$@" &&
		both_policy out in $lan $remote_net tunnel $out $r $b &&
		both_policy fwd out $remote_net $lan tunnel $in $b $r; }; then
		fail "$name: SAs and policies set up"; flush_all; return
	fi
	check "$name: hostA pings the remote LAN through the tunnel" \
		in_a ping -c $PINGS -i 0.3 -W 2 -q $remote
	counted "$name" $out $in $r $b
	flush_all
}

# The router's own ping to hostB in transport mode.
transport_case() {
	local name=$1 r=10.2.0.1 b=10.2.0.2; shift
	local out=$((next_spi += 1)) in=$((next_spi += 1))
	if ! { both_sa $r $b $out transport "$@" && both_sa $b $r $in transport "$@" &&
		espctl ipsec policy add src $r/32 dst $b/32 proto icmp dir out \
			tmpl proto esp mode transport reqid $out &&
		espctl ipsec policy add src $b/32 dst $r/32 proto icmp dir in \
			tmpl proto esp mode transport reqid $in &&
		in_b ip xfrm policy add src $b/32 dst $r/32 proto icmp dir out \
			tmpl proto esp mode transport reqid $in &&
		in_b ip xfrm policy add src $r/32 dst $b/32 proto icmp dir in \
			tmpl proto esp mode transport reqid $out; }; then
		fail "$name: SAs and policies set up"; flush_all; return
	fi
	check "$name: the router pings hostB" in_r ping -c $PINGS -i 0.3 -W 2 -q $b
	counted "$name" $out $in $r $b
	flush_all
}

topology_up
in_b ip addr add 192.168.200.1/32 dev lo
in_b ip addr add fd00:200::1/128 dev lo
write_config "$CONF" af-packet
if ! espd_start "$CONF"; then
	fail "espd starts for the kernel peer cases"
	exit 1
fi
in_r ip route add 192.168.200.0/24 via 10.2.0.2
in_r ip -6 route add fd00:200::/64 via fd00:2::2
for addr in 10.1.0.2 10.2.0.2 fd00:1::2 fd00:2::2; do in_r ping -c 1 -W 2 "$addr" >/dev/null; done

tunnel_case "AES-128-GCM tunnel, IPv4" 4 aead 'rfc4106(gcm(aes))' "$(key 20)" 128
tunnel_case "AES-256-GCM tunnel, IPv6" 6 aead 'rfc4106(gcm(aes))' "$(key 36)" 128
tunnel_case "AES-256-CBC/HMAC-SHA256 tunnel, IPv6" 6 \
	enc 'cbc(aes)' "$(key 32)" auth-trunc 'hmac(sha256)' "$(key 32)" 128
tunnel_case "ChaCha20-Poly1305 tunnel, IPv4" 4 \
	aead 'rfc7539esp(chacha20,poly1305)' "$(key 36)" 128
tunnel_case "AES-CTR/HMAC-SHA512 tunnel, IPv4" 4 \
	enc 'rfc3686(ctr(aes))' "$(key 20)" auth-trunc 'hmac(sha512)' "$(key 64)" 256
tunnel_case "AES-128-CBC/HMAC-SHA1 with ESN, window 128, IPv4" 4 \
	replay-window 128 flag esn enc 'cbc(aes)' "$(key 16)" auth-trunc 'hmac(sha1)' "$(key 20)" 96
# A truncation the kernel keeps in bits and uses bits / 8 bytes of; an
# HMAC key of no bytes (the empty word, as ip xfrm takes it).
tunnel_case "AES-128-CBC/HMAC-SHA1 truncated to 100 bits (12-byte ICV), IPv4" 4 \
	enc 'cbc(aes)' "$(key 16)" auth-trunc 'hmac(sha1)' "$(key 20)" 100
tunnel_case "AES-128-CBC/HMAC-SHA256, empty key, 23 bits (2-byte ICV), IPv6" 6 \
	enc 'cbc(aes)' "$(key 16)" auth-trunc 'hmac(sha256)' "" 23
transport_case "AES-128-GCM transport, router's own traffic" \
	aead 'rfc4106(gcm(aes))' "$(key 20)" 128

check "espd still running after the kernel peer cases" kill -0 "$ESPD_PID"
check "espd exits 0 on SIGTERM" espd_stop
