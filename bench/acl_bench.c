/*
 * ACL benchmark, 64-byte IPv4/UDP frames, one core.
 *
 * 1. Forwarding through espd's real worker graph (port-input, acl-input,
 *    ethernet-input ... ip-rewrite, acl-output, port-output) between two
 *    DPDK ring ports, with 0 (nothing bound), 10, 100 and 1000 rules bound
 *    on input of the receiving interface; every frame matches the last rule.
 * 2. The same classify path alone: acl_filter_burst, the function acl-input
 *    calls per burst, on bursts of 32 frames (plus IPv6 and permit-reflect).
 *
 * Prints medians of several runs. Run it pinned: bench/run-acl.sh
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "graph/worker.h"
#include "bench_ports.h"
#include "tables/acl.h"
#include "tables/fib.h"
#include "tables/iface.h"
#include "tables/neigh.h"

#define FRAME_LEN 60          /* 64 on the wire with the FCS */
#define BURST 32
#define BURSTS 64             /* distinct bursts the classify run cycles through */
#define RING_SIZE BENCH_RING_SIZE
#define IN_FLIGHT 1024
#define RUNS 5
#define GRAPH_PACKETS 4000000ull
#define CLASSIFY_SECONDS 0.25

struct scenario {
	const char *name;
	unsigned rules;           /* 0: nothing bound */
	bool ip6;
	bool reflect;             /* the matching rule is permit-reflect */
};

static const struct rte_ether_addr mac_a = { { 0x02, 0, 0, 0, 0, 0x0a } };
static const struct rte_ether_addr mac_b = { { 0x02, 0, 0, 0, 0, 0x0b } };
static const struct rte_ether_addr mac_host = { { 0x02, 0, 0, 0, 0, 0x22 } };

static struct rte_mempool *pool;
static struct rte_rcu_qsbr *rcu;

/* ---- frames and configs ---- */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t ip4_checksum(const uint8_t *ip)
{
	uint32_t sum = 0;
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* 10.1.0.2 -> 10.2.0.2 (or fd00:1::2 -> fd00:2::2), UDP sport -> 9. */
static uint16_t frame_build(uint8_t *p, bool ip6, uint16_t sport)
{
	static const uint8_t ip6_src[16] = { 0xfd, 0, 0, 1, [15] = 2 };
	static const uint8_t ip6_dst[16] = { 0xfd, 0, 0, 2, [15] = 2 };
	uint16_t len = ip6 ? 14 + 40 + 8 : FRAME_LEN;
	uint8_t *l4;

	memset(p, 0, len);
	memcpy(p, &mac_a, 6);
	memcpy(p + 6, &mac_host, 6);
	if (ip6) {
		put16(p + 12, 0x86dd);
		p[14] = 0x60;
		put16(p + 18, 8);
		p[20] = IPPROTO_UDP;
		p[21] = 64;
		memcpy(p + 22, ip6_src, 16);
		memcpy(p + 38, ip6_dst, 16);
		l4 = p + 54;
	} else {
		static const uint8_t src[4] = { 10, 1, 0, 2 }, dst[4] = { 10, 2, 0, 2 };
		put16(p + 12, 0x0800);
		p[14] = 0x45;
		put16(p + 16, FRAME_LEN - 14);
		p[22] = 64;
		p[23] = IPPROTO_UDP;
		memcpy(p + 26, src, 4);
		memcpy(p + 30, dst, 4);
		put16(p + 24, ip4_checksum(p + 14));
		l4 = p + 34;
	}
	put16(l4, sport);
	put16(l4 + 2, 9);
	put16(l4 + 4, (uint16_t)(len - (l4 - p)));
	return len;
}

/* rules - 1 rules that miss (other sources and ports), then the match. */
static char *config_text(const struct scenario *s)
{
	size_t size = 256 + (size_t)s->rules * 320, used = 0;
	char *text = malloc(size);

	if (!text)
		return NULL;
	text[0] = '\0';
	for (unsigned i = 1; i < s->rules; i++) {
		char src[64];
		if (s->ip6)
			snprintf(src, sizeof(src), "fd00:%x:%x::/48", 100 + i / 256, i % 256);
		else
			snprintf(src, sizeof(src), "172.%u.%u.0/24", 16 + i / 256, i % 256);
		used += (size_t)snprintf(text + used, size - used,
			"set vpp acl ip tag-name B rule %u action permit\n"
			"set vpp acl ip tag-name B rule %u protocol udp\n"
			"set vpp acl ip tag-name B rule %u source prefix %s\n"
			"set vpp acl ip tag-name B rule %u destination port %u\n",
			i, i, i, src, i, 2000 + i);
	}
	if (s->rules)
		snprintf(text + used, size - used,
			 "set vpp acl ip tag-name B rule %u action %s\n"
			 "set vpp acl ip tag-name B rule %u protocol udp\n"
			 "set vpp acl ip tag-name B rule %u destination prefix %s\n"
			 "set vpp acl ip tag-name B rule %u destination port 9\n"
			 "set vpp acl ip interface bench-a input acl-tag 1 tag-name B\n",
			 s->rules, s->reflect ? "permit-reflect" : "permit", s->rules, s->rules,
			 s->ip6 ? "fd00:2::2/128" : "10.2.0.2/32", s->rules);
	return text;
}

static double apply(const struct scenario *s)
{
	struct config cfg;
	char err[256];
	char *text = config_text(s);

	config_init(&cfg);
	if (!text || config_parse_string("bench", text, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "acl_bench: %s\n", text ? err : "out of memory");
		exit(1);
	}
	free(text);
	uint64_t start = rte_rdtsc();
	if (acl_config_apply(&cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "acl_bench: %s\n", err);
		exit(1);
	}
	double ms = (double)(rte_rdtsc() - start) * 1e3 / (double)rte_get_tsc_hz();
	config_free(&cfg);
	return ms;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *runs)
{
	qsort(runs, RUNS, sizeof(runs[0]), cmp_double);
	return runs[RUNS / 2];
}

/* ---- 1. the worker graph between ring ports ---- */

static void forwarding_setup(struct ring_port *a, struct ring_port *b)
{
	struct ring_port tap_a, tap_b;

	if (fib_init(rcu, 1024) < 0 || neigh_init(rcu, 1024) < 0 ||
	    pkt_meta_register() < 0)
		exit(1);
	ring_port_create("acl_ring_a", a, pool);
	ring_port_create("acl_ring_b", b, pool);
	ring_port_create("acl_ring_tap_a", &tap_a, pool);
	ring_port_create("acl_ring_tap_b", &tap_b, pool);
	bench_iface_setup("bench-a", &mac_a, a, &tap_a);
	bench_iface_setup("bench-b", &mac_b, b, &tap_b);
	bench_route_add("10.2.0.0/24", NEXTHOP_FORWARD, 1, NULL);
	bench_neighbor_add(1, "10.2.0.2", &mac_host);
	if (workers_create(1, rcu) < 0)
		exit(1);
	workers[0].rx[workers[0].n_rx++] = (struct rx_queue_ref){ a->port_id, 0, false };
}

/* Forwarded frames go back to the input with their original header. */
static void recycle(struct ring_port *from, struct ring_port *to, const uint8_t *frame)
{
	struct rte_mbuf *pkts[BURST];
	unsigned n;
	while ((n = rte_ring_dequeue_burst(from->tx, (void **)pkts, BURST, NULL)) > 0) {
		for (unsigned i = 0; i < n; i++)
			memcpy(rte_pktmbuf_mtod(pkts[i], void *), frame, 42);
		rte_ring_enqueue_burst(to->rx, (void **)pkts, n, NULL);
	}
}

static double graph_run(struct ring_port *a, struct ring_port *b, const uint8_t *frame)
{
	uint64_t packets = 0, cycles = 0;

	while (packets < GRAPH_PACKETS) {
		uint64_t start = rte_rdtsc_precise();
		rte_graph_walk(workers[0].graph);
		cycles += rte_rdtsc_precise() - start;
		packets += workers[0].rx_last_walk;
		recycle(b, a, frame);
	}
	return (double)packets * (double)rte_get_tsc_hz() / (double)cycles;
}

static void drain(struct rte_ring *ring)
{
	struct rte_mbuf *m = NULL;
	while (rte_ring_dequeue(ring, (void **)&m) == 0)
		rte_pktmbuf_free(m);
}

static void forwarding_fill(struct ring_port *a, const uint8_t *frame)
{
	for (unsigned i = 0; i < IN_FLIGHT; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		if (!m)
			exit(1);
		memcpy(rte_pktmbuf_append(m, FRAME_LEN), frame, FRAME_LEN);
		rte_ring_enqueue(a->rx, m);
	}
}

/* Rounds outside, scenarios inside: a noisy neighbour slows all alike.
 * Returns the packets espd dropped or punted, which should be none. */
static uint64_t forwarding_bench(void)
{
	static const struct scenario scenarios[] = {
		{ "none bound", 0 },
		{ "10 rules", 10 },
		{ "100 rules", 100 },
		{ "1000 rules", 1000 },
	};
	enum { N = RTE_DIM(scenarios) };
	double runs[N][RUNS];
	struct ring_port a, b;
	uint8_t frame[128];

	forwarding_setup(&a, &b);
	frame_build(frame, false, 1024);
	forwarding_fill(&a, frame);
	for (int r = 0; r < RUNS; r++) {
		for (size_t s = 0; s < N; s++) {
			apply(&scenarios[s]);
			graph_run(&a, &b, frame); /* warm up */
			runs[s][r] = graph_run(&a, &b, frame);
		}
	}
	printf("1. forwarding through the worker graph (acl-input on the receiving port), "
	       "64-byte frames\n%-36s %10s %14s %12s\n", "rules bound (frames match the last)",
	       "Mpps", "cycles/packet", "vs none");
	double base = median(runs[0]);
	for (size_t s = 0; s < N; s++) {
		double pps = median(runs[s]);
		printf("%-36s %10.2f %14.1f %12.2f\n", scenarios[s].name, pps / 1e6,
		       (double)rte_get_tsc_hz() / pps, pps / base);
	}
	drain(a.rx);
	drain(a.tx);
	drain(b.rx);
	drain(b.tx);
	uint64_t lost = 0;
	for (unsigned c = 0; c < ESPD_COUNTER_MAX; c++)
		lost += counter_total(c);
	printf("packets dropped or punted during the runs: %" PRIu64 " (expected 0)\n\n", lost);
	return lost;
}

/* ---- 2. acl_filter_burst alone ---- */

static double classify_run(struct rte_mbuf *frames[BURSTS][BURST])
{
	static const uint16_t ifaces[BURST] = { 0 };
	uint64_t hz = rte_get_tsc_hz(), start = rte_rdtsc(), now;
	uint64_t end = start + (uint64_t)(CLASSIFY_SECONDS * (double)hz), packets = 0;
	unsigned b = 0;

	do {
		for (int i = 0; i < 64; i++) {
			if (acl_filter_burst(0, ACL_DIR_INPUT, ifaces, frames[b], BURST) != BURST) {
				fprintf(stderr, "acl_bench: a frame was denied\n");
				exit(1);
			}
			b = (b + 1) % BURSTS;
			packets += BURST;
		}
		now = rte_rdtsc();
	} while (now < end);
	return (double)packets * (double)hz / (double)(now - start);
}

static void frames_fill(struct rte_mbuf *frames[BURSTS][BURST], bool ip6)
{
	for (unsigned b = 0; b < BURSTS; b++) {
		for (unsigned i = 0; i < BURST; i++) {
			struct rte_mbuf *m = frames[b][i];
			rte_pktmbuf_reset(m);
			uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, FRAME_LEN);
			if (!p)
				exit(1);
			uint16_t len = frame_build(p, ip6, (uint16_t)(1024 + b * BURST + i));
			rte_pktmbuf_trim(m, (uint16_t)(FRAME_LEN - len));
		}
	}
}

static void classify_bench(void)
{
	static const struct scenario scenarios[] = {
		{ "none bound", 0 },
		{ "10 rules", 10 },
		{ "100 rules", 100 },
		{ "1000 rules", 1000 },
		{ "1000 rules, IPv6", 1000, true },
		{ "1000 rules, last is permit-reflect", 1000, false, true },
	};
	enum { N = RTE_DIM(scenarios) };
	static struct rte_mbuf *frames[BURSTS][BURST];
	double runs[N][RUNS], build_ms[N];

	for (unsigned b = 0; b < BURSTS; b++)
		if (rte_pktmbuf_alloc_bulk(pool, frames[b], BURST) != 0)
			exit(1);
	for (int r = 0; r < RUNS; r++) {
		for (size_t s = 0; s < N; s++) {
			frames_fill(frames, scenarios[s].ip6);
			build_ms[s] = apply(&scenarios[s]);
			classify_run(frames); /* warm up */
			runs[s][r] = classify_run(frames);
		}
	}
	printf("2. acl_filter_burst alone (the acl-input classify path), bursts of %d frames, "
	       "%d flows\n%-36s %10s %12s %14s %12s\n", BURST, BURSTS * BURST,
	       "rules bound (frames match the last)", "Mpps", "ns/packet", "cycles/packet",
	       "build ms");
	for (size_t s = 0; s < N; s++) {
		double pps = median(runs[s]);
		printf("%-36s %10.2f %12.1f %14.1f %12.2f\n", scenarios[s].name, pps / 1e6,
		       1e9 / pps, (double)rte_get_tsc_hz() / pps, build_ms[s]);
	}
	for (unsigned b = 0; b < BURSTS; b++)
		rte_pktmbuf_free_bulk(frames[b], BURST);
}

int main(int argc, char **argv)
{
	if (rte_eal_init(argc, argv) < 0)
		return 1;
	pool = rte_pktmbuf_pool_create("acl_bench", 8192, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	rcu = rte_zmalloc("acl_bench_rcu", rte_rcu_qsbr_get_memsize(1),
					       RTE_CACHE_LINE_SIZE);
	if (!pool || !rcu || rte_rcu_qsbr_init(rcu, 1) != 0 || acl_init(rcu) != 0)
		return 1;
	iface_table_init();
	printf("one core, TSC %.2f GHz, memory on %s, medians of %d runs\n\n",
	       (double)rte_get_tsc_hz() / 1e9, bench_memory_name(), RUNS);
	uint64_t lost = forwarding_bench();
	classify_bench();
	acl_fini();
	return lost != 0;
}
