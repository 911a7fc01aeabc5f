/*
 * The OpenSSL 3 ESP engine: the same per-packet operations as the
 * intel-ipsec-mb engine, one EVP call sequence per packet on contexts made
 * at SA creation. It is there for breadth and to cross-check the fast
 * engine, not for speed; its contexts make an SA usable by one thread at a
 * time.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "esp/crypto.h"

static const EVP_CIPHER *cipher_get(enum esp_crypto_family family, unsigned key_len)
{
	unsigned i = (key_len - 16) / 8;

	switch (family) {
	case ESP_CRYPTO_CBC: {
		const EVP_CIPHER *(*const f[])(void) = { EVP_aes_128_cbc, EVP_aes_192_cbc, EVP_aes_256_cbc };
		return f[i]();
	}
	case ESP_CRYPTO_CTR: {
		const EVP_CIPHER *(*const f[])(void) = { EVP_aes_128_ctr, EVP_aes_192_ctr, EVP_aes_256_ctr };
		return f[i]();
	}
	case ESP_CRYPTO_GCM:
	case ESP_CRYPTO_GMAC: {
		const EVP_CIPHER *(*const f[])(void) = { EVP_aes_128_gcm, EVP_aes_192_gcm, EVP_aes_256_gcm };
		return f[i]();
	}
	case ESP_CRYPTO_CHACHA:
		return EVP_chacha20_poly1305();
	default:
		return NULL;
	}
}

static EVP_CIPHER_CTX *cipher_ctx_new(const EVP_CIPHER *cipher, const uint8_t *key, int enc)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();

	if (c && EVP_CipherInit_ex(c, cipher, NULL, key, NULL, enc) == 1 &&
	    EVP_CIPHER_CTX_set_padding(c, 0) == 1)
		return c;
	EVP_CIPHER_CTX_free(c);
	return NULL;
}

static EVP_MAC_CTX *hmac_ctx_new(const struct esp_crypto_alg *alg, const uint8_t *key,
				 size_t key_len)
{
	static const uint8_t empty;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)alg->md, 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *c = mac ? EVP_MAC_CTX_new(mac) : NULL;

	EVP_MAC_free(mac);
	if (c && EVP_MAC_init(c, key_len ? key : &empty, key_len, params) == 1)
		return c;
	EVP_MAC_CTX_free(c);
	return NULL;
}

int esp_crypto_openssl_init(struct esp_crypto *ctx, const struct esp_crypto_params *p)
{
	const struct esp_crypto_alg *alg = p->aead ? p->aead : p->enc;
	const uint8_t *key = p->aead ? p->aead_key : p->enc_key;
	unsigned key_bits = p->aead ? p->aead_key_bits : p->enc_key_bits;
	const EVP_CIPHER *cipher = cipher_get(ctx->family, key_bits / 8 - alg->salt_len);

	if (cipher) {
		ctx->evp_enc = cipher_ctx_new(cipher, key, 1);
		ctx->evp_dec = cipher_ctx_new(cipher, key, 0);
		if (!ctx->evp_enc || !ctx->evp_dec)
			return -ENOMEM;
	}
	if (p->auth) {
		ctx->mac = hmac_ctx_new(p->auth, p->auth_key, p->auth_key_bits / 8);
		if (!ctx->mac)
			return -ENOMEM;
	}
	return 0;
}

void esp_crypto_openssl_destroy(struct esp_crypto *ctx)
{
	EVP_CIPHER_CTX_free(ctx->evp_enc);
	EVP_CIPHER_CTX_free(ctx->evp_dec);
	EVP_MAC_CTX_free(ctx->mac);
	ctx->evp_enc = ctx->evp_dec = NULL;
	ctx->mac = NULL;
}

/* salt || explicit IV, plus the initial block counter for RFC 3686. */
static void nonce_build(const struct esp_crypto *sa, const uint8_t *esp, uint8_t nonce[16])
{
	static const uint8_t one[4] = { 0, 0, 0, 1 };

	memcpy(nonce, sa->keys.salt, 4);
	memcpy(nonce + 4, esp + ESP_CRYPTO_HDR_LEN, 8);
	memcpy(nonce + 12, one, 4);
}

static int cipher_run(EVP_CIPHER_CTX *c, const uint8_t *iv, uint8_t *data, uint32_t len)
{
	int out, fin;

	if (EVP_CipherInit_ex(c, NULL, NULL, NULL, iv, -1) != 1 ||
	    EVP_CipherUpdate(c, data, &out, data, (int)len) != 1 ||
	    EVP_CipherFinal_ex(c, data + out, &fin) != 1)
		return -EIO;
	return 0;
}

static int payload_cipher(const struct esp_crypto_op *op, EVP_CIPHER_CTX *c)
{
	const struct esp_crypto *sa = op->sa;
	uint8_t nonce[16];

	if (sa->family == ESP_CRYPTO_NULL)
		return 0;
	if (sa->family == ESP_CRYPTO_CBC)
		return cipher_run(c, op->esp + ESP_CRYPTO_HDR_LEN, op->esp + sa->hdr_len, op->len);
	nonce_build(sa, op->esp, nonce);
	return cipher_run(c, nonce, op->esp + sa->hdr_len, op->len);
}

/* HMAC over header, IV and payload, then the ESN high bits (RFC 4303 s.3.3.2.2). */
static int hmac_run(const struct esp_crypto_op *op, uint8_t tag[ESP_CRYPTO_ICV_MAX])
{
	const struct esp_crypto *sa = op->sa;
	uint32_t hi = htobe32(op->esn_hi);
	size_t out;

	if (EVP_MAC_init(sa->mac, NULL, 0, NULL) != 1 ||
	    EVP_MAC_update(sa->mac, op->esp, sa->hdr_len + op->len) != 1 ||
	    (sa->esn && EVP_MAC_update(sa->mac, (const uint8_t *)&hi, 4) != 1) ||
	    EVP_MAC_final(sa->mac, tag, &out, ESP_CRYPTO_ICV_MAX) != 1)
		return -EIO;
	return 0;
}

/*
 * AAD: SPI || [ESN high] || sequence number low (RFC 4106 s.5, RFC 7634
 * s.2.1); RFC 4543 GMAC also authenticates IV and payload as AAD.
 */
static int aad_add(EVP_CIPHER_CTX *c, const struct esp_crypto_op *op)
{
	const struct esp_crypto *sa = op->sa;
	uint8_t aad[12];
	size_t n = 0;
	int out;

	memcpy(aad, op->esp, 4);
	n = 4;
	if (sa->esn) {
		uint32_t hi = htobe32(op->esn_hi);

		memcpy(aad + n, &hi, 4);
		n += 4;
	}
	memcpy(aad + n, op->esp + 4, 4);
	n += 4;
	if (EVP_CipherUpdate(c, NULL, &out, aad, (int)n) != 1)
		return -EIO;
	if (sa->family == ESP_CRYPTO_GMAC &&
	    EVP_CipherUpdate(c, NULL, &out, op->esp + ESP_CRYPTO_HDR_LEN,
			     (int)(sa->iv_len + op->len)) != 1)
		return -EIO;
	return 0;
}

static int aead_run(const struct esp_crypto_op *op, bool enc)
{
	const struct esp_crypto *sa = op->sa;
	EVP_CIPHER_CTX *c = enc ? sa->evp_enc : sa->evp_dec;
	uint8_t *data = op->esp + sa->hdr_len;
	uint8_t *icv = data + op->len;
	uint32_t len = sa->family == ESP_CRYPTO_GMAC ? 0 : op->len;
	uint8_t nonce[16];
	int out, fin;

	nonce_build(sa, op->esp, nonce);
	if (EVP_CipherInit_ex(c, NULL, NULL, NULL, nonce, -1) != 1 ||
	    (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, sa->icv_len, icv) != 1) ||
	    aad_add(c, op) != 0 ||
	    (len && EVP_CipherUpdate(c, data, &out, data, (int)len) != 1))
		return -EIO;
	if (EVP_CipherFinal_ex(c, data + len, &fin) != 1)
		return enc ? -EIO : -EBADMSG;
	if (enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, sa->icv_len, icv) != 1)
		return -EIO;
	return 0;
}

int esp_crypto_openssl_encrypt(struct esp_crypto_op *op)
{
	const struct esp_crypto *sa = op->sa;
	uint8_t tag[ESP_CRYPTO_ICV_MAX];
	int rc;

	if (sa->aead)
		return aead_run(op, true);
	rc = payload_cipher(op, sa->evp_enc);
	if (rc == 0)
		rc = hmac_run(op, tag);
	if (rc == 0)
		memcpy(op->esp + sa->hdr_len + op->len, tag, sa->icv_len);
	return rc;
}

int esp_crypto_openssl_decrypt(struct esp_crypto_op *op)
{
	const struct esp_crypto *sa = op->sa;
	uint8_t tag[ESP_CRYPTO_ICV_MAX];
	int rc;

	if (sa->aead)
		return aead_run(op, false);
	rc = hmac_run(op, tag);
	if (rc == 0 && CRYPTO_memcmp(tag, op->esp + sa->hdr_len + op->len, sa->icv_len) != 0)
		rc = -EBADMSG;
	if (rc == 0)
		rc = payload_cipher(op, sa->evp_dec);
	return rc;
}
