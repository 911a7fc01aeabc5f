/*
 * ip6-input: checks the IPv6 header (version, payload length against the
 * frame) and sends good packets to ip-lookup. Hop-by-hop options, and
 * link-local or multicast destinations, are the kernel's.
 */
#include "graph/graph.h"

#include <netinet/in.h>
#include <rte_ip.h>

enum ip6_input_next {
	IP6_INPUT_NEXT_LOOKUP,
	IP6_INPUT_NEXT_PUNT,
	IP6_INPUT_NEXT_DROP,
	IP6_INPUT_N_NEXT,
};

static inline bool is_link_local_or_multicast(const uint8_t *addr)
{
	return addr[0] == 0xff || (addr[0] == 0xfe && (addr[1] & 0xc0) == 0x80);
}

static inline bool is_martian_source(const uint8_t *addr)
{
	static const uint8_t loopback[16] = { [15] = 1 };
	return addr[0] == 0xff || memcmp(addr, loopback, sizeof(loopback)) == 0;
}

static uint16_t check(struct worker *worker, struct rte_mbuf *m)
{
	uint32_t l3_len = rte_pktmbuf_data_len(m) - m->l2_len;
	const struct rte_ipv6_hdr *ip =
		rte_pktmbuf_mtod_offset(m, const struct rte_ipv6_hdr *, m->l2_len);

	if (unlikely(l3_len < sizeof(*ip) || (rte_be_to_cpu_32(ip->vtc_flow) >> 28) != 6 ||
		     rte_be_to_cpu_16(ip->payload_len) + sizeof(*ip) > l3_len))
		return steer(worker, ESPD_COUNTER_IP6_MALFORMED, IP6_INPUT_NEXT_DROP);
	if (unlikely(is_martian_source(ip->src_addr)))
		return steer(worker, ESPD_COUNTER_IP6_MARTIAN, IP6_INPUT_NEXT_DROP);
	if (unlikely(ip->proto == IPPROTO_HOPOPTS))
		return steer(worker, ESPD_COUNTER_IP6_HOP_BY_HOP, IP6_INPUT_NEXT_PUNT);
	if (unlikely(is_link_local_or_multicast(ip->dst_addr)))
		return steer(worker, ESPD_COUNTER_IP6_LINK_LOCAL, IP6_INPUT_NEXT_PUNT);
	m->l3_len = sizeof(*ip);
	return IP6_INPUT_NEXT_LOOKUP;
}

static uint16_t ip6_input_process(struct rte_graph *graph, struct rte_node *node, void **objs,
                                  uint16_t nb_objs)
{
	return node_process_each(graph, node, objs, nb_objs, check);
}

static struct rte_node_register ip6_input_node = {
	.name = NODE_IP6_INPUT,
	.process = ip6_input_process,
	.init = node_ctx_init_worker,
	.nb_edges = IP6_INPUT_N_NEXT,
	.next_nodes = {
		[IP6_INPUT_NEXT_LOOKUP] = NODE_IP_LOOKUP,
		[IP6_INPUT_NEXT_PUNT] = NODE_PUNT,
		[IP6_INPUT_NEXT_DROP] = NODE_DROP,
	},
};

RTE_NODE_REGISTER(ip6_input_node);
