/*
 * ESP benchmark: espd's whole ESP path on one worker core, on pre-built
 * packets between two DPDK ring ports, for AES-128/256-CBC + HMAC-SHA-256-128,
 * AES-128/256-GCM and ChaCha20-Poly1305, at 64, 512 and 1400 byte frames
 * and IMIX (7 x 64, 4 x 576, 1 x 1400), both directions of a tunnel gateway:
 *
 *   encrypt  LAN port A: 10.1.0.2 -> 10.2.0.2 matches the out policy, ESP
 *            tunnel 192.0.2.1 -> 192.0.2.2, out of WAN port B
 *   decrypt  WAN port B: ESP 192.0.2.2 -> 192.0.2.1 (the router's address,
 *            a FIB local route), inner 10.2.0.2 -> 10.1.0.2 passes the fwd
 *            policy check and leaves through LAN port A
 *
 * SAs and policies go through sad_sa_add, spd_policy_add and spd_commit as
 * `espctl ipsec sa|policy add` fills them, with the out, in and fwd
 * policies an IKE daemon installs for such a tunnel. The inbound SA has
 * replay window 0, which means no replay check (as in the kernel), so the
 * same packets may come back round after round.
 *
 * In the same run, on the same mbufs, taking turns round by round:
 *   ceiling    raw intel-ipsec-mb alone with each manager (SSE, AVX2,
 *              AVX-512): one job per packet with its fields set directly
 *              (nonce and AAD precomputed), submitted without checks, one
 *              flush per burst of as many packets as a walk receives; for
 *              AES-GCM also the direct calls, no job (as espd runs it).
 *              The best one's median is the ceiling; where the direct
 *              calls set it, the best through jobs is given under the row.
 *   rte_ipsec  DPDK's librte_ipsec, CPU crypto on the crypto_aesni_mb PMD:
 *              rte_ipsec_pkt_cpu_prepare + rte_ipsec_pkt_process per burst,
 *              the ESP transform alone (no ports, policies or routing).
 *
 * espd's time is rte_graph_walk alone: ring port receive and transmit and
 * every node; the ESP node column is esp-encrypt or esp-decrypt alone, from
 * the graph's statistics, to set against rte_ipsec's transform. Not timed, for every variant: putting packets back for the
 * next pass (a copy of the original frame into each mbuf that came out).
 * The ceiling does no IV generation, ICV comparison, padding or header
 * work. Mpps and Gbps count plaintext frames (Ethernet header, no FCS);
 * cycles are TSC cycles per packet. Figures are medians over rounds; ratios
 * are medians of per-round ratios. Run pinned: bench/run-esp.sh.
 *
 * Usage: bench_esp [EAL args] -- [--suite NAME] [--size 64|512|1400|imix]
 *   [--dir enc|dec] [--rounds N] [--window-ms N] [--burst N] [--nodes]
 *   [--espd-only] [--no-rte-ipsec] [--policies N]
 *   --burst      packets per burst of the ceiling and rte_ipsec (default: as
 *                many as a walk of espd's graph receives)
 *   --nodes      also each graph node's share of espd's cycles per packet
 *   --espd-only  measure espd alone (for profiling)
 *   --policies   policies per direction (default 1): the others, of other
 *                site pairs (other tunnels), match none of the packets;
 *                above SPD_SCAN_MAX the SPD is searched with rte_acl
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <rte_bus_vdev.h>
#include <rte_cryptodev.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_ipsec.h>
#include <rte_malloc.h>
#include <rte_memcpy.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_udp.h>
#include <rte_version.h>

#include "esp/crypto.h"
#include "graph/worker.h"
#include "bench_ports.h"
#include "raw_job.h"
#include "tables/fib.h"
#include "tables/iface.h"
#include "tables/neigh.h"
#include "tables/sad.h"
#include "tables/spd.h"

#define RING_SIZE BENCH_RING_SIZE
#define IN_FLIGHT 1024
#define BURST_MAX 256
#define FRAME_MAX 1792
#define ETH_LEN 14
#define IP4_LEN 20
#define ESP_OFF (ETH_LEN + IP4_LEN)
#define ROUNDS_MAX 15
#define NODES_MAX 64

/* Addresses, host order. */
#define LAN_HOST RTE_IPV4(10, 1, 0, 2)
#define REMOTE_HOST RTE_IPV4(10, 2, 0, 2)
#define ROUTER RTE_IPV4(192, 0, 2, 1)
#define PEER RTE_IPV4(192, 0, 2, 2)
#define SPI_OUT 0x1000
#define SPI_IN 0x2000
#define REQID_OUT 1
#define REQID_IN 2
#define POLICIES_MAX 1000 /* per direction */

static const struct rte_ether_addr mac_lan = { { 0x02, 0, 0, 0, 0, 0x0a } };
static const struct rte_ether_addr mac_wan = { { 0x02, 0, 0, 0, 0, 0x0b } };
static const struct rte_ether_addr mac_host = { { 0x02, 0, 0, 0, 0, 0x22 } };
static const struct rte_ether_addr mac_peer = { { 0x02, 0, 0, 0, 0, 0x33 } };

struct suite {
	const char *name;
	const char *enc, *aead;    /* kernel names; auth is hmac(sha256) with enc */
	unsigned key_bits;         /* salt included */
	enum rte_crypto_aead_algorithm rte_aead;
};

static const struct suite suites[] = {
	{ "aes128-cbc-sha256", "cbc(aes)", NULL, 128, 0 },
	{ "aes256-cbc-sha256", "cbc(aes)", NULL, 256, 0 },
	{ "aes128-gcm", NULL, "rfc4106(gcm(aes))", 160, RTE_CRYPTO_AEAD_AES_GCM },
	{ "aes256-gcm", NULL, "rfc4106(gcm(aes))", 288, RTE_CRYPTO_AEAD_AES_GCM },
	{ "chacha20-poly1305", NULL, "rfc7539esp(chacha20,poly1305)", 288,
	  RTE_CRYPTO_AEAD_CHACHA20_POLY1305 },
};

static const uint16_t imix[12] = { 64, 576, 64, 64, 576, 64, 1400, 64, 576, 64, 64, 576 };
static const uint16_t sizes[] = { 64, 512, 1400, 0 /* IMIX */ };

/* What is measured, one column group each. */
enum variant {
	V_ESPD,
	V_RAW_SSE,
	V_RAW_AVX2,
	V_RAW_AVX512,
	V_RAW_DIRECT, /* AES-GCM: the AVX-512 manager's direct calls, no job */
	V_RTE,
	V_N,
};

/* One packet size of a row, in every form the variants need. */
struct frame {
	uint8_t enc_in[FRAME_MAX];  /* plaintext at the LAN port */
	uint8_t dec_in[FRAME_MAX];  /* ESP at the WAN port */
	uint8_t dec_out[FRAME_MAX]; /* the inner packet of dec_in, as sent on the LAN */
	uint16_t len;               /* plaintext frame */
	uint16_t esp_len;           /* ESP frame */
	uint32_t cipher_len;        /* payload + padding + trailer */
	uint8_t nonce[16], aad[16]; /* for the raw jobs */
} __rte_cache_aligned;

struct node_stat {
	uint64_t cycles, calls, objs;
};

struct options {
	const char *suite;
	int size;  /* -1: all */
	int dir;   /* -1: both; 1 encrypt, 0 decrypt */
	unsigned rounds, window_ms, burst; /* burst 0: a walk's */
	unsigned policies; /* per direction */
	bool nodes, espd_only, no_rte;
};

struct bench {
	struct options opt;
	struct rte_mempool *pool;
	struct ring_port lan, wan, tap_lan, tap_wan;
	struct worker *worker;
	bool have_esp_nodes;
	unsigned walk;  /* packets a walk receives */
	unsigned burst; /* packets per burst of the ceiling and rte_ipsec */
	double tsc_hz;
	uint64_t window; /* timed TSC cycles per measurement */

	struct rte_mbuf *mbufs[IN_FLIGHT];
	uint8_t *esp[IN_FLIGHT];   /* ESP header in each mbuf holding dec_in */
	uint8_t cls[IN_FLIGHT];    /* frame each slot carries */
	struct raw_packet raw[IN_FLIGHT]; /* each slot's ESP frame for the ceiling */
	struct gcm_context_data gcm_ctx;  /* the direct GCM calls' state */
	struct frame *frames;      /* per class */
	unsigned n_cls;
	double frame_bytes;        /* mean plaintext frame */

	/* Crypto of the bench itself: building and checking packets, raw jobs. */
	struct esp_crypto_worker *cw;
	IMB_MGR *mgr[ESP_CRYPTO_ARCH_N];
	struct esp_crypto *ctx[ESP_CRYPTO_ARCH_N]; /* [AUTO]: the SAs' choice */
	uint8_t tag[BURST_MAX][ESP_CRYPTO_ICV_MAX];

	/* librte_ipsec */
	int cdev;                  /* -1: none */
	struct rte_mempool *sess_pool;
	void *sess[2];             /* [1] outbound, [0] inbound */
	struct rte_ipsec_sa *rsa[2];
	struct rte_ipsec_session ss[2];
	bool rte_ok;
	const char *rte_why;

	/* Per row, summed over espd windows. */
	struct node_stat nodes[NODES_MAX];
	uint64_t node_packets, walk_cycles;
	uint64_t errors;
};

static struct bench b;

/* ---- Set-up of espd ---- */

/* The gateway: LAN 10.1.0.0/24 on A, WAN 192.0.2.0/24 on B, the remote
 * LAN 10.2.0.0/24 behind the peer 192.0.2.2. */
static void network_setup(void)
{
	uint16_t lan = bench_iface_setup("bench-lan", &mac_lan, &b.lan, &b.tap_lan);
	uint16_t wan = bench_iface_setup("bench-wan", &mac_wan, &b.wan, &b.tap_wan);

	bench_route_add("10.1.0.1/32", NEXTHOP_LOCAL, lan, NULL);
	bench_route_add("192.0.2.1/32", NEXTHOP_LOCAL, wan, NULL);
	bench_route_add("10.1.0.0/24", NEXTHOP_FORWARD, lan, NULL);
	bench_route_add("192.0.2.0/24", NEXTHOP_FORWARD, wan, NULL);
	bench_route_add("10.2.0.0/24", NEXTHOP_FORWARD, wan, "192.0.2.2");
	bench_neighbor_add(lan, "10.1.0.2", &mac_host);
	bench_neighbor_add(wan, "192.0.2.2", &mac_peer);
}

static void espd_setup(void)
{
	struct rte_rcu_qsbr *rcu = rte_zmalloc("rcu", rte_rcu_qsbr_get_memsize(1), 64);

	if (!rcu || rte_rcu_qsbr_init(rcu, 1) != 0)
		exit(1);
	iface_table_init();
	if (fib_init(rcu, 1024) < 0 || neigh_init(rcu, 1024) < 0 || sad_init(rcu, 64, 1) < 0 ||
	    spd_init(rcu, 3 * POLICIES_MAX) < 0 || pkt_meta_register() < 0) {
		fprintf(stderr, "bench: tables not created\n");
		exit(1);
	}
	ring_port_create("ring_lan", &b.lan, b.pool);
	ring_port_create("ring_wan", &b.wan, b.pool);
	ring_port_create("ring_tap_lan", &b.tap_lan, b.pool);
	ring_port_create("ring_tap_wan", &b.tap_wan, b.pool);
	network_setup();
	if (workers_create(1, rcu) < 0) {
		fprintf(stderr, "bench: worker graph not created\n");
		exit(1);
	}
	b.worker = &workers[0];
	if (!b.worker->crypto && esp_crypto_worker_create(&b.worker->crypto) != 0) {
		fprintf(stderr, "bench: no crypto for the worker\n");
		exit(1);
	}
	b.have_esp_nodes = rte_node_from_name(NODE_ESP_ENCRYPT) != RTE_NODE_ID_INVALID &&
			   rte_node_from_name(NODE_ESP_DECRYPT) != RTE_NODE_ID_INVALID &&
			   rte_graph_node_get_by_name(b.worker->graph->name, NODE_ESP_ENCRYPT);
}

/* ---- SAs and policies, as the CLI adds them ---- */

static void sa_params_fill(struct sa_params *p, const struct suite *s, bool out)
{
	memset(p, 0, sizeof(*p));
	ip_addr_parse(out ? "192.0.2.2" : "192.0.2.1", &p->id.dst);
	ip_addr_parse(out ? "192.0.2.1" : "192.0.2.2", &p->src);
	p->id.spi = out ? SPI_OUT : SPI_IN;
	p->id.proto = IPPROTO_ESP;
	p->reqid = out ? REQID_OUT : REQID_IN;
	p->mode = SA_MODE_TUNNEL;
	p->origin = IPSEC_ORIGIN_CLI;
	p->engine = ESP_CRYPTO_ENGINE_IPSECMB;
	p->lifetime = (struct sa_lifetime)SA_LIFETIME_NONE;
	if (s->aead) {
		p->aead = (struct sa_alg_params){ s->aead, raw_key, (uint16_t)s->key_bits, 128 };
	} else {
		p->enc = (struct sa_alg_params){ s->enc, raw_key, (uint16_t)s->key_bits, 0 };
		p->auth = (struct sa_alg_params){ "hmac(sha256)", raw_key, 256, 128 };
	}
}

/* The policy of the benchmark's tunnel (other 0), or of another site pair's:
 * 172.16.x.0/24 <-> 172.20.x.0/24 and on, which no packet here comes from or
 * goes to. */
static void policy_fill(struct spd_policy_params *p, uint8_t dir, bool to_remote, unsigned other)
{
	struct spd_tmpl *t = &p->tmpl[0];
	char near[32], far[32];

	memset(p, 0, sizeof(*p));
	p->dir = dir;
	p->action = SPD_ACTION_ALLOW;
	p->origin = IPSEC_ORIGIN_CLI;
	p->n_tmpl = 1;
	snprintf(near, sizeof(near), other ? "172.%u.%u.0/24" : "10.1.0.0/24", 16 + other / 256,
		 other % 256);
	snprintf(far, sizeof(far), other ? "172.%u.%u.0/24" : "10.2.0.0/24", 20 + other / 256,
		 other % 256);
	ip_prefix_parse(to_remote ? near : far, &p->sel.src);
	ip_prefix_parse(to_remote ? far : near, &p->sel.dst);
	p->sel.family = AF_INET;
	t->proto = IPPROTO_ESP;
	t->mode = SA_MODE_TUNNEL;
	t->reqid = (to_remote ? REQID_OUT : REQID_IN) + 2 * other;
	ip_addr_parse(to_remote ? "192.0.2.1" : "192.0.2.2", &t->src);
	ip_addr_parse(to_remote ? "192.0.2.2" : "192.0.2.1", &t->dst);
}

static const uint8_t policy_dirs[3] = { SPD_DIR_OUT, SPD_DIR_IN, SPD_DIR_FWD };

static void ipsec_setup(const struct suite *s)
{
	struct spd_policy_params pol;
	struct sa_params p;
	uint32_t index[2];
	int rc = 0;

	for (int out = 0; out < 2 && rc == 0; out++) {
		sa_params_fill(&p, s, out);
		rc = sad_sa_add(&p, &index[out]);
	}
	for (unsigned k = 0; k < 3 * b.opt.policies && rc == 0; k++) {
		policy_fill(&pol, policy_dirs[k % 3], policy_dirs[k % 3] == SPD_DIR_OUT, k / 3);
		rc = spd_policy_add(&pol);
	}
	if (rc == 0)
		rc = spd_commit();
	if (rc != 0) {
		fprintf(stderr, "bench: %s: SA or policy not added: %s\n", s->name, strerror(-rc));
		exit(1);
	}
	for (int out = 0; out < 2; out++) {
		const struct sa *sa = sad_sa(index[out]);
		if (!sa_ready(sa, out ? SA_DIR_OUT : SA_DIR_IN)) {
			fprintf(stderr, "bench: %s: SA %s is not offloaded (direction %s, state %s)\n",
				s->name, out ? "out" : "in", format_sa_dir(sa->rt.dir),
				format_sa_state(sa->rt.state));
			exit(1);
		}
	}
}

static void ipsec_teardown(const struct suite *s)
{
	struct spd_policy_params pol;
	struct sa_params p;

	for (unsigned k = 0; k < 3 * b.opt.policies; k++) {
		policy_fill(&pol, policy_dirs[k % 3], policy_dirs[k % 3] == SPD_DIR_OUT, k / 3);
		spd_policy_del(&pol);
	}
	for (int out = 0; out < 2; out++) {
		sa_params_fill(&p, s, out);
		sad_sa_del(&p.id);
	}
	spd_commit();
	sad_reclaim();
}

/* ---- The bench's own crypto: raw managers and contexts ---- */

static void managers_create(void)
{
	if (esp_crypto_worker_create(&b.cw) != 0) {
		fprintf(stderr, "bench: no usable intel-ipsec-mb manager\n");
		exit(1);
	}
	for (int a = ESP_CRYPTO_ARCH_SSE; a < ESP_CRYPTO_ARCH_N; a++) {
		b.mgr[a] = alloc_mb_mgr(0);
		if (!b.mgr[a])
			continue;
		if (a == ESP_CRYPTO_ARCH_SSE)
			init_mb_mgr_sse(b.mgr[a]);
		else if (a == ESP_CRYPTO_ARCH_AVX2)
			init_mb_mgr_avx2(b.mgr[a]);
		else
			init_mb_mgr_avx512(b.mgr[a]);
		if (imb_get_errno(b.mgr[a]) != 0) {
			free_mb_mgr(b.mgr[a]);
			b.mgr[a] = NULL;
		}
	}
}

static void contexts_create(const struct suite *s)
{
	for (int a = 0; a < ESP_CRYPTO_ARCH_N; a++) {
		b.ctx[a] = aligned_alloc(64, sizeof(*b.ctx[a]));
		if (b.ctx[a] && raw_sa_make(b.ctx[a], s->aead, s->enc, "hmac(sha256)", s->key_bits, 128, a) != 0) {
			free(b.ctx[a]);
			b.ctx[a] = NULL;
		}
	}
	if (!b.ctx[ESP_CRYPTO_ARCH_AUTO]) {
		fprintf(stderr, "bench: %s: crypto context not created\n", s->name);
		exit(1);
	}
}

static void contexts_destroy(void)
{
	for (int a = 0; a < ESP_CRYPTO_ARCH_N; a++) {
		if (b.ctx[a])
			esp_crypto_destroy(b.ctx[a]);
		free(b.ctx[a]);
		b.ctx[a] = NULL;
	}
}

/* ---- librte_ipsec on the crypto_aesni_mb PMD (CPU crypto) ---- */

static void rte_ipsec_dev_setup(void)
{
	struct rte_cryptodev_info info;
	struct rte_cryptodev_config conf = { .socket_id = (int)rte_socket_id(), .nb_queue_pairs = 1 };
	struct rte_cryptodev_qp_conf qp = { .nb_descriptors = 128 };

	b.cdev = -1;
	b.rte_why = "crypto_aesni_mb PMD not available";
	if (rte_vdev_init("crypto_aesni_mb_bench", NULL) != 0)
		return;
	int dev = rte_cryptodev_get_dev_id("crypto_aesni_mb_bench");
	if (dev < 0)
		return;
	rte_cryptodev_info_get((uint8_t)dev, &info);
	b.rte_why = "crypto_aesni_mb has no CPU crypto";
	if (!(info.feature_flags & RTE_CRYPTODEV_FF_SYM_CPU_CRYPTO))
		return;
	b.sess_pool = rte_cryptodev_sym_session_pool_create("bench_sess", 16,
		rte_cryptodev_sym_get_private_session_size((uint8_t)dev), 0, 0, SOCKET_ID_ANY);
	qp.mp_session = b.sess_pool;
	b.rte_why = "crypto_aesni_mb did not start";
	if (!b.sess_pool || rte_cryptodev_configure((uint8_t)dev, &conf) != 0 ||
	    rte_cryptodev_queue_pair_setup((uint8_t)dev, 0, &qp, conf.socket_id) != 0 ||
	    rte_cryptodev_start((uint8_t)dev) != 0)
		return;
	b.cdev = dev;
	b.rte_why = NULL;
}

/* Crypto transforms of ipsec-secgw: cipher then auth out, auth then cipher in. */
static void rte_xforms_fill(const struct suite *s, bool out, struct rte_crypto_sym_xform x[2])
{
	memset(x, 0, 2 * sizeof(x[0]));
	if (s->aead) {
		x[0].type = RTE_CRYPTO_SYM_XFORM_AEAD;
		x[0].aead = (struct rte_crypto_aead_xform){
			.op = out ? RTE_CRYPTO_AEAD_OP_ENCRYPT : RTE_CRYPTO_AEAD_OP_DECRYPT,
			.algo = s->rte_aead,
			.key = { raw_key, (uint16_t)(s->key_bits / 8 - 4) },
			.iv = { 0, 12 },
			.digest_length = 16,
			.aad_length = 8,
		};
		return;
	}
	struct rte_crypto_sym_xform *cipher = &x[out ? 0 : 1], *auth = &x[out ? 1 : 0];
	cipher->type = RTE_CRYPTO_SYM_XFORM_CIPHER;
	cipher->cipher = (struct rte_crypto_cipher_xform){
		.op = out ? RTE_CRYPTO_CIPHER_OP_ENCRYPT : RTE_CRYPTO_CIPHER_OP_DECRYPT,
		.algo = RTE_CRYPTO_CIPHER_AES_CBC,
		.key = { raw_key, (uint16_t)(s->key_bits / 8) },
		.iv = { 0, 16 },
	};
	auth->type = RTE_CRYPTO_SYM_XFORM_AUTH;
	auth->auth = (struct rte_crypto_auth_xform){
		.op = out ? RTE_CRYPTO_AUTH_OP_GENERATE : RTE_CRYPTO_AUTH_OP_VERIFY,
		.algo = RTE_CRYPTO_AUTH_SHA256_HMAC,
		.key = { raw_key, 32 },
		.digest_length = 16,
	};
	x[0].next = &x[1];
}

static void eth_write(uint8_t *frame, const struct rte_ether_addr *dst,
		      const struct rte_ether_addr *src);
static void ip4_write(uint8_t *l3, uint16_t len, uint32_t src, uint32_t dst, uint8_t proto);

/* The outer Ethernet + IPv4 header librte_ipsec puts in front (tun.hdr). */
static uint8_t rte_tun_hdr[ESP_OFF];

static const char *rte_session_make(const struct suite *s, bool out)
{
	struct rte_crypto_sym_xform x[2];
	struct rte_ipsec_sa_prm prm = {
		.ipsec_xform = {
			.spi = out ? SPI_OUT : SPI_IN,
			.direction = out ? RTE_SECURITY_IPSEC_SA_DIR_EGRESS
					 : RTE_SECURITY_IPSEC_SA_DIR_INGRESS,
			.proto = RTE_SECURITY_IPSEC_SA_PROTO_ESP,
			.mode = RTE_SECURITY_IPSEC_SA_MODE_TUNNEL,
			.tunnel = { .type = RTE_SECURITY_IPSEC_TUNNEL_IPV4 },
			.replay_win_sz = 0,
		},
		.crypto_xform = x,
		.tun = { .hdr_len = out ? ESP_OFF : 0, .hdr_l3_off = ETH_LEN,
			 .next_proto = IPPROTO_IPIP, .hdr = out ? rte_tun_hdr : NULL },
	};

	eth_write(rte_tun_hdr, &mac_peer, &mac_wan);
	ip4_write(rte_tun_hdr + ETH_LEN, IP4_LEN, ROUTER, PEER, IPPROTO_ESP);
	if (s->aead)
		memcpy(&prm.ipsec_xform.salt, raw_key + s->key_bits / 8 - 4, 4);
	rte_xforms_fill(s, out, x);
	b.sess[out] = rte_cryptodev_sym_session_create((uint8_t)b.cdev, x, b.sess_pool);
	if (!b.sess[out])
		return "crypto_aesni_mb refused the session";
	int size = rte_ipsec_sa_size(&prm);
	if (size < 0)
		return "librte_ipsec refused the SA";
	b.rsa[out] = rte_zmalloc("rte_ipsec_sa", (size_t)size, RTE_CACHE_LINE_SIZE);
	if (!b.rsa[out] || rte_ipsec_sa_init(b.rsa[out], &prm, (uint32_t)size) < 0)
		return "librte_ipsec refused the SA";
	b.ss[out] = (struct rte_ipsec_session){
		.sa = b.rsa[out],
		.type = RTE_SECURITY_ACTION_TYPE_CPU_CRYPTO,
		.crypto = { .ses = b.sess[out], .dev_id = (uint8_t)b.cdev },
	};
	return rte_ipsec_session_prepare(&b.ss[out]) == 0 ? NULL : "no CPU crypto session";
}

static void rte_sessions_create(const struct suite *s)
{
	const char *why = NULL;

	b.rte_ok = false;
	if (b.cdev < 0 || b.opt.espd_only || b.opt.no_rte)
		return;
	for (int out = 0; out < 2 && !why; out++)
		why = rte_session_make(s, out);
	b.rte_ok = !why;
	if (why)
		printf("%-18s rte_ipsec not measured: %s\n", s->name, why);
}

static void rte_sessions_destroy(void)
{
	for (int out = 0; out < 2; out++) {
		if (b.rsa[out])
			rte_ipsec_sa_fini(b.rsa[out]);
		rte_free(b.rsa[out]);
		b.rsa[out] = NULL;
		if (b.sess[out])
			rte_cryptodev_sym_session_free((uint8_t)b.cdev, b.sess[out]);
		b.sess[out] = NULL;
	}
}

/* ---- Packets ---- */

static void eth_write(uint8_t *frame, const struct rte_ether_addr *dst,
		      const struct rte_ether_addr *src)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)frame;

	eth->dst_addr = *dst;
	eth->src_addr = *src;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
}

static void ip4_write(uint8_t *l3, uint16_t len, uint32_t src, uint32_t dst, uint8_t proto)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)l3;

	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16(len);
	ip->time_to_live = 64;
	ip->next_proto_id = proto;
	ip->src_addr = rte_cpu_to_be_32(src);
	ip->dst_addr = rte_cpu_to_be_32(dst);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
}

/* IPv4/UDP packet of len bytes, the payload a pattern. */
static void ip4_udp_write(uint8_t *l3, uint16_t len, uint32_t src, uint32_t dst)
{
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(l3 + IP4_LEN);

	ip4_write(l3, len, src, dst, IPPROTO_UDP);
	udp->src_port = rte_cpu_to_be_16(1024);
	udp->dst_port = rte_cpu_to_be_16(9);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(len - IP4_LEN));
	udp->dgram_cksum = 0;
	for (unsigned i = IP4_LEN + sizeof(*udp); i < len; i++)
		l3[i] = (uint8_t)(i * 7 + 3);
}

/* The ESP frame the peer sends for a plaintext frame of f->len bytes,
 * encrypted under the inbound SA's keys by the bench's own engine. */
static void esp_frame_build(struct frame *f)
{
	struct esp_crypto *ctx = b.ctx[ESP_CRYPTO_ARCH_AUTO];
	uint16_t inner_len = (uint16_t)(f->len - ETH_LEN);
	uint32_t align = RTE_MAX(ctx->block_size, 4u);
	uint32_t pad = (align - (inner_len + 2u) % align) % align;
	uint8_t *esp = f->dec_in + ESP_OFF, *payload = esp + ctx->hdr_len;
	struct esp_crypto_op op = { .sa = ctx, .esp = esp }, *ops = &op;
	uint32_t seq = rte_cpu_to_be_32(1), spi = rte_cpu_to_be_32(SPI_IN);

	f->cipher_len = inner_len + pad + 2;
	f->esp_len = (uint16_t)(ESP_OFF + ctx->hdr_len + f->cipher_len + ctx->icv_len);
	if (f->esp_len > FRAME_MAX) {
		fprintf(stderr, "bench: ESP frame too long\n");
		exit(1);
	}
	memset(f->dec_in, 0, sizeof(f->dec_in));
	eth_write(f->dec_in, &mac_wan, &mac_peer);
	ip4_write(f->dec_in + ETH_LEN, (uint16_t)(f->esp_len - ETH_LEN), PEER, ROUTER, IPPROTO_ESP);
	memcpy(esp, &spi, 4);
	memcpy(esp + 4, &seq, 4);
	memcpy(payload, f->dec_out + ETH_LEN, inner_len);
	for (uint32_t i = 0; i < pad; i++)
		payload[inner_len + i] = (uint8_t)(i + 1);
	payload[inner_len + pad] = (uint8_t)pad;
	payload[inner_len + pad + 1] = IPPROTO_IPIP;
	op.len = f->cipher_len;
	esp_crypto_iv_fill(b.cw, &ops, 1);
	if (esp_crypto_encrypt_burst(b.cw, &ops, 1) != 1) {
		fprintf(stderr, "bench: ESP frame not encrypted\n");
		exit(1);
	}
	memcpy(f->nonce, ctx->keys.salt, 4);
	memcpy(f->nonce + 4, esp + ESP_CRYPTO_HDR_LEN, 8);
	memcpy(f->aad, esp, 8);
}

static void frame_build(struct frame *f, uint16_t len, bool esp)
{
	f->len = len;
	memset(f->enc_in, 0, sizeof(f->enc_in));
	eth_write(f->enc_in, &mac_lan, &mac_host);
	ip4_udp_write(f->enc_in + ETH_LEN, (uint16_t)(len - ETH_LEN), LAN_HOST, REMOTE_HOST);
	memset(f->dec_out, 0, sizeof(f->dec_out));
	eth_write(f->dec_out, &mac_host, &mac_lan);
	ip4_udp_write(f->dec_out + ETH_LEN, (uint16_t)(len - ETH_LEN), REMOTE_HOST, LAN_HOST);
	if (esp)
		esp_frame_build(f);
}

/* Which frame each slot carries: one size, or the IMIX pattern. */
static void layout(uint16_t size)
{
	static const uint16_t imix_sizes[] = { 64, 576, 1400 };
	double bytes = 0;

	b.n_cls = size ? 1 : RTE_DIM(imix_sizes);
	for (unsigned c = 0; c < b.n_cls; c++)
		frame_build(&b.frames[c], size ? size : imix_sizes[c], true);
	for (unsigned i = 0; i < IN_FLIGHT; i++) {
		unsigned c = 0;
		while (!size && imix_sizes[c] != imix[i % RTE_DIM(imix)])
			c++;
		b.cls[i] = (uint8_t)c;
		bytes += b.frames[c].len;
		b.raw[i] = (struct raw_packet){ .esp = b.esp[i], .len = b.frames[c].cipher_len,
						.nonce = b.frames[c].nonce, .aad = b.frames[c].aad };
	}
	b.frame_bytes = bytes / IN_FLIGHT;
}

static inline uint32_t slot_of(struct rte_mbuf *m)
{
	return *(uint32_t *)rte_mbuf_to_priv(m);
}

/* Put the slot's original input frame back into the mbuf. */
static inline void restore(struct rte_mbuf *m, bool enc)
{
	const struct frame *f = &b.frames[b.cls[slot_of(m)]];
	uint16_t len = enc ? f->len : f->esp_len;

	rte_pktmbuf_reset(m);
	m->data_len = len;
	m->pkt_len = len;
	m->l2_len = ETH_LEN;
	m->l3_len = IP4_LEN;
	rte_memcpy(rte_pktmbuf_mtod(m, void *), enc ? f->enc_in : f->dec_in, len);
}

static void mbufs_create(void)
{
	for (uint32_t i = 0; i < IN_FLIGHT; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(b.pool);
		if (!m) {
			fprintf(stderr, "bench: out of mbufs\n");
			exit(1);
		}
		*(uint32_t *)rte_mbuf_to_priv(m) = i;
		b.mbufs[i] = m;
		b.esp[i] = (uint8_t *)m->buf_addr + RTE_PKTMBUF_HEADROOM + ESP_OFF;
	}
}

/* ---- Checks of what came out ---- */

/* The inner packet equals the original but for the TTL (and checksum). */
static bool inner_same(const uint8_t *got, const uint8_t *want, uint16_t len, uint8_t ttl_less)
{
	const struct rte_ipv4_hdr *g = (const struct rte_ipv4_hdr *)got;
	const struct rte_ipv4_hdr *w = (const struct rte_ipv4_hdr *)want;

	return g->time_to_live + ttl_less == w->time_to_live && memcmp(got, want, 8) == 0 &&
	       memcmp(got + 9, want + 9, 1) == 0 && memcmp(got + 12, want + 12, len - 12u) == 0;
}

/*
 * An ESP frame that left for the peer: outer header, then decrypted by the
 * bench's engine, padding 1, 2, 3 ..., next header IPv4 and the inner
 * packet as sent, TTL ttl_less lower.
 */
static const char *esp_out_check(const uint8_t *frame, uint32_t len, const struct frame *f,
				 uint8_t ttl_less, bool outer_checksum)
{
	struct esp_crypto *ctx = b.ctx[ESP_CRYPTO_ARCH_AUTO];
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)frame;
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(frame + ETH_LEN);
	uint8_t copy[FRAME_MAX];
	struct esp_crypto_op op = { .sa = ctx, .esp = copy }, *ops = &op;
	uint32_t spi = rte_cpu_to_be_32(SPI_OUT);

	if (len > FRAME_MAX || len < ESP_OFF + ctx->hdr_len + ctx->icv_len + 2u)
		return "ESP frame of a wrong length";
	if (!rte_is_same_ether_addr(&eth->dst_addr, &mac_peer) ||
	    eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))
		return "not sent to the peer's MAC";
	if (ip->next_proto_id != IPPROTO_ESP || ip->src_addr != rte_cpu_to_be_32(ROUTER) ||
	    ip->dst_addr != rte_cpu_to_be_32(PEER) ||
	    rte_be_to_cpu_16(ip->total_length) != len - ETH_LEN)
		return "outer IPv4 header wrong";
	if (outer_checksum && rte_raw_cksum(ip, IP4_LEN) != 0xffff)
		return "outer IPv4 checksum wrong";
	memcpy(copy, frame + ESP_OFF, len - ESP_OFF);
	if (memcmp(copy, &spi, 4) != 0)
		return "wrong SPI";
	op.len = len - ESP_OFF - ctx->hdr_len - ctx->icv_len;
	if (esp_crypto_decrypt_burst(b.cw, &ops, 1) != 1)
		return "ICV does not verify";
	const uint8_t *payload = copy + ctx->hdr_len;
	uint8_t pad = payload[op.len - 2];
	uint16_t want = (uint16_t)(f->len - ETH_LEN);
	if (payload[op.len - 1] != IPPROTO_IPIP || op.len < want + pad + 2u)
		return "trailer wrong";
	for (unsigned i = 0; i < pad; i++)
		if (payload[want + i] != i + 1)
			return "padding wrong";
	if (!inner_same(payload, f->enc_in + ETH_LEN, want, ttl_less))
		return "inner packet differs";
	return NULL;
}

/* The decrypted inner packet as it left for the LAN host. */
static const char *plain_out_check(const uint8_t *frame, uint32_t len, const struct frame *f)
{
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)frame;

	if (len != f->len)
		return "inner frame of a wrong length";
	if (!rte_is_same_ether_addr(&eth->dst_addr, &mac_host) ||
	    !rte_is_same_ether_addr(&eth->src_addr, &mac_lan))
		return "wrong MAC addresses";
	if (rte_raw_cksum(frame + ETH_LEN, IP4_LEN) != 0xffff)
		return "inner IPv4 checksum wrong";
	if (!inner_same(frame + ETH_LEN, f->dec_out + ETH_LEN, (uint16_t)(len - ETH_LEN), 1))
		return "inner packet differs";
	return NULL;
}

static void check_fail(const char *what, const char *why)
{
	uint64_t total = 0;

	fprintf(stderr, "bench: %s: %s\n", what, why);
	for (unsigned c = 0; c < ESPD_COUNTER_MAX; c++) {
		uint64_t n = counter_total(c);
		if (n)
			fprintf(stderr, "  %s: %s (%s): %lu\n", counter_node(c), counter_text(c),
				counter_kind(c), n);
		total += n;
	}
	if (!total)
		fprintf(stderr, "  no drop or punt counted\n");
	exit(1);
}

/* ---- espd ---- */

struct direction {
	bool enc;
	struct ring_port *in, *out;
};

static void espd_load(const struct direction *d)
{
	b.worker->rx[0] = (struct rx_queue_ref){ d->in->port_id, 0, false };
	b.worker->n_rx = 1;
	for (unsigned i = 0; i < IN_FLIGHT; i++)
		restore(b.mbufs[i], d->enc);
	if (rte_ring_enqueue_bulk(d->in->rx, (void **)b.mbufs, IN_FLIGHT, NULL) != IN_FLIGHT)
		check_fail("load", "input ring full");
}

static unsigned recycle(const struct direction *d)
{
	struct rte_mbuf *pkts[64];
	unsigned n = rte_ring_dequeue_burst(d->out->tx, (void **)pkts, RTE_DIM(pkts), NULL);

	for (unsigned i = 0; i < n; i++)
		restore(pkts[i], d->enc);
	rte_ring_enqueue_burst(d->in->rx, (void **)pkts, n, NULL);
	return n;
}

/* Every mbuf must be back at the input: anything dropped or punted is an error. */
static void espd_collect(const struct direction *d)
{
	struct rte_mbuf *m;
	unsigned n = 0;

	while (recycle(d))
		;
	while (rte_ring_dequeue(d->in->rx, (void **)&m) == 0)
		n++;
	if (n != IN_FLIGHT)
		check_fail(d->enc ? "encrypt" : "decrypt", "packets lost (dropped or punted)");
}

/* One walk, then each class's first output checked. */
static void espd_verify(const struct direction *d)
{
	struct rte_mbuf *pkts[BURST_MAX];
	bool seen[8] = { false };

	espd_load(d);
	rte_graph_walk(b.worker->graph);
	unsigned n = rte_ring_dequeue_burst(d->out->tx, (void **)pkts, BURST_MAX, NULL);
	if (n == 0 || n != b.worker->rx_last_walk)
		check_fail(d->enc ? "encrypt" : "decrypt", "a walk did not send its burst");
	for (unsigned i = 0; i < n; i++) {
		const struct frame *f = &b.frames[b.cls[slot_of(pkts[i])]];
		const uint8_t *frame = rte_pktmbuf_mtod(pkts[i], const uint8_t *);
		const char *why;

		if (seen[b.cls[slot_of(pkts[i])]])
			continue;
		seen[b.cls[slot_of(pkts[i])]] = true;
		if (pkts[i]->nb_segs != 1)
			check_fail("output", "multi-segment packet");
		why = d->enc ? esp_out_check(frame, pkts[i]->data_len, f, 1, true)
			     : plain_out_check(frame, pkts[i]->data_len, f);
		if (why)
			check_fail(d->enc ? "espd encrypt output" : "espd decrypt output", why);
	}
	rte_ring_enqueue_bulk(d->out->tx, (void **)pkts, n, NULL);
	espd_collect(d);
}

/* How many packets a walk takes in: plaintext forwarded before any policy exists. */
static void walk_probe(void)
{
	static const struct direction d = { .enc = true, .in = &b.lan, .out = &b.wan };

	frame_build(&b.frames[0], 64, false);
	memset(b.cls, 0, sizeof(b.cls));
	espd_load(&d);
	rte_graph_walk(b.worker->graph);
	b.walk = (unsigned)b.worker->rx_last_walk;
	espd_collect(&d);
	b.burst = b.opt.burst ? b.opt.burst : b.walk;
	if (b.walk == 0 || b.burst > BURST_MAX || IN_FLIGHT % b.burst) {
		fprintf(stderr, "bench: a walk takes %u packets: give --burst\n", b.walk);
		exit(1);
	}
}

static void node_stats_add(int sign)
{
	for (rte_node_t id = 0; id < rte_node_max_count() && id < NODES_MAX; id++) {
		struct rte_node *node = rte_graph_node_get(b.worker->graph_id, id);
		if (!node)
			continue;
		b.nodes[id].cycles += (uint64_t)sign * node->total_cycles;
		b.nodes[id].calls += (uint64_t)sign * node->total_calls;
		b.nodes[id].objs += (uint64_t)sign * node->total_objs;
	}
}

static double espd_window(const struct direction *d)
{
	uint64_t packets = 0, cycles = 0;

	espd_load(d);
	for (unsigned w = 0; w < 2 * IN_FLIGHT / b.walk; w++) {
		rte_graph_walk(b.worker->graph);
		while (recycle(d))
			;
	}
	node_stats_add(-1);
	while (cycles < b.window) {
		uint64_t start = rte_rdtsc_precise();
		rte_graph_walk(b.worker->graph);
		cycles += rte_rdtsc_precise() - start;
		packets += b.worker->rx_last_walk;
		while (recycle(d))
			;
	}
	node_stats_add(1);
	b.node_packets += packets;
	b.walk_cycles += cycles;
	espd_collect(d);
	return (double)packets * b.tsc_hz / (double)cycles;
}

/* ---- Ceiling: raw intel-ipsec-mb (bench/raw_job.h) ---- */

/* The manager a job variant of the ceiling runs on. */
static enum esp_crypto_arch raw_arch(int variant)
{
	return (enum esp_crypto_arch)(variant - V_RAW_SSE + ESP_CRYPTO_ARCH_SSE);
}

/* One burst of a ceiling variant over the ESP frames in the same mbufs. */
static unsigned raw_burst(int variant, unsigned first, bool enc)
{
	if (variant == V_RAW_DIRECT)
		return raw_gcm_direct_burst(b.ctx[ESP_CRYPTO_ARCH_AVX512], &b.gcm_ctx,
					    b.raw + first, b.burst, b.tag, enc);
	return raw_job_burst(b.mgr[raw_arch(variant)], b.ctx[raw_arch(variant)], b.raw + first,
			     b.burst, b.tag, enc);
}

/* Whether the suite can be measured with this variant: direct calls exist
 * for AES-GCM only, and on the AVX-512 manager's SA. */
static bool raw_variant_ok(int variant)
{
	const struct esp_crypto *avx512 = b.ctx[ESP_CRYPTO_ARCH_AVX512];

	if (variant == V_RAW_DIRECT)
		return b.mgr[ESP_CRYPTO_ARCH_AVX512] && avx512 && avx512->gcm_enc;
	return b.mgr[raw_arch(variant)] && b.ctx[raw_arch(variant)];
}

static double raw_window(int variant, bool enc)
{
	uint64_t packets = 0, cycles = 0;

	for (unsigned i = 0; i < IN_FLIGHT; i++)
		restore(b.mbufs[i], false);
	for (unsigned first = 0; first < IN_FLIGHT; first += b.burst)
		b.errors += raw_burst(variant, first, enc);
	while (cycles < b.window) {
		for (unsigned first = 0; first < IN_FLIGHT; first += b.burst) {
			uint64_t start = rte_rdtsc_precise();
			b.errors += raw_burst(variant, first, enc);
			cycles += rte_rdtsc_precise() - start;
			packets += b.burst;
		}
	}
	return (double)packets * b.tsc_hz / (double)cycles;
}

/* ---- librte_ipsec ---- */

static inline unsigned rte_burst(bool enc, unsigned first)
{
	struct rte_mbuf *mb[BURST_MAX];
	const struct rte_ipsec_session *ss = &b.ss[enc];
	uint16_t n = (uint16_t)b.burst;

	memcpy(mb, b.mbufs + first, n * sizeof(mb[0]));
	uint16_t k = rte_ipsec_pkt_cpu_prepare(ss, mb, n);
	k = rte_ipsec_pkt_process(ss, mb, k);
	return n - k;
}

/* librte_ipsec changes the packets: each burst is restored after it ran,
 * so it comes back a whole pass later, as the rings bring espd's. */
static double rte_window(bool enc)
{
	uint64_t packets = 0, cycles = 0;

	for (unsigned i = 0; i < IN_FLIGHT; i++)
		restore(b.mbufs[i], enc);
	for (unsigned first = 0; first < IN_FLIGHT; first += b.burst) {
		b.errors += rte_burst(enc, first);
		for (unsigned i = first; i < first + b.burst; i++)
			restore(b.mbufs[i], enc);
	}
	while (cycles < b.window) {
		for (unsigned first = 0; first < IN_FLIGHT; first += b.burst) {
			uint64_t start = rte_rdtsc_precise();
			b.errors += rte_burst(enc, first);
			cycles += rte_rdtsc_precise() - start;
			packets += b.burst;
			for (unsigned i = first; i < first + b.burst; i++)
				restore(b.mbufs[i], enc);
		}
	}
	return (double)packets * b.tsc_hz / (double)cycles;
}

/* librte_ipsec's output must be right too, or its speed means nothing. */
static void rte_verify(bool enc)
{
	for (unsigned i = 0; i < b.burst; i++)
		restore(b.mbufs[i], enc);
	if (rte_burst(enc, 0) != 0)
		check_fail("rte_ipsec", "packets failed");
	for (unsigned i = 0; i < b.burst; i++) {
		struct rte_mbuf *m = b.mbufs[i];
		const struct frame *f = &b.frames[b.cls[i]];
		const uint8_t *data = rte_pktmbuf_mtod(m, const uint8_t *);
		const char *why = NULL;

		if (enc)
			why = esp_out_check(data, m->data_len, f, 0, false);
		else if (!inner_same(data + m->l2_len, f->dec_out + ETH_LEN,
				     (uint16_t)(f->len - ETH_LEN), 0))
			why = "inner packet differs";
		if (why)
			check_fail(enc ? "rte_ipsec encrypt output" : "rte_ipsec decrypt output", why);
	}
}

/* ---- Rows ---- */

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, c = *(const double *)y;

	return (a > c) - (a < c);
}

static double median(const double *v, unsigned n)
{
	double s[ROUNDS_MAX];

	memcpy(s, v, n * sizeof(v[0]));
	qsort(s, n, sizeof(s[0]), cmp_double);
	return s[n / 2];
}

static void nodes_print(void)
{
	uint64_t sum = 0;

	printf("    espd cycles/packet by node:");
	for (rte_node_t id = 0; id < rte_node_max_count() && id < NODES_MAX; id++) {
		if (!b.nodes[id].calls)
			continue;
		sum += b.nodes[id].cycles;
		printf(" %s %.1f", rte_node_id_to_name(id),
		       (double)b.nodes[id].cycles / (double)b.node_packets);
	}
	printf(" | outside nodes %.1f\n",
	       ((double)b.walk_cycles - (double)sum) / (double)b.node_packets);
}

static const char *target_mark(uint16_t size, double ratio)
{
	double target = size == 64 ? 0.80 : size == 512 ? 0 : 0.90;

	if (!target)
		return "";
	return ratio >= target ? " ok" : " BELOW";
}

struct row_result {
	double med[V_N];    /* packets per second */
	int best;           /* the ceiling's V_RAW_*, 0: none */
	int best_job;       /* the best manager's jobs (AES-GCM: not the direct calls) */
	double ceil_ratio;  /* espd / ceiling, median of per-round ratios */
	double job_ratio;   /* espd / best_job, likewise */
	double rte_ratio;   /* espd / rte_ipsec, likewise */
	double node_cycles; /* esp-encrypt or esp-decrypt per packet, 0: unknown */
};

/* Cycles per packet of the node over this row's espd windows. */
static double node_cycles(const char *name)
{
	rte_node_t id = rte_node_from_name(name);

	if (id == RTE_NODE_ID_INVALID || id >= NODES_MAX || !b.node_packets)
		return 0;
	return (double)b.nodes[id].cycles / (double)b.node_packets;
}

/* Variants take turns window by window, so noise hits them alike. */
static void row_measure(const struct direction *d, bool espd, bool rte, struct row_result *res)
{
	double pps[V_N][ROUNDS_MAX] = { { 0 } }, ceil_ratio[ROUNDS_MAX], rte_ratio[ROUNDS_MAX];
	double job_ratio[ROUNDS_MAX];
	unsigned rounds = b.opt.rounds;

	for (unsigned r = 0; r < rounds; r++) {
		if (espd)
			pps[V_ESPD][r] = espd_window(d);
		for (int v = V_RAW_SSE; v <= V_RAW_DIRECT && !b.opt.espd_only; v++)
			if (raw_variant_ok(v))
				pps[v][r] = raw_window(v, d->enc);
		if (rte)
			pps[V_RTE][r] = rte_window(d->enc);
	}
	memset(res, 0, sizeof(*res));
	for (int v = 0; v < V_N; v++)
		res->med[v] = median(pps[v], rounds);
	for (int v = V_RAW_SSE; v <= V_RAW_DIRECT; v++)
		if (res->med[v] > 0 && (!res->best || res->med[v] > res->med[res->best]))
			res->best = v;
	for (int v = V_RAW_SSE; v < V_RAW_DIRECT; v++)
		if (res->med[v] > 0 && (!res->best_job || res->med[v] > res->med[res->best_job]))
			res->best_job = v;
	for (unsigned r = 0; r < rounds; r++) {
		ceil_ratio[r] = res->best ? pps[V_ESPD][r] / pps[res->best][r] : 0;
		job_ratio[r] = res->best_job ? pps[V_ESPD][r] / pps[res->best_job][r] : 0;
		rte_ratio[r] = rte ? pps[V_ESPD][r] / pps[V_RTE][r] : 0;
	}
	res->ceil_ratio = median(ceil_ratio, rounds);
	res->job_ratio = median(job_ratio, rounds);
	res->rte_ratio = median(rte_ratio, rounds);
	if (espd && rte_graph_has_stats_feature())
		res->node_cycles = node_cycles(d->enc ? NODE_ESP_ENCRYPT : NODE_ESP_DECRYPT);
}

static void row_print(const struct suite *s, uint16_t size, const struct direction *d,
		      const struct row_result *res)
{
	const double *med = res->med;
	bool espd = med[V_ESPD] > 0, rte = med[V_RTE] > 0;
	char label[8] = "IMIX";

	if (size)
		snprintf(label, sizeof(label), "%u", size);
	printf("%-18s %5s %s |", s->name, label, d->enc ? "enc" : "dec");
	if (espd)
		printf(" %6.2f %6.2f %7.0f |", med[V_ESPD] / 1e6,
		       med[V_ESPD] * b.frame_bytes * 8 / 1e9, b.tsc_hz / med[V_ESPD]);
	else
		printf(" %6s %6s %7s |", "-", "-", "-");
	if (res->best)
		printf(" %-6s %6.2f %7.0f |",
		       res->best == V_RAW_DIRECT ? "direct"
			: esp_crypto_arch_name(raw_arch(res->best)),
		       med[res->best] / 1e6, b.tsc_hz / med[res->best]);
	else
		printf(" %-6s %6s %7s |", "-", "-", "-");
	if (espd && res->best)
		printf(" %5.2f%-6s|", res->ceil_ratio, target_mark(size, res->ceil_ratio));
	else
		printf(" %5s%-6s|", "-", "");
	if (res->node_cycles > 0)
		printf(" %7.0f |", res->node_cycles);
	else
		printf(" %7s |", "-");
	if (rte)
		printf(" %6.2f %7.0f |", med[V_RTE] / 1e6, b.tsc_hz / med[V_RTE]);
	else
		printf(" %6s %7s |", "-", "-");
	if (espd && rte)
		printf(" %5.2f", res->rte_ratio);
	else
		printf(" %5s", "-");
	if (rte && res->node_cycles > 0)
		printf(" %7.2f\n", b.tsc_hz / med[V_RTE] / res->node_cycles);
	else
		printf(" %7s\n", "-");
}

/* Where the direct calls set the ceiling, the one of the job API as well:
 * what a figure of raw crypto through jobs alone compares with. */
static void job_ceiling_print(const struct row_result *res)
{
	printf("    ceiling through jobs alone: %s %.2f Mpps, %.0f cycles/packet; espd/that %.2f\n",
	       esp_crypto_arch_name(raw_arch(res->best_job)), res->med[res->best_job] / 1e6,
	       b.tsc_hz / res->med[res->best_job], res->job_ratio);
}

static void row(const struct suite *s, uint16_t size, const struct direction *d)
{
	bool espd = b.have_esp_nodes, rte = b.rte_ok && !b.opt.espd_only;
	struct row_result res;

	memset(b.nodes, 0, sizeof(b.nodes));
	b.node_packets = b.walk_cycles = 0;
	if (espd)
		espd_verify(d);
	if (rte)
		rte_verify(d->enc);
	row_measure(d, espd, rte, &res);
	row_print(s, size, d, &res);
	if (espd && res.best == V_RAW_DIRECT && res.best_job)
		job_ceiling_print(&res);
	if (espd && b.opt.nodes)
		nodes_print();
	fflush(stdout);
}

/* ---- Main ---- */

static __rte_noreturn void usage(const char *prog)
{
	fprintf(stderr, "usage: %s [EAL args] -- [--suite NAME] [--size 64|512|1400|imix] "
		"[--dir enc|dec] [--rounds N] [--window-ms N] [--burst N] [--nodes] "
		"[--espd-only] [--no-rte-ipsec] [--policies N]\n  suites:", prog);
	for (size_t i = 0; i < RTE_DIM(suites); i++)
		fprintf(stderr, " %s", suites[i].name);
	fprintf(stderr, "\n");
	exit(2);
}

/* A misspelt suite, size or direction would measure nothing, or the
 * wrong thing, and still succeed: each is refused with the usage. */
static const char *suite_parse(const char *prog, const char *v)
{
	for (size_t i = 0; i < RTE_DIM(suites); i++)
		if (strcmp(v, suites[i].name) == 0)
			return v;
	usage(prog);
}

/* The frame size v names, 0 for IMIX. */
static int size_parse(const char *prog, const char *v)
{
	if (strcmp(v, "imix") == 0)
		return 0;
	for (size_t z = 0; z < RTE_DIM(sizes); z++) {
		char name[8];
		snprintf(name, sizeof(name), "%u", sizes[z]);
		if (sizes[z] && strcmp(v, name) == 0)
			return sizes[z];
	}
	usage(prog);
}

/* 1 to encrypt, 0 to decrypt. */
static int dir_parse(const char *prog, const char *v)
{
	if (strcmp(v, "enc") != 0 && strcmp(v, "dec") != 0)
		usage(prog);
	return strcmp(v, "enc") == 0;
}

static void options_parse(int argc, char **argv)
{
	struct options *o = &b.opt;

	*o = (struct options){ .size = -1, .dir = -1, .rounds = 5, .window_ms = 20, .policies = 1 };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		if (strcmp(a, "--nodes") == 0) {
			o->nodes = true;
			continue;
		}
		if (strcmp(a, "--espd-only") == 0) {
			o->espd_only = true;
			continue;
		}
		if (strcmp(a, "--no-rte-ipsec") == 0) {
			o->no_rte = true;
			continue;
		}
		if (i + 1 >= argc)
			usage(argv[0]);
		v = argv[++i];
		if (strcmp(a, "--suite") == 0)
			o->suite = suite_parse(argv[0], v);
		else if (strcmp(a, "--size") == 0)
			o->size = size_parse(argv[0], v);
		else if (strcmp(a, "--dir") == 0)
			o->dir = dir_parse(argv[0], v);
		else if (strcmp(a, "--rounds") == 0)
			o->rounds = (unsigned)atoi(v);
		else if (strcmp(a, "--window-ms") == 0)
			o->window_ms = (unsigned)atoi(v);
		else if (strcmp(a, "--burst") == 0)
			o->burst = (unsigned)atoi(v);
		else if (strcmp(a, "--policies") == 0)
			o->policies = (unsigned)atoi(v);
		else
			usage(argv[0]);
	}
	if (o->rounds < 1 || o->rounds > ROUNDS_MAX || o->window_ms < 1 ||
	    o->burst > BURST_MAX || (o->burst && IN_FLIGHT % o->burst) || o->policies < 1 ||
	    o->policies > POLICIES_MAX)
		usage(argv[0]);
}

static void header_print(void)
{
	char model[128];

	bench_cpu_model(model, sizeof(model));
	printf("machine: %s, TSC %.2f GHz, %s, intel-ipsec-mb %s, one core, memory on %s\n",
	       model, b.tsc_hz / 1e9, rte_version(), imb_get_version_str(), bench_memory_name());
	printf("espd: rte_graph_walk alone (ring port rx/tx and every node), %u packets per "
	       "walk, %u in flight; inbound SA replay window 0: no replay check, as in the "
	       "kernel\n", b.walk, IN_FLIGHT);
	printf("  policies: %u per direction (out, in, fwd), %s\n", b.opt.policies,
	       b.opt.policies > SPD_SCAN_MAX ? "searched with rte_acl" : "scanned in rank order");
	printf("  not timed: putting packets back (copying the original frame into each mbuf "
	       "that came out)\n");
	printf("ceiling: raw intel-ipsec-mb, best of SSE/AVX2/AVX-512 jobs, %u per flush, and for "
	       "AES-GCM the direct calls (no IV generation, ICV compare, padding or headers)\n",
	       b.burst);
	printf("ESP node: esp-encrypt or esp-decrypt alone (graph statistics)\n");
	printf("rte_ipsec: librte_ipsec CPU crypto on crypto_aesni_mb, %u per call, the ESP "
	       "transform alone (no ports, policies, routing)%s%s\n", b.burst,
	       b.rte_why ? " -- not measured: " : "", b.rte_why ? b.rte_why : "");
	printf("  espd/rte: whole path against transform; ESP node/rte: rte_ipsec's cycles over "
	       "the node's (above 1: the node is faster)\n");
	printf("medians of %u rounds of %u ms timed each; ratios are medians of per-round "
	       "ratios; Gbps of plaintext frames; target espd/ceiling >= 0.90 (1400, IMIX), "
	       ">= 0.80 (64)\n", b.opt.rounds, b.opt.window_ms);
	if (!b.have_esp_nodes)
		printf("espd: no esp-encrypt/esp-decrypt node in this build: espd not measured\n");
	printf("\n%-18s %5s %3s | %-22s | %-22s | %-11s| %-7s | %-14s | %s\n", "", "", "",
	       "espd, whole path", "ceiling, raw crypto", "espd/", "ESP node", "rte_ipsec",
	       "espd/  ESP node/");
	printf("%-18s %5s %3s | %6s %6s %7s | %-6s %6s %7s | %-11s| %7s | %6s %7s | %s\n", "suite",
	       "frame", "dir", "Mpps", "Gbps", "cyc/pkt", "mgr", "Mpps", "cyc/pkt", "ceiling",
	       "cyc/pkt", "Mpps", "cyc/pkt", "rte    rte (speed)");
}

static void suite_run(const struct suite *s)
{
	static const struct direction dirs[2] = {
		{ .enc = true, .in = &b.lan, .out = &b.wan },
		{ .enc = false, .in = &b.wan, .out = &b.lan },
	};

	ipsec_setup(s);
	contexts_create(s);
	rte_sessions_create(s);
	for (size_t z = 0; z < RTE_DIM(sizes); z++) {
		if (b.opt.size >= 0 && b.opt.size != sizes[z])
			continue;
		layout(sizes[z]);
		for (int d = 0; d < 2; d++)
			if (b.opt.dir < 0 || b.opt.dir == dirs[d].enc)
				row(s, sizes[z], &dirs[d]);
	}
	rte_sessions_destroy();
	contexts_destroy();
	ipsec_teardown(s);
}

int main(int argc, char **argv)
{
	int consumed = rte_eal_init(argc, argv);

	if (consumed < 0)
		return 1;
	argv[consumed] = argv[0];
	options_parse(argc - consumed, argv + consumed);
	b.tsc_hz = (double)rte_get_tsc_hz();
	b.window = (uint64_t)(b.tsc_hz * b.opt.window_ms / 1e3);
	b.pool = rte_pktmbuf_pool_create("bench", 2 * IN_FLIGHT + 4 * RING_SIZE, 256,
					 RTE_ALIGN(sizeof(uint32_t), RTE_MBUF_PRIV_ALIGN),
					 RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	b.frames = rte_zmalloc("frames", 3 * sizeof(*b.frames), RTE_CACHE_LINE_SIZE);
	if (!b.pool || !b.frames)
		return 1;
	espd_setup();
	managers_create();
	rte_ipsec_dev_setup();
	mbufs_create();
	walk_probe();
	header_print();
	counters_clear();
	for (size_t i = 0; i < RTE_DIM(suites); i++)
		if (!b.opt.suite || strcmp(b.opt.suite, suites[i].name) == 0)
			suite_run(&suites[i]);

	uint64_t counted = 0;
	for (unsigned c = 0; c < ESPD_COUNTER_MAX; c++)
		counted += counter_total(c);
	printf("\npackets espd dropped or punted: %lu; ceiling/rte_ipsec job errors: %lu "
	       "(both expected 0)\n", counted, b.errors);
	return counted || b.errors;
}
