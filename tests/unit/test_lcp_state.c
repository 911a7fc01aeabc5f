/*
 * Unit tests of the linux-cp state file: what is written reads back
 * identically (fence and offloads included), saving is atomic (no temporary
 * left, old file replaced), version 1 files still read, malformed files are
 * refused, and the device's temporary name always fits.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ports/lcp.h"

static void set_ip(struct ip_addr *addr, const char *text)
{
	assert_int_equal(ip_addr_parse(text, addr), 0);
}

static void add_addr(struct lcp_saved *s, const char *local, uint8_t len, uint32_t flags,
		     const char *label)
{
	struct lcp_addr *a = lcp_array_append(&s->addrs, &s->n_addrs, sizeof(*a));

	assert_non_null(a);
	set_ip(&a->local, local);
	a->prefixlen = len;
	a->flags = flags;
	a->valid_lft = a->preferred_lft = LCP_LIFETIME_FOREVER;
	snprintf(a->label, sizeof(a->label), "%s", label);
}

static struct lcp_route *add_route(struct lcp_saved *s, const char *dst, uint32_t table)
{
	struct lcp_route *r = lcp_array_append(&s->routes, &s->n_routes, sizeof(*r));

	assert_non_null(r);
	assert_int_equal(ip_prefix_parse(dst, &r->dst), 0);
	r->table = table;
	r->type = 1;
	r->pref = -1;
	return r;
}

/* Two devices with everything the format can carry. */
static struct lcp_saved *sample(size_t *n)
{
	struct lcp_saved *saved = calloc(2, sizeof(*saved));
	struct lcp_saved *s = &saved[0];
	struct lcp_addr *a;
	struct lcp_route *r;

	assert_non_null(saved);
	strcpy(s->name, "eth1");
	s->ifindex = 7;
	lcp_phys_name(s->ifindex, s->phys_name);
	memcpy(s->mac, "\x02\x00\x5e\x10\x20\xff", 6);
	s->mtu = 1400;
	s->flags = 0x11043;
	s->disable_ipv6 = 0;
	/* Set by hand: lcp_saved_set_ingress_drop asks the kernel. */
	s->fence = LCP_FENCE_NFT;
	strcpy(s->nft_table, "espd");
	s->offloads[LCP_OFFLOAD_GRO] = LCP_OFFLOAD_ON;
	s->offloads[LCP_OFFLOAD_GSO] = LCP_OFFLOAD_ON;
	s->offloads[LCP_OFFLOAD_TSO] = LCP_OFFLOAD_ON;
	s->offloads[LCP_OFFLOAD_TSO6] = LCP_OFFLOAD_OFF;
	add_addr(s, "192.0.2.1", 24, 0x80, "eth1");
	set_ip(&s->addrs[0].broadcast, "192.0.2.255");
	add_addr(s, "192.0.2.9", 24, 0x81, "eth1 %odd");
	add_addr(s, "198.51.100.1", 32, 0x80, "eth1");
	set_ip(&s->addrs[2].peer, "198.51.100.2");
	add_addr(s, "2001:db8::1", 64, 0x280, "");
	a = &s->addrs[3];
	a->valid_lft = 3600;
	a->preferred_lft = 0;
	a->metric = 77;
	a->proto = 4;
	r = add_route(s, "0.0.0.0/0", 100);
	set_ip(&r->gateway, "192.0.2.254");
	r->protocol = 3;
	r = add_route(s, "10.9.0.0/16", 254);
	set_ip(&r->prefsrc, "192.0.2.1");
	r->scope = 253;
	r->metric = 20;
	r->flags = 4;
	r->tos = 8;
	memcpy(r->metrics, "\x08\x00\x02\x00\x78\x05\x00\x00", 8);
	r->metrics_len = 8;
	r = add_route(s, "2001:db8:5::/48", 200);
	assert_int_equal(ip_prefix_parse("2001:db8:77::/64", &r->src), 0);
	set_ip(&r->gateway, "fe80::1");
	r->metric = 1024;
	r->pref = 1;
	r = add_route(s, "203.0.113.0/24", 254);
	set_ip(&r->gateway, "2001:db8::ff"); /* IPv4 via an IPv6 nexthop */

	s = &saved[1];
	strcpy(s->name, "eth2");
	s->ifindex = 2147483647;
	lcp_phys_name(s->ifindex, s->phys_name);
	s->mtu = 9000;
	s->disable_ipv6 = -1;
	s->fence = LCP_FENCE_TC;
	s->offloads[LCP_OFFLOAD_LRO] = LCP_OFFLOAD_OFF;
	s->offloads[LCP_OFFLOAD_GRO_HW] = LCP_OFFLOAD_ON;
	*n = 2;
	return saved;
}

static void assert_same(const struct lcp_saved *a, const struct lcp_saved *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(a[i].name, b[i].name);
		assert_string_equal(a[i].phys_name, b[i].phys_name);
		assert_int_equal(a[i].fence, b[i].fence);
		assert_string_equal(a[i].nft_table, b[i].nft_table);
		assert_memory_equal(a[i].offloads, b[i].offloads, LCP_OFFLOADS);
		assert_int_equal(a[i].ifindex, b[i].ifindex);
		assert_memory_equal(a[i].mac, b[i].mac, 6);
		assert_int_equal(a[i].mtu, b[i].mtu);
		assert_int_equal(a[i].flags, b[i].flags);
		assert_int_equal(a[i].disable_ipv6, b[i].disable_ipv6);
		assert_int_equal(a[i].n_addrs, b[i].n_addrs);
		assert_int_equal(a[i].n_routes, b[i].n_routes);
		/* Both sides are built from zeroed memory, padding included. */
		for (size_t j = 0; j < a[i].n_addrs; j++)
			assert_memory_equal(&a[i].addrs[j], &b[i].addrs[j], sizeof(struct lcp_addr));
		for (size_t j = 0; j < a[i].n_routes; j++)
			assert_memory_equal(&a[i].routes[j], &b[i].routes[j], sizeof(struct lcp_route));
	}
}

static void test_round_trip(void **unused)
{
	size_t n, n_back;
	struct lcp_saved *saved = sample(&n), *back;
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	(void)unused;
	assert_int_equal(lcp_state_write(f, saved, n), 0);
	fclose(f);
	assert_non_null(strstr(text, " label eth1%20%25odd"));
	assert_non_null(strstr(text, " fence nft nft espd gro on gro_hw unsupported lro unsupported "
				     "gso on tso on tso_ecn unsupported tso_mangleid unsupported "
				     "tso6 off tso_accecn unsupported\n"));
	assert_non_null(strstr(text, " fence tc gro unsupported gro_hw on lro off "));
	f = fmemopen(text, size, "r");
	assert_int_equal(lcp_state_read(f, "test", &back, &n_back), 0);
	fclose(f);
	assert_int_equal(n_back, n);
	assert_same(saved, back, n);
	lcp_state_free(back, n_back);
	lcp_state_free(saved, n);
	free(text);
}

/* A state directory of its own for a test (*state: its name), removed
 * after it, state files and all, even when an assertion stops it half-way. */
static int state_dir_create(void **state)
{
	static char dir[] = "/tmp/test_lcp_state.XXXXXX";

	*state = mkdtemp(dir);
	return *state ? 0 : -1;
}

static int state_dir_remove(void **state)
{
	static const char *const suffixes[] = { "", ".tmp" };
	char path[64];

	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s%s", (char *)*state, LCP_STATE_FILE, suffixes[i]);
		unlink(path);
	}
	return rmdir(*state) == 0 || errno == ENOENT ? 0 : -1;
}

static void test_save_load_remove(void **state)
{
	const char *dir = *state;
	char path[64];
	size_t n, n_back;
	struct lcp_saved *saved = sample(&n), *back;
	struct stat st;

	assert_int_equal(lcp_state_load(dir, &back, &n_back), -ENOENT);
	assert_int_equal(lcp_state_save(dir, saved, 1), 0);
	assert_int_equal(lcp_state_save(dir, saved, n), 0); /* replaces */
	snprintf(path, sizeof(path), "%s/%s.tmp", dir, LCP_STATE_FILE);
	assert_int_equal(stat(path, &st), -1);
	snprintf(path, sizeof(path), "%s/%s", dir, LCP_STATE_FILE);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(lcp_state_load(dir, &back, &n_back), 0);
	assert_int_equal(n_back, n);
	assert_same(saved, back, n);
	lcp_state_free(back, n_back);
	assert_int_equal(lcp_state_remove(dir), 0);
	assert_int_equal(lcp_state_remove(dir), 0);
	assert_int_equal(lcp_state_load(dir, &back, &n_back), -ENOENT);
	/* No state file: nothing to restore, and no netlink needed to say so. */
	assert_int_equal(lcp_restore(dir), 0);
	assert_int_equal(rmdir(dir), 0);
	lcp_state_free(saved, n);
}

/* Read text; the first device goes to *first when it is not NULL. */
static int read_first(const char *text, struct lcp_saved *first)
{
	struct lcp_saved *saved = NULL;
	size_t n = 0;
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int rc = lcp_state_read(f, "test", &saved, &n);

	fclose(f);
	if (rc == 0 && first) {
		assert_true(n >= 1);
		*first = saved[0];
		first->addrs = NULL;
		first->routes = NULL;
	}
	lcp_state_free(saved, n);
	return rc;
}

static int read_text(const char *text)
{
	return read_first(text, NULL);
}

#define IFACE "iface name eth1 ifindex 7 phys espd-p7 mac 02:00:00:00:00:01 mtu 1500 flags 0x1003 disable_ipv6 0\n"

static void test_malformed(void **unused)
{
	(void)unused;
	assert_int_equal(read_text("# only a comment\n\n"), 0);
	assert_int_equal(read_text(IFACE), 0);
	assert_int_equal(read_text(IFACE "addr local 192.0.2.1 prefixlen 24\n"), 0);
	assert_int_equal(read_text("addr local 192.0.2.1 prefixlen 24\n"), -EINVAL);
	assert_int_equal(read_text("iface name eth1 ifindex 7\n"), -EINVAL); /* no phys name */
	assert_int_equal(read_text("iface name eth1 ifindex 0 phys espd-p0\n"), -EINVAL);
	assert_int_equal(read_text("iface name eth1 ifindex 7 phys espd-p8\n"), -EINVAL);
	assert_int_equal(read_text("iface name eth1 ifindex 7 phys espd-p7 nft a;b\n"), -EINVAL);
	assert_int_equal(read_text("iface name eth1 ifindex 7 phys espd-p7 mac 02:00:00:00:00\n"), -EINVAL);
	assert_int_equal(read_text("iface name eth1 ifindex 7 phys espd-p7 mtu\n"), -EINVAL);
	assert_int_equal(read_text("iface name eth1 ifindex 7 phys espd-p7 colour blue\n"), -EINVAL);
	assert_int_equal(read_text("iface name eth1 ifindex 7 phys espd-p7 disable_ipv6 2\n"), -EINVAL);
	assert_int_equal(read_text("iface name 0123456789abcdef ifindex 7 phys espd-p7\n"), -EINVAL);
	assert_int_equal(read_text("iface name eth%2 ifindex 7 phys espd-p7\n"), -EINVAL);
	assert_int_equal(read_text(IFACE "addr local 192.0.2.1 prefixlen 300\n"), -EINVAL);
	assert_int_equal(read_text(IFACE "addr local 192.0.2.300 prefixlen 24\n"), -EINVAL);
	assert_int_equal(read_text(IFACE "addr prefixlen 24\n"), -EINVAL);
	assert_int_equal(read_text(IFACE "route dst 10.0.0.0/8\n"), -EINVAL); /* no table */
	assert_int_equal(read_text(IFACE "route dst 10.0.0.0/8 table 254 metric -1\n"), -EINVAL);
	assert_int_equal(read_text(IFACE "route dst 10.0.0.0/8 table 254 metrics 0g\n"), -EINVAL);
	assert_int_equal(read_text(IFACE "frobnicate x y\n"), -EINVAL);
	assert_int_equal(read_text("iface name eth1 ifindex 7 phys espd-p7 fence nft\n"), -EINVAL);
	assert_int_equal(read_text("iface name eth1 ifindex 7 phys espd-p7 fence ebpf\n"), -EINVAL);
	assert_int_equal(read_text("iface name eth1 ifindex 7 phys espd-p7 gro maybe\n"), -EINVAL);
	assert_int_equal(read_text("iface name eth1 ifindex 7 phys espd-p7 tso\n"), -EINVAL);
}

/* Version 1 files: "nft <table>" alone is the nftables fence, and offloads
 * they do not name are left alone on restore. */
static void test_old_format(void **unused)
{
	struct lcp_saved s;

	(void)unused;
	assert_int_equal(read_first(IFACE, &s), 0);
	assert_int_equal(s.fence, LCP_FENCE_NONE);
	for (size_t k = 0; k < LCP_OFFLOADS; k++)
		assert_int_equal(s.offloads[k], LCP_OFFLOAD_UNSUPPORTED);
	assert_int_equal(read_first("iface name eth1 ifindex 7 phys espd-p7 nft espd_x\n", &s), 0);
	assert_int_equal(s.fence, LCP_FENCE_NFT);
	assert_string_equal(s.nft_table, "espd_x");
	assert_int_equal(read_first("iface name eth1 ifindex 7 phys espd-p7 fence tc gso off\n", &s), 0);
	assert_int_equal(s.fence, LCP_FENCE_TC);
	assert_int_equal(s.offloads[LCP_OFFLOAD_GSO], LCP_OFFLOAD_OFF);
	assert_int_equal(s.offloads[LCP_OFFLOAD_GRO], LCP_OFFLOAD_UNSUPPORTED);
}

static void test_names(void **unused)
{
	char name[LCP_IFNAMSIZ];
	struct lcp_saved s = { .name = "eth1" };

	(void)unused;
	lcp_phys_name(7, name);
	assert_string_equal(name, "espd-p7");
	lcp_phys_name(999999999, name);
	assert_string_equal(name, "espd-p999999999");
	lcp_phys_name(2147483647, name);
	assert_string_equal(name, "espd-px7fffffff");
	/* Invalid names are refused before the kernel is asked anything. */
	assert_int_equal(lcp_saved_set_ingress_drop(&s, ""), -EINVAL);
	assert_int_equal(lcp_saved_set_ingress_drop(&s, "2espd"), -EINVAL);
	assert_int_equal(lcp_saved_set_ingress_drop(&s, "espd; flush ruleset"), -EINVAL);
	assert_int_equal(lcp_saved_set_ingress_drop(&s, "a23456789012345678901234567890123"), -EINVAL);
	assert_string_equal(s.nft_table, "");
	assert_int_equal(s.fence, LCP_FENCE_NONE);
	assert_int_equal(read_text("iface name eth1 ifindex 7 phys espd-p7 nft espd_2-b\n"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test_setup_teardown(test_save_load_remove, state_dir_create,
						state_dir_remove),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_old_format),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
