#!/usr/bin/env bash
# linux-cp takeover and restore, driven by lcp_tool (tests/unit/lcp_tool.c)
# inside a namespace of its own: a veth "eth1" with IPv4/IPv6 addresses,
# routes in several tables and non-default offloads is taken over (renamed,
# stripped, offloads off, fenced by an ingress drop), its state moved onto a
# TAP with its name, and restored on clean exit and after kill -9. The
# kernel's own view (ip -j addr/link/route, ethtool -k) must come back
# exactly as it was.
# The fence is nftables where the kernel has the netdev family (the host)
# and tc where it has not (User-Mode Linux: tests/uml/test_uml_lcp.sh runs
# this script there); each case checks the one the kernel offers, which
# LCP_FENCE=nft|tc, when set, insists on.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${ESPD_BUILD:-$top/build}
tool=${LCP_TOOL:-$build/src/ports/lcp_tool}
py=/usr/bin/python3
ns=lcpt-$$
table=lcpt$$
tc_cookie=657370642d6c6370 # what lcp_fence.c marks its tc filter with
# shellcheck source=tests/e2e/lib_scratch.sh
source "$top/tests/e2e/lib_scratch.sh"
scratch_begin
work=$SCRATCH
state=$work/state
tool_pid=
tool_path=$PATH

cleanup() {
	[ -n "$tool_pid" ] && kill -9 "$tool_pid" 2>/dev/null && wait "$tool_pid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
}
at_exit cleanup

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1${2:+ ($2)}"; FAILED=1; }
nsx() { ip netns exec "$ns" "$@"; }

cases=("takeover moves addresses and routes to tap"
	"takeover fences the device: AF_PACKET sees its frames, the kernel's stack none"
	"takeover turns GRO, GSO and TSO off and records them"
	"restore leaves interface exactly as before"
	"crash repair: restore from state file after kill -9 mid-way"
	"crash repair: half-done takeover and a leftover device holding the name"
	"restore is idempotent: a second restore from the same state changes nothing"
	"nftables without netdev family: tc fence, or an error naming both causes"
	"takeover without a fence leaves the device's frames to the kernel"
	"unknown interface is refused and nothing touched"
	"the TAP carries the device's forwarding, rp_filter, redirect and hop_limit sysctls, and back")
if [ ! -x "$tool" ]; then
	for c in "${cases[@]}"; do fail "$c" "lcp_tool not built at $tool"; done
	exit 1
fi
for cmd in nft tc ethtool; do
	if ! command -v $cmd >/dev/null; then
		for c in "${cases[@]}"; do echo "SKIP: $c ($cmd not installed)"; done
		exit 0
	fi
done

# The kernel's view of one device, as JSON files in directory $2.
snapshot() {
	local dev=$1 dir=$2
	mkdir -p "$dir"
	ip -n "$ns" -j addr show dev "$dev" >"$dir/addr.json"
	ip -n "$ns" -j link show dev "$dev" >"$dir/link.json"
	ip -n "$ns" -j -4 route show table all dev "$dev" >"$dir/route4.json"
	ip -n "$ns" -j -6 route show table all dev "$dev" >"$dir/route6.json"
	nsx ethtool --json -k "$dev" >"$dir/offload.json"
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

cat >"$work/probe.py" <<'EOF'
# probe.py PHYS PEER MAC: from PEER, send PHYS (MAC) a frame of an unknown
# ethertype and an ICMP echo request for 192.0.2.1, the address the TAP now
# holds. Prints "all=N stack=0|1 echos=N": how many of the two an ETH_P_ALL
# AF_PACKET socket on PHYS saw (what DPDK's af_packet opens), whether a
# socket bound to the probe's ethertype saw it (those, like the kernel's own
# IP and ARP, run after the ingress hook), and by how many the kernel's
# count of echo requests it took (Icmp InEchos) grew.
import socket, struct, sys, time

phys, peer, mac = sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3].replace(":", ""))
ETH_P_ALL, PROBE = 0x0003, 0x88b5
SRC_MAC = bytes.fromhex("020000000002")

def in_echos():
    with open("/proc/net/snmp") as f:
        rows = [line.split() for line in f if line.startswith("Icmp:")]
    return int(rows[1][rows[0].index("InEchos")])

def checksum(data):
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xffff)
    return ~(total + (total >> 16)) & 0xffff

def echo_request():
    icmp = struct.pack("!BBHHH", 8, 0, 0, 0x4c43, 1) + b"lcp-probe-echo".ljust(32, b".")
    icmp = icmp[:2] + struct.pack("!H", checksum(icmp)) + icmp[4:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 1, 0, 64, 1, 0,
                     socket.inet_aton("192.0.2.2"), socket.inet_aton("192.0.2.1"))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return mac + SRC_MAC + b"\x08\x00" + ip + icmp

rx_all = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
rx_all.bind((phys, 0))
rx_all.settimeout(2)
rx_one = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(PROBE))
rx_one.bind((phys, 0))
rx_one.settimeout(0.5)
tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
tx.bind((peer, 0))
before = in_echos()
tx.send(b"\xff" * 6 + SRC_MAC + PROBE.to_bytes(2, "big") + b"lcp-probe".ljust(46, b"."))
tx.send(echo_request())
seen = set()
try:
    while len(seen) < 2:
        frame = rx_all.recv(2048)
        for mark in (b"lcp-probe.", b"lcp-probe-echo"):
            if mark in frame:
                seen.add(mark)
except TimeoutError:
    pass
try:
    rx_one.recv(2048)
    stack = 1
except TimeoutError:
    stack = 0
time.sleep(0.3)
print(f"all={len(seen)} stack={stack} echos={in_echos() - before}")
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

# Start lcp_tool takeover in the background (PATH: $tool_path); sets phys
# and tap_ifindex. Fails, with lcp_tool's stderr shown, if it does not
# become ready; it may then have exited already (see stop_tool).
start_takeover() {
	: >"$work/tool.out"
	# Not through nsx: $! must be lcp_tool itself (ip netns exec execs it).
	PATH=$tool_path ip netns exec "$ns" "$tool" takeover "$state" eth1 "$@" \
		>"$work/tool.out" 2>"$work/tool.err" &
	tool_pid=$!
	for _ in $(seq 100); do
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

fence_on() { # dev (the fence is $fence, set once the namespace exists)
	if [ "$fence" = nft ]; then
		nsx nft list chain netdev "$table" "$1" 2>/dev/null |
			grep -q "type filter hook ingress device \"$1\" priority filter; policy drop;"
	else
		tc_fence_on "$1"
	fi
}

tc_fence_on() { # dev (the fence is $fence, set once the namespace exists)
	nsx tc filter show dev "$1" ingress 2>/dev/null | tr -s '\n\t ' ' ' |
		grep -q "protocol all pref 1 matchall .* action order 1: gact action drop .* cookie $tc_cookie"
}

# Neither an nftables table nor a tc ingress qdisc is left.
fence_gone() {
	! nsx nft list table netdev "$table" >/dev/null 2>&1 &&
		[ -z "$(nsx tc qdisc show dev eth1 ingress)" ]
}

restored_as_before() { # label [snapshot directory to compare with, default before]
	wait_dad eth1 || { echo "$1: addresses still tentative" >&2; return 1; }
	snapshot eth1 "$work/$1"
	$py "$work/compare.py" "$work/${2:-before}" "$work/$1" >&2 || return 1
	[ ! -e "$state/lcp.state" ] || { echo "$1: state file left behind" >&2; return 1; }
	fence_gone || { echo "$1: fence left" >&2; return 1; }
}

# The per-device sysctls a TAP carries over, of dev: "ipv4.forwarding=0 ...".
dev_confs() { # dev
	local key out=()
	for key in ipv4/forwarding ipv4/rp_filter ipv4/send_redirects ipv4/shared_media \
		ipv6/forwarding ipv6/hop_limit; do
		out+=("${key/\//.}=$(nsx cat "/proc/sys/net/${key%/*}/conf/$1/${key#*/}" 2>&1)")
	done
	echo "${out[*]}"
}

# ---- topology: eth1 (taken over) <-> peer1, both inside the namespace ----
ip netns add "$ns"
mkdir -p "$state"
ip -n "$ns" link set lo up
# Reverse-path filtering would hide whether the stack takes the probe's echo.
nsx sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
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
# The fence this kernel offers: nftables if it has the netdev family.
if nsx nft --check add table netdev "$table" 2>/dev/null; then fence=nft; else fence=tc; fi
if [ -n "${LCP_FENCE:-}" ] && [ "$LCP_FENCE" != "$fence" ]; then
	for c in "${cases[@]}"; do fail "$c" "this kernel offers the $fence fence, not $LCP_FENCE"; done
	exit 1
fi
# Not veth's defaults: restore must put back these, not the driver's.
nsx ethtool -K eth1 gro on tx-tcp6-segmentation off
wait_dad eth1
snapshot eth1 "$work/before"
ifindex=$(nsx cat /sys/class/net/eth1/ifindex)
mac=$(nsx cat /sys/class/net/eth1/address)

# ---- takeover ----
c=${cases[0]}
problems=()
if start_takeover --nft "$table"; then
	wait_dad eth1
	snapshot eth1 "$work/tap"
	snapshot "$phys" "$work/phys"
	cp "$state/lcp.state" "$work/takeover.state"
	[ "$(nsx cat /sys/class/net/eth1/ifindex)" = "$tap_ifindex" ] && [ "$tap_ifindex" != "$ifindex" ] ||
		problems+=("eth1 is not the TAP")
	[ "$phys" = "espd-p$ifindex" ] && [ "$(nsx cat /sys/class/net/"$phys"/ifindex)" = "$ifindex" ] ||
		problems+=("device not renamed to espd-p$ifindex")
	[ "$(nsx cat /sys/class/net/eth1/address)" = "$mac" ] || problems+=("TAP MAC differs")
	[ "$(nsx cat /sys/class/net/eth1/mtu)" = 1400 ] || problems+=("TAP MTU not set")
	# Same name, same MAC: the TAP must show exactly the addresses and routes eth1 showed.
	$py "$work/compare.py" "$work/before" "$work/tap" link.json offload.json >&2 ||
		problems+=("TAP addresses/routes differ from the original's")
	[ "$(json_count "$work/phys/addr.json" addr_info)" = 0 ] || problems+=("$phys still has addresses")
	[ "$(json_count "$work/phys/route4.json")$(json_count "$work/phys/route6.json")" = 00 ] ||
		problems+=("$phys still has routes")
	[ "$(nsx cat /proc/sys/net/ipv6/conf/"$phys"/disable_ipv6)" = 1 ] || problems+=("IPv6 not disabled on $phys")
	grep -q '"UP"' "$work/phys/link.json" || problems+=("$phys not up")
else
	problems+=("lcp_tool takeover failed")
fi
if [ ${#problems[@]} -eq 0 ]; then pass "$c"; else fail "$c" "$(IFS=';'; echo "${problems[*]}")"; fi

# ---- the fence ----
c=${cases[1]}
problems=()
if [ -z "$tool_pid" ]; then
	problems+=("no takeover running")
else
	fence_on "$phys" || problems+=("no $fence ingress drop on $phys")
	grep -q "^iface .* fence $fence " "$work/takeover.state" || problems+=("state file does not say fence $fence")
	probe=$(nsx $py "$work/probe.py" "$phys" peer1 "$mac" 2>&1)
	[ "$probe" = "all=2 stack=0 echos=0" ] ||
		problems+=("want all=2 stack=0 echos=0 (AF_PACKET sees both frames, the stack neither), got: $probe")
fi
if [ ${#problems[@]} -eq 0 ]; then pass "$c"; else fail "$c" "$(IFS=';'; echo "${problems[*]}")"; fi

# ---- offloads ----
c=${cases[2]}
if [ -z "$tool_pid" ]; then
	fail "$c" "no takeover running"
elif ! out=$($py -c '
import json, sys
features = json.load(open(sys.argv[1]))[0]
names = ["generic-receive-offload", "rx-gro-hw", "large-receive-offload",
         "generic-segmentation-offload", "tx-tcp-segmentation", "tx-tcp-ecn-segmentation",
         "tx-tcp-mangleid-segmentation", "tx-tcp6-segmentation", "tx-tcp-accecn-segmentation"]
on = [n for n in names if features.get(n, {}).get("active")]
if on:
    sys.exit("still on: " + " ".join(on))' "$work/phys/offload.json" 2>&1); then
	fail "$c" "$out"
elif ! grep -q "^iface .* gro on .* gso on tso on .* tso6 off" "$work/takeover.state"; then
	fail "$c" "state file does not record gro on, gso on, tso on, tso6 off"
else
	pass "$c"
fi

# ---- clean exit ----
c=${cases[3]}
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
c=${cases[4]}
if ! start_takeover --nft "$table"; then
	stop_tool 9
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
c=${cases[5]}
if ! start_takeover --nft "$table" --no-tap; then
	stop_tool 9
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
c=${cases[6]}
if ! start_takeover --nft "$table"; then
	stop_tool 9
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

# ---- an nft that finds no netdev family, as in User-Mode Linux 6.1 ----
c=${cases[7]}
mkdir -p "$work/bin"
cat >"$work/bin/nft" <<'EOF'
#!/bin/sh
echo "Error: Could not process rule: Operation not supported" >&2
exit 1
EOF
chmod +x "$work/bin/nft"
tool_path=$work/bin:$PATH
if start_takeover --nft "$table"; then
	# This kernel has tc classifiers: the device is fenced with tc.
	problems=()
	tc_fence_on "$phys" || problems+=("no tc ingress drop on $phys")
	grep -q "^iface .* fence tc " "$state/lcp.state" || problems+=("state file does not say fence tc")
	grep -q "nftables cannot fence the device (Error: Could not process rule: Operation not supported); using tc" \
		"$work/tool.err" || problems+=("no word of the fallback: $(head -1 "$work/tool.err")")
	stop_tool TERM || problems+=("lcp_tool exited with an error: $(tail -1 "$work/tool.err")")
	restored_as_before tcfence || problems+=("state differs after restore")
	if [ ${#problems[@]} -eq 0 ]; then pass "$c"; else fail "$c" "$(IFS=';'; echo "${problems[*]}")"; fi
else
	# No tc classifiers either (the host's kernel): takeover fails, says
	# why for both, and gives the device back.
	stop_tool 9
	want="ingress drop failed: nftables: Error: Could not process rule: Operation not supported; tc: "
	if ! grep -qF "espd: lcp: eth1: $want" "$work/tool.err"; then
		fail "$c" "unclear message: $(grep -m1 'ingress drop' "$work/tool.err" || head -1 "$work/tool.err")"
	elif ! restored_as_before bothfail; then
		fail "$c" "device not given back as it was"
	else
		pass "$c"
	fi
fi
tool_path=$PATH

# ---- no fence (AF_XDP ports): the kernel still takes the frames ----
c=${cases[8]}
if ! start_takeover; then
	stop_tool 9
	fail "$c" "lcp_tool takeover failed"
else
	problems=()
	grep -q "^iface .* fence " "$state/lcp.state" && problems+=("state file names a fence")
	probe=$(nsx $py "$work/probe.py" "$phys" peer1 "$mac" 2>&1)
	[ "$probe" = "all=2 stack=1 echos=1" ] ||
		problems+=("want all=2 stack=1 echos=1 (the stack takes the frames), got: $probe")
	stop_tool TERM || problems+=("lcp_tool exited with an error: $(tail -1 "$work/tool.err")")
	restored_as_before nofence || problems+=("state differs after restore")
	if [ ${#problems[@]} -eq 0 ]; then pass "$c"; else fail "$c" "$(IFS=';'; echo "${problems[*]}")"; fi
fi

# ---- unknown interface ----
c=${cases[9]}
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

# ---- per-device sysctls: conf/default differs from each of eth1's, so a
# TAP, which starts from conf/default, shows eth1's only if they were copied ----
c=${cases[10]}
want="ipv4.forwarding=0 ipv4.rp_filter=2 ipv4.send_redirects=0 ipv4.shared_media=0"
want="$want ipv6.forwarding=1 ipv6.hop_limit=77"
# Defaults first: a new conf/default rp_filter reaches the devices that never set theirs.
nsx sysctl -qw net.ipv4.conf.default.forwarding=1 net.ipv4.conf.default.rp_filter=0 \
	net.ipv4.conf.default.send_redirects=1 net.ipv4.conf.default.shared_media=1 \
	net.ipv6.conf.default.forwarding=0 net.ipv6.conf.default.hop_limit=64
nsx sysctl -qw net.ipv4.conf.eth1.forwarding=0 net.ipv4.conf.eth1.rp_filter=2 \
	net.ipv4.conf.eth1.send_redirects=0 net.ipv4.conf.eth1.shared_media=0 \
	net.ipv6.conf.eth1.forwarding=1 net.ipv6.conf.eth1.hop_limit=77
# IPv6 forwarding gives eth1 subnet-router anycast routes: the reference.
wait_dad eth1
snapshot eth1 "$work/confs-before"
problems=()
if [ "$(dev_confs eth1)" != "$want" ]; then
	problems+=("could not set eth1's sysctls: $(dev_confs eth1)")
elif ! start_takeover --nft "$table"; then
	stop_tool 9
	problems+=("lcp_tool takeover failed")
else
	got=$(dev_confs eth1)
	[ "$got" = "$want" ] || problems+=("TAP has $got")
	got=$(dev_confs "$phys")
	[ "$got" = "$want" ] || problems+=("$phys has $got")
	[ "$(nsx cat /proc/sys/net/ipv4/conf/eth1/accept_local)" = 1 ] ||
		problems+=("accept_local not set on the TAP")
	wait_dad eth1
	snapshot eth1 "$work/confs-tap"
	$py "$work/compare.py" "$work/confs-before" "$work/confs-tap" link.json offload.json >&2 ||
		problems+=("TAP addresses/routes differ from the original's")
	# What the router's user changes on the TAP while it runs stays.
	nsx sysctl -qw net.ipv4.conf.eth1.rp_filter=1 net.ipv4.conf.eth1.send_redirects=1 \
		net.ipv6.conf.eth1.hop_limit=99
	want="ipv4.forwarding=0 ipv4.rp_filter=1 ipv4.send_redirects=1 ipv4.shared_media=0"
	want="$want ipv6.forwarding=1 ipv6.hop_limit=99"
	stop_tool TERM || problems+=("lcp_tool exited with an error: $(tail -1 "$work/tool.err")")
	restored_as_before confs confs-before || problems+=("state differs after restore")
	got=$(dev_confs eth1)
	[ "$got" = "$want" ] || problems+=("restored eth1 has $got, not the TAP's last")
fi
if [ ${#problems[@]} -eq 0 ]; then pass "$c"; else fail "$c" "$(IFS=';'; echo "${problems[*]}")"; fi
