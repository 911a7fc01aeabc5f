/*
 * ip4-input: checks the IPv4 header (RFC 1812 section 5.2.2: version,
 * length, checksum; addresses as the kernel does) and sends good packets to
 * ip-lookup. Options, multicast and broadcast are left to the kernel.
 */
#include "graph/graph.h"

#include <string.h>
#include <rte_ip.h>
#include "tables/own_addr.h"

enum ip4_input_next {
	IP4_INPUT_NEXT_LOOKUP,
	IP4_INPUT_NEXT_PUNT,
	IP4_INPUT_NEXT_DROP,
	IP4_INPUT_N_NEXT,
};

/* ip_route_input's tests of the addresses, in its order: multicast or
 * limited broadcast sources are martian; multicast and broadcast (also
 * 0.0.0.0 to 0.0.0.0) go to the kernel, which judges their source itself;
 * then 0.0.0.0/8 and 127.0.0.0/8 are martian, as source or destination.
 * Class E (240.0.0.0/4) is routed. One of the router's own addresses as
 * the source is martian too (fib_validate_source; own_addr.h). */
static uint16_t check_addresses(struct worker *worker, struct rte_mbuf *m, uint32_t src_be,
				uint32_t dst_be)
{
	uint32_t src = rte_be_to_cpu_32(src_be), dst = rte_be_to_cpu_32(dst_be);

	if (unlikely((src >> 28) == 0xe || src == UINT32_MAX))
		return steer(worker, m, ESPD_COUNTER_IP4_MARTIAN, IP4_INPUT_NEXT_DROP);
	if (unlikely((dst >> 28) == 0xe || dst == UINT32_MAX || (src | dst) == 0))
		return steer(worker, m, ESPD_COUNTER_IP4_MULTICAST, IP4_INPUT_NEXT_PUNT);
	if (unlikely((src >> 24) == 0 || (src >> 24) == 127))
		return steer(worker, m, ESPD_COUNTER_IP4_MARTIAN, IP4_INPUT_NEXT_DROP);
	if (unlikely((dst >> 24) == 0 || (dst >> 24) == 127))
		return steer(worker, m, ESPD_COUNTER_IP4_MARTIAN_DESTINATION, IP4_INPUT_NEXT_DROP);
	return IP4_INPUT_NEXT_LOOKUP;
}

/* First octets check_addresses has a rule for: a packet without one, the
 * usual, costs two loads there. */
static const bool special_octet[256] = { [0] = true, [127] = true, [224 ... 255] = true };

static inline bool addresses_special(uint32_t src_be, uint32_t dst_be)
{
	return special_octet[rte_be_to_cpu_32(src_be) >> 24] |
	       special_octet[rte_be_to_cpu_32(dst_be) >> 24];
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
		return steer(worker, m, ESPD_COUNTER_IP4_MALFORMED, IP4_INPUT_NEXT_DROP);
	uint32_t header_len = rte_ipv4_hdr_len(ip);
	uint32_t total_len = rte_be_to_cpu_16(ip->total_length);
	if (unlikely(header_len < sizeof(*ip) || total_len < header_len || header_len > l3_len))
		return steer(worker, m, ESPD_COUNTER_IP4_MALFORMED, IP4_INPUT_NEXT_DROP);
	/* Also what an af_packet port's frame could not hold (port.c). */
	if (unlikely(total_len > l3_len))
		return steer(worker, m, ESPD_COUNTER_IP4_TRUNCATED, IP4_INPUT_NEXT_DROP);
	if (unlikely(header_sum(ip, header_len) != 0xffff))
		return steer(worker, m, ESPD_COUNTER_IP4_BAD_CHECKSUM, IP4_INPUT_NEXT_DROP);
	if (unlikely(addresses_special(ip->src_addr, ip->dst_addr))) {
		uint16_t next = check_addresses(worker, m, ip->src_addr, ip->dst_addr);
		if (next != IP4_INPUT_NEXT_LOOKUP)
			return next;
	}
	if (unlikely(own_addr_is(ip->src_addr)))
		return steer(worker, m, ESPD_COUNTER_IP4_MARTIAN, IP4_INPUT_NEXT_DROP);
	if (unlikely(header_len != sizeof(*ip)))
		return steer(worker, m, ESPD_COUNTER_IP4_OPTIONS, IP4_INPUT_NEXT_PUNT);
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
