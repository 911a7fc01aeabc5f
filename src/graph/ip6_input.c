/*
 * ip6-input: checks the IPv6 header (version, payload length against the
 * frame, addresses) and sends good packets to ip-lookup. Hop-by-hop
 * options, link-local or multicast destinations and link-local or
 * unspecified sources are the kernel's.
 */
#include "graph/graph.h"

#include <netinet/in.h>
#include <string.h>
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

/* The address as two words, high and low, in host order. */
static inline void address_words(const uint8_t *addr, uint64_t word[2])
{
	memcpy(word, addr, 16);
	word[0] = rte_be_to_cpu_64(word[0]);
	word[1] = rte_be_to_cpu_64(word[1]);
}

static inline bool is_loopback(const uint8_t *addr)
{
	uint64_t word[2];

	address_words(addr, word);
	return word[0] == 0 && word[1] == 1;
}

static inline bool is_link_local_or_unspecified(const uint8_t *addr)
{
	uint64_t word[2];

	address_words(addr, word);
	return (word[0] >> 54) == 0x3fa || (word[0] | word[1]) == 0;
}

static uint16_t check(struct worker *worker, struct rte_mbuf *m)
{
	uint32_t l3_len = rte_pktmbuf_data_len(m) - m->l2_len;
	const struct rte_ipv6_hdr *ip =
		rte_pktmbuf_mtod_offset(m, const struct rte_ipv6_hdr *, m->l2_len);

	if (unlikely(l3_len < sizeof(*ip) || (rte_be_to_cpu_32(ip->vtc_flow) >> 28) != 6 ||
		     rte_be_to_cpu_16(ip->payload_len) + sizeof(*ip) > l3_len))
		return steer(worker, m, ESPD_COUNTER_IP6_MALFORMED, IP6_INPUT_NEXT_DROP);
	/* As ip6_rcv_core. */
	if (unlikely(ip->src_addr[0] == 0xff || is_loopback(ip->src_addr)))
		return steer(worker, m, ESPD_COUNTER_IP6_MARTIAN, IP6_INPUT_NEXT_DROP);
	if (unlikely(is_loopback(ip->dst_addr)))
		return steer(worker, m, ESPD_COUNTER_IP6_MARTIAN_DESTINATION, IP6_INPUT_NEXT_DROP);
	if (unlikely(ip->proto == IPPROTO_HOPOPTS))
		return steer(worker, m, ESPD_COUNTER_IP6_HOP_BY_HOP, IP6_INPUT_NEXT_PUNT);
	if (unlikely(is_link_local_or_multicast(ip->dst_addr)))
		return steer(worker, m, ESPD_COUNTER_IP6_LINK_LOCAL, IP6_INPUT_NEXT_PUNT);
	/* ip6_forward refuses these (a link-local one with ICMPv6 "beyond
	 * scope"); local delivery takes them: the kernel decides. */
	if (unlikely(is_link_local_or_unspecified(ip->src_addr)))
		return steer(worker, m, ESPD_COUNTER_IP6_SOURCE_SCOPE, IP6_INPUT_NEXT_PUNT);
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
