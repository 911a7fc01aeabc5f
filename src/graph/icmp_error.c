/*
 * icmp-error: the ICMP errors espd sends itself, where the kernel cannot,
 * for a packet too big for the TAP that would take it to the kernel (a
 * jumbo link) or bound for an SA only espd holds: "fragmentation needed" /
 * "packet too big" (RFC 1191, RFC 8201) for a packet too big for its way
 * on, reporting pkt_meta.mtu, and "time exceeded" for a forwarded one whose
 * TTL or hop limit ran out, as pkt_meta.icmp says. The packet becomes the
 * error in place and goes to ip-lookup like any packet of the router's.
 *
 * As the kernel's icmp_send for a packet it forwards: the source is the
 * router's address on the interface the error leaves by (the route back
 * to the sender), the one whose subnet holds the next hop if any; "too
 * big" is never rate-limited (icmpv4_mask_allow, icmpv6 ratemask), "time
 * exceeded" is, as icmp_ratemask has it: 1000 a second in bursts of 50
 * (icmp_msgs_per_sec, icmp_msgs_burst; per worker here) and one a second
 * in bursts of 6 per destination (icmp_ratelimit, XRLIM_BURST_FACTOR; the
 * last destinations in a small table here). An ICMP error or a later
 * fragment is never answered.
 */
#include "graph/graph.h"

#include <sys/socket.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_cycles.h>
#include "esp/esp_packet.h"
#include "graph/icmp_limit.h"
#include "tables/fib.h"

#define ICMP_MSGS_PER_SEC 1000
#define ICMP_MSGS_BURST 50

enum icmp_error_next {
	ICMP_ERROR_NEXT_LOOKUP,
	ICMP_ERROR_NEXT_DROP,
	ICMP_ERROR_N_NEXT,
};

struct icmp_limit {
	struct icmp_bucket global;
	struct icmp_peer peers[ICMP_PEERS];
};

static struct icmp_limit limits[ESPD_WORKERS_MAX];

/* Whether a "time exceeded" to dst may go now. */
static bool rate_allows(unsigned worker_id, const struct ip_addr *dst)
{
	struct icmp_limit *limit = &limits[worker_id];
	uint64_t now = rte_rdtsc(), hz = rte_get_tsc_hz();
	uint64_t cost = hz / ICMP_MSGS_PER_SEC;

	if (!icmp_bucket_take(&limit->global, now, cost, ICMP_MSGS_BURST * cost))
		return false;
	return icmp_peer_allow(limit->peers, dst, now, hz);
}

/* The route back to sender: the interface it leaves by, the address it is
 * sent to there and the TTL or hop limit it gives (the kernel's icmp_send
 * and icmp6_send take the route's), or the interface the packet came in on.
 * Of a multipath route the path m's flow takes: icmp_send and icmp6_send
 * hash the packet they answer, which ip-lookup finds again in the quote. */
static const struct iface *way_back(struct rte_mbuf *m, const struct ip_addr *sender,
				    struct ip_addr *toward, uint8_t *ttl)
{
	uint32_t index = pkt_route_select(m, fib_lookup_addr(sender));
	const struct iface *out = &iface_table.ifaces[pkt_meta(m)->rx_iface];

	*toward = *sender;
	if (fib_nexthop_type(index) == NEXTHOP_FORWARD) {
		const struct nexthop *nexthop = fib_nexthop(index);

		if (nexthop->gw.family == sender->family)
			*toward = nexthop->gw;
		out = &iface_table.ifaces[nexthop->iface];
	}
	*ttl = route_hop_limit(index, sender->family, out);
	return out;
}

bool icmp_source_select(struct rte_mbuf *m, const struct ip_addr *sender, struct ip_addr *source,
			uint8_t *ttl)
{
	struct ip_addr toward;
	const struct iface *out = way_back(m, sender, &toward, ttl);

	if (iface_source_select(out, &toward, source))
		return true;
	return iface_source_select(&iface_table.ifaces[pkt_meta(m)->rx_iface], sender, source);
}

static uint16_t icmp_error_decide(struct worker *worker, struct rte_mbuf *m)
{
	uint8_t family = pkt_meta(m)->family;
	uint8_t *l3 = rte_pktmbuf_mtod_offset(m, uint8_t *, m->l2_len);
	uint32_t ip_len = ip_packet_len(l3, family);
	uint32_t hdr = esp_icmp_hdr_len(family);
	uint32_t quote = RTE_MIN(ip_len, esp_icmp_quote_max(family));
	struct esp_icmp icmp = {
		.what = pkt_meta(m)->icmp,
		.mtu = pkt_meta(m)->mtu,
	};
	struct ip_addr sender, source;
	uint8_t *data;

	ip_source_of(l3, family, &sender);
	if (!esp_icmp_may_answer(l3, ip_len))
		return steer(worker, m, ESPD_COUNTER_ICMP_ERROR_NOT_ANSWERED, ICMP_ERROR_NEXT_DROP);
	if (icmp.what == ESP_ICMP_TIME_EXCEEDED && !rate_allows(worker->id, &sender))
		return steer(worker, m, ESPD_COUNTER_ICMP_ERROR_RATE_LIMITED, ICMP_ERROR_NEXT_DROP);
	if (!icmp_source_select(m, &sender, &source, &icmp.ttl))
		return steer(worker, m, ESPD_COUNTER_ICMP_ERROR_NO_SOURCE, ICMP_ERROR_NEXT_DROP);
	if (rte_pktmbuf_headroom(m) < hdr || !rte_pktmbuf_is_contiguous(m) ||
	    rte_pktmbuf_data_len(m) < m->l2_len + quote)
		return steer(worker, m, ESPD_COUNTER_ICMP_ERROR_NO_ROOM, ICMP_ERROR_NEXT_DROP);
	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) - m->l2_len - quote));
	data = (uint8_t *)rte_pktmbuf_prepend(m, (uint16_t)hdr);
	memmove(data, data + hdr, m->l2_len);
	icmp.id_be = rte_cpu_to_be_16(worker_ip_id_next(worker));
	esp_icmp_error_write(data + m->l2_len, &source, &icmp, quote);
	m->l3_len = (uint16_t)(hdr - 8);
	pkt_meta(m)->flags = PKT_OWN;
	return ICMP_ERROR_NEXT_LOOKUP;
}

static uint16_t icmp_error_process(struct rte_graph *graph, struct rte_node *node, void **objs,
				   uint16_t nb_objs)
{
	return node_process_each(graph, node, objs, nb_objs, icmp_error_decide);
}

static struct rte_node_register icmp_error_node = {
	.name = NODE_ICMP_ERROR,
	.process = icmp_error_process,
	.init = node_ctx_init_worker,
	.nb_edges = ICMP_ERROR_N_NEXT,
	.next_nodes = {
		[ICMP_ERROR_NEXT_LOOKUP] = NODE_IP_LOOKUP,
		[ICMP_ERROR_NEXT_DROP] = NODE_DROP,
	},
};

RTE_NODE_REGISTER(icmp_error_node);
