#!/usr/bin/env bash
# Two espd routers joined by IPsec (lib_site.sh): static SAs and policies
# entered on each with espctl carry IPv4 and IPv6 between the sites, in
# both directions; on the WAN nothing but ESP of the tunnel's SPIs, the
# payload never in clear; each router's SA counters agree with the
# other's; a TCP transfer arrives intact, also while the SAs are rekeyed
# three times; and ./demo.sh, which shows the same, runs to its end.
DIR=$(dirname "$0")
T=site$$
source "$DIR/lib.sh"
source "$DIR/lib_site.sh"
capture=$SCRATCH/wan.pcapng
demo_out=$SCRATCH/demo.out
at_exit site_cleanup

# frames_on IFACE FILTER: tshark's fields of the captured frames router 1
# (the router selected) sent or received on IFACE that FILTER takes.
frames_on() {
	tshark -r "$capture" -Y "frame.interface_name == \"$(pcap_port_name "$1")\" && ($2)" \
		-T fields -e esp.spi -e frame.packet_flags_direction 2>/dev/null
}

quiet() { "$@" >/dev/null; }

# sa_packets N SPI: router N's packet count of the SA.
sa_packets() {
	site_ctl "$1" show ipsec sa "$2" --json |
		"$PY" -c "import json, sys
d = json.load(sys.stdin)
print((d[0] if isinstance(d, list) else d)['packets'])"
}

counters_agree() {
	local spi a b
	for spi in "$SITE_SPI_1TO2" "$SITE_SPI_2TO1"; do
		a=$(sa_packets 1 "$spi") b=$(sa_packets 2 "$spi")
		echo "SA $spi: router 1 $a packets, router 2 $b"
		[ "$a" = "$b" ] && [ "$a" -ge 12 ] || return 1
	done
}

# rekey ROUND: new SAs of the tunnel's reqids (new SPIs and keys), each put
# first where it is received, then where it is sent from (an out template
# takes the newest SA of its reqid), and the round's old SAs deleted a
# moment later: make-before-break, as an IKE daemon rekeys.
rekey() {
	local old12=$((SITE_SPI_1TO2 + 16 * $1)) old21=$((SITE_SPI_2TO1 + 16 * $1)) r
	local new12=$((old12 + 16)) new21=$((old21 + 16)) key12 key21
	key12=$(site_key) key21=$(site_key)
	site_sa 2 1 2 "$new12" 1 "$key12" && site_sa 1 2 1 "$new21" 2 "$key21" &&
		site_sa 1 1 2 "$new12" 1 "$key12" && site_sa 2 2 1 "$new21" 2 "$key21" || return 1
	sleep 0.3
	for r in 1 2; do
		site_ctl "$r" ipsec sa del src 192.0.2.1 dst 192.0.2.2 proto esp spi "$old12" &&
			site_ctl "$r" ipsec sa del src 192.0.2.2 dst 192.0.2.1 proto esp spi "$old21" ||
			return 1
	done >/dev/null
}

# spis N: router N's SPIs, in hex, sorted.
spis() {
	site_ctl "$1" show ipsec sa --json | "$PY" -c "import json, sys
print(' '.join(sorted(s['spi_hex'] for s in json.load(sys.stdin))))"
}

# rekeyed_under_load: three rekeys while hostA pings hostB 100 times a
# second and sends it 16 MB over TCP; not one ping lost, the bytes intact,
# only the last round's SAs left.
rekeyed_under_load() {
	local ping_out ok=0 round tcp
	in_a ping -c 500 -i 0.01 -W 1 -q 10.2.0.2 >"$SCRATCH/ping.out" &
	local pinger=$!
	tcp_transfer in_b 10.2.0.2 16000000 &
	tcp=$!
	sleep 0.5
	for round in 0 1 2; do
		rekey "$round" || { echo "rekey $round refused"; ok=1; }
		sleep 0.7
	done
	wait "$pinger"
	wait "$tcp" || { echo "TCP bytes not intact"; ok=1; }
	ping_out=$(cat "$SCRATCH/ping.out")
	echo "$ping_out" | grep 'packet loss'
	echo "$ping_out" | grep -q ' 0% packet loss' || ok=1
	echo "router 1: $(spis 1); router 2: $(spis 2)"
	[ "$(spis 1)" = "0x00001031 0x00002031" ] && [ "$(spis 2)" = "$(spis 1)" ] || ok=1
	return $ok
}

site_cleanup
site_up
check "router 1's espd starts" site_espd_start 1
check "router 2's espd starts" site_espd_start 2
check "the tunnel's SAs and policies entered on both routers" site_tunnel
site_select 1
espctl pcap on "$capture" >/dev/null
check "hostA pings hostB across the tunnel (IPv4 in IPv4)" \
	quiet in_a ping -c 3 -i 0.2 -W 2 -p 5ec7e75ec7e7 -q 10.2.0.2
check "hostB pings hostA across the tunnel (IPv4 in IPv4)" \
	quiet in_b ping -c 3 -i 0.2 -W 2 -p 5ec7e75ec7e7 -q 10.1.0.2
check "hostA pings hostB across the tunnel (IPv6 in IPv4)" \
	quiet in_a ping -6 -c 3 -i 0.2 -W 2 -p 5ec7e75ec7e7 -q fd00:2::2
check "hostB pings hostA across the tunnel (IPv6 in IPv4)" \
	quiet in_b ping -6 -c 3 -i 0.2 -W 2 -p 5ec7e75ec7e7 -q fd00:1::2
espctl pcap off >/dev/null
# tshark: the SPI as 0x%08x, the direction as pcapng's flags (1 in, 2 out).
esp_out=$(frames_on wan "esp" | grep -c "^$(printf 0x%08x "$SITE_SPI_1TO2")\s0x0*2$")
esp_in=$(frames_on wan "esp" | grep -c "^$(printf 0x%08x "$SITE_SPI_2TO1")\s0x0*1$")
check "on the WAN: 12 pings out as ESP of SA 1 to 2 ($esp_out), 12 in of SA 2 to 1 ($esp_in)" \
	[ "$esp_out" -eq 12 -a "$esp_in" -eq 12 ]
other=$(frames_on wan "(ip || ipv6) && !esp && !icmpv6.type in {133..136} && !icmpv6.type == 143" |
	wc -l)
check "on the WAN nothing else but neighbor discovery ($other other IP frames)" [ "$other" -eq 0 ]
clear=$(frames_on wan "frame contains 5e:c7:e7:5e:c7:e7" | wc -l)
lan_clear=$(frames_on lan "frame contains 5e:c7:e7:5e:c7:e7" | wc -l)
check "the ping payload never in clear on the WAN ($clear), in clear on the LAN ($lan_clear)" \
	[ "$clear" -eq 0 -a "$lan_clear" -eq 24 ]
check "each SA counts on router 1 what router 2 counts" counters_agree
check "8 MB over TCP from hostA to hostB arrive intact" tcp_transfer in_b 10.2.0.2 8000000
check "three rekeys under pings and TCP: no ping lost, TCP intact, only the new SAs left" \
	rekeyed_under_load
site_cleanup
ESPD_BUILD=$ESPD_BUILD bash "$TOP/demo.sh" >"$demo_out" 2>&1
rc=$?
check "./demo.sh runs to its end (status $rc)" [ "$rc" -eq 0 ]
check "./demo.sh shows the pings leave as ESP and TCP crossing the tunnel" bash -c "
	grep -Eq '^wan +out +192.0.2.1 +192.0.2.2 +ESP \(SPI=0x00001001\)' $demo_out &&
	grep -Eq '^lan +in +10.1.0.2 +10.2.0.2 +Echo' $demo_out &&
	grep -q receiver $demo_out"
[ "$rc" -eq 0 ] || tail -30 "$demo_out"
[ -z "${FAILED:-}" ]
