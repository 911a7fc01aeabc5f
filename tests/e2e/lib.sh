# Shared helpers for espd end-to-end tests: result lines, a three-namespace
# topology (hostA - router - hostB) built with veth pairs, and espd start/stop
# inside the router namespace. Everything created is removed by cleanup;
# scratch files go to $SCRATCH (lib_scratch.sh), espd's log among them.
# shellcheck shell=bash
# shellcheck source=tests/e2e/lib_scratch.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib_scratch.sh"
scratch_begin

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ESPD_BUILD=${ESPD_BUILD:-$TOP/build}
ESPD=${ESPD:-$ESPD_BUILD/espd}
ESPCTL=${ESPCTL:-$ESPD_BUILD/espctl}
PY=/usr/bin/python3
T=${T:-t$$}
NS_A=$T-a NS_R=$T-r NS_B=$T-b
ESPD_PID=""
ESPD_LOG=${ESPD_LOG:-$SCRATCH/espd.log}
SOCK=/run/espd/$T.sock

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; FAILED=1; }
skip() { echo "SKIP: $*"; }
# check NAME CMD...: PASS when CMD succeeds.
check() {
	local name=$1; shift
	if "$@"; then pass "$name"; else fail "$name"; fi
}

in_a() { ip netns exec "$NS_A" "$@"; }
in_r() { ip netns exec "$NS_R" "$@"; }
in_b() { ip netns exec "$NS_B" "$@"; }
espctl() { "$ESPCTL" --socket "$SOCK" "$@"; }

# hostA(a0 10.1.0.2, fd00:1::2) -- (r-a 10.1.0.1) router (r-b 10.2.0.1) -- (b0 10.2.0.2) hostB
topology_up() {
	for ns in "$NS_A" "$NS_R" "$NS_B"; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
	done
	ip -n "$NS_A" link add a0 type veth peer name r-a netns "$NS_R"
	ip -n "$NS_B" link add b0 type veth peer name r-b netns "$NS_R"
	link_addresses "$NS_A" a0 10.1.0.2/24 fd00:1::2/64
	link_addresses "$NS_B" b0 10.2.0.2/24 fd00:2::2/64
	ip -n "$NS_A" route add default via 10.1.0.1
	ip -n "$NS_A" -6 route add default via fd00:1::1
	ip -n "$NS_B" route add default via 10.2.0.1
	ip -n "$NS_B" -6 route add default via fd00:2::1
	ip -n "$NS_R" addr add 10.1.0.1/24 dev r-a
	ip -n "$NS_R" addr add 10.2.0.1/24 dev r-b
	ip -n "$NS_R" addr add fd00:1::1/64 dev r-a nodad
	ip -n "$NS_R" addr add fd00:2::1/64 dev r-b nodad
	ip -n "$NS_R" link set r-a up
	ip -n "$NS_R" link set r-b up
	in_r sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
}

# link_addresses NS DEV IPV4 IPV6: a host's link with its addresses, up,
# sending segments, not 64 KB aggregates, with checksums filled in, as a
# real NIC sends them (veth would leave both to "hardware").
link_addresses() {
	ip -n "$1" addr add "$3" dev "$2"
	ip -n "$1" addr add "$4" dev "$2" nodad
	ip -n "$1" link set "$2" up
	ip netns exec "$1" ethtool -K "$2" tso off gso off gro off tx off >/dev/null 2>&1 || true
}

# tcp_transfer [SERVER_NS ADDR [BYTES]]: BYTES (4 MB) of random data from
# hostA to ADDR (hostB's) over TCP; true when the receiver's SHA-256 is the
# sender's.
tcp_transfer() {
	local in_server=${1:-in_b} addr=${2:-10.2.0.2} bytes=${3:-4194304} sent received
	$in_server "$PY" -c '
import hashlib, socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 5201)); s.listen(1); s.settimeout(20)
c, _ = s.accept(); c.settimeout(20); h = hashlib.sha256()
while True:
    d = c.recv(65536)
    if not d: break
    h.update(d)
print(h.hexdigest())' "$addr" >"$SCRATCH/received" &
	local server=$!
	sleep 0.5
	sent=$(in_a "$PY" -c '
import hashlib, os, socket, sys
data = os.urandom(int(sys.argv[2]))
s = socket.create_connection((sys.argv[1], 5201), timeout=20)
s.sendall(data); s.close()
print(hashlib.sha256(data).hexdigest())' "$addr" "$bytes")
	wait $server
	received=$(cat "$SCRATCH/received")
	[ -n "$sent" ] && [ "$sent" = "$received" ]
}

pcap_port_name() { # pcap_port_name IFACE: the name the capture file gives it
	espctl show pcap --json | "$PY" -c '
import json, sys
names = {i["interface"]: i["in_file"] for i in json.load(sys.stdin)["interfaces"]}
print(names[sys.argv[1]])' "$1"
}

# write_config FILE DRIVER [extra lines...]
write_config() {
	local file=$1 driver=$2; shift 2
	{
		echo "set vpp settings interface r-a driver $driver"
		echo "set vpp settings interface r-b driver $driver"
		for line in "$@"; do echo "$line"; done
	} >"$file"
}

# espd_start CONFIG: start espd in the router namespace and wait for its CLI.
espd_start() {
	local config=$1 log_from
	log_from=$(stat -c %s "$ESPD_LOG" 2>/dev/null || echo 0)
	# ip netns exec execs espd, so $! is espd itself.
	ip netns exec "$NS_R" "$ESPD" -c "$config" --name "$T" --socket "$SOCK" >>"$ESPD_LOG" 2>&1 &
	ESPD_PID=$!
	# ESPD_START_WAIT: seconds to wait (slow machines and UML need more).
	for _ in $(seq 1 $((${ESPD_START_WAIT:-10} * 10))); do
		if espctl show version >/dev/null 2>&1; then
			# The TAPs redo IPv6 DAD for the moved addresses; wait it out.
			wait_until 5 bash -c "! ip -n $NS_R -6 addr show tentative | grep -q inet6"
			return 0
		fi
		kill -0 "$ESPD_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "espd did not start; log:"; tail -c +$((log_from + 1)) "$ESPD_LOG"
	return 1
}

espd_stop() {
	[ -n "$ESPD_PID" ] || return 0
	kill -TERM "$ESPD_PID" 2>/dev/null
	for _ in $(seq 1 100); do
		kill -0 "$ESPD_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$ESPD_PID" 2>/dev/null; then
		echo "espd did not stop on SIGTERM"; kill -KILL "$ESPD_PID"
	fi
	wait "$ESPD_PID" 2>/dev/null
	local rc=$?
	ESPD_PID=""
	return $rc
}

# wait_until SECONDS CMD...: retry CMD every 0.1 s.
wait_until() {
	local limit=$1; shift
	local end=$((SECONDS + limit))
	while [ $SECONDS -le $end ]; do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# Snapshot of what the kernel shows for a device: addresses, link, routes.
kernel_snapshot() {
	local dev=$1
	in_r "$PY" - "$dev" <<'PYEOF'
import json, subprocess, sys
dev = sys.argv[1]
def ip(*args):
    return json.loads(subprocess.run(["ip", "-j", *args], check=True, capture_output=True, text=True).stdout or "[]")
link = ip("link", "show", "dev", dev)[0]
addrs = ip("addr", "show", "dev", dev)[0].get("addr_info", [])
routes = ip("route", "show", "table", "all", "dev", dev) + ip("-6", "route", "show", "table", "all", "dev", dev)
out = {
    "link": {k: link.get(k) for k in ("ifindex", "ifname", "mtu", "address", "operstate", "flags")},
    "addrs": sorted((a["family"], a["local"], a["prefixlen"], a.get("scope")) for a in addrs),
    "routes": sorted(json.dumps({k: r.get(k) for k in ("dst", "gateway", "table", "protocol", "scope", "type", "metric", "prefsrc")}, sort_keys=True) for r in routes),
}
print(json.dumps(out, sort_keys=True, indent=1))
PYEOF
}

cleanup() {
	espd_stop >/dev/null 2>&1 || true
	for ns in "$NS_A" "$NS_R" "$NS_B"; do ip netns del "$ns" 2>/dev/null || true; done
	rm -rf "/run/espd/$T" "$SOCK"
}
