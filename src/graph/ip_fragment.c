/*
 * ip-fragment: a packet ip-rewrite found too big for its link and free to
 * be fragmented (IPv4 without DF; an ESP packet espd built, which
 * esp-encrypt lets grow past the link from a plaintext IPv4 packet without
 * DF, as the kernel's xfrm4_tunnel_check_size does; or one above the path
 * MTU toward its SA's peer, PKT_PATH_MTU, cut to that). librte_ip_frag
 * cuts it into fresh mbufs of the packet's own pool; the fragments go back
 * to ip-rewrite and the packet is freed.
 *
 * A packet for the kernel that its TAP would refuse as too big (punt) is
 * cut to what the TAP takes instead (DF or not, if it is for the router)
 * and punted (PKT_PUNT_FRAGMENT).
 *
 * A datagram of the router's own that spd-local had put together and lets
 * out in clear (PKT_REASSEMBLED) is cut again for the link of its TAP, as
 * the kernel had cut it, and goes out through acl-output. One of IPv6 for
 * a tunnel-mode SA (PKT_SA_FRAGMENT) is cut to the SA's inner MTU and its
 * fragments go back to esp-encrypt, as the kernel's __xfrm6_output cuts
 * it (ip6_fragment) before protecting each fragment.
 */
#include "graph/graph.h"

#include <sys/socket.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_random.h>
#include "esp/esp_packet.h"
#include "tables/fib.h"

/* A 9000-byte packet over a 576-byte link. */
#define IP_FRAGMENT_MAX 32

enum ip_fragment_next {
	IP_FRAGMENT_NEXT_REWRITE,
	IP_FRAGMENT_NEXT_DROP,
	IP_FRAGMENT_NEXT_PUNT,
	IP_FRAGMENT_NEXT_ACL_OUTPUT,
	IP_FRAGMENT_NEXT_ESP_ENCRYPT,
	IP_FRAGMENT_N_NEXT,
};

/*
 * librte_ip_frag puts the IPv6 fragment header right after the IPv6 header,
 * where RFC 8200 s.4.5 wants it after the part every fragment repeats:
 * hop-by-hop options, a routing header and destination options before it
 * (where transport mode puts ESP, as ip6_find_1stfragopt). That part is
 * lifted out of the packet before cutting, its next header moved to the
 * IPv6 header, and put back in front of each fragment's fragment header.
 * It must fit the fragments' headroom with the link header.
 */
struct ip6_repeated {
	uint8_t bytes[RTE_PKTMBUF_HEADROOM - RTE_ETHER_HDR_LEN];
	uint32_t len;   /* 0: extension headers fragmented with the rest */
	uint32_t nh_at; /* the next-header byte of its last header, in bytes */
	uint8_t first;  /* the IPv6 header's next header */
};

static int ip6_repeated_lift(struct rte_mbuf *m, struct ip6_repeated *r)
{
	struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv6_hdr *);
	uint32_t hdr_len, nh_off;

	if (esp_transport_split(ip, rte_pktmbuf_data_len(m), &hdr_len, &nh_off) != 0)
		return -EINVAL;
	r->len = hdr_len - sizeof(*ip);
	if (r->len == 0)
		return 0;
	if (r->len > sizeof(r->bytes))
		return -EINVAL;
	r->nh_at = nh_off - (uint32_t)sizeof(*ip);
	r->first = ip->proto;
	rte_memcpy(r->bytes, ip + 1, r->len);
	ip->proto = r->bytes[r->nh_at];
	ip->payload_len = rte_cpu_to_be_16((uint16_t)(rte_be_to_cpu_16(ip->payload_len) - r->len));
	memmove((uint8_t *)ip + r->len, ip, sizeof(*ip));
	rte_pktmbuf_adj(m, (uint16_t)r->len);
	return 0;
}

static void ip6_repeated_put_back(struct rte_mbuf *fragment, const struct ip6_repeated *r)
{
	uint8_t *at = (uint8_t *)rte_pktmbuf_prepend(fragment, (uint16_t)r->len);
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)at;

	memmove(at, at + r->len, sizeof(*ip));
	rte_memcpy(at + sizeof(*ip), r->bytes, r->len);
	at[sizeof(*ip) + r->nh_at] = IPPROTO_FRAGMENT;
	ip->proto = r->first;
	ip->payload_len = rte_cpu_to_be_16((uint16_t)(rte_be_to_cpu_16(ip->payload_len) + r->len));
}

/* The identification is espd's: random per packet (RFC 7739). */
static int32_t fragment6(struct rte_mbuf *m, struct rte_mbuf **fragments, uint16_t mtu)
{
	struct ip6_repeated repeated;
	rte_be32_t id = rte_cpu_to_be_32((uint32_t)rte_rand());

	if (ip6_repeated_lift(m, &repeated) != 0)
		return -EINVAL;
	int32_t n = rte_ipv6_fragment_packet(m, fragments, IP_FRAGMENT_MAX,
					     (uint16_t)(mtu - repeated.len), m->pool, m->pool);
	for (int32_t i = 0; i < n; i++) {
		rte_pktmbuf_mtod_offset(fragments[i], struct rte_ipv6_fragment_ext *,
					sizeof(struct rte_ipv6_hdr))->id = id;
		if (repeated.len)
			ip6_repeated_put_back(fragments[i], &repeated);
	}
	return n;
}

/*
 * librte_ip_frag chains each fragment's data as an indirect mbuf (of a
 * packet that may itself be a chain, as ip-reassemble leaves it); copied
 * into one segment, the ports need no multi-segment support.
 */
static int32_t fragment(struct rte_mbuf *m, struct rte_mbuf **fragments, uint16_t mtu)
{
	bool v4 = pkt_meta(m)->family == AF_INET;
	int32_t n = v4 ? rte_ipv4_fragment_packet(m, fragments, IP_FRAGMENT_MAX, mtu, m->pool,
						  m->pool)
		       : fragment6(m, fragments, mtu);

	for (int32_t i = 0; i < n; i++) {
		if (rte_pktmbuf_linearize(fragments[i]) != 0) {
			rte_pktmbuf_free_bulk(fragments, (unsigned)n);
			return -EMSGSIZE;
		}
	}
	return n;
}

/* Whether an IPv4 packet is addressed to the router (a local route). */
static bool for_router(struct rte_mbuf *m)
{
	uint32_t dst = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *)->dst_addr;
	uint32_t nexthop;

	fib_lookup4_bulk(&dst, &nexthop, 1);
	return fib_nexthop_type(nexthop) == NEXTHOP_LOCAL;
}

/* A punt for the router itself is cut for the TAP, a link inside the
 * router (DPDK's TAP PMD sends no more than 1500 bytes), DF or not: the
 * kernel reassembles it, and a jumbo TCP segment for the router would
 * otherwise never arrive. A packet to forward keeps its DF. The fragments
 * get their checksums afresh. */
static void df_clear_for_router(struct rte_mbuf *m)
{
	if (pkt_meta(m)->family == AF_INET && for_router(m))
		rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *)->fragment_offset &=
			~RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
}

/* What the fragmenter leaves to its caller: the link header in front, the
 * packet's metadata, and the IPv4 header checksum. */
static void fragment_finish(struct rte_mbuf *fragment, struct rte_mbuf *m,
			    const struct rte_ether_hdr *eth)
{
	if (pkt_meta(m)->family == AF_INET) {
		struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(fragment, struct rte_ipv4_hdr *);
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	}
	rte_memcpy(rte_pktmbuf_prepend(fragment, sizeof(*eth)), eth, sizeof(*eth));
	fragment->l2_len = sizeof(*eth);
	fragment->port = m->port;
	*pkt_meta(fragment) = *pkt_meta(m);
}

static void drop(struct rte_graph *graph, struct rte_node *node, struct worker *worker,
		 struct rte_mbuf *m, enum espd_counter why)
{
	rte_node_enqueue_x1(graph, node, steer(worker, m, why, IP_FRAGMENT_NEXT_DROP), m);
}

/* The link's MTU, or the path MTU of an ESP packet when lower; the flag
 * goes, so the fragments pass ip-rewrite. */
static uint16_t fragment_mtu(struct rte_mbuf *m, const struct iface *iface)
{
	struct pkt_meta *meta = pkt_meta(m);

	if (!(meta->flags & PKT_PATH_MTU))
		return iface->mtu;
	meta->flags &= (uint8_t)~PKT_PATH_MTU;
	return RTE_MIN(iface->mtu, meta->mtu);
}

/* Where m goes in fragments and the MTU they are cut to. */
static rte_edge_t fragment_way(struct rte_mbuf *m, uint16_t *mtu)
{
	struct pkt_meta *meta = pkt_meta(m);
	const struct iface *rx = &iface_table.ifaces[meta->rx_iface];

	if (meta->flags & PKT_PUNT_FRAGMENT) {
		*mtu = iface_punt_mtu(rx);
		return IP_FRAGMENT_NEXT_PUNT;
	}
	if (meta->flags & PKT_SA_FRAGMENT) {
		/* The fragments are protected one by one, none the whole
		 * datagram: esp-encrypt takes them as any packet of the SA. */
		*mtu = meta->mtu;
		meta->flags &= (uint8_t)~(PKT_SA_FRAGMENT | PKT_REASSEMBLED);
		return IP_FRAGMENT_NEXT_ESP_ENCRYPT;
	}
	if (meta->flags & PKT_REASSEMBLED) {
		/* From the TAP of the interface it leaves by; the ESP packet
		 * esp-encrypt builds of it carries the flag no more. */
		*mtu = rx->mtu;
		return IP_FRAGMENT_NEXT_ACL_OUTPUT;
	}
	*mtu = fragment_mtu(m, &iface_table.ifaces[fib_nexthop(meta->nexthop)->iface]);
	return IP_FRAGMENT_NEXT_REWRITE;
}

/* Fragments of m to ip-rewrite (or punt, acl-output, esp-encrypt), m
 * freed; or m to drop, counted. */
static void fragment_one(struct rte_graph *graph, struct rte_node *node, struct worker *worker,
			 struct rte_mbuf *m)
{
	uint16_t mtu;
	rte_edge_t next = fragment_way(m, &mtu);
	struct rte_mbuf *fragments[IP_FRAGMENT_MAX];
	struct rte_ether_hdr eth;
	int32_t n;

	if (ip_packet_len(rte_pktmbuf_mtod_offset(m, void *, m->l2_len), pkt_meta(m)->family) <=
	    mtu) {
		rte_node_enqueue_x1(graph, node, next, m);
		return;
	}
	if (unlikely(m->l2_len != sizeof(eth))) {
		drop(graph, node, worker, m, ESPD_COUNTER_IP_FRAGMENT_FAILED);
		return;
	}
	rte_memcpy(&eth, rte_pktmbuf_mtod(m, void *), sizeof(eth));
	rte_pktmbuf_adj(m, sizeof(eth));
	if (next == IP_FRAGMENT_NEXT_PUNT)
		df_clear_for_router(m);
	n = fragment(m, fragments, mtu);
	if (unlikely(n <= 0)) {
		rte_pktmbuf_prepend(m, sizeof(eth));
		drop(graph, node, worker, m, n == -ENOMEM ? ESPD_COUNTER_IP_FRAGMENT_NO_BUFFER
							  : ESPD_COUNTER_IP_FRAGMENT_FAILED);
		return;
	}
	for (int32_t i = 0; i < n; i++)
		fragment_finish(fragments[i], m, &eth);
	rte_node_enqueue(graph, node, next, (void **)fragments, (uint16_t)n);
	rte_pktmbuf_free(m);
}

static uint16_t ip_fragment_process(struct rte_graph *graph, struct rte_node *node, void **objs,
				    uint16_t nb_objs)
{
	struct worker *worker = node_worker(node);

	for (uint16_t i = 0; i < nb_objs; i++)
		fragment_one(graph, node, worker, objs[i]);
	return nb_objs;
}

static struct rte_node_register ip_fragment_node = {
	.name = NODE_IP_FRAGMENT,
	.process = ip_fragment_process,
	.init = node_ctx_init_worker,
	.nb_edges = IP_FRAGMENT_N_NEXT,
	.next_nodes = {
		[IP_FRAGMENT_NEXT_REWRITE] = NODE_IP_REWRITE,
		[IP_FRAGMENT_NEXT_DROP] = NODE_DROP,
		[IP_FRAGMENT_NEXT_PUNT] = NODE_PUNT,
		[IP_FRAGMENT_NEXT_ACL_OUTPUT] = NODE_ACL_OUTPUT,
		[IP_FRAGMENT_NEXT_ESP_ENCRYPT] = NODE_ESP_ENCRYPT,
	},
};

RTE_NODE_REGISTER(ip_fragment_node);
