/*
 * Known-answer and cross-check tests of the ESP crypto engines: every
 * algorithm through the ESP op path, in both engines and on every
 * intel-ipsec-mb manager this CPU has.
 *
 * Vectors: RFC 3602 (AES-CBC), RFC 2202 and RFC 4231 (HMAC), RFC 3686
 * (AES-CTR), draft-mcgrew-gcm-test-01 (whole RFC 4106 and RFC 4543 ESP
 * packets, several on the GCM specification's keys), RFC 7634 appendix A
 * (ChaCha20-Poly1305 ESP). ICVs of the composite CBC/CTR + HMAC packets
 * are checked against OpenSSL's one-shot HMAC. Then both engines must give
 * byte-identical packets for random keys and payloads of 0..1911 bytes,
 * with and without ESN, and decrypt each other's output.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "common/hex.h"
#include "esp/crypto.h"

#define HEADROOM 8
#define PKT_MAX (HEADROOM + 24 + 2048 + ESP_CRYPTO_ICV_MAX)

struct engine {
	const char *name;
	enum esp_crypto_engine engine;
	enum esp_crypto_arch arch;
};

static const struct engine engines[] = {
	{ "ipsecmb", ESP_CRYPTO_ENGINE_IPSECMB, ESP_CRYPTO_ARCH_AUTO },
	{ "ipsecmb-sse", ESP_CRYPTO_ENGINE_IPSECMB, ESP_CRYPTO_ARCH_SSE },
	{ "ipsecmb-avx2", ESP_CRYPTO_ENGINE_IPSECMB, ESP_CRYPTO_ARCH_AVX2 },
	{ "ipsecmb-avx512", ESP_CRYPTO_ENGINE_IPSECMB, ESP_CRYPTO_ARCH_AVX512 },
	{ "openssl", ESP_CRYPTO_ENGINE_OPENSSL, ESP_CRYPTO_ARCH_AUTO },
};
#define N_ENGINES (sizeof(engines) / sizeof(engines[0]))

/* An SA in words: names as XFRM has them, keys in hex. */
struct sa_desc {
	const char *enc, *enc_key;
	const char *auth, *auth_key;
	const char *aead, *aead_key;
	unsigned icv_bits;
	bool esn;
};

static struct esp_crypto_worker *worker;

/* Hex to bytes; spaces are ignored. */
static size_t unhex(const char *s, uint8_t *out)
{
	size_t n = 0;
	int hi = -1;

	for (; *s; s++) {
		int v = hex_digit(*s);

		if (*s == ' ')
			continue;
		assert_true(v >= 0);
		if (hi < 0) {
			hi = v;
		} else {
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	assert_true(hi < 0);
	return n;
}

static struct esp_crypto *sa_alloc(void)
{
	struct esp_crypto *sa = aligned_alloc(64, sizeof(*sa));

	assert_non_null(sa);
	return sa;
}

/* 0, or -ENOTSUP when this CPU lacks the forced manager. */
static int sa_make(struct esp_crypto *sa, const struct engine *e, const struct sa_desc *d)
{
	uint8_t ek[64], ak[ESP_CRYPTO_AUTH_KEY_MAX], gk[64];
	struct esp_crypto_params p = { .icv_bits = d->icv_bits, .esn = d->esn, .arch = e->arch };

	if (d->aead) {
		p.aead_key_bits = (uint16_t)(unhex(d->aead_key, gk) * 8);
		p.aead_key = gk;
		assert_int_equal(esp_crypto_alg_lookup(ESP_CRYPTO_ALG_AEAD, d->aead,
						       p.aead_key_bits, &p.aead), 0);
	} else {
		p.enc_key_bits = (uint16_t)(unhex(d->enc_key, ek) * 8);
		p.auth_key_bits = (uint16_t)(unhex(d->auth_key, ak) * 8);
		p.enc_key = ek;
		p.auth_key = ak;
		assert_int_equal(esp_crypto_alg_lookup(ESP_CRYPTO_ALG_ENC, d->enc,
						       p.enc_key_bits, &p.enc), 0);
		assert_int_equal(esp_crypto_alg_lookup(ESP_CRYPTO_ALG_AUTH, d->auth,
						       p.auth_key_bits, &p.auth), 0);
	}
	return esp_crypto_init(sa, e->engine, &p);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* SPI, sequence number, IV and payload at buf + HEADROOM; returns esp. */
static uint8_t *esp_build(uint8_t *buf, const uint8_t *spi_seq, const uint8_t *iv,
			  size_t iv_len, const uint8_t *pt, size_t len)
{
	uint8_t *esp = buf + HEADROOM;

	memcpy(esp, spi_seq, 8);
	memcpy(esp + 8, iv, iv_len);
	memcpy(esp + 8 + iv_len, pt, len);
	return esp;
}

static int run1(struct esp_crypto *sa, uint8_t *esp, uint32_t len, uint32_t hi, bool enc)
{
	struct esp_crypto_op op = { .sa = sa, .esp = esp, .len = len, .esn_hi = hi };
	struct esp_crypto_op *ops[1] = { &op };
	uint16_t ok = enc ? esp_crypto_encrypt_burst(worker, ops, 1)
			  : esp_crypto_decrypt_burst(worker, ops, 1);

	assert_int_equal(ok, op.status == 0);
	return op.status;
}

/* ---- RFC 2202 / RFC 4231: HMAC through the op path (NULL cipher) ---- */

static const struct {
	const char *alg, *key, *data, *mac;
} hmac_kats[] = {
	{ "hmac(md5)", "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "Hi There",
	  "9294727a3638bb1c13f48ef8158bfc9d" },
	{ "hmac(md5)", "4a656665", "what do ya want for nothing?",
	  "750c783e6ab0b503eaa86e310a5db738" },
	{ "hmac(md5)", "aa*80", "Test Using Larger Than Block-Size Key - Hash Key First",
	  "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd" },
	{ "hmac(sha1)", "0b*20", "Hi There", "b617318655057264e28bc0b6fb378c8ef146be00" },
	{ "hmac(sha1)", "4a656665", "what do ya want for nothing?",
	  "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
	{ "hmac(sha1)", "aa*80", "Test Using Larger Than Block-Size Key - Hash Key First",
	  "aa4ae5e15272d00e95705637ce8a3b55ed402112" },
	{ "hmac(sha256)", "0b*20", "Hi There",
	  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
	{ "hmac(sha256)", "4a656665", "what do ya want for nothing?",
	  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
	{ "hmac(sha256)", "aa*131", "Test Using Larger Than Block-Size Key - Hash Key First",
	  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
	{ "hmac(sha256)", "0c*20", "Test With Truncation", "a3b6167473100ee06e0c796c2955552b" },
	{ "hmac(sha384)", "0b*20", "Hi There",
	  "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
	  "faea9ea9076ede7f4af152e8b2fa9cb6" },
	{ "hmac(sha384)", "4a656665", "what do ya want for nothing?",
	  "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
	  "8e2240ca5e69e2c78b3239ecfab21649" },
	{ "hmac(sha384)", "aa*131", "Test Using Larger Than Block-Size Key - Hash Key First",
	  "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6"
	  "0c2ef6ab4030fe8296248df163f44952" },
	{ "hmac(sha384)", "0c*20", "Test With Truncation", "3abf34c3503b2a23a46efc619baef897" },
	{ "hmac(sha512)", "0b*20", "Hi There",
	  "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
	  "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854" },
	{ "hmac(sha512)", "4a656665", "what do ya want for nothing?",
	  "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
	  "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737" },
	{ "hmac(sha512)", "aa*131", "Test Using Larger Than Block-Size Key - Hash Key First",
	  "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
	  "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598" },
	{ "hmac(sha512)", "0c*20", "Test With Truncation", "415fad6271580a531d4179bc891d87a6" },
	/* An empty key (RFC 2104: zeros to the block size), as the kernel's
	 * hmac_setkey takes it; computed from RFC 2104's definition. */
	{ "hmac(md5)", "", "what do ya want for nothing?", "ae2e4b39f3b5ee2c8b585994294201ea" },
	{ "hmac(sha1)", "", "what do ya want for nothing?",
	  "22e999c60f94d0f2d635ca4cf1b174e5cb514d38" },
	{ "hmac(sha256)", "", "what do ya want for nothing?",
	  "76d9e7194e7dbc3aa00bbe8ffb9f6fcb5a932170f971f948bb2ab61607d2b9d6" },
	{ "hmac(sha384)", "", "what do ya want for nothing?",
	  "e954519bd102fce194f3f91260cc3df4547335b45d824ffb5ac494ef8f6997d8"
	  "76d370f431477cd27b5db6c26f15c79e" },
	{ "hmac(sha512)", "", "what do ya want for nothing?",
	  "1263ac6489324bdd55fead956dc2be547bece2b699214b63b0270143d740ad63"
	  "8f3cc6feedc740f8d9ac44866df12a0073d57214eb393f692b4ae17edf30d861" },
	/* The longest key ip xfrm sends (512 bytes): hashed first. */
	{ "hmac(sha256)", "aa*512", "Test Using Larger Than Block-Size Key - Hash Key First",
	  "b4d6d43292f30e560daac09838c89103e4517d2c1be827116b1f53abc2f08e01" },
};

/* "aa*80" expands to 80 bytes of 0xaa, as the RFCs write long keys. */
static void key_expand(const char *spec, char *hex)
{
	unsigned byte, count;

	if (sscanf(spec, "%2x*%u", &byte, &count) == 2) {
		for (unsigned i = 0; i < count; i++)
			sprintf(hex + 2 * i, "%02x", byte);
	} else {
		strcpy(hex, spec);
	}
}

static void test_hmac_kat(void **state)
{
	(void)state;
	for (size_t e = 0; e < N_ENGINES; e++) {
		for (size_t i = 0; i < sizeof(hmac_kats) / sizeof(hmac_kats[0]); i++) {
			char key[2 * ESP_CRYPTO_AUTH_KEY_MAX + 1];
			uint8_t buf[PKT_MAX], mac[64];
			size_t dlen = strlen(hmac_kats[i].data), mlen = unhex(hmac_kats[i].mac, mac);
			struct esp_crypto *sa = sa_alloc();
			struct sa_desc d = { .enc = "ecb(cipher_null)", .enc_key = "",
					     .auth = hmac_kats[i].alg, .auth_key = key,
					     .icv_bits = (unsigned)mlen * 8 };
			uint8_t *esp = buf + HEADROOM;

			key_expand(hmac_kats[i].key, key);
			if (sa_make(sa, &engines[e], &d) == -ENOTSUP) {
				free(sa);
				continue;
			}
			/* The first 8 data bytes play the ESP header. */
			memcpy(esp, hmac_kats[i].data, dlen);
			assert_int_equal(run1(sa, esp, (uint32_t)dlen - 8, 0, true), 0);
			assert_memory_equal(esp + dlen, mac, mlen);
			assert_int_equal(run1(sa, esp, (uint32_t)dlen - 8, 0, false), 0);
			esp_crypto_destroy(sa);
			free(sa);
		}
	}
}

/* ---- Cipher + HMAC KATs: RFC 3602 (CBC), RFC 3686 (CTR) ---- */

struct cipher_kat {
	const char *alg, *key, *iv, *pt, *ct;
};

static const struct cipher_kat cbc_kats[] = {
	{ "cbc(aes)", "06a9214036b8a15b512e03d534120006", "3dafba429d9eb430b422da802c9fac41",
	  "53696e676c6520626c6f636b206d7367", "e353779c1079aeb82708942dbe77181a" },
	{ "cbc(aes)", "c286696d887c9aa0611bbb3e2025a45a", "562e17996d093d28ddb3ba695a2e6f58",
	  "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	  "d296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1" },
	{ "cbc(aes)", "6c3ea0477630ce21a2ce334aa746c2cd", "c782dc4c098c66cbd9cd27d825682c81",
	  "5468697320697320612034382d62797465206d657373616765202865786163746c7920332041455320626c6f636b7329",
	  "d0a02b3836451753d493665d33f0e8862dea54cdb293abc7506939276772f8d5"
	  "021c19216bad525c8579695d83ba2684" },
	{ "cbc(aes)", "56e47a38c5598974bc46903dba290349", "8ce82eefbea0da3c44699ed7db51b7d9",
	  "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
	  "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf",
	  "c30e32ffedc0774e6aff6af0869f71aa0f3af07a9a31a9c684db207eb0ef8e4e"
	  "35907aa632c3ffdf868bb7b29d3d46ad83ce9f9a102ee99d49a53e87f4c3da55" },
	/* RFC 3686: key is AES key || nonce; the IV is the explicit IV. */
	{ "rfc3686(ctr(aes))", "7e24067817fae0d743d6ce1f32539163006cb6db", "c0543b59da48d90b",
	  "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	  "5104a106168a72d9790d41ee8edad388eb2e1efc46da57c8fce630df9141be28" },
	{ "rfc3686(ctr(aes))", "7691be035e5020a8ac6e618529f9a0dc00e0017b", "27777f3f4a1786f0",
	  "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223",
	  "c1cf48a89f2ffdd9cf4652e9efdb72d74540a42bde6d7836d59a5ceaaef3105325b2072f" },
	{ "rfc3686(ctr(aes))", "02bf391ee8ecb159b959617b0965279bf59b60a786d3e0fe0007bdfd",
	  "5cbd60278dcc0912",
	  "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223",
	  "96893fc55e5c722f540b7dd1ddf7e758d288bc95c69165884536c811662f2188abee0935" },
	{ "rfc3686(ctr(aes))",
	  "f6d66d6bd52d59bb0796365879eff886c66dd51a5b6a99744b50590c87a2388400faac24",
	  "c1585ef15a43d875",
	  "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	  "f05e231b3894612c49ee000b804eb2a9b8306b508f839d6a5530831d9344af1c" },
};

/* OpenSSL's one-shot HMAC over what ESP authenticates (RFC 4303 s.3.3.2.2). */
static void hmac_expect(const char *md, const uint8_t *key, size_t key_len, const uint8_t *esp,
			size_t len, bool esn, uint32_t hi, uint8_t *out)
{
	uint8_t data[PKT_MAX];
	unsigned out_len;

	memcpy(data, esp, len);
	if (esn)
		put_be32(data + len, hi);
	assert_non_null(HMAC(EVP_get_digestbyname(md), key, (int)key_len, data,
			     len + (esn ? 4 : 0), out, &out_len));
}

static void cipher_kat_run(const struct engine *e, const struct cipher_kat *k, bool esn)
{
	static const char auth_key[] = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
	static const uint8_t spi_seq[8] = { 0x00, 0x00, 0x43, 0x21, 0x00, 0x00, 0x00, 0x07 };
	uint8_t buf[PKT_MAX], iv[16], pt[128], ct[128], ak[32], mac[64];
	size_t iv_len = unhex(k->iv, iv), len = unhex(k->pt, pt);
	struct sa_desc d = { .enc = k->alg, .enc_key = k->key, .auth = "hmac(sha256)",
			     .auth_key = auth_key, .icv_bits = 128, .esn = esn };
	struct esp_crypto *sa = sa_alloc();
	uint8_t *esp = esp_build(buf, spi_seq, iv, iv_len, pt, len);

	unhex(k->ct, ct);
	unhex(auth_key, ak);
	if (sa_make(sa, e, &d) == -ENOTSUP) {
		free(sa);
		return;
	}
	assert_int_equal(run1(sa, esp, (uint32_t)len, 0x01020304, true), 0);
	assert_memory_equal(esp + 8 + iv_len, ct, len);
	hmac_expect("SHA256", ak, sizeof(ak), esp, 8 + iv_len + len, esn, 0x01020304, mac);
	assert_memory_equal(esp + 8 + iv_len + len, mac, 16);
	assert_int_equal(run1(sa, esp, (uint32_t)len, 0x01020304, false), 0);
	assert_memory_equal(esp + 8 + iv_len, pt, len);
	esp_crypto_destroy(sa);
	free(sa);
}

static void test_cipher_kat(void **state)
{
	(void)state;
	for (size_t e = 0; e < N_ENGINES; e++)
		for (size_t i = 0; i < sizeof(cbc_kats) / sizeof(cbc_kats[0]); i++)
			for (int esn = 0; esn < 2; esn++)
				cipher_kat_run(&engines[e], &cbc_kats[i], esn);
}

/*
 * An HMAC truncation in bits as the kernel keeps it (attach_auth_trunc):
 * the ICV is its first bits / 8 bytes (esp_init_authenc), at least one
 * (crypto_aead_setauthsize) and with ESN at least four
 * (crypto_authenc_esn_setauthsize).
 */
static void trunc_run(const struct engine *e, unsigned bits, bool esn, unsigned want_len)
{
	static const char auth_key[] = "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b";
	static const uint8_t spi_seq[8] = { 0x00, 0x00, 0x43, 0x21, 0x00, 0x00, 0x00, 0x07 };
	uint8_t buf[PKT_MAX], iv[16] = { 1 }, pt[32] = { 2 }, ak[20], mac[64];
	struct sa_desc d = { .enc = "cbc(aes)", .enc_key = "000102030405060708090a0b0c0d0e0f",
			     .auth = "hmac(sha256)", .auth_key = auth_key, .icv_bits = bits,
			     .esn = esn };
	struct esp_crypto *sa = sa_alloc();
	uint8_t *esp = esp_build(buf, spi_seq, iv, sizeof(iv), pt, sizeof(pt));
	int rc = sa_make(sa, e, &d);

	if (rc == -ENOTSUP) {
		free(sa);
		return;
	}
	assert_int_equal(rc, want_len ? 0 : -EINVAL);
	if (rc == 0) {
		assert_int_equal(sa->icv_len, want_len);
		assert_int_equal(run1(sa, esp, sizeof(pt), 9, true), 0);
		hmac_expect("SHA256", ak, unhex(auth_key, ak), esp, 8 + sizeof(iv) + sizeof(pt),
			    esn, 9, mac);
		assert_memory_equal(esp + 8 + sizeof(iv) + sizeof(pt), mac, want_len);
		assert_int_equal(run1(sa, esp, sizeof(pt), 9, false), 0);
		assert_memory_equal(esp + 8 + sizeof(iv), pt, sizeof(pt));
		esp_crypto_destroy(sa);
	}
	free(sa);
}

static void test_trunc_bits(void **state)
{
	(void)state;
	for (size_t e = 0; e < N_ENGINES; e++) {
		trunc_run(&engines[e], 100, false, 12);
		trunc_run(&engines[e], 100, true, 12);
		trunc_run(&engines[e], 255, false, 31);
		trunc_run(&engines[e], 8, false, 1);
		trunc_run(&engines[e], 23, false, 2);
		trunc_run(&engines[e], 39, true, 4);
		trunc_run(&engines[e], 7, false, 0);
		trunc_run(&engines[e], 31, true, 0);
		trunc_run(&engines[e], 257, false, 0);
	}
}

/* ---- AEAD KATs: RFC 4106, RFC 7634, RFC 4543 ESP packets ---- */

struct aead_kat {
	const char *alg, *key; /* key || salt */
	const char *aad;       /* SPI || [ESN high] || sequence number low */
	const char *iv, *pt, *ct_tag;
};

static const struct aead_kat aead_kats[] = {
	/* draft-mcgrew-gcm-test-01 */
	{ "rfc4106(gcm(aes))", "4c80cdefbb5d10da906ac73c3613a634 2e443b68",
	  "000043218765432100000000", "4956ed7e3b244cfe",
	  "45000048699a000080114db7c0a80102c0a801010a9bf15638d3010000010000"
	  "00000000045f736970045f756470037369700963796265726369747902646b00"
	  "0021000101020201",
	  "fecf537e729d5b07dc30df528dd22b768d1b98736696a6fd348509fa13ceac34"
	  "cfa2436f14a3f3cf65925bf1f4a13c5d15b21e1884f5ff6247aeabb786b93bce"
	  "61bc17d768fd9732459018148f6cbe722fd04796562dfdb4" },
	{ "rfc4106(gcm(aes))", "feffe9928665731c6d6a8f9467308308 cafebabe",
	  "0000a5f80000000a", "facedbaddecaf888",
	  "4500003e698f000080114dccc0a80102c0a801010a980035002a2343b2d00100"
	  "00010000000000000373697009637962" "65726369747902646b00000100010001",
	  "deb22cd9b07c72c16e3a65beeb8df304a5a5897d33ae530f1ba76d5d114d2a5c"
	  "3de81827c10e9a4f51330d0eec416642cfbb85a5b47e48a4ec3b9ba95d918bd1"
	  "83b70d3aa8bc6ee4c309e9d85a41ad4a" },
	{ "rfc4106(gcm(aes))",
	  "abbccddef00112233445566778899aababbccddef00112233445566778899aab 11223344",
	  "4a2cbfe300000002", "0102030405060708",
	  "4500003069a6400080062690c0a801029389155e0a9e008b2dc57ee000000000"
	  "7002400020bf0000020405b40101040201020201",
	  "ff425c9b724599df7a3bcd510194e00d6a78107f1b0b1cbf06efae9d65a5d763"
	  "748a637985771d347f0545659f14e99def842d8eb335f4eecfdbf831824b4c49"
	  "15956c96" },
	{ "rfc4106(gcm(aes))", "3de09874b388e6491988d0c3607eae1f 57690e43",
	  "42f67e3f1010101010101010", "4e280000a2fca1a3",
	  "4500001c42a200008001441f406793b6e00000020a00f5ff01020201",
	  "fba2ca845e5df9f0f22c3e6e86dd831e1fc65792cd1af9130e1379ed369f071f"
	  "35e034be95f112e4e7d05d35" },
	{ "rfc4106(gcm(aes))", "feffe9928665731c6d6a8f9467308308feffe9928665731c cafebabe",
	  "0000a5f80000000a", "facedbaddecaf888",
	  "45000028a4ad4000400678800a01038f0a010612802306b8cb712602dd6bb03e"
	  "501016d075680001",
	  "a5b1f8066029aea40e598b8122de02420938b3ab33f828e687b8858b5bfbdbd0"
	  "315b27452144cc7795457b9652037f5318027b5b4cd7a636" },
	{ "rfc4106(gcm(aes))",
	  "abbccddef00112233445566778899aababbccddef00112233445566778899aab 73616c74",
	  "17405e67156f3126dd0db99b", "616e640169766563",
	  "45080028732c00004006e9f90a0106120a01038f06b88023dd6bafbecb712602"
	  "50101f646d540001",
	  "f2d69ecdbd5a0d5b8d5ef38bad4da58d1f278fde98ef67549d524a3018d9a57f"
	  "f4d3a31ce673119e451626c2415771e3b7eebca614c89b35" },
	{ "rfc4106(gcm(aes))", "7d773d00c144c525ac619d18c84a3f47 d9664267",
	  "335467aeffffffff", "43457e9182443bc6", "01020201",
	  "437f866bcb3f699fe9b0822bac961c4504bef270" },
	/* RFC 7634 appendix A */
	{ "rfc7539esp(chacha20,poly1305)",
	  "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f a0a1a2a3",
	  "0102030400000005", "1011121314151617",
	  "45000054a6f200004001e778c6336405c000020508005b7a3a080000553bec10"
	  "000736270809" "0a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324252627"
	  "28292a2b2c2d2e2f303132333435363701020204",
	  "24039428b97f417e3c13753a4f05087b67c352e6a7fab1b982d466ef407ae5c6"
	  "14ee8099d52844eb61aa95dfab4c02f72aa71e7c4c4f64c9befe2facc638e8f3"
	  "cbec163fac469b502773f6fb94e664da9165b82829f641e0"
	  "76aaa8266b7fb0f7b11b369907e1ad43" },
	/* draft-mcgrew-gcm-test-01 GMAC (RFC 4543): payload authenticated only */
	{ "rfc4543(gcm(aes))", "4c80cdefbb5d10da906ac73c3613a634 22433c64",
	  "0000432100000007", "0000000000000000",
	  "45000030da3a00008001df3bc0a80005c0a800010800c6cd0200070061626364"
	  "65666768696a6b6c6d6e6f707172737401020201",
	  "45000030da3a00008001df3bc0a80005c0a800010800c6cd0200070061626364"
	  "65666768696a6b6c6d6e6f707172737401020201"
	  "f2a9a836e155106aa8dcd618e4099aaa" },
};

static void aead_kat_run(const struct engine *e, const struct aead_kat *k, unsigned icv_bits)
{
	uint8_t buf[PKT_MAX], aad[12], iv[8], pt[256], ct[256], spi_seq[8];
	size_t aad_len = unhex(k->aad, aad), len = unhex(k->pt, pt);
	bool esn = aad_len == 12;
	uint32_t hi = esn ? (uint32_t)aad[4] << 24 | aad[5] << 16 | aad[6] << 8 | aad[7] : 0;
	struct sa_desc d = { .aead = k->alg, .aead_key = k->key, .icv_bits = icv_bits, .esn = esn };
	struct esp_crypto *sa = sa_alloc();
	uint8_t before[4], *esp;

	unhex(k->ct_tag, ct);
	unhex(k->iv, iv);
	memcpy(spi_seq, aad, 4);
	memcpy(spi_seq + 4, aad + aad_len - 4, 4);
	esp = esp_build(buf, spi_seq, iv, 8, pt, len);
	memcpy(before, esp - 4, 4);
	if (sa_make(sa, e, &d) == -ENOTSUP) {
		free(sa);
		return;
	}
	assert_int_equal(run1(sa, esp, (uint32_t)len, hi, true), 0);
	/* Truncated GCM tags are prefixes of the full one (RFC 4106 s.6). */
	assert_memory_equal(esp + 16, ct, len + icv_bits / 8);
	assert_memory_equal(esp - 4, before, 4);
	assert_memory_equal(esp, spi_seq, 8);
	assert_int_equal(run1(sa, esp, (uint32_t)len, hi, false), 0);
	assert_memory_equal(esp + 16, pt, len);
	assert_memory_equal(esp - 4, before, 4);
	esp_crypto_destroy(sa);
	free(sa);
}

static void test_aead_kat(void **state)
{
	(void)state;
	for (size_t e = 0; e < N_ENGINES; e++) {
		for (size_t i = 0; i < sizeof(aead_kats) / sizeof(aead_kats[0]); i++) {
			bool gcm = strcmp(aead_kats[i].alg, "rfc4106(gcm(aes))") == 0;

			aead_kat_run(&engines[e], &aead_kats[i], 128);
			if (gcm) {
				aead_kat_run(&engines[e], &aead_kats[i], 96);
				aead_kat_run(&engines[e], &aead_kats[i], 64);
			}
		}
	}
}

/* ---- Cross-check: both engines, every manager, random inputs ---- */

#define NPKT ESP_CRYPTO_BURST_MAX

struct combo {
	const char *enc, *auth, *aead;
	unsigned enc_bytes, auth_bytes, aead_bytes, icv_bits;
};

static size_t combos_build(struct combo *c)
{
	static const struct { const char *name; unsigned bytes; } encs[] = {
		{ "cbc(aes)", 16 }, { "cbc(aes)", 24 }, { "cbc(aes)", 32 },
		{ "rfc3686(ctr(aes))", 20 }, { "rfc3686(ctr(aes))", 28 },
		{ "rfc3686(ctr(aes))", 36 }, { "ecb(cipher_null)", 0 },
	};
	static const struct { const char *name; unsigned bytes, std, full; } auths[] = {
		{ "hmac(md5)", 16, 96, 128 }, { "hmac(sha1)", 20, 96, 160 },
		{ "hmac(sha256)", 32, 128, 256 }, { "hmac(sha384)", 48, 192, 384 },
		{ "hmac(sha512)", 64, 256, 512 },
	};
	size_t n = 0;

	for (size_t i = 0; i < sizeof(encs) / sizeof(encs[0]); i++)
		for (size_t j = 0; j < sizeof(auths) / sizeof(auths[0]); j++)
			c[n++] = (struct combo){ .enc = encs[i].name, .enc_bytes = encs[i].bytes,
						 .auth = auths[j].name, .auth_bytes = auths[j].bytes,
						 .icv_bits = auths[j].std };
	/* Lengths the library does not emit itself: kernel default and full. */
	for (size_t j = 0; j < sizeof(auths) / sizeof(auths[0]); j++) {
		c[n++] = (struct combo){ .enc = "cbc(aes)", .enc_bytes = 16, .auth = auths[j].name,
					 .auth_bytes = auths[j].bytes, .icv_bits = 0 };
		c[n++] = (struct combo){ .enc = "cbc(aes)", .enc_bytes = 32, .auth = auths[j].name,
					 .auth_bytes = 100, .icv_bits = auths[j].full };
		/* An empty key, which the kernel's hmac_setkey takes. */
		c[n++] = (struct combo){ .enc = "cbc(aes)", .enc_bytes = 16, .auth = auths[j].name,
					 .icv_bits = auths[j].std };
	}
	for (unsigned k = 20; k <= 36; k += 8) {
		for (unsigned icv = 64; icv <= 128; icv += 32)
			c[n++] = (struct combo){ .aead = "rfc4106(gcm(aes))", .aead_bytes = k,
						 .icv_bits = icv };
		c[n++] = (struct combo){ .aead = "rfc4543(gcm(aes))", .aead_bytes = k };
	}
	c[n++] = (struct combo){ .aead = "rfc7539esp(chacha20,poly1305)", .aead_bytes = 36 };
	return n;
}

static void hex_random(char *hex, unsigned bytes)
{
	uint8_t b[ESP_CRYPTO_AUTH_KEY_MAX];

	assert_int_equal(RAND_bytes(b, (int)bytes), 1);
	for (unsigned i = 0; i < bytes; i++)
		sprintf(hex + 2 * i, "%02x", b[i]);
	hex[2 * bytes] = 0;
}

struct pktset {
	uint8_t (*buf)[PKT_MAX];
	struct esp_crypto_op op[NPKT];
	struct esp_crypto_op *ops[NPKT];
};

static void pktset_alloc(struct pktset *s)
{
	s->buf = malloc(sizeof(*s->buf) * NPKT);
	assert_non_null(s->buf);
}

static void pktset_bind(struct pktset *s, struct esp_crypto *sa, const struct pktset *from)
{
	for (unsigned i = 0; i < NPKT; i++) {
		if (from)
			memcpy(s->buf[i], from->buf[i], PKT_MAX);
		s->op[i] = from ? from->op[i] : (struct esp_crypto_op){ 0 };
		s->op[i].sa = sa;
		s->op[i].esp = s->buf[i] + HEADROOM;
		s->op[i].status = 1;
		s->ops[i] = &s->op[i];
	}
}

/* ESP payload lengths for sizes 0..1911: payload + pad + 2, aligned. */
static uint32_t esp_len(unsigned i, unsigned block)
{
	unsigned size = i < 48 ? i : 48 + (i - 48) * 9;

	return (size + 2 + block - 1) / block * block;
}

/*
 * The first n ESP lengths in one burst through every engine and manager.
 * A full burst (mean ~1000 bytes) runs HMAC-SHA-256 on its wide manager, 64
 * packets (at most 190 bytes) on its narrow one (crypto_alg.c).
 */
static void cross_check(const struct combo *c, bool esn, unsigned n)
{
	char ek[80], ak[2 * 100 + 1], gk[80];
	struct sa_desc d = { .enc = c->enc, .auth = c->auth, .aead = c->aead, .enc_key = ek,
			     .auth_key = ak, .aead_key = gk, .icv_bits = c->icv_bits, .esn = esn };
	struct esp_crypto *sa[N_ENGINES];
	struct pktset ref, out[N_ENGINES];
	bool have[N_ENGINES];

	hex_random(ek, c->enc_bytes);
	hex_random(ak, c->auth_bytes);
	hex_random(gk, c->aead_bytes);
	for (size_t e = 0; e < N_ENGINES; e++) {
		sa[e] = sa_alloc();
		have[e] = sa_make(sa[e], &engines[e], &d) == 0;
		pktset_alloc(&out[e]);
	}
	assert_true(have[0] && have[N_ENGINES - 1]);
	pktset_alloc(&ref);
	pktset_bind(&ref, sa[0], NULL);
	assert_int_equal(RAND_bytes(&ref.buf[0][0], n * PKT_MAX), 1);
	for (unsigned i = 0; i < n; i++) {
		ref.op[i].len = esp_len(i, sa[0]->block_size);
		ref.op[i].esn_hi = 0x7f000000u + i;
		put_be32(ref.op[i].esp + 4, 1000 + i);
	}
	esp_crypto_iv_fill(worker, ref.ops, n);
	for (size_t e = 0; e < N_ENGINES; e++) {
		if (!have[e])
			continue;
		pktset_bind(&out[e], sa[e], &ref);
		assert_int_equal(esp_crypto_encrypt_burst(worker, out[e].ops, n), n);
		for (unsigned i = 0; i < n; i++)
			if (memcmp(out[e].buf[i], out[0].buf[i],
				   HEADROOM + sa[0]->hdr_len + ref.op[i].len + sa[0]->icv_len))
				fail_msg("%s %s icv %u esn %d: %s encrypt differs, len %u",
					 c->aead ? c->aead : c->enc, c->aead ? "" : c->auth,
					 c->icv_bits, esn, engines[e].name, ref.op[i].len);
	}
	/* Each engine decrypts what the reference engine encrypted, itself last. */
	for (size_t e = N_ENGINES; e-- > 0;) {
		if (!have[e])
			continue;
		pktset_bind(&out[e], sa[e], &out[0]);
		if (esp_crypto_decrypt_burst(worker, out[e].ops, n) != n)
			fail_msg("%s %s icv %u esn %d: %s decrypt: %d", c->aead ? c->aead : c->enc,
				 c->aead ? "" : c->auth, c->icv_bits, esn, engines[e].name,
				 out[e].ops[n - 1]->status);
		for (unsigned i = 0; i < n; i++)
			assert_memory_equal(out[e].buf[i], ref.buf[i],
					    HEADROOM + sa[0]->hdr_len + ref.op[i].len);
	}
	for (size_t e = 0; e < N_ENGINES; e++) {
		if (have[e])
			esp_crypto_destroy(sa[e]);
		free(sa[e]);
		free(out[e].buf);
	}
	free(ref.buf);
}

static void test_cross_engines(void **state)
{
	struct combo c[80];
	size_t n = combos_build(c);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		cross_check(&c[i], false, NPKT);
		cross_check(&c[i], true, NPKT);
		cross_check(&c[i], false, 64);
	}
}

/* ---- Behaviour ---- */

static const struct sa_desc sa_cbc = {
	.enc = "cbc(aes)", .enc_key = "000102030405060708090a0b0c0d0e0f",
	.auth = "hmac(sha256)", .auth_key = "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
	.icv_bits = 128,
};
static const struct sa_desc sa_gcm = {
	.aead = "rfc4106(gcm(aes))", .aead_key = "feffe9928665731c6d6a8f9467308308cafebabe",
	.icv_bits = 128, .esn = true,
};
static const struct sa_desc sa_chacha = {
	.aead = "rfc7539esp(chacha20,poly1305)",
	.aead_key = "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3",
};
static const struct sa_desc sa_ctr = {
	.enc = "rfc3686(ctr(aes))", .enc_key = "7e24067817fae0d743d6ce1f32539163006cb6db",
	.auth = "hmac(sha512)", .auth_key = "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c", .esn = true,
};
static const struct sa_desc sa_gmac = {
	.aead = "rfc4543(gcm(aes))", .aead_key = "4c80cdefbb5d10da906ac73c3613a63422433c64",
	.esn = true,
};

/* A burst of n packets of the SA, plaintext = i, ready to encrypt. */
static void burst_prepare(struct pktset *s, struct esp_crypto *sa, unsigned n)
{
	pktset_bind(s, sa, NULL);
	for (unsigned i = 0; i < n; i++) {
		memset(s->buf[i], (int)i, PKT_MAX);
		s->op[i].len = esp_len(i + 5, sa->block_size);
		put_be32(s->op[i].esp, 0x1000);
		put_be32(s->op[i].esp + 4, i + 1);
	}
	esp_crypto_iv_fill(worker, s->ops, (uint16_t)n);
}

/* A wrong ICV or ciphertext fails with -EBADMSG; failures end up last. */
static void test_tamper(void **state)
{
	const struct sa_desc *descs[] = { &sa_cbc, &sa_gcm, &sa_chacha, &sa_ctr, &sa_gmac };

	(void)state;
	for (size_t e = 0; e < N_ENGINES; e++) {
		for (size_t k = 0; k < sizeof(descs) / sizeof(descs[0]); k++) {
			struct esp_crypto *sa = sa_alloc();
			struct pktset s;

			if (sa_make(sa, &engines[e], descs[k]) != 0) {
				free(sa);
				continue;
			}
			pktset_alloc(&s);
			burst_prepare(&s, sa, 8);
			assert_int_equal(esp_crypto_encrypt_burst(worker, s.ops, 8), 8);
			s.op[2].esp[sa->hdr_len + s.op[2].len] ^= 0x01; /* ICV */
			s.op[5].esp[sa->hdr_len] ^= 0x80;               /* payload */
			assert_int_equal(esp_crypto_decrypt_burst(worker, s.ops, 8), 6);
			assert_ptr_equal(s.ops[6], &s.op[2]);
			assert_ptr_equal(s.ops[7], &s.op[5]);
			assert_int_equal(s.op[2].status, -EBADMSG);
			assert_int_equal(s.op[5].status, -EBADMSG);
			for (unsigned i = 0; i < 6; i++) {
				assert_int_equal(s.ops[i]->status, 0);
				assert_int_equal(s.ops[i]->esp[sa->hdr_len],
						 (uint8_t)(s.ops[i] - s.op));
			}
			esp_crypto_destroy(sa);
			free(sa);
			free(s.buf);
		}
	}
}

/* CBC IVs are random: the same packet twice gives different IVs and bytes. */
static void test_iv_random(void **state)
{
	struct esp_crypto *sa = sa_alloc();
	struct pktset s;
	enum { N = 64 };

	(void)state;
	assert_int_equal(sa_make(sa, &engines[0], &sa_cbc), 0);
	pktset_alloc(&s);
	for (unsigned round = 0; round < 3; round++) {
		pktset_bind(&s, sa, NULL);
		for (unsigned i = 0; i < N; i++) {
			memset(s.buf[i], 0x42, PKT_MAX);
			s.op[i].len = 64;
		}
		esp_crypto_iv_fill(worker, s.ops, N);
		assert_int_equal(esp_crypto_encrypt_burst(worker, s.ops, N), N);
		for (unsigned i = 0; i < N; i++)
			for (unsigned j = i + 1; j < N; j++) {
				assert_memory_not_equal(s.op[i].esp + 8, s.op[j].esp + 8, 16);
				assert_memory_not_equal(s.op[i].esp + 24, s.op[j].esp + 24, 64);
			}
	}
	esp_crypto_destroy(sa);
	free(sa);
	free(s.buf);
}

/* Counter-mode IVs are the 64-bit sequence number (RFC 4106 s.3.1). */
static void test_iv_sequence(void **state)
{
	static const uint8_t want[8] = { 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x09 };
	struct esp_crypto *sa = sa_alloc();
	uint8_t buf[PKT_MAX] = { 0 };
	struct esp_crypto_op op = { .sa = sa, .esp = buf + HEADROOM, .len = 32, .esn_hi = 7 };
	struct esp_crypto_op *ops[1] = { &op };

	(void)state;
	assert_int_equal(sa_make(sa, &engines[0], &sa_gcm), 0);
	put_be32(op.esp + 4, 9);
	esp_crypto_iv_fill(worker, ops, 1);
	assert_memory_equal(op.esp + 8, want, 8);
	esp_crypto_destroy(sa);
	free(sa);
}

/* Bad lengths and oversized bursts fail per op, at the tail. */
static void test_bad_input(void **state)
{
	struct esp_crypto *sa = sa_alloc();
	enum { N = ESP_CRYPTO_BURST_MAX + 4 };
	static uint8_t buf[PKT_MAX];
	static struct esp_crypto_op op[N];
	struct esp_crypto_op *ops[N];

	(void)state;
	assert_int_equal(sa_make(sa, &engines[0], &sa_cbc), 0);
	for (unsigned i = 0; i < N; i++) {
		op[i] = (struct esp_crypto_op){ .sa = sa, .esp = buf + HEADROOM, .len = 16 };
		ops[i] = &op[i];
	}
	op[0].len = 20;
	assert_int_equal(esp_crypto_encrypt_burst(worker, ops, N), ESP_CRYPTO_BURST_MAX - 1);
	assert_ptr_equal(ops[ESP_CRYPTO_BURST_MAX - 1], &op[0]);
	assert_int_equal(op[0].status, -EINVAL);
	for (unsigned i = ESP_CRYPTO_BURST_MAX; i < N; i++)
		assert_int_equal(ops[i]->status, -E2BIG);
	esp_crypto_destroy(sa);
	free(sa);
}

/* One burst mixing SAs of both engines and several managers. */
static void test_mixed_burst(void **state)
{
	const struct sa_desc *descs[] = { &sa_cbc, &sa_gcm, &sa_chacha, &sa_ctr, &sa_gmac };
	enum { K = sizeof(descs) / sizeof(descs[0]), N = 100 };
	struct esp_crypto *fast[K], *slow[K];
	struct pktset a, b;

	(void)state;
	for (unsigned k = 0; k < K; k++) {
		fast[k] = sa_alloc();
		slow[k] = sa_alloc();
		assert_int_equal(sa_make(fast[k], &engines[0], descs[k]), 0);
		assert_int_equal(sa_make(slow[k], &engines[N_ENGINES - 1], descs[k]), 0);
	}
	pktset_alloc(&a);
	pktset_alloc(&b);
	pktset_bind(&a, NULL, NULL);
	for (unsigned i = 0; i < N; i++) {
		/* Every third op of an SA goes to the OpenSSL engine. */
		a.op[i].sa = i % 3 ? fast[i % K] : slow[i % K];
		memset(a.buf[i], (int)i, PKT_MAX);
		a.op[i].len = esp_len(i * 7 % NPKT, a.op[i].sa->block_size);
		a.op[i].esn_hi = i;
	}
	esp_crypto_iv_fill(worker, a.ops, N);
	pktset_bind(&b, NULL, &a);
	for (unsigned i = 0; i < N; i++)
		b.op[i].sa = slow[i % K];
	assert_int_equal(esp_crypto_encrypt_burst(worker, a.ops, N), N);
	assert_int_equal(esp_crypto_encrypt_burst(worker, b.ops, N), N);
	for (unsigned i = 0; i < N; i++)
		assert_memory_equal(a.buf[i], b.buf[i], PKT_MAX);
	assert_int_equal(esp_crypto_decrypt_burst(worker, a.ops, N), N);
	for (unsigned i = 0; i < N; i++)
		assert_int_equal(a.op[i].esp[a.op[i].sa->hdr_len], (uint8_t)i);
	for (unsigned k = 0; k < K; k++) {
		esp_crypto_destroy(fast[k]);
		esp_crypto_destroy(slow[k]);
		free(fast[k]);
		free(slow[k]);
	}
	free(a.buf);
	free(b.buf);
}

static void test_lookup(void **state)
{
	const struct esp_crypto_alg *alg;

	(void)state;
	assert_int_equal(esp_crypto_alg_lookup(ESP_CRYPTO_ALG_ENC, "cbc(aes)", 192, &alg), 0);
	assert_string_equal(alg->name, "cbc(aes)");
	assert_int_equal(esp_crypto_alg_lookup(ESP_CRYPTO_ALG_ENC, "aes", 256, &alg), 0);
	assert_int_equal(esp_crypto_alg_lookup(ESP_CRYPTO_ALG_ENC, "cbc(aes)", 160, &alg), -ENOTSUP);
	assert_int_equal(esp_crypto_alg_lookup(ESP_CRYPTO_ALG_ENC, "rfc3686(ctr(aes))", 288, &alg), 0);
	assert_int_equal(esp_crypto_alg_lookup(ESP_CRYPTO_ALG_ENC, "rfc3686(ctr(aes))", 256, &alg),
			 -ENOTSUP);
	assert_int_equal(esp_crypto_alg_lookup(ESP_CRYPTO_ALG_ENC, "ecb(cipher_null)", 0, &alg), 0);
	assert_int_equal(esp_crypto_alg_lookup(ESP_CRYPTO_ALG_ENC, "cbc(des3_ede)", 192, &alg),
			 -ENOTSUP);
	assert_int_equal(esp_crypto_alg_lookup(ESP_CRYPTO_ALG_AUTH, "hmac(sha256)", 256, &alg), 0);
	assert_int_equal(alg->icv_default, 96);
	assert_int_equal(esp_crypto_alg_lookup(ESP_CRYPTO_ALG_AUTH, "sha1", 160, &alg), 0);
	assert_string_equal(alg->name, "hmac(sha1)");
	assert_int_equal(esp_crypto_alg_lookup(ESP_CRYPTO_ALG_AUTH, "xcbc(aes)", 128, &alg),
			 -ENOTSUP);
	assert_int_equal(esp_crypto_alg_lookup(ESP_CRYPTO_ALG_AEAD, "rfc4106(gcm(aes))", 224, &alg), 0);
	assert_int_equal(esp_crypto_alg_lookup(ESP_CRYPTO_ALG_AEAD, "rfc4106(gcm(aes))", 128, &alg),
			 -ENOTSUP);
	assert_int_equal(esp_crypto_alg_lookup(ESP_CRYPTO_ALG_AEAD,
					       "rfc7539esp(chacha20,poly1305)", 288, &alg), 0);
	assert_int_equal(esp_crypto_alg_lookup(ESP_CRYPTO_ALG_AEAD, "rfc4543(gcm(aes))", 160, &alg), 0);
	assert_int_equal(esp_crypto_alg_lookup(ESP_CRYPTO_ALG_AEAD, "rfc4309(ccm(aes))", 152, &alg),
			 -ENOTSUP);
}

static void test_params(void **state)
{
	static const uint8_t key[36];
	struct esp_crypto *sa = sa_alloc();
	struct esp_crypto_params p = { .aead_key = key, .aead_key_bits = 160, .icv_bits = 100 };

	(void)state;
	assert_int_equal(esp_crypto_alg_lookup(ESP_CRYPTO_ALG_AEAD, "rfc4106(gcm(aes))", 160, &p.aead), 0);
	assert_int_equal(esp_crypto_init(sa, ESP_CRYPTO_ENGINE_IPSECMB, &p), -EINVAL);
	p.icv_bits = 96;
	assert_int_equal(esp_crypto_init(sa, ESP_CRYPTO_ENGINE_IPSECMB, &p), 0);
	assert_int_equal(sa->icv_len, 12);
	assert_int_equal(sa->iv_len, 8);
	esp_crypto_destroy(sa);
	for (size_t i = 0; i < sizeof(sa->keys); i++)
		assert_int_equal(((const uint8_t *)&sa->keys)[i], 0);

	/* Encryption without integrity stays with the kernel. */
	p = (struct esp_crypto_params){ .enc_key = key, .enc_key_bits = 128 };
	assert_int_equal(esp_crypto_alg_lookup(ESP_CRYPTO_ALG_ENC, "cbc(aes)", 128, &p.enc), 0);
	assert_int_equal(esp_crypto_init(sa, ESP_CRYPTO_ENGINE_IPSECMB, &p), -ENOTSUP);
	/* An AEAD excludes enc and auth. */
	assert_int_equal(esp_crypto_alg_lookup(ESP_CRYPTO_ALG_AEAD, "rfc4106(gcm(aes))", 160, &p.aead), 0);
	p.aead_key = key;
	p.aead_key_bits = 160;
	assert_int_equal(esp_crypto_init(sa, ESP_CRYPTO_ENGINE_OPENSSL, &p), -EINVAL);
	/* Default ICV is the kernel's: 96 bits for hmac(sha256). */
	p = (struct esp_crypto_params){ .enc_key = key, .enc_key_bits = 128, .auth_key = key,
					.auth_key_bits = 256 };
	assert_int_equal(esp_crypto_alg_lookup(ESP_CRYPTO_ALG_ENC, "cbc(aes)", 128, &p.enc), 0);
	assert_int_equal(esp_crypto_alg_lookup(ESP_CRYPTO_ALG_AUTH, "hmac(sha256)", 256, &p.auth), 0);
	assert_int_equal(esp_crypto_init(sa, ESP_CRYPTO_ENGINE_IPSECMB, &p), 0);
	assert_int_equal(sa->icv_len, 12);
	assert_int_equal(sa->block_size, 16);
	esp_crypto_destroy(sa);
	free(sa);
}

static int group_setup(void **state)
{
	(void)state;
	return esp_crypto_worker_create(&worker);
}

static int group_teardown(void **state)
{
	(void)state;
	esp_crypto_worker_destroy(worker);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_hmac_kat),
		cmocka_unit_test(test_cipher_kat),
		cmocka_unit_test(test_trunc_bits),
		cmocka_unit_test(test_aead_kat),
		cmocka_unit_test(test_cross_engines),
		cmocka_unit_test(test_mixed_burst),
		cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_iv_random),
		cmocka_unit_test(test_iv_sequence),
		cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
