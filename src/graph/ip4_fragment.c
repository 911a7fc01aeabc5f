/*
 * ip4-fragment: an IPv4 tunnel packet esp-encrypt built that is too big
 * for the link it leaves by, from a plaintext packet without DF. The
 * kernel lets such a packet into the tunnel (xfrm4_tunnel_check_size) and
 * ip_output fragments the ESP packet, whose header has no DF either; so
 * does this node, with librte_ip_frag, into fresh mbufs of the packet's
 * own pool. The fragments go on to ip-rewrite; the packet is freed.
 */
#include "graph/graph.h"

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include "tables/fib.h"

/* A 9000-byte packet over a 576-byte link. */
#define IP4_FRAGMENT_MAX 32

enum ip4_fragment_next {
	IP4_FRAGMENT_NEXT_REWRITE,
	IP4_FRAGMENT_NEXT_DROP,
	IP4_FRAGMENT_N_NEXT,
};

/* What the fragmenter leaves to its caller: the link header in front, the
 * packet's metadata, and the header checksum. */
static void fragment_finish(struct rte_mbuf *fragment, struct rte_mbuf *m,
			    const struct rte_ether_hdr *eth)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(fragment, struct rte_ipv4_hdr *);

	ip->hdr_checksum = rte_ipv4_cksum(ip);
	rte_memcpy(rte_pktmbuf_prepend(fragment, sizeof(*eth)), eth, sizeof(*eth));
	fragment->l2_len = sizeof(*eth);
	fragment->port = m->port;
	*pkt_meta(fragment) = *pkt_meta(m);
}

static void drop(struct rte_graph *graph, struct rte_node *node, struct worker *worker,
		 struct rte_mbuf *m, enum espd_counter why)
{
	rte_node_enqueue_x1(graph, node, steer(worker, why, IP4_FRAGMENT_NEXT_DROP), m);
}

/* Fragments of m to ip-rewrite, m freed; or m to drop, counted. */
static void fragment_one(struct rte_graph *graph, struct rte_node *node, struct worker *worker,
			 struct rte_mbuf *m)
{
	const struct nexthop *nexthop = fib_nexthop(pkt_meta(m)->nexthop);
	struct rte_mbuf *fragments[IP4_FRAGMENT_MAX];
	struct rte_ether_hdr eth;
	int32_t n;

	if (unlikely(m->l2_len != sizeof(eth) || !rte_pktmbuf_is_contiguous(m))) {
		drop(graph, node, worker, m, ESPD_COUNTER_IP4_FRAGMENT_FAILED);
		return;
	}
	rte_memcpy(&eth, rte_pktmbuf_mtod(m, void *), sizeof(eth));
	rte_pktmbuf_adj(m, sizeof(eth));
	n = rte_ipv4_fragment_copy_nonseg_packet(m, fragments, IP4_FRAGMENT_MAX,
						 (uint16_t)iface_table.ifaces[nexthop->iface].mtu,
						 m->pool);
	if (unlikely(n <= 0)) {
		rte_pktmbuf_prepend(m, sizeof(eth));
		drop(graph, node, worker, m, n == -ENOMEM ? ESPD_COUNTER_IP4_FRAGMENT_NO_BUFFER
							  : ESPD_COUNTER_IP4_FRAGMENT_FAILED);
		return;
	}
	for (int32_t i = 0; i < n; i++)
		fragment_finish(fragments[i], m, &eth);
	rte_node_enqueue(graph, node, IP4_FRAGMENT_NEXT_REWRITE, (void **)fragments, (uint16_t)n);
	rte_pktmbuf_free(m);
}

static uint16_t ip4_fragment_process(struct rte_graph *graph, struct rte_node *node, void **objs,
				     uint16_t nb_objs)
{
	struct worker *worker = node_worker(node);

	for (uint16_t i = 0; i < nb_objs; i++)
		fragment_one(graph, node, worker, objs[i]);
	return nb_objs;
}

static struct rte_node_register ip4_fragment_node = {
	.name = NODE_IP4_FRAGMENT,
	.process = ip4_fragment_process,
	.init = node_ctx_init_worker,
	.nb_edges = IP4_FRAGMENT_N_NEXT,
	.next_nodes = {
		[IP4_FRAGMENT_NEXT_REWRITE] = NODE_IP_REWRITE,
		[IP4_FRAGMENT_NEXT_DROP] = NODE_DROP,
	},
};

RTE_NODE_REGISTER(ip4_fragment_node);
