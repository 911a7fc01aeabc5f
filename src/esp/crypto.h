/*
 * ESP crypto engines: the algorithm table (kernel XFRM names), per-SA crypto
 * contexts built once at SA creation, per-worker state, and burst encrypt /
 * decrypt of ESP packets held in plain contiguous buffers.
 *
 * Two engines implement the same operations: intel-ipsec-mb's job API
 * (the fast path; jobs of a whole burst fill the multi-buffer lanes before
 * one flush) and OpenSSL 3 EVP (breadth and cross-checks). The engine, the
 * intel-ipsec-mb manager, the job template and every length are chosen in
 * esp_crypto_init, so the burst functions never branch on the algorithm.
 *
 * Packet layout the burst functions work on (RFC 4303 s.2):
 *
 *   esp -> | SPI (4) | Sequence Number (4) | IV (iv_len) |
 *          | payload, padding, pad length, next header (len bytes) | ICV |
 *
 * For HMAC SAs with ESN the high 32 bits of the sequence number are
 * authenticated after the payload (RFC 4303 s.2.2.1, s.3.3.2.2): they are
 * written over the first 4 ICV bytes before hashing, so the ICV field must
 * have room (with ESN the ICV is at least 4 bytes, as the kernel's
 * authencesn requires too). Combined-mode SAs put them in
 * the AAD instead (RFC 4106 s.5, RFC 7634 s.2.1); RFC 4543 GMAC with ESN
 * needs SPI || ESN || IV contiguous, so the 4 bytes before `esp` are used as
 * scratch and restored (as the Linux kernel does).
 */
#ifndef ESPD_ESP_CRYPTO_H
#define ESPD_ESP_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Without the library's pre-0.53 names (CBC, SHA1, MD5, ENCRYPT, ...),
 * which would rename OpenSSL functions and clash in any includer. */
#ifndef NO_COMPAT_IMB_API_053
#define NO_COMPAT_IMB_API_053
#endif
#include <intel-ipsec-mb.h>
#include <openssl/types.h>

#define ESP_CRYPTO_WUR __attribute__((warn_unused_result))

/* Most ops one burst call processes; ops past it fail with -E2BIG. */
#define ESP_CRYPTO_BURST_MAX 256
#define ESP_CRYPTO_HDR_LEN 8        /* SPI + sequence number */
#define ESP_CRYPTO_ICV_MAX 64       /* untruncated HMAC-SHA-512 */
#define ESP_CRYPTO_ESN_ICV_MIN 4    /* HMAC with ESN: bytes of ICV at least */
#define ESP_CRYPTO_AUTH_KEY_MAX 512 /* HMAC keys longer than this are refused (the
				     * longest ip xfrm sends) */

enum esp_crypto_engine {
	ESP_CRYPTO_ENGINE_IPSECMB,
	ESP_CRYPTO_ENGINE_OPENSSL,
};

/* intel-ipsec-mb managers a worker owns; AUTO picks per algorithm. */
enum esp_crypto_arch {
	ESP_CRYPTO_ARCH_AUTO,
	ESP_CRYPTO_ARCH_SSE,
	ESP_CRYPTO_ARCH_AVX2,
	ESP_CRYPTO_ARCH_AVX512,
	ESP_CRYPTO_ARCH_N,
};

enum esp_crypto_alg_type {
	ESP_CRYPTO_ALG_ENC,
	ESP_CRYPTO_ALG_AUTH,
	ESP_CRYPTO_ALG_AEAD,
};

/* How the packet is processed; selects the job template and OpenSSL calls. */
enum esp_crypto_family {
	ESP_CRYPTO_CBC,
	ESP_CRYPTO_CTR,
	ESP_CRYPTO_NULL,
	ESP_CRYPTO_HMAC,
	ESP_CRYPTO_GCM,
	ESP_CRYPTO_CHACHA,
	ESP_CRYPTO_GMAC,
};

/* One row of the algorithm table (crypto_alg.c). */
struct esp_crypto_alg {
	const char *name;  /* kernel XFRM name, e.g. "cbc(aes)" */
	const char *alias; /* the kernel's compat name ("aes", "sha1"), or NULL */
	enum esp_crypto_alg_type type;
	enum esp_crypto_family family;
	uint16_t key_bits[3];  /* accepted XFRM key lengths incl. salt; {0} = any */
	uint8_t salt_len;      /* trailing key bytes that are the nonce salt */
	uint8_t iv_len;        /* explicit IV bytes in each packet */
	uint8_t block_size;    /* payload + trailer alignment */
	uint16_t icv_default;  /* bits, the kernel's default (XFRMA_ALG_AUTH) */
	uint16_t icv_min, icv_max, icv_step; /* accepted ICV bits */
	/* intel-ipsec-mb */
	IMB_HASH_ALG hash;
	const char *md;       /* HMAC: OpenSSL digest name */
	uint8_t hmac_block;   /* HMAC: hash block size */
	uint8_t digest_len;   /* HMAC: untruncated digest bytes */
	uint8_t imb_trunc;    /* HMAC: truncated tag bytes the library emits */
	enum esp_crypto_arch arch; /* measured fastest (bench/crypto_ceiling.c) */
	/* HMAC: a burst whose payloads average less than wide_from bytes goes
	 * to the arch_narrow manager (measured faster there), when the CPU has
	 * it; 0: none. */
	enum esp_crypto_arch arch_narrow;
	uint16_t wide_from;
};

/* What an SA asks for, in the words of XFRM: either enc + auth, or aead. */
struct esp_crypto_params {
	const struct esp_crypto_alg *enc, *auth, *aead;
	const uint8_t *enc_key, *auth_key, *aead_key;
	uint16_t enc_key_bits, auth_key_bits, aead_key_bits; /* salt included */
	uint16_t icv_bits; /* auth trunc_len (bits / 8 bytes used) or aead icv_len;
			    * 0 = default */
	bool esn;
	enum esp_crypto_arch arch; /* AUTO unless a test or bench forces one */
};

/* Key material: one struct, wiped with explicit_bzero in esp_crypto_destroy. */
struct esp_crypto_keys {
	union {
		struct {
			uint32_t enc[60]; /* AES round keys (CBC, CTR) */
			uint32_t dec[60];
		} aes;
		struct gcm_key_data gcm; /* GCM, GMAC; layout depends on arch */
		uint8_t chacha[32];
	};
	uint8_t ipad[64]; /* HMAC: hash state after (key ^ ipad) */
	uint8_t opad[64]; /* HMAC: hash state after (key ^ opad) */
	uint8_t salt[4];  /* RFC 3686/4106/4543/7634 nonce salt */
} __attribute__((aligned(64)));

struct esp_crypto;
struct esp_crypto_op;
struct esp_crypto_scratch;

typedef void esp_crypto_prep_fn(IMB_JOB *job, const struct esp_crypto *sa,
				struct esp_crypto_op *op,
				struct esp_crypto_scratch *s);

/*
 * Per-SA crypto context. The first part is what the burst functions read
 * per packet; it is read-only after esp_crypto_init, so any number of
 * workers may use an intel-ipsec-mb SA at once. OpenSSL-engine SAs keep
 * EVP contexts here and must be used by one thread at a time. The template
 * points into `keys`: the struct must not be copied or moved after init.
 */
struct esp_crypto {
	IMB_JOB tmpl;             /* every per-SA job field, filled once */
	esp_crypto_prep_fn *prep; /* family-specific per-packet job fields */
	uint32_t len_mask;        /* payload length bits that must be clear */
	uint32_t len_min;
	uint16_t hash_base;       /* bytes hashed besides the payload */
	uint8_t arch;             /* which of the worker's managers */
	uint8_t arch_narrow;      /* ... for bursts of shorter payloads */
	uint16_t wide_from;       /* their mean length for arch; 0: always arch */
	uint8_t engine;
	uint8_t iv_len;
	uint8_t icv_len;
	uint8_t block_size;
	uint8_t hdr_len;          /* ESP header + IV */
	uint8_t tag_direct;       /* library writes the ICV in place */
	uint8_t iv_random;        /* CBC: random IV; others: sequence number */
	uint8_t esn;
	uint8_t save_icv;         /* decrypt: keep the received ICV aside */
	uint8_t family;           /* enum esp_crypto_family of the cipher part */
	/* AES-GCM: the library's direct calls, which skip the job manager. */
	aes_gcm_enc_dec_t gcm_enc, gcm_dec;
	/* Cold: control and second engine. */
	const struct esp_crypto_alg *enc, *auth, *aead;
	EVP_CIPHER_CTX *evp_enc, *evp_dec;
	EVP_MAC_CTX *mac;
	struct esp_crypto_keys keys;
} __attribute__((aligned(64)));

_Static_assert(offsetof(struct esp_crypto, enc) <= 256,
	       "per-packet SA fields fit in four cache lines");

/* One packet. ICV follows the payload; status is 0 or -errno on return. */
struct esp_crypto_op {
	struct esp_crypto *sa;
	uint8_t *esp;    /* SPI; IV at esp + 8; payload at esp + sa->hdr_len */
	uint32_t len;    /* payload + padding + pad length + next header */
	uint32_t esn_hi; /* high 32 bits of the sequence number (ESN SAs) */
	int status;      /* -EBADMSG: ICV mismatch; -EINVAL: bad length */
};

struct esp_crypto_worker;

/* Algorithm table (crypto_alg.c) */
int esp_crypto_alg_lookup(enum esp_crypto_alg_type type, const char *name,
			  unsigned key_bits, const struct esp_crypto_alg **alg) ESP_CRYPTO_WUR;
const char *esp_crypto_arch_name(enum esp_crypto_arch arch);

/* Per-SA context */
int esp_crypto_init(struct esp_crypto *ctx, enum esp_crypto_engine engine,
		    const struct esp_crypto_params *p) ESP_CRYPTO_WUR;
void esp_crypto_destroy(struct esp_crypto *ctx);

/* Per-worker state: managers, CSPRNG for IVs, scratch */
int esp_crypto_worker_create(struct esp_crypto_worker **w) ESP_CRYPTO_WUR;
void esp_crypto_worker_destroy(struct esp_crypto_worker *w);

/*
 * Bursts: return how many succeeded; failed ops are moved to the tail.
 * Encrypt uses the IV found in each packet: esp_crypto_iv_fill must write it
 * first (after the sequence number), or counter-mode IVs repeat.
 */
void esp_crypto_iv_fill(struct esp_crypto_worker *w, struct esp_crypto_op *ops[],
			uint16_t n);
uint16_t esp_crypto_encrypt_burst(struct esp_crypto_worker *w,
				  struct esp_crypto_op *ops[], uint16_t n) ESP_CRYPTO_WUR;
uint16_t esp_crypto_decrypt_burst(struct esp_crypto_worker *w,
				  struct esp_crypto_op *ops[], uint16_t n) ESP_CRYPTO_WUR;

/* Between the engine files, not for callers. */
int esp_crypto_ipsecmb_init(struct esp_crypto *ctx, const struct esp_crypto_params *p) ESP_CRYPTO_WUR;
int esp_crypto_openssl_init(struct esp_crypto *ctx, const struct esp_crypto_params *p) ESP_CRYPTO_WUR;
void esp_crypto_openssl_destroy(struct esp_crypto *ctx);
int esp_crypto_openssl_encrypt(struct esp_crypto_op *op) ESP_CRYPTO_WUR;
int esp_crypto_openssl_decrypt(struct esp_crypto_op *op) ESP_CRYPTO_WUR;

#endif
