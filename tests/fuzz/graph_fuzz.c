/*
 * The graph fuzz test: espd's whole worker graph on DPDK ring ports, as
 * the benchmarks build it (bench/bench_ports.h), fed valid frames of every
 * kind (corpus.py, built with scapy) and then, from a seed, damaged ones
 * (mutate.h). It holds espd to DESIGN's "malformed packets are dropped
 * with a named counter, never crash a worker":
 *
 *   - every corpus frame takes the way corpus.py says, alone (valid ESP of
 *     each SA, tunnel and transport, IPv4 and IPv6, GCM and CBC+HMAC,
 *     ESP in UDP, fragmented, decrypted and forwarded; of the ESN SAs,
 *     whose sequence numbers start just below 2^32, across it both ways);
 *   - the process survives the frames, damaged or not;
 *   - every frame is accounted for, node by node: each node's packets
 *     leave it by an edge, except at the nodes that end or make packets
 *     (port-output, drop, ip-reassemble, ip-fragment); what the drop node
 *     frees carries a reason, and each named drop counter equals what
 *     reached the drop node by it (plus what port-output and the
 *     reassembly tables free, and what icmp-error answers);
 *   - the frames sent out of the ports are well-formed IP that fits the link;
 *   - no mbuf is lost: with the rings drained and the reassembly table
 *     freed, every pool is full again;
 *   - the damage reached many checks: distinct named counters hit.
 *
 * Each node's process function is wrapped to see its packets in and out
 * (as espd's trace does, trace.c): an edge's stream grows by what a node
 * enqueues to it.
 *
 * With --churn SECONDS, instead of the damage: the graph runs on a second
 * lcore as espd's workers run it (worker.c: a walk, then a quiescent
 * report; adaptive, offline while it naps, unless --rx-mode polling), fed
 * the corpus in a loop, while this thread changes the SAs and policies as
 * an IKE daemon rekeys (churn.h) for that long. Then, as well as the
 * accounting and the mbufs above: every command succeeded; no plaintext
 * of a protected selector, no ESP of an unknown SPI and none its SA's
 * keys do not authenticate left the WAN port; drops during the churn have
 * reasons the corpus or the churn explains; every SA removed was freed,
 * its keys wiped; and with the setup's SAs and policies entered again,
 * the corpus takes its ways as before. A run that stalls (a grace period
 * that never ends) fails.
 *
 * Usage: graph_fuzz [EAL args] -- --corpus FILE [--seed N] [--frames N]
 *   [--counters-min N] [--churn SECONDS [--rx-mode adaptive|polling]]
 * Prints "PASS: ..." / "FAIL: ..." lines and the seed, which --seed
 * replays. Exit status 1 if anything failed.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "churn.h"
#include "graph/trace.h"
#include "graph/worker.h"
#include "mutate.h"
#include "network.h"
#include "tables/path_mtu.h"
#include "tables/sad.h"

#define SMALL_MBUFS 16384 /* 2 KB buffers, as xdp and dpdk ports receive into */
#define LARGE_MBUFS 1024  /* for frames above 2 KB, as af_packet ports take */
#define PORT_BURST_MAX 128 /* port-input's most from one queue in a walk */
#define NODES_MAX 64
#define CORPUS_MAX 4096
#define SEGMENTS_MAX 3
#define REASSEMBLED_POOL "reassembled_0" /* ip_reassemble.c's, worker 0 */
#define REASSEMBLED_MBUFS 63
#define CHURN_IN_FLIGHT 2048 /* frames waiting in the receive rings at most */
/* icmp-error answers "time exceeded" once a second per destination: the
 * last pass of the corpus waits for its answers' tokens. */
#define ICMP_REFILL_MS 1100

/* The fates corpus.py gives; PORT_N + the two below for the others. */
static const char fate_out[PORT_N] = { 'W', 'L', 'w', 'l' };
#define FATE_DECRYPTED 'E' /* out of the LAN port, decrypted */
#define FATE_DROPPED 'd'
#define FATE_HELD 'h'
#define FATE_AUTHENTIC 'a' /* ESP through esp-decrypt, ICV sound, any way after */

struct corpus_frame {
	uint8_t port, fate;
	uint16_t len;
	const uint8_t *data;
};

/* A node's own process function, and its packets in and out. */
struct node_seen {
	rte_node_process_t process;
	uint64_t in, out;
};

struct options {
	const char *corpus;
	uint64_t seed;
	uint64_t frames;
	unsigned counters_min;
	unsigned churn_s; /* 0: fuzz, in this thread */
	bool polling;     /* the churn's worker never naps (rx-mode polling) */
};

static struct {
	struct options opt;
	struct rte_mempool *small, *large;
	struct ring_port ports[PORT_N];
	struct rte_graph *graph;
	struct corpus_frame corpus[CORPUS_MAX];
	unsigned n_corpus;
	struct fuzz_rng rng;
	struct node_seen seen[NODES_MAX];
	unsigned churn_next;  /* the corpus frame the churn's traffic sends next */
	uint64_t churn_end;   /* when the churn's time is up, in timer cycles */
	rte_node_t drop_id;
	uint64_t drop_why[ESPD_COUNTER_MAX + 1]; /* [ESPD_COUNTER_MAX]: no reason */
	uint64_t sent, out[PORT_N], malformed_out;
	uint64_t mutations[MUT_N];
	unsigned failed;
} f;

static void result(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void result(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s: ", ok ? "PASS" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	f.failed += !ok;
}

static __rte_noreturn void die(const char *what)
{
	fprintf(stderr, "graph_fuzz: %s\n", what);
	exit(2);
}

/* ---- Watching the nodes ---- */

static uint64_t pending_next(const struct rte_node *node)
{
	uint64_t n = 0;

	for (rte_edge_t e = 0; e < node->nb_edges; e++)
		n += node->nodes[e]->idx;
	return n;
}

/*
 * Before a node runs, its packets' reasons are cleared: a packet the drop
 * node gets must have been given one by the node that sent it there.
 */
static uint16_t observe(struct rte_graph *graph, struct rte_node *node, void **objs,
			uint16_t n)
{
	struct node_seen *seen = &f.seen[node->id];
	uint64_t before = pending_next(node);
	uint16_t rc;

	for (uint16_t i = 0; i < n; i++) {
		struct pkt_meta *meta = pkt_meta(objs[i]);
		if (node->id == f.drop_id)
			f.drop_why[RTE_MIN(meta->why, (uint16_t)ESPD_COUNTER_MAX)]++;
		else
			meta->why = TRACE_NO_REASON;
	}
	rc = seen->process(graph, node, objs, n);
	seen->in += n;
	seen->out += pending_next(node) - before;
	return rc;
}

static void observe_install(void)
{
	struct rte_node *node;
	rte_graph_off_t off;
	rte_node_t count;

	f.drop_id = rte_node_from_name(NODE_DROP);
	rte_graph_foreach_node(count, off, f.graph, node) {
		if (node->id >= NODES_MAX)
			die("more nodes than the test watches");
		f.seen[node->id].process = node->process;
		node->process = observe;
	}
}

static const struct node_seen *seen_of(const char *name)
{
	return &f.seen[rte_node_from_name(name)];
}

/* ---- Corpus ---- */

static void corpus_load(void)
{
	FILE *in = fopen(f.opt.corpus, "rb");
	uint8_t hdr[4];

	if (!in)
		die("cannot open the corpus");
	while (fread(hdr, sizeof(hdr), 1, in) == 1) {
		uint16_t len = (uint16_t)(hdr[2] << 8 | hdr[3]);
		uint8_t *data = malloc(len);
		if (f.n_corpus == CORPUS_MAX || !data || fread(data, len, 1, in) != 1 ||
		    hdr[0] >= PORT_N)
			die("bad corpus");
		f.corpus[f.n_corpus++] = (struct corpus_frame){ hdr[0], hdr[1], len, data };
	}
	fclose(in);
	if (f.n_corpus == 0)
		die("empty corpus");
}

/* ---- Frames in and out ---- */

/* The frame in an mbuf of the pool its size needs, in up to three
 * segments when asked; NULL when the pools are empty. */
static struct rte_mbuf *frame_mbuf(const uint8_t *data, uint32_t len, unsigned segments)
{
	uint32_t small_room = rte_pktmbuf_data_room_size(f.small) - (uint32_t)RTE_PKTMBUF_HEADROOM;
	struct rte_mempool *pool = len > small_room ? f.large : f.small;
	struct rte_mbuf *head = NULL;
	uint32_t at = 0;

	if (len < segments * 2 || len > small_room)
		segments = 1;
	for (unsigned s = 0; s < segments; s++) {
		uint32_t piece = s + 1 == segments ? len - at : rng_below(&f.rng, len - at) / 2 + 1;
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		if (!m || !rte_pktmbuf_append(m, (uint16_t)piece)) {
			rte_pktmbuf_free(m);
			rte_pktmbuf_free(head);
			return NULL;
		}
		memcpy(rte_pktmbuf_mtod(m, uint8_t *), data + at, piece);
		at += piece;
		if (!head)
			head = m;
		else if (rte_pktmbuf_chain(head, m) != 0)
			die("cannot chain segments");
	}
	pkt_meta(head)->why = TRACE_NO_REASON;
	return head;
}

static void send_frame(unsigned port, const uint8_t *data, uint32_t len, unsigned segments)
{
	struct rte_mbuf *m = frame_mbuf(data, len, segments);

	if (!m)
		die("mbuf pools empty: mbufs leak");
	if (rte_ring_enqueue(f.ports[port].rx, m) != 0)
		die("receive ring full");
	f.sent++;
}

/* An IP packet espd sends out of a port: its header sound, its lengths
 * within the frame's first segment (where ip4-input and ip6-input found
 * it) and the link's MTU. The router's own packets (PKT_OWN: the kernel's
 * from a TAP, sent as the kernel built them, and espd's ICMP answers)
 * are left out; the ESP packets espd built are not. */
static bool well_formed(const struct rte_mbuf *m, unsigned port)
{
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m), mtu = port == PORT_WAN ? FUZZ_WAN_MTU : FUZZ_LAN_MTU;

	if (len < 14 + 20)
		return false;
	if (d[12] == 0x08 && d[13] == 0x00) {
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(d + 14);
		uint32_t total = rte_be_to_cpu_16(ip->total_length);
		return ip->version_ihl >> 4 == 4 && rte_ipv4_hdr_len(ip) <= total &&
		       total + 14 <= len && total <= mtu && rte_ipv4_cksum(ip) == 0;
	}
	if (d[12] == 0x86 && d[13] == 0xdd && len >= 14 + 40) {
		const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)(d + 14);
		uint32_t total = 40u + rte_be_to_cpu_16(ip->payload_len);
		return d[14] >> 4 == 6 && total + 14 <= len && total <= mtu;
	}
	return false;
}

/* Counted, and the first ones shown (their first 64 bytes). */
static void malformed(const struct rte_mbuf *m, unsigned port)
{
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);

	if (f.malformed_out++ >= 5)
		return;
	fprintf(stderr, "malformed frame out of port %u, %u bytes (%u segments):", port,
		rte_pktmbuf_pkt_len(m), m->nb_segs);
	for (unsigned i = 0; i < RTE_MIN(rte_pktmbuf_data_len(m), 64u); i++)
		fprintf(stderr, "%s%02x", i % 16 ? " " : "\n  ", d[i]);
	fprintf(stderr, "\n");
}

/* Frees what came out of the ports; counts into got[]. */
static void drain(uint64_t got[PORT_N])
{
	struct rte_mbuf *pkts[256];
	unsigned n;

	for (unsigned p = 0; p < PORT_N; p++)
		while ((n = rte_ring_dequeue_burst(f.ports[p].tx, (void **)pkts, RTE_DIM(pkts),
						   NULL)) > 0) {
			for (unsigned i = 0; i < n; i++) {
				if (p <= PORT_LAN && pkt_meta(pkts[i])->flags != PKT_OWN &&
				    !well_formed(pkts[i], p))
					malformed(pkts[i], p);
				if (p == PORT_WAN && f.opt.churn_s)
					churn_wan_frame(pkts[i]);
			}
			got[p] += n;
			f.out[p] += n;
			rte_pktmbuf_free_bulk(pkts, n);
		}
}

static bool received_all(void)
{
	for (unsigned p = 0; p < PORT_N; p++)
		if (rte_ring_count(f.ports[p].rx))
			return false;
	return true;
}

/* Walks until the receive rings are empty, then takes what came out. The
 * worker on its lcore walks itself: once the rings are empty, the end of
 * its next grace period is the end of the walk that took their last. */
static void run_graph(uint64_t got[PORT_N])
{
	if (f.opt.churn_s) {
		while (!received_all())
			rte_pause();
		workers_synchronize();
	} else {
		do
			rte_graph_walk(f.graph);
		while (!received_all());
	}
	drain(got);
}

/* ---- The corpus alone: each frame where corpus.py says ---- */

static bool fate_met(char fate, const uint64_t got[PORT_N], uint64_t dropped)
{
	uint64_t total = got[0] + got[1] + got[2] + got[3] + dropped;

	if (fate == FATE_DECRYPTED)
		fate = fate_out[PORT_LAN];
	for (unsigned p = 0; p < PORT_N; p++)
		if (fate == fate_out[p])
			return got[p] >= 1 && got[p] == total;
	if (fate == FATE_DROPPED)
		return dropped == 1 && total == 1;
	return fate == FATE_HELD && total == 0;
}

/* An authentic frame reached esp-decrypt and passed its integrity check. */
static bool authentic(uint64_t decrypt_in, uint64_t icv_failed)
{
	return seen_of(NODE_ESP_DECRYPT)->in == decrypt_in + 1 &&
	       counter_total(ESPD_COUNTER_ESP_DEC_ICV) == icv_failed;
}

/* The ESN SAs of each direction, and of them those past 2^32. */
struct esn_seen {
	unsigned sas[2], crossed[2]; /* [0] inbound, [1] outbound */
	uint64_t packets;
};

static int esn_sa_seen(const struct sa *sa, void *arg)
{
	struct esn_seen *e = arg;
	bool out = sa->rt.dir == SA_DIR_OUT;
	uint64_t highest = out ? sa->out.last : replay_top(&sa->in.w);
	struct sa_counters sum;

	if (!(sa->rt.flags & SA_FLAG_ESN))
		return 0;
	sad_sa_counters(sa->rt.index, &sum);
	e->sas[out]++;
	e->crossed[out] += highest > UINT32_MAX && sum.packets > 0;
	e->packets += sum.packets;
	return 0;
}

/* The ESN SAs start just below 2^32, or 2^64 (network.c): after the
 * corpus, each one's highest sequence number is past 2^32, that of frames
 * whose high bits it inferred (inbound) or sent (outbound). */
static void esn_check(const char *when)
{
	struct esn_seen e = { 0 };

	sad_walk(esn_sa_seen, &e);
	result(e.sas[0] > 0 && e.sas[1] > 0 && e.crossed[0] == e.sas[0] &&
	       e.crossed[1] == e.sas[1], "the corpus takes the ESN SAs' sequence numbers past "
	       "2^32%s (inbound %u of %u, outbound %u of %u; %" PRIu64 " packets)", when,
	       e.crossed[0], e.sas[0], e.crossed[1], e.sas[1], e.packets);
}

/* when: "" or which pass this is. */
static void corpus_check(const char *when)
{
	unsigned wrong = 0, esp = 0, esp_ok = 0;

	for (unsigned i = 0; i < f.n_corpus; i++) {
		const struct corpus_frame *c = &f.corpus[i];
		uint64_t got[PORT_N] = { 0 }, drops = f.seen[f.drop_id].in;
		uint64_t decrypt_in = seen_of(NODE_ESP_DECRYPT)->in;
		uint64_t icv_failed = counter_total(ESPD_COUNTER_ESP_DEC_ICV);
		send_frame(c->port, c->data, c->len, 1);
		run_graph(got);
		bool ok = c->fate == FATE_AUTHENTIC
			? authentic(decrypt_in, icv_failed)
			: fate_met((char)c->fate, got, f.seen[f.drop_id].in - drops);
		esp += c->fate == FATE_DECRYPTED;
		esp_ok += c->fate == FATE_DECRYPTED && ok;
		if (!ok && wrong++ < 10)
			fprintf(stderr, "corpus frame %u (%u bytes, port %u): wanted '%c', got "
				"W %" PRIu64 " L %" PRIu64 " w %" PRIu64 " l %" PRIu64 " dropped %"
				PRIu64 "\n", i, c->len, c->port, c->fate, got[0], got[1], got[2],
				got[3], f.seen[f.drop_id].in - drops);
	}
	result(wrong == 0, "each of the %u corpus frames takes its expected path%s (%u did not)",
	       f.n_corpus, when, wrong);
	result(esp > 0 && esp_ok == esp, "every valid ESP frame is decrypted and forwarded%s "
	       "(%u of %u)", when, esp_ok, esp);
	esn_check(when);
}

/* ---- Fuzzing ---- */

static uint8_t frame_buf[FUZZ_FRAME_MAX];

/* A corpus frame for the router that is IPv4 ESP (or a fragment of it). */
static const struct corpus_frame *esp4_frame(void)
{
	const struct corpus_frame *c;

	do
		c = &f.corpus[rng_below(&f.rng, f.n_corpus)];
	while ((c->fate != FATE_DECRYPTED && c->fate != FATE_HELD) || c->data[12] != 0x08 ||
	       c->data[13] != 0x00);
	return c;
}

/* A corpus frame on its own port (one in 16 on the other device or TAP,
 * a device's frame to that port's MAC), in up to three segments. */
static void send_corpus(const struct corpus_frame *c, uint32_t len)
{
	unsigned port = rng_below(&f.rng, 16) ? c->port : c->port ^ 1;
	unsigned segments = rng_below(&f.rng, 16) ? 1 : 2 + rng_below(&f.rng, SEGMENTS_MAX - 1);

	if (rte_ring_count(f.ports[port].rx) >= PORT_BURST_MAX)
		port ^= 1;
	if (port != c->port && port <= PORT_LAN && len >= RTE_ETHER_ADDR_LEN)
		memcpy(frame_buf, port == PORT_WAN ? &fuzz_mac_wan : &fuzz_mac_lan,
		       RTE_ETHER_ADDR_LEN);
	send_frame(port, frame_buf, len, segments);
}

static void send_mutated(void)
{
	const struct corpus_frame *c = &f.corpus[rng_below(&f.rng, f.n_corpus)];
	uint32_t len = c->len;

	memcpy(frame_buf, c->data, len);
	f.mutations[mutate(&f.rng, frame_buf, &len)]++;
	send_corpus(c, len);
}

/*
 * A storm: walks of fragments of ESP to the router, of k made-up packets
 * dealt round-robin, each one's offsets in order, none the last. The
 * reassembly table holds up to librte_ip_frag's 8 fragments a packet and
 * gives a packet up, all its fragments at once, at one more: the second
 * walk gives up fragments held since the first.
 */
static void storm(void)
{
	unsigned k = 16 + rng_below(&f.rng, 48), walks = 2 + rng_below(&f.rng, 3);
	uint16_t base = (uint16_t)rng_next(&f.rng);
	uint64_t got[PORT_N] = { 0 };

	for (unsigned w = 0, i = 0; w < walks; w++) {
		for (unsigned j = 0; j < 2 * PORT_BURST_MAX; j++, i++) {
			const struct corpus_frame *c = esp4_frame();
			memcpy(frame_buf, c->data, c->len);
			mutate_fragment(frame_buf, c->len, (uint16_t)(base + i % k), (uint16_t)(i / k));
			f.mutations[MUT_FRAGMENT]++;
			send_corpus(c, c->len);
		}
		run_graph(got);
	}
}

/*
 * Bursts of a random size; one in 64 a storm of fragments. As espd's
 * control thread, the path MTUs icmp-too-big reports are applied now and
 * then (ESP toward the peer is then cut to them), and forgotten again.
 */
static void fuzz(void)
{
	uint64_t got[PORT_N] = { 0 };

	for (unsigned walk = 1; f.sent < f.opt.frames; walk++) {
		if (walk % 64 == 0)
			path_mtu_poll(sad_now_s());
		if (walk % 4096 == 0)
			path_mtu_flush();
		if (rng_below(&f.rng, 64) == 0) {
			storm();
			continue;
		}
		for (unsigned n = rng_below(&f.rng, PORT_BURST_MAX); n; n--)
			send_mutated();
		run_graph(got);
	}
}

/* ---- Churn: SAs and policies changed while a worker lcore runs ---- */

static void stalled(int sig)
{
	static const char msg[] = "FAIL: the churn test ends in its time (it did not: a change "
				  "waits for a grace period that never ends?)\n";
	ssize_t rc = write(STDOUT_FILENO, msg, sizeof(msg) - 1);

	(void)sig;
	(void)rc;
	_exit(1);
}

/* The worker on the next lcore, run as espd runs its workers (worker.c):
 * adaptive, offline for RCU while it naps when idle, as by default, or
 * polling; a watchdog for the whole run. */
static void worker_launch(void)
{
	unsigned lcore = rte_get_next_lcore(rte_get_main_lcore(), 1, 0);

	if (lcore >= RTE_MAX_LCORE)
		die("--churn needs a second lcore (EAL -l 0,1)");
	workers[0].lcore = lcore;
	signal(SIGALRM, stalled);
	alarm(4 * f.opt.churn_s + 60);
	if (workers_start(!f.opt.polling) < 0)
		die("worker not launched");
}

static unsigned waiting(void)
{
	unsigned n = 0;

	for (unsigned p = 0; p < PORT_N; p++)
		n += rte_ring_count(f.ports[p].rx);
	return n;
}

/* The receive rings topped up with the corpus in order, then what came
 * out taken; once the churn's time is up, only to the corpus' end (no
 * fragmented packet left in part). */
static void churn_traffic(void)
{
	uint64_t got[PORT_N] = { 0 };

	for (unsigned n = CHURN_IN_FLIGHT - waiting(); n > 0; n--) {
		const struct corpus_frame *c = &f.corpus[f.churn_next];
		if (f.churn_next == 0 && rte_get_timer_cycles() >= f.churn_end)
			break;
		send_frame(c->port, c->data, c->len, 1);
		f.churn_next = (f.churn_next + 1) % f.n_corpus;
	}
	drain(got);
}

static void counters_snapshot(uint64_t counts[ESPD_COUNTER_MAX])
{
	for (unsigned c = 0; c < ESPD_COUNTER_MAX; c++)
		counts[c] = counter_total(c);
}

/* A drop counter the corpus alone did not hit (before) must have a reason
 * in the churn. */
static void churn_drops_check(const uint64_t before[ESPD_COUNTER_MAX])
{
	char bad[512] = "";
	size_t at = 0;

	for (unsigned c = 0; c < ESPD_COUNTER_MAX; c++) {
		uint64_t during = counter_total(c) - before[c];
		if (!during || strcmp(counter_kind(c), "drop") || before[c] || churn_explains(c) ||
		    at >= sizeof(bad) - 128)
			continue;
		at += (size_t)snprintf(bad + at, sizeof(bad) - at, " [%s: %s] %" PRIu64,
				       counter_node(c), counter_text(c), during);
	}
	result(at == 0, "drops during the churn have reasons the corpus or the churn explains%s%s",
	       at ? "; not:" : "", bad);
}

static void churn_traffic_check(uint64_t decrypted)
{
	const struct churn_stats *st = &churn_stats;

	result(st->steps > 0 && st->failed == 0 && st->wan_esp > 0 && decrypted > 0,
	       "%" PRIu64 " steps of rekeys and deletes in %u s while the worker sent %" PRIu64
	       " ESP frames to the WAN and decrypted %" PRIu64 ": every one of the %" PRIu64
	       " `espctl ipsec` commands succeeded (%" PRIu64 " failed)", st->steps,
	       f.opt.churn_s, st->wan_esp, decrypted, st->commands, st->failed);
	result(st->clear == 0, "no plaintext of a protected selector left the WAN port "
	       "(%" PRIu64 " of %" PRIu64 " IP frames did)", st->clear, st->wan_ip);
	result(st->bad_spi == 0, "every ESP frame out of the WAN port carries the SPI of an "
	       "outbound SA of the run (%" PRIu64 " of %" PRIu64 " did not)", st->bad_spi,
	       st->wan_esp);
	result(st->wan_esp_whole > 0 && st->icv_bad == 0, "every whole ESP frame out of the WAN "
	       "port passes its ICV under its SA's keys (%" PRIu64 " of %" PRIu64 " did not)",
	       st->icv_bad, st->wan_esp_whole);
}

/* Once a grace period has passed since the last change, every SA removed
 * has been freed: after esp_crypto_destroy wiped its keys. */
static void churn_freed_check(void)
{
	const struct churn_stats *st = &churn_stats;

	workers_synchronize();
	sad_reclaim();
	result(st->freed == st->removed && st->freed_keyed == 0, "every SA removed is freed "
	       "once its grace period ends, its keys wiped (%" PRIu64 " removed, %" PRIu64
	       " freed, %" PRIu64 " with keys left)", st->removed, st->freed, st->freed_keyed);
}

static void churn_run(void)
{
	uint64_t before[ESPD_COUNTER_MAX], got[PORT_N] = { 0 };
	uint64_t decrypted = seen_of(NODE_ESP_DECRYPT)->out;

	counters_snapshot(before);
	f.churn_end = rte_get_timer_cycles() + f.opt.churn_s * rte_get_timer_hz();
	do
		churn_step();
	while (rte_get_timer_cycles() < f.churn_end || f.churn_next != 0);
	run_graph(got);
	churn_traffic_check(seen_of(NODE_ESP_DECRYPT)->out - decrypted);
	churn_drops_check(before);
	churn_final_state();
	churn_freed_check();
	rte_delay_ms(ICMP_REFILL_MS);
	corpus_check(" after the churn, its SAs and policies entered again");
}

/* ---- Accounting ---- */

/* Nodes that end packets (sent, freed or held) or make them (fragments,
 * redirects). */
static bool ends_or_makes(const char *name)
{
	return strcmp(name, NODE_PORT_INPUT) == 0 || strcmp(name, NODE_PORT_OUTPUT) == 0 ||
	       strcmp(name, NODE_DROP) == 0 || strcmp(name, NODE_IP_REASSEMBLE) == 0 ||
	       strcmp(name, NODE_IP_FRAGMENT) == 0 || strcmp(name, NODE_ICMP_REDIRECT) == 0;
}

static void nodes_check(void)
{
	char bad[512] = "";
	size_t at = 0;

	for (rte_node_t id = 0; id < NODES_MAX; id++) {
		const struct node_seen *s = &f.seen[id];
		const char *name = s->process ? rte_node_id_to_name(id) : NULL;
		if (name && !ends_or_makes(name) && s->in != s->out && at < sizeof(bad) - 64)
			at += (size_t)snprintf(bad + at, sizeof(bad) - at, " %s (%" PRIu64 " in, %"
					       PRIu64 " out)", name, s->in, s->out);
	}
	result(at == 0, "every packet into a node leaves it by an edge, but at the nodes that "
	       "end or make packets%s%s", at ? ":" : "", bad);
}

/* Frames in, and what was made, against what left, was dropped or held. */
static void frames_check(void)
{
	const struct node_seen *in = seen_of(NODE_PORT_INPUT), *out = seen_of(NODE_PORT_OUTPUT);
	const struct node_seen *frag = seen_of(NODE_IP_FRAGMENT), *reasm = seen_of(NODE_IP_REASSEMBLE);
	const struct node_seen *redirect = seen_of(NODE_ICMP_REDIRECT);
	uint64_t sent_out = f.out[0] + f.out[1] + f.out[2] + f.out[3];
	uint64_t tx_freed = counter_total(ESPD_COUNTER_TX_QUEUE_FULL) +
			    counter_total(ESPD_COUNTER_TX_NO_PORT);
	uint64_t dropped = f.seen[f.drop_id].in;
	int64_t made = (int64_t)frag->out - (int64_t)frag->in +
		       (int64_t)(redirect->out - redirect->in);
	uint64_t absorbed = reasm->in - reasm->out;

	result(in->out == f.sent && (int64_t)f.sent + made == (int64_t)(sent_out + dropped +
	       tx_freed + absorbed) && out->in == sent_out + tx_freed,
	       "every frame is accounted for: %" PRIu64 " in (%" PRIu64 " received) + %" PRId64
	       " made by ip-fragment and icmp-redirect = %" PRIu64 " out (ports %" PRIu64
	       ", TAPs %" PRIu64 ") + %" PRIu64 " dropped + %" PRIu64 " freed by port-output + %"
	       PRIu64 " taken by ip-reassemble", f.sent, in->out, made, sent_out,
	       f.out[0] + f.out[1], f.out[2] + f.out[3], dropped, tx_freed, absorbed);
}

/*
 * Drop counters count packets that end elsewhere too: port-output frees
 * what the queue refuses, the reassembly table gives fragments up, and the
 * four "espd answers" counters hand the packet to icmp-error, which turns
 * it into the answer.
 */
static bool drop_elsewhere(enum espd_counter c)
{
	return c == ESPD_COUNTER_TX_QUEUE_FULL || c == ESPD_COUNTER_TX_NO_PORT ||
	       c == ESPD_COUNTER_IP_REASSEMBLE_DROPPED || c == ESPD_COUNTER_IP_TTL_ICMP ||
	       c == ESPD_COUNTER_IP_MTU_ICMP || c == ESPD_COUNTER_ESP_ENC_TTL_ICMP ||
	       c == ESPD_COUNTER_ESP_ENC_MTU_ICMP;
}

static void drops_check(void)
{
	uint64_t answered = counter_total(ESPD_COUNTER_IP_TTL_ICMP) +
			    counter_total(ESPD_COUNTER_IP_MTU_ICMP) +
			    counter_total(ESPD_COUNTER_ESP_ENC_TTL_ICMP) +
			    counter_total(ESPD_COUNTER_ESP_ENC_MTU_ICMP);
	uint64_t counted = 0;
	unsigned differ = 0;

	for (unsigned c = 0; c < ESPD_COUNTER_MAX; c++) {
		uint64_t want = drop_elsewhere(c) || strcmp(counter_kind(c), "drop") ? 0
			: counter_total(c);
		counted += want;
		if (f.drop_why[c] == want)
			continue;
		if (differ++ < 5)
			fprintf(stderr, "%s: %s: counted %" PRIu64 ", at the drop node %" PRIu64 "\n",
				counter_node(c), counter_text(c), want, f.drop_why[c]);
	}
	result(f.drop_why[ESPD_COUNTER_MAX] == 0, "the drop node never gets a packet without a "
	       "reason (%" PRIu64 " did)", f.drop_why[ESPD_COUNTER_MAX]);
	result(differ == 0 && counted == f.seen[f.drop_id].in &&
	       seen_of(NODE_ICMP_ERROR)->in == answered,
	       "the named drop counters equal the packets dropped, counter by counter (%" PRIu64
	       " counted for the drop node, %" PRIu64 " got there, %u counters differ; %" PRIu64
	       " answered by icmp-error)", counted, f.seen[f.drop_id].in, differ, answered);
}

static unsigned counters_hit(void)
{
	unsigned hit = 0;

	for (unsigned c = 0; c < ESPD_COUNTER_MAX; c++)
		hit += counter_total(c) > 0;
	return hit;
}

/* Every pool full once the rings are drained and the reassembly table,
 * with the fragments it holds, is gone. */
static void mbufs_check(void)
{
	struct rte_mempool *whole = rte_mempool_lookup(REASSEMBLED_POOL);
	unsigned whole_free = whole ? rte_mempool_avail_count(whole) : 0;
	uint64_t got[PORT_N] = { 0 };

	run_graph(got);
	if (f.opt.churn_s)
		workers_stop(); /* and its reassembly table with it */
	else
		ip_reassemble_destroy(0);
	result(rte_mempool_avail_count(f.small) == SMALL_MBUFS &&
	       rte_mempool_avail_count(f.large) == LARGE_MBUFS && whole_free == REASSEMBLED_MBUFS,
	       "no mbuf is lost: pools full again (%u of %u, %u of %u, reassembly's %u of %u)",
	       rte_mempool_avail_count(f.small), SMALL_MBUFS, rte_mempool_avail_count(f.large),
	       LARGE_MBUFS, whole_free, REASSEMBLED_MBUFS);
}

/* ---- Main ---- */

static __rte_noreturn void usage(void)
{
	fprintf(stderr, "usage: graph_fuzz [EAL args] -- --corpus FILE [--seed N] [--frames N] "
		"[--counters-min N] [--churn SECONDS [--rx-mode adaptive|polling]]\n");
	exit(2);
}

static void options_parse(int argc, char **argv)
{
	struct options *o = &f.opt;

	*o = (struct options){ .seed = (uint64_t)time(NULL), .frames = 200000 };
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *a = argv[i], *v = argv[i + 1];
		if (strcmp(a, "--corpus") == 0)
			o->corpus = v;
		else if (strcmp(a, "--seed") == 0)
			o->seed = strtoull(v, NULL, 0);
		else if (strcmp(a, "--frames") == 0)
			o->frames = strtoull(v, NULL, 0);
		else if (strcmp(a, "--counters-min") == 0)
			o->counters_min = (unsigned)atoi(v);
		else if (strcmp(a, "--churn") == 0)
			o->churn_s = (unsigned)atoi(v);
		else if (strcmp(a, "--rx-mode") == 0 && strcmp(v, "adaptive") == 0)
			o->polling = false;
		else if (strcmp(a, "--rx-mode") == 0 && strcmp(v, "polling") == 0)
			o->polling = true;
		else
			usage();
	}
	if (!o->corpus || argc % 2 == 0)
		usage();
}

static void summary_print(void)
{
	static const char *const names[MUT_N] = {
		"none", "bit-flip", "bytes", "field", "cut-boundary", "cut-random", "shrink-ip",
		"extend", "fragment", "empty", "maximal",
	};

	if (!f.opt.churn_s) {
		printf("frames per mutation:");
		for (unsigned m = 0; m < MUT_N; m++)
			printf(" %s %" PRIu64, names[m], f.mutations[m]);
		printf("\n");
	}
	printf("counters hit:");
	for (unsigned c = 0; c < ESPD_COUNTER_MAX; c++)
		if (counter_total(c))
			printf(" [%s: %s] %" PRIu64, counter_node(c), counter_text(c), counter_total(c));
	printf("\n");
}

int main(int argc, char **argv)
{
	int consumed = rte_eal_init(argc, argv);
	uint64_t corpus_sent;

	if (consumed < 0)
		die("EAL not initialised");
	argv[consumed] = argv[0];
	options_parse(argc - consumed, argv + consumed);
	if (f.opt.churn_s)
		printf("graph_fuzz: the corpus, %u s of churn, the worker %s\n", f.opt.churn_s,
		       f.opt.polling ? "polling" : "adaptive");
	else
		printf("graph_fuzz: seed %" PRIu64 " (replay with --seed %" PRIu64 "), %" PRIu64
		       " frames\n", f.opt.seed, f.opt.seed, f.opt.frames);
	fflush(stdout);
	f.rng.state = f.opt.seed;
	f.small = rte_pktmbuf_pool_create("fuzz_small", SMALL_MBUFS, 0, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	f.large = rte_pktmbuf_pool_create("fuzz_large", LARGE_MBUFS, 0, 0,
					  RTE_PKTMBUF_HEADROOM + FUZZ_FRAME_MAX, SOCKET_ID_ANY);
	if (!f.small || !f.large)
		die("no mbuf pools");
	corpus_load();
	f.graph = fuzz_network_setup(f.ports, f.small);
	observe_install();
	if (f.opt.churn_s) {
		churn_init(churn_traffic);
		worker_launch();
	}
	corpus_check("");
	corpus_sent = f.sent;
	if (f.opt.churn_s)
		churn_run();
	else
		fuzz();
	summary_print();
	mbufs_check();
	if (f.opt.churn_s)
		result(true, "espd's graph survived %" PRIu64 " frames on a worker lcore while its "
		       "SAs and policies changed %" PRIu64 " times", f.sent, churn_stats.commands);
	else
		result(true, "espd's graph survived %" PRIu64 " frames (%" PRIu64 " damaged or "
		       "whole, seed %" PRIu64 ") and let its reassembly table go", f.sent,
		       f.sent - corpus_sent, f.opt.seed);
	nodes_check();
	frames_check();
	drops_check();
	result(f.malformed_out == 0, "every frame out of the ports is well-formed IP within the "
	       "link's MTU (%" PRIu64 " were not)", f.malformed_out);
	if (!f.opt.churn_s)
		result(counters_hit() >= f.opt.counters_min, "%u named counters hit (at least %u "
		       "wanted)", counters_hit(), f.opt.counters_min);
	return f.failed ? 1 : 0;
}
