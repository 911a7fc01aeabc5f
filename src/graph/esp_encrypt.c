/*
 * esp-encrypt: ESP output (RFC 4303 s.3.1) for packets spd-output matched
 * to an SA: per burst, sequence numbers reserved once per run of one SA,
 * headers built in place (tunnel: a new IPv4/IPv6 header from the SA's
 * endpoints, optionally ESP-in-UDP; transport: ESP after the IP header),
 * then one crypto burst. A tunnel packet whose outer destination (the
 * SA's peer, looked up once per run of the SA) is forwarded goes straight
 * to ip-rewrite; other packets go back to ip-lookup for their destination
 * (PKT_IPSEC_ENCRYPTED keeps them out of spd-output).
 *
 * As the kernel's xfrm output: a tunnel-mode packet is forwarded first
 * (inner TTL or hop limit decremented; 1 goes to the kernel, which answers
 * with ICMP, or to icmp-error if its TAP cannot take it; the router's own
 * packets keep theirs, PKT_OWN), and a packet that would not fit the outer
 * link's MTU once protected (or the path MTU toward the peer, path_mtu.h,
 * when ICMP reported a lower one) is the kernel's, to answer with ICMP
 * "fragmentation needed" / "packet too big" (xfrm4/6_tunnel_check_size)
 * or to fragment. An espd-only (CLI) SA is unknown to the kernel, which
 * would forward such a packet in clear: espd sends that ICMP itself
 * (icmp-error); an IPv4 packet without DF it encrypts, and ip-rewrite has
 * the ESP packet fragmented (may_fragment). A datagram of the router's own
 * that its kernel had fragmented (PKT_REASSEMBLED) is fragmented where the
 * kernel's xfrm output would: of IPv6 in tunnel mode, cut to the SA's MTU
 * by ip-fragment first, the fragments coming back to be protected one by
 * one (fragments_first); otherwise protected whole, the ESP packet
 * fragmented. An ESP packet that fits the link but not the path and may
 * be fragmented is cut to the path MTU
 * (PKT_PATH_MTU): an IPv4 one without DF, as the kernel's output fragments
 * to the route's; an IPv6 packet of up to 1280 bytes, which the tunnel
 * carries whatever the path (RFC 2473 s.7.1, and the kernel's xfrm
 * interfaces), where the kernel's policy tunnels answer a forwarded one
 * with "packet too big" below 1280 (__xfrm6_output), which hosts ignore.
 */
#include "graph/graph.h"

#include <sys/socket.h>
#include <rte_ip.h>
#include "esp/esp_packet.h"
#include "tables/fib.h"
#include "tables/sad.h"

enum esp_encrypt_next {
	ESP_ENCRYPT_NEXT_LOOKUP,
	ESP_ENCRYPT_NEXT_REWRITE,
	ESP_ENCRYPT_NEXT_PUNT,
	ESP_ENCRYPT_NEXT_DROP,
	ESP_ENCRYPT_NEXT_ICMP_ERROR,
	ESP_ENCRYPT_NEXT_FRAGMENT,
	ESP_ENCRYPT_N_NEXT,
	ESP_ENCRYPT_READY = ESP_ENCRYPT_N_NEXT, /* checks passed: build it */
};

/* Per packet while the burst is built. */
struct enc_pkt {
	struct sa *sa;
	uint32_t ip_len;  /* the packet to protect (IP header included) */
	uint32_t payload; /* what ESP carries: lifetimes count it (xfrm_output_one) */
	uint32_t outer_nexthop; /* FIB next hop of the SA's peer */
	uint32_t path_mtu; /* toward the peer, when below the link's; else 0 */
	uint32_t hdr_len;  /* transport: the IP header ESP goes after; tunnel: 0 */
	uint32_t nh_off;   /* transport: that header's next header field */
	uint32_t pad;      /* ESP padding */
};

static inline uint8_t *l3_of(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, uint8_t *, m->l2_len);
}

/* The FIB next hop of the SA's peer, where the outer header is sent; of a
 * multipath route the one the SA's addresses take (xfrm_dst_lookup). */
static uint32_t outer_route(const struct sa *sa)
{
	return fib_lookup_flow(&sa->rt.src, &sa->rt.dst);
}

/* Largest inner packet the SA carries over a link of link_mtu: the
 * kernel's xfrm_state_mtu; IPv6 never below 1280 (xfrm6_tunnel_check_size;
 * see PKT_PATH_MTU above for how such a packet leaves). */
static uint32_t inner_mtu(const struct sa *sa, uint8_t family, uint32_t link_mtu)
{
	const struct esp_crypto *c = sa->rt.crypto;
	bool tunnel = sa->rt.mode == SA_MODE_TUNNEL;
	uint32_t udp = sa->rt.encap ? ESP_UDP_HDR_LEN : 0;
	/* Tunnel: new header, UDP, ESP, IV. Transport: the IP header stays. */
	uint32_t front = tunnel ? esp_outer_len(sa->rt.family, sa->rt.encap) + c->hdr_len
				: udp + c->hdr_len;
	uint32_t net_adj = tunnel ? 0 : (family == AF_INET ? ESP_IP4_HDR_LEN : ESP_IP6_HDR_LEN);
	uint32_t mtu = esp_inner_mtu(link_mtu, front, c->icv_len, esp_align(c->block_size),
				     net_adj);

	return family == AF_INET6 ? RTE_MAX(mtu, (uint32_t)ESP_IP6_MIN_MTU) : mtu;
}

/*
 * A datagram of the router's own that its kernel had fragmented
 * (PKT_REASSEMBLED), of IPv6 in tunnel mode: the kernel's __xfrm6_output
 * cuts it to the SA's MTU first (ip6_fragment) and protects each fragment
 * in an ESP packet of its own, which then fits the link. ip-fragment cuts
 * it and hands the fragments back (PKT_SA_FRAGMENT).
 */
static bool fragments_first(struct rte_mbuf *m, const struct sa *sa)
{
	return (pkt_meta(m)->flags & PKT_REASSEMBLED) && pkt_meta(m)->family == AF_INET6 &&
	       sa->rt.mode == SA_MODE_TUNNEL;
}

/*
 * An IPv4 packet without DF may be fragmented: the kernel lets it into the
 * SA (xfrm4_tunnel_check_size) and fragments the ESP packet on output,
 * over IPv4 (whose tunnel header has no DF either, nor has the packet's
 * own header in transport mode) and over IPv6 alike; ip-rewrite does. So
 * may a datagram of the router's own that its kernel had fragmented
 * (PKT_REASSEMBLED) and that is not cut first (fragments_first): IPv4
 * output (xfrm4_output) and transport mode protect the datagram whole and
 * fragment the ESP packet.
 */
static bool may_fragment(struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ip4 = (const struct rte_ipv4_hdr *)l3_of(m);

	if (pkt_meta(m)->flags & PKT_REASSEMBLED)
		return true;
	return pkt_meta(m)->family == AF_INET &&
	       !(ip4->fragment_offset & RTE_BE16(RTE_IPV4_HDR_DF_FLAG));
}

static uint16_t too_big(struct worker *worker, struct rte_mbuf *m, const struct enc_pkt *p,
			uint32_t mtu)
{
	const struct sa *sa = p->sa;

	if (sa->rt.origin != IPSEC_ORIGIN_CLI) {
		sa_count_error(worker->id, sa->rt.index, SA_ERROR_MTU);
		return steer(worker, m, ESPD_COUNTER_ESP_ENC_MTU, ESP_ENCRYPT_NEXT_PUNT);
	}
	if (fragments_first(m, sa)) {
		pkt_meta(m)->flags |= PKT_SA_FRAGMENT;
		pkt_meta(m)->mtu = (uint16_t)mtu;
		return ESP_ENCRYPT_NEXT_FRAGMENT;
	}
	if (may_fragment(m))
		return ESP_ENCRYPT_READY;
	sa_count_error(worker->id, sa->rt.index, SA_ERROR_MTU);
	pkt_icmp_request(m, ESP_ICMP_TOO_BIG, (uint16_t)mtu);
	return steer(worker, m, ESPD_COUNTER_ESP_ENC_MTU_ICMP, ESP_ENCRYPT_NEXT_ICMP_ERROR);
}

/* Forwarded into the tunnel with TTL or hop limit 1: "time exceeded", from
 * the kernel, or from espd when the TAP cannot take the packet there. */
static uint16_t ttl_expired(struct worker *worker, struct rte_mbuf *m, uint32_t ip_len)
{
	if (pkt_fits_tap(m, ip_len))
		return steer(worker, m, ESPD_COUNTER_ESP_ENC_TTL, ESP_ENCRYPT_NEXT_PUNT);
	pkt_icmp_request(m, ESP_ICMP_TIME_EXCEEDED, 0);
	return steer(worker, m, ESPD_COUNTER_ESP_ENC_TTL_ICMP, ESP_ENCRYPT_NEXT_ICMP_ERROR);
}

/* The outer route and largest inner packets of the last SA seen, worked
 * out once per run of it. */
struct enc_mtu {
	uint32_t sa_index;  /* SAD_INDEX_NONE before the first packet */
	uint32_t nexthop;   /* outer_route */
	uint32_t link;      /* or the path MTU if lower; 0: the kernel routes them */
	uint32_t path;      /* the path MTU if lower than the link's, else 0 */
	uint32_t fits[2];   /* IPv4, IPv6 inner packets */
};

static void mtu_learn(struct enc_mtu *mtu, const struct sa *sa)
{
	mtu->sa_index = sa->rt.index;
	mtu->nexthop = outer_route(sa);
	mtu->link = nexthop_link_mtu(mtu->nexthop);
	mtu->path = 0;
	if (!mtu->link)
		return;
	uint32_t path = __atomic_load_n(&sa->rt.path_mtu, __ATOMIC_RELAXED);
	if (path && path < mtu->link)
		mtu->link = mtu->path = path;
	mtu->fits[0] = inner_mtu(sa, AF_INET, mtu->link);
	mtu->fits[1] = inner_mtu(sa, AF_INET6, mtu->link);
}

/* What refuses a packet before its run of the SA is laid out (fit refuses
 * the rest, also before a sequence number is spent). */
static uint16_t check(struct worker *worker, struct rte_mbuf *m, struct enc_pkt *p,
		      struct enc_mtu *mtu)
{
	uint8_t family = pkt_meta(m)->family;
	uint8_t *l3 = l3_of(m);
	struct sa *sa = sad_sa(pkt_meta(m)->sa_index);

	if (unlikely(!sa || !sa->rt.crypto))
		return steer(worker, m, ESPD_COUNTER_ESP_ENC_SA_GONE, ESP_ENCRYPT_NEXT_DROP);
	p->sa = sa;
	p->ip_len = ip_packet_len(l3, family);
	if (unlikely(!rte_pktmbuf_is_contiguous(m) ||
		     m->l2_len + p->ip_len > rte_pktmbuf_data_len(m))) {
		sa_count_error(worker->id, sa->rt.index, SA_ERROR_NO_ROOM);
		return steer(worker, m, ESPD_COUNTER_ESP_ENC_MALFORMED, ESP_ENCRYPT_NEXT_DROP);
	}
	if (sa->rt.mode == SA_MODE_TUNNEL && !pkt_is_own(m)) {
		uint8_t ttl = family == AF_INET ? ((struct rte_ipv4_hdr *)l3)->time_to_live
						: ((struct rte_ipv6_hdr *)l3)->hop_limits;
		if (unlikely(ttl <= 1))
			return ttl_expired(worker, m, p->ip_len);
	}
	if (mtu->sa_index != sa->rt.index)
		mtu_learn(mtu, sa);
	p->outer_nexthop = mtu->nexthop;
	p->path_mtu = mtu->path;
	if (mtu->link) {
		uint32_t fits = mtu->fits[family == AF_INET6];
		if (unlikely(p->ip_len > fits))
			return too_big(worker, m, p, fits);
	}
	return ESP_ENCRYPT_READY;
}

/*
 * What all packets of a run of one SA share, worked out once per run: the
 * sizes around the protected part and, for tunnel mode, the outer header
 * fields that come from the SA. Per packet, only the fields taken from the
 * inner header are written into `outer` before it is used.
 */
struct enc_layout {
	const struct sa *sa;
	struct esp_outer outer;
	uint32_t front;   /* tunnel: outer IP header + UDP; transport: UDP */
	uint32_t head;    /* front + ESP header + IV: bytes put before the payload */
	uint32_t align;
	uint32_t icv_len;
	bool tunnel;
	bool limited; /* sa_limited */
};

/* The tunnel header's TTL or hop limit: the kernel's for the route to the
 * peer (xfrm4_mode_tunnel_output and xfrm6's take ip4/ip6_dst_hoplimit). */
static uint8_t outer_ttl(uint8_t family, uint32_t nexthop)
{
	const struct iface *out = fib_nexthop_type(nexthop) == NEXTHOP_FORWARD
		? &iface_table.ifaces[fib_nexthop(nexthop)->iface] : NULL;

	return route_hop_limit(nexthop, family, out);
}

static void layout_init(struct enc_layout *l, const struct sa *sa, uint32_t nexthop)
{
	const struct esp_crypto *c = sa->rt.crypto;
	uint32_t udp = sa->rt.encap ? ESP_UDP_HDR_LEN : 0;
	union sa_udp_ports ports = {
		.both = udp ? __atomic_load_n(&sa->rt.encap_ports.both, __ATOMIC_RELAXED) : 0
	};

	l->sa = sa;
	l->tunnel = sa->rt.mode == SA_MODE_TUNNEL;
	l->front = l->tunnel ? esp_outer_len(sa->rt.family, sa->rt.encap) : udp;
	l->head = l->front + c->hdr_len;
	l->align = esp_align(c->block_size);
	l->icv_len = c->icv_len;
	l->limited = sa_limited(sa);
	l->outer.src = sa->rt.src;
	l->outer.dst = sa->rt.dst;
	l->outer.sport_be = ports.sport_be;
	l->outer.dport_be = ports.dport_be;
	l->outer.ttl = outer_ttl(sa->rt.family, nexthop);
}

static void outer_fill(struct worker *worker, const struct sa *sa, const uint8_t *inner,
		       uint8_t family, struct esp_outer *o)
{
	const struct rte_ipv4_hdr *ip4 = (const struct rte_ipv4_hdr *)inner;

	o->dsfield = esp_encap_dsfield(esp_ip_dsfield(inner), sa->rt.flags, sa->rt.extra_flags);
	/* The kernel takes DF from an IPv4 inner header and sets it for IPv6
	 * (xfrm4/6_extract_header), unless the SA says nopmtudisc. */
	o->df = !(sa->rt.flags & SA_FLAG_NOPMTUDISC) &&
		(family == AF_INET6 || (ip4->fragment_offset & RTE_BE16(RTE_IPV4_HDR_DF_FLAG)));
	/* ip_select_ident for a packet without a socket: DF gives ID 0. */
	o->id_be = o->df ? 0 : rte_cpu_to_be_16(worker_ip_id_next(worker));
	o->flow_label = family == AF_INET6
		? rte_be_to_cpu_32(((const struct rte_ipv6_hdr *)inner)->vtc_flow) & 0xfffff : 0;
}

/* Whether the frame's one segment (check) has head new bytes before it
 * and room for its IP packet of ip_len and tail new bytes after it. */
static inline bool frame_room(const struct rte_mbuf *m, uint32_t head, uint32_t ip_len,
			      uint32_t tail)
{
	return m->data_off >= head && m->data_off + m->l2_len + ip_len + tail <= m->buf_len;
}

/*
 * Makes the frame its L2 header, head new bytes, its IP packet (ip_len,
 * dropping whatever followed it) and tail new bytes, which frame_room
 * found room for. Returns the frame's new start.
 */
static uint8_t *frame_grow(struct rte_mbuf *m, uint32_t head, uint32_t ip_len, uint32_t tail)
{
	uint8_t *start = rte_pktmbuf_mtod(m, uint8_t *) - head;

	frame_set(m, start, m->l2_len + head + ip_len + tail);
	return start;
}

/* ESP's bytes after the payload: padding, trailer and ICV. */
static inline uint32_t tail_of(const struct enc_pkt *p, const struct enc_layout *l)
{
	return p->pad + ESP_TRAILER_LEN + l->icv_len;
}

/*
 * Tunnel mode: | eth | outer IP | UDP? | ESP | IV | inner packet | pad | ICV |.
 * Returns the ESP header.
 */
static uint8_t *build_tunnel(struct worker *worker, struct rte_mbuf *m, const struct enc_pkt *p,
			     struct enc_layout *l)
{
	const struct sa *sa = l->sa;
	uint8_t family = pkt_meta(m)->family;
	uint32_t tail = tail_of(p, l);
	uint8_t *data = frame_grow(m, l->head, p->ip_len, tail);
	uint8_t *inner = data + m->l2_len + l->head;

	if (!pkt_is_own(m))
		ip_hop_decrement(inner, family);
	outer_fill(worker, sa, inner, family, &l->outer);
	eth_header_move(data, data + l->head, sa->rt.family);
	esp_outer_write(data + m->l2_len, &l->outer, l->head - l->front + p->ip_len + tail);
	esp_trailer_write(inner + p->ip_len, p->pad, family == AF_INET ? ESP_NH_IPIP : ESP_NH_IPV6);
	pkt_meta(m)->family = sa->rt.family;
	return data + m->l2_len + l->front;
}

/* Transport mode: | eth | IP header | UDP? | ESP | IV | payload | pad | ICV |,
 * the IP header being p->hdr_len bytes with its next header at p->nh_off. */
static uint8_t *build_transport(struct rte_mbuf *m, const struct enc_pkt *p,
				const struct enc_layout *l)
{
	uint32_t udp = l->front, head = l->head, hdr_len = p->hdr_len;
	uint32_t payload = p->payload, tail = tail_of(p, l);
	uint8_t next_header = l3_of(m)[p->nh_off];
	uint8_t *data = frame_grow(m, head, p->ip_len, tail), *l3;

	memmove(data, data + head, m->l2_len + hdr_len);
	l3 = data + m->l2_len;
	esp_ip_header_fix(l3, hdr_len, p->nh_off, udp ? IPPROTO_UDP : IPPROTO_ESP,
			  head + payload + tail);
	if (udp)
		esp_udp_write(l3 + hdr_len, l->outer.sport_be, l->outer.dport_be,
			      head - udp + payload + tail);
	esp_trailer_write(l3 + hdr_len + head + payload, p->pad, next_header);
	return l3 + hdr_len + udp;
}

/* Build one packet that fit, numbered seq, and its crypto op. */
static void build(struct worker *worker, struct rte_mbuf *m, struct enc_pkt *p,
		  struct enc_layout *l, uint64_t seq, struct esp_crypto_op *op)
{
	uint32_t seq_low = rte_cpu_to_be_32((uint32_t)seq);
	uint8_t *esp = l->tunnel ? build_tunnel(worker, m, p, l) : build_transport(m, p, l);

	memcpy(esp, &l->sa->rt.spi_be, 4);
	memcpy(esp + 4, &seq_low, 4);
	op->sa = l->sa->rt.crypto;
	op->esp = esp;
	op->len = p->payload + p->pad + ESP_TRAILER_LEN;
	op->esn_hi = (uint32_t)(seq >> 32);
	op->status = 0;
}

/*
 * Whether the ESP packet is above the path MTU and may be fragmented to it:
 * an IPv6 one, held at 1280 bytes inside (RFC 2473 s.7.1), or an IPv4 one
 * without DF.
 */
static bool above_path_mtu(struct rte_mbuf *m, uint32_t path_mtu)
{
	const uint8_t *l3 = l3_of(m);
	uint8_t family = pkt_meta(m)->family;

	return ip_packet_len(l3, family) > path_mtu && (family == AF_INET6 || may_fragment(m));
}

/* ESP in UDP over IPv6: the checksum covers the finished ESP packet. */
static void finish(struct rte_mbuf *m, const struct enc_pkt *p, const struct esp_crypto_op *op)
{
	struct pkt_meta *meta = pkt_meta(m);

	if (p->sa->rt.encap && p->sa->rt.family == AF_INET6) {
		uint8_t *l3 = l3_of(m);
		esp_udp6_checksum_set(l3, (uint32_t)(op->esp - ESP_UDP_HDR_LEN - l3));
	}
	meta->flags = PKT_IPSEC_ENCRYPTED;
	if (unlikely(p->path_mtu) && above_path_mtu(m, p->path_mtu)) {
		meta->flags |= PKT_PATH_MTU;
		meta->mtu = (uint16_t)p->path_mtu;
	}
}

struct enc_burst {
	struct enc_pkt pkts[ESP_CRYPTO_BURST_MAX];
	struct esp_crypto_op ops[ESP_CRYPTO_BURST_MAX];
	struct esp_crypto_op *refs[ESP_CRYPTO_BURST_MAX];
	uint16_t at[ESP_CRYPTO_BURST_MAX]; /* op -> packet */
};

static uint16_t refuse(struct worker *worker, struct rte_mbuf *m, const struct sa *sa,
		       enum sa_error sa_why, enum espd_counter why)
{
	sa_count_error(worker->id, sa->rt.index, sa_why);
	return steer(worker, m, why, ESP_ENCRYPT_NEXT_DROP);
}

/*
 * What xfrm_output_one refuses a packet for before xfrm_replay_overflow
 * numbers it, so that a refused packet spends no sequence number: a
 * transport header it cannot split (xfrm4/6_transport_output), no room for
 * ESP (xfrm_skb_check_space grows the kernel's buffer; espd's cannot), and
 * an SA with limits that reached one (xfrm_state_check_expire, counting
 * the packet). Lays the packet's ESP out for build.
 */
static __rte_always_inline uint16_t
fit(struct worker *worker, struct rte_mbuf *m, struct enc_pkt *p, const struct enc_layout *l)
{
	p->hdr_len = 0;
	if (!l->tunnel && unlikely(esp_transport_split(l3_of(m), p->ip_len, &p->hdr_len,
						       &p->nh_off) != 0))
		return refuse(worker, m, p->sa, SA_ERROR_NO_ROOM, ESPD_COUNTER_ESP_ENC_MALFORMED);
	p->payload = p->ip_len - p->hdr_len;
	p->pad = esp_pad_len(p->payload, l->align);
	if (unlikely(!frame_room(m, l->head, p->ip_len, tail_of(p, l))))
		return refuse(worker, m, p->sa, SA_ERROR_NO_ROOM, ESPD_COUNTER_ESP_ENC_NO_ROOM);
	if (unlikely(l->limited) && !sa_used_take(p->sa, p->payload))
		return refuse(worker, m, p->sa, SA_ERROR_EXPIRED, ESPD_COUNTER_ESP_ENC_EXPIRED);
	return ESP_ENCRYPT_READY;
}

/* The run of one SA starting at i fitted (fit): returns its end, with how
 * many packets it still has in *want. */
static uint16_t run_fit(struct worker *worker, struct rte_mbuf **pkts, struct enc_burst *b,
			rte_edge_t *nexts, uint16_t i, uint16_t n, const struct enc_layout *l,
			uint32_t *want)
{
	*want = 0;
	for (; i < n && (nexts[i] != ESP_ENCRYPT_READY || b->pkts[i].sa == l->sa); i++) {
		if (nexts[i] != ESP_ENCRYPT_READY)
			continue;
		nexts[i] = fit(worker, pkts[i], &b->pkts[i], l);
		*want += nexts[i] == ESP_ENCRYPT_READY;
	}
	return i;
}

/* No sequence number left for the packet (xfrm_replay_overflow): dropped,
 * its lifetime count given back (sa_used_give_back). */
static uint16_t exhausted(struct worker *worker, struct rte_mbuf *m, const struct enc_pkt *p,
			  const struct enc_layout *l)
{
	if (l->limited)
		sa_used_give_back(p->sa, p->payload);
	return refuse(worker, m, p->sa, SA_ERROR_SEQ_OVERFLOW, ESPD_COUNTER_ESP_ENC_SEQ_OVERFLOW);
}

/* Build the packet of the sequence number seq (0: none left) and its
 * crypto op. Inlined: as a call it cost 5 cycles a packet at 64 B. */
static __rte_always_inline uint16_t
prepare_one(struct worker *worker, struct rte_mbuf *m, struct enc_pkt *p, struct enc_layout *layout,
	    uint64_t seq, struct esp_crypto_op *op)
{
	if (unlikely(seq == 0))
		return exhausted(worker, m, p, layout);
	build(worker, m, p, layout, seq, op);
	return ESP_ENCRYPT_READY;
}

/* Sequence numbers once per run of one SA (RFC 4303 s.3.3.3), for the
 * packets that fit: past exhaustion the rest of the run is dropped and the
 * SA stops. */
static uint16_t prepare(struct worker *worker, struct rte_mbuf **pkts, struct enc_burst *b,
			rte_edge_t *nexts, uint16_t n)
{
	uint16_t n_ops = 0;

	for (uint16_t i = 0; i < n;) {
		if (nexts[i] != ESP_ENCRYPT_READY) {
			i++;
			continue;
		}
		struct enc_layout layout;
		uint64_t seq = 0;
		uint32_t want;
		layout_init(&layout, b->pkts[i].sa, b->pkts[i].outer_nexthop);
		uint16_t end = run_fit(worker, pkts, b, nexts, i, n, &layout, &want);
		int granted = want ? sad_seq_reserve(b->pkts[i].sa, want, &seq) : 0;
		for (; i < end; i++) {
			if (nexts[i] != ESP_ENCRYPT_READY)
				continue;
			nexts[i] = prepare_one(worker, pkts[i], &b->pkts[i], &layout,
					       granted-- > 0 ? seq++ : 0, &b->ops[n_ops]);
			if (nexts[i] != ESP_ENCRYPT_READY)
				continue;
			b->refs[n_ops] = &b->ops[n_ops];
			b->at[n_ops++] = i;
		}
	}
	return n_ops;
}

/* A tunnel header goes to the SA's peer, whose route was looked up in this
 * burst: a forwarding one goes straight to ip-rewrite, anything else
 * through ip-lookup, which counts why it leaves the fast path. Transport
 * mode keeps the packet's own destination, for ip-lookup to route. */
static uint16_t routed(struct rte_mbuf *m, const struct sa *sa, uint32_t nexthop)
{
	if (sa->rt.mode != SA_MODE_TUNNEL || fib_nexthop_type(nexthop) != NEXTHOP_FORWARD)
		return ESP_ENCRYPT_NEXT_LOOKUP;
	pkt_meta(m)->nexthop = nexthop;
	return ESP_ENCRYPT_NEXT_REWRITE;
}

static void encrypt_burst(struct worker *worker, struct rte_mbuf **pkts, uint16_t n,
			  rte_edge_t *nexts)
{
	struct enc_burst b;
	struct sa_count_run counted = { .index = SAD_INDEX_NONE };
	struct enc_mtu mtu = { .sa_index = SAD_INDEX_NONE };
	uint16_t n_ops, ok;

	for (uint16_t i = 0; i < n; i++)
		nexts[i] = check(worker, pkts[i], &b.pkts[i], &mtu);
	n_ops = prepare(worker, pkts, &b, nexts, n);
	if (n_ops == 0)
		return;
	esp_crypto_iv_fill(worker->crypto, b.refs, n_ops);
	ok = esp_crypto_encrypt_burst(worker->crypto, b.refs, n_ops);
	for (uint16_t k = 0; k < n_ops; k++) {
		uint16_t i = b.at[b.refs[k] - b.ops];
		const struct sa *sa = b.pkts[i].sa;
		if (unlikely(k >= ok)) {
			sa_count_error(worker->id, sa->rt.index, SA_ERROR_CRYPTO);
			nexts[i] = steer(worker, pkts[i], ESPD_COUNTER_ESP_ENC_CRYPTO,
					 ESP_ENCRYPT_NEXT_DROP);
			continue;
		}
		finish(pkts[i], &b.pkts[i], b.refs[k]);
		sa_count_run_add(worker->id, &counted, sa->rt.index, b.pkts[i].payload);
		nexts[i] = routed(pkts[i], sa, b.pkts[i].outer_nexthop);
	}
	sa_count_run_flush(worker->id, &counted);
}

static uint16_t esp_encrypt_process(struct rte_graph *graph, struct rte_node *node, void **objs,
				    uint16_t nb_objs)
{
	return node_process_chunks(graph, node, objs, nb_objs, ESP_CRYPTO_BURST_MAX, encrypt_burst);
}

static struct rte_node_register esp_encrypt_node = {
	.name = NODE_ESP_ENCRYPT,
	.process = esp_encrypt_process,
	.init = node_ctx_init_worker,
	.nb_edges = ESP_ENCRYPT_N_NEXT,
	.next_nodes = {
		[ESP_ENCRYPT_NEXT_LOOKUP] = NODE_IP_LOOKUP,
		[ESP_ENCRYPT_NEXT_REWRITE] = NODE_IP_REWRITE,
		[ESP_ENCRYPT_NEXT_PUNT] = NODE_PUNT,
		[ESP_ENCRYPT_NEXT_DROP] = NODE_DROP,
		[ESP_ENCRYPT_NEXT_ICMP_ERROR] = NODE_ICMP_ERROR,
		[ESP_ENCRYPT_NEXT_FRAGMENT] = NODE_IP_FRAGMENT,
	},
};

RTE_NODE_REGISTER(esp_encrypt_node);
