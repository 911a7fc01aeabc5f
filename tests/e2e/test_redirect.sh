#!/usr/bin/env bash
# ICMP redirects from espd (af-packet), as the kernel's forwarding sends
# them (ip_forward, ip_rt_send_redirect; ip6_forward, ndisc_send_redirect).
# hostA's link is a bridge it shares with the router and a second router G
# (10.1.0.3, fd00:1::3, fe80::3), behind which lie 10.3.0.5, fd00:3::5 and
# fd00:4::5; the router routes those back out of r-a via G. hostA's frames
# to them through the router are forwarded by espd, and hostA is told of
# the better first hop: at most as often as the kernel would tell it, and
# over IPv4 only while send_redirects is on for r-a (conf/all or its own).
T=rdr$$
source "$(dirname "$0")/lib_forward.sh"
NS_G=$T-g
at_exit redirect_cleanup

redirect_cleanup() {
	cleanup
	ip netns del "$NS_G" 2>/dev/null || true
}

# hostA's a0 joins a bridge br0 (hostA's addresses) with G's link.
redirect_topology() {
	topology_up
	ip netns add "$NS_G"
	ip -n "$NS_G" link set lo up
	ip -n "$NS_A" addr flush dev a0
	ip -n "$NS_A" link add br0 type bridge mcast_snooping 0
	ip -n "$NS_A" link set a0 master br0
	ip -n "$NS_A" link add a1 type veth peer name g0 netns "$NS_G"
	ip -n "$NS_A" link set a1 master br0
	ip -n "$NS_A" link set a1 up
	link_addresses "$NS_A" br0 10.1.0.2/24 fd00:1::2/64
	ip -n "$NS_A" route replace default via 10.1.0.1 dev br0
	ip -n "$NS_A" -6 route replace default via fd00:1::1 dev br0
	link_addresses "$NS_G" g0 10.1.0.3/24 fd00:1::3/64
	ip -n "$NS_G" addr add fe80::3/64 dev g0 nodad
	for addr in 10.3.0.5/32 fd00:3::5/128 fd00:4::5/128; do
		ip -n "$NS_G" addr add "$addr" dev lo
	done
}

# probe FAMILY DST BURSTS...: hostA sends echo requests to DST through the
# router's MAC, BURSTS of them 0.2 s apart, and prints what came back as
# JSON: the redirects from the router, each with its fields (IPv6: the
# packet its Redirected Header carries, as quoted_*), and how many
# echo replies (each request forwarded) arrived.
probe() {
	in_a "$PY" - "$ROUTER_MAC" "$@" <<'PYEOF'
import json, sys, time
from scapy.all import (AsyncSniffer, Ether, IP, ICMP, IPerror, IPv6, ICMPv6EchoRequest,
                       ICMPv6EchoReply, ICMPv6ND_Redirect, ICMPv6NDOptDstLLAddr,
                       ICMPv6NDOptRedirectedHdr, conf, sendp)
conf.verb = 0
mac, family, dst, bursts = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
sniffer = AsyncSniffer(iface="br0", store=True)
sniffer.start()
time.sleep(0.5)
seq = 0
for n in bursts:
    frames = []
    for _ in range(int(n)):
        if family == "4":
            frames.append(Ether(dst=mac) / IP(src="10.1.0.2", dst=dst, ttl=64)
                          / ICMP(id=0x4242, seq=seq) / (b"x" * 32))
        else:
            frames.append(Ether(dst=mac) / IPv6(src="fd00:1::2", dst=dst, hlim=64)
                          / ICMPv6EchoRequest(id=0x4242, seq=seq, data=b"x" * 32))
        seq += 1
    sendp(frames, iface="br0")
    time.sleep(0.2)
time.sleep(1)
sniffer.stop()
redirects, replies = [], 0
for p in sniffer.results:
    if family == "4" and IP in p and ICMP in p:
        icmp = p[ICMP]
        if icmp.type == 0 and icmp.id == 0x4242 and p[IP].src == dst:
            replies += 1
        elif icmp.type == 5 and IPerror in p:
            redirects.append({"src": p[IP].src, "dst": p[IP].dst, "code": icmp.code,
                              "gateway": icmp.gw, "quoted_dst": p[IPerror].dst,
                              "quoted_ttl": p[IPerror].ttl})
    elif family == "6" and IPv6 in p:
        if ICMPv6EchoReply in p and p[ICMPv6EchoReply].id == 0x4242 and p[IPv6].src == dst:
            replies += 1
        elif ICMPv6ND_Redirect in p:
            r = p[ICMPv6ND_Redirect]
            header = IPv6(bytes(p[ICMPv6NDOptRedirectedHdr].pkt)) \
                if ICMPv6NDOptRedirectedHdr in p else None
            redirects.append({
                "src": p[IPv6].src, "dst": p[IPv6].dst, "hlim": p[IPv6].hlim,
                "target": r.tgt, "dest": r.dst,
                "tlla": p[ICMPv6NDOptDstLLAddr].lladdr if ICMPv6NDOptDstLLAddr in p else None,
                "quoted_dst": header.dst if header else None,
                "quoted_hlim": header.hlim if header else None,
                "quoted_echo": bool(header and ICMPv6EchoRequest in header)})
print(json.dumps({"redirects": redirects, "replies": replies}))
PYEOF
}

# expect FILE PYTHON-EXPRESSION: true when the expression over r (FILE's
# JSON) holds.
expect() {
	"$PY" -c 'import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)' "$1" "$2" && return 0
	echo "  got: $(cat "$1")"
	return 1
}

neighbors_known() {
	local table
	table=$(espctl show neighbors --json)
	for addr in 10.1.0.2 10.1.0.3 fd00:1::2 fd00:1::3 fe80::3; do
		grep -q "\"$addr\"" <<<"$table" || return 1
	done
}

redirect_topology
write_config "$CONF" af-packet
if ! espd_start "$CONF"; then fail "espd starts"; exit 1; fi
in_r ip route add 10.3.0.0/24 via 10.1.0.3 dev r-a
in_r ip -6 route add fd00:3::/64 via fe80::3 dev r-a
in_r ip -6 route add fd00:4::/64 via fd00:1::3 dev r-a
ROUTER_MAC=$(ip -n "$NS_R" -br link show r-a | awk '{ print $3 }')
G_MAC=$(ip -n "$NS_G" -br link show g0 | awk '{ print $3 }')
ROUTER_LL=$(ip -n "$NS_R" -6 -br addr show dev r-a scope link | awk '{ print $3 }')
ROUTER_LL=${ROUTER_LL%/*}
# Every next hop known to espd, so that it forwards these packets itself:
# what it punts, the kernel would redirect.
for addr in 10.1.0.2 10.1.0.3 fd00:1::2 fd00:1::3 fe80::3%r-a; do
	in_r ping -c 1 -W 2 "$addr" >/dev/null
done
check "the router's next hops on hostA's link are known to espd" wait_until 3 neighbors_known

# probed REASON NAME PROBE-ARGS...: probe into $SCRATCH/NAME.json; prints by
# how much show errors counted REASON meanwhile.
probed() {
	local reason=$1 name=$2 before
	shift 2
	before=$(counter "$reason")
	probe "$@" >"$SCRATCH/$name.json"
	echo $(( $(counter "$reason") - before ))
}

paced=$(probed "IPv4: held back per source" v4 4 10.3.0.5 20 1)
check "IPv4: hostA gets a redirect for host from 10.1.0.1 naming the gateway 10.1.0.3" \
	expect "$SCRATCH/v4.json" 'r["redirects"] and all(x["src"] == "10.1.0.1" and
		x["dst"] == "10.1.0.2" and x["code"] == 1 and x["gateway"] == "10.1.0.3" and
		x["quoted_dst"] == "10.3.0.5" and x["quoted_ttl"] == 63 for x in r["redirects"])'
check "IPv4: a burst of 20 gets one, the packet 0.2 s later another (40 ms on); all forwarded" \
	expect "$SCRATCH/v4.json" 'len(r["redirects"]) == 2 and r["replies"] == 21'
check "IPv4: the 19 held back counted in show errors" [ "$paced" -eq 19 ]

limited=$(probed "IPv6: rate limited per destination" v6 6 fd00:3::5 10)
check "IPv6: a redirect from the router's link-local address naming fe80::3, with its MAC" \
	expect "$SCRATCH/v6.json" "r['redirects'] and all(x['src'] == '$ROUTER_LL' and
		x['dst'] == 'fd00:1::2' and x['hlim'] == 255 and x['target'] == 'fe80::3' and
		x['dest'] == 'fd00:3::5' and x['tlla'] == '$G_MAC' and
		x['quoted_dst'] == 'fd00:3::5' and x['quoted_hlim'] == 64 and x['quoted_echo']
		for x in r['redirects'])"
check "IPv6: 6 of a burst of 10 redirected (a burst per destination), 4 counted, all forwarded" \
	expect "$SCRATCH/v6.json" "len(r['redirects']) == 6 and r['replies'] == 10 and
		$limited == 4"
target=$(probed "IPv6: target not link-local" v6-global 6 fd00:4::5 1)
check "IPv6: via a global gateway (fd00:1::3): forwarded, no redirect, counted" \
	expect "$SCRATCH/v6-global.json" "not r['redirects'] and r['replies'] == 1 and $target == 1"

# redirects_after ON COUNT: once espd shows send_redirects ON for r-a,
# 3 packets of hostA's are forwarded and get COUNT redirects.
redirects_after() {
	wait_until 3 iface_is r-a send_redirects "$1" &&
		probe 4 10.3.0.5 3 >"$SCRATCH/v4-$1.json" &&
		expect "$SCRATCH/v4-$1.json" "len(r['redirects']) == $2 and r['replies'] == 3"
}

in_r sysctl -qw net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.r-a.send_redirects=0
check "send_redirects 0 on all and r-a: show interfaces says off, forwarded, no redirect" \
	redirects_after false 0
in_r sysctl -qw net.ipv4.conf.r-a.send_redirects=1
check "send_redirects 1 on r-a alone (all 0): a redirect again" redirects_after true 1
in_r sysctl -qw net.ipv4.conf.all.send_redirects=1
check "espd exits 0 on SIGTERM" espd_stop
