#!/usr/bin/env bash
# Smoke test of the User-Mode Linux harness: one UML boot in which
#   hostA --(hostA-veth | r-a)-- router --(r-b | hostB-veth)-- hostB
# are three network namespaces, and
#   "uml kernel has ESP"       ESP SAs (AES-CBC + HMAC-SHA256, IPv4 and IPv6)
#                              can be added, and kernel ESP carries a ping;
#   "uml kernel forwards ping" the router's kernel forwards hostA -> hostB;
#   "uml espd forwards ping"   espd (af-packet on r-a/r-b) forwards hostA ->
#                              hostB itself (its ip-rewrite node counts the
#                              echoes), forwarding on as espd honours it.
# Prints the boot time and one PASS/FAIL line per case. Run as root.
# ESPD_BUILD selects the build directory (default: build/ in the tree).
# Logs of a failed run: tests/out/test_uml_smoke/ (console.log, boot.log,
# out/espd.log ...).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=$(realpath -m "${ESPD_BUILD:-$top/build}")
# shellcheck source=tests/uml/uml.sh
. "$here/uml.sh"
# shellcheck source=tests/e2e/lib_scratch.sh
. "$top/tests/e2e/lib_scratch.sh"

cases=("uml kernel has ESP" "uml kernel forwards ping" "uml espd forwards ping")
# The workdir must be on the host filesystem the guest sees (not under /run).
scratch_begin
work=$SCRATCH

{
	printf 'build=%q\n' "$build"
	cat <<'EOF'
# Runs inside UML. Writes "PASS: case" / "FAIL: case" (+ indented reasons)
# to $UML_OUT/results; everything else goes to console.log.
set -u
res=$UML_OUT/results
: >"$res"
pass() { echo "PASS: $1" >>"$res"; }
fail() {
	local c=$1
	shift
	{ echo "FAIL: $c"; printf '%s\n' "$@" | sed 's/^/  /'; } >>"$res"
}
tail_of() { tail -n "${2:-15}" "$1" 2>/dev/null | sed 's/^/| /'; }
step() { echo "+ $*"; "$@"; }

topology() {
	local n
	for n in hostA router hostB; do ip netns add $n && ip -n $n link set lo up || return 1; done
	ip link add hostA-veth netns hostA type veth peer name r-a netns router &&
		ip link add hostB-veth netns hostB type veth peer name r-b netns router || return 1
	ip -n router addr add 10.1.0.1/24 dev r-a && ip -n router addr add fd00:1::1/64 dev r-a nodad &&
		ip -n router addr add 10.2.0.1/24 dev r-b && ip -n router addr add fd00:2::1/64 dev r-b nodad &&
		ip -n hostA addr add 10.1.0.2/24 dev hostA-veth && ip -n hostA addr add fd00:1::2/64 dev hostA-veth nodad &&
		ip -n hostB addr add 10.2.0.2/24 dev hostB-veth && ip -n hostB addr add fd00:2::2/64 dev hostB-veth nodad ||
		return 1
	ip -n router link set r-a up && ip -n router link set r-b up &&
		ip -n hostA link set hostA-veth up && ip -n hostB link set hostB-veth up || return 1
	ip -n hostA route add default via 10.1.0.1 && ip -n hostA -6 route add default via fd00:1::1 &&
		ip -n hostB route add default via 10.2.0.1 && ip -n hostB -6 route add default via fd00:2::1
}

router_forwarding() {
	ip netns exec router sysctl -qw net.ipv4.ip_forward="$1" net.ipv6.conf.all.forwarding="$1"
}

# ping from namespace $1 to $2; prints the ping output on failure.
ping_ok() {
	local out
	out=$(ip netns exec "$1" ping -c 3 -i 0.3 -W 2 "$2" 2>&1) && return 0
	echo "ping $1 -> $2 failed: $(echo "$out" | tail -2 | tr '\n' ' ')"
	return 1
}

key16=0x00112233445566778899aabbccddeeff
key32=0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff

# Transport-mode ESP between hostA and the router, both directions; the SAs'
# packet counters show the ping really went through kernel ESP.
esp_case() {
	local why=() n err
	for n in hostA router; do
		err=$(ip -n $n xfrm state add src 10.1.0.2 dst 10.1.0.1 proto esp spi 0x1001 mode transport \
			enc 'cbc(aes)' $key16 auth-trunc 'hmac(sha256)' $key32 128 2>&1 &&
			ip -n $n xfrm state add src 10.1.0.1 dst 10.1.0.2 proto esp spi 0x1002 mode transport \
				enc 'cbc(aes)' $key16 auth-trunc 'hmac(sha256)' $key32 128 2>&1 &&
			ip -n $n xfrm state add src fd00:1::2 dst fd00:1::1 proto esp spi 0x1003 mode transport \
				enc 'cbc(aes)' $key16 auth-trunc 'hmac(sha256)' $key32 128 2>&1) ||
			why+=("ip xfrm state add in $n: $err")
	done
	ip -n hostA xfrm policy add src 10.1.0.2 dst 10.1.0.1 dir out tmpl proto esp mode transport &&
		ip -n router xfrm policy add src 10.1.0.2 dst 10.1.0.1 dir in tmpl proto esp mode transport &&
		ip -n router xfrm policy add src 10.1.0.1 dst 10.1.0.2 dir out tmpl proto esp mode transport &&
		ip -n hostA xfrm policy add src 10.1.0.1 dst 10.1.0.2 dir in tmpl proto esp mode transport ||
		why+=("ip xfrm policy add failed")
	[ ${#why[@]} -eq 0 ] && { err=$(ping_ok hostA 10.1.0.1) || why+=("$err"); }
	ip -n router -s xfrm state list spi 0x1001 >"$UML_OUT/esp-sa.txt" 2>&1
	grep -Eq '[1-9][0-9]*\(packets\)' "$UML_OUT/esp-sa.txt" ||
		why+=("router's inbound SA counted no packets: $(grep -F '(packets)' "$UML_OUT/esp-sa.txt" | tail -1)")
	for n in hostA router; do ip -n $n xfrm policy flush; ip -n $n xfrm state flush; done
	if [ ${#why[@]} -eq 0 ]; then pass "uml kernel has ESP"; else fail "uml kernel has ESP" "${why[@]}"; fi
}

kernel_forward_case() {
	local why=() err
	router_forwarding 1
	err=$(ping_ok hostA 10.2.0.2) || why+=("$err")
	err=$(ping_ok hostA fd00:2::2) || why+=("$err")
	router_forwarding 0
	if [ ${#why[@]} -eq 0 ]; then pass "uml kernel forwards ping"; else fail "uml kernel forwards ping" "${why[@]}"; fi
}

# espd must have replaced r-a and r-b with TAPs of the same name carrying
# the addresses; espctl must answer.
espd_ready() {
	local i
	for i in r-a r-b; do
		ip -n router -d link show dev $i 2>/dev/null | grep -qw tun || return 1
	done
	ip -n router addr show dev r-a | grep -q 'inet 10.1.0.1/24' || return 1
	timeout 5 "$build/espctl" --socket /run/espd.sock show interfaces >"$UML_OUT/espctl-interfaces.txt" 2>&1
}

# Packets espd's ip-rewrite node has sent on: those espd forwarded itself.
rewritten() {
	timeout 5 "$build/espctl" --socket /run/espd.sock show runtime --json | /usr/bin/python3 -c '
import json, sys
print(sum(n["packets"] for n in json.load(sys.stdin)["nodes"] if n["node"] == "ip-rewrite"))'
}

espd_case() {
	local c="uml espd forwards ping" why=() pid i err status before after
	if [ ! -x "$build/espd" ] || [ ! -x "$build/espctl" ]; then
		fail "$c" "$build/espd or $build/espctl not built"
		return
	fi
	cat >/run/tmp/espd.conf <<'CONF'
set vpp settings interface r-a driver af-packet
set vpp settings interface r-b driver af-packet
set vpp settings cpu main-core 0
set vpp settings interface-rx-mode adaptive
CONF
	# espd forwards only what the kernel's forwarding setting allows.
	router_forwarding 1
	ESPD_MEMORY_MB=700 \
		ip netns exec router "$build/espd" -c /run/tmp/espd.conf --socket /run/espd.sock \
		--file-prefix uml-smoke >"$UML_OUT/espd.log" 2>&1 &
	pid=$!
	for i in $(seq 60); do
		kill -0 $pid 2>/dev/null || break
		espd_ready && break
		sleep 0.5
	done
	if ! kill -0 $pid 2>/dev/null; then
		wait $pid
		fail "$c" "espd exited with status $? before it was ready; espd.log:" "$(tail_of "$UML_OUT/espd.log")"
		return
	fi
	if ! espd_ready; then
		why+=("espd not ready after 30 s (r-a/r-b not TAPs with their addresses, or espctl failed)"
			"router links: $(ip -n router -br link | tr '\n' ';')"
			"espctl: $(tr '\n' ' ' <"$UML_OUT/espctl-interfaces.txt" 2>/dev/null)")
	else
		# The router's kernel learns its neighbours (ARP/ND) through the TAPs.
		for i in 10.1.0.2 10.2.0.2 fd00:1::2 fd00:2::2; do ip netns exec router ping -c 1 -W 2 $i >/dev/null 2>&1; done
		before=$(rewritten)
		err=$(ping_ok hostA 10.2.0.2) || why+=("$err")
		err=$(ping_ok hostA fd00:2::2) || why+=("$err")
		# Three echoes and three replies per family; the first of each may be
		# punted while espd learns the neighbor.
		after=$(rewritten)
		[ $((after - before)) -ge 8 ] || why+=("espd's ip-rewrite counted $((after - before)) packets, not 8 or more")
		timeout 5 "$build/espctl" --socket /run/espd.sock show interfaces >"$UML_OUT/espctl-interfaces.txt" 2>&1
	fi
	kill -TERM $pid
	for i in $(seq 20); do kill -0 $pid 2>/dev/null || break; sleep 0.5; done
	if kill -0 $pid 2>/dev/null; then
		why+=("espd ignored SIGTERM for 10 s; its threads (name state wchan):"
			"$(for t in /proc/$pid/task/*; do echo "$(cat $t/comm) $(awk '{print $3}' $t/stat) $(cat $t/wchan)"; done | tr '\n' ';')")
		kill -KILL $pid
	fi
	wait $pid
	status=$?
	echo "espd exit status: $status"
	[ "$status" -eq 0 ] || why+=("espd exited with status $status after SIGTERM")
	if [ ${#why[@]} -eq 0 ]; then
		pass "$c"
	else
		fail "$c" "${why[@]}" "espd.log:" "$(tail_of "$UML_OUT/espd.log")"
	fi
}

if ! step topology; then
	fail "uml kernel has ESP" "namespace topology setup failed (see console.log)"
	exit 1
fi
esp_case
kernel_forward_case
espd_case
EOF
} | uml_write_script "$work/inner.sh" || exit 1

UML_TIMEOUT=${UML_TIMEOUT:-180} uml_run "$work" "$work/inner.sh"
rc=$?
echo "uml boot: ${UML_BOOT_TIME:-?} s to the script (${UML_INIT_TIME:-?} s to init)"

failed=0
for c in "${cases[@]}"; do
	if grep -qxF "PASS: $c" "$work/out/results" 2>/dev/null; then
		echo "PASS: $c"
	elif grep -qxF "FAIL: $c" "$work/out/results" 2>/dev/null; then
		# The case line and its indented reasons.
		awk -v c="FAIL: $c" '$0 == c { p = 1; print; next } p && /^  / { print; next } { p = 0 }' "$work/out/results"
		failed=1
	else
		echo "FAIL: $c"
		echo "  no result: the run inside UML ended with status $rc"
		failed=1
	fi
done
[ "$failed" -eq 0 ] || uml_show_logs "$work" 20
exit "$failed"
