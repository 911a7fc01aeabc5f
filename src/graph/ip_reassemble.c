/*
 * ip-reassemble: fragments of ESP, and of UDP, addressed to the router.
 * A peer fragments its ESP packets as espd does (ip-fragment) and the
 * kernel reassembles them before xfrm_input; for an SA only espd holds,
 * espd must do the same. Each worker keeps its own librte_ip_frag table,
 * so the fast path takes no lock. A whole ESP packet, or ESP in UDP to the
 * NAT-T port, goes to ipsec-input in one buffer; anything else was the
 * kernel's all along and is punted (which cuts it again to fit the TAP).
 * While in-policies are checked (SPD_FLAG_PLAINTEXT), and for decrypted
 * packets, fragments of any protocol for the router come here too: the
 * whole datagram goes to spd-input, as the kernel looks its policies up
 * for the whole datagram (a fragment shows no ports).
 * ESP is decrypted in one buffer: a whole packet larger than its first
 * fragment's (the shared 2 KB receive buffers of xdp and dpdk ports) is
 * copied into one of the worker's own large buffers, as large as an
 * af_packet port's default frame, so every driver takes the same sizes.
 *
 * The fragments of the router's own datagrams that spd-local sends (the
 * kernel cut them for a TAP's link) go back to spd-local whole, in one
 * buffer where one holds them (PKT_REASSEMBLED).
 *
 * librte_ip_frag holds at most RTE_LIBRTE_IP_FRAG_MAX_FRAG fragments a
 * datagram, where the kernel reassembles up to 64 KB in any number. A
 * datagram the table gives up before it is whole (too many fragments, a
 * duplicate, an overlap, no room) is the kernel's to judge: the fragments
 * held so far are punted, and for as long as the kernel would wait for the
 * rest, so are the rest (the handed-over list). Only what timed out here is
 * dropped, as the kernel's own queue has expired by then too. The router's
 * own fragments cannot go back to the kernel, nor can those a policy check
 * must see whole (the kernel would deliver them unchecked): given up, they
 * are dropped.
 */
#include "graph/graph.h"

#include <sys/socket.h>
#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include "tables/spd.h"

/* As the kernel's ipfrag_time: an incomplete packet waits 30 s at most. */
#define REASSEMBLE_TIMEOUT_S 30
/* Packets reassembled at once per worker: bounds the mbufs held. */
#define REASSEMBLE_BUCKETS 64
#define REASSEMBLE_BUCKET_ENTRIES 4
/* Largest whole ESP packet (Ethernet header included) and how many a
 * worker holds at once: a walk's worth, freed by the time it ends. */
#define REASSEMBLE_WHOLE_ROOM 16384
#define REASSEMBLE_WHOLE_BUFFERS 63
/* Datagrams handed to the kernel whose later fragments are still due:
 * more at once than this (an attack on the table) lose their tails. */
#define REASSEMBLE_HANDED_OVER 16

enum ip_reassemble_next {
	IP_REASSEMBLE_NEXT_IPSEC_INPUT,
	IP_REASSEMBLE_NEXT_PUNT,
	IP_REASSEMBLE_NEXT_DROP,
	IP_REASSEMBLE_NEXT_SPD_LOCAL,
	IP_REASSEMBLE_NEXT_SPD_INPUT,
	IP_REASSEMBLE_N_NEXT,
};

/* What makes fragments one datagram's, as librte_ip_frag's key. */
struct datagram_id {
	struct ip_addr src, dst;
	uint32_t id;
};

struct handed_over {
	struct datagram_id datagram;
	uint64_t until; /* TSC: the kernel's queue for it has expired */
};

struct reassembly {
	struct rte_ip_frag_tbl *table;
	struct rte_ip_frag_death_row death_row;
	struct rte_mempool *whole; /* one-buffer copies of larger packets */
	struct handed_over handed_over[REASSEMBLE_HANDED_OVER];
	unsigned handed_over_next; /* the slot the next one takes */
	uint64_t handed_over_until; /* the latest until: none due after it */
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
	if (pkt_meta(*m)->flags & PKT_IPSEC_DECRYPTED)
		return IP_REASSEMBLE_NEXT_SPD_INPUT;
	if (!ip_carries_ipsec(*m, proto)) {
		if (spd_plaintext_active())
			return IP_REASSEMBLE_NEXT_SPD_INPUT;
		return steer(worker, *m, ESPD_COUNTER_IP_REASSEMBLE_NOT_IPSEC,
			     IP_REASSEMBLE_NEXT_PUNT);
	}
	rc = one_buffer(r, m);
	if (unlikely(rc == -EMSGSIZE))
		return steer(worker, *m, ESPD_COUNTER_IP_REASSEMBLE_TOO_BIG,
			     IP_REASSEMBLE_NEXT_PUNT);
	if (unlikely(rc != 0))
		return steer(worker, *m, ESPD_COUNTER_IP_REASSEMBLE_NO_BUFFER,
			     IP_REASSEMBLE_NEXT_PUNT);
	return IP_REASSEMBLE_NEXT_IPSEC_INPUT;
}

/* Fragments the table dropped: timed out, or given up and not the kernel's. */
static void death_row_free(struct worker *worker, struct reassembly *r)
{
	counter_add(worker->id, ESPD_COUNTER_IP_REASSEMBLE_DROPPED, r->death_row.cnt);
	rte_ip_frag_free_death_row(&r->death_row, 0);
}

static void datagram_id_of(struct rte_mbuf *m, struct datagram_id *datagram)
{
	const uint8_t *l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *, m->l2_len);
	uint8_t family = pkt_meta(m)->family;

	ip_source_of(l3, family, &datagram->src);
	ip_dest_of(l3, family, &datagram->dst);
	/* IPv6: the fragment header right after the fixed one (ip-lookup and
	 * spd-local send no other here). */
	datagram->id = family == AF_INET
		? ((const struct rte_ipv4_hdr *)l3)->packet_id
		: ((const struct rte_ipv6_fragment_ext *)(l3 + sizeof(struct rte_ipv6_hdr)))->id;
}

static bool datagram_equal(const struct datagram_id *a, const struct datagram_id *b)
{
	return a->id == b->id && ip_addr_equal(&a->src, &b->src) &&
	       ip_addr_equal(&a->dst, &b->dst);
}

/* Whether fragment m belongs to a datagram handed to the kernel. */
static bool is_handed_over(const struct reassembly *r, struct rte_mbuf *m, uint64_t now)
{
	struct datagram_id datagram;

	if (likely(now >= r->handed_over_until) || (pkt_meta(m)->flags & PKT_OWN))
		return false;
	datagram_id_of(m, &datagram);
	for (unsigned k = 0; k < REASSEMBLE_HANDED_OVER; k++) {
		const struct handed_over *h = &r->handed_over[k];
		if (now < h->until && datagram_equal(&h->datagram, &datagram))
			return true;
	}
	return false;
}

/* Whether the table gave fragment m up: it is in the death row, past the
 * `from` entries that were there before it came. */
static bool given_up(const struct reassembly *r, const struct rte_mbuf *m, uint32_t from)
{
	for (uint32_t k = from; k < r->death_row.cnt; k++)
		if (r->death_row.row[k] == m)
			return true;
	return false;
}

/*
 * The datagram of fragment m, which the table gave up, to the kernel: its
 * fragments out of the death row (those of a timed-out datagram the same
 * call made room from stay there), and the rest of them once they come.
 */
static void hand_over(struct rte_graph *graph, struct rte_node *node, struct reassembly *r,
		      struct rte_mbuf *m, uint32_t from, uint64_t now)
{
	struct worker *worker = node_worker(node);
	struct handed_over *h = &r->handed_over[r->handed_over_next];
	uint32_t kept = from;

	datagram_id_of(m, &h->datagram);
	for (uint32_t k = from; k < r->death_row.cnt; k++) {
		struct rte_mbuf *held = r->death_row.row[k];
		struct datagram_id datagram;
		datagram_id_of(held, &datagram);
		if (datagram_equal(&datagram, &h->datagram))
			rte_node_enqueue_x1(graph, node,
					    steer(worker, held, ESPD_COUNTER_IP_REASSEMBLE_HANDED_OVER,
						  IP_REASSEMBLE_NEXT_PUNT), held);
		else
			r->death_row.row[kept++] = held;
	}
	r->death_row.cnt = kept;
	h->until = now + rte_get_tsc_hz() * REASSEMBLE_TIMEOUT_S;
	r->handed_over_until = h->until;
	r->handed_over_next = (r->handed_over_next + 1) % REASSEMBLE_HANDED_OVER;
}

/* Whether the kernel may have a datagram the table gave up, of which m is
 * a fragment: not the router's own (the kernel sent it), nor one a policy
 * check must see whole (decrypted, or anything but ESP while in-policies
 * are checked), which the kernel would take in unchecked. */
static bool kernel_may_take(struct rte_mbuf *m)
{
	uint8_t proto;

	if (pkt_meta(m)->flags & (PKT_OWN | PKT_IPSEC_DECRYPTED))
		return false;
	return !spd_plaintext_active() || (pkt_reassemblable(m, &proto) && proto == IPPROTO_ESP);
}

/* Fragment m into the table; the datagram, once whole, on its way. */
static void reassemble_one(struct rte_graph *graph, struct rte_node *node, struct reassembly *r,
			   struct rte_mbuf *m, uint64_t now)
{
	struct worker *worker = node_worker(node);
	uint32_t from = r->death_row.cnt;
	struct rte_mbuf *datagram;

	if (unlikely(is_handed_over(r, m, now))) {
		rte_node_enqueue_x1(graph, node,
				    steer(worker, m, ESPD_COUNTER_IP_REASSEMBLE_HANDED_OVER,
					  IP_REASSEMBLE_NEXT_PUNT), m);
		return;
	}
	datagram = reassemble(r, m, now);
	if (datagram) {
		uint16_t next = whole(worker, r, &datagram);
		rte_node_enqueue_x1(graph, node, next, datagram);
	} else if (unlikely(given_up(r, m, from)) && kernel_may_take(m)) {
		hand_over(graph, node, r, m, from, now);
	}
}

static uint16_t ip_reassemble_process(struct rte_graph *graph, struct rte_node *node, void **objs,
				      uint16_t nb_objs)
{
	struct worker *worker = node_worker(node);
	struct reassembly *r = &reassemblies[worker->id];
	uint64_t now = rte_rdtsc();

	for (uint16_t i = 0; i < nb_objs; i++) {
		reassemble_one(graph, node, r, objs[i], now);
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
		[IP_REASSEMBLE_NEXT_SPD_INPUT] = NODE_SPD_INPUT,
	},
};

RTE_NODE_REGISTER(ip_reassemble_node);
