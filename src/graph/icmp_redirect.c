/*
 * icmp-redirect: the ICMP redirects (RFC 792, RFC 4861 s.8.2) the kernel's
 * forwarding sends for a packet it routes back out of the interface it
 * came in by. The packet itself goes on, back to ip-rewrite marked
 * PKT_NO_REDIRECT; the redirect, built in a buffer of its own, goes to
 * ip-lookup like any packet of the router's.
 *
 * ip-rewrite hands over such a packet received in clear (not decrypted:
 * the kernel redirects no packet with a secpath) where the kernel would
 * redirect it: IPv4 once the TTL and MTU checks let it through (ip_forward,
 * a packet without DF before ip-fragment cuts it), IPv6 after the hop limit
 * check and before the MTU's (ip6_forward), and only when its neighbor is
 * known: what espd punts, the kernel redirects itself. No source-routed
 * packet gets here: espd punts IPv4 with options, and an IPv6 routing
 * header is processed only at the router as destination, which it punts.
 *
 * IPv4, __mkroute_input and ip_rt_send_redirect: send_redirects on
 * (all's or the interface's; ip-rewrite asks), the source reached through
 * that interface without a gateway (fib_validate_source then returns 1),
 * and shared_media on or the source and the gateway in one subnet of the
 * interface (inet_addr_onlink). A source whose route there is not unicast
 * is a martian to that validation: dropped. The redirect for host names
 * the route's gateway, or the destination (rt_nexthop), quotes the packet
 * with its TTL taken (sent after ip_decrease_ttl) and comes from the
 * address icmp_send picks. Paced per source (redirect4_allow); the ICMP
 * rate limits of icmp_send spare it (icmp_ratemask 0x1818 leaves type 5
 * out), as they spare "fragmentation needed".
 *
 * IPv6, ip6_forward and ndisc_send_redirect: the target is the route's
 * gateway, or the destination; one redirect a second per destination in
 * bursts of 6 (inet_peer_xrlim_allow), then the router's link-local
 * address on the interface, a link-local target unless it is the
 * destination, a sender reached without a gateway, and one a second per
 * sender in bursts of 6. No other ICMPv6 limit applies: ndisc_send_skb
 * sends it as it is, fragment or ICMPv6 error quoted or not.
 *
 * Each limit is this worker's, as icmp-error's are; the kernel's inet_peer
 * entries are shared by all CPUs and by its other ICMP limits.
 */
#include "graph/graph.h"

#include <sys/socket.h>
#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include "esp/esp_packet.h"
#include "graph/icmp_limit.h"
#include "tables/fib.h"
#include "tables/neigh.h"

#define REDIRECT_NUMBER 9         /* ip_rt_redirect_number */
#define REDIRECT_LOAD_PER_SEC 50  /* ip_rt_redirect_load: HZ / 50 */
#define REDIRECT_SILENCE_SHIFT 10 /* ip_rt_redirect_silence: the load << (9 + 1) */

enum icmp_redirect_next {
	ICMP_REDIRECT_NEXT_REWRITE,
	ICMP_REDIRECT_NEXT_LOOKUP,
	ICMP_REDIRECT_NEXT_DROP,
	ICMP_REDIRECT_N_NEXT,
};

/* What ip_rt_send_redirect keeps in the inet_peer of a source. */
struct redirect4_peer {
	uint32_t source; /* network order; 0: none yet */
	uint32_t n_redirects;
	uint64_t rate_last;
};

struct redirect_limit {
	struct redirect4_peer sources4[ICMP_PEERS];
	struct icmp_peer destinations6[ICMP_PEERS]; /* ip6_forward's */
	struct icmp_peer senders6[ICMP_PEERS];      /* ndisc_send_redirect's */
};

static struct redirect_limit limits[ESPD_WORKERS_MAX];

/*
 * ip_rt_send_redirect: the first REDIRECT_NUMBER redirects to a source
 * with exponential backoff (the n-th waits the load << n after the one
 * before), then none, each packet that would be redirected restarting the
 * silence, after which it starts over.
 */
static bool redirect4_allow(struct redirect4_peer peers[ICMP_PEERS], const struct ip_addr *source)
{
	struct redirect4_peer *peer = &peers[icmp_peer_index(source)];
	uint64_t now = rte_rdtsc(), load = rte_get_tsc_hz() / REDIRECT_LOAD_PER_SEC;

	if (peer->source != source->v4)
		*peer = (struct redirect4_peer){ .source = source->v4 };
	if (now > peer->rate_last + (load << REDIRECT_SILENCE_SHIFT))
		peer->n_redirects = 0;
	if (peer->n_redirects >= REDIRECT_NUMBER) {
		peer->rate_last = now;
		return false;
	}
	if (peer->n_redirects && now <= peer->rate_last + (load << peer->n_redirects))
		return false;
	peer->rate_last = now;
	peer->n_redirects++;
	return true;
}

/* fib_validate_source's answer for a packet from source that leaves by
 * in, its input interface, with send_redirects on (__fib_validate_source):
 * -1 when the source's route is not unicast, 1 when it is in's without a
 * gateway (a next hop of host scope), else 0. Where the source's route
 * leaves by another interface, the kernel looks it up again among in's
 * routes (strict rp_filter has dropped the packet in ip-lookup already):
 * espd asks in's subnets, where its prefix routes lead. Of a multipath
 * route, the hop by in if any (fib_info_nh_uses_dev). */
static int source4_validate(const struct iface *in, const struct ip_addr *source)
{
	static const struct ip_addr any;
	uint32_t index = fib_route_by_iface(fib_lookup_addr(source), in->index);
	uint8_t type = fib_nexthop_type(index);

	if (type == NEXTHOP_MISS)
		return 0;
	if (type != NEXTHOP_FORWARD && type != NEXTHOP_PUNT)
		return -1;
	if (type == NEXTHOP_FORWARD && fib_nexthop(index)->iface == in->index)
		return !fib_nexthop(index)->gw.family;
	return iface_addr_onlink(in, source, &any);
}

/* A buffer of m's pool for a redirect of l3_len bytes about m, from the
 * router, behind an Ethernet header ip-rewrite completes. */
static struct rte_mbuf *redirect_alloc(struct worker *worker, const struct rte_mbuf *m,
				       uint32_t l3_len)
{
	const struct pkt_meta *meta = pkt_meta((struct rte_mbuf *)m);
	struct rte_mbuf *r = rte_pktmbuf_alloc(m->pool);
	struct rte_ether_hdr *eth;

	if (!r || !(eth = (struct rte_ether_hdr *)rte_pktmbuf_append(
			    r, (uint16_t)(sizeof(*eth) + l3_len)))) {
		rte_pktmbuf_free(r);
		counter_inc(worker->id, ESPD_COUNTER_REDIRECT_NO_BUFFER);
		return NULL;
	}
	eth->ether_type = meta->family == AF_INET ? RTE_BE16(RTE_ETHER_TYPE_IPV4)
						  : RTE_BE16(RTE_ETHER_TYPE_IPV6);
	r->port = m->port;
	r->l2_len = sizeof(*eth);
	r->l3_len = meta->family == AF_INET ? ESP_IP4_HDR_LEN : ESP_IP6_HDR_LEN;
	*pkt_meta(r) = (struct pkt_meta){
		.family = meta->family, .rx_iface = meta->rx_iface, .flags = PKT_OWN,
	};
	return r;
}

/* Bytes of m's IP packet, as its header says and its buffers hold. */
static uint32_t packet_len(const struct rte_mbuf *m)
{
	uint32_t ip_len = ip_packet_len(rte_pktmbuf_mtod_offset(m, const void *, m->l2_len),
					pkt_meta((struct rte_mbuf *)m)->family);

	return RTE_MIN(ip_len, rte_pktmbuf_pkt_len(m) - m->l2_len);
}

/* The first len bytes of m's IP packet (len <= packet_len), to. */
static void quote_copy(const struct rte_mbuf *m, uint8_t *to, uint32_t len)
{
	const void *from = rte_pktmbuf_read(m, m->l2_len, len, to);

	if (from != to)
		rte_memcpy(to, from, len);
}

static void addrs_of(const struct rte_mbuf *m, struct ip_addr *source, struct ip_addr *dest)
{
	const uint8_t *l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *, m->l2_len);
	uint8_t family = pkt_meta((struct rte_mbuf *)m)->family;

	ip_source_of(l3, family, source);
	ip_dest_of(l3, family, dest);
}

/* icmp_send(skb, ICMP_REDIRECT, ICMP_REDIR_HOST, gateway), or NULL. */
static struct rte_mbuf *redirect4_build(struct worker *worker, struct rte_mbuf *m,
					const struct ip_addr *source, uint32_t gateway_be)
{
	uint32_t hdr = esp_icmp_hdr_len(AF_INET);
	uint32_t quote = RTE_MIN(packet_len(m), esp_icmp_quote_max(AF_INET));
	struct esp_icmp icmp = { .what = ESP_ICMP_REDIRECT, .gateway_be = gateway_be };
	struct rte_mbuf *r = redirect_alloc(worker, m, hdr + quote);
	struct ip_addr from;
	uint8_t *l3;

	if (!r)
		return NULL;
	l3 = rte_pktmbuf_mtod_offset(r, uint8_t *, r->l2_len);
	quote_copy(m, l3 + hdr, quote);
	ip_hop_decrement(l3 + hdr, AF_INET);
	if (!esp_icmp_may_answer(l3 + hdr, quote)) {
		counter_inc(worker->id, ESPD_COUNTER_REDIRECT_NOT_ANSWERED);
		goto none;
	}
	if (!icmp_source_select(r, source, &from, &icmp.ttl)) {
		counter_inc(worker->id, ESPD_COUNTER_REDIRECT_NO_SOURCE);
		goto none;
	}
	icmp.id_be = rte_cpu_to_be_16(worker_ip_id_next(worker));
	esp_icmp_error_write(l3, &from, &icmp, quote);
	return r;
none:
	rte_pktmbuf_free(r);
	return NULL;
}

static uint16_t redirect4(struct worker *worker, struct rte_mbuf *m, struct rte_mbuf **made)
{
	const struct pkt_meta *meta = pkt_meta(m);
	const struct iface *in = &iface_table.ifaces[meta->rx_iface];
	const struct nexthop *nexthop = fib_nexthop(meta->nexthop);
	struct ip_addr source, dest, gateway = { 0 };
	int valid;

	addrs_of(m, &source, &dest);
	if ((valid = source4_validate(in, &source)) < 0)
		return steer(worker, m, ESPD_COUNTER_REDIRECT_MARTIAN, ICMP_REDIRECT_NEXT_DROP);
	if (nexthop->gw.family == AF_INET)
		gateway = nexthop->gw;
	if (!valid || !(in->shared_media || iface_addr_onlink(in, &source, &gateway)))
		return ICMP_REDIRECT_NEXT_REWRITE;
	if (!redirect4_allow(limits[worker->id].sources4, &source))
		counter_inc(worker->id, ESPD_COUNTER_REDIRECT_PACED);
	else
		*made = redirect4_build(worker, m, &source, gateway.family ? gateway.v4 : dest.v4);
	return ICMP_REDIRECT_NEXT_REWRITE;
}

/* ndisc_send_redirect's checks of the router, the target and the sender,
 * then its limit per sender: the reason not to send, or ESPD_COUNTER_MAX
 * with r->source the router's link-local address (ipv6_get_lladdr). */
static enum espd_counter redirect6_refused(struct worker *worker, const struct iface *in,
					   const struct ip_addr *sender, const struct ip_addr *dest,
					   struct esp_redirect6 *r)
{
	static const struct ip_addr link_local = { .family = AF_INET6, .bytes = { 0xfe, 0x80 } };
	/* ndisc_send_redirect's route to the sender is bound to in. */
	uint32_t back = fib_route_by_iface(fib_lookup_addr(sender), in->index);
	uint8_t type = fib_nexthop_type(back);

	if (!iface_source_select(in, &link_local, &r->source))
		return ESPD_COUNTER_REDIRECT_NO_LINK_LOCAL;
	if (!ip_addr_equal(&r->target, dest) && !ip_addr_is_link_local(&r->target))
		return ESPD_COUNTER_REDIRECT_TARGET;
	if (type == NEXTHOP_MISS || type == NEXTHOP_BLACKHOLE || fib_nexthop(back)->gw.family)
		return ESPD_COUNTER_REDIRECT_NOT_NEIGHBOUR;
	if (!icmp_peer_allow(limits[worker->id].senders6, sender, rte_rdtsc(), rte_get_tsc_hz()))
		return ESPD_COUNTER_REDIRECT_SOURCE_LIMITED;
	return ESPD_COUNTER_MAX;
}

static struct rte_mbuf *redirect6_build(struct worker *worker, struct rte_mbuf *m,
					struct esp_redirect6 *r)
{
	uint32_t at, quote;
	struct rte_mbuf *made;
	struct rte_ether_addr mac;
	uint8_t *l3;

	r->has_mac = neigh_lookup(pkt_meta(m)->rx_iface, &r->target, &mac);
	memcpy(r->mac, mac.addr_bytes, sizeof(r->mac));
	at = esp_redirect6_quote_at(r->has_mac);
	quote = esp_redirect6_quote_len(r->has_mac, packet_len(m));
	if (!(made = redirect_alloc(worker, m, at + quote)))
		return NULL;
	l3 = rte_pktmbuf_mtod_offset(made, uint8_t *, made->l2_len);
	quote_copy(m, l3 + at, quote);
	esp_redirect6_write(l3, r, quote);
	return made;
}

static uint16_t redirect6(struct worker *worker, struct rte_mbuf *m, struct rte_mbuf **made)
{
	const struct pkt_meta *meta = pkt_meta(m);
	const struct iface *in = &iface_table.ifaces[meta->rx_iface];
	const struct nexthop *nexthop = fib_nexthop(meta->nexthop);
	struct esp_redirect6 r = { 0 };
	struct ip_addr sender, dest;
	enum espd_counter refused;

	addrs_of(m, &sender, &dest);
	r.target = nexthop->gw.family == AF_INET6 ? nexthop->gw : dest;
	if (!icmp_peer_allow(limits[worker->id].destinations6, &dest, rte_rdtsc(),
			     rte_get_tsc_hz()))
		counter_inc(worker->id, ESPD_COUNTER_REDIRECT_DEST_LIMITED);
	else if ((refused = redirect6_refused(worker, in, &sender, &dest, &r)) != ESPD_COUNTER_MAX)
		counter_inc(worker->id, refused);
	else
		*made = redirect6_build(worker, m, &r);
	return ICMP_REDIRECT_NEXT_REWRITE;
}

static uint16_t icmp_redirect_process(struct rte_graph *graph, struct rte_node *node, void **objs,
				      uint16_t nb_objs)
{
	struct worker *worker = node_worker(node);
	rte_edge_t nexts[nb_objs];
	void *made[nb_objs];
	uint16_t n_made = 0;

	for (uint16_t i = 0; i < nb_objs; i++) {
		struct rte_mbuf *m = objs[i], *redirect = NULL;
		nexts[i] = pkt_meta(m)->family == AF_INET ? redirect4(worker, m, &redirect)
							  : redirect6(worker, m, &redirect);
		pkt_meta(m)->flags |= PKT_NO_REDIRECT;
		if (redirect)
			made[n_made++] = redirect;
	}
	if (n_made)
		rte_node_enqueue(graph, node, ICMP_REDIRECT_NEXT_LOOKUP, made, n_made);
	node_enqueue_burst(graph, node, nexts, objs, nb_objs);
	return nb_objs;
}

static struct rte_node_register icmp_redirect_node = {
	.name = NODE_ICMP_REDIRECT,
	.process = icmp_redirect_process,
	.init = node_ctx_init_worker,
	.nb_edges = ICMP_REDIRECT_N_NEXT,
	.next_nodes = {
		[ICMP_REDIRECT_NEXT_REWRITE] = NODE_IP_REWRITE,
		[ICMP_REDIRECT_NEXT_LOOKUP] = NODE_IP_LOOKUP,
		[ICMP_REDIRECT_NEXT_DROP] = NODE_DROP,
	},
};

RTE_NODE_REGISTER(icmp_redirect_node);
