# The packet trace's end-to-end case (espctl trace add / show trace / clear
# trace), run by lib_forward.sh's case_forwarding while espd forwards.
# shellcheck shell=bash

# trace_shows CHECK [ARG]: show trace --json holds a packet that CHECK (in
# Python, below) accepts; a stray ND or MLD frame may take the budget, so
# the caller retries.
trace_shows() {
	espctl show trace --json | "$PY" -c '
import json, re, sys
check, arg = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else ""
packets = json.load(sys.stdin)["packets"]

def nodes(p): return [v["node"] for v in p["visits"]]

def forwarded_ping(p):
    n, d = nodes(p), [v["decode"] for v in p["visits"]]
    want = ["port-input", "acl-input", "ethernet-input", "ip4-input", "ip-lookup",
            "ip-rewrite", "acl-output", "port-output"]
    echo = "IP4 10.1.0.2 -> 10.2.0.2 ICMP echo request ttl %d len 84"
    return (n == want and d[0].startswith("r-a rx, 98 bytes: ") and d[0].endswith(echo % 64)
            and d[n.index("ip-rewrite")] == echo % 64
            and d[n.index("port-output")] == echo % 63
            and [v["us"] for v in p["visits"]] == sorted(v["us"] for v in p["visits"]))

def martian_dropped(p):
    v = p["visits"][-1]
    return (nodes(p)[-2:] == ["ip4-input", "drop"]
            and "IP4 127.0.0.1 -> 10.2.0.2 UDP" in v["decode"]
            and v.get("reason") == "ip4-input: martian source address")

tests = {"forwarded-ping": lambda: any(forwarded_ping(p) for p in packets),
         "martian-dropped": lambda: any(martian_dropped(p) for p in packets),
         "count": lambda: len(packets) == int(arg)}
sys.exit(0 if tests[check]() else 1)' "$@"
}

trace_ping_once() {
	espctl clear trace && espctl trace add 1 >/dev/null &&
		in_a ping -c 1 -W 2 10.2.0.2 >/dev/null && trace_shows forwarded-ping
}

trace_martian_once() {
	espctl clear trace && espctl trace add 1 >/dev/null && in_a "$PY" -c '
import sys
from scapy.all import Ether, IP, UDP, Raw, conf, sendp
conf.verb = 0
sendp(Ether(dst=sys.argv[1]) / IP(src="127.0.0.1", dst="10.2.0.2") / UDP(sport=68, dport=9999)
      / Raw(b"x"), iface="a0")' "$1" && trace_shows martian-dropped
}

# retry3 CMD...: CMD passes in one of three tries.
retry3() { "$@" || "$@" || "$@"; }

case_trace() {
	local driver=$1 mac
	mac=$(ip -n "$NS_A" neigh show 10.1.0.1 | awk '{ print $5 }')
	check "$driver: trace of a ping: port-input ... ip-rewrite ... port-output, TTL 64 then 63" \
		retry3 trace_ping_once
	check "$driver: show trace (text) names the nodes and the packet" bash -c "
		$ESPCTL --socket $SOCK show trace | grep -q '^Packet 1 (worker [0-9]*)' &&
		$ESPCTL --socket $SOCK show trace | grep -q 'ip-rewrite' &&
		$ESPCTL --socket $SOCK show trace | grep -q 'ICMP echo request ttl 63 len 84'"
	check "$driver: a martian source's trace ends at drop with its counter's name" \
		retry3 trace_martian_once "$mac"
	espctl clear trace
	espctl trace add 2 >/dev/null
	in_a ping -c 5 -i 0.1 -W 2 10.2.0.2 >/dev/null
	check "$driver: trace add 2, then 5 pings: exactly 2 packets traced" trace_shows count 2
	check "$driver: trace add refuses 0 and 1001" bash -c "
		! $ESPCTL --socket $SOCK trace add 0 2>/dev/null &&
		! $ESPCTL --socket $SOCK trace add 1001 2>/dev/null"
	espctl clear trace
	in_a ping -c 2 -i 0.1 -W 2 10.2.0.2 >/dev/null
	check "$driver: clear trace empties it and stops tracing" trace_shows count 0
}
