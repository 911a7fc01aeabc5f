/*
 * esp-decrypt: ESP input (RFC 4303 s.3.4) for packets ipsec-input matched
 * to an SA espd runs. Per burst: the anti-replay check, then lengths, in
 * the kernel's order (xfrm_input's xfrm_replay_check before esp_input),
 * before any crypto (cheap refusal; it also infers the ESN high bits the
 * ICV covers), one crypto burst (ICV compared in constant time by the
 * engine), the trailer (padding 1, 2, 3, ...; next header), the replay
 * window updated only for packets that passed both, as the kernel's
 * xfrm_input advances it only after esp_input, then decapsulation. A dummy
 * packet (RFC 4303 s.2.6: next header 59, traffic flow confidentiality) is
 * discarded before the window moves, as esp_input_done2 does:
 *   tunnel:    the inner packet, DSCP/ECN from the outer header per the SA
 *              flags (RFC 6040, the kernel's xfrm4/6_remove_tunnel_encap);
 *   transport: the IP header moved up to the payload and fixed.
 * The inner packet then re-enters ip4-input/ip6-input as a new packet of
 * its family, marked PKT_IPSEC_DECRYPTED, so its header is checked like any
 * other; spd-input, which parses it for the inbound policy once its route
 * is known, checks it against the SA's selector too (punt does, for one
 * that ip4/ip6-input leaves to the kernel before that).
 */
#include "graph/graph.h"

#include <sys/socket.h>
#include <rte_ip.h>
#include "esp/esp_packet.h"
#include "tables/sad.h"

enum esp_decrypt_next {
	ESP_DECRYPT_NEXT_IP4,
	ESP_DECRYPT_NEXT_IP6,
	ESP_DECRYPT_NEXT_DROP,
	ESP_DECRYPT_N_NEXT,
	ESP_DECRYPT_READY = ESP_DECRYPT_N_NEXT, /* checks passed: decrypt it */
};

struct dec_pkt {
	struct sa *sa;
	uint8_t *esp;
	uint8_t *payload;  /* after the ESP header and IV */
	uint32_t esp_len;  /* ESP header to the end of the ICV */
	uint64_t seq;      /* full sequence number (ESN high bits inferred) */
	uint32_t data_len; /* payload before the trailer, once it is checked */
	uint8_t next_header;
};

struct dec_burst {
	struct dec_pkt pkts[ESP_CRYPTO_BURST_MAX];
	struct esp_crypto_op ops[ESP_CRYPTO_BURST_MAX];
	struct esp_crypto_op *refs[ESP_CRYPTO_BURST_MAX];
	uint16_t at[ESP_CRYPTO_BURST_MAX]; /* op -> packet */
};

/* Count a drop for the SA and globally. */
static uint16_t reject(struct worker *worker, struct rte_mbuf *m, const struct sa *sa,
		       enum sa_error sa_why, enum espd_counter why)
{
	sa_count_error(worker->id, sa->rt.index, sa_why);
	return steer(worker, m, why, ESP_DECRYPT_NEXT_DROP);
}

/* The replay module's reasons (replay.h) as the kernel names them: what
 * xfrm_replay_check counts per SA (replay, replay_window; nothing for 0),
 * and integrity_failed for a low half below ESN subspace 0, whose ICV
 * fails under the high bits xfrm_replay_seqhi gives it. */
static uint16_t replay_reject(struct worker *worker, struct rte_mbuf *m, const struct sa *sa,
			      int rc)
{
	switch (rc) {
	case REPLAY_DUPLICATE:
		return reject(worker, m, sa, SA_ERROR_REPLAY, ESPD_COUNTER_ESP_DEC_REPLAY);
	case REPLAY_ZERO:
		return reject(worker, m, sa, SA_ERROR_SEQ_ZERO, ESPD_COUNTER_ESP_DEC_SEQ_ZERO);
	case REPLAY_BELOW_ZERO:
		return reject(worker, m, sa, SA_ERROR_ICV, ESPD_COUNTER_ESP_DEC_ICV);
	default:
		return reject(worker, m, sa, SA_ERROR_WINDOW_LEFT,
			      ESPD_COUNTER_ESP_DEC_WINDOW_LEFT);
	}
}

/*
 * The SA's replay lock is held over runs of packets of one SA: taken when
 * the SA changes, released at the end (one uncontended atomic per run).
 */
static inline void replay_lock_switch(struct sa **held, struct sa *sa)
{
	if (*held == sa)
		return;
	if (*held)
		rte_spinlock_unlock(&(*held)->in.lock);
	*held = sa;
	if (sa)
		rte_spinlock_lock(&sa->in.lock);
}

/* Where ESP is: ipsec-input found its header (8 bytes at least) after
 * m->l3_len + m->l4_len bytes of headers. */
static void esp_locate(struct rte_mbuf *m, const struct esp_crypto *c, struct dec_pkt *p)
{
	uint8_t *l3 = rte_pktmbuf_mtod_offset(m, uint8_t *, m->l2_len);
	uint32_t ip_len;

	if (pkt_meta(m)->family == AF_INET)
		ip_len = rte_be_to_cpu_16(((const struct rte_ipv4_hdr *)l3)->total_length);
	else
		ip_len = ESP_IP6_HDR_LEN +
			 rte_be_to_cpu_16(((const struct rte_ipv6_hdr *)l3)->payload_len);
	p->esp = l3 + m->l3_len + m->l4_len;
	p->payload = p->esp + c->hdr_len;
	p->esp_len = ip_len - m->l3_len - m->l4_len;
}

/* esp_input's lengths: IV, ICV and a byte of data besides the trailer
 * (esp_remove_trailer), whole cipher blocks. */
static bool length_ok(const struct dec_pkt *p, const struct esp_crypto *c)
{
	return p->esp_len >= (uint32_t)c->hdr_len + c->icv_len +
				     RTE_MAX(c->len_min, (uint32_t)ESP_TRAILER_LEN + 1) &&
	       !((p->esp_len - c->hdr_len - c->icv_len) & c->len_mask);
}

/*
 * The replay check, the hard limits, then the lengths, in xfrm_input's
 * order: xfrm_replay_check and xfrm_state_check_expire before esp_input.
 * A low half below ESN subspace 0 passes the kernel's replay check and
 * fails its ICV, after the lengths. Fills the crypto op.
 */
static uint16_t check(struct worker *worker, struct rte_mbuf *m, struct dec_pkt *p,
		      struct esp_crypto_op *op, struct sa **held)
{
	uint32_t seq_low, seq_hi;
	const struct esp_crypto *c;
	struct sa *sa = sad_sa(pkt_meta(m)->sa_index);
	int rc;

	if (unlikely(!sa || !sa->rt.crypto))
		return steer(worker, m, ESPD_COUNTER_ESP_DEC_SA_GONE, ESP_DECRYPT_NEXT_DROP);
	c = sa->rt.crypto;
	p->sa = sa;
	if (unlikely(!rte_pktmbuf_is_contiguous(m)))
		return reject(worker, m, sa, SA_ERROR_LENGTH, ESPD_COUNTER_ESP_DEC_SEGMENTED);
	esp_locate(m, c, p);
	memcpy(&seq_low, p->esp + 4, 4);
	seq_low = rte_be_to_cpu_32(seq_low);
	replay_lock_switch(held, sa);
	rc = replay_check(&sa->in.w, seq_low, &seq_hi);
	if (unlikely(rc != 0) && rc != REPLAY_BELOW_ZERO)
		return replay_reject(worker, m, sa, rc);
	if (unlikely(sa_limited(sa)) && sa_used_reached(sa))
		return reject(worker, m, sa, SA_ERROR_EXPIRED, ESPD_COUNTER_ESP_DEC_EXPIRED);
	if (unlikely(!length_ok(p, c)))
		return reject(worker, m, sa, SA_ERROR_LENGTH, ESPD_COUNTER_ESP_DEC_LENGTH);
	if (unlikely(rc != 0))
		return replay_reject(worker, m, sa, rc);
	p->seq = (uint64_t)seq_hi << 32 | seq_low;
	op->sa = sa->rt.crypto;
	op->esp = p->esp;
	op->len = p->esp_len - c->hdr_len - c->icv_len;
	op->esn_hi = seq_hi;
	op->status = 0;
	return ESP_DECRYPT_READY;
}

/* Tunnel mode: the inner packet becomes the frame (behind the same Ethernet
 * addresses, so a punt reaches the kernel as if the packet had arrived). */
static uint16_t decap_tunnel(struct worker *worker, struct rte_mbuf *m, const struct dec_pkt *p,
			     struct sa_count_run *counted)
{
	const uint8_t *outer = rte_pktmbuf_mtod_offset(m, const uint8_t *, m->l2_len);
	uint8_t *inner = p->payload;
	uint32_t ip_len;
	int family = esp_inner_parse(inner, p->data_len, p->next_header, &ip_len);

	if (unlikely(family < 0))
		return reject(worker, m, p->sa, SA_ERROR_NEXT_HEADER,
			      ESPD_COUNTER_ESP_DEC_NEXT_HEADER);
	esp_ip_dsfield_set(inner, esp_decap_dsfield(esp_ip_dsfield(outer), esp_ip_dsfield(inner),
						    p->sa->rt.flags));
	eth_header_move(inner - m->l2_len, rte_pktmbuf_mtod(m, uint8_t *), (uint8_t)family);
	frame_set(m, inner - m->l2_len, m->l2_len + ip_len);
	pkt_meta(m)->family = (uint8_t)family;
	sa_count_run_add(worker->id, counted, p->sa->rt.index, p->data_len);
	return family == AF_INET ? ESP_DECRYPT_NEXT_IP4 : ESP_DECRYPT_NEXT_IP6;
}

/* Transport mode: | eth | IP header | payload |; ipsec-input found ESP (or
 * its UDP header) right after the base header, m->l3_len bytes. */
static uint16_t decap_transport(struct worker *worker, struct rte_mbuf *m,
				const struct dec_pkt *p, struct sa_count_run *counted)
{
	uint32_t data_len = p->data_len;
	uint8_t next_header = p->next_header;
	uint32_t hdr_len = m->l3_len;
	/* The frame's headers move up to end where the payload starts. */
	uint8_t *start = p->payload - hdr_len - m->l2_len, *l3 = start + m->l2_len;
	uint32_t nh_off = pkt_meta(m)->family == AF_INET ? 9 : 6;

	memmove(start, rte_pktmbuf_mtod(m, uint8_t *), m->l2_len + hdr_len);
	frame_set(m, start, m->l2_len + hdr_len + data_len);
	esp_ip_header_fix(l3, hdr_len, nh_off, next_header, data_len);
	if (m->l4_len)
		esp_l4_checksum_refresh(l3, hdr_len, next_header, data_len);
	sa_count_run_add(worker->id, counted, p->sa->rt.index, data_len);
	return pkt_meta(m)->family == AF_INET ? ESP_DECRYPT_NEXT_IP4 : ESP_DECRYPT_NEXT_IP6;
}

/* Decapsulation by mode, once the packet is authentic and in the window. */
static uint16_t decap(struct worker *worker, struct rte_mbuf *m, const struct dec_pkt *p,
		      struct sa_count_run *counted)
{
	pkt_meta(m)->flags = PKT_IPSEC_DECRYPTED;
	if (p->sa->rt.mode == SA_MODE_TUNNEL)
		return decap_tunnel(worker, m, p, counted);
	return decap_transport(worker, m, p, counted);
}

static uint16_t crypto_reject(struct worker *worker, struct rte_mbuf *m, const struct sa *sa,
			      int status)
{
	if (status == -EBADMSG)
		return reject(worker, m, sa, SA_ERROR_ICV, ESPD_COUNTER_ESP_DEC_ICV);
	if (status == -EINVAL)
		return reject(worker, m, sa, SA_ERROR_LENGTH, ESPD_COUNTER_ESP_DEC_LENGTH);
	return reject(worker, m, sa, SA_ERROR_CRYPTO, ESPD_COUNTER_ESP_DEC_CRYPTO);
}

/* Padding and next header of a decrypted payload (esp_trailer_check). */
static bool trailer_read(struct dec_pkt *p, const struct esp_crypto_op *op)
{
	return esp_trailer_check(p->payload, op->len, &p->data_len, &p->next_header) == 0;
}

/* Record authentic packets with a sound trailer in order; a copy earlier in
 * the burst or a window that moved past refuses them here (replay_update
 * checks again). A bad trailer leaves the window as it was, as
 * esp_remove_trailer's failure does in the kernel. */
static void complete(struct worker *worker, struct rte_mbuf **pkts, struct dec_burst *b,
		     uint16_t n_ops, uint16_t ok, rte_edge_t *nexts)
{
	struct sa_count_run counted = { .index = SAD_INDEX_NONE };
	struct sa *held = NULL;

	for (uint16_t k = 0; k < n_ops; k++) {
		uint16_t op_index = (uint16_t)(b->refs[k] - b->ops);
		uint16_t i = b->at[op_index];
		struct dec_pkt *p = &b->pkts[i];
		int rc;

		if (unlikely(k >= ok)) {
			nexts[i] = crypto_reject(worker, pkts[i], p->sa, b->refs[k]->status);
			continue;
		}
		if (unlikely(!trailer_read(p, b->refs[k]))) {
			nexts[i] = reject(worker, pkts[i], p->sa, SA_ERROR_PAD,
					  ESPD_COUNTER_ESP_DEC_PAD);
			continue;
		}
		if (unlikely(p->next_header == IPPROTO_NONE)) {
			nexts[i] = steer(worker, pkts[i], ESPD_COUNTER_ESP_DEC_DUMMY,
					 ESP_DECRYPT_NEXT_DROP);
			continue;
		}
		replay_lock_switch(&held, p->sa);
		rc = replay_update(&p->sa->in.w, p->seq);
		if (unlikely(rc != 0)) {
			nexts[i] = replay_reject(worker, pkts[i], p->sa, rc);
			continue;
		}
		if (unlikely(sa_limited(p->sa)) && !sa_used_take(p->sa, p->data_len)) {
			nexts[i] = reject(worker, pkts[i], p->sa, SA_ERROR_EXPIRED,
					  ESPD_COUNTER_ESP_DEC_EXPIRED);
			continue;
		}
		nexts[i] = ESP_DECRYPT_READY;
	}
	replay_lock_switch(&held, NULL);
	for (uint16_t k = 0; k < ok; k++) {
		uint16_t op_index = (uint16_t)(b->refs[k] - b->ops);
		uint16_t i = b->at[op_index];
		if (nexts[i] == ESP_DECRYPT_READY)
			nexts[i] = decap(worker, pkts[i], &b->pkts[i], &counted);
	}
	sa_count_run_flush(worker->id, &counted);
}

static void decrypt_burst(struct worker *worker, struct rte_mbuf **pkts, uint16_t n,
			  rte_edge_t *nexts)
{
	struct dec_burst b;
	struct sa *held = NULL;
	uint16_t n_ops = 0, ok;

	for (uint16_t i = 0; i < n; i++) {
		nexts[i] = check(worker, pkts[i], &b.pkts[i], &b.ops[n_ops], &held);
		if (nexts[i] != ESP_DECRYPT_READY)
			continue;
		b.refs[n_ops] = &b.ops[n_ops];
		b.at[n_ops++] = i;
	}
	replay_lock_switch(&held, NULL);
	if (n_ops == 0)
		return;
	ok = esp_crypto_decrypt_burst(worker->crypto, b.refs, n_ops);
	complete(worker, pkts, &b, n_ops, ok, nexts);
}

static uint16_t esp_decrypt_process(struct rte_graph *graph, struct rte_node *node, void **objs,
				    uint16_t nb_objs)
{
	return node_process_chunks(graph, node, objs, nb_objs, ESP_CRYPTO_BURST_MAX, decrypt_burst);
}

static struct rte_node_register esp_decrypt_node = {
	.name = NODE_ESP_DECRYPT,
	.process = esp_decrypt_process,
	.init = node_ctx_init_worker,
	.nb_edges = ESP_DECRYPT_N_NEXT,
	.next_nodes = {
		[ESP_DECRYPT_NEXT_IP4] = NODE_IP4_INPUT,
		[ESP_DECRYPT_NEXT_IP6] = NODE_IP6_INPUT,
		[ESP_DECRYPT_NEXT_DROP] = NODE_DROP,
	},
};

RTE_NODE_REGISTER(esp_decrypt_node);
