#!/usr/bin/env bash
# ACLs end to end: hostA(a0 10.1.0.2) - r-a [espd, af-packet] r-b - hostB(b0 10.2.0.2).
# r-a is the "WAN" port and carries VyOS's IPsec example ACL on input (IKE
# over UDP and TCP to 500/4500, ESP). Traffic to the router is observed
# arriving in the router namespace's kernel with sockets; counters come
# from `espctl show acl --json`.
T=${T:-acl$$}
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CONF=$SCRATCH/espd.conf
WORK=$SCRATCH

# VyOS documentation, "VPP IPsec Configuration", "ACL for VPP IPsec Traffic".
IPSEC_ACL=(
	"set vpp acl ip interface r-a input acl-tag 10 tag-name 'IPSEC'"
	"set vpp acl ip tag-name IPSEC description 'Allow IPsec traffic'"
	"set vpp acl ip tag-name IPSEC rule 10 action 'permit'"
	"set vpp acl ip tag-name IPSEC rule 10 destination port '500'"
	"set vpp acl ip tag-name IPSEC rule 10 protocol 'tcp'"
	"set vpp acl ip tag-name IPSEC rule 20 action 'permit'"
	"set vpp acl ip tag-name IPSEC rule 20 destination port '500'"
	"set vpp acl ip tag-name IPSEC rule 20 protocol 'udp'"
	"set vpp acl ip tag-name IPSEC rule 30 action 'permit'"
	"set vpp acl ip tag-name IPSEC rule 30 destination port '4500'"
	"set vpp acl ip tag-name IPSEC rule 30 protocol 'tcp'"
	"set vpp acl ip tag-name IPSEC rule 40 action 'permit'"
	"set vpp acl ip tag-name IPSEC rule 40 destination port '4500'"
	"set vpp acl ip tag-name IPSEC rule 40 protocol 'udp'"
	"set vpp acl ip tag-name IPSEC rule 50 action 'permit'"
	"set vpp acl ip tag-name IPSEC rule 50 protocol 'esp'"
)
# permit-reflect on output of r-a: replies come back, new inbound flows do not.
REFLECT_ACL=(
	"set vpp acl ip tag-name OUT rule 10 action permit-reflect"
	"set vpp acl ip interface r-a output acl-tag 1 tag-name OUT"
)
# Two different ways of permitting the same traffic, swapped by reload.
ICMP_RULE=(
	"set vpp acl ip tag-name IPSEC rule 60 action permit"
	"set vpp acl ip tag-name IPSEC rule 60 protocol icmp"
)
ALT_ACL=(
	"set vpp acl ip tag-name PING rule 1 action permit"
	"set vpp acl ip tag-name PING rule 1 protocol icmp"
	"set vpp acl ip tag-name NAT-T rule 100 action deny"
	"set vpp acl ip tag-name NAT-T rule 100 protocol tcp"
	"set vpp acl ip tag-name NAT-T rule 100 destination port 22"
	"set vpp acl ip tag-name NAT-T rule 200 action permit"
	"set vpp acl ip tag-name NAT-T rule 200 protocol udp"
	"set vpp acl ip tag-name NAT-T rule 200 destination port 4500"
	"set vpp acl ip interface r-a input acl-tag 1 tag-name PING"
	"set vpp acl ip interface r-a input acl-tag 2 tag-name NAT-T"
)

config() { write_config "$CONF" af-packet "$@"; }

# ---- traffic ----

# sink NS NAME SPEC...: count in namespace NS what arrives for each SPEC
# (udp:PORT and udp6:PORT datagrams, tcp:PORT connections, raw:PROTO packets) until
# $WORK/NAME.stop exists; counts go to $WORK/NAME.out as "SPEC COUNT" lines.
sink() {
	local ns=$1 name=$2; shift 2
	rm -f "$WORK/$name.ready" "$WORK/$name.stop" "$WORK/$name.out"
	ip netns exec "$ns" "$PY" - "$WORK/$name" "$@" <<'PYEOF' &
import os, select, socket, sys, time
base, specs = sys.argv[1], sys.argv[2:]
socks, counts, conns = {}, {s: 0 for s in specs}, {}
for spec in specs:
    kind, num = spec.split(":")
    if kind == "raw":
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, int(num))
    elif kind == "udp6":
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind(("::", int(num)))
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.bind(("0.0.0.0", int(num)))
        if kind == "tcp":
            s.listen(64)
    socks[s] = spec
open(base + ".ready", "w").close()
deadline = time.time() + 300
while not os.path.exists(base + ".stop") and os.path.exists(base + ".ready") and time.time() < deadline:
    ready, _, _ = select.select(list(socks) + list(conns), [], [], 0.05)
    for s in ready:
        if s in conns:
            if not s.recv(65536):
                s.close()
                del conns[s]
        elif socks[s].startswith("tcp"):
            c, _ = s.accept()
            conns[c] = socks[s]
            counts[socks[s]] += 1
        else:
            s.recv(65536)
            counts[socks[s]] += 1
with open(base + ".out", "w") as out:
    for spec in specs:
        out.write(f"{spec} {counts[spec]}\n")
PYEOF
	wait_until 10 test -e "$WORK/$name.ready"
}

# sink_count NAME SPEC: stop the sink (once) and print the count for SPEC.
sink_count() {
	local name=$1 spec=$2
	if [ ! -e "$WORK/$name.out" ]; then
		sleep 0.3
		touch "$WORK/$name.stop"
		wait_until 10 test -e "$WORK/$name.out"
	fi
	awk -v s="$spec" '$1 == s { print $2 }' "$WORK/$name.out"
}

# udp_send NS DST PORT COUNT [INTERVAL]: COUNT datagrams from NS.
udp_send() {
	ip netns exec "$1" "$PY" -c '
import socket, sys, time
dst, port, n, gap = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(n):
    s.sendto(b"%08d" % i + b"x" * 40, (dst, port))
    if gap: time.sleep(gap)' "$2" "$3" "$4" "${5:-0.002}"
}

# tcp_connect NS DST PORT: connect, send a line, close; fails after 3 s.
tcp_connect() {
	ip netns exec "$1" "$PY" -c '
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
s.sendall(b"hello\n"); s.close()' "$2" "$3" 2>/dev/null
}

# esp_send NS DST COUNT: ESP packets (scapy, IP protocol 50).
esp_send() {
	ip netns exec "$1" "$PY" -c '
import sys
from scapy.all import ESP, IP, Raw, conf, send
conf.verb = 0
send([IP(dst=sys.argv[1]) / ESP(spi=0x1000, seq=i + 1) / Raw(b"\x00" * 32)
      for i in range(int(sys.argv[2]))], inter=0.002)' "$2" "$3"
}

# frag_send NS DST PORT COUNT SIZE: COUNT UDP datagrams of SIZE bytes to an
# IPv6 DST, each sent as fragments of at most 1500 bytes (scapy's fragment6()).
# IPv4 would not do: the af-packet driver joins its sockets to a fanout group
# with PACKET_FANOUT_FLAG_DEFRAG, so the kernel reassembles IPv4 before espd.
frag_send() {
	ip netns exec "$1" "$PY" -c '
import sys
from scapy.all import IPv6, IPv6ExtHdrFragment, UDP, Raw, conf, fragment6, send
conf.verb = 0
dst, port, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
for i in range(n):
    datagram = IPv6(dst=dst) / IPv6ExtHdrFragment(id=0x4000 + i) / UDP(sport=500, dport=port)
    send(fragment6(datagram / Raw(b"f" * size), 1500))' "$2" "$3" "$4" "$5"
}

# ---- counters ----

acl_json() { # acl_json EXPR: evaluate EXPR with d = show acl --json
	espctl show acl --json | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
print(eval(sys.argv[1]))' "$1"
}
rule_packets() { # rule_packets TAG NUMBER
	acl_json "[r['packets'] for l in d['lists'] if l['name'] == '$1' for r in l['rules'] if r['number'] == $2][0]"
}
deny_packets() { # deny_packets IFACE DIR
	acl_json "sum(i['default_deny_packets'] for i in d['interfaces'] if i['interface'] == '$1' and i['direction'] == '$2')"
}
session_packets() {
	acl_json "sum(i['session_packets'] for i in d['interfaces'] if i['interface'] == '$1' and i['direction'] == '$2')"
}
reload() { espctl reload >"$WORK/reload.out" 2>&1; }

# ---- cases ----

case_ipsec_acl() {
	config "${IPSEC_ACL[@]}"
	if ! espd_start "$CONF"; then fail "espd starts with the IPsec ACL on r-a input"; return 1; fi
	check "espd starts with the IPsec ACL on r-a input" \
		bash -c "[ \"\$($ESPCTL --socket $SOCK show acl --json | $PY -c 'import json,sys; d=json.load(sys.stdin); print(d[\"interfaces\"][0][\"interface\"], d[\"interfaces\"][0][\"direction\"], d[\"lists\"][0][\"name\"], len(d[\"lists\"][0][\"rules\"]))')\" = 'r-a input IPSEC 5' ]"
	# Warm up ARP in both directions with permitted traffic.
	udp_send "$NS_A" 10.1.0.1 500 1 0 >/dev/null

	local r10 r20 r30 r40 r50 deny
	r10=$(rule_packets IPSEC 10) r20=$(rule_packets IPSEC 20) r30=$(rule_packets IPSEC 30)
	r40=$(rule_packets IPSEC 40) r50=$(rule_packets IPSEC 50)
	sink "$NS_R" ike udp:500 udp:4500 tcp:500 tcp:4500 tcp:22 raw:50
	udp_send "$NS_A" 10.1.0.1 500 20
	udp_send "$NS_A" 10.1.0.1 4500 30
	local tcp500=0 tcp4500=0 tcp22=0
	tcp_connect "$NS_A" 10.1.0.1 500 && tcp500=1
	tcp_connect "$NS_A" 10.1.0.1 4500 && tcp4500=1
	esp_send "$NS_A" 10.1.0.1 25
	deny=$(deny_packets r-a input)
	in_a ping -c 3 -i 0.2 -W 1 10.1.0.1 >/dev/null 2>&1
	local ping_rc=$?
	tcp_connect "$NS_A" 10.1.0.1 22 && tcp22=1
	local deny_after r20_after r40_after r50_after
	deny_after=$(deny_packets r-a input)
	check "IKE over UDP 500 from hostA reaches the router's kernel (20 of 20)" \
		[ "$(sink_count ike udp:500)" = 20 ]
	check "IKE over UDP 4500 from hostA reaches the router's kernel (30 of 30)" \
		[ "$(sink_count ike udp:4500)" = 30 ]
	check "IKE over TCP 500 and 4500 connects" [ "$tcp500$tcp4500" = 11 ]
	check "ESP (protocol 50) from hostA reaches the router's kernel (25 of 25)" \
		[ "$(sink_count ike raw:50)" = 25 ]
	check "ping to the router is denied" [ $ping_rc -ne 0 ]
	check "TCP to another port (22, listening) is denied" \
		bash -c "[ $tcp22 = 0 ] && [ $(sink_count ike tcp:22) = 0 ]"
	check "denied packets are counted on r-a input's default deny" \
		[ $((deny_after - deny)) -ge 4 ]
	r20_after=$(rule_packets IPSEC 20) r40_after=$(rule_packets IPSEC 40)
	r50_after=$(rule_packets IPSEC 50)
	check "per-rule counters equal the packets sent (udp 500: 20, udp 4500: 30, esp: 25)" \
		bash -c "[ $((r20_after - r20)) = 20 ] && [ $((r40_after - r40)) = 30 ] && [ $((r50_after - r50)) = 25 ]"
	check "TCP rules count the connections' packets" \
		bash -c "[ $(rule_packets IPSEC 10) -gt $r10 ] && [ $(rule_packets IPSEC 30) -gt $r30 ]"
	check "show acl names the drops in show errors" \
		bash -c "$ESPCTL --socket $SOCK show errors --json | grep -q 'denied by an input ACL'"
	check "show acl text lists the rules and the binding" \
		bash -c "$ESPCTL --socket $SOCK show acl | grep -q 'bound to r-a input acl-tag 10' && $ESPCTL --socket $SOCK show acl | grep -Eq '^ +50 +permit +esp'"
}

# clear counters zeroes rule and default-deny counts; counting goes on.
case_clear_counters() {
	espctl clear counters >/dev/null
	local zero
	zero="$(rule_packets IPSEC 20) $(rule_packets IPSEC 50) $(deny_packets r-a input)"
	udp_send "$NS_A" 10.1.0.1 500 4
	check "clear counters zeroes the ACL counters (rules 20, 50, default deny: $zero)" \
		[ "$zero" = "0 0 0" ]
	check "after clear counters the udp 500 rule counts from zero (4 of 4)" \
		[ "$(rule_packets IPSEC 20)" = 4 ]
}

# Non-first fragments match by addresses and protocol: "udp port 500
# permit" lets all fragments of a large IKE message in. Neighbor discovery
# needs ICMPv6 permitted.
case_fragments() {
	config "${IPSEC_ACL[@]}" \
		"set vpp acl ip tag-name IPSEC rule 60 action permit" \
		"set vpp acl ip tag-name IPSEC rule 60 protocol icmpv6"
	if ! reload; then fail "reload of the IPsec ACL for fragments"; cat "$WORK/reload.out"; return 1; fi
	local r20 deny
	in_a ping -6 -c 1 -W 2 fd00:1::1 >/dev/null 2>&1 # neighbors learned before counting
	r20=$(rule_packets IPSEC 20) deny=$(deny_packets r-a input)
	sink "$NS_R" frag udp6:500 udp6:501
	frag_send "$NS_A" fd00:1::1 500 5 4000
	frag_send "$NS_A" fd00:1::1 501 5 4000
	check "a 4000-byte IKE datagram to UDP 500 in 3 IPv6 fragments arrives whole (5 of 5)" \
		[ "$(sink_count frag udp6:500)" = 5 ]
	check "to UDP 501 the first fragment is denied, so nothing arrives (0 of 5)" \
		bash -c "[ $(sink_count frag udp6:501) = 0 ] && [ $(($(deny_packets r-a input) - deny)) -ge 5 ]"
	check "the udp 500 rule counts all 15 fragments to 500 and the 10 later ones to 501" \
		[ $(($(rule_packets IPSEC 20) - r20)) = 25 ]
}

case_deny_first() {
	config "${IPSEC_ACL[@]}" \
		"set vpp acl ip tag-name IPSEC rule 5 action deny" \
		"set vpp acl ip tag-name IPSEC rule 5 protocol udp" \
		"set vpp acl ip tag-name IPSEC rule 5 source prefix 10.1.0.2/32" \
		"set vpp acl ip tag-name IPSEC rule 5 destination port 4500"
	if ! reload; then fail "reload with a deny rule in front"; cat "$WORK/reload.out"; return 1; fi
	local r5 r40
	r5=$(rule_packets IPSEC 5) r40=$(rule_packets IPSEC 40)
	sink "$NS_R" deny udp:500 udp:4500
	udp_send "$NS_A" 10.1.0.1 4500 10
	udp_send "$NS_A" 10.1.0.1 500 10
	check "a deny rule in front of a permit wins (udp 4500: 0 of 10 arrive)" \
		[ "$(sink_count deny udp:4500)" = 0 ]
	check "the deny rule counts them, the permit behind it does not" \
		bash -c "[ $(($(rule_packets IPSEC 5) - r5)) = 10 ] && [ $(rule_packets IPSEC 40) = $r40 ]"
	check "other permitted traffic still passes (udp 500: 10 of 10)" \
		[ "$(sink_count deny udp:500)" = 10 ]
}

case_reflect() {
	config "${IPSEC_ACL[@]}" "${REFLECT_ACL[@]}"
	if ! reload; then fail "reload with permit-reflect on r-a output"; cat "$WORK/reload.out"; return 1; fi
	local sessions
	sessions=$(session_packets r-a input)
	check "permit-reflect on r-a output: hostB pings hostA and gets replies" \
		bash -c "ip netns exec $NS_B ping -c 3 -i 0.2 -W 2 10.1.0.2 >/dev/null"
	check "replies were let in by reflect sessions" \
		bash -c "[ $(($(session_packets r-a input) - sessions)) -ge 3 ]"
	check "a new inbound flow is still denied (hostA pings hostB)" \
		bash -c "! ip netns exec $NS_A ping -c 2 -i 0.2 -W 1 10.2.0.2 >/dev/null"
	sink "$NS_A" reflect_a tcp:8080
	sink "$NS_B" reflect_b tcp:8081
	check "TCP from hostB to hostA connects (SYN-ACK let in by the session)" \
		tcp_connect "$NS_B" 10.1.0.2 8080
	check "TCP from hostA to hostB is denied" bash -c "! ip netns exec $NS_A $PY -c '
import socket; socket.create_connection((\"10.2.0.2\", 8081), timeout=2)' 2>/dev/null"
	sink_count reflect_a tcp:8080 >/dev/null
	sink_count reflect_b tcp:8081 >/dev/null
	check "show acl reports the sessions" \
		bash -c "[ \$($ESPCTL --socket $SOCK show acl --json | $PY -c 'import json,sys; print(json.load(sys.stdin)[\"sessions\"][\"created\"])') -ge 2 ]"
}

case_reload_no_loss() {
	local conf_x=$WORK/x.conf conf_y=$WORK/y.conf
	write_config "$conf_x" af-packet "${IPSEC_ACL[@]}" "${ICMP_RULE[@]}"
	write_config "$conf_y" af-packet "${ALT_ACL[@]}"
	cp "$conf_x" "$CONF"
	if ! reload; then fail "reload swaps lists under traffic without losing a permitted packet"; return 1; fi
	in_a ping -c 2 -W 2 10.2.0.2 >/dev/null 2>&1 # neighbors learned before counting
	sink "$NS_R" swap udp:4500
	in_a ping -c 400 -i 0.01 -W 2 10.2.0.2 >"$WORK/ping.out" 2>&1 &
	local ping_pid=$!
	udp_send "$NS_A" 10.1.0.1 4500 2000 0.002 &
	local udp_pid=$! reloads=0 refused=0
	for i in $(seq 1 12); do
		if [ $((i % 2)) = 1 ]; then cp "$conf_y" "$CONF"; else cp "$conf_x" "$CONF"; fi
		if reload; then reloads=$((reloads + 1)); else refused=$((refused + 1)); fi
		sleep 0.25
	done
	wait $ping_pid
	local ping_rc=$?
	wait $udp_pid
	local got
	got=$(sink_count swap udp:4500)
	check "12 reloads under traffic all applied" [ $reloads = 12 ]
	check "reload under a ping stream loses no echo (400 of 400)" \
		bash -c "[ $ping_rc = 0 ] && grep -q ' 0% packet loss' $WORK/ping.out"
	check "reload under a UDP 4500 stream loses no datagram (2000 of 2000, got $got)" \
		[ "$got" = 2000 ]
}

case_reload_errors() {
	local before
	cp "$WORK/y.conf" "$CONF"
	reload
	before=$(espctl show acl --json)
	printf 'set vpp settings interface r-a driver af-packet\nset vpp settings interface r-b driver af-packet\nset vpp acl ip tag-name X rule 10 actoin permit\n' >"$CONF"
	check "reload of a config with a syntax error is refused" bash -c "! $ESPCTL --socket $SOCK reload >/dev/null 2>&1"
	config "set vpp acl ip tag-name X rule 10 action permit" \
		"set vpp acl ip interface eth9 input acl-tag 1 tag-name X"
	check "reload binding an interface espd does not own is refused, naming it" \
		bash -c "! $ESPCTL --socket $SOCK reload >$WORK/refused.out 2>&1 && grep -q eth9 $WORK/refused.out"
	check "after refused reloads the running ACLs are unchanged" \
		bash -c "[ \"\$($ESPCTL --socket $SOCK show acl --json | $PY -c 'import json,sys; d=json.load(sys.stdin); print([l[\"name\"] for l in d[\"lists\"]])')\" = \"['NAT-T', 'PING']\" ]"
	check "and still enforced (TCP 22 denied, ping permitted)" \
		bash -c "! ip netns exec $NS_A $PY -c '
import socket; socket.create_connection((\"10.1.0.1\", 22), timeout=2)' 2>/dev/null && ip netns exec $NS_A ping -c 1 -W 2 10.1.0.1 >/dev/null"
	: "$before"
}

case_mac_acl() {
	local mac_b
	mac_b=$(ip -n "$NS_B" -j link show b0 | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')
	config "set vpp acl mac tag-name HOSTS rule 10 action permit" \
		"set vpp acl mac tag-name HOSTS rule 10 mac-address $mac_b" \
		"set vpp acl mac tag-name HOSTS rule 10 prefix 10.2.0.2/32" \
		"set vpp acl mac interface r-b tag-name HOSTS"
	if ! reload; then fail "MAC ACL on r-b input"; cat "$WORK/reload.out"; return 1; fi
	in_b ip addr add 10.2.0.3/24 dev b0
	sink "$NS_R" mac udp:5000 udp:5001
	udp_send "$NS_B" 10.2.0.1 5000 10
	in_b "$PY" -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.2.0.3", 0))
for i in range(10): s.sendto(b"spoofed", ("10.2.0.1", 5001))'
	check "MAC ACL: hostB's MAC with its address passes (10 of 10)" \
		[ "$(sink_count mac udp:5000)" = 10 ]
	check "MAC ACL: the same MAC with another source address is denied (0 of 10)" \
		[ "$(sink_count mac udp:5001)" = 0 ]
	check "MAC ACL: the denials are counted" \
		bash -c "[ \$($ESPCTL --socket $SOCK show acl --json | $PY -c 'import json,sys; d=json.load(sys.stdin); print(d[\"mac\"][\"lists\"][0][\"interfaces\"][0][\"default_deny_packets\"])') -ge 10 ]"
	in_b ip addr del 10.2.0.3/24 dev b0
}

# Output ACLs filter forwarded packets and frames the kernel sends.
case_output_acl() {
	config "set vpp acl ip tag-name OUTB rule 10 action deny" \
		"set vpp acl ip tag-name OUTB rule 10 protocol udp" \
		"set vpp acl ip tag-name OUTB rule 10 destination port 9999" \
		"set vpp acl ip tag-name OUTB rule 20 action deny" \
		"set vpp acl ip tag-name OUTB rule 20 protocol icmp" \
		"set vpp acl ip tag-name OUTB rule 20 source prefix 10.2.0.1/32" \
		"set vpp acl ip tag-name OUTB rule 30 action permit" \
		"set vpp acl ip interface r-b output acl-tag 1 tag-name OUTB"
	if ! reload; then fail "output ACL on r-b"; cat "$WORK/reload.out"; return 1; fi
	local r10
	r10=$(rule_packets OUTB 10)
	sink "$NS_B" out udp:9999 udp:9998
	udp_send "$NS_A" 10.2.0.2 9999 10
	udp_send "$NS_A" 10.2.0.2 9998 10
	check "output ACL on r-b: forwarded UDP to port 9999 is denied (0 of 10)" \
		[ "$(sink_count out udp:9999)" = 0 ]
	check "output ACL on r-b: other forwarded traffic passes (10 of 10)" \
		[ "$(sink_count out udp:9998)" = 10 ]
	check "output ACL on r-b: the deny rule counted 10" \
		[ $(($(rule_packets OUTB 10) - r10)) = 10 ]
	check "output ACL on r-b: the router's own ping (from its TAP) is denied" \
		bash -c "! ip netns exec $NS_R ping -c 2 -i 0.2 -W 1 10.2.0.2 >/dev/null"
	check "output ACL on r-b: hostA's ping passes" \
		bash -c "ip netns exec $NS_A ping -c 2 -i 0.2 -W 2 10.2.0.2 >/dev/null"
}

# Two workers: the two directions of a flow may be received by different
# workers, so a session made by one must let the other's packets in.
case_reflect_two_workers() {
	espd_stop
	config "set vpp settings cpu workers 2" "${IPSEC_ACL[@]}" "${REFLECT_ACL[@]}"
	if ! espd_start "$CONF"; then fail "permit-reflect with two workers"; return 1; fi
	check "espd runs two workers" \
		bash -c "[ \$($ESPCTL --socket $SOCK show runtime --json | $PY -c 'import json,sys; print(json.load(sys.stdin)[\"workers\"])') = 2 ]"
	sink "$NS_A" many tcp:8080
	local ok=0
	for i in $(seq 1 24); do
		tcp_connect "$NS_B" 10.1.0.2 8080 && ok=$((ok + 1))
	done
	check "two workers: 24 of 24 TCP connections hostB -> hostA through reflect sessions" \
		bash -c "[ $ok = 24 ] && [ $(sink_count many tcp:8080) = 24 ]"
	check "two workers: hostA -> hostB still denied" \
		bash -c "! ip netns exec $NS_A ping -c 2 -i 0.2 -W 1 10.2.0.2 >/dev/null"
}

at_exit cleanup
cleanup
topology_up
if case_ipsec_acl; then
	case_clear_counters
	case_fragments
	case_deny_first
	case_reflect
	case_reload_no_loss
	case_reload_errors
	case_mac_acl
	case_output_acl
	case_reflect_two_workers
	check "espd exits 0 on SIGTERM" espd_stop
fi
exit ${FAILED:-0}
