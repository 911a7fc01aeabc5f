/*
 * Shared plumbing of espd's packet graph (rte_graph): node names (spelled
 * once, here), per-packet metadata in an mbuf dynamic field, the worker
 * context each node instance reaches through its ctx, and the helper that
 * both steers a packet to punt/drop and counts why.
 */
#ifndef ESPD_GRAPH_GRAPH_H
#define ESPD_GRAPH_GRAPH_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_graph.h>
#include <rte_graph_worker.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_mbuf.h>
#include <sys/socket.h>
#include <rte_mbuf_dyn.h>
#include <rte_udp.h>
#include <rte_vect.h>
#include <netinet/in.h>
#include <netinet/icmp6.h>
#include <netinet/ip_icmp.h>
#include "esp/esp_packet.h"
#include "graph/counters.h"
#include "tables/fib.h"
#include "tables/iface.h"

#define NODE_PORT_INPUT "port-input"
#define NODE_ACL_INPUT "acl-input"
#define NODE_ACL_OUTPUT "acl-output"
#define NODE_ETHERNET_INPUT "ethernet-input"
#define NODE_IP4_INPUT "ip4-input"
#define NODE_IP6_INPUT "ip6-input"
#define NODE_IP_LOOKUP "ip-lookup"
#define NODE_IP_REWRITE "ip-rewrite"
#define NODE_IP_FRAGMENT "ip-fragment"
#define NODE_IP_REASSEMBLE "ip-reassemble"
#define NODE_ICMP_ERROR "icmp-error"
#define NODE_ICMP_REDIRECT "icmp-redirect"
#define NODE_ICMP_TOO_BIG "icmp-too-big"
#define NODE_PUNT "punt"
#define NODE_PORT_OUTPUT "port-output"
#define NODE_DROP "drop"
#define NODE_SPD_OUTPUT "spd-output"
#define NODE_SPD_LOCAL "spd-local"
#define NODE_ESP_ENCRYPT "esp-encrypt"
#define NODE_IPSEC_INPUT "ipsec-input"
#define NODE_ESP_DECRYPT "esp-decrypt"
#define NODE_SPD_INPUT "spd-input"

/* Per-packet state carried between nodes. */
struct pkt_meta {
	uint32_t nexthop;   /* FIB next hop index, set by ip-lookup */
	uint16_t rx_iface;  /* espd interface it arrived on */
	uint16_t tx_port;   /* DPDK port to send on, set before port-output */
	uint8_t family;     /* AF_INET or AF_INET6 once classified */
	uint8_t flags;      /* PKT_* */
	uint16_t mtu;       /* the MTU icmp-error reports (ESP_ICMP_TOO_BIG), or
			     * the MTU ip-fragment cuts to (PKT_PATH_MTU,
			     * PKT_SA_FRAGMENT) */
	uint32_t sa_index;  /* the SA of esp-encrypt / esp-decrypt (PKT_IPSEC_*) */
	uint8_t icmp;       /* the error icmp-error sends: enum esp_icmp_error */
	uint16_t trace;     /* 0, or the packet's record in its worker's trace + 1 */
	uint16_t why;       /* the counter of its last punt or drop (enum espd_counter) */
};
_Static_assert(sizeof(struct pkt_meta) <= 24, "pkt_meta stays small");

/* pkt_meta.flags: what the IPsec nodes did to the packet, so that its
 * second trip through ip-lookup takes the right way, and where it came from. */
#define PKT_IPSEC_ENCRYPTED 1 /* outer header built: route it, no policy lookup */
#define PKT_IPSEC_DECRYPTED 2 /* inner packet of sa_index: inbound policy check */
#define PKT_IPSEC (PKT_IPSEC_ENCRYPTED | PKT_IPSEC_DECRYPTED)
#define PKT_PUNT_FRAGMENT 4   /* too big for the TAP: ip-fragment cuts it to punt */
/* The router's own packet (what the kernel sends into a TAP, espd's ICMP
 * errors): not forwarded, so no hop is taken from it (TTL or hop limit kept,
 * 1 included), as the kernel's output path takes none. An outer header
 * espd built (PKT_IPSEC_ENCRYPTED) is the router's own too. */
#define PKT_OWN 8
/* An ESP packet espd built that fits its link but not the path MTU toward
 * the SA's peer, and may be fragmented: ip-fragment cuts it to
 * pkt_meta.mtu (esp_encrypt.c says where this follows the kernel). */
#define PKT_PATH_MTU 16
/* The router's own datagram, put together from the fragments the kernel
 * sent into its TAP (spd-local), so that the out policies see it whole as
 * the kernel's xfrm_lookup does: its ESP packet may be fragmented, and in
 * clear ip-fragment cuts it again for its link. */
#define PKT_REASSEMBLED 32
/* Such a datagram of IPv6 above the inner MTU of its tunnel-mode SA:
 * ip-fragment cuts it to pkt_meta.mtu and hands the fragments back to
 * esp-encrypt, each to be protected on its own (esp_encrypt.c). */
#define PKT_SA_FRAGMENT 64
/* A forwarded packet that takes no ICMP redirect (any more): one going back
 * out of the interface it came in by that icmp-redirect has seen (and
 * redirected, or not), whose fragments, which ip-fragment gives its
 * metadata, take none of their own; and a decrypted one, which spd-input
 * passed (the kernel's ip_forward and ip6_forward redirect nothing with a
 * secpath). */
#define PKT_NO_REDIRECT 128

extern int pkt_meta_offset;

static inline struct pkt_meta *pkt_meta(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, pkt_meta_offset, struct pkt_meta *);
}

static inline bool pkt_is_own(struct rte_mbuf *m)
{
	return pkt_meta(m)->flags & (PKT_OWN | PKT_IPSEC_ENCRYPTED);
}

int pkt_meta_register(void);

struct rx_queue_ref {
	uint16_t port;
	uint16_t queue;
	bool is_tap;
};

struct esp_crypto_worker;

struct port_stats {
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
};

/* One per worker lcore; owns a graph, an RCU reader id, a counter row and
 * a transmit queue index on every port. */
struct worker {
	unsigned id;
	unsigned lcore;
	struct rte_graph *graph;
	rte_graph_t graph_id;
	struct rx_queue_ref rx[2 * IFACE_MAX];
	unsigned n_rx;
	uint64_t rx_last_walk;      /* packets the last walk brought in */
	uint64_t walks;             /* graph walks finished (workers_progressed) */
	struct esp_crypto_worker *crypto; /* ESP crypto managers and IV source */
	uint16_t ip_id;             /* IPv4 identification of headers espd builds */
	struct port_stats ports[RTE_MAX_ETHPORTS];
} __rte_cache_aligned;

extern struct worker workers[ESPD_WORKERS_MAX];
extern unsigned n_workers;

struct worker *worker_of_graph(const struct rte_graph *graph);

/* The IPv4 identification of a header the worker builds. Worker i takes
 * i, i + n, i + 2n, ... (n workers) and starts again at i, so that two
 * workers never give one ID toward a peer that reassembles both. */
static inline uint16_t worker_ip_id_next(struct worker *worker)
{
	uint16_t id = worker->ip_id;
	uint32_t next = (uint32_t)id + n_workers;

	worker->ip_id = (uint16_t)(next > UINT16_MAX ? worker->id : next);
	return id;
}

/* Node init helper: remember the worker in the node's context. */
static inline int node_ctx_init_worker(const struct rte_graph *graph, struct rte_node *node)
{
	struct worker *worker = worker_of_graph(graph);
	if (!worker)
		return -ENOENT;
	*(struct worker **)node->ctx = worker;
	return 0;
}

static inline struct worker *node_worker(const struct rte_node *node)
{
	return *(struct worker *const *)node->ctx;
}

/* Whether nexts[0..n) are all nexts[0], n > 0: eight edges a comparison,
 * without a branch per packet, as every node asks it of every burst
 * (measured: ~5 cycles a packet over the ESP path against a scan that
 * stops at the first difference). */
static inline bool edges_all_same(const rte_edge_t *nexts, uint16_t n)
{
	const __m128i first = _mm_set1_epi16((short)nexts[0]);
	__m128i differ = _mm_setzero_si128();
	uint16_t i = 0;
	unsigned rest = 0;

	_Static_assert(sizeof(rte_edge_t) == 2, "eight edges in 16 bytes");
	for (; i + 8 <= n; i += 8)
		differ = _mm_or_si128(differ, _mm_xor_si128(first,
				      _mm_loadu_si128((const __m128i *)(nexts + i))));
	for (; i < n; i++)
		rest |= nexts[i] ^ nexts[0];
	return _mm_testz_si128(differ, differ) && rest == 0;
}

/* Hand a processed burst on. When every packet takes the same edge, which is
 * the common case, the whole stream moves without copying a pointer. */
static inline void node_enqueue_burst(struct rte_graph *graph, struct rte_node *node,
				      const rte_edge_t *nexts, void **objs, uint16_t n)
{
	if (n && edges_all_same(nexts, n))
		rte_node_next_stream_move(graph, node, nexts[0]);
	else
		rte_node_enqueue_next(graph, node, (rte_edge_t *)(uintptr_t)nexts, objs, n);
}

/* The process function of a node that decides each packet's edge on its own:
 * decide is a constant at every call site, so it is inlined. */
static inline uint16_t node_process_each(struct rte_graph *graph, struct rte_node *node,
					 void **objs, uint16_t n,
					 uint16_t (*decide)(struct worker *, struct rte_mbuf *))
{
	struct worker *worker = node_worker(node);
	rte_edge_t nexts[n];

	for (uint16_t i = 0; i < n; i++)
		nexts[i] = decide(worker, objs[i]);
	node_enqueue_burst(graph, node, nexts, objs, n);
	return n;
}

/* The process function of a node that decides its packets in chunks of at
 * most chunk (the size of its per-chunk arrays): decide_chunk fills the
 * chunk's edges; a constant at every call site, so it is inlined. */
static inline uint16_t node_process_chunks(struct rte_graph *graph, struct rte_node *node,
					   void **objs, uint16_t n, uint16_t chunk,
					   void (*decide_chunk)(struct worker *, struct rte_mbuf **,
								uint16_t, rte_edge_t *))
{
	struct worker *worker = node_worker(node);
	rte_edge_t nexts[n];

	if (unlikely(n == 0))
		return 0;
	for (uint16_t off = 0, k; off < n; off += k) {
		k = RTE_MIN((uint16_t)(n - off), chunk);
		decide_chunk(worker, (struct rte_mbuf **)objs + off, k, nexts + off);
	}
	node_enqueue_burst(graph, node, nexts, objs, n);
	return n;
}

/* Bytes of the IP packet at l3, its header included. */
static inline uint32_t ip_packet_len(const void *l3, uint8_t family)
{
	if (family == AF_INET)
		return rte_be_to_cpu_16(((const struct rte_ipv4_hdr *)l3)->total_length);
	return sizeof(struct rte_ipv6_hdr) +
	       rte_be_to_cpu_16(((const struct rte_ipv6_hdr *)l3)->payload_len);
}

/* The source address of the IP header at l3. */
static inline void ip_source_of(const void *l3, uint8_t family, struct ip_addr *source)
{
	if (family == AF_INET)
		ip_addr_from_bytes(source, AF_INET, &((const struct rte_ipv4_hdr *)l3)->src_addr);
	else
		ip_addr_from_bytes(source, AF_INET6, ((const struct rte_ipv6_hdr *)l3)->src_addr);
}

/* The destination address of the IP header at l3. */
static inline void ip_dest_of(const void *l3, uint8_t family, struct ip_addr *dest)
{
	if (family == AF_INET)
		ip_addr_from_bytes(dest, AF_INET, &((const struct rte_ipv4_hdr *)l3)->dst_addr);
	else
		ip_addr_from_bytes(dest, AF_INET6, ((const struct rte_ipv6_hdr *)l3)->dst_addr);
}

/* ESP, or UDP to the NAT-T port (RFC 3948), with its UDP header in the
 * first segment: what ipsec-input takes, of a whole packet for the router
 * whose IP header says proto. */
static inline bool ip_carries_ipsec(const struct rte_mbuf *m, uint8_t proto)
{
	const struct rte_udp_hdr *udp =
		rte_pktmbuf_mtod_offset(m, const struct rte_udp_hdr *, m->l2_len + m->l3_len);

	return proto == IPPROTO_ESP ||
	       (proto == IPPROTO_UDP &&
		rte_pktmbuf_data_len(m) >= m->l2_len + m->l3_len + sizeof(*udp) &&
		udp->dst_port == RTE_BE16(ESP_NATT_PORT));
}

/*
 * ESP adds or removes bytes before the IP header: the frame's Ethernet
 * addresses move to its new start (to), and the ethertype follows the
 * family of what now comes after them. Copied through a local: a memmove
 * of spans the compiler cannot tell apart is a library call per packet.
 */
static inline void eth_header_move(uint8_t *to, const uint8_t *from, uint8_t family)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)to;
	uint8_t addrs[2 * RTE_ETHER_ADDR_LEN];

	memcpy(addrs, from, sizeof(addrs));
	memcpy(to, addrs, sizeof(addrs));
	eth->ether_type = family == AF_INET ? RTE_BE16(RTE_ETHER_TYPE_IPV4)
					    : RTE_BE16(RTE_ETHER_TYPE_IPV6);
}

/* A one-segment packet's frame becomes the len bytes at start, in its own
 * buffer: what trim, adj and prepend do in steps, as one write. */
static inline void frame_set(struct rte_mbuf *m, const uint8_t *start, uint32_t len)
{
	m->data_off = (uint16_t)(start - (const uint8_t *)m->buf_addr);
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
}

/* Forwarding's TTL or hop limit decrement. For IPv4 the checksum is updated
 * incrementally (RFC 1624): the 16-bit word TTL:protocol drops by 0x0100,
 * so the checksum gains 0x0100 with end-around carry; ones' complement sums
 * are byte-order independent (RFC 1071 s.2), so this works on the stored
 * value. Nothing just stored is read back: a byte store followed by a
 * word load of it stalls store forwarding (~10 cycles a packet). */
static inline void ip_hop_decrement(void *l3, uint8_t family)
{
	if (family != AF_INET) {
		((struct rte_ipv6_hdr *)l3)->hop_limits--;
		return;
	}
	struct rte_ipv4_hdr *ip = l3;
	uint32_t sum = (uint32_t)ip->hdr_checksum + RTE_BE16(0x0100);

	ip->hdr_checksum = (uint16_t)(sum + (sum >= 0xffff));
	ip->time_to_live--;
}

/* An ICMP "fragmentation needed" (RFC 1191) or ICMPv6 "packet too big"
 * (RFC 8201) for the router, unfragmented, its type and code in the first
 * segment: what icmp-too-big takes on its way to the kernel. */
static inline bool pkt_icmp_too_big(const struct rte_mbuf *m)
{
	const uint8_t *l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *, m->l2_len);
	const uint8_t *icmp = l3 + m->l3_len;

	if (rte_pktmbuf_data_len(m) < m->l2_len + m->l3_len + 2)
		return false;
	if (pkt_meta((struct rte_mbuf *)m)->family == AF_INET)
		return ((const struct rte_ipv4_hdr *)l3)->next_proto_id == IPPROTO_ICMP &&
		       !rte_ipv4_frag_pkt_is_fragmented((const struct rte_ipv4_hdr *)l3) &&
		       icmp[0] == ICMP_DEST_UNREACH && icmp[1] == ICMP_FRAG_NEEDED;
	return ((const struct rte_ipv6_hdr *)l3)->proto == IPPROTO_ICMPV6 &&
	       icmp[0] == ICMP6_PACKET_TOO_BIG;
}

/* MTU of the interface a FIB next hop leaves by; 0 when the kernel routes
 * (no limit here: the kernel fragments or answers). */
static inline uint32_t nexthop_link_mtu(uint32_t nexthop)
{
	if (fib_nexthop_type(nexthop) != NEXTHOP_FORWARD)
		return 0;
	return iface_table.ifaces[fib_nexthop(nexthop)->iface].mtu;
}

/* Whether the TAP of the interface m came in on takes its l3_len bytes to
 * the kernel whole (a jumbo frame does not fit). */
static inline bool pkt_fits_tap(struct rte_mbuf *m, uint32_t l3_len)
{
	return l3_len <= iface_punt_mtu(&iface_table.ifaces[pkt_meta(m)->rx_iface]);
}

/* Whether m skips the in and fwd policy checks: disable_policy on the
 * interface it came in by (IPSKB_NOPOLICY, ip6_forward). Callers look at
 * iface_table.any_no_policy first. */
static inline bool iface_no_policy(struct rte_mbuf *m)
{
	return iface_table.ifaces[pkt_meta(m)->rx_iface].no_policy[pkt_meta(m)->family == AF_INET6];
}

/* Whether a packet of family leaving by interface index skips the out
 * policies: disable_xfrm there, IPv4 only (DST_NOXFRM). Callers look at
 * iface_table.any_no_xfrm first. */
static inline bool iface_no_xfrm(uint16_t index, uint8_t family)
{
	return family == AF_INET && iface_table.ifaces[index].no_xfrm;
}

/*
 * The TTL or hop limit the kernel gives the router's own packets sent by
 * the route of next hop index (ip4_dst_hoplimit, ip6_dst_hoplimit): the
 * route's hop limit metric, else the sysctls for out (iface_hop_limit).
 */
static inline uint8_t route_hop_limit(uint32_t index, uint8_t family, const struct iface *out)
{
	if (index != FIB_MISS && fib_nexthop(index)->hop_limit)
		return fib_nexthop(index)->hop_limit;
	return iface_hop_limit(out, family);
}

/*
 * The source of an ICMP message of the router's to sender about m, as the
 * kernel's icmp_send picks it: the router's address on the interface the
 * route back to sender leaves by, the one whose subnet holds that route's
 * next hop if any, else one on the interface m came in by. False when
 * neither has one. *ttl: the message's TTL or hop limit, the route's
 * (icmp_error.c).
 */
bool icmp_source_select(struct rte_mbuf *m, const struct ip_addr *sender, struct ip_addr *source,
			uint8_t *ttl);

/* What icmp-error is to send in answer to m (mtu: for ESP_ICMP_TOO_BIG). */
static inline void pkt_icmp_request(struct rte_mbuf *m, enum esp_icmp_error what, uint16_t mtu)
{
	pkt_meta(m)->icmp = (uint8_t)what;
	pkt_meta(m)->mtu = mtu;
}

/* Count why, and leave it on the packet for the drop and punt nodes' trace:
 * a store on these paths only, which forwarding does not take. */
static inline void count_reason(struct worker *worker, struct rte_mbuf *m,
				enum espd_counter why)
{
	counter_inc(worker->id, why);
	pkt_meta(m)->why = (uint16_t)why;
}

/* Count why, and pick the edge (punt or drop) that says what happens. */
static inline uint16_t steer(struct worker *worker, struct rte_mbuf *m, enum espd_counter why,
			     uint16_t next)
{
	count_reason(worker, m, why);
	return next;
}

/*
 * ip-lookup's decision for a packet that spd-input or spd-output lets go
 * on as routed: true to forward (ip-rewrite), false to punt with *why the
 * reason to count (ip_lookup.c).
 */
bool ip_lookup_forwards(const struct rte_mbuf *m, enum espd_counter *why);

/* The multipath flow hash of the packet m (ip_lookup.c). */
uint32_t ip_lookup_flow_hash(const struct rte_mbuf *m);

/* Of a multipath route's lookup result, the member m's flow takes; any
 * other result as it is, for one well-predicted branch. */
static inline uint32_t pkt_route_select(const struct rte_mbuf *m, uint32_t index)
{
	if (likely(!fib_is_group(index)))
		return index;
	return fib_group_select(index, ip_lookup_flow_hash(m));
}

/* Whether m is a fragment ip-reassemble can take (IPv6: the fragment header
 * right after the fixed one); proto: what it carries. */
static inline bool pkt_reassemblable(const struct rte_mbuf *m, uint8_t *proto)
{
	const uint8_t *l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *, m->l2_len);

	if (pkt_meta((struct rte_mbuf *)m)->family == AF_INET) {
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)l3;
		*proto = ip->next_proto_id;
		return rte_ipv4_frag_pkt_is_fragmented(ip);
	}
	*proto = ((const struct rte_ipv6_hdr *)l3)->proto;
	if (likely(*proto != IPPROTO_FRAGMENT) ||
	    rte_pktmbuf_data_len(m) < m->l2_len + sizeof(struct rte_ipv6_hdr) +
				      sizeof(struct rte_ipv6_fragment_ext))
		return false;
	*proto = l3[sizeof(struct rte_ipv6_hdr)];
	return true;
}

/* Each worker's reassembly table (ip_reassemble.c), made before it runs. */
int ip_reassemble_init(unsigned worker_id);
void ip_reassemble_destroy(unsigned worker_id);

#endif
