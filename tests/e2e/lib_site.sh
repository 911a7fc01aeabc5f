# Two sites joined by IPsec between two espd routers, each in its own
# network namespace with its own name, CLI socket and log:
#
#   hostA (a0 10.1.0.2, fd00:1::2)
#     | lan 10.1.0.1, fd00:1::1
#   router 1: espd
#     | wan 192.0.2.1  ==== ESP (GCM-128, tunnel mode) ====  wan 192.0.2.2
#                                                          router 2: espd
#                                         lan 10.2.0.1, fd00:2::1 |
#                                           hostB (b0 10.2.0.2, fd00:2::2)
#
# The kernel of each router routes the other site over the WAN; the tunnel
# is static SAs and policies entered with espctl in the words of `ip xfrm`,
# IPv4 and IPv6 traffic alike in one IPv4 SA pair. Sourced after lib.sh;
# site_cleanup removes everything.
# shellcheck shell=bash

SITE_T=$T
SITE_PIDS=("" "" "")
SITE_SPI_1TO2=0x1001
SITE_SPI_2TO1=0x2001
NS_R1=$SITE_T-r1 NS_R2=$SITE_T-r2

# site_select N: lib.sh's espd helpers (espd_start, espd_stop, espctl, in_r)
# act on router N from now on.
site_select() {
	[ -n "${SITE:-}" ] && SITE_PIDS[$SITE]=$ESPD_PID
	SITE=$1
	T=$SITE_T-$1 NS_R=$SITE_T-r$1 SOCK=/run/espd/$SITE_T-$1.sock
	ESPD_LOG=$SCRATCH/router$1-espd.log ESPD_PID=${SITE_PIDS[$1]}
}

# site_ctl N ARGS...: espctl of router N.
site_ctl() { "$ESPCTL" --socket "/run/espd/$SITE_T-$1.sock" "${@:2}"; }

site_up() {
	for ns in "$NS_A" "$NS_R1" "$NS_R2" "$NS_B"; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
	done
	ip -n "$NS_A" link add a0 type veth peer name lan netns "$NS_R1"
	ip -n "$NS_R1" link add wan type veth peer name wan netns "$NS_R2"
	ip -n "$NS_B" link add b0 type veth peer name lan netns "$NS_R2"
	link_addresses "$NS_A" a0 10.1.0.2/24 fd00:1::2/64
	link_addresses "$NS_B" b0 10.2.0.2/24 fd00:2::2/64
	link_addresses "$NS_R1" lan 10.1.0.1/24 fd00:1::1/64
	link_addresses "$NS_R1" wan 192.0.2.1/24 2001:db8::1/64
	link_addresses "$NS_R2" wan 192.0.2.2/24 2001:db8::2/64
	link_addresses "$NS_R2" lan 10.2.0.1/24 fd00:2::1/64
	ip -n "$NS_A" route add default via 10.1.0.1
	ip -n "$NS_A" -6 route add default via fd00:1::1
	ip -n "$NS_B" route add default via 10.2.0.1
	ip -n "$NS_B" -6 route add default via fd00:2::1
	ip -n "$NS_R1" route add 10.2.0.0/24 via 192.0.2.2
	ip -n "$NS_R1" -6 route add fd00:2::/64 via 2001:db8::2
	ip -n "$NS_R2" route add 10.1.0.0/24 via 192.0.2.1
	ip -n "$NS_R2" -6 route add fd00:1::/64 via 2001:db8::1
	for ns in "$NS_R1" "$NS_R2"; do
		ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	done
}

# site_espd_start N: espd takes over router N's lan and wan.
site_espd_start() {
	local config=$SCRATCH/router$1.conf
	site_select "$1"
	printf '%s\n' "set vpp settings interface lan driver af-packet" \
		"set vpp settings interface wan driver af-packet" \
		"set vpp settings interface-rx-mode adaptive" >"$config"
	espd_start "$config" && SITE_PIDS[$1]=$ESPD_PID
}

# site_key: a random GCM-128 key with its salt, in hex.
site_key() { echo "0x$(od -An -tx1 -N20 /dev/urandom | tr -d ' \n')"; }

# site_sa ROUTER FROM TO SPI REQID KEY: on ROUTER, the SA from router FROM's
# WAN address to router TO's; the router whose address is its source takes
# it as outbound, the other as inbound.
site_sa() {
	site_ctl "$1" ipsec sa add src "192.0.2.$2" dst "192.0.2.$3" proto esp spi "$4" reqid "$5" \
		mode tunnel replay-window 32 aead 'rfc4106(gcm(aes))' "$6" 128 >/dev/null
}

# site_tunnel: the same two SAs on both routers, and each router's policies:
# out toward the other site, in and fwd from it, for IPv4 and IPv6.
site_tunnel() {
	local key12 key21 r
	key12=$(site_key) key21=$(site_key)
	for r in 1 2; do
		site_sa "$r" 1 2 "$SITE_SPI_1TO2" 1 "$key12" &&
			site_sa "$r" 2 1 "$SITE_SPI_2TO1" 2 "$key21" || return 1
	done
	site_policies 1 192.0.2.1 192.0.2.2 1 2 10.1.0.0/24 10.2.0.0/24 fd00:1::/64 fd00:2::/64 &&
	site_policies 2 192.0.2.2 192.0.2.1 2 1 10.2.0.0/24 10.1.0.0/24 fd00:2::/64 fd00:1::/64
}

# site_policies N LOCAL PEER REQID_OUT REQID_IN NET4 PEER_NET4 NET6 PEER_NET6
site_policies() {
	local r=$1 local=$2 peer=$3 out=$4 in=$5 dir
	for nets in "$6 $7" "$8 $9"; do
		set -- $nets
		site_ctl "$r" ipsec policy add src "$1" dst "$2" dir out \
			tmpl src "$local" dst "$peer" proto esp mode tunnel reqid "$out" || return 1
		for dir in in fwd; do
			site_ctl "$r" ipsec policy add src "$2" dst "$1" dir "$dir" \
				tmpl src "$peer" dst "$local" proto esp mode tunnel reqid "$in" ||
				return 1
		done
	done >/dev/null
}

site_cleanup() {
	local r
	for r in 1 2; do
		site_select "$r"
		espd_stop >/dev/null 2>&1 || true
		rm -rf "/run/espd/$T" "$SOCK"
	done
	for ns in "$NS_A" "$NS_R1" "$NS_R2" "$NS_B"; do ip netns del "$ns" 2>/dev/null || true; done
}
