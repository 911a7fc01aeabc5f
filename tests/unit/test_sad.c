/* SAD: add/del/lookup, identity, directions, keys wiped, sequence numbers,
 * the path MTU toward SAs' peers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <rte_byteorder.h>
#include <rte_rcu_qsbr.h>

#include "ipsec_env.h"
#include "tables/fib.h"
#include "tables/path_mtu.h"
#include "tables/sad.h"

static struct rte_rcu_qsbr *rcu;
static const uint8_t enc_key[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
static const uint8_t auth_key[32] = { [0] = 0xaa, [31] = 0x55 };

static struct ip_addr addr(const char *text)
{
	struct ip_addr a;
	assert_int_equal(ip_addr_parse(text, &a), 0);
	return a;
}

static struct sa_params params(const char *src, const char *dst, uint32_t spi)
{
	struct sa_params p = {
		.id = { .dst = addr(dst), .spi = spi, .proto = IPPROTO_ESP },
		.src = addr(src),
		.reqid = 1,
		.mode = SA_MODE_TUNNEL,
		.origin = IPSEC_ORIGIN_CLI,
		.replay_window = 32,
		.lifetime = SA_LIFETIME_NONE,
		.enc = { .name = "cbc(aes)", .key = enc_key, .key_bits = 128 },
		.auth = { .name = "hmac(sha256)", .key = auth_key, .key_bits = 256, .icv_bits = 128 },
	};
	return p;
}

static int setup(void **state)
{
	(void)state;
	assert_int_equal(sad_init(rcu, 64, 2), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sad_destroy();
	return 0;
}

static uint32_t lookup(const char *dst, uint32_t spi)
{
	struct ip_addr a = addr(dst);
	struct sad_key key;
	sad_key_set(&key, a.family, a.bytes, rte_cpu_to_be_32(spi), IPPROTO_ESP);
	return sad_lookup(&key);
}

static void test_same_spi_other_dst(void **state)
{
	struct sa_params a = params("10.0.0.1", "10.0.0.2", 0x1000);
	struct sa_params b = params("10.0.0.1", "10.0.0.3", 0x1000);
	struct sa_params c = params("2001:db8::1", "2001:db8::2", 0x1000);
	uint32_t ia, ib, ic;

	(void)state;
	assert_int_equal(sad_sa_add(&a, &ia), 0);
	assert_int_equal(sad_sa_add(&b, &ib), 0);
	assert_int_equal(sad_sa_add(&c, &ic), 0);
	assert_int_not_equal(ia, ib);
	assert_int_equal(lookup("10.0.0.2", 0x1000), ia);
	assert_int_equal(lookup("10.0.0.3", 0x1000), ib);
	assert_int_equal(lookup("2001:db8::2", 0x1000), ic);
	assert_int_equal(lookup("10.0.0.2", 0x1001), SAD_INDEX_NONE);
	assert_int_equal(sad_sa_add(&a, &ia), -EEXIST);
	assert_int_equal(sad_count(), 3);
	assert_non_null(sad_sa(ia)->rt.crypto);
	assert_int_equal(sad_sa(ia)->rt.state, SA_STATE_VALID);
	assert_int_equal(sad_sa(ia)->cfg.auth.icv_bits, 128);
	assert_int_equal(sad_sa(ia)->rt.spi_be, rte_cpu_to_be_32(0x1000));

	/* Bulk: hits and misses in one call. */
	struct sad_key keys[3];
	const struct sad_key *ptrs[3] = { &keys[0], &keys[1], &keys[2] };
	uint32_t found[3];
	struct ip_addr d2 = addr("10.0.0.2"), d3 = addr("10.0.0.3");
	sad_key_set(&keys[0], AF_INET, d3.bytes, rte_cpu_to_be_32(0x1000), IPPROTO_ESP);
	sad_key_set(&keys[1], AF_INET, d2.bytes, rte_cpu_to_be_32(0x2000), IPPROTO_ESP);
	sad_key_set(&keys[2], AF_INET, d2.bytes, rte_cpu_to_be_32(0x1000), IPPROTO_ESP);
	sad_lookup_bulk(ptrs, found, 3);
	assert_int_equal(found[0], ib);
	assert_int_equal(found[1], SAD_INDEX_NONE);
	assert_int_equal(found[2], ia);

	assert_int_equal(sad_sa_del(&b.id), 0);
	assert_int_equal(sad_sa_del(&b.id), -ENOENT);
	assert_null(sad_sa(ib));
	assert_int_equal(lookup("10.0.0.3", 0x1000), SAD_INDEX_NONE);
	assert_int_equal(lookup("10.0.0.2", 0x1000), ia);
}

static unsigned freed;
static bool freed_keys_zero;

static void free_hook(const struct sa *sa)
{
	static const struct esp_crypto_keys zero;
	freed++;
	freed_keys_zero = memcmp(&sa->crypto.keys, &zero, sizeof(zero)) == 0;
}

static void test_keys_wiped_after_delete(void **state)
{
	static const struct esp_crypto_keys zero;
	struct sa_params p = params("10.0.0.1", "10.0.0.2", 0x77);
	uint32_t index;

	(void)state;
	assert_int_equal(sad_sa_add(&p, &index), 0);
	assert_memory_not_equal(&sad_sa(index)->crypto.keys, &zero, sizeof(zero));
	freed = 0;
	freed_keys_zero = false;
	sad_free_hook = free_hook;
	assert_int_equal(sad_sa_del(&p.id), 0);
	sad_reclaim();
	sad_free_hook = NULL;
	assert_int_equal(freed, 1);
	assert_true(freed_keys_zero);
}

/* A packet decrypted before its SA's delete still finds the SA for its
 * policy check until its worker's next quiescent state, and not after. */
static void test_removed_held_until_grace(void **state)
{
	struct sa_params p = params("10.0.0.1", "10.0.0.2", 0x78);
	const struct sa *sa;
	uint32_t index;

	(void)state;
	assert_int_equal(rte_rcu_qsbr_thread_register(rcu, 0), 0);
	rte_rcu_qsbr_thread_online(rcu, 0);
	assert_int_equal(sad_sa_add(&p, &index), 0);
	sa = sad_sa(index);
	assert_ptr_equal(sad_sa_held(index), sa);
	freed = 0;
	sad_free_hook = free_hook;
	assert_int_equal(sad_sa_del(&p.id), 0);
	assert_null(sad_sa(index));
	assert_ptr_equal(sad_sa_held(index), sa);
	assert_int_equal(sa->rt.spi_be, rte_cpu_to_be_32(0x78));
	assert_int_equal(freed, 0);
	rte_rcu_qsbr_quiescent(rcu, 0);
	sad_reclaim();
	sad_free_hook = NULL;
	assert_int_equal(freed, 1);
	assert_null(sad_sa_held(index));
	rte_rcu_qsbr_thread_offline(rcu, 0);
	assert_int_equal(rte_rcu_qsbr_thread_unregister(rcu, 0), 0);
}

static void test_directions(void **state)
{
	struct sa_params out = params("192.0.2.1", "198.51.100.1", 1);
	struct sa_params in = params("198.51.100.1", "192.0.2.1", 2);
	struct sa_params unused = params("198.51.100.1", "203.0.113.9", 3);
	uint32_t io, ii, iu;

	(void)state;
	ipsec_env_local_route("192.0.2.1/32");
	assert_int_equal(sad_sa_add(&out, &io), 0);
	assert_int_equal(sad_sa_add(&in, &ii), 0);
	assert_int_equal(sad_sa_add(&unused, &iu), 0);
	assert_int_equal(sad_sa(io)->rt.dir, SA_DIR_OUT);
	assert_int_equal(sad_sa(ii)->rt.dir, SA_DIR_IN);
	assert_int_equal(sad_sa(iu)->rt.dir, SA_DIR_UNUSED);
	assert_true(sa_ready(sad_sa(io), SA_DIR_OUT));
	assert_false(sa_ready(sad_sa(iu), SA_DIR_IN));

	uint32_t generation = sad_generation();
	assert_int_equal(sad_refresh_directions(), 0);
	ipsec_env_local_route("203.0.113.9/32");
	assert_int_equal(sad_refresh_directions(), 1);
	assert_int_equal(sad_sa(iu)->rt.dir, SA_DIR_IN);
	assert_int_not_equal(sad_generation(), generation);
	assert_string_equal(format_sa_dir(sad_sa(iu)->rt.dir), "in");
}

/* Run fn with stderr captured into buf. */
static void capture_stderr(void (*fn)(void), char *buf, size_t size)
{
	char path[] = "/tmp/test_sad_stderrXXXXXX";
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	ssize_t n;

	assert_true(fd >= 0);
	/* Nameless from now on: nothing is left behind should the test fail. */
	unlink(path);
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	fn();
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = pread(fd, buf, size - 1, 0);
	buf[n > 0 ? n : 0] = 0;
	close(fd);
}

static uint32_t unsupported_index;

static void add_unsupported(void)
{
	struct sa_params p = params("10.0.0.1", "10.0.0.2", 0x99);
	uint8_t key[24] = { 0 };

	p.enc = (struct sa_alg_params){ .name = "cbc(des3_ede)", .key = key, .key_bits = 192 };
	assert_int_equal(sad_sa_add(&p, &unsupported_index), 0);
	/* A refresh or an update of the same SA logs nothing more. */
	sad_refresh_directions();
	assert_int_equal(sad_sa_update_in_place(&p), 0);
}

static void add_unsupported_integ(void)
{
	struct sa_params p = params("10.0.0.1", "10.0.0.2", 0x9a);
	uint32_t index;

	p.auth = (struct sa_alg_params){ .name = "xcbc(aes)", .key = enc_key, .key_bits = 128 };
	assert_int_equal(sad_sa_add(&p, &index), 0);
}

static void test_unsupported_logged_once(void **state)
{
	char log[512];

	(void)state;
	capture_stderr(add_unsupported, log, sizeof(log));
	assert_string_equal(log, "linux-cp/ipsec: Invalid/Unsupported crypto algo: cbc(des3_ede) keylen: 192\n");
	const struct sa *sa = sad_sa(unsupported_index);
	assert_non_null(sa);
	assert_int_equal(sa->rt.state, SA_STATE_UNSUPPORTED);
	assert_null(sa->rt.crypto);
	assert_false(sa_ready(sa, SA_DIR_IN));
	assert_string_equal(sa->cfg.enc.name, "cbc(des3_ede)");
	assert_int_equal(lookup("10.0.0.2", 0x99), unsupported_index);

	capture_stderr(add_unsupported_integ, log, sizeof(log));
	assert_string_equal(log, "linux-cp/ipsec: Invalid/Unsupported integ algo: xcbc(aes) keylen: 128\n");
}

static void test_bad_key_length_is_unsupported(void **state)
{
	struct sa_params p = params("10.0.0.1", "10.0.0.2", 0x55);
	uint32_t index;

	(void)state;
	p.enc.key_bits = 120;
	int saved = dup(STDERR_FILENO);
	FILE *null = fopen("/dev/null", "w");
	dup2(fileno(null), STDERR_FILENO);
	assert_int_equal(sad_sa_add(&p, &index), 0);
	dup2(saved, STDERR_FILENO);
	close(saved);
	fclose(null);
	assert_int_equal(sad_sa(index)->rt.state, SA_STATE_UNSUPPORTED);
}

static void test_seq_reserve(void **state)
{
	struct sa_params p = params("10.0.0.1", "10.0.0.2", 0x42);
	uint64_t first = 0;
	uint32_t index;
	struct sa *sa;

	(void)state;
	assert_int_equal(sad_sa_add(&p, &index), 0);
	sa = sad_sa(index);
	assert_int_equal(sad_seq_reserve(sa, 32, &first), 32);
	assert_int_equal(first, 1);
	assert_int_equal(sad_seq_reserve(sa, 4, &first), 4);
	assert_int_equal(first, 33);

	/* Without ESN the space ends at 2^32 - 1. */
	p.id.spi = 0x43;
	p.oseq = UINT32_MAX - 3;
	assert_int_equal(sad_sa_add(&p, &index), 0);
	sa = sad_sa(index);
	assert_int_equal(sad_seq_reserve(sa, 10, &first), 3);
	assert_int_equal(first, UINT32_MAX - 2);
	assert_int_equal(sad_seq_reserve(sa, 1, &first), -EOVERFLOW);
	assert_int_equal(sa->rt.state, SA_STATE_EXPIRED_SEQ);
	assert_string_equal(format_sa_state(sa->rt.state), "expired(seq)");
	assert_false(sa_ready(sa, SA_DIR_UNUSED));

	/* With ESN it goes on past 2^32. */
	p.id.spi = 0x44;
	p.flags = SA_FLAG_ESN;
	assert_int_equal(sad_sa_add(&p, &index), 0);
	sa = sad_sa(index);
	assert_int_equal(sad_seq_reserve(sa, 10, &first), 10);
	assert_int_equal(first, UINT32_MAX - 2);
	assert_int_equal(sa->out.last, (uint64_t)UINT32_MAX + 7);
}

/* As xfrm_state_update on a valid SA: what is not the encapsulation or
 * the lifetime (here the reqid) is ignored, the SA itself goes on. */
static void test_update_keeps_state(void **state)
{
	struct sa_params p = params("10.0.0.1", "10.0.0.2", 0x50);
	uint32_t index;
	uint64_t first;

	(void)state;
	assert_int_equal(sad_sa_add(&p, &index), 0);
	const struct sa *sa = sad_sa(index);
	uint32_t uid = sa->rt.uid;
	assert_int_equal(sad_seq_reserve(sad_sa(index), 100, &first), 100);
	sa_count_packets(1, index, 5, 500);
	p.reqid = 9;
	p.lifetime.hard_packets = 1000;
	assert_int_equal(sad_sa_update_in_place(&p), 0);
	assert_ptr_equal(sad_sa(index), sa);
	assert_int_equal(sa->rt.reqid, 1);
	assert_int_equal(sa->cfg.lifetime.hard_packets, 1000);
	assert_int_equal(sa->rt.uid, uid);
	assert_int_equal(sa->out.last, 100);
	struct sa_counters sum;
	sad_sa_counters(index, &sum);
	assert_int_equal(sum.packets, 5);
	assert_int_equal(sum.bytes, 500);
	assert_int_equal(sad_count(), 1);
}

static void test_counters_and_reuse(void **state)
{
	struct sa_params p = params("10.0.0.1", "10.0.0.2", 0x60);
	struct sa_counters sum;
	uint32_t index, index2;

	(void)state;
	assert_int_equal(sad_sa_add(&p, &index), 0);
	sa_count_packets(0, index, 2, 200);
	sa_count_packets(1, index, 1, 100);
	sa_count_error(1, index, SA_ERROR_REPLAY);
	sad_sa_counters(index, &sum);
	assert_int_equal(sum.packets, 3);
	assert_int_equal(sum.bytes, 300);
	assert_int_equal(sum.errors[SA_ERROR_REPLAY], 1);
	assert_string_equal(sa_error_name(SA_ERROR_WINDOW_LEFT), "window-left");
	/* A slot comes back clean after the grace period. */
	assert_int_equal(sad_sa_del(&p.id), 0);
	for (unsigned i = 0; i < 64; i++) {
		p.id.spi = 0x100 + i;
		if (sad_sa_add(&p, &index2) != 0)
			break;
		if (index2 == index)
			break;
	}
	assert_int_equal(index2, index);
	sad_sa_counters(index2, &sum);
	assert_int_equal(sum.packets, 0);
	assert_int_equal(sum.errors[SA_ERROR_REPLAY], 0);
	assert_int_not_equal(sad_sa(index2)->rt.uid, 0);
}

/* `clear ipsec sa`: what show gives starts from 0 again, what the lifetime
 * has used does not, and a slot freed and taken again shows 0. */
static void test_counters_clear(void **state)
{
	struct sa_params p = params("10.0.0.1", "10.0.0.2", 0x61);
	struct sa_counters sum;
	uint32_t index, index2;
	uint64_t t0;

	(void)state;
	p.lifetime.hard_use_s = 5;
	assert_int_equal(sad_sa_add(&p, &index), 0);
	t0 = sad_sa(index)->cfg.add_time_s;
	sa_count_packets(0, index, 3, 300);
	sa_count_error(1, index, SA_ERROR_ICV);
	sad_sa_counters_clear(index);
	sad_sa_counters_shown(index, &sum);
	assert_int_equal(sum.packets + sum.bytes + sum.errors[SA_ERROR_ICV], 0);
	sa_count_packets(1, index, 2, 50);
	sad_sa_counters_shown(index, &sum);
	assert_int_equal(sum.packets, 2);
	assert_int_equal(sum.bytes, 50);
	sad_sa_counters(index, &sum);
	assert_int_equal(sum.packets, 5);
	assert_int_equal(sum.errors[SA_ERROR_ICV], 1);
	/* The use clock counts what came before the clear. */
	sad_sa_counters_clear(index);
	assert_int_equal(sad_expire(t0 + 1), 0);
	assert_int_equal(sad_sa(index)->cfg.use_time_s, t0 + 1);
	assert_int_equal(sad_sa_del(&p.id), 0);
	for (unsigned i = 0; i < 64; i++) {
		p.id.spi = 0x200 + i;
		if (sad_sa_add(&p, &index2) != 0 || index2 == index)
			break;
	}
	assert_int_equal(index2, index);
	sad_sa_counters_shown(index2, &sum);
	assert_int_equal(sum.packets, 0);
	assert_int_equal(sum.errors[SA_ERROR_ICV], 0);
}

/* xfrm_state_check_expire's soft limits and time limits, at times given to
 * sad_expire. */
static void test_lifetimes(void **state)
{
	struct sa_params bytes = params("10.0.0.1", "10.0.0.2", 0x70);
	struct sa_params use = params("10.0.0.1", "10.0.0.2", 0x71);
	struct sa_params kernel = params("10.0.0.1", "10.0.0.2", 0x72);
	uint32_t i_bytes, i_use, i_kernel;

	(void)state;
	bytes.lifetime.soft_bytes = 1000;
	bytes.lifetime.hard_add_s = 60;
	use.lifetime.hard_use_s = 10;
	use.lifetime.hard_add_s = 100;
	kernel.origin = IPSEC_ORIGIN_KERNEL;
	kernel.lifetime.hard_add_s = 1;
	assert_int_equal(sad_sa_add(&bytes, &i_bytes), 0);
	assert_int_equal(sad_sa_add(&use, &i_use), 0);
	assert_int_equal(sad_sa_add(&kernel, &i_kernel), 0);
	uint64_t t0 = sad_sa(i_bytes)->cfg.add_time_s;

	/* The packet that finds 1000 bytes counted reaches the soft limit,
	 * not the one that makes them 1000. */
	assert_true(sa_used_take(sad_sa(i_bytes), 999));
	assert_true(sa_used_take(sad_sa(i_bytes), 1));
	assert_int_equal(sad_expire(t0), 0);
	assert_false(sad_sa(i_bytes)->cfg.soft_expired);
	assert_true(sa_used_take(sad_sa(i_bytes), 1));
	assert_int_equal(sad_expire(t0), 1); /* reached just now: resolve again */
	assert_true(sad_sa(i_bytes)->cfg.soft_expired);
	assert_int_equal(sad_expire(t0), 0);
	/* First use starts the use clock: 10 s after it, not after the add. A
	 * replayed packet is refused before xfrm_state_check_expire and does
	 * not start it; one failing its ICV was checked and does. */
	sa_count_error(0, i_use, SA_ERROR_REPLAY);
	assert_int_equal(sad_expire(t0 + 40), 0);
	assert_int_equal(sad_sa(i_use)->cfg.use_time_s, 0);
	sa_count_error(1, i_use, SA_ERROR_ICV);
	assert_int_equal(sad_expire(t0 + 50), 0);
	assert_int_equal(sad_sa(i_use)->cfg.use_time_s, t0 + 50);
	assert_int_equal(sad_expire(t0 + 59), 0);
	assert_int_equal(sad_expire(t0 + 60), 2);
	assert_null(sad_sa(i_bytes));
	assert_null(sad_sa(i_use));
	/* The kernel expires its own SAs. */
	assert_non_null(sad_sa(i_kernel));
	assert_int_equal(sad_count(), 1);
}

/* Hard packet and byte limits, before every packet (xfrm_state_check_expire):
 * a limit of N passes exactly N, the packet that finds it reached stops the
 * SA, and only then does sad_expire remove it; an SA that reached its limit
 * and idles stays, as in the kernel. */
static void test_hard_limits(void **state)
{
	struct sa_params packets = params("10.0.0.1", "10.0.0.2", 0x80);
	struct sa_params bytes = params("10.0.0.1", "10.0.0.2", 0x81);
	struct sa_params kernel = params("10.0.0.1", "10.0.0.2", 0x82);
	uint32_t i_packets, i_bytes, i_kernel;

	(void)state;
	packets.lifetime.hard_packets = 3;
	bytes.lifetime.hard_bytes = 2000;
	kernel.origin = IPSEC_ORIGIN_KERNEL;
	kernel.lifetime.hard_packets = 1;
	assert_int_equal(sad_sa_add(&packets, &i_packets), 0);
	assert_int_equal(sad_sa_add(&bytes, &i_bytes), 0);
	assert_int_equal(sad_sa_add(&kernel, &i_kernel), 0);
	struct sa *sa_packets = sad_sa(i_packets), *sa_bytes = sad_sa(i_bytes);
	uint64_t t0 = sa_packets->cfg.add_time_s;

	for (int i = 0; i < 3; i++)
		assert_true(sa_used_take(sa_packets, 100));
	assert_true(sa_used_take(sa_bytes, 1999));
	assert_true(sa_used_take(sa_bytes, 1)); /* 1999 counted: below the limit */
	assert_int_equal(sad_expire(t0 + 100), 0);
	assert_string_equal(format_sa_state(sa_packets->rt.state), "valid");
	assert_false(sa_used_take(sa_packets, 100));
	assert_false(sa_used_take(sa_bytes, 1));
	assert_string_equal(format_sa_state(sa_packets->rt.state), "expired(lifetime)");
	assert_false(sa_ready(sa_bytes, SA_DIR_OUT));
	assert_int_equal(sad_expire(t0 + 100), 2);
	assert_null(sad_sa(i_packets));
	assert_null(sad_sa(i_bytes));
	/* The kernel counts its own SAs' packets. */
	assert_false(sa_limited(sad_sa(i_kernel)));
}

/* The kernel's meanings of 0: a packet or byte limit of 0 is reached by
 * the first packet (XFRM_INF is none), a time limit of 0 is none. */
static void test_zero_limits(void **state)
{
	struct sa_params packets = params("10.0.0.1", "10.0.0.2", 0x90);
	struct sa_params bytes = params("10.0.0.1", "10.0.0.2", 0x91);
	struct sa_params soft = params("10.0.0.1", "10.0.0.2", 0x92);
	struct sa_params none = params("10.0.0.1", "10.0.0.2", 0x93);
	uint32_t i_packets, i_bytes, i_soft, i_none;

	(void)state;
	packets.lifetime.hard_packets = 0;
	bytes.lifetime.hard_bytes = 0;
	soft.lifetime.soft_packets = 0;
	assert_int_equal(sad_sa_add(&packets, &i_packets), 0);
	assert_int_equal(sad_sa_add(&bytes, &i_bytes), 0);
	assert_int_equal(sad_sa_add(&soft, &i_soft), 0);
	assert_int_equal(sad_sa_add(&none, &i_none), 0);
	uint64_t t0 = sad_sa(i_none)->cfg.add_time_s;

	assert_false(sa_limited(sad_sa(i_none)));
	assert_int_equal(sad_expire(t0 + 1000000), 0); /* before any packet */
	assert_false(sad_sa(i_soft)->cfg.soft_expired);
	assert_false(sa_used_take(sad_sa(i_packets), 100));
	assert_false(sa_used_take(sad_sa(i_bytes), 100));
	assert_true(sa_used_take(sad_sa(i_soft), 100));
	assert_int_equal(sad_expire(t0 + 1000000), 3);
	assert_null(sad_sa(i_packets));
	assert_null(sad_sa(i_bytes));
	assert_true(sad_sa(i_soft)->cfg.soft_expired);
	assert_non_null(sad_sa(i_none));
}

/* A limit given by `ipsec sa update` counts what the SA carried before it,
 * as the kernel's lifetime so far is kept. */
static void test_hard_limit_update(void **state)
{
	struct sa_params p = params("10.0.0.1", "10.0.0.2", 0x90);
	uint32_t index;

	(void)state;
	assert_int_equal(sad_sa_add(&p, &index), 0);
	assert_false(sa_limited(sad_sa(index)));
	sa_count_packets(0, index, 4, 400);
	sa_count_packets(1, index, 1, 100);
	p.lifetime.hard_packets = 6;
	assert_int_equal(sad_sa_update_in_place(&p), 0);
	assert_true(sa_limited(sad_sa(index)));
	assert_true(sa_used_take(sad_sa(index), 100));
	assert_false(sa_used_take(sad_sa(index), 100));
	p.lifetime.hard_packets = SA_LIMIT_NONE;
	assert_int_equal(sad_sa_update_in_place(&p), 0);
	assert_false(sa_limited(sad_sa(index)));
}

static void test_full(void **state)
{
	struct sa_params p = params("10.0.0.1", "10.0.0.2", 0);
	uint32_t index;

	(void)state;
	for (unsigned i = 0; i < 64; i++) {
		p.id.spi = 0x1000 + i;
		assert_int_equal(sad_sa_add(&p, &index), 0);
	}
	p.id.spi = 0x2000;
	assert_int_equal(sad_sa_add(&p, &index), -ENOSPC);
	sad_flush(IPSEC_ORIGIN_KERNEL);
	assert_int_equal(sad_count(), 64);
	sad_flush(IPSEC_ORIGIN_CLI);
	assert_int_equal(sad_count(), 0);
	assert_int_equal(sad_sa_add(&p, &index), 0);
}

/* Packets reach espd without a mark: as __xfrm_state_lookup compares
 * (mark & m) with v, an SA whose mark value is not 0 takes none of them,
 * and the fast path finds the one SA of the key that does. */
static void test_marks_share_spi(void **state)
{
	struct sa_params a = params("10.0.0.1", "10.0.0.2", 0x70);
	struct sa_params b = a, c = a;
	uint32_t ia, ib, ic;

	(void)state;
	b.id.mark_v = 5;
	b.id.mark_m = 0xff;
	assert_int_equal(sad_sa_add(&b, &ib), 0);
	assert_int_equal(lookup("10.0.0.2", 0x70), SAD_INDEX_NONE);
	assert_int_equal(sad_sa_add(&a, &ia), 0);
	assert_int_equal(lookup("10.0.0.2", 0x70), ia);
	/* Mark 5 is a's value 0 under a's mask 0, and a is the newer. */
	assert_int_equal(sad_find(&b.id), ia);
	/* A second SA that takes unmarked packets: xfrm_state_add finds a. */
	c.id.mark_m = 0xff;
	c.id.if_id = 3;
	assert_int_equal(sad_sa_add(&c, &ic), -EEXIST);
	assert_int_equal(sad_find(&c.id), ia);
	assert_int_equal(sad_sa_del(&a.id), 0);
	assert_int_equal(lookup("10.0.0.2", 0x70), SAD_INDEX_NONE);
	assert_int_equal(sad_find(&b.id), ib);
	assert_int_equal(sad_find(&a.id), SAD_INDEX_NONE);
	assert_int_equal(sad_sa_del(&b.id), 0);
	assert_int_equal(sad_count(), 0);
}

static void test_bad_params(void **state)
{
	struct sa_params p = params("10.0.0.1", "2001:db8::1", 1);
	uint32_t index;

	(void)state;
	assert_int_equal(sad_sa_add(&p, &index), -EINVAL);
	p = params("10.0.0.1", "10.0.0.2", 1);
	p.replay_window = REPLAY_WINDOW_MAX + 1;
	assert_int_equal(sad_sa_add(&p, &index), -EINVAL);
	assert_int_equal(sad_count(), 0);
}

static uint32_t sa_path_mtu(uint32_t index)
{
	return sad_sa(index)->rt.path_mtu;
}

/* Reports lower the MTU toward a peer for every SA to it, never raise it,
 * outlive the SAs, and are forgotten mtu_expires after the last one. */
static void test_path_mtu(void **state)
{
	struct sa_params p = params("10.0.0.1", "10.0.0.2", 0x70);
	struct ip_addr peer = addr("10.0.0.2"), other = addr("10.0.0.3");
	uint64_t life = path_mtu_rules.expires_s[0], expires;
	uint32_t a, b, c;

	(void)state;
	assert_int_equal(sad_sa_add(&p, &a), 0);
	assert_int_equal(sa_path_mtu(a), 0);
	assert_true(path_mtu_report(&peer, 1400));
	assert_int_equal(sa_path_mtu(a), 0); /* the control thread has not polled */
	assert_int_equal(path_mtu_poll(100), 1);
	assert_int_equal(sa_path_mtu(a), 1400);
	assert_int_equal(path_mtu_get(&peer, &expires), 1400);
	assert_int_equal(expires, 100 + life);
	assert_int_equal(path_mtu_get(&other, NULL), 0);
	assert_true(path_mtu_report(&peer, 1450));
	assert_int_equal(path_mtu_poll(110), 0);
	assert_int_equal(sa_path_mtu(a), 1400);
	assert_true(path_mtu_report(&peer, 1300));
	assert_int_equal(path_mtu_poll(120), 1);
	assert_int_equal(sa_path_mtu(a), 1300);
	p.id.spi = 0x71;
	assert_int_equal(sad_sa_add(&p, &b), 0);
	assert_int_equal(sa_path_mtu(b), 1300);
	assert_int_equal(sad_sa_del(&(struct sa_id){ .dst = peer, .spi = 0x70, .proto = IPPROTO_ESP }), 0);
	assert_int_equal(sad_sa_del(&(struct sa_id){ .dst = peer, .spi = 0x71, .proto = IPPROTO_ESP }), 0);
	p.id.spi = 0x72;
	assert_int_equal(sad_sa_add(&p, &c), 0);
	assert_int_equal(sa_path_mtu(c), 1300);
	/* The same again (IPv4): kept longer once less than half its life is
	 * left, not before. */
	assert_true(path_mtu_report(&peer, 1300));
	assert_int_equal(path_mtu_poll(130), 0);
	assert_int_equal(path_mtu_get(&peer, &expires), 1300);
	assert_int_equal(expires, 120 + life);
	uint64_t renewed = 120 + life / 2;
	assert_true(path_mtu_report(&peer, 1300));
	assert_int_equal(path_mtu_poll(renewed), 0);
	assert_int_equal(path_mtu_get(&peer, &expires), 1300);
	assert_int_equal(expires, renewed + life);
	assert_int_equal(path_mtu_poll(renewed + life - 1), 0);
	assert_int_equal(sa_path_mtu(c), 1300);
	assert_int_equal(path_mtu_poll(renewed + life), 1);
	assert_int_equal(sa_path_mtu(c), 0);
	assert_int_equal(path_mtu_get(&peer, NULL), 0);
	assert_true(path_mtu_report(&peer, 1200));
	assert_int_equal(path_mtu_poll(1000), 1);
	assert_int_equal(sa_path_mtu(c), 1200);
	path_mtu_flush();
	assert_int_equal(sa_path_mtu(c), 0);
	assert_int_equal(path_mtu_get(&peer, NULL), 0);
}

/* A report that does not lower the MTU: IPv6 ignores it, its expiry too
 * (__ip6_rt_update_pmtu). IPv4 (__ip_rt_update_pmtu) renews the expiry
 * for the same MTU only once less than half its life is left, but at once
 * for one below min_pmtu, which locks the MTU at min_pmtu: a locked MTU
 * takes no report until it expires (ip_mtu_locked). */
static void test_path_mtu_not_lower(void **state)
{
	struct ip_addr peer6 = addr("fd00::2"), peer4 = addr("10.0.0.4");
	uint64_t life6 = path_mtu_rules.expires_s[1], life4 = path_mtu_rules.expires_s[0];
	uint32_t min4 = path_mtu_rules.ip4_min;
	uint64_t expires, t = 100 + life6;

	(void)state;
	assert_true(path_mtu_report(&peer6, 1400));
	assert_int_equal(path_mtu_poll(100), 1);
	assert_true(path_mtu_report(&peer6, 1400));
	assert_int_equal(path_mtu_poll(100 + life6 - 1), 0);
	assert_int_equal(path_mtu_get(&peer6, &expires), 1400);
	assert_int_equal(expires, 100 + life6);
	assert_true(path_mtu_report(&peer6, 1300));
	assert_int_equal(path_mtu_poll(100 + life6 - 1), 1);
	assert_int_equal(path_mtu_get(&peer6, &expires), 1300);
	assert_int_equal(expires, 100 + 2 * life6 - 1);

	assert_true(path_mtu_report(&peer4, min4));
	assert_int_equal(path_mtu_poll(t), 1);
	assert_true(path_mtu_report(&peer4, min4));
	assert_int_equal(path_mtu_poll(t + 1), 0);
	assert_int_equal(path_mtu_get(&peer4, &expires), min4);
	assert_int_equal(expires, t + life4);
	assert_true(path_mtu_report(&peer4, min4 - 100));
	assert_int_equal(path_mtu_poll(t + 2), 0);
	assert_int_equal(path_mtu_get(&peer4, &expires), min4);
	assert_int_equal(expires, t + 2 + life4);
	assert_true(path_mtu_report(&peer4, min4 - 100));
	assert_true(path_mtu_report(&peer4, min4));
	assert_int_equal(path_mtu_poll(t + 2 + life4 / 2), 0);
	assert_int_equal(path_mtu_get(&peer4, &expires), min4);
	assert_int_equal(expires, t + 2 + life4);
	path_mtu_flush();
}

/* The floors of ipv4_update_pmtu (min_pmtu) and ip6_update_pmtu (1280). */
static void test_path_mtu_floor(void **state)
{
	(void)state;
	assert_int_equal(path_mtu_floor(AF_INET, 0), path_mtu_rules.ip4_min);
	assert_int_equal(path_mtu_floor(AF_INET, 1400), 1400);
	assert_int_equal(path_mtu_floor(AF_INET6, 1000), 1280);
	assert_int_equal(path_mtu_floor(AF_INET6, 1400), 1400);
}

int main(void)
{
	if (!(rcu = ipsec_env_start("test_sad", 2)))
		return 1;

	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_same_spi_other_dst, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keys_wiped_after_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_removed_held_until_grace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_directions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsupported_logged_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_key_length_is_unsupported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seq_reserve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_keeps_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counters_and_reuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counters_clear, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lifetimes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hard_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hard_limit_update, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_marks_share_spi, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_params, setup, teardown),
		cmocka_unit_test_setup_teardown(test_path_mtu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_path_mtu_not_lower, setup, teardown),
		cmocka_unit_test_setup_teardown(test_path_mtu_floor, setup, teardown),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	ipsec_env_stop(rcu);
	return rc;
}
