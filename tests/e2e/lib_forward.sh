# The forwarding end-to-end cases, run once per driver by test_forward_*.sh.
# shellcheck shell=bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib_trace.sh"

CONF=$SCRATCH/espd.conf

# json_has_prefix PREFIX: espd's route table holds PREFIX.
routes_have() {
	espctl show routes --json | "$PY" -c '
import json, sys
routes = json.load(sys.stdin)
sys.exit(0 if any(r["prefix"] == sys.argv[1] for r in routes) else 1)' "$1"
}

# listed_in_order: show routes lists IPv4 before IPv6, each by address then
# length, and show neighbors each interface's entries together, by address,
# both as `ip route` and `ip neigh` do (the tables themselves are hashes).
listed_in_order() {
	espctl show routes --json | "$PY" -c '
import ipaddress, json, sys
nets = [ipaddress.ip_network(r["prefix"]) for r in json.load(sys.stdin)]
key = lambda n: (n.version, int(n.network_address), n.prefixlen)
sys.exit(0 if len({n.version for n in nets}) == 2 and nets == sorted(nets, key=key) else 1)' &&
	espctl show neighbors --json | "$PY" -c '
import ipaddress, itertools, json, sys
entries = json.load(sys.stdin)
groups = [[ipaddress.ip_address(e["address"]) for e in g]
          for _, g in itertools.groupby(entries, key=lambda e: e["interface"])]
key = lambda a: (a.version, int(a))
sys.exit(0 if len(entries) >= 2 and
         len(groups) == len({e["interface"] for e in entries}) and
         all(g == sorted(g, key=key) for g in groups) else 1)'
}

counter() { # counter "reason text": count in show errors
	espctl show errors --json | "$PY" -c '
import json, sys
print(sum(e["count"] for e in json.load(sys.stdin) if e["reason"] == sys.argv[1]))' "$1"
}

node_packets() {
	espctl show runtime --json | "$PY" -c '
import json, sys
print(sum(n["packets"] for n in json.load(sys.stdin)["nodes"] if n["node"] == sys.argv[1]))' "$1"
}

case_forwarding() {
	local driver=$1
	write_config "$CONF" "$driver"
	if ! espd_start "$CONF"; then fail "$driver: espd starts and takes over r-a, r-b"; return 1; fi
	check "$driver: espd starts and takes over r-a, r-b" \
		bash -c "[ \"\$($ESPCTL --socket $SOCK show interfaces --json | $PY -c 'import json,sys; print(len([i for i in json.load(sys.stdin) if i[\"up\"]]))')\" = 2 ]"
	check "$driver: IPv4 ping hostA -> hostB" in_a ping -c 3 -i 0.2 -W 2 10.2.0.2
	check "$driver: IPv6 ping hostA -> hostB" in_a ping -6 -c 3 -i 0.2 -W 2 fd00:2::2
	local misses before after
	misses=$(counter "neighbor unresolved")
	check "$driver: neighbor learned after a punt" \
		bash -c "[ $misses -ge 1 ] && $ESPCTL --socket $SOCK show neighbors --json | grep -q '\"10.2.0.2\"'"
	before=$(node_packets ip-rewrite)
	in_a ping -c 5 -i 0.1 -W 2 10.2.0.2 >/dev/null
	after=$(node_packets ip-rewrite)
	# Each echo crosses espd twice (request and reply), in the dataplane.
	check "$driver: espd itself forwards once the neighbor is known" [ $((after - before)) -ge 10 ]
	check "$driver: TCP transfer of 4 MB arrives intact" tcp_transfer
	check "$driver: show routes and show neighbors list by address" listed_in_order
	case_addresses "$driver"
	case_ingress "$driver"
	case_trace "$driver"
	case_multipath "$driver"
	before=$(counter "TTL or hop limit expired")
	in_a ping -c 1 -t 1 -W 2 10.2.0.2 >"$SCRATCH/ttl.out" 2>&1
	after=$(counter "TTL or hop limit expired")
	check "$driver: TTL-expired packet counted in show errors and answered by the kernel" \
		bash -c "[ $after -gt $before ] && grep -qi 'exceeded' $SCRATCH/ttl.out"
	# A route added in the kernel shows up and carries traffic.
	in_b ip addr add 10.99.0.1/32 dev lo
	in_r ip route add 10.99.0.0/24 via 10.2.0.2
	check "$driver: kernel route appears in show routes within a second" wait_until 1 routes_have 10.99.0.0/24
	check "$driver: traffic follows the new route" in_a ping -c 2 -i 0.2 -W 2 10.99.0.1
	in_r ip route del 10.99.0.0/24
	check "$driver: deleted kernel route leaves show routes within a second" \
		wait_until 1 bash -c "! $ESPCTL --socket $SOCK show routes --json | grep -q '10.99.0.0/24'"
	check "$driver: traffic stops with the route" bash -c "! ip netns exec $NS_A ping -c 1 -W 1 10.99.0.1 >/dev/null"
	local shows="interfaces routes neighbors errors runtime netlink version acl ipsec\ sa ipsec\ policy"
	shows="$shows pcap"
	check "$driver: every show --json is valid JSON" bash -c "
		for what in $shows; do $ESPCTL --socket $SOCK show \$what --json | $PY -m json.tool >/dev/null || exit 1; done"
	check "$driver: unknown command is an error with a non-zero exit" bash -c "
		! $ESPCTL --socket $SOCK show bogus 2>$SCRATCH/espctl.err &&
		grep -q \"unknown command\\|error\" $SCRATCH/espctl.err"
	local total_errors="$ESPCTL --socket $SOCK show errors --json | $PY -c 'import json,sys; print(sum(e[\"count\"] for e in json.load(sys.stdin)))'"
	before=$(bash -c "$total_errors")
	espctl clear counters >/dev/null
	after=$(bash -c "$total_errors")
	# A stray ND or ARP frame may be counted between the two commands.
	check "$driver: clear counters zeroes show errors ($before -> $after)" [ "$before" -gt 5 -a "$after" -le 2 ]
	check "$driver: espd exits 0 on SIGTERM" espd_stop
}

# flow_sniffer NS DEV FILE DONE: the flows (destination and source port) of
# the UDP datagrams to port 7777 that DEV receives (not those it sends), one
# a line, until the file DONE exists and 1 s passed since then and since the
# last datagram (15 s at most): a fixed window cut a slow burst's tail. The
# socket queues the frames DEV sends too (hostA's whole burst): its buffer
# is forced large enough for all, as the default drops some.
flow_sniffer() {
	ip netns exec "$1" "$PY" -c '
import os, socket, sys, time
SO_RCVBUFFORCE = 33
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 8 << 20)
s.bind((sys.argv[1], 0))
s.settimeout(0.2)
print("ready", flush=True)
end, last, done = time.time() + 15, 0, None
while time.time() < end:
    if done is None and os.path.exists(sys.argv[2]):
        done = time.time()
    if done is not None and time.time() - max(done, last) >= 1:
        break
    try:
        frame, addr = s.recvfrom(2048)
    except socket.timeout:
        continue
    if addr[2] == socket.PACKET_OUTGOING:
        continue
    kind = frame[12:14]
    if kind == b"\x08\x00" and frame[23] == 17 and frame[36:38] == b"\x1e\x61":
        print(socket.inet_ntop(socket.AF_INET, frame[30:34]), frame[34:36].hex(), flush=True)
    elif kind == b"\x86\xdd" and frame[20] == 17 and frame[56:58] == b"\x1e\x61":
        print(socket.inet_ntop(socket.AF_INET6, frame[38:54]), frame[54:56].hex(), flush=True)
    else:
        continue
    last = time.time()' "$2" "$4" >"$3" &
}

# ecmp_flows PREFIX_BASE BY EXPECT: hostA sends 3 datagrams in each of 64
# flows under the multipath route, told apart by destination (BY=addresses)
# or by source port to one destination (BY=ports); each flow arrives by one
# next hop only, all 3 there, and both next hops get some (EXPECT=spread)
# or one gets all (EXPECT=together); or some flows are lost (EXPECT=lost).
ecmp_flows() {
	local base=$1 by=$2 expect=$3 out=$SCRATCH/ecmp.${1//[.:]/_}.$2 pids=""
	rm -f "$out.sent"
	flow_sniffer "$NS_A" a0 "$out.a" "$out.sent"; pids="$pids $!"
	flow_sniffer "$NS_B" b0 "$out.b" "$out.sent"; pids="$pids $!"
	wait_until 3 bash -c "grep -q ready $out.a && grep -q ready $out.b"
	in_a "$PY" -c '
import socket, sys
six, by_ports = ":" in sys.argv[1], sys.argv[2] == "ports"
for n in range(1, 65):
    s = socket.socket(socket.AF_INET6 if six else socket.AF_INET, socket.SOCK_DGRAM)
    if by_ports:
        s.bind(("", 40000 + n))
    dst = sys.argv[1] + format(1 if by_ports else n, "x" if six else "d")
    for _ in range(3):
        s.sendto(b"flow", (dst, 7777))
    s.close()' "$base" "$by"
	touch "$out.sent"
	# shellcheck disable=SC2086
	wait $pids
	"$PY" -c '
import collections, sys
a = collections.Counter(l.strip() for l in open(sys.argv[1]) if l.strip() != "ready")
b = collections.Counter(l.strip() for l in open(sys.argv[2]) if l.strip() != "ready")
counts = collections.Counter(list(a.values()) + list(b.values()))
print(f"ecmp: {len(a)} flows by hostA, {len(b)} by hostB, {len(set(a) & set(b))} by both;"
      f" flows by datagrams seen: {dict(counts)}")
if sys.argv[3] == "lost":
    sys.exit(0 if 0 < len(a) + len(b) < 64 else 1)
hops = bool(a) + bool(b)
sys.exit(0 if len(a) + len(b) == 64 and not set(a) & set(b) and set(counts) == {3} and
         hops == (2 if sys.argv[3] == "spread" else 1) else 1)' "$out.a" "$out.b" "$expect"
}

# multipath_hash_policy POLICY: the router's IPv4 and IPv6
# fib_multipath_hash_policy, which espd reads once a second.
multipath_hash_policy() {
	in_r sysctl -qw net.ipv4.fib_multipath_hash_policy="$1" \
		net.ipv6.fib_multipath_hash_policy="$1"
}

# routes_hops PREFIX: show routes --json lists both hops of PREFIX with
# their weights 1 and 2.
routes_hops() {
	espctl show routes --json | "$PY" -c '
import json, sys
route = [r for r in json.load(sys.stdin) if r["prefix"] == sys.argv[1]]
hops = route[0].get("nexthops", []) if route else []
sys.exit(0 if sorted((h["interface"], h["weight"]) for h in hops) ==
         [("r-a", 1), ("r-b", 2)] else 1)' "$1"
}

# A kernel route with a next hop by each port (ECMP) spreads flows over
# both by weight, each flow staying on one (fib_select_multipath,
# fib6_select_path), both families; by addresses, and by ports too once
# fib_multipath_hash_policy says L4.
case_multipath() {
	local driver=$1
	in_r ping -c 1 -W 2 10.1.0.2 >/dev/null
	in_r ping -c 1 -W 2 10.2.0.2 >/dev/null
	in_r ping -6 -c 1 -W 2 fd00:1::2 >/dev/null
	in_r ping -6 -c 1 -W 2 fd00:2::2 >/dev/null
	in_r ip route add 10.77.0.0/24 nexthop via 10.1.0.2 dev r-a weight 1 \
		nexthop via 10.2.0.2 dev r-b weight 2
	in_r ip -6 route add fd77::/64 nexthop via fd00:1::2 dev r-a weight 1 \
		nexthop via fd00:2::2 dev r-b weight 2
	check "$driver: show routes lists both hops of a multipath route with their weights" \
		wait_until 1 routes_hops 10.77.0.0/24
	check "$driver: IPv4 flows spread over both next hops, each flow on one" \
		ecmp_flows 10.77.0. addresses spread
	check "$driver: IPv6 flows spread over both next hops, each flow on one" \
		ecmp_flows fd77:: addresses spread
	check "$driver: IPv4 flows of one address pair take one next hop (policy 0, L3)" \
		ecmp_flows 10.77.0. ports together
	in_a sysctl -qw net.ipv6.auto_flowlabels=0
	check "$driver: IPv6 flows of one address pair and flow label take one next hop (policy 0)" \
		ecmp_flows fd77:: ports together
	in_a sysctl -qw net.ipv6.auto_flowlabels=1
	check "$driver: IPv6 flows of one address pair, each its flow label, spread (policy 0)" \
		ecmp_flows fd77:: ports spread
	in_a sysctl -qw net.ipv6.auto_flowlabels=0
	multipath_hash_policy 1
	check "$driver: IPv4 flows of one address pair spread by port (policy 1, L4)" \
		wait_until 6 ecmp_flows 10.77.0. ports spread
	check "$driver: IPv6 flows of one address pair and label spread by port (policy 1, L4)" \
		wait_until 6 ecmp_flows fd77:: ports spread
	multipath_hash_policy 0
	in_a sysctl -qw net.ipv6.auto_flowlabels=1
	in_r ip route del 10.77.0.0/24
	in_r ip -6 route del fd77::/64
	case_multipath_use_neigh "$driver"
}

# flows_not_punted PREFIX_BASE: ecmp_flows' flows all take one hop and
# none is punted for want of a neighbor.
flows_not_punted() {
	local punts
	punts=$(counter "neighbor unresolved")
	ecmp_flows "$1" addresses together && [ "$(counter "neighbor unresolved")" = "$punts" ]
}

# fib_multipath_use_neigh: a hop whose gateway does not answer ARP takes no
# flow once the setting is on and the kernel has told of the failure (it
# notifies FAILED, not INCOMPLETE): espd forwards those flows itself by the
# other hop, punting none.
case_multipath_use_neigh() {
	local driver=$1
	in_r ip route add 10.78.0.0/24 nexthop via 10.1.0.2 dev r-a \
		nexthop via 10.2.0.99 dev r-b
	check "$driver: flows hashed to a hop whose gateway does not answer are lost (use_neigh 0)" \
		ecmp_flows 10.78.0. addresses lost
	in_r sysctl -qw net.ipv4.fib_multipath_use_neigh=1
	check "$driver: the kernel's neighbor of the gateway that does not answer fails" \
		wait_until 10 bash -c "ip -n $NS_R neigh show 10.2.0.99 | grep -q FAILED"
	check "$driver: with fib_multipath_use_neigh espd forwards every flow by the hop that answers" \
		wait_until 8 flows_not_punted 10.78.0.
	in_r sysctl -qw net.ipv4.fib_multipath_use_neigh=0
	in_r ip route del 10.78.0.0/24
}

# udp_sinks FILE: hostB and the router record the sources of the UDP
# datagrams to port 9999 (hostB) and 67 (the router), both families, until
# none came for 3 s; their pids in SINKS.
udp_sinks() {
	local sink='
import select, socket, sys
socks = []
for family, addr, port in ((socket.AF_INET, "0.0.0.0", int(sys.argv[1])),
                           (socket.AF_INET6, "::", int(sys.argv[1]))):
    s = socket.socket(family, socket.SOCK_DGRAM)
    if family == socket.AF_INET6: s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((addr, port)); socks.append(s)
print("ready", flush=True)
while True:
    ready, _, _ = select.select(socks, [], [], 3)
    if not ready: break
    for s in ready: print(sys.argv[2], s.recvfrom(100)[1][0], flush=True)'
	in_b "$PY" -c "$sink" 9999 hostB >"$1.b" &
	SINKS="$!"
	in_r "$PY" -c "$sink" 67 router >"$1.r" &
	SINKS="$SINKS $!"
	wait_until 3 bash -c "grep -q ready $1.b && grep -q ready $1.r"
}

# The kernel's tests of addresses (ip_route_input, ip6_rcv_core,
# ip6_forward): frames to the router's MAC from hostA, each counted or
# delivered as the kernel would.
case_addresses() {
	local driver=$1 mac before4 before4d before6 before6d scope
	mac=$(ip -n "$NS_A" neigh show 10.1.0.1 | awk '{ print $5 }')
	before4=$(counter "martian source address")
	before4d=$(counter "martian destination address")
	before6d=$(counter "loopback destination address")
	scope=$(counter "link-local or unspecified source")
	udp_sinks "$SCRATCH/sinks"
	in_a "$PY" -c '
import sys
from scapy.all import Ether, IP, IPv6, UDP, Raw, conf, sendp
conf.verb = 0
mac = sys.argv[1]
for src, dst, port in (("240.0.0.1", "10.2.0.2", 9999), ("127.0.0.1", "10.2.0.2", 9999),
                       ("0.0.0.1", "10.2.0.2", 9999), ("224.0.0.5", "10.2.0.2", 9999),
                       ("10.1.0.2", "127.0.0.1", 9999), ("10.1.0.2", "0.1.2.3", 9999),
                       ("0.0.0.0", "255.255.255.255", 67), ("10.2.0.1", "10.2.0.2", 9999),
                       ("10.1.0.1", "10.1.0.1", 67)):
    sendp(Ether(dst=mac) / IP(src=src, dst=dst) / UDP(sport=68, dport=port) / Raw(b"x"), iface="a0")
for src, dst in (("fe80::99", "fd00:2::2"), ("::", "fd00:2::2"), ("fd00:1::2", "::1"),
                 ("fd00:1::2", "fd00:2::2")):
    sendp(Ether(dst=mac) / IPv6(src=src, dst=dst) / UDP(sport=68, dport=9999) / Raw(b"x"),
          iface="a0")' "$mac"
	wait $SINKS
	check "$driver: a class E source (240.0.0.1) is routed, as the kernel does; IPv6 from fd00:1::2 too" \
		bash -c "grep -qx 'hostB 240.0.0.1' $SCRATCH/sinks.b &&
			grep -qx 'hostB fd00:1::2' $SCRATCH/sinks.b"
	check "$driver: nothing else reached hostB (martians, link-local and unspecified sources)" \
		[ "$(grep -c '^hostB' "$SCRATCH/sinks.b")" -eq 2 ]
	check "$driver: 127.0.0.1, 0.0.0.1, 224.0.0.5, own 10.2.0.1 and 10.1.0.1 as sources: martian" \
		[ $(( $(counter "martian source address") - before4 )) -eq 5 ]
	check "$driver: the router's kernel got nothing from its own address (its TAP would take it)" \
		bash -c "! grep -q 'router 10.1.0.1' $SCRATCH/sinks.r"
	check "$driver: 127.0.0.1 and 0.1.2.3 as destinations: martian, counted" \
		[ $(( $(counter "martian destination address") - before4d )) -eq 2 ]
	check "$driver: 0.0.0.0 to 255.255.255.255 reaches the router's kernel" \
		grep -qx 'router 0.0.0.0' "$SCRATCH/sinks.r"
	check "$driver: IPv6 to ::1: dropped, counted" \
		[ $(( $(counter "loopback destination address") - before6d )) -eq 1 ]
	check "$driver: IPv6 from fe80::99 and :: to be forwarded: the kernel's, counted" \
		[ $(( $(counter "link-local or unspecified source") - scope )) -eq 2 ]
}

# iface_is IFACE KEY VALUE: show interfaces --json has KEY of IFACE at VALUE
# (JSON spelling: true, "strict").
iface_is() {
	espctl show interfaces --json | "$PY" -c '
import json, sys
iface = [i for i in json.load(sys.stdin) if i["name"] == sys.argv[1]][0]
sys.exit(json.dumps(iface[sys.argv[2]]) != sys.argv[3])' "$@"
}

# spoof_round FILE: hostA sends UDP to hostB:9999 from its own address, from
# one routed via r-b and from one without a route; hostB's sink records
# which arrive.
spoof_round() {
	local mac
	mac=$(ip -n "$NS_A" neigh show 10.1.0.1 | awk '{ print $5 }')
	udp_sinks "$1"
	in_a "$PY" -c '
import sys
from scapy.all import Ether, IP, UDP, Raw, conf, sendp
conf.verb = 0
for src in ("10.1.0.2", "10.2.0.77", "192.0.2.1"):
    sendp(Ether(dst=sys.argv[1]) / IP(src=src, dst="10.2.0.2") / UDP(sport=68, dport=9999)
          / Raw(b"x"), iface="a0")' "$mac"
	wait $SINKS
}

# hostB's sink got datagrams from exactly these sources (sorted, one line).
sink_got() {
	[ "$(grep '^hostB' "$1.b" | sort | awk '{ print $2 }' | tr '\n' ' ')" = "$2" ]
}

# IPv4 with forwarding off on r-a: hostA's pings to hostB dropped and
# counted (at least 2 over COUNT), to the router answered.
ip4_not_forwarded() {
	! in_a ping -c 2 -i 0.2 -W 1 10.2.0.2 >/dev/null && in_a ping -c 1 -W 2 10.1.0.1 >/dev/null &&
		[ $(( $(counter "forwarding disabled on the input interface") - $1 )) -ge 2 ]
}

ip6_not_forwarded() {
	in_a ping -c 1 -W 2 10.2.0.2 >/dev/null && ! in_a ping -6 -c 2 -i 0.2 -W 1 fd00:2::2 >/dev/null
}

# The kernel's say over packets by the interface they came in on
# (ip_route_input_slow, fib_validate_source, ip6_forward), read from its
# netconf notifications: forwarding off there drops what would be routed
# on, rp_filter what does not route back as it asks.
case_ingress() {
	local driver=$1 before
	before=$(counter "forwarding disabled on the input interface")
	in_r sysctl -qw net.ipv4.conf.r-a.forwarding=0
	check "$driver: IPv4 forwarding off on r-a: show interfaces says so" \
		wait_until 2 iface_is r-a forwarding4 false
	check "$driver: ... hostA's pings to hostB dropped, counted; to the router answered" \
		ip4_not_forwarded "$before"
	in_r sysctl -qw net.ipv4.conf.r-a.forwarding=1 net.ipv6.conf.all.forwarding=0
	wait_until 2 iface_is r-a forwarding6 false
	check "$driver: IPv6 forwarding off: IPv4 crosses again, IPv6 does not" ip6_not_forwarded
	in_r sysctl -qw net.ipv6.conf.all.forwarding=1
	wait_until 2 iface_is r-a forwarding6 true
	check "$driver: IPv6 forwarding back on: IPv6 crosses" in_a ping -6 -c 1 -W 2 fd00:2::2
	before=$(counter "source fails the reverse path filter")
	in_r sysctl -qw net.ipv4.conf.all.rp_filter=1
	wait_until 2 iface_is r-a rp_filter '"strict"'
	spoof_round "$SCRATCH/strict"
	check "$driver: all.rp_filter=1 is strict on r-a: only hostA's own source reaches hostB" \
		sink_got "$SCRATCH/strict" "10.1.0.2 "
	check "$driver: ... the sources routed via r-b and not routed counted" \
		[ $(( $(counter "source fails the reverse path filter") - before )) -eq 2 ]
	in_r sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.r-a.rp_filter=2
	wait_until 2 iface_is r-a rp_filter '"loose"'
	spoof_round "$SCRATCH/loose"
	check "$driver: r-a's rp_filter=2 is loose: a source routed via r-b passes, one without a route not" \
		sink_got "$SCRATCH/loose" "10.1.0.2 10.2.0.77 "
	in_r sysctl -qw net.ipv4.conf.r-a.rp_filter=0
	check "$driver: rp_filter 0 again: show interfaces says off" wait_until 2 iface_is r-a rp_filter '"off"'
}

case_restore() {
	local driver=$1 before after
	before=$(kernel_snapshot r-a; kernel_snapshot r-b)
	write_config "$CONF" "$driver"
	local shared=/proc/sys/net/ipv4/conf/r-b/shared_media was
	was=$(in_r cat $shared)
	espd_start "$CONF" || { fail "$driver: restore leaves interfaces exactly as before"; return 1; }
	in_a ping -c 1 -W 2 10.2.0.2 >/dev/null
	in_r sysctl -qw net.ipv4.conf.r-b.shared_media=$((1 - was))
	espd_stop
	after=$(kernel_snapshot r-a; kernel_snapshot r-b)
	if [ "$before" = "$after" ]; then pass "$driver: restore leaves interfaces exactly as before"
	else fail "$driver: restore leaves interfaces exactly as before"; diff <(echo "$before") <(echo "$after"); fi
	check "$driver: a sysctl set on the TAP while espd ran stays on the restored device" \
		[ "$(in_r cat $shared)" = $((1 - was)) ]
	in_r sysctl -qw net.ipv4.conf.r-b.shared_media="$was"

	espd_start "$CONF" || { fail "$driver: kill -9 then restart repairs"; return 1; }
	kill -KILL "$ESPD_PID"; wait "$ESPD_PID" 2>/dev/null; ESPD_PID=""
	espd_start "$CONF" && in_a ping -c 2 -i 0.2 -W 2 10.2.0.2 >/dev/null
	local running=$?
	espd_stop
	after=$(kernel_snapshot r-a; kernel_snapshot r-b)
	if [ $running -eq 0 ] && [ "$before" = "$after" ]; then pass "$driver: kill -9 then restart repairs"
	else fail "$driver: kill -9 then restart repairs"; diff <(echo "$before") <(echo "$after"); fi
}

case_bad_config() {
	local before after rc
	before=$(kernel_snapshot r-a; kernel_snapshot r-b)
	printf 'set vpp settings interface r-a driver af-packet\nset vpp settings interface r-b drivr af-packet\n' >"$CONF"
	in_r "$ESPD" -c "$CONF" --name "$T" --socket "$SOCK" >"$SCRATCH/bad-config.out" 2>&1
	rc=$?
	after=$(kernel_snapshot r-a; kernel_snapshot r-b)
	check "bad config refused with exit 2, naming file, line and word" \
		bash -c "[ $rc -eq 2 ] && grep -q \"^$CONF:2: 'drivr': \" $SCRATCH/bad-config.out"
	check "bad config touches no interface" [ "$before" = "$after" ]
	printf 'set vpp settings interface nosuch0 driver af-packet\n' >"$CONF"
	in_r "$ESPD" -c "$CONF" --name "$T" --socket "$SOCK" >"$SCRATCH/bad-config.out" 2>&1
	rc=$?
	after=$(kernel_snapshot r-a; kernel_snapshot r-b)
	check "missing interface refused with exit 2, nothing touched" \
		bash -c "[ $rc -eq 2 ] && grep -q nosuch0 $SCRATCH/bad-config.out &&
			[ '$before' = '$after' ]"
}

# A client that sends a request and closes without reading the reply.
cli_client_gone() {
	in_r "$PY" -c '
import socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
words = b"show\0errors\0"
s.sendall(struct.pack("=I", len(words)) + words)
s.close()' "$SOCK"
}

# A server that takes a connection and closes it unread, 20 times (exec:
# its job's PID is the server's).
cli_server_closing() {
	exec "$PY" -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(20)
open(sys.argv[2], "w").close()
for _ in range(20):
    s.accept()[0].close()' "$1" "$2"
}

case_cli_exchange() {
	local driver=$1 fake=$SCRATCH/fake.sock ready=$SCRATCH/fake.ready server rc out long
	write_config "$CONF" "$driver"
	espd_start "$CONF" || { fail "$driver: CLI client closing early"; return 1; }
	for _ in 1 2 3 4 5; do cli_client_gone; done
	check "$driver: clients closing before their reply leave espd running" \
		bash -c "kill -0 $ESPD_PID && $ESPCTL --socket $SOCK show version >/dev/null"
	check "$driver: espd logs the reply it could not deliver, with the reason" \
		grep -q "espd: cli: reply not delivered: Broken pipe" "$ESPD_LOG"
	long=$(head -c 5000 /dev/zero | tr '\0' x)
	out=$("$ESPCTL" --socket "$SOCK" show "$long" 2>&1)
	rc=$?
	check "$driver: a request too long is refused by espctl, exit 2, saying so" \
		bash -c "[ $rc -eq 2 ] && [ '$out' = 'espctl: request longer than 4096 bytes' ]"
	espd_stop
	cli_server_closing "$fake" "$ready" &
	server=$!
	wait_until 5 test -e "$ready"
	out=$("$ESPCTL" --socket "$fake" show version 2>&1)
	rc=$?
	kill "$server" 2>/dev/null
	wait "$server" 2>/dev/null
	check "$driver: an espd closing the connection unread: espctl exits 2 and says so" \
		bash -c "[ $rc -eq 2 ] && [[ '$out' =~ ^'espctl: espd at $fake '(did\ not\ take\ the\ request|closed\ the\ connection\ without\ a\ reply) ]]"
}

case_ignore_kernel_routes() {
	local driver=$1
	write_config "$CONF" "$driver" "set vpp settings lcp ignore-kernel-routes"
	in_b ip addr add 10.98.0.1/32 dev lo
	in_r ip route add 10.98.0.0/24 via 10.2.0.2
	espd_start "$CONF" || { fail "$driver: ignore-kernel-routes"; return 1; }
	sleep 0.3
	check "$driver: ignore-kernel-routes keeps connected routes only" \
		bash -c "routes_have() { $ESPCTL --socket $SOCK show routes --json | grep -q \"\\\"\$1\\\"\"; }; routes_have 10.2.0.0/24 && ! routes_have 10.98.0.0/24"
	check "$driver: with ignore-kernel-routes the kernel still carries other routes" \
		in_a ping -c 2 -i 0.2 -W 2 10.98.0.1
	espd_stop
	in_r ip route del 10.98.0.0/24
}

case_enobufs() {
	local driver=$1
	write_config "$CONF" "$driver" "set vpp settings lcp netlink rx-buffer-size 4096" \
		"set vpp settings lcp netlink batch-delay-ms 20"
	espd_start "$CONF" || { fail "$driver: ENOBUFS storm"; return 1; }
	"$PY" -c '
for i in range(4000):
    print(f"route add 10.{100 + i // 256}.{i % 256}.0/24 via 10.2.0.2")' >"$SCRATCH/routes.batch"
	# A stopped espd cannot drain its socket: the kernel must drop events.
	kill -STOP "$ESPD_PID"
	in_r ip -batch "$SCRATCH/routes.batch"
	in_r ip route del 10.100.5.0/24
	kill -CONT "$ESPD_PID"
	local compare='
import json, subprocess, sys, time
sock = sys.argv[1]
def kernel():
    out = set()
    for fam in ("-4", "-6"):
        for r in json.loads(subprocess.run(["ip", "-j", fam, "route", "show", "table", "main"], capture_output=True, text=True).stdout):
            if r.get("type", "unicast") != "unicast" or r["dst"].startswith("fe80") or r["dst"].startswith("ff"): continue
            dst = r["dst"]
            if dst == "default": dst = "0.0.0.0/0" if fam == "-4" else "::/0"
            if "/" not in dst: dst += "/32" if fam == "-4" else "/128"
            out.add(dst)
    return out
def espd():
    routes = json.loads(subprocess.run([sys.argv[2], "--socket", sock, "show", "routes", "--json"], capture_output=True, text=True).stdout)
    return {r["prefix"] for r in routes if not r["local"]}
for _ in range(100):
    k, e = kernel(), espd()
    if k == e: sys.exit(0)
    time.sleep(0.1)
print("kernel only:", sorted(k - e)[:10], "espd only:", sorted(e - k)[:10])
sys.exit(1)'
	check "$driver: after an ENOBUFS storm show routes equals the kernel table" \
		in_r "$PY" -c "$compare" "$SOCK" "$ESPCTL"
	check "$driver: the storm was seen and resynced" \
		bash -c "$ESPCTL --socket $SOCK show netlink --json | $PY -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d[\"resyncs\"] >= 1 else 1)'"
	espd_stop
}

links_mtu() { # links_mtu MTU: every link of the topology
	ip -n "$NS_A" link set a0 mtu "$1"
	ip -n "$NS_B" link set b0 mtu "$1"
	in_r ip link set r-a mtu "$1"
	in_r ip link set r-b mtu "$1"
}

# Jumbo frames (MTU 9000) through espd's own path, in both directions; the
# socket of an af_packet port takes them whole (ports/port.c).
case_jumbo() {
	local driver=$1 before after
	links_mtu 9000
	write_config "$CONF" "$driver"
	if ! espd_start "$CONF"; then fail "$driver: espd starts on links of MTU 9000"; links_mtu 1500; return 1; fi
	in_a ping -c 2 -i 0.2 -W 2 10.2.0.2 >/dev/null
	before=$(node_packets ip-rewrite)
	check "$driver: 8028-byte pings with DF cross espd at MTU 9000" \
		in_a ping -M do -s 8000 -c 3 -i 0.2 -W 2 10.2.0.2
	after=$(node_packets ip-rewrite)
	check "$driver: espd forwarded the jumbo frames itself" [ $((after - before)) -ge 6 ]
	check "$driver: a jumbo TCP transfer of 4 MB arrives intact" tcp_transfer
	check "$driver: the router's own 8028-byte ping through its TAP at MTU 9000" \
		in_r ping -M do -s 8000 -c 2 -i 0.2 -W 2 10.2.0.2
	check "$driver: an 8000-byte IPv6 echo with a hop-by-hop header to the router is answered" \
		hop_by_hop_ping_router
	before=$(node_packets ip-fragment)
	check "$driver: 4 MB over TCP to the router itself at MTU 9000 (DF segments)" \
		tcp_transfer in_r 10.1.0.1
	after=$(node_packets ip-fragment)
	check "$driver: the segments reached the kernel cut for its TAP (ip-fragment)" \
		[ $((after - before)) -ge 100 ]
	case_jumbo_pmtu "$driver"
	case_jumbo_ttl "$driver"
	espd_stop
	links_mtu 1500
}

# hop_by_hop_ping_router: hostA's 8000-byte ICMPv6 echo request with a
# hop-by-hop options header to the router's fd00:1::1 gets its reply. The
# TAP takes at most 1500 bytes, so espd cuts it for the kernel, which takes
# the fragments only with the hop-by-hop header in front of each one's
# fragment header (RFC 8200 s.4.5): behind it, the kernel's reassembled
# packet has an unknown next header and is answered with a parameter problem.
hop_by_hop_ping_router() {
	local mac
	mac=$(ip -n "$NS_A" neigh show 10.1.0.1 | awk '{ print $5 }')
	in_a "$PY" -c '
import sys
import time
from scapy.all import (Ether, IPv6, IPv6ExtHdrHopByHop, PadN, ICMPv6EchoRequest,
                       ICMPv6EchoReply, AsyncSniffer, conf, sendp)
conf.verb = 0
replies = AsyncSniffer(iface="a0", count=1, timeout=4,
                       lfilter=lambda p: ICMPv6EchoReply in p and p[ICMPv6EchoReply].id == 0x4242)
replies.start()
time.sleep(0.5)
sendp(Ether(dst=sys.argv[1]) / IPv6(src="fd00:1::2", dst="fd00:1::1")
      / IPv6ExtHdrHopByHop(options=[PadN(optdata=b"\0" * 4)])
      / ICMPv6EchoRequest(id=0x4242, data=b"x" * 8000), iface="a0")
replies.join()
got = replies.results
sys.exit(0 if len(got) == 1 and len(got[0][ICMPv6EchoReply].data) == 8000 else 1)' "$mac"
}

# jumbo_pings REASON FILE [PING-ARGS]: an 8028-byte IPv4 and IPv6 ping with
# DF from hostA to hostB, their output in FILE; prints how many more
# packets show errors counts for REASON.
jumbo_pings() {
	local reason=$1 file=$2 before
	shift 2
	before=$(counter "$reason")
	in_a ping -M do -s 8000 -c 1 -W 2 "$@" 10.2.0.2 >"$file" 2>&1
	in_a ping -6 -M do -s 8000 -c 1 -W 2 "$@" fd00:2::2 >>"$file" 2>&1
	echo $(( $(counter "$reason") - before ))
}

# From a jumbo link to a smaller one: a packet with DF too big for the next
# link, which the TAP cannot take to the kernel either, gets its ICMP from
# espd, from the router's address toward the sender; the sender learns the
# path MTU and what fits crosses.
case_jumbo_pmtu() {
	local driver=$1 counted
	in_r ip link set r-b mtu 4000
	ip -n "$NS_B" link set b0 mtu 4000
	wait_until 2 bash -c "$ESPCTL --socket $SOCK show interfaces --json | grep -q '\"mtu\": *4000'"
	counted=$(jumbo_pings "larger than the output MTU and the TAP: espd answers" \
		"$SCRATCH/pmtu.out")
	check "$driver: 8028 bytes with DF to a 4000-byte link: ICMP from 10.1.0.1 says mtu 4000" \
		grep -q "From 10.1.0.1 .*mtu = 4000" "$SCRATCH/pmtu.out"
	check "$driver: the IPv6 counterpart: packet too big, mtu 4000, from fd00:1::1" \
		grep -q "From fd00:1::1 .*[Pp]acket too big: mtu=4000" "$SCRATCH/pmtu.out"
	check "$driver: counted, both answered by espd" [ "$counted" -eq 2 ]
	check "$driver: hostA learnt the path MTU (IPv4, IPv6)" bash -c "
		ip -n $NS_A route get 10.2.0.2 | grep -q 'mtu 4000' &&
		ip -n $NS_A -6 route get fd00:2::2 | grep -q 'mtu 4000'"
	check "$driver: 4000 bytes with DF then cross" in_a ping -M do -s 3972 -c 2 -i 0.2 -W 2 10.2.0.2
	ip -n "$NS_A" route flush cache
	ip -n "$NS_A" -6 route flush cache
	in_r ip link set r-b mtu 9000
	ip -n "$NS_B" link set b0 mtu 9000
}

# A jumbo packet whose TTL or hop limit runs out at the router, which the
# TAP cannot take to the kernel: "time exceeded" from espd, from the
# router's address toward the sender, rate-limited as the kernel does (a
# burst of 6 a destination, then one a second).
case_jumbo_ttl() {
	local driver=$1 counted before limited answered
	counted=$(jumbo_pings "TTL or hop limit expired, larger than the TAP: espd answers" \
		"$SCRATCH/ttl.out" -t 1)
	check "$driver: 8028 bytes with DF and TTL 1: time exceeded from 10.1.0.1" \
		grep -q "From 10.1.0.1 .*Time to live exceeded" "$SCRATCH/ttl.out"
	check "$driver: the IPv6 counterpart: hop limit exceeded from fd00:1::1" \
		grep -q "From fd00:1::1 .*Time exceeded: Hop limit" "$SCRATCH/ttl.out"
	check "$driver: counted, both time exceeded answered by espd" [ "$counted" -eq 2 ]
	sleep 2 # the destination's burst whole again (one a second)
	before=$(counter "time exceeded: rate limited")
	in_a ping -M do -s 8000 -t 1 -c 20 -i 0.01 -W 1 10.2.0.2 >"$SCRATCH/ttl.out" 2>&1
	limited=$(( $(counter "time exceeded: rate limited") - before ))
	answered=$(grep -c "Time to live exceeded" "$SCRATCH/ttl.out")
	echo "20 TTL-1 jumbo pings in 0.2 s: $answered answered, $limited rate-limited"
	# A 7th once a second has passed, should the pings take that long.
	check "$driver: 20 of them in 0.2 s: a burst of 6 answered, the rest rate-limited" \
		bash -c "[ $((answered + limited)) -eq 20 ] && [ $answered -ge 6 ] && [ $answered -le 7 ]"
}

devices_mtu() { # devices_mtu MTU [N]: N (2) taken-over devices have it
	[ "$(in_r ip -o link show | grep -c ': espd-p[0-9]*[@:].* mtu '"$1"' ')" -eq "${2:-2}" ]
}

tap_mtu_is() { # tap_mtu_is TAP MTU
	ip -n "$NS_R" link show "$1" | grep -q "mtu $2 "
}

# An MTU changed while espd runs (ip link, the router's configuration) is
# the device's too; one its port cannot carry is refused and put back.
case_mtu_change() {
	local driver=$1
	write_config "$CONF" "$driver"
	if ! espd_start "$CONF"; then fail "$driver: espd starts for the MTU change"; return 1; fi
	in_a ping -c 2 -i 0.2 -W 2 10.2.0.2 >/dev/null
	links_mtu 4000
	check "$driver: the TAPs' MTU raised to 4000 is applied to their devices" \
		wait_until 3 devices_mtu 4000
	check "$driver: 4000-byte pings with DF cross espd after the raise" \
		in_a ping -M do -s 3972 -c 3 -i 0.2 -W 2 10.2.0.2
	check "$driver: the router's own 4000-byte ping after the raise (its TAP receives it in a chain)" \
		in_r ping -M do -s 3972 -c 2 -i 0.2 -W 2 10.2.0.2
	in_r ip link set r-b mtu 20000
	check "$driver: an MTU beyond the port's frames is refused, logged" \
		wait_until 3 grep -q "r-b: MTU 20000 refused: espd's buffers for its af-packet port" "$ESPD_LOG"
	check "$driver: ... and the TAP's MTU put back to 4000" wait_until 3 tap_mtu_is r-b 4000
	links_mtu 1500
	check "$driver: lowered to 1500 again, on the devices too" wait_until 3 devices_mtu 1500
	check "$driver: 1472-byte pings with DF cross at 1500" \
		in_a ping -M do -s 1472 -c 2 -i 0.2 -W 2 10.2.0.2
	espd_stop
	ip -n "$NS_A" route flush cache
}

# DPDK 22.11's af_xdp PMD sends only a frame's first mbuf: no MTU whose
# frames the TAP would receive in a chain; lowering works as anywhere.
case_mtu_change_xdp() {
	write_config "$CONF" xdp
	if ! espd_start "$CONF"; then fail "xdp: espd starts for the MTU change"; return 1; fi
	in_r ip link set r-b mtu 4000
	check "xdp: an MTU whose frames the TAP would chain is refused, logged" \
		wait_until 3 grep -q "r-b: MTU 4000 refused: espd's buffers for its xdp port" "$ESPD_LOG"
	check "xdp: ... and the TAP's MTU put back to 1500" wait_until 3 tap_mtu_is r-b 1500
	in_r ip link set r-b mtu 1400
	check "xdp: the TAP's MTU lowered to 1400 is its device's too" wait_until 3 devices_mtu 1400 1
	check "xdp: 1400-byte pings with DF cross espd, 1401 do not" bash -c "
		ip netns exec $NS_A ping -M do -s 1372 -c 2 -i 0.2 -W 2 10.2.0.2 >/dev/null &&
		! ip netns exec $NS_A ping -M do -s 1373 -c 1 -W 1 10.2.0.2 >/dev/null 2>&1"
	in_r ip link set r-b mtu 1500
	check "xdp: back to 1500 on the device" wait_until 3 devices_mtu 1500
	espd_stop
	ip -n "$NS_A" route flush cache
}

# pcap_frames FILE: one JSON line per frame of a pcapng file (interface,
# direction, for IPv4 UDP the TTL and payload).
pcap_frames() { "$PY" "$TOP/tests/interop/pcapng.py" "$1"; }

json_field() { # json_field KEY: that field of the JSON object on stdin
	"$PY" -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

pcap_show() { espctl show pcap --json | json_field "$1"; }

# pcap_marker_seen FILE MARKER A B: the datagram carrying MARKER is in FILE
# twice: received on port A with TTL 64, sent out of port B with TTL 63.
pcap_marker_seen() {
	local frames
	frames=$(pcap_frames "$1" | grep -F "\"payload\": \"$2\"")
	[ "$(echo "$frames" | wc -l)" = 2 ] &&
		echo "$frames" | grep -qF "{\"iface\": \"$3\", \"direction\": 1, \"ttl\": 64," &&
		echo "$frames" | grep -qF "{\"iface\": \"$4\", \"direction\": 2, \"ttl\": 63,"
}

# pcap_complete FILE N: the capture stopped by itself after N frames, as
# show pcap counts them and the file holds them.
pcap_complete() {
	wait_until 2 bash -c "$ESPCTL --socket $SOCK show pcap --json |
		grep -q '\"state\": \"complete\"'" &&
		[ "$(pcap_show captured)" = "$2" ] && [ "$(pcap_show written)" = "$2" ] &&
		[ "$(pcap_show missed)" = 0 ] && [ "$(pcap_frames "$1" | wc -l)" = "$2" ]
}

pcap_on() { espctl pcap on "$@" >/dev/null; }
pcap_written_at_least() { [ "$(pcap_show written)" -ge "$1" ]; }

# pcap_refused: creating the file fails, with the reason, and nothing runs.
pcap_refused() {
	! espctl pcap on /nonexistent/x.pcapng >"$SCRATCH/pcap.err" 2>&1 &&
		grep -qF "cannot create '/nonexistent/x.pcapng': No such file or directory" \
			"$SCRATCH/pcap.err" &&
		[ "$(pcap_show running)" = False ] && [ "$(pcap_show state)" = off ]
}

# pcap_fifo_refused: a FIFO, with or without its reader, is refused at
# once (the control thread writes the file and must not wait on a pipe).
pcap_fifo_refused() {
	local fifo=$SCRATCH/capture.fifo reader_fd rc
	mkfifo "$fifo"
	! timeout 5 "$ESPCTL" --socket "$SOCK" pcap on "$fifo" >"$SCRATCH/pcap.err" 2>&1 &&
		grep -qF "cannot create '$fifo': No such device or address" "$SCRATCH/pcap.err" ||
		return 1
	# Open for reading and writing: a reader that never blocks on the open.
	exec {reader_fd}<>"$fifo"
	timeout 5 "$ESPCTL" --socket "$SOCK" pcap on "$fifo" >"$SCRATCH/pcap.err" 2>&1
	rc=$?
	exec {reader_fd}>&-
	rm -f "$fifo"
	[ "$rc" = 1 ] &&
		grep -qF "cannot write '$fifo': not a regular file" "$SCRATCH/pcap.err" &&
		[ "$(pcap_show running)" = False ] && [ "$(pcap_show state)" = off ]
}

# pcap on|off: the frames of the router's ports, in and out, in a pcapng
# file; max N stops the capture by itself; errors change nothing.
case_pcap() {
	local driver=$1 file=$SCRATCH/capture.pcapng marker=espd-pcap-$T a_port b_port
	write_config "$CONF" "$driver"
	if ! espd_start "$CONF"; then fail "$driver: espd starts for the capture"; return 1; fi
	# Neighbors known both ways: the datagram is forwarded by espd itself.
	in_a ping -c 2 -i 0.2 -W 2 10.2.0.2 >/dev/null
	a_port=$(pcap_port_name r-a) b_port=$(pcap_port_name r-b)
	check "$driver: pcap on FILE max 1000 starts a capture" pcap_on "$file" max 1000
	in_a "$PY" -c 'import socket, sys
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(sys.argv[1].encode(), ("10.2.0.2", 9999))' \
		"$marker"
	wait_until 2 pcap_written_at_least 2
	local written
	written=$(espctl pcap off --json | json_field written)
	local seen="received on r-a ($a_port) and sent out of r-b ($b_port), TTL one less"
	check "$driver: pcap: the datagram is in the file as $seen" \
		pcap_marker_seen "$file" "$marker" "$a_port" "$b_port"
	check "$driver: pcap off reports as many packets written ($written) as the file holds" \
		[ "$written" = "$(pcap_frames "$file" | wc -l)" ]
	pcap_on "$file" max 3
	in_a ping -c 3 -i 0.1 -W 2 10.2.0.2 >/dev/null
	check "$driver: pcap max 3 completes by itself, 3 packets in show pcap and in the file" \
		pcap_complete "$file" 3
	check "$driver: pcap off after it completed reports the 3" \
		bash -c "$ESPCTL --socket $SOCK pcap off | grep -q 'wrote 3 packets'"
	# Beyond the 2048 copies of the capture's pool: written copies go back to it.
	pcap_on "$file" max 5000
	in_a ping -i 0.0005 -c 1300 -W 1 10.2.0.2 >/dev/null
	check "$driver: pcap max 5000 of 2000 pings a second: 5000 written, none missed" \
		pcap_complete "$file" 5000
	espctl pcap off >/dev/null
	check "$driver: pcap on an uncreatable file fails with the reason, nothing runs" pcap_refused
	check "$driver: pcap on a FIFO is refused at once, with or without its reader" \
		pcap_fifo_refused
	check "$driver: pcap off without a capture is an error" \
		bash -c "! $ESPCTL --socket $SOCK pcap off >/dev/null 2>&1"
	espd_stop
	rm -f "$file"
}

# udp_to_router ADDR SIZE: hostA's UDP datagram of SIZE bytes to the
# router's ADDR (hostA's kernel cuts it for its 1500-byte link) reaches the
# router's kernel whole, every byte as sent.
udp_to_router() {
	local addr=$1 size=$2 out=$SCRATCH/udp_to_router.out sink
	local payload='bytes(i % 251 for i in range(int(sys.argv[2])))'
	local family='socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET'
	in_r "$PY" -c "
import socket, sys
s = socket.socket($family, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 7777))
s.settimeout(5)
print('ready', flush=True)
data = s.recv(70000)
print('whole' if data == $payload else 'garbled %d' % len(data), flush=True)" \
		"$addr" "$size" >"$out" 2>&1 &
	sink=$!
	wait_until 3 grep -q ready "$out"
	in_a "$PY" -c "
import socket, sys
socket.socket($family, socket.SOCK_DGRAM).sendto($payload, (sys.argv[1], 7777))" "$addr" "$size"
	wait "$sink"
	grep -q '^whole$' "$out"
}

# many_fragments ADDR: a 20000-byte datagram (14 fragments, more than
# librte_ip_frag holds) to the router arrives, each fragment counted as
# given to the kernel; a 7000-byte one (5) is still put together by espd.
many_fragments() {
	local addr=$1 given before_given before_espd
	before_given=$(counter "fragment of a datagram given to the kernel")
	before_espd=$(counter "not ESP: the kernel's")
	udp_to_router "$addr" 7000 || return 1
	[ "$(counter "fragment of a datagram given to the kernel")" -eq "$before_given" ] || return 1
	[ "$(counter "not ESP: the kernel's")" -eq $((before_espd + 1)) ] || return 1
	udp_to_router "$addr" 20000 || return 1
	given=$(( $(counter "fragment of a datagram given to the kernel") - before_given ))
	echo "$addr: $given fragments of 20000 bytes given to the kernel"
	[ "$given" -eq 14 ]
}

# A datagram for the router in more fragments than espd's reassembly table
# holds goes to the kernel, which reassembles any number. af_packet ports
# take IPv4 reassembled by their socket (ports/port.c): IPv6 only there.
case_many_fragments() {
	local driver=$1
	write_config "$CONF" "$driver"
	if ! espd_start "$CONF"; then fail "$driver: espd starts for the fragments"; return 1; fi
	in_a ping -c 1 -W 2 10.1.0.1 >/dev/null
	in_a ping -6 -c 1 -W 2 fd00:1::1 >/dev/null
	if [ "$driver" = xdp ]; then
		check "$driver: 20000 bytes of UDP in 14 IPv4 fragments reach the router's kernel" \
			many_fragments 10.1.0.1
	fi
	check "$driver: 20000 bytes of UDP in 14 IPv6 fragments reach the router's kernel" \
		many_fragments fd00:1::1
	espd_stop
}

run_forward_suite() {
	local driver=$1
	at_exit cleanup
	cleanup
	topology_up
	case_bad_config
	case_restore "$driver"
	case_forwarding "$driver"
	case_ignore_kernel_routes "$driver"
	case_enobufs "$driver"
	case_pcap "$driver"
	case_many_fragments "$driver"
}
