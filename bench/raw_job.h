/*
 * The ceiling both crypto benchmarks measure against: one intel-ipsec-mb
 * job per ESP packet with its fields set directly from an SA's job template
 * (nonce and AAD precomputed), submitted without checks, flushed per burst.
 * No IV generation, ICV comparison, padding or header work.
 */
#ifndef ESPD_BENCH_RAW_JOB_H
#define ESPD_BENCH_RAW_JOB_H

#include <stdbool.h>
#include <stdint.h>
#include <intel-ipsec-mb.h>

#include "esp/crypto.h"

/* One ESP packet at esp (header, IV, len bytes to cipher, ICV after them). */
struct raw_packet {
	uint8_t *esp;
	uint32_t len;
	const uint8_t *nonce; /* CTR, GCM, GMAC, ChaCha20: salt and IV */
	const uint8_t *aad;   /* GCM, ChaCha20: SPI and sequence number */
};

static inline void raw_job_fill(IMB_JOB *j, const struct esp_crypto *sa,
				const struct raw_packet *p, uint8_t *tag, bool enc)
{
	unsigned hdr = sa->hdr_len;

	j->cipher_direction = enc ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
	j->chain_order = enc ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
	j->cipher_mode = sa->tmpl.cipher_mode;
	j->hash_alg = sa->tmpl.hash_alg;
	j->enc_keys = sa->tmpl.enc_keys;
	j->dec_keys = sa->tmpl.dec_keys;
	j->key_len_in_bytes = sa->tmpl.key_len_in_bytes;
	j->src = p->esp;
	j->dst = p->esp + hdr;
	j->cipher_start_src_offset_in_bytes = hdr;
	j->msg_len_to_cipher_in_bytes = p->len;
	j->auth_tag_output = enc ? p->esp + hdr + p->len : tag;
	j->auth_tag_output_len_in_bytes = sa->tmpl.auth_tag_output_len_in_bytes;
	j->iv_len_in_bytes = sa->tmpl.iv_len_in_bytes;
	switch (sa->family) {
	case ESP_CRYPTO_CBC:
	case ESP_CRYPTO_CTR:
		j->iv = sa->family == ESP_CRYPTO_CBC ? p->esp + ESP_CRYPTO_HDR_LEN : p->nonce;
		j->hash_start_src_offset_in_bytes = 0;
		j->msg_len_to_hash_in_bytes = hdr + p->len;
		j->u.HMAC._hashed_auth_key_xor_ipad = sa->keys.ipad;
		j->u.HMAC._hashed_auth_key_xor_opad = sa->keys.opad;
		break;
	case ESP_CRYPTO_GMAC:
		j->hash_start_src_offset_in_bytes = 0;
		j->msg_len_to_hash_in_bytes = hdr + p->len;
		j->u.GMAC._key = &sa->keys.gcm;
		j->u.GMAC._iv = p->nonce;
		j->u.GMAC.iv_len_in_bytes = 12;
		break;
	default: /* GCM, ChaCha20-Poly1305 */
		j->iv = p->nonce;
		j->hash_start_src_offset_in_bytes = hdr;
		j->msg_len_to_hash_in_bytes = p->len;
		j->u.GCM.aad = p->aad;
		j->u.GCM.aad_len_in_bytes = 8;
		break;
	}
}

/* Key bytes of every benchmark SA (salt included), and of HMAC. */
static const uint8_t raw_key[64] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
				     17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30 };

/* An SA of the ipsecmb engine on manager arch for the ceiling: the AEAD
 * named aead, or cipher enc with auth; key bits include the salt. */
static inline int raw_sa_make(struct esp_crypto *sa, const char *aead, const char *enc,
			      const char *auth, unsigned key_bits, unsigned icv_bits,
			      enum esp_crypto_arch arch)
{
	struct esp_crypto_params p = { .icv_bits = (uint16_t)icv_bits, .arch = arch };
	int rc;

	if (aead) {
		p.aead_key = raw_key;
		p.aead_key_bits = (uint16_t)key_bits;
		rc = esp_crypto_alg_lookup(ESP_CRYPTO_ALG_AEAD, aead, key_bits, &p.aead);
	} else {
		p.enc_key = raw_key;
		p.enc_key_bits = (uint16_t)key_bits;
		p.auth_key = raw_key;
		p.auth_key_bits = 256;
		rc = esp_crypto_alg_lookup(ESP_CRYPTO_ALG_ENC, enc, key_bits, &p.enc);
		if (rc == 0)
			rc = esp_crypto_alg_lookup(ESP_CRYPTO_ALG_AUTH, auth, 256, &p.auth);
	}
	return rc ? rc : esp_crypto_init(sa, ESP_CRYPTO_ENGINE_IPSECMB, &p);
}

/* Submits the packets' jobs and flushes; the number that failed. */
static inline unsigned raw_job_burst(IMB_MGR *m, const struct esp_crypto *sa,
				     const struct raw_packet *pkts, unsigned n,
				     uint8_t (*tags)[ESP_CRYPTO_ICV_MAX], bool enc)
{
	unsigned bad = 0;
	IMB_JOB *job;

	for (unsigned k = 0; k < n; k++) {
		job = IMB_GET_NEXT_JOB(m);
		raw_job_fill(job, sa, &pkts[k], tags[k], enc);
		for (job = IMB_SUBMIT_JOB_NOCHECK(m); job; job = IMB_GET_COMPLETED_JOB(m))
			bad += job->status != IMB_STATUS_COMPLETED;
	}
	while ((job = IMB_FLUSH_JOB(m)) != NULL)
		bad += job->status != IMB_STATUS_COMPLETED;
	return bad;
}

/*
 * AES-GCM through the library's direct calls (what esp-encrypt and
 * esp-decrypt use for it): no job, no manager; the number that failed is 0.
 * Decrypt computes the tag and leaves comparing it to the caller's taste:
 * the ceiling does no ICV comparison.
 */
static inline unsigned raw_gcm_direct_burst(const struct esp_crypto *sa,
					    struct gcm_context_data *ctx,
					    const struct raw_packet *pkts, unsigned n,
					    uint8_t (*tags)[ESP_CRYPTO_ICV_MAX], bool enc)
{
	aes_gcm_enc_dec_t run = enc ? sa->gcm_enc : sa->gcm_dec;

	for (unsigned k = 0; k < n; k++) {
		const struct raw_packet *p = &pkts[k];
		uint8_t *payload = p->esp + sa->hdr_len;

		run(&sa->keys.gcm, ctx, payload, payload, p->len, p->nonce, p->aad, 8,
		    enc ? payload + p->len : tags[k], sa->icv_len);
	}
	return 0;
}

#endif
