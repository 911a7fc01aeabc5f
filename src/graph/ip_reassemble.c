/*
 * ip-reassemble: fragments of ESP, and of UDP, addressed to the router.
 * A peer fragments its ESP packets as espd does (ip-fragment) and the
 * kernel reassembles them before xfrm_input; for an SA only espd holds,
 * espd must do the same. Each worker keeps its own librte_ip_frag table,
 * so the fast path takes no lock. A whole ESP packet, or ESP in UDP to the
 * NAT-T port, goes to ipsec-input in one buffer; anything else was the
 * kernel's all along and is punted (which cuts it again to fit the TAP).
 * ESP is decrypted in one buffer: a whole packet larger than its first
 * fragment's (the shared 2 KB receive buffers of xdp and dpdk ports) is
 * copied into one of the worker's own large buffers, as large as an
 * af_packet port's default frame, so every driver takes the same sizes.
 *
 * The fragments of the router's own datagrams that spd-local sends (the
 * kernel cut them for a TAP's link) go back to spd-local whole, in one
 * buffer where one holds them (PKT_REASSEMBLED).
 */
#include "graph/graph.h"

#include <sys/socket.h>
#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>

/* As the kernel's ipfrag_time: an incomplete packet waits 30 s at most. */
#define REASSEMBLE_TIMEOUT_S 30
/* Packets reassembled at once per worker: bounds the mbufs held. */
#define REASSEMBLE_BUCKETS 64
#define REASSEMBLE_BUCKET_ENTRIES 4
/* Largest whole ESP packet (Ethernet header included) and how many a
 * worker holds at once: a walk's worth, freed by the time it ends. */
#define REASSEMBLE_WHOLE_ROOM 16384
#define REASSEMBLE_WHOLE_BUFFERS 63

enum ip_reassemble_next {
	IP_REASSEMBLE_NEXT_IPSEC_INPUT,
	IP_REASSEMBLE_NEXT_PUNT,
	IP_REASSEMBLE_NEXT_DROP,
	IP_REASSEMBLE_NEXT_SPD_LOCAL,
	IP_REASSEMBLE_N_NEXT,
};

struct reassembly {
	struct rte_ip_frag_tbl *table;
	struct rte_ip_frag_death_row death_row;
	struct rte_mempool *whole; /* one-buffer copies of larger packets */
};

static struct reassembly reassemblies[ESPD_WORKERS_MAX];

int ip_reassemble_init(unsigned worker_id)
{
	struct reassembly *r = &reassemblies[worker_id];
	uint64_t timeout = rte_get_tsc_hz() * REASSEMBLE_TIMEOUT_S;
	char name[RTE_MEMPOOL_NAMESIZE];

	r->table = rte_ip_frag_table_create(REASSEMBLE_BUCKETS, REASSEMBLE_BUCKET_ENTRIES,
					    REASSEMBLE_BUCKETS * REASSEMBLE_BUCKET_ENTRIES,
					    timeout, SOCKET_ID_ANY);
	snprintf(name, sizeof(name), "reassembled_%u", worker_id);
	r->whole = rte_pktmbuf_pool_create(name, REASSEMBLE_WHOLE_BUFFERS, 0, 0,
					   RTE_PKTMBUF_HEADROOM + REASSEMBLE_WHOLE_ROOM,
					   SOCKET_ID_ANY);
	if (!r->table || !r->whole) {
		ip_reassemble_destroy(worker_id);
		return -ENOMEM;
	}
	return 0;
}

void ip_reassemble_destroy(unsigned worker_id)
{
	struct reassembly *r = &reassemblies[worker_id];

	if (r->table)
		rte_ip_frag_table_destroy(r->table);
	rte_mempool_free(r->whole);
	r->table = NULL;
	r->whole = NULL;
}

/* The fragment into the table; the whole packet once all are in. */
static struct rte_mbuf *reassemble(struct reassembly *r, struct rte_mbuf *m, uint64_t now)
{
	uint8_t *l3 = rte_pktmbuf_mtod_offset(m, uint8_t *, m->l2_len);
	uint8_t family = pkt_meta(m)->family;

	/* Link-layer padding is no part of the fragment: the frame's length
	 * over all its segments, trimmed from the last. */
	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - m->l2_len -
				       ip_packet_len(l3, family)));
	if (family == AF_INET)
		return rte_ipv4_frag_reassemble_packet(r->table, &r->death_row, m, now,
						       (struct rte_ipv4_hdr *)l3);
	struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)l3;
	m->l3_len = sizeof(*ip6) + sizeof(struct rte_ipv6_fragment_ext);
	return rte_ipv6_frag_reassemble_packet(r->table, &r->death_row, m, now, ip6,
					       rte_ipv6_frag_get_ipv6_fragment_header(ip6));
}

/* The chain *m in one buffer: its first, or a copy in one of the worker's
 * large ones (the chain freed). */
static int one_buffer(struct reassembly *r, struct rte_mbuf **m)
{
	struct rte_mbuf *copy;

	if (rte_pktmbuf_linearize(*m) == 0)
		return 0;
	if (rte_pktmbuf_pkt_len(*m) > REASSEMBLE_WHOLE_ROOM)
		return -EMSGSIZE;
	copy = rte_pktmbuf_copy(*m, r->whole, 0, UINT32_MAX);
	if (!copy)
		return -ENOBUFS;
	rte_pktmbuf_free(*m);
	*m = copy;
	return 0;
}

/*
 * Fragments may describe more than an IP packet holds (a jumbo fragment
 * at offset 65528), and librte_ip_frag joins them: its length would not
 * fit the header, and ip-fragment (librte_ip_frag again, which takes the
 * length modulo 65536) would cut it into more fragments than it has room
 * for. The kernel drops such a packet ("Oversized IP packet", ip_frag_reasm
 * and ip6_frag_reasm).
 */
static bool oversized(struct rte_mbuf *m)
{
	uint32_t len = rte_pktmbuf_pkt_len(m) - m->l2_len;

	if (pkt_meta(m)->family == AF_INET)
		return len > UINT16_MAX;
	return len > sizeof(struct rte_ipv6_hdr) + UINT16_MAX;
}

/* The whole packet, its header as if it had come whole: in one buffer for
 * ipsec-input, a chain of the fragments' buffers for the kernel. */
static uint16_t whole(struct worker *worker, struct reassembly *r, struct rte_mbuf **m)
{
	uint8_t *l3 = rte_pktmbuf_mtod_offset(*m, uint8_t *, (*m)->l2_len);
	uint8_t proto;
	int rc;

	if (unlikely(oversized(*m)))
		return steer(worker, *m, ESPD_COUNTER_IP_REASSEMBLE_OVERSIZED,
			     IP_REASSEMBLE_NEXT_DROP);
	if (pkt_meta(*m)->family == AF_INET) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)l3;
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		proto = ip->next_proto_id;
	} else {
		(*m)->l3_len = sizeof(struct rte_ipv6_hdr);
		proto = ((const struct rte_ipv6_hdr *)l3)->proto;
	}
	if (pkt_meta(*m)->flags & PKT_OWN) {
		/* Too large for one buffer it stays a chain: esp-encrypt refuses
		 * that, counted; in clear ip-fragment cuts it all the same. */
		(void)one_buffer(r, m);
		pkt_meta(*m)->flags |= PKT_REASSEMBLED;
		return IP_REASSEMBLE_NEXT_SPD_LOCAL;
	}
	/* As ip-lookup decides for packets that came whole. */
	if (!ip_carries_ipsec(*m, proto))
		return steer(worker, *m, ESPD_COUNTER_IP_REASSEMBLE_NOT_IPSEC,
			     IP_REASSEMBLE_NEXT_PUNT);
	rc = one_buffer(r, m);
	if (unlikely(rc == -EMSGSIZE))
		return steer(worker, *m, ESPD_COUNTER_IP_REASSEMBLE_TOO_BIG,
			     IP_REASSEMBLE_NEXT_PUNT);
	if (unlikely(rc != 0))
		return steer(worker, *m, ESPD_COUNTER_IP_REASSEMBLE_NO_BUFFER,
			     IP_REASSEMBLE_NEXT_PUNT);
	return IP_REASSEMBLE_NEXT_IPSEC_INPUT;
}

/* Fragments the table gave up: timed out, overlapping, or no room. */
static void death_row_free(struct worker *worker, struct reassembly *r)
{
	counter_add(worker->id, ESPD_COUNTER_IP_REASSEMBLE_DROPPED, r->death_row.cnt);
	rte_ip_frag_free_death_row(&r->death_row, 0);
}

static uint16_t ip_reassemble_process(struct rte_graph *graph, struct rte_node *node, void **objs,
				      uint16_t nb_objs)
{
	struct worker *worker = node_worker(node);
	struct reassembly *r = &reassemblies[worker->id];
	uint64_t now = rte_rdtsc();

	for (uint16_t i = 0; i < nb_objs; i++) {
		struct rte_mbuf *m = reassemble(r, objs[i], now);
		if (m) {
			uint16_t next = whole(worker, r, &m);
			rte_node_enqueue_x1(graph, node, next, m);
		}
		/* The death row holds what RTE_IP_FRAG_DEATH_ROW_LEN fragments
		 * can give up (each its packet's fragments and itself), and a
		 * walk brings more: emptied that often, or it overflows. */
		if ((i + 1) % RTE_IP_FRAG_DEATH_ROW_LEN == 0)
			death_row_free(worker, r);
	}
	death_row_free(worker, r);
	return nb_objs;
}

static struct rte_node_register ip_reassemble_node = {
	.name = NODE_IP_REASSEMBLE,
	.process = ip_reassemble_process,
	.init = node_ctx_init_worker,
	.nb_edges = IP_REASSEMBLE_N_NEXT,
	.next_nodes = {
		[IP_REASSEMBLE_NEXT_IPSEC_INPUT] = NODE_IPSEC_INPUT,
		[IP_REASSEMBLE_NEXT_PUNT] = NODE_PUNT,
		[IP_REASSEMBLE_NEXT_DROP] = NODE_DROP,
		[IP_REASSEMBLE_NEXT_SPD_LOCAL] = NODE_SPD_LOCAL,
	},
};

RTE_NODE_REGISTER(ip_reassemble_node);
