/*
 * ip4-input: checks the IPv4 header (RFC 1812 section 5.2.2: version,
 * length, checksum) and sends good packets to ip-lookup. Options and
 * multicast are left to the kernel.
 */
#include "graph/graph.h"

#include <string.h>
#include <rte_ip.h>

enum ip4_input_next {
	IP4_INPUT_NEXT_LOOKUP,
	IP4_INPUT_NEXT_PUNT,
	IP4_INPUT_NEXT_DROP,
	IP4_INPUT_N_NEXT,
};

static inline bool is_multicast_or_broadcast(uint32_t addr_be)
{
	uint32_t addr = rte_be_to_cpu_32(addr_be);
	return (addr >> 28) == 0xe || addr == UINT32_MAX;
}

static inline bool is_martian_source(uint32_t addr_be)
{
	uint32_t addr = rte_be_to_cpu_32(addr_be);
	return (addr >> 28) >= 0xe || (addr >> 24) == 127 || (addr >> 24) == 0;
}

/* The one's complement sum of the header as rte_raw_cksum() gives it, in
 * five 32-bit additions for the usual 20-byte header: the sum is the same
 * folded over 32 or 16 bits (RFC 1071, section 2). */
static inline uint16_t header_sum(const struct rte_ipv4_hdr *ip, uint32_t header_len)
{
	uint32_t word[5];

	if (unlikely(header_len != sizeof(word)))
		return rte_raw_cksum(ip, header_len);
	memcpy(word, ip, sizeof(word));
	uint64_t sum = (uint64_t)word[0] + word[1] + word[2] + word[3] + word[4];
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)((sum & 0xffff) + (sum >> 16));
}

static uint16_t check(struct worker *worker, struct rte_mbuf *m)
{
	uint32_t l3_len = rte_pktmbuf_data_len(m) - m->l2_len;
	const struct rte_ipv4_hdr *ip =
		rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, m->l2_len);

	if (unlikely(l3_len < sizeof(*ip) || (ip->version_ihl >> 4) != 4))
		return steer(worker, ESPD_COUNTER_IP4_MALFORMED, IP4_INPUT_NEXT_DROP);
	uint32_t header_len = rte_ipv4_hdr_len(ip);
	uint32_t total_len = rte_be_to_cpu_16(ip->total_length);
	if (unlikely(header_len < sizeof(*ip) || total_len < header_len || header_len > l3_len))
		return steer(worker, ESPD_COUNTER_IP4_MALFORMED, IP4_INPUT_NEXT_DROP);
	/* Also what an af_packet port's frame could not hold (port.c). */
	if (unlikely(total_len > l3_len))
		return steer(worker, ESPD_COUNTER_IP4_TRUNCATED, IP4_INPUT_NEXT_DROP);
	if (unlikely(header_sum(ip, header_len) != 0xffff))
		return steer(worker, ESPD_COUNTER_IP4_BAD_CHECKSUM, IP4_INPUT_NEXT_DROP);
	if (unlikely(is_martian_source(ip->src_addr)))
		return steer(worker, ESPD_COUNTER_IP4_MARTIAN, IP4_INPUT_NEXT_DROP);
	if (unlikely(header_len != sizeof(*ip)))
		return steer(worker, ESPD_COUNTER_IP4_OPTIONS, IP4_INPUT_NEXT_PUNT);
	if (unlikely(is_multicast_or_broadcast(ip->dst_addr)))
		return steer(worker, ESPD_COUNTER_IP4_MULTICAST, IP4_INPUT_NEXT_PUNT);
	m->l3_len = header_len;
	return IP4_INPUT_NEXT_LOOKUP;
}

static uint16_t ip4_input_process(struct rte_graph *graph, struct rte_node *node, void **objs,
                                  uint16_t nb_objs)
{
	return node_process_each(graph, node, objs, nb_objs, check);
}

static struct rte_node_register ip4_input_node = {
	.name = NODE_IP4_INPUT,
	.process = ip4_input_process,
	.init = node_ctx_init_worker,
	.nb_edges = IP4_INPUT_N_NEXT,
	.next_nodes = {
		[IP4_INPUT_NEXT_LOOKUP] = NODE_IP_LOOKUP,
		[IP4_INPUT_NEXT_PUNT] = NODE_PUNT,
		[IP4_INPUT_NEXT_DROP] = NODE_DROP,
	},
};

RTE_NODE_REGISTER(ip4_input_node);
