/* The graph fuzz test's network and its `espctl ipsec` lines (network.h). */
#include "network.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "config/config.h"
#include "control/cli.h"
#include "control/ipsec_cli.h"
#include "graph/worker.h"
#include "tables/acl.h"
#include "tables/fib.h"
#include "tables/iface.h"
#include "tables/neigh.h"
#include "tables/own_addr.h"
#include "tables/sad.h"
#include "tables/spd.h"

const struct rte_ether_addr fuzz_mac_lan = { { 0x02, 0, 0, 0, 0, 0x0a } };
const struct rte_ether_addr fuzz_mac_wan = { { 0x02, 0, 0, 0, 0, 0x0b } };
static const struct rte_ether_addr mac_host = { { 0x02, 0, 0, 0, 0, 0x22 } };
static const struct rte_ether_addr mac_peer = { { 0x02, 0, 0, 0, 0, 0x33 } };

static __rte_noreturn void die(const char *what)
{
	fprintf(stderr, "graph_fuzz: %s\n", what);
	exit(2);
}

static void network_setup(const struct ring_port ports[PORT_N])
{
	uint16_t wan = bench_iface_setup("fuzz-wan", &fuzz_mac_wan, &ports[PORT_WAN],
					 &ports[PORT_TAP_WAN]);
	uint16_t lan = bench_iface_setup("fuzz-lan", &fuzz_mac_lan, &ports[PORT_LAN],
					 &ports[PORT_TAP_LAN]);
	struct ip_prefix wan_addrs[2], lan_addrs[2];
	uint32_t own[2];

	iface_table.ifaces[lan].mtu = FUZZ_LAN_MTU;
	iface_table.ifaces[wan].tap_mtu = iface_table.ifaces[lan].tap_mtu = FUZZ_TAP_MTU;
	bench_route_add("192.0.2.1/32", NEXTHOP_LOCAL, wan, NULL);
	bench_route_add("2001:db8::1/128", NEXTHOP_LOCAL, wan, NULL);
	bench_route_add("10.1.0.1/32", NEXTHOP_LOCAL, lan, NULL);
	bench_route_add("fd00:1::1/128", NEXTHOP_LOCAL, lan, NULL);
	bench_route_add("192.0.2.0/24", NEXTHOP_FORWARD, wan, NULL);
	bench_route_add("2001:db8::/64", NEXTHOP_FORWARD, wan, NULL);
	bench_route_add("10.1.0.0/24", NEXTHOP_FORWARD, lan, NULL);
	bench_route_add("fd00:1::/64", NEXTHOP_FORWARD, lan, NULL);
	bench_route_add("10.2.0.0/16", NEXTHOP_FORWARD, wan, "192.0.2.2");
	bench_route_add("fd00:2::/32", NEXTHOP_FORWARD, wan, "2001:db8::2");
	bench_neighbor_add(wan, "192.0.2.2", &mac_peer);
	bench_neighbor_add(wan, "2001:db8::2", &mac_peer);
	bench_neighbor_add(lan, "10.1.0.2", &mac_host);
	bench_neighbor_add(lan, "fd00:1::2", &mac_host);
	ip_prefix_parse("192.0.2.1/24", &wan_addrs[0]);
	ip_prefix_parse("2001:db8::1/64", &wan_addrs[1]);
	ip_prefix_parse("10.1.0.1/24", &lan_addrs[0]);
	ip_prefix_parse("fd00:1::1/64", &lan_addrs[1]);
	iface_addrs_set(&iface_table.ifaces[wan], wan_addrs, 2);
	iface_addrs_set(&iface_table.ifaces[lan], lan_addrs, 2);
	own[0] = wan_addrs[0].addr.v4;
	own[1] = lan_addrs[0].addr.v4;
	if (own_addr_sync(own, 2) < 0)
		die("own addresses not set");
}

#define GCM "aead rfc4106(gcm(aes)) 0x101112131415161718191a1b1c1d1e1f20212223 128"
#define CBC "enc cbc(aes) 0x303132333435363738393a3b3c3d3e3f auth-trunc hmac(sha256) " \
	    "0x505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f 128"
#define V4_IN "src 192.0.2.2 dst 192.0.2.1"
#define V6_IN "src 2001:db8::2 dst 2001:db8::1"
#define NATT "encap espinudp 4500 4500 0.0.0.0"
/* ESN SAs start at corpus.py's ESN_TOP, 2^32 - 8, in the subspace of
 * high bits hi: in decimal, as no key is (the churn gives its SAs keys of
 * their own by rewriting hex words). */
#define ESN_IN(window) "replay-window " #window " replay-seq 4294967288 flag esn"
#define ESN_OUT(hi) "replay-window 32 replay-oseq 4294967288 replay-oseq-hi " #hi " flag esn"

/* corpus.py's SAs and policies, in the words of `espctl ipsec ...`. */
const char *const fuzz_ipsec_lines[] = {
	"ipsec sa add " V4_IN " proto esp spi 0x1001 reqid 11 mode tunnel " GCM,
	"ipsec sa add " V4_IN " proto esp spi 0x1002 reqid 12 mode tunnel " CBC,
	"ipsec sa add " V6_IN " proto esp spi 0x1003 reqid 13 mode tunnel replay-window 64 " GCM,
	"ipsec sa add " V6_IN " proto esp spi 0x1004 reqid 14 mode tunnel " CBC,
	"ipsec sa add " V4_IN " proto esp spi 0x1005 reqid 15 mode tunnel " GCM " " NATT,
	"ipsec sa add " V4_IN " proto esp spi 0x1006 reqid 16 mode transport " CBC,
	"ipsec sa add " V6_IN " proto esp spi 0x1007 reqid 17 mode transport " GCM,
	"ipsec sa add " V4_IN " proto esp spi 0x1008 reqid 18 mode tunnel " CBC " " NATT,
	"ipsec sa add " V4_IN " proto esp spi 0x1009 reqid 19 mode tunnel " ESN_IN(1024) " " GCM,
	"ipsec sa add " V6_IN " proto esp spi 0x100a reqid 20 mode tunnel " ESN_IN(32) " " CBC,
	"ipsec sa add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x2001 reqid 21 mode tunnel " GCM,
	"ipsec sa add src 2001:db8::1 dst 2001:db8::2 proto esp spi 0x2002 reqid 22 mode tunnel "
	CBC,
	"ipsec sa add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x2003 reqid 23 mode tunnel " GCM
	" " NATT,
	"ipsec sa add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x2004 reqid 24 mode tunnel "
	ESN_OUT(0) " " CBC,
	"ipsec sa add src 2001:db8::1 dst 2001:db8::2 proto esp spi 0x2005 reqid 25 mode tunnel "
	ESN_OUT(0) " " GCM,
	/* 8 sequence numbers short of 2^64: the corpus exhausts it. */
	"ipsec sa add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x2006 reqid 26 mode tunnel "
	ESN_OUT(4294967295) " " GCM,
	"ipsec policy add src 10.2.1.0/24 dst 10.1.0.0/24 dir fwd tmpl " V4_IN
	" proto esp mode tunnel reqid 11",
	"ipsec policy add src fd00:2:2::/64 dst fd00:1::/64 dir fwd tmpl " V4_IN
	" proto esp mode tunnel reqid 12",
	"ipsec policy add src 10.2.3.0/24 dst 10.1.0.0/24 dir fwd tmpl " V6_IN
	" proto esp mode tunnel reqid 13",
	"ipsec policy add src fd00:2:4::/64 dst fd00:1::/64 dir fwd tmpl " V6_IN
	" proto esp mode tunnel reqid 14",
	"ipsec policy add src 10.2.5.0/24 dst 10.1.0.0/24 dir fwd tmpl " V4_IN
	" proto esp mode tunnel reqid 15",
	"ipsec policy add " V4_IN " proto udp dport 7 dir in tmpl proto esp mode transport reqid 16",
	"ipsec policy add " V6_IN " proto udp dport 7 dir in tmpl proto esp mode transport reqid 17",
	"ipsec policy add src fd00:2:8::/64 dst fd00:1::/64 dir fwd tmpl " V4_IN
	" proto esp mode tunnel reqid 18",
	"ipsec policy add src 10.2.9.0/24 dst 10.1.0.0/24 dir fwd tmpl " V4_IN
	" proto esp mode tunnel reqid 19",
	"ipsec policy add src fd00:2:a::/64 dst fd00:1::/64 dir fwd tmpl " V6_IN
	" proto esp mode tunnel reqid 20",
	"ipsec policy add src 10.1.0.0/24 dst 10.2.1.0/24 dir out tmpl src 192.0.2.1 "
	"dst 192.0.2.2 proto esp mode tunnel reqid 21",
	"ipsec policy add src fd00:1::/64 dst fd00:2:4::/64 dir out tmpl src 2001:db8::1 "
	"dst 2001:db8::2 proto esp mode tunnel reqid 22",
	"ipsec policy add src 10.1.0.0/24 dst 10.2.5.0/24 dir out tmpl src 192.0.2.1 "
	"dst 192.0.2.2 proto esp mode tunnel reqid 23",
	"ipsec policy add src 10.1.0.0/24 dst 10.2.11.0/24 dir out tmpl src 192.0.2.1 "
	"dst 192.0.2.2 proto esp mode tunnel reqid 24",
	"ipsec policy add src fd00:1::/64 dst fd00:2:c::/64 dir out tmpl src 2001:db8::1 "
	"dst 2001:db8::2 proto esp mode tunnel reqid 25",
	"ipsec policy add src 10.1.0.0/24 dst 10.2.12.0/24 dir out tmpl src 192.0.2.1 "
	"dst 192.0.2.2 proto esp mode tunnel reqid 26",
	"ipsec policy add src 10.1.0.0/24 dst 10.2.99.0/24 dir out action block",
	"ipsec policy add src 10.1.0.0/24 dst 10.2.98.0/24 dir out",
};
const size_t fuzz_ipsec_n = RTE_DIM(fuzz_ipsec_lines);

/*
 * ACLs: the LAN's input, and both outputs. UDP from 10.1.0.97 to port
 * 9999 does not come in, UDP to 10.2.96.0/24 from port 9999 does not go
 * out (their later fragments neither: those match by addresses and
 * protocol); the rest of the corpus passes. An IP header the ACL cannot
 * read matches no rule and is denied: the WAN's input has no ACL, so
 * that damage reaches ip4-input and ip6-input from there.
 */
static const char acl_text[] =
	"set vpp acl ip tag-name IN rule 10 action deny\n"
	"set vpp acl ip tag-name IN rule 10 protocol udp\n"
	"set vpp acl ip tag-name IN rule 10 source prefix 10.1.0.97/32\n"
	"set vpp acl ip tag-name IN rule 10 destination port 9999\n"
	"set vpp acl ip tag-name IN rule 20 action permit-reflect\n"
	"set vpp acl ip tag-name IN rule 20 protocol tcp\n"
	"set vpp acl ip tag-name IN rule 30 action permit\n"
	"set vpp acl ip tag-name OUT rule 10 action deny\n"
	"set vpp acl ip tag-name OUT rule 10 protocol udp\n"
	"set vpp acl ip tag-name OUT rule 10 destination prefix 10.2.96.0/24\n"
	"set vpp acl ip tag-name OUT rule 10 source port 9999\n"
	"set vpp acl ip tag-name OUT rule 20 action permit\n"
	"set vpp acl ip interface fuzz-lan input acl-tag 1 tag-name IN\n"
	"set vpp acl ip interface fuzz-wan output acl-tag 1 tag-name OUT\n"
	"set vpp acl ip interface fuzz-lan output acl-tag 1 tag-name OUT\n";

static void acl_setup(void)
{
	struct config cfg;
	char err[256];

	config_init(&cfg);
	if (config_parse_string("fuzz", acl_text, &cfg, err, sizeof(err)) < 0 ||
	    acl_config_apply(&cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "graph_fuzz: ACLs: %s\n", err);
		exit(2);
	}
	config_free(&cfg);
}

int fuzz_cli(const char *line)
{
	char copy[512], *words[64], *save = NULL;
	struct cli_out out = { 0 };
	int n = 0, status;

	snprintf(copy, sizeof(copy), "%s", line);
	for (char *w = strtok_r(copy, " ", &save); w && n < 64; w = strtok_r(NULL, " ", &save))
		words[n++] = w;
	cli_execute(n, words, &out);
	status = out.status;
	if (status != 0)
		fprintf(stderr, "graph_fuzz: '%s': %s\n", line, out.buf ? out.buf : "failed");
	cli_out_free(&out);
	return status;
}

unsigned fuzz_ipsec_enter(void)
{
	unsigned failed = 0;

	for (size_t i = 0; i < fuzz_ipsec_n; i++)
		failed += fuzz_cli(fuzz_ipsec_lines[i]) != 0;
	return failed;
}

struct rte_graph *fuzz_network_setup(struct ring_port ports[PORT_N], struct rte_mempool *pool)
{
	static const char *const names[PORT_N] = { "fz_wan", "fz_lan", "fz_tap_wan", "fz_tap_lan" };
	struct rte_rcu_qsbr *rcu = rte_zmalloc("rcu", rte_rcu_qsbr_get_memsize(1), 64);

	if (!rcu || rte_rcu_qsbr_init(rcu, 1) != 0)
		die("no RCU variable");
	iface_table_init();
	if (fib_init(rcu, 1024) < 0 || neigh_init(rcu, 1024) < 0 || own_addr_init(rcu) < 0 ||
	    acl_init(rcu) < 0 || sad_init(rcu, 64, 1) < 0 || spd_init(rcu, 64) < 0 ||
	    pkt_meta_register() < 0)
		die("tables not created");
	for (unsigned p = 0; p < PORT_N; p++)
		ring_port_create(names[p], &ports[p], pool);
	network_setup(ports);
	acl_setup();
	ipsec_cli_register();
	if (fuzz_ipsec_enter() != 0)
		die("SAs and policies not entered");
	for (unsigned p = 0; p < PORT_N; p++)
		workers[0].rx[workers[0].n_rx++] =
			(struct rx_queue_ref){ ports[p].port_id, 0, p >= PORT_TAP_WAN };
	if (workers_create(1, rcu) < 0)
		die("worker graph not created");
	return workers[0].graph;
}
