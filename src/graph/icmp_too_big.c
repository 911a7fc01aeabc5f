/*
 * icmp-too-big: an ICMP "fragmentation needed" or ICMPv6 "packet too big"
 * for the router, on its way to the kernel. One that quotes an ESP packet
 * of an SA espd holds (by the quoted destination and SPI, as the kernel's
 * esp4_err and esp6_err look the SA up; ESP in UDP when the SA is
 * encapsulated to the quoted port) reports the path MTU toward that peer
 * (path_mtu.h), raised to IPv4's floor, if it is below the MTU of the
 * link the peer is reached by; an IPv6 one below 1280 teaches nothing.
 * The message itself goes to the kernel in every case, which learns what
 * it learns. As the kernel's icmp_rcv, a bad checksum teaches nothing.
 */
#include "graph/graph.h"

#include <rte_ip.h>
#include <rte_udp.h>
#include "tables/path_mtu.h"
#include "tables/sad.h"

#define ICMP_HDR_LEN 8 /* type, code, checksum, and the MTU word */

enum icmp_too_big_next {
	ICMP_TOO_BIG_NEXT_PUNT,
	ICMP_TOO_BIG_N_NEXT,
};

/* What the error says: the family, the MTU and the packet it quotes. */
struct too_big {
	uint8_t family;
	uint32_t mtu;
	const uint8_t *quoted;
	uint32_t quoted_len;
};

static bool parse4(const uint8_t *l3, uint32_t l3_len, struct too_big *t)
{
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)l3;
	const uint8_t *icmp = l3 + l3_len;
	uint32_t len = rte_be_to_cpu_16(ip->total_length) - l3_len;

	if (len < ICMP_HDR_LEN || rte_raw_cksum(icmp, len) != 0xffff)
		return false;
	t->mtu = (uint32_t)icmp[6] << 8 | icmp[7];
	t->quoted = icmp + ICMP_HDR_LEN;
	t->quoted_len = len - ICMP_HDR_LEN;
	return true;
}

static bool parse6(const uint8_t *l3, struct too_big *t)
{
	const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)l3;
	const uint8_t *icmp = l3 + sizeof(*ip);
	uint32_t len = rte_be_to_cpu_16(ip->payload_len);
	uint32_t mtu;

	if (len < ICMP_HDR_LEN || rte_ipv6_udptcp_cksum_verify(ip, icmp) != 0)
		return false;
	memcpy(&mtu, icmp + 4, sizeof(mtu));
	t->mtu = rte_be_to_cpu_32(mtu);
	t->quoted = icmp + ICMP_HDR_LEN;
	t->quoted_len = len - ICMP_HDR_LEN;
	return true;
}

/* Where the quoted packet's SPI is (after its IP header, and its UDP
 * header for ESP in UDP), or 0 if it is neither or cut before it. */
static uint32_t quoted_spi_at(const struct too_big *t, uint8_t *proto)
{
	const uint8_t *ip = t->quoted;
	bool ip4 = t->family == AF_INET;
	uint32_t hdr_len = ip4 ? (uint32_t)(ip[0] & 0x0f) * 4 : sizeof(struct rte_ipv6_hdr);

	if ((ip[0] >> 4) != (ip4 ? 4 : 6) || hdr_len < sizeof(struct rte_ipv4_hdr))
		return 0;
	*proto = ip4 ? ip[9] : ip[6];
	if (*proto == IPPROTO_UDP)
		hdr_len += sizeof(struct rte_udp_hdr);
	else if (*proto != IPPROTO_ESP)
		return 0;
	return t->quoted_len >= hdr_len + sizeof(uint32_t) ? hdr_len : 0;
}

/* The SA of the quoted packet by its destination and SPI, or NULL. */
static const struct sa *quoted_sa(const struct too_big *t)
{
	const uint8_t *ip = t->quoted;
	bool ip4 = t->family == AF_INET;
	uint32_t spi_at, spi_be;
	struct sad_key key;
	uint8_t proto;

	if (t->quoted_len < (ip4 ? sizeof(struct rte_ipv4_hdr) : sizeof(struct rte_ipv6_hdr)) ||
	    !(spi_at = quoted_spi_at(t, &proto)))
		return NULL;
	memcpy(&spi_be, ip + spi_at, sizeof(spi_be));
	if (spi_be == 0) /* the non-ESP marker: IKE */
		return NULL;
	sad_key_set(&key, t->family, ip4 ? ip + 16 : ip + 24, spi_be, IPPROTO_ESP);
	const struct sa *sa = sad_sa(sad_lookup(&key));
	if (!sa || (proto == IPPROTO_UDP) != sa->rt.encap)
		return NULL;
	const struct rte_udp_hdr *udp = (const struct rte_udp_hdr *)(ip + spi_at) - 1;
	if (proto == IPPROTO_UDP && udp->dst_port != sa->rt.encap_ports.dport_be)
		return NULL;
	return sa;
}

static uint16_t icmp_too_big_one(struct worker *worker, struct rte_mbuf *m)
{
	const uint8_t *l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *, m->l2_len);
	struct too_big t = { .family = pkt_meta(m)->family };
	const struct sa *sa;

	if (!rte_pktmbuf_is_contiguous(m))
		return steer(worker, m, ESPD_COUNTER_ICMP_TOO_BIG_OTHER, ICMP_TOO_BIG_NEXT_PUNT);
	if (!(t.family == AF_INET ? parse4(l3, m->l3_len, &t) : parse6(l3, &t)))
		return steer(worker, m, ESPD_COUNTER_ICMP_TOO_BIG_CHECKSUM, ICMP_TOO_BIG_NEXT_PUNT);
	if (!(sa = quoted_sa(&t)))
		return steer(worker, m, ESPD_COUNTER_ICMP_TOO_BIG_OTHER, ICMP_TOO_BIG_NEXT_PUNT);
	/* RFC 8201 s.4: never below IPv6's minimum link MTU; the kernel's
	 * __ip6_rt_update_pmtu ignores such a report rather than raise it. */
	if (t.family == AF_INET6 && t.mtu < ESP_IP6_MIN_MTU)
		return steer(worker, m, ESPD_COUNTER_ICMP_TOO_BIG_BELOW_IP6_MIN,
			     ICMP_TOO_BIG_NEXT_PUNT);
	uint32_t mtu = path_mtu_floor(t.family, t.mtu);
	uint32_t link = nexthop_link_mtu(fib_lookup_flow(&sa->rt.src, &sa->rt.dst));
	if (!link || mtu >= link)
		return steer(worker, m, ESPD_COUNTER_ICMP_TOO_BIG_NOT_LOWER, ICMP_TOO_BIG_NEXT_PUNT);
	if (!path_mtu_report(&sa->rt.dst, t.mtu))
		return steer(worker, m, ESPD_COUNTER_ICMP_TOO_BIG_QUEUE_FULL,
			     ICMP_TOO_BIG_NEXT_PUNT);
	return steer(worker, m, ESPD_COUNTER_ICMP_TOO_BIG_REPORTED, ICMP_TOO_BIG_NEXT_PUNT);
}

static uint16_t icmp_too_big_process(struct rte_graph *graph, struct rte_node *node, void **objs,
				     uint16_t nb_objs)
{
	return node_process_each(graph, node, objs, nb_objs, icmp_too_big_one);
}

static struct rte_node_register icmp_too_big_node = {
	.name = NODE_ICMP_TOO_BIG,
	.process = icmp_too_big_process,
	.init = node_ctx_init_worker,
	.nb_edges = ICMP_TOO_BIG_N_NEXT,
	.next_nodes = {
		[ICMP_TOO_BIG_NEXT_PUNT] = NODE_PUNT,
	},
};

RTE_NODE_REGISTER(icmp_too_big_node);
