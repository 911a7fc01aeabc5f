/*
 * ipsec-input: ESP (RFC 4303) and ESP in UDP (RFC 3948) addressed to the
 * router, as ip-lookup found them. On port 4500 it tells ESP from what the
 * kernel's UDP encapsulation socket takes (xfrm4_udp_encap_rcv): a NAT
 * keepalive (one byte 0xff) and IKE (non-ESP marker, or too short for ESP)
 * are punted; ESP in UDP ends where the UDP length says and must pass the
 * UDP checksum (udp_queue_rcv_one_skb). Then the SA by (SPI, destination,
 * ESP), in bulk: unknown or not offloaded goes to the kernel, which may
 * hold it (an unknown SPI is never dropped here), and so does ESP of the
 * kernel's transport-mode SAs, which ends at the router; ESP of an SA
 * stopped at its lifetime limit is dropped, as the kernel drops it; an SA
 * espd runs takes the packet to esp-decrypt.
 */
#include "graph/graph.h"

#include <sys/socket.h>
#include <rte_ip.h>
#include <rte_udp.h>
#include "common/key.h"
#include "esp/esp_packet.h"
#include "tables/sad.h"

#define IPSEC_INPUT_BULK 64

enum ipsec_input_next {
	IPSEC_INPUT_NEXT_DECRYPT,
	IPSEC_INPUT_NEXT_PUNT,
	IPSEC_INPUT_NEXT_DROP,
	IPSEC_INPUT_N_NEXT,
	IPSEC_INPUT_LOOKUP = IPSEC_INPUT_N_NEXT, /* ESP found: SA lookup pending */
};

/* Bytes of IP payload (the IP headers checked the totals against the frame). */
static uint32_t ip_payload_len(const struct rte_mbuf *m, const uint8_t *l3)
{
	const struct rte_ipv4_hdr *ip4 = (const struct rte_ipv4_hdr *)l3;
	const struct rte_ipv6_hdr *ip6 = (const struct rte_ipv6_hdr *)l3;

	if (pkt_meta((struct rte_mbuf *)m)->family == AF_INET)
		return rte_be_to_cpu_16(ip4->total_length) - m->l3_len;
	return ESP_IP6_HDR_LEN + rte_be_to_cpu_16(ip6->payload_len) - m->l3_len;
}

/* As udp_lib_checksum_complete before the kernel hands a datagram to the
 * encapsulation socket: an IPv4 checksum of 0 means none; over IPv6 one is
 * required (udp6 drops 0 unless the socket set UDP_NO_CHECK6_RX, which
 * IKE daemons do not). */
static bool udp_checksum_ok(const struct rte_mbuf *m, const uint8_t *l3, const uint8_t *udp,
			    uint32_t udp_len)
{
	uint64_t verdict = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
	bool v4 = pkt_meta((struct rte_mbuf *)m)->family == AF_INET;
	uint16_t stored, sum;

	memcpy(&stored, udp + offsetof(struct rte_udp_hdr, dgram_cksum), sizeof(stored));
	if (stored == 0)
		return v4;
	if (verdict != RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN)
		return verdict != RTE_MBUF_F_RX_L4_CKSUM_BAD;
	if (rte_raw_cksum_mbuf(m, m->l2_len + m->l3_len, udp_len, &sum) != 0)
		return false;
	/* The pseudo-header: both addresses, protocol and UDP length (DPDK's
	 * rte_ipv6_udptcp_cksum_mbuf_verify takes the IPv6 payload length,
	 * which extension headers make longer). */
	const uint8_t *addrs = v4 ? l3 + offsetof(struct rte_ipv4_hdr, src_addr)
				  : l3 + offsetof(struct rte_ipv6_hdr, src_addr);
	uint32_t total = __rte_raw_cksum(addrs, v4 ? 8 : 32, sum) +
			 rte_cpu_to_be_16(IPPROTO_UDP) + rte_cpu_to_be_16((uint16_t)udp_len);
	return __rte_raw_cksum_reduce(total) == 0xffff;
}

/* __udp4/6_lib_rcv trim the packet to the UDP length: ESP ends there. The
 * IP length follows, as esp-decrypt reads it. */
static void udp_trim(struct rte_mbuf *m, uint8_t *l3, uint32_t extra)
{
	rte_pktmbuf_trim(m, (uint16_t)extra);
	if (pkt_meta(m)->family == AF_INET) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)l3;
		ip->total_length = rte_cpu_to_be_16((uint16_t)(rte_be_to_cpu_16(ip->total_length) - extra));
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		return;
	}
	struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)l3;
	ip6->payload_len = rte_cpu_to_be_16((uint16_t)(rte_be_to_cpu_16(ip6->payload_len) - extra));
}

/* RFC 3948 s.2: ESP, keepalive or IKE on the NAT-T port. */
static uint16_t udp_classify(struct worker *worker, struct rte_mbuf *m, uint8_t *l3,
			     const uint8_t *udp, uint32_t len)
{
	uint32_t udp_len = rte_be_to_cpu_16(((const struct rte_udp_hdr *)udp)->dgram_len);
	const uint8_t *data = udp + ESP_UDP_HDR_LEN;
	uint32_t marker;

	/* IPv6 jumbograms carry 0: the datagram is the rest of the packet. */
	if (udp_len == 0 && pkt_meta(m)->family == AF_INET6)
		udp_len = len;
	if (unlikely(udp_len < ESP_UDP_HDR_LEN || udp_len > len))
		return steer(worker, m, ESPD_COUNTER_IPSEC_TRUNCATED, IPSEC_INPUT_NEXT_DROP);
	if (unlikely(udp_len < len))
		udp_trim(m, l3, len - udp_len);
	if (udp_len - ESP_UDP_HDR_LEN == 1 && data[0] == ESP_NATT_KEEPALIVE)
		return steer(worker, m, ESPD_COUNTER_IPSEC_KEEPALIVE, IPSEC_INPUT_NEXT_PUNT);
	if (udp_len - ESP_UDP_HDR_LEN <= ESP_CRYPTO_HDR_LEN)
		return steer(worker, m, ESPD_COUNTER_IPSEC_IKE, IPSEC_INPUT_NEXT_PUNT);
	memcpy(&marker, data, ESP_NON_ESP_MARKER_LEN);
	if (marker == 0)
		return steer(worker, m, ESPD_COUNTER_IPSEC_IKE, IPSEC_INPUT_NEXT_PUNT);
	if (unlikely(!udp_checksum_ok(m, l3, udp, udp_len)))
		return steer(worker, m, ESPD_COUNTER_IPSEC_UDP_CHECKSUM, IPSEC_INPUT_NEXT_DROP);
	m->l4_len = ESP_UDP_HDR_LEN;
	return IPSEC_INPUT_LOOKUP;
}

/* Find the ESP header; on success fill the SAD key. */
static uint16_t parse(struct worker *worker, struct rte_mbuf *m, struct sad_key *key)
{
	uint8_t *l3 = rte_pktmbuf_mtod_offset(m, uint8_t *, m->l2_len);
	uint32_t len = ip_payload_len(m, l3);
	uint8_t family = pkt_meta(m)->family;
	const uint8_t *esp = l3 + m->l3_len;
	uint32_t spi;

	m->l4_len = 0;
	if (l3[family == AF_INET ? 9 : 6] == IPPROTO_UDP) {
		uint16_t next = udp_classify(worker, m, l3, esp, len);
		if (next != IPSEC_INPUT_LOOKUP)
			return next;
		esp += ESP_UDP_HDR_LEN;
	} else if (unlikely(len < ESP_CRYPTO_HDR_LEN)) {
		return steer(worker, m, ESPD_COUNTER_IPSEC_TRUNCATED, IPSEC_INPUT_NEXT_DROP);
	}
	memcpy(&spi, esp, sizeof(spi));
	if (family == AF_INET)
		sad_key_set(key, AF_INET, &((const struct rte_ipv4_hdr *)l3)->dst_addr, spi,
			    IPPROTO_ESP);
	else
		sad_key_set(key, AF_INET6, ((const struct rte_ipv6_hdr *)l3)->dst_addr, spi,
			    IPPROTO_ESP);
	return IPSEC_INPUT_LOOKUP;
}

static uint16_t sa_verdict(struct worker *worker, struct rte_mbuf *m, uint32_t index)
{
	const struct sa *sa = index == SAD_INDEX_NONE ? NULL : sad_sa(index);

	if (!sa)
		return steer(worker, m, ESPD_COUNTER_IPSEC_UNKNOWN_SPI, IPSEC_INPUT_NEXT_PUNT);
	/* xfrm_input drops for an SA no longer valid (XFRMINSTATEINVALID): one
	 * a worker stopped at its limit, until the control thread removes it. */
	if (unlikely(__atomic_load_n(&sa->rt.state, __ATOMIC_RELAXED) ==
		     SA_STATE_EXPIRED_LIFETIME)) {
		sa_count_error(worker->id, index, SA_ERROR_EXPIRED);
		return steer(worker, m, ESPD_COUNTER_IPSEC_EXPIRED, IPSEC_INPUT_NEXT_DROP);
	}
	/* xfrm_input: the encapsulation must be the SA's (XFRMINSTATEMISMATCH). */
	if (unlikely(sa->rt.encap != (m->l4_len != 0))) {
		sa_count_error(worker->id, index, SA_ERROR_ENCAP);
		return steer(worker, m, ESPD_COUNTER_IPSEC_ENCAP, IPSEC_INPUT_NEXT_DROP);
	}
	if (unlikely(!sa_ready(sa, SA_DIR_IN)))
		return steer(worker, m, ESPD_COUNTER_IPSEC_NOT_OFFLOADED, IPSEC_INPUT_NEXT_PUNT);
	/* Transport mode ends at the router. The kernel's inbound policy for
	 * its own SA wants the ESP packet: the plaintext espd would punt
	 * carries no sign of decryption and would fail that check. */
	if (unlikely(sa->rt.mode == SA_MODE_TRANSPORT && sa->rt.origin == IPSEC_ORIGIN_KERNEL))
		return steer(worker, m, ESPD_COUNTER_IPSEC_KERNEL_TRANSPORT, IPSEC_INPUT_NEXT_PUNT);
	pkt_meta(m)->sa_index = index;
	return IPSEC_INPUT_NEXT_DECRYPT;
}

/* Packets of one SA come in runs: a key equal to the one before shares its
 * lookup, so the hash is computed once per run. */
static void classify(struct worker *worker, struct rte_mbuf **pkts, uint16_t n, rte_edge_t *nexts)
{
	struct sad_key keys[IPSEC_INPUT_BULK];
	const struct sad_key *refs[IPSEC_INPUT_BULK];
	uint32_t indexes[IPSEC_INPUT_BULK];
	uint16_t at[IPSEC_INPUT_BULK], key_of[IPSEC_INPUT_BULK];
	unsigned n_keys = 0, n_found = 0;

	_Static_assert(sizeof(struct sad_key) % sizeof(uint64_t) == 0, "key_equal compares whole words");
	for (uint16_t i = 0; i < n; i++) {
		nexts[i] = parse(worker, pkts[i], &keys[n_keys]);
		if (nexts[i] != IPSEC_INPUT_LOOKUP)
			continue;
		if (n_keys == 0 || !key_equal(&keys[n_keys], &keys[n_keys - 1], sizeof(keys[0]))) {
			refs[n_keys] = &keys[n_keys];
			n_keys++;
		}
		key_of[n_found] = (uint16_t)(n_keys - 1);
		at[n_found++] = i;
	}
	if (n_found == 0)
		return;
	sad_lookup_bulk(refs, indexes, n_keys);
	for (unsigned k = 0; k < n_found; k++)
		nexts[at[k]] = sa_verdict(worker, pkts[at[k]], indexes[key_of[k]]);
}

static uint16_t ipsec_input_process(struct rte_graph *graph, struct rte_node *node, void **objs,
				    uint16_t nb_objs)
{
	return node_process_chunks(graph, node, objs, nb_objs, IPSEC_INPUT_BULK, classify);
}

static struct rte_node_register ipsec_input_node = {
	.name = NODE_IPSEC_INPUT,
	.process = ipsec_input_process,
	.init = node_ctx_init_worker,
	.nb_edges = IPSEC_INPUT_N_NEXT,
	.next_nodes = {
		[IPSEC_INPUT_NEXT_DECRYPT] = NODE_ESP_DECRYPT,
		[IPSEC_INPUT_NEXT_PUNT] = NODE_PUNT,
		[IPSEC_INPUT_NEXT_DROP] = NODE_DROP,
	},
};

RTE_NODE_REGISTER(ipsec_input_node);
