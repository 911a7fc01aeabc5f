/*
 * Crypto ceiling: how fast intel-ipsec-mb itself runs the ESP suites with
 * each of its managers (SSE, AVX2, AVX-512), and how close the ESP crypto
 * engine (src/esp/crypto_*.c) gets to the best of them on the same buffers.
 * Its table is what chose each algorithm's manager in crypto_alg.c.
 *
 * "raw" is the least a caller can do: one job per packet with its fields
 * set directly, submitted without checks, completed jobs drained, one flush
 * per burst. "ours" is esp_crypto_iv_fill + esp_crypto_encrypt_burst, or
 * esp_crypto_decrypt_burst, with the manager the engine picks. Decrypt runs
 * over bytes whose ICVs do not verify: the work is the same (the ICV is
 * computed and compared in constant time either way).
 *
 * Sizes are bytes ciphered per packet (rounded up to 16 for CBC); IMIX is
 * 7 x 64, 4 x 576, 1 x 1400. Cycles are TSC cycles. Each figure is the
 * median of several runs; run pinned (bench/run-crypto.sh).
 *
 * Usage: bench_crypto [--all] [--runs N] [--suite NAME] [--size N|imix] [--burst N]
 *   --all    also the suites used only to pick managers (SHA-1, SHA-384/512,
 *            MD5, CTR, GMAC)
 *   --suite  only that suite
 *   --size   only that size, 16 to 1900 bytes (where managers cross over)
 *   --burst  packets per burst: 32 (default) or up to 256, a full graph burst
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include "esp/crypto.h"
#include "raw_job.h"

#define NBUF 256       /* packet buffers cycled through */
#define BUF_SIZE 2048
#define HEADROOM 64

struct suite {
	const char *name;
	const char *enc, *auth, *aead;
	unsigned key_bits, icv_bits;
	bool extra;
};

static const struct suite suites[] = {
	{ "aes128-cbc-sha256", "cbc(aes)", "hmac(sha256)", NULL, 128, 128, false },
	{ "aes256-cbc-sha256", "cbc(aes)", "hmac(sha256)", NULL, 256, 128, false },
	{ "aes128-gcm", NULL, NULL, "rfc4106(gcm(aes))", 160, 128, false },
	{ "aes256-gcm", NULL, NULL, "rfc4106(gcm(aes))", 288, 128, false },
	{ "chacha20-poly1305", NULL, NULL, "rfc7539esp(chacha20,poly1305)", 288, 128, false },
	{ "aes128-cbc-sha1", "cbc(aes)", "hmac(sha1)", NULL, 128, 96, true },
	{ "aes128-cbc-sha384", "cbc(aes)", "hmac(sha384)", NULL, 128, 192, true },
	{ "aes128-cbc-sha512", "cbc(aes)", "hmac(sha512)", NULL, 128, 256, true },
	{ "aes128-cbc-md5", "cbc(aes)", "hmac(md5)", NULL, 128, 96, true },
	{ "aes128-ctr-sha256", "rfc3686(ctr(aes))", "hmac(sha256)", NULL, 160, 128, true },
	{ "aes128-gmac", NULL, NULL, "rfc4543(gcm(aes))", 160, 128, true },
};

static const unsigned imix[12] = { 64, 576, 64, 64, 576, 64, 1400, 64, 576, 64, 64, 576 };

struct bench {
	uint8_t (*buf)[BUF_SIZE];
	uint32_t len[NBUF];
	uint8_t nonce[NBUF][16];
	uint8_t aad[NBUF][16];
	uint8_t tag[NBUF][ESP_CRYPTO_ICV_MAX];
	struct raw_packet raw[NBUF];
	struct esp_crypto_op op[NBUF];
	struct esp_crypto_op *ops[NBUF];
	double tsc_hz;
	unsigned runs;
	unsigned burst; /* packets per burst (per flush), raw and ours */
	unsigned rows_failed; /* rows with job errors: the exit status says so */
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double tsc_hz_measure(void)
{
	double t0 = now(), t1;
	uint64_t c0 = __rdtsc(), c1;

	do {
		t1 = now();
	} while (t1 - t0 < 0.2);
	c1 = __rdtsc();
	return (double)(c1 - c0) / (t1 - t0);
}

static unsigned ours_burst(struct esp_crypto_worker *w, struct bench *b, unsigned first, bool enc)
{
	struct esp_crypto_op **ops = b->ops + first;

	uint16_t n = (uint16_t)b->burst;

	for (unsigned k = 0; k < n; k++) {
		b->op[first + k].status = 0;
		ops[k] = &b->op[first + k];
	}
	if (!enc)
		return esp_crypto_decrypt_burst(w, ops, n);
	esp_crypto_iv_fill(w, ops, n);
	return n - esp_crypto_encrypt_burst(w, ops, n);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(v[0]), cmp_double);
	return v[n / 2];
}

/* Packets per second over one window of >= 10 ms. */
static double window(struct bench *b, IMB_MGR *m, struct esp_crypto_worker *w,
		     const struct esp_crypto *sa, bool enc, unsigned *bad)
{
	uint64_t pkts = 0, c0 = __rdtsc(), c1;

	do {
		for (unsigned first = 0; first < NBUF; first += b->burst)
			*bad += m ? raw_job_burst(m, sa, b->raw + first, b->burst, b->tag + first, enc)
				   : ours_burst(w, b, first, enc);
		pkts += NBUF;
		c1 = __rdtsc();
	} while ((double)(c1 - c0) < 0.01 * b->tsc_hz);
	return pkts * b->tsc_hz / (double)(c1 - c0);
}

static void bench_layout(struct bench *b, struct esp_crypto *sa, unsigned size)
{
	for (unsigned i = 0; i < NBUF; i++) {
		uint32_t len = size ? size : imix[i % 12];

		if (sa->family == ESP_CRYPTO_CBC)
			len = (len + 15) & ~15u;
		b->len[i] = len;
		b->op[i] = (struct esp_crypto_op){ .sa = sa, .esp = b->buf[i] + HEADROOM, .len = len };
		memcpy(b->aad[i], b->buf[i] + HEADROOM, 8);
		memcpy(b->nonce[i], "salt", 4);
		memcpy(b->nonce[i] + 4, b->buf[i] + HEADROOM + 8, 8);
		b->raw[i] = (struct raw_packet){ .esp = b->buf[i] + HEADROOM, .len = len,
						 .nonce = b->nonce[i], .aad = b->aad[i] };
	}
}

/* The engine's manager for the suite: "sse/avx512" where each burst takes
 * one of the two by its payloads (crypto_alg.c). */
static const char *ours_arch(const struct esp_crypto *sa)
{
	static char both[32];

	if (!sa->wide_from)
		return esp_crypto_arch_name(sa->arch);
	snprintf(both, sizeof(both), "%s/%s", esp_crypto_arch_name(sa->arch_narrow),
		 esp_crypto_arch_name(sa->arch));
	return both;
}

/*
 * One table row. The variants (ours, then raw per manager) take turns
 * window by window, so noise from a shared machine hits them alike; the
 * ratio is the median of per-round ratios against the best manager.
 */
static void row(struct bench *b, const struct suite *s, struct esp_crypto *sa[],
		struct esp_crypto_worker *w, IMB_MGR *mgr[], unsigned size, bool enc)
{
	double pps[ESP_CRYPTO_ARCH_N][16], med[ESP_CRYPTO_ARCH_N] = { 0 }, v[16];
	double bytes = 0, mpps, cycles;
	unsigned bad = 0, ours_bad = 0;
	char label[12] = "IMIX";
	int best = 0;

	bench_layout(b, sa[0], size);
	for (unsigned i = 0; i < NBUF; i++)
		bytes += b->len[i] / (double)NBUF;
	for (unsigned r = 0; r < b->runs; r++) {
		pps[0][r] = window(b, NULL, w, sa[0], enc, &ours_bad);
		for (int a = ESP_CRYPTO_ARCH_SSE; a < ESP_CRYPTO_ARCH_N; a++)
			if (mgr[a] && sa[a])
				pps[a][r] = window(b, mgr[a], NULL, sa[a], enc, &bad);
	}
	for (int a = ESP_CRYPTO_ARCH_SSE; a < ESP_CRYPTO_ARCH_N; a++) {
		if (!mgr[a] || !sa[a])
			continue;
		memcpy(v, pps[a], sizeof(v));
		med[a] = median(v, b->runs);
		if (!best || med[a] > med[best])
			best = a;
	}
	for (unsigned r = 0; r < b->runs; r++)
		v[r] = pps[0][r] / pps[best][r];
	med[0] = median(pps[0], b->runs);

	if (size)
		snprintf(label, sizeof(label), "%u", size);
	printf("%-18s %5s %s |", s->name, label, enc ? "enc" : "dec");
	for (int a = ESP_CRYPTO_ARCH_SSE; a < ESP_CRYPTO_ARCH_N; a++)
		if (med[a])
			printf(" %8.2f", med[a] / 1e6);
		else
			printf(" %8s", "-");
	mpps = med[best] / 1e6;
	cycles = b->tsc_hz / med[best];
	printf(" | %-6s %6.2f %7.0f | %-6s %6.2f %7.0f | %5.2f%s\n", esp_crypto_arch_name(best),
	       mpps * bytes * 8 / 1e3, cycles, ours_arch(sa[0]), med[0] / 1e6,
	       b->tsc_hz / med[0], median(v, b->runs),
	       bad || (enc && ours_bad) ? "  JOB ERRORS" : "");
	fflush(stdout);
	b->rows_failed += bad || (enc && ours_bad);
}

/* A misspelt suite would measure nothing and still succeed. */
static const struct suite *suite_find(const char *name)
{
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		if (strcmp(name, suites[i].name) == 0)
			return &suites[i];
	return NULL;
}

/* A --size argument: bytes, or SIZE_IMIX for imix; 0 when invalid. */
#define SIZE_IMIX 10000
static unsigned size_parse(const char *text)
{
	int bytes = atoi(text);

	if (strcmp(text, "imix") == 0)
		return SIZE_IMIX;
	return bytes >= 16 && bytes <= 1900 ? (unsigned)bytes : 0;
}

static int usage(const char *prog)
{
	fprintf(stderr, "usage: %s [--all] [--runs N] [--suite NAME] [--size N|imix] [--burst N]\n"
		"  suites:", prog);
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		fprintf(stderr, " %s", suites[i].name);
	fprintf(stderr, "\n");
	return 2;
}

int main(int argc, char **argv)
{
	static struct bench b;
	struct esp_crypto_worker *w;
	IMB_MGR *mgr[ESP_CRYPTO_ARCH_N] = { 0 };
	const char *only = NULL;
	unsigned size_list[] = { 64, 512, 1400, 0 /* IMIX */ };
	size_t n_sizes = sizeof(size_list) / sizeof(size_list[0]);
	bool all = false;

	b.runs = 5;
	b.burst = 32;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--all") == 0)
			all = true;
		else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
			b.runs = (unsigned)atoi(argv[++i]);
		else if (strcmp(argv[i], "--suite") == 0 && i + 1 < argc && suite_find(argv[i + 1]))
			only = argv[++i];
		else if (strcmp(argv[i], "--burst") == 0 && i + 1 < argc)
			b.burst = (unsigned)atoi(argv[++i]);
		else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc && size_parse(argv[i + 1]))
			size_list[0] = size_parse(argv[++i]) % SIZE_IMIX, n_sizes = 1;
		else
			return usage(argv[0]);
	}
	if (b.runs < 1 || b.runs > 16)
		b.runs = 5;
	if (b.burst < 1 || b.burst > NBUF || NBUF % b.burst)
		return fprintf(stderr, "--burst must divide %u\n", NBUF), 2;
	if (esp_crypto_worker_create(&w) != 0)
		return fprintf(stderr, "worker: no usable intel-ipsec-mb manager\n"), 1;
	b.buf = aligned_alloc(64, sizeof(*b.buf) * NBUF);
	if (!b.buf)
		return 1;
	for (unsigned i = 0; i < NBUF * BUF_SIZE; i++)
		b.buf[0][i] = (uint8_t)(i * 131 + 7);
	b.tsc_hz = tsc_hz_measure();
	for (int a = ESP_CRYPTO_ARCH_SSE; a < ESP_CRYPTO_ARCH_N; a++) {
		mgr[a] = alloc_mb_mgr(0);
		if (a == ESP_CRYPTO_ARCH_SSE)
			init_mb_mgr_sse(mgr[a]);
		else if (a == ESP_CRYPTO_ARCH_AVX2)
			init_mb_mgr_avx2(mgr[a]);
		else
			init_mb_mgr_avx512(mgr[a]);
		if (imb_get_errno(mgr[a]) != 0) {
			free_mb_mgr(mgr[a]);
			mgr[a] = NULL;
		}
	}
	printf("intel-ipsec-mb %s, TSC %.3f GHz, burst %u, median of %u runs\n",
	       imb_get_version_str(), b.tsc_hz / 1e9, b.burst, b.runs);
	printf("%-18s %5s %s | %8s %8s %8s | %-6s %6s %7s | %-6s %6s %7s | %5s\n", "suite", "size",
	       "dir", "sse", "avx2", "avx512", "best", "Gbps", "cyc/pkt", "ours", "Mpps",
	       "cyc/pkt", "ratio");
	printf("%-18s %5s %s | %8s %8s %8s | %-6s %6s %7s | %-6s %6s %7s | %5s\n", "", "", "",
	       "Mpps", "Mpps", "Mpps", "", "", "", "mgr", "", "", "");
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		const struct suite *s = &suites[i];
		struct esp_crypto *sa[ESP_CRYPTO_ARCH_N] = { 0 };

		if (only ? strcmp(only, s->name) != 0 : s->extra && !all)
			continue;
		for (int a = 0; a < ESP_CRYPTO_ARCH_N; a++) {
			sa[a] = aligned_alloc(64, sizeof(*sa[a]));
			if (raw_sa_make(sa[a], s->aead, s->enc, s->auth, s->key_bits, s->icv_bits, a) != 0) {
				free(sa[a]);
				sa[a] = NULL;
			}
		}
		if (!sa[0])
			return fprintf(stderr, "%s: SA setup failed\n", s->name), 1;
		for (size_t z = 0; z < n_sizes; z++) {
			row(&b, s, sa, w, mgr, size_list[z], true);
			row(&b, s, sa, w, mgr, size_list[z], false);
		}
		for (int a = 0; a < ESP_CRYPTO_ARCH_N; a++) {
			if (sa[a])
				esp_crypto_destroy(sa[a]);
			free(sa[a]);
		}
	}
	for (int a = 0; a < ESP_CRYPTO_ARCH_N; a++)
		if (mgr[a])
			free_mb_mgr(mgr[a]);
	esp_crypto_worker_destroy(w);
	free(b.buf);
	if (b.rows_failed)
		fprintf(stderr, "%u rows with job errors\n", b.rows_failed);
	return b.rows_failed != 0;
}
