/*
 * ESP algorithm table: the Linux kernel's XFRM algorithm names (as
 * `ip xfrm state add` and XFRM netlink carry them), their key, IV and ICV
 * lengths, and the intel-ipsec-mb manager measured fastest for each
 * (bench/crypto_ceiling.c). Also the engine-independent part of SA setup,
 * and esp_crypto_init/destroy, which hand the rest to the chosen engine.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "esp/crypto.h"

#define AVX512 ESP_CRYPTO_ARCH_AVX512

#define HMAC(n, md_, h, blk, dig, trunc, def, narrow_arch, from)                 \
	{ .name = "hmac(" n ")", .alias = n, .type = ESP_CRYPTO_ALG_AUTH,      \
	  .family = ESP_CRYPTO_HMAC, .hash = h, .md = md_, .hmac_block = blk,  \
	  .digest_len = dig, .imb_trunc = trunc, .icv_default = def,           \
	  .icv_min = 8, .icv_max = (dig) * 8, .icv_step = 8, .arch = AVX512,   \
	  .arch_narrow = narrow_arch, .wide_from = from }

/*
 * Managers, from bench/crypto_ceiling.c (--burst 128, --size) on an
 * AVX-512/VAES/SHA-NI CPU (AMD Zen 4): AVX-512 is fastest for every suite
 * at 512 bytes and more. HMAC-SHA-256 is faster on the SSE manager (SHA-NI,
 * two lanes) than on AVX-512's sixteen-lane SHA-256 for short payloads:
 * ~20% at 64 bytes and at IMIX, ~5% at 256 and 384, even at 448-512, ~12%
 * slower at 1400. Splitting one burst between the two by length loses to
 * SSE alone at IMIX (~10%), so each burst goes to one of them by its mean
 * payload length (crypto_ipsecmb.c). SHA-1, MD5, SHA-384/512, GCM, GMAC
 * and ChaCha20-Poly1305 stay on AVX-512 at every size (GCM and ChaCha 2-3x
 * faster there).
 *
 * Default ICV lengths are the kernel's (net/xfrm/xfrm_algo.c), used when
 * XFRM gives an auth algorithm without a truncation length: note
 * hmac(sha256) defaults to 96 bits there, while IKE daemons always send
 * the RFC 4868 128 bits explicitly.
 */
static const struct esp_crypto_alg algs[] = {
	{ .name = "cbc(aes)", .alias = "aes", .type = ESP_CRYPTO_ALG_ENC,
	  .family = ESP_CRYPTO_CBC, .key_bits = { 128, 192, 256 },
	  .iv_len = 16, .block_size = 16 },
	/* RFC 3686: AES key followed by the 4-byte nonce. */
	{ .name = "rfc3686(ctr(aes))", .type = ESP_CRYPTO_ALG_ENC,
	  .family = ESP_CRYPTO_CTR, .key_bits = { 160, 224, 288 },
	  .salt_len = 4, .iv_len = 8, .block_size = 4 },
	{ .name = "ecb(cipher_null)", .alias = "cipher_null",
	  .type = ESP_CRYPTO_ALG_ENC, .family = ESP_CRYPTO_NULL,
	  .key_bits = { 0 }, .iv_len = 0, .block_size = 4 },
	HMAC("md5", "MD5", IMB_AUTH_MD5, 64, 16, 12, 96, ESP_CRYPTO_ARCH_AUTO, 0),
	HMAC("sha1", "SHA1", IMB_AUTH_HMAC_SHA_1, 64, 20, 12, 96, ESP_CRYPTO_ARCH_AUTO, 0),
	HMAC("sha256", "SHA256", IMB_AUTH_HMAC_SHA_256, 64, 32, 16, 96,
	     ESP_CRYPTO_ARCH_SSE, 512),
	HMAC("sha384", "SHA384", IMB_AUTH_HMAC_SHA_384, 128, 48, 24, 192,
	     ESP_CRYPTO_ARCH_AUTO, 0),
	HMAC("sha512", "SHA512", IMB_AUTH_HMAC_SHA_512, 128, 64, 32, 256,
	     ESP_CRYPTO_ARCH_AUTO, 0),
	/* RFC 4106: AES key + 4-byte salt; ICV 8, 12 or 16 bytes. */
	{ .name = "rfc4106(gcm(aes))", .type = ESP_CRYPTO_ALG_AEAD,
	  .family = ESP_CRYPTO_GCM, .key_bits = { 160, 224, 288 },
	  .salt_len = 4, .iv_len = 8, .block_size = 4, .icv_default = 128,
	  .icv_min = 64, .icv_max = 128, .icv_step = 32,
	  .hash = IMB_AUTH_AES_GMAC, .arch = AVX512 },
	/* RFC 7634: 256-bit key + 4-byte salt, 16-byte ICV. */
	{ .name = "rfc7539esp(chacha20,poly1305)", .type = ESP_CRYPTO_ALG_AEAD,
	  .family = ESP_CRYPTO_CHACHA, .key_bits = { 288 }, .salt_len = 4,
	  .iv_len = 8, .block_size = 4, .icv_default = 128, .icv_min = 128,
	  .icv_max = 128, .icv_step = 8, .hash = IMB_AUTH_CHACHA20_POLY1305,
	  .arch = AVX512 },
	/* RFC 4543: AES-GMAC, integrity only; key + 4-byte salt, 16-byte ICV. */
	{ .name = "rfc4543(gcm(aes))", .type = ESP_CRYPTO_ALG_AEAD,
	  .family = ESP_CRYPTO_GMAC, .key_bits = { 160, 224, 288 },
	  .salt_len = 4, .iv_len = 8, .block_size = 4, .icv_default = 128,
	  .icv_min = 128, .icv_max = 128, .icv_step = 8,
	  .hash = IMB_AUTH_AES_GMAC_128, .arch = AVX512 },
};

static bool key_bits_ok(const struct esp_crypto_alg *alg, unsigned bits)
{
	if (alg->type == ESP_CRYPTO_ALG_AUTH)
		return bits % 8 == 0 && bits <= ESP_CRYPTO_AUTH_KEY_MAX * 8;
	for (size_t i = 0; i < sizeof(alg->key_bits) / sizeof(alg->key_bits[0]); i++) {
		if (alg->key_bits[i] == bits)
			return true;
		if (alg->key_bits[i] == 0)
			break;
	}
	return false;
}

/*
 * Find an algorithm by kernel name (or its compat alias) and key length.
 * Unknown names and key lengths give -ENOTSUP: the caller logs
 * "linux-cp/ipsec: Invalid/Unsupported crypto algo: <name> keylen: <bits>"
 * and leaves the SA to the kernel.
 */
int esp_crypto_alg_lookup(enum esp_crypto_alg_type type, const char *name,
			  unsigned key_bits, const struct esp_crypto_alg **alg)
{
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		const struct esp_crypto_alg *a = &algs[i];

		if (a->type != type)
			continue;
		if (strcmp(a->name, name) != 0 && (!a->alias || strcmp(a->alias, name) != 0))
			continue;
		if (!key_bits_ok(a, key_bits))
			return -ENOTSUP;
		*alg = a;
		return 0;
	}
	return -ENOTSUP;
}

const char *esp_crypto_arch_name(enum esp_crypto_arch arch)
{
	static const char *const names[ESP_CRYPTO_ARCH_N] = {
		[ESP_CRYPTO_ARCH_AUTO] = "auto",
		[ESP_CRYPTO_ARCH_SSE] = "sse",
		[ESP_CRYPTO_ARCH_AVX2] = "avx2",
		[ESP_CRYPTO_ARCH_AVX512] = "avx512",
	};

	return (unsigned)arch < ESP_CRYPTO_ARCH_N ? names[arch] : "?";
}

/*
 * The ICV length in bits as the kernel keeps it (0: the default). An AEAD
 * takes one of its own (xfrm_aead_get_byname); an HMAC any truncation up
 * to its digest (attach_auth_trunc), of which esp_init_authenc uses
 * bits / 8 bytes: crypto_aead_setauthsize refuses 0 of them, and with ESN
 * crypto_authenc_esn_setauthsize 1 to 3 (espd writes the high sequence
 * bits over the first 4 ICV bytes there too).
 */
static int icv_bits_check(const struct esp_crypto_alg *alg, bool esn, unsigned *bits)
{
	bool hmac = alg->type == ESP_CRYPTO_ALG_AUTH;
	unsigned used;

	if (*bits == 0)
		*bits = alg->icv_default;
	used = hmac ? *bits / 8 * 8 : *bits;
	if (*bits > alg->icv_max || used < alg->icv_min ||
	    (used - alg->icv_min) % alg->icv_step != 0)
		return -EINVAL;
	return hmac && esn && used < ESP_CRYPTO_ESN_ICV_MIN * 8 ? -EINVAL : 0;
}

static int key_check(const struct esp_crypto_alg *alg, enum esp_crypto_alg_type type,
		     const uint8_t *key, unsigned bits)
{
	if (!alg || alg->type != type)
		return -EINVAL;
	if (!key_bits_ok(alg, bits))
		return -ENOTSUP;
	return bits && !key ? -EINVAL : 0;
}

/*
 * An SA is either enc + auth or one AEAD. Encryption without integrity is
 * refused (-ENOTSUP: the kernel keeps such SAs), as RFC 8221 s.5 demands.
 */
static int params_check(const struct esp_crypto_params *p)
{
	int rc;

	if ((unsigned)p->arch >= ESP_CRYPTO_ARCH_N)
		return -EINVAL;
	if (p->aead) {
		if (p->enc || p->auth)
			return -EINVAL;
		return key_check(p->aead, ESP_CRYPTO_ALG_AEAD, p->aead_key, p->aead_key_bits);
	}
	if (!p->enc)
		return -EINVAL;
	if (!p->auth)
		return -ENOTSUP;
	rc = key_check(p->enc, ESP_CRYPTO_ALG_ENC, p->enc_key, p->enc_key_bits);
	if (rc == 0)
		rc = key_check(p->auth, ESP_CRYPTO_ALG_AUTH, p->auth_key, p->auth_key_bits);
	return rc;
}

/* Validate p and fill the fields of ctx that do not depend on the engine. */
static int params_apply(struct esp_crypto *ctx, const struct esp_crypto_params *p)
{
	const struct esp_crypto_alg *cipher = p->aead ? p->aead : p->enc;
	const uint8_t *key = p->aead ? p->aead_key : p->enc_key;
	unsigned key_bits = p->aead ? p->aead_key_bits : p->enc_key_bits;
	unsigned icv_bits = p->icv_bits;
	int rc = params_check(p);

	if (rc == 0)
		rc = icv_bits_check(p->aead ? p->aead : p->auth, p->esn, &icv_bits);
	if (rc != 0)
		return rc;
	memset(ctx, 0, sizeof(*ctx));
	ctx->enc = p->enc;
	ctx->auth = p->auth;
	ctx->aead = p->aead;
	ctx->family = cipher->family;
	ctx->iv_len = cipher->iv_len;
	ctx->icv_len = icv_bits / 8;
	ctx->block_size = cipher->block_size;
	ctx->hdr_len = ESP_CRYPTO_HDR_LEN + cipher->iv_len;
	ctx->len_mask = cipher->family == ESP_CRYPTO_CBC ? 15 : 0;
	ctx->len_min = cipher->family == ESP_CRYPTO_CBC ? 16 : 0;
	ctx->iv_random = cipher->family == ESP_CRYPTO_CBC || cipher->family == ESP_CRYPTO_NULL;
	ctx->esn = p->esn;
	if (cipher->salt_len)
		memcpy(ctx->keys.salt, key + key_bits / 8 - cipher->salt_len, cipher->salt_len);
	return 0;
}

/*
 * Build an SA's crypto context: key schedules, HMAC pads, GCM hash keys
 * and the job template, all once. On failure ctx holds nothing to free.
 */
int esp_crypto_init(struct esp_crypto *ctx, enum esp_crypto_engine engine,
		    const struct esp_crypto_params *p)
{
	int rc = params_apply(ctx, p);

	if (rc != 0)
		return rc;
	ctx->engine = engine;
	if (engine == ESP_CRYPTO_ENGINE_IPSECMB)
		rc = esp_crypto_ipsecmb_init(ctx, p);
	else if (engine == ESP_CRYPTO_ENGINE_OPENSSL)
		rc = esp_crypto_openssl_init(ctx, p);
	else
		rc = -EINVAL;
	if (rc != 0)
		esp_crypto_destroy(ctx);
	return rc;
}

void esp_crypto_destroy(struct esp_crypto *ctx)
{
	esp_crypto_openssl_destroy(ctx);
	/* By offset: GCC takes &ctx->keys for its first union member's size. */
	explicit_bzero((uint8_t *)ctx + offsetof(struct esp_crypto, keys), sizeof(ctx->keys));
}
