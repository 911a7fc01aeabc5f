#!/usr/bin/env bash
# linux-cp takeover and restore, driven by lcp_tool (tests/unit/lcp_tool.c)
# inside a namespace of its own: a veth "eth1" with IPv4/IPv6 addresses and
# routes in several tables is taken over (renamed, stripped, fenced by an
# nftables ingress drop chain), its state moved onto a TAP with its name, and
# restored on clean exit and after kill -9. The kernel's own view
# (ip -j addr/link/route) must come back exactly as it was.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${ESPD_BUILD:-$top/build}
tool=${LCP_TOOL:-$build/src/ports/lcp_tool}
py=/usr/bin/python3
ns=lcpt-$$
table=lcpt$$
work=$(mktemp -d /tmp/test_lcp.XXXXXX)
state=$work/state
tool_pid=

cleanup() {
	[ -n "$tool_pid" ] && kill -9 "$tool_pid" 2>/dev/null && wait "$tool_pid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1${2:+ ($2)}"; }
nsx() { ip netns exec "$ns" "$@"; }

cases=("takeover moves addresses and routes to tap"
	"restore leaves interface exactly as before"
	"crash repair: restore from state file after kill -9 mid-way"
	"crash repair: half-done takeover and a leftover device holding the name"
	"restore is idempotent: a second restore from the same state changes nothing"
	"unknown interface is refused and nothing touched")
if [ ! -x "$tool" ]; then
	for c in "${cases[@]}"; do fail "$c" "lcp_tool not built at $tool"; done
	exit 1
fi
if ! command -v nft >/dev/null; then
	for c in "${cases[@]}"; do echo "SKIP: $c (nft not installed)"; done
	exit 0
fi

# The kernel's view of one device, as JSON files in directory $2.
snapshot() {
	local dev=$1 dir=$2
	mkdir -p "$dir"
	ip -n "$ns" -j addr show dev "$dev" >"$dir/addr.json"
	ip -n "$ns" -j link show dev "$dev" >"$dir/link.json"
	ip -n "$ns" -j -4 route show table all dev "$dev" >"$dir/route4.json"
	ip -n "$ns" -j -6 route show table all dev "$dev" >"$dir/route6.json"
}

# Whole-namespace view, for "nothing touched".
snapshot_all() {
	mkdir -p "$1"
	ip -n "$ns" -j addr show >"$1/addr.json"
	ip -n "$ns" -j link show >"$1/link.json"
	ip -n "$ns" -j -4 route show table all >"$1/route4.json"
	ip -n "$ns" -j -6 route show table all >"$1/route6.json"
	nsx nft -j list ruleset >"$1/nft.json"
}

cat >"$work/compare.py" <<'EOF'
# compare.py A B [SKIPPED-FILE...]: the JSON files of two snapshot directories
# must be equal once volatile fields (address lifetimes) are dropped. Link
# fields are compared in link.json only, so addr.json keeps names and addresses.
import json, os, sys

VOLATILE = {"valid_life_time", "preferred_life_time"}

def clean(value):
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value

def load(directory, name):
    with open(os.path.join(directory, name)) as f:
        value = clean(json.load(f))
    if name == "addr.json":
        value = [{"ifname": i["ifname"], "addr_info": i["addr_info"]} for i in value]
    return value

bad = 0
for name in sorted(set(os.listdir(sys.argv[1])) - set(sys.argv[3:])):
    a, b = load(sys.argv[1], name), load(sys.argv[2], name)
    if a != b:
        bad = 1
        print(f"{name} differs:\n  before: {json.dumps(a)}\n  after:  {json.dumps(b)}")
sys.exit(bad)
EOF

# Number of items in a JSON list file, or of their sub-lists named $2.
json_count() {
	$py -c 'import json, sys
items = json.load(open(sys.argv[1]))
print(sum(len(i.get(sys.argv[2], [])) for i in items) if len(sys.argv) > 2 else len(items))' "$@"
}

# Wait until no address of dev is tentative (IPv6 DAD), at most 5 s.
wait_dad() {
	for _ in $(seq 50); do
		[ -z "$(ip -n "$ns" -6 addr show dev "$1" tentative 2>/dev/null)" ] && return 0
		sleep 0.1
	done
	return 1
}

# Start lcp_tool takeover in the background; sets phys and tap_ifindex.
start_takeover() {
	: >"$work/tool.out"
	# Not through nsx: $! must be lcp_tool itself (ip netns exec execs it).
	ip netns exec "$ns" "$tool" takeover "$state" eth1 --nft "$table" "$@" \
		>"$work/tool.out" 2>"$work/tool.err" &
	tool_pid=$!
	for _ in $(seq 50); do
		if grep -q '^READY' "$work/tool.out"; then
			read -r _ phys tap_ifindex <"$work/tool.out"
			return 0
		fi
		kill -0 "$tool_pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$work/tool.err" >&2
	return 1
}

stop_tool() { # signal
	kill "-$1" "$tool_pid" 2>/dev/null
	wait "$tool_pid" 2>/dev/null
	local rc=$?
	tool_pid=
	return $rc
}

restored_as_before() { # label
	wait_dad eth1 || { echo "$1: addresses still tentative" >&2; return 1; }
	snapshot eth1 "$work/$1"
	$py "$work/compare.py" "$work/before" "$work/$1" >&2 || return 1
	[ ! -e "$state/lcp.state" ] || { echo "$1: state file left behind" >&2; return 1; }
	! nsx nft list table netdev "$table" >/dev/null 2>&1 || { echo "$1: nft table left" >&2; return 1; }
}

# ---- topology: eth1 (taken over) <-> peer1, both inside the namespace ----
ip netns add "$ns"
mkdir -p "$state"
ip -n "$ns" link set lo up
ip -n "$ns" link add name eth1 type veth peer name peer1
ip -n "$ns" link set eth1 mtu 1400
ip -n "$ns" link set peer1 up
ip -n "$ns" link set eth1 up
ip -n "$ns" addr add 192.0.2.1/24 brd + dev eth1
ip -n "$ns" addr add 192.0.2.9/24 dev eth1 label eth1:sec
ip -n "$ns" addr add 198.51.100.1 peer 198.51.100.2/32 dev eth1
ip -n "$ns" addr add 2001:db8::1/64 dev eth1
ip -n "$ns" addr add 2001:db8::2/64 dev eth1 nodad
ip -n "$ns" addr add 2001:db8:1::1/64 dev eth1 noprefixroute
ip -n "$ns" route add 10.0.0.0/8 via 192.0.2.254 dev eth1
ip -n "$ns" route add 10.20.0.0/16 via 192.0.2.253 dev eth1 proto static metric 20
ip -n "$ns" route add 10.9.0.0/16 dev eth1 src 192.0.2.1 mtu 1300
ip -n "$ns" route add default via 192.0.2.254 dev eth1 table 100
ip -n "$ns" -6 route add 2001:db8:5::/48 via 2001:db8::ff dev eth1 metric 50
ip -n "$ns" -6 route add default via fe80::1 dev eth1 table 200
wait_dad eth1
snapshot eth1 "$work/before"
ifindex=$(nsx cat /sys/class/net/eth1/ifindex)
mac=$(nsx cat /sys/class/net/eth1/address)

# ---- takeover ----
c=${cases[0]}
problems=()
if start_takeover; then
	wait_dad eth1
	snapshot eth1 "$work/tap"
	snapshot "$phys" "$work/phys"
	[ "$(nsx cat /sys/class/net/eth1/ifindex)" = "$tap_ifindex" ] && [ "$tap_ifindex" != "$ifindex" ] ||
		problems+=("eth1 is not the TAP")
	[ "$phys" = "espd-p$ifindex" ] && [ "$(nsx cat /sys/class/net/"$phys"/ifindex)" = "$ifindex" ] ||
		problems+=("device not renamed to espd-p$ifindex")
	[ "$(nsx cat /sys/class/net/eth1/address)" = "$mac" ] || problems+=("TAP MAC differs")
	[ "$(nsx cat /sys/class/net/eth1/mtu)" = 1400 ] || problems+=("TAP MTU not set")
	# Same name, same MAC: the TAP must show exactly the addresses and routes eth1 showed.
	$py "$work/compare.py" "$work/before" "$work/tap" link.json >&2 ||
		problems+=("TAP addresses/routes differ from the original's")
	[ "$(json_count "$work/phys/addr.json" addr_info)" = 0 ] || problems+=("$phys still has addresses")
	[ "$(json_count "$work/phys/route4.json")$(json_count "$work/phys/route6.json")" = 00 ] ||
		problems+=("$phys still has routes")
	[ "$(nsx cat /proc/sys/net/ipv6/conf/"$phys"/disable_ipv6)" = 1 ] || problems+=("IPv6 not disabled on $phys")
	grep -q '"UP"' "$work/phys/link.json" || problems+=("$phys not up")
	nsx nft list chain netdev "$table" "$phys" 2>/dev/null |
		grep -q "type filter hook ingress device \"$phys\" priority filter; policy drop;" ||
		problems+=("no ingress drop chain on $phys")
	# AF_PACKET with ETH_P_ALL (what DPDK's af_packet opens) still sees the
	# frames; handlers bound to one ethertype, like the kernel's own IP and
	# ARP, run after the ingress hook and must not.
	nsx $py -c '
import socket, sys
ETH_P_ALL, PROBE = 0x0003, 0x88b5
rx_all = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
rx_all.bind((sys.argv[1], 0))
rx_all.settimeout(2)
rx_one = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(PROBE))
rx_one.bind((sys.argv[1], 0))
rx_one.settimeout(0.3)
tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
tx.bind(("peer1", 0))
tx.send(b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x01" + PROBE.to_bytes(2, "big") + b"lcp-probe".ljust(46, b"."))
try:
    while b"lcp-probe" not in rx_all.recv(2048):
        pass
except TimeoutError:
    sys.exit("AF_PACKET on %s sees no frames" % sys.argv[1])
try:
    rx_one.recv(2048)
    sys.exit("the ingress drop chain lets frames through to the stack")
except TimeoutError:
    pass' "$phys" 2>"$work/probe.err" || problems+=("$(tail -1 "$work/probe.err")")
else
	problems+=("lcp_tool takeover failed")
fi
if [ ${#problems[@]} -eq 0 ]; then pass "$c"; else fail "$c" "$(IFS=';'; echo "${problems[*]}")"; fi

# ---- clean exit ----
c=${cases[1]}
if [ -z "$tool_pid" ]; then
	fail "$c" "no takeover running"
elif ! stop_tool TERM; then
	fail "$c" "lcp_tool exited with an error: $(tail -3 "$work/tool.err")"
elif restored_as_before clean; then
	pass "$c"
else
	fail "$c" "state differs after restore"
fi

# ---- crash with the TAP up: it vanishes with the process ----
c=${cases[2]}
if ! start_takeover; then
	fail "$c" "lcp_tool takeover failed"
else
	stop_tool 9
	if ! nsx "$tool" restore "$state" >"$work/restore.out" 2>&1; then
		fail "$c" "restore failed: $(tail -3 "$work/restore.out")"
	elif restored_as_before crash; then
		pass "$c"
	else
		fail "$c" "state differs after restore"
	fi
fi

# ---- crash between rename and TAP creation; something else took the name ----
c=${cases[3]}
if ! start_takeover --no-tap; then
	fail "$c" "lcp_tool takeover failed"
else
	stop_tool 9
	ip -n "$ns" tuntap add dev eth1 mode tap
	if ! nsx "$tool" restore "$state" >"$work/restore.out" 2>&1; then
		fail "$c" "restore failed: $(tail -3 "$work/restore.out")"
	elif restored_as_before halfdone; then
		pass "$c"
	else
		fail "$c" "state differs after restore"
	fi
fi

# ---- restoring twice ----
c=${cases[4]}
if ! start_takeover; then
	fail "$c" "lcp_tool takeover failed"
else
	stop_tool 9
	cp "$state/lcp.state" "$work/lcp.state.copy"
	if ! nsx "$tool" restore "$state" >"$work/restore.out" 2>&1; then
		fail "$c" "first restore failed: $(tail -3 "$work/restore.out")"
	else
		wait_dad eth1
		cp "$work/lcp.state.copy" "$state/lcp.state"
		if ! nsx "$tool" restore "$state" >"$work/restore.out" 2>&1; then
			fail "$c" "second restore failed: $(tail -3 "$work/restore.out")"
		elif ! restored_as_before twice; then
			fail "$c" "state differs after the second restore"
		elif [ "$(nsx "$tool" restore "$state")" != "restored 0" ]; then
			fail "$c" "restore without a state file did something"
		else
			pass "$c"
		fi
	fi
fi

# ---- unknown interface ----
c=${cases[5]}
snapshot_all "$work/all-before"
if nsx "$tool" takeover "$state" nosuch0 --nft "$table" >"$work/unknown.out" 2>&1; then
	fail "$c" "takeover of a missing interface succeeded"
elif ! grep -q 'interface nosuch0 not found' "$work/unknown.out"; then
	fail "$c" "unclear message: $(head -1 "$work/unknown.out")"
elif [ -e "$state/lcp.state" ]; then
	fail "$c" "a state file was written"
else
	snapshot_all "$work/all-after"
	if $py "$work/compare.py" "$work/all-before" "$work/all-after" >&2; then
		pass "$c"
	else
		fail "$c" "the namespace changed"
	fi
fi
