/*
 * The intel-ipsec-mb ESP engine: per-SA job templates and key schedules,
 * per-worker managers and IV generator, and the burst entry points (which
 * hand OpenSSL-engine SAs to crypto_openssl.c).
 *
 * A burst submits one job per packet to the manager its SA was assigned
 * (the fastest measured for its algorithm), collecting completed jobs as
 * they come, and flushes each manager once at the end, so packets of a
 * burst share the multi-buffer lanes. Each job starts as a copy of the SA's
 * template; only lengths, pointers and a small family-specific step (nonce,
 * AAD, ESN bits) are per packet.
 */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <emmintrin.h>

#include <openssl/evp.h>

#include "esp/crypto.h"

#define RND_POOL 4096   /* IV keystream bytes generated at once */

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Per in-flight packet: what the library reads or writes besides the packet. */
struct esp_crypto_scratch {
	uint8_t nonce[16];
	uint8_t aad[16];
	uint8_t tag[ESP_CRYPTO_ICV_MAX];    /* ICV computed by the library */
	uint8_t rx_icv[ESP_CRYPTO_ICV_MAX]; /* ICV received (decrypt) */
	uint8_t saved[4];                   /* bytes before ESP (GMAC + ESN) */
	uint8_t shifted;
} __attribute__((aligned(64)));

struct esp_crypto_worker {
	IMB_MGR *mgr[ESP_CRYPTO_ARCH_N];
	IMB_MGR *rnd_mgr;
	uint32_t rnd_off;
	uint64_t rnd_ctr;
	struct esp_crypto_op *failed[ESP_CRYPTO_BURST_MAX];
	struct esp_crypto_scratch scratch[ESP_CRYPTO_BURST_MAX];
	struct gcm_context_data gcm_ctx; /* keystream state: wiped with the worker */
	struct {
		uint32_t enc[60] __attribute__((aligned(16)));
		uint32_t dec[60] __attribute__((aligned(16)));
		uint8_t iv[12];
	} rnd_key; /* secret: the IV stream must stay unpredictable */
	uint8_t rnd[RND_POOL] __attribute__((aligned(64)));
};

/* Managers used on the control thread for key schedules and SA self-tests. */
static pthread_mutex_t keying_lock = PTHREAD_MUTEX_INITIALIZER;
static IMB_MGR *keying[ESP_CRYPTO_ARCH_N];

static bool arch_ok(enum esp_crypto_arch arch)
{
	static const uint64_t need[ESP_CRYPTO_ARCH_N] = {
		[ESP_CRYPTO_ARCH_SSE] = IMB_CPUFLAGS_SSE,
		[ESP_CRYPTO_ARCH_AVX2] = IMB_CPUFLAGS_AVX2,
		[ESP_CRYPTO_ARCH_AVX512] = IMB_CPUFLAGS_AVX512,
	};

	if (arch <= ESP_CRYPTO_ARCH_AUTO || arch >= ESP_CRYPTO_ARCH_N)
		return false;
	return (imb_get_feature_flags() & need[arch]) == need[arch];
}

static IMB_MGR *mgr_new(enum esp_crypto_arch arch)
{
	IMB_MGR *m = alloc_mb_mgr(0);

	if (!m)
		return NULL;
	if (arch == ESP_CRYPTO_ARCH_SSE)
		init_mb_mgr_sse(m);
	else if (arch == ESP_CRYPTO_ARCH_AVX2)
		init_mb_mgr_avx2(m);
	else
		init_mb_mgr_avx512(m);
	if (imb_get_errno(m) != 0) {
		free_mb_mgr(m);
		return NULL;
	}
	return m;
}

/*
 * The SA's manager: the algorithm's measured best (the AEAD's, or the
 * hash's, which dominates cipher + HMAC) or, on CPUs without it, the
 * widest one there is; or the one the caller forces. Unforced, an HMAC's
 * bursts of short payloads may go to another manager (crypto_alg.c): AES
 * round keys and HMAC pads are the same for all of them (GCM hash keys are
 * not).
 */
static int arch_choose(struct esp_crypto *ctx, const struct esp_crypto_params *p)
{
	const struct esp_crypto_alg *alg = p->aead ? p->aead : p->auth;

	if (p->arch != ESP_CRYPTO_ARCH_AUTO) {
		ctx->arch = p->arch;
		return arch_ok(p->arch) ? 0 : -ENOTSUP;
	}
	for (int a = alg->arch; a > ESP_CRYPTO_ARCH_AUTO; a--) {
		if (arch_ok(a)) {
			ctx->arch = a;
			break;
		}
	}
	if (ctx->arch == ESP_CRYPTO_ARCH_AUTO)
		return -ENOTSUP;
	if (alg->wide_from && arch_ok(alg->arch_narrow)) {
		ctx->arch_narrow = alg->arch_narrow;
		ctx->wide_from = alg->wide_from;
	}
	return 0;
}

static IMB_MGR *keying_get(enum esp_crypto_arch arch)
{
	if (!keying[arch])
		keying[arch] = mgr_new(arch);
	return keying[arch];
}

static inline void put_be32(uint8_t *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, 4);
}

static inline uint32_t load32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/*
 * Nonces and AADs are built in registers and written with one 16-byte
 * store: the library reads them with wide loads, which stall for ~15
 * cycles when they span several narrower stores (failed store forwarding).
 */
static inline void store16(uint8_t *dst, uint64_t lo, uint64_t hi)
{
	_mm_storeu_si128((__m128i *)dst, _mm_set_epi64x((long long)hi, (long long)lo));
}

static inline uint8_t *op_icv(const struct esp_crypto *sa, const struct esp_crypto_op *op)
{
	return op->esp + sa->hdr_len + op->len;
}

/*
 * Counter-mode nonce: salt || explicit IV || block counter 1 (RFC 3686 s.4,
 * RFC 4106 s.4, RFC 7634 s.2); the library reads the first 12 bytes.
 */
static inline void nonce_build(const struct esp_crypto *sa, const uint8_t *esp, uint8_t *nonce)
{
	uint64_t iv;

	memcpy(&iv, esp + ESP_CRYPTO_HDR_LEN, 8);
	store16(nonce, load32(sa->keys.salt) | iv << 32, iv >> 32 | (uint64_t)htobe32(1) << 32);
}

/*
 * HMAC with ESN: the sequence number's high bits are hashed after the
 * payload but not sent (RFC 4303 s.3.3.2.2). They go where the ICV will be;
 * hash_base counts them only on ESN SAs.
 */
static void prep_hmac(IMB_JOB *job, const struct esp_crypto *sa,
		      struct esp_crypto_op *op, struct esp_crypto_scratch *s)
{
	(void)job;
	(void)s;
	if (sa->esn)
		put_be32(op_icv(sa, op), op->esn_hi);
}

static void prep_ctr_hmac(IMB_JOB *job, const struct esp_crypto *sa,
			  struct esp_crypto_op *op, struct esp_crypto_scratch *s)
{
	nonce_build(sa, op->esp, s->nonce);
	job->iv = s->nonce;
	if (sa->esn)
		put_be32(op_icv(sa, op), op->esn_hi);
}

_Static_assert(offsetof(IMB_JOB, u.GCM.aad) == offsetof(IMB_JOB, u.CHACHA20_POLY1305.aad),
	       "GCM and ChaCha20-Poly1305 read the AAD pointer from the same place");

/* AAD is SPI || seq (8 bytes) or SPI || ESN high || ESN low (12) (RFC 4106 s.5). */
static inline void aead_inputs(const struct esp_crypto *sa, const struct esp_crypto_op *op,
			       struct esp_crypto_scratch *s)
{
	uint32_t spi = load32(op->esp), lo = load32(op->esp + 4), hi = htobe32(op->esn_hi);

	nonce_build(sa, op->esp, s->nonce);
	store16(s->aad, spi | (uint64_t)(sa->esn ? hi : lo) << 32, sa->esn ? lo : 0);
}

static inline unsigned aead_aad_len(const struct esp_crypto *sa)
{
	return 8 + 4 * sa->esn;
}

static void prep_aead(IMB_JOB *job, const struct esp_crypto *sa,
		      struct esp_crypto_op *op, struct esp_crypto_scratch *s)
{
	aead_inputs(sa, op, s);
	job->iv = s->nonce;
	job->u.GCM.aad = s->aad;
}

static void prep_gmac(IMB_JOB *job, const struct esp_crypto *sa,
		      struct esp_crypto_op *op, struct esp_crypto_scratch *s)
{
	nonce_build(sa, op->esp, s->nonce);
	job->u.GMAC._iv = s->nonce;
}

/*
 * RFC 4543 with ESN authenticates SPI || ESN (64 bits) || IV || payload, and
 * GMAC needs it contiguous: move the SPI 4 bytes back and put the high bits
 * in its place, keeping what was there to restore on completion.
 */
static void prep_gmac_esn(IMB_JOB *job, const struct esp_crypto *sa,
			  struct esp_crypto_op *op, struct esp_crypto_scratch *s)
{
	uint8_t *esp = op->esp;

	prep_gmac(job, sa, op, s);
	memcpy(s->saved, esp - 4, 4);
	memcpy(esp - 4, esp, 4);
	put_be32(esp, op->esn_hi);
	job->src = esp - 4;
	job->cipher_start_src_offset_in_bytes += 4; /* NULL cipher: src + offset == dst */
	s->shifted = 1;
}

static inline void unshift(uint8_t *esp, const struct esp_crypto_scratch *s)
{
	memcpy(esp, esp - 4, 4);
	memcpy(esp - 4, s->saved, 4);
}

static inline void job_fill(IMB_JOB *job, const struct esp_crypto *sa,
			    struct esp_crypto_op *op, struct esp_crypto_scratch *s,
			    bool enc)
{
	uint8_t *icv = op_icv(sa, op);

	*job = sa->tmpl;
	job->src = op->esp;
	job->dst = op->esp + sa->hdr_len; /* in place: dst has no offset */
	job->msg_len_to_cipher_in_bytes = op->len;
	job->msg_len_to_hash_in_bytes = sa->hash_base + op->len;
	job->iv = op->esp + ESP_CRYPTO_HDR_LEN;
	job->user_data = op;
	job->user_data2 = s;
	s->shifted = 0;
	if (enc) {
		job->cipher_direction = IMB_DIR_ENCRYPT;
		job->chain_order = IMB_ORDER_CIPHER_HASH;
		job->auth_tag_output = sa->tag_direct ? icv : s->tag;
	} else {
		job->cipher_direction = IMB_DIR_DECRYPT;
		job->chain_order = IMB_ORDER_HASH_CIPHER;
		job->auth_tag_output = s->tag;
		if (sa->save_icv)
			memcpy(s->rx_icv, icv, sa->icv_len);
	}
	sa->prep(job, sa, op, s);
}

/* Constant time: how long a wrong ICV takes must not tell how wrong it is. */
static inline bool icv_equal(const uint8_t *a, const uint8_t *b, unsigned n)
{
	uint64_t diff = 0, x, y;
	unsigned i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		diff |= x ^ y;
	}
	for (; i < n; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

static inline void job_complete(const IMB_JOB *job, bool enc)
{
	struct esp_crypto_op *op = job->user_data;
	struct esp_crypto_scratch *s = job->user_data2;
	const struct esp_crypto *sa = op->sa;

	if (unlikely(s->shifted))
		unshift(op->esp, s);
	if (unlikely(job->status != IMB_STATUS_COMPLETED)) {
		op->status = -EIO;
	} else if (enc) {
		if (!sa->tag_direct)
			memcpy(op_icv(sa, op), s->tag, sa->icv_len);
		op->status = 0;
	} else {
		const uint8_t *rx = sa->save_icv ? s->rx_icv : op_icv(sa, op);

		op->status = icv_equal(s->tag, rx, sa->icv_len) ? 0 : -EBADMSG;
	}
}

/* ---- SA setup (control thread) ---- */

static void aes_expand(IMB_MGR *m, const uint8_t *key, unsigned len, void *enc, void *dec)
{
	if (len == 16)
		IMB_AES_KEYEXP_128(m, key, enc, dec);
	else if (len == 24)
		IMB_AES_KEYEXP_192(m, key, enc, dec);
	else
		IMB_AES_KEYEXP_256(m, key, enc, dec);
}

static void gcm_expand(IMB_MGR *m, const uint8_t *key, unsigned len, struct gcm_key_data *gk)
{
	if (len == 16)
		IMB_AES128_GCM_PRE(m, key, gk);
	else if (len == 24)
		IMB_AES192_GCM_PRE(m, key, gk);
	else
		IMB_AES256_GCM_PRE(m, key, gk);
}

/* The manager of the SA's arch gives the functions its workers' managers
 * would run for the job. */
static void gcm_direct_pick(struct esp_crypto *ctx, IMB_MGR *m, unsigned key_len)
{
	if (key_len == 16) {
		ctx->gcm_enc = m->gcm128_enc;
		ctx->gcm_dec = m->gcm128_dec;
	} else if (key_len == 24) {
		ctx->gcm_enc = m->gcm192_enc;
		ctx->gcm_dec = m->gcm192_dec;
	} else {
		ctx->gcm_enc = m->gcm256_enc;
		ctx->gcm_dec = m->gcm256_dec;
	}
}

static void cipher_tmpl(struct esp_crypto *ctx, IMB_MGR *m, const struct esp_crypto_params *p)
{
	IMB_JOB *t = &ctx->tmpl;
	unsigned key_len = p->enc_key_bits / 8 - p->enc->salt_len;

	t->cipher_start_src_offset_in_bytes = ctx->hdr_len;
	t->key_len_in_bytes = key_len;
	if (ctx->family == ESP_CRYPTO_CBC) {
		aes_expand(m, p->enc_key, key_len, ctx->keys.aes.enc, ctx->keys.aes.dec);
		t->cipher_mode = IMB_CIPHER_CBC;
		t->iv_len_in_bytes = 16;
		ctx->prep = prep_hmac;
	} else if (ctx->family == ESP_CRYPTO_CTR) {
		aes_expand(m, p->enc_key, key_len, ctx->keys.aes.enc, ctx->keys.aes.dec);
		t->cipher_mode = IMB_CIPHER_CNTR;
		t->iv_len_in_bytes = 12; /* the library appends the block counter 1 */
		ctx->prep = prep_ctr_hmac;
	} else {
		t->cipher_mode = IMB_CIPHER_NULL;
		ctx->prep = prep_hmac;
	}
	t->enc_keys = ctx->keys.aes.enc;
	t->dec_keys = ctx->keys.aes.dec;
}

static int hmac_one_block(IMB_MGR *m, IMB_HASH_ALG hash, const uint8_t *in, uint8_t *out)
{
	switch (hash) {
	case IMB_AUTH_MD5: IMB_MD5_ONE_BLOCK(m, in, out); return 0;
	case IMB_AUTH_HMAC_SHA_1: IMB_SHA1_ONE_BLOCK(m, in, out); return 0;
	case IMB_AUTH_HMAC_SHA_256: IMB_SHA256_ONE_BLOCK(m, in, out); return 0;
	case IMB_AUTH_HMAC_SHA_384: IMB_SHA384_ONE_BLOCK(m, in, out); return 0;
	case IMB_AUTH_HMAC_SHA_512: IMB_SHA512_ONE_BLOCK(m, in, out); return 0;
	default: return -ENOTSUP;
	}
}

/*
 * HMAC (RFC 2104) precompute: the hash states after one block of
 * key ^ ipad and key ^ opad; keys longer than a block are hashed first.
 */
static int hmac_precompute(IMB_MGR *m, const struct esp_crypto_alg *alg,
			   const uint8_t *key, unsigned len, struct esp_crypto_keys *k)
{
	uint8_t block[128] = { 0 }, pad[128];
	unsigned dlen;
	int rc = 0;

	if (len > alg->hmac_block) {
		if (!EVP_Digest(key, len, block, &dlen, EVP_get_digestbyname(alg->md), NULL))
			rc = -EINVAL;
	} else if (len) {
		memcpy(block, key, len);
	}
	for (unsigned i = 0; i < alg->hmac_block; i++)
		pad[i] = block[i] ^ 0x36;
	if (rc == 0)
		rc = hmac_one_block(m, alg->hash, pad, k->ipad);
	for (unsigned i = 0; i < alg->hmac_block; i++)
		pad[i] = block[i] ^ 0x5c;
	if (rc == 0)
		rc = hmac_one_block(m, alg->hash, pad, k->opad);
	explicit_bzero(block, sizeof(block));
	explicit_bzero(pad, sizeof(pad));
	return rc;
}

static int auth_tmpl(struct esp_crypto *ctx, IMB_MGR *m, const struct esp_crypto_params *p)
{
	IMB_JOB *t = &ctx->tmpl;
	const struct esp_crypto_alg *alg = p->auth;

	/* The library emits the standard truncation or the full digest. */
	t->auth_tag_output_len_in_bytes =
		ctx->icv_len == alg->imb_trunc ? alg->imb_trunc : alg->digest_len;
	ctx->tag_direct = t->auth_tag_output_len_in_bytes == ctx->icv_len;
	t->hash_alg = alg->hash;
	t->u.HMAC._hashed_auth_key_xor_ipad = ctx->keys.ipad;
	t->u.HMAC._hashed_auth_key_xor_opad = ctx->keys.opad;
	ctx->hash_base = ctx->hdr_len + 4 * ctx->esn;
	/* The ESN high bits overwrite the received ICV before hashing. */
	ctx->save_icv = ctx->esn;
	return hmac_precompute(m, alg, p->auth_key, p->auth_key_bits / 8, &ctx->keys);
}

static void aead_tmpl(struct esp_crypto *ctx, IMB_MGR *m, const struct esp_crypto_params *p)
{
	IMB_JOB *t = &ctx->tmpl;
	unsigned key_len = p->aead_key_bits / 8 - p->aead->salt_len;
	static const IMB_HASH_ALG gmac[] = { IMB_AUTH_AES_GMAC_128, IMB_AUTH_AES_GMAC_192,
					     IMB_AUTH_AES_GMAC_256 };

	t->key_len_in_bytes = key_len;
	t->iv_len_in_bytes = 12;
	t->cipher_start_src_offset_in_bytes = ctx->hdr_len;
	t->hash_start_src_offset_in_bytes = ctx->hdr_len;
	t->auth_tag_output_len_in_bytes = ctx->icv_len;
	t->hash_alg = p->aead->hash;
	ctx->tag_direct = 1;
	ctx->prep = prep_aead;
	if (ctx->family == ESP_CRYPTO_CHACHA) {
		memcpy(ctx->keys.chacha, p->aead_key, 32);
		t->cipher_mode = IMB_CIPHER_CHACHA20_POLY1305;
		t->enc_keys = t->dec_keys = ctx->keys.chacha;
		t->u.CHACHA20_POLY1305.aad_len_in_bytes = aead_aad_len(ctx);
		return;
	}
	gcm_expand(m, p->aead_key, key_len, &ctx->keys.gcm);
	t->enc_keys = t->dec_keys = &ctx->keys.gcm;
	if (ctx->family == ESP_CRYPTO_GCM) {
		t->cipher_mode = IMB_CIPHER_GCM;
		t->u.GCM.aad_len_in_bytes = aead_aad_len(ctx);
		gcm_direct_pick(ctx, m, key_len);
		return;
	}
	/* RFC 4543: GMAC over SPI, sequence number, IV and payload; no cipher. */
	t->cipher_mode = IMB_CIPHER_NULL;
	t->hash_alg = gmac[(key_len - 16) / 8];
	t->hash_start_src_offset_in_bytes = 0;
	t->u.GMAC._key = &ctx->keys.gcm;
	t->u.GMAC.iv_len_in_bytes = 12;
	ctx->hash_base = ctx->hdr_len + 4 * ctx->esn;
	ctx->prep = ctx->esn ? prep_gmac_esn : prep_gmac;
}

static int run_one(IMB_MGR *m, struct esp_crypto_op *op, struct esp_crypto_scratch *s, bool enc)
{
	IMB_JOB *job = IMB_GET_NEXT_JOB(m);

	job_fill(job, op->sa, op, s, enc);
	job = IMB_SUBMIT_JOB(m);
	if (!job)
		job = IMB_FLUSH_JOB(m);
	if (!job)
		return -EIO;
	job_complete(job, enc);
	return op->status;
}

/*
 * Encrypt and decrypt one packet through the library's checking submit:
 * proves the template and keys at SA creation, so the fast path can use
 * the non-checking submit.
 */
static int self_test(struct esp_crypto *ctx, IMB_MGR *m)
{
	uint8_t buf[4 + 24 + 64 + ESP_CRYPTO_ICV_MAX] = { 0 };
	struct esp_crypto_scratch s;
	struct esp_crypto_op op = { .sa = ctx, .esp = buf + 4, .len = 64, .esn_hi = 1 };
	int rc;

	rc = run_one(m, &op, &s, true);
	if (rc == 0)
		rc = run_one(m, &op, &s, false);
	explicit_bzero(buf, sizeof(buf));
	explicit_bzero(&s, sizeof(s));
	return rc;
}

/* Key schedules come from a manager of the SA's arch: GCM hash keys differ. */
int esp_crypto_ipsecmb_init(struct esp_crypto *ctx, const struct esp_crypto_params *p)
{
	IMB_MGR *m;
	int rc = arch_choose(ctx, p);

	if (rc != 0)
		return rc;
	pthread_mutex_lock(&keying_lock);
	m = keying_get(ctx->arch);
	if (!m) {
		rc = -ENOMEM;
	} else if (p->aead) {
		aead_tmpl(ctx, m, p);
	} else {
		cipher_tmpl(ctx, m, p);
		rc = auth_tmpl(ctx, m, p);
	}
	if (rc == 0)
		rc = self_test(ctx, m);
	pthread_mutex_unlock(&keying_lock);
	return rc;
}

/* ---- Worker ---- */

/*
 * CBC IVs must be unpredictable (RFC 3602 s.2.4): they come from an AES-256
 * counter-mode keystream under a per-worker random key, refilled in bulk.
 * Each refill uses a fresh 64-bit block-counter prefix, so the keystream
 * never repeats.
 */
static void rnd_refill(struct esp_crypto_worker *w)
{
	IMB_JOB job = { 0 };
	uint64_t ctr = htobe64(++w->rnd_ctr);

	memcpy(w->rnd_key.iv + 4, &ctr, sizeof(ctr));
	memset(w->rnd, 0, sizeof(w->rnd));
	job.enc_keys = w->rnd_key.enc;
	job.key_len_in_bytes = 32;
	job.src = w->rnd;
	job.dst = w->rnd;
	job.msg_len_to_cipher_in_bytes = sizeof(w->rnd);
	job.iv = w->rnd_key.iv;
	job.iv_len_in_bytes = sizeof(w->rnd_key.iv);
	IMB_SUBMIT_CIPHER_BURST_NOCHECK(w->rnd_mgr, &job, 1, IMB_CIPHER_CNTR,
					IMB_DIR_ENCRYPT, IMB_KEY_256_BYTES);
	w->rnd_off = 0;
}

static int rnd_seed(struct esp_crypto_worker *w)
{
	uint8_t seed[36];
	int rc = 0;

	if (getrandom(seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
		rc = -EIO;
	IMB_AES_KEYEXP_256(w->rnd_mgr, seed, w->rnd_key.enc, w->rnd_key.dec);
	memcpy(w->rnd_key.iv, seed + 32, 4);
	explicit_bzero(seed, sizeof(seed));
	w->rnd_off = RND_POOL;
	return rc;
}

int esp_crypto_worker_create(struct esp_crypto_worker **out)
{
	struct esp_crypto_worker *w = aligned_alloc(64, sizeof(*w));
	int rc = 0;

	if (!w)
		return -ENOMEM;
	memset(w, 0, sizeof(*w));
	for (int a = ESP_CRYPTO_ARCH_SSE; a < ESP_CRYPTO_ARCH_N && rc == 0; a++) {
		if (!arch_ok(a))
			continue;
		w->mgr[a] = mgr_new(a);
		if (!w->mgr[a])
			rc = -ENOMEM;
		w->rnd_mgr = w->mgr[a];
	}
	if (rc == 0 && !w->rnd_mgr)
		rc = -ENOTSUP;
	if (rc == 0)
		rc = rnd_seed(w);
	if (rc != 0) {
		esp_crypto_worker_destroy(w);
		return rc;
	}
	*out = w;
	return 0;
}

void esp_crypto_worker_destroy(struct esp_crypto_worker *w)
{
	if (!w)
		return;
	for (int a = 0; a < ESP_CRYPTO_ARCH_N; a++)
		if (w->mgr[a])
			free_mb_mgr(w->mgr[a]);
	explicit_bzero(w, sizeof(*w));
	free(w);
}

/* ---- Bursts (worker threads: no allocation, syscall or lock) ---- */

/* CBC IVs are the only random ones, and always 16 bytes. */
static inline void rnd_take16(struct esp_crypto_worker *w, uint8_t *dst)
{
	if (unlikely(w->rnd_off + 16 > RND_POOL))
		rnd_refill(w);
	memcpy(dst, w->rnd + w->rnd_off, 16);
	w->rnd_off += 16;
}

/*
 * Write each op's IV; call before esp_crypto_encrypt_burst. CBC: random. Counter modes and AEADs need only
 * uniqueness per key (RFC 3686 s.3.1, RFC 4106 s.3.1, RFC 7634 s.2), and the
 * 64-bit sequence number is unique for the SA's life: IV = ESN high || low,
 * so the sequence number must be in the header before this is called.
 */
void esp_crypto_iv_fill(struct esp_crypto_worker *w, struct esp_crypto_op *ops[], uint16_t n)
{
	for (uint16_t i = 0; i < n; i++) {
		struct esp_crypto_op *op = ops[i];
		const struct esp_crypto *sa = op->sa;
		uint8_t *iv = op->esp + ESP_CRYPTO_HDR_LEN;

		if (sa->iv_random) {
			if (sa->iv_len)
				rnd_take16(w, iv);
		} else {
			uint64_t seq = htobe32(sa->esn ? op->esn_hi : 0) |
				       (uint64_t)load32(op->esp + 4) << 32;

			memcpy(iv, &seq, 8);
		}
	}
}

/*
 * AES-GCM without a job: the library's GCM is one buffer at a time, so the
 * job manager adds only its bookkeeping around the same function (15-25
 * cycles a packet here: bench/run-esp.sh, ceiling "direct" against the
 * AVX-512 jobs). The tag is compared as for a job, in constant time.
 */
static inline void gcm_direct(struct esp_crypto_worker *w, struct esp_crypto_op *op,
			      struct esp_crypto_scratch *s, bool enc)
{
	const struct esp_crypto *sa = op->sa;
	uint8_t *payload = op->esp + sa->hdr_len;
	uint8_t *icv = op_icv(sa, op);

	aead_inputs(sa, op, s);
	if (enc) {
		sa->gcm_enc(&sa->keys.gcm, &w->gcm_ctx, payload, payload, op->len, s->nonce,
			    s->aad, aead_aad_len(sa), icv, sa->icv_len);
		op->status = 0;
		return;
	}
	sa->gcm_dec(&sa->keys.gcm, &w->gcm_ctx, payload, payload, op->len, s->nonce, s->aad,
		    aead_aad_len(sa), s->tag, sa->icv_len);
	op->status = icv_equal(s->tag, icv, sa->icv_len) ? 0 : -EBADMSG;
}

static inline int openssl_run(struct esp_crypto_op *op, bool enc)
{
	return enc ? esp_crypto_openssl_encrypt(op) : esp_crypto_openssl_decrypt(op);
}

/*
 * A wide manager is slower than SSE with fewer jobs than its lanes to
 * flush: AVX-512 CBC + HMAC-SHA-256 at 1400 bytes runs at half the speed
 * with 8 jobs a flush, ahead from 16 (bench/crypto_ceiling.c --burst).
 */
#define WIDE_JOBS_MIN 16

static inline void job_submit(struct esp_crypto_worker *w, unsigned arch, unsigned i,
			      struct esp_crypto_op *op, bool enc)
{
	IMB_MGR *m = w->mgr[arch];
	IMB_JOB *job = IMB_GET_NEXT_JOB(m);

	job_fill(job, op->sa, op, &w->scratch[i], enc);
	for (job = IMB_SUBMIT_JOB_NOCHECK(m); job; job = IMB_GET_COMPLETED_JOB(m))
		job_complete(job, enc);
}

/* Whether the burst's payloads of SAs with a narrow manager go to their
 * wide one: enough of them to fill it, as long on average as it needs. */
static inline bool burst_wide(struct esp_crypto_op *ops[], unsigned n)
{
	unsigned count = 0, len = 0, len_wide = 0;

	for (unsigned i = 0; i < n; i++) {
		uint16_t from = ops[i]->sa->wide_from;
		count += from != 0;
		len += from ? ops[i]->len : 0;
		len_wide += from;
	}
	return count >= WIDE_JOBS_MIN && len >= len_wide;
}

/*
 * All jobs of the burst go in before any flush, in their order: the wide
 * managers only reach their speed with every lane busy (bench/crypto_ceiling.c:
 * AVX-512 SHA-256 gains ~40% at IMIX from 32 to 256 packets per flush).
 */
static inline void jobs_run(struct esp_crypto_worker *w, struct esp_crypto_op *ops[],
			    unsigned n, bool enc)
{
	int wide = -1; /* burst_wide of the ops from the first that asks */
	unsigned used = 0;
	IMB_JOB *job;

	for (unsigned i = 0; i < n; i++) {
		struct esp_crypto_op *op = ops[i];
		const struct esp_crypto *sa = op->sa;
		unsigned arch;

		if (unlikely((op->len & sa->len_mask) || op->len < sa->len_min)) {
			op->status = -EINVAL;
			continue;
		}
		if (unlikely(sa->engine != ESP_CRYPTO_ENGINE_IPSECMB)) {
			op->status = openssl_run(op, enc);
			continue;
		}
		if (sa->gcm_enc) {
			gcm_direct(w, op, &w->scratch[i], enc);
			continue;
		}
		arch = sa->arch;
		if (sa->wide_from) {
			if (wide < 0)
				wide = burst_wide(ops + i, n - i);
			if (!wide)
				arch = sa->arch_narrow;
		}
		used |= 1u << arch;
		job_submit(w, arch, i, op, enc);
	}
	while (used) {
		IMB_MGR *m = w->mgr[__builtin_ctz(used)];

		used &= used - 1;
		while ((job = IMB_FLUSH_JOB(m)) != NULL)
			job_complete(job, enc);
	}
}

/* Burst contract: successes first in their order, failures after them. */
static uint16_t partition(struct esp_crypto_worker *w, struct esp_crypto_op *ops[], uint16_t n)
{
	uint16_t ok = 0, bad = 0;

	for (uint16_t i = 0; i < n; i++) {
		if (likely(ops[i]->status == 0))
			ops[ok++] = ops[i];
		else
			w->failed[bad++] = ops[i];
	}
	memcpy(ops + ok, w->failed, bad * sizeof(ops[0]));
	return ok;
}

static inline uint16_t burst_run(struct esp_crypto_worker *w, struct esp_crypto_op *ops[],
				 uint16_t n, bool enc)
{
	uint16_t limit = n < ESP_CRYPTO_BURST_MAX ? n : ESP_CRYPTO_BURST_MAX;

	for (uint16_t i = limit; i < n; i++)
		ops[i]->status = -E2BIG;
	jobs_run(w, ops, limit, enc);
	return partition(w, ops, limit);
}

/* Encrypt payloads and write ICVs; IVs must be in place (esp_crypto_iv_fill). */
uint16_t esp_crypto_encrypt_burst(struct esp_crypto_worker *w,
				  struct esp_crypto_op *ops[], uint16_t n)
{
	return burst_run(w, ops, n, true);
}

/* Verify ICVs (constant time) and decrypt payloads; -EBADMSG on mismatch. */
uint16_t esp_crypto_decrypt_burst(struct esp_crypto_worker *w,
				  struct esp_crypto_op *ops[], uint16_t n)
{
	return burst_run(w, ops, n, false);
}
