/*
 * Unit tests of the forwarding tables (FIB, neighbors), the named counters
 * and the CLI command table, on a real DPDK EAL without hugepages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>
#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include <linux/rtnetlink.h>

#include "control/cli.h"
#include "graph/counters.h"
#include "graph/graph.h"
#include "tables/fib.h"
#include "tables/neigh.h"

static struct rte_rcu_qsbr *rcu;

static struct fib_route route_of(const char *prefix, uint8_t type, uint16_t iface, const char *gw)
{
	struct fib_route route = { .nexthop = { .type = type, .iface = iface } };
	assert_int_equal(ip_prefix_parse(prefix, &route.prefix), 0);
	route.nexthop.family = route.prefix.addr.family;
	if (gw)
		assert_int_equal(ip_addr_parse(gw, &route.nexthop.gw), 0);
	return route;
}

static uint32_t lookup4(const char *addr_text)
{
	struct ip_addr addr;
	uint32_t result;
	assert_int_equal(ip_addr_parse(addr_text, &addr), 0);
	fib_lookup4_bulk(&addr.v4, &result, 1);
	return result;
}

static uint32_t lookup6(const char *addr_text)
{
	struct ip_addr addr;
	uint32_t result;
	assert_int_equal(ip_addr_parse(addr_text, &addr), 0);
	fib_lookup6_bulk((const uint8_t (*)[16])addr.bytes, &result, 1);
	return result;
}

static int setup(void **state)
{
	(void)state;
	assert_int_equal(fib_init(rcu, 4096), 0);
	assert_int_equal(neigh_init(rcu, 1024), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fib_destroy();
	neigh_destroy();
	return 0;
}

static void test_fib_longest_prefix_wins(void **state)
{
	(void)state;
	struct fib_route wide = route_of("10.0.0.0/8", NEXTHOP_FORWARD, 0, "10.255.0.1");
	struct fib_route narrow = route_of("10.1.2.0/24", NEXTHOP_FORWARD, 1, NULL);
	assert_int_equal(fib_route_add(&wide), 0);
	assert_int_equal(fib_route_add(&narrow), 0);
	assert_int_equal(fib_nexthop(lookup4("10.1.2.3"))->iface, 1);
	assert_int_equal(fib_nexthop(lookup4("10.9.9.9"))->iface, 0);
	assert_int_equal(lookup4("11.0.0.1"), FIB_MISS);
	assert_int_equal(fib_route_count(), 2);
}

static void test_fib_delete_falls_back(void **state)
{
	(void)state;
	struct fib_route wide = route_of("10.0.0.0/8", NEXTHOP_FORWARD, 0, NULL);
	struct fib_route narrow = route_of("10.1.2.0/24", NEXTHOP_LOCAL, 0, NULL);
	assert_int_equal(fib_route_add(&wide), 0);
	assert_int_equal(fib_route_add(&narrow), 0);
	assert_int_equal(fib_nexthop(lookup4("10.1.2.3"))->type, NEXTHOP_LOCAL);
	assert_int_equal(fib_route_del(&narrow.prefix), 0);
	assert_int_equal(fib_nexthop(lookup4("10.1.2.3"))->type, NEXTHOP_FORWARD);
	assert_int_equal(fib_route_del(&narrow.prefix), -ENOENT);
	assert_int_equal(fib_route_del(&wide.prefix), 0);
	assert_int_equal(lookup4("10.1.2.3"), FIB_MISS);
	assert_int_equal(fib_route_count(), 0);
}

static void test_fib_replace_changes_nexthop(void **state)
{
	(void)state;
	struct fib_route route = route_of("192.168.0.0/16", NEXTHOP_FORWARD, 0, "10.0.0.1");
	assert_int_equal(fib_route_add(&route), 0);
	route.nexthop.iface = 3;
	assert_int_equal(fib_route_add(&route), 0);
	assert_int_equal(fib_route_count(), 1);
	assert_int_equal(fib_nexthop(lookup4("192.168.1.1"))->iface, 3);
	assert_non_null(fib_route_find(&route.prefix));
	assert_int_equal(fib_route_find(&route.prefix)->nexthop.iface, 3);
}

static void test_fib_shared_nexthop(void **state)
{
	(void)state;
	struct fib_route a = route_of("10.1.0.0/16", NEXTHOP_FORWARD, 2, "10.0.0.1");
	struct fib_route b = route_of("10.2.0.0/16", NEXTHOP_FORWARD, 2, "10.0.0.1");
	assert_int_equal(fib_route_add(&a), 0);
	assert_int_equal(fib_route_add(&b), 0);
	/* One next hop object serves both routes. */
	assert_int_equal(lookup4("10.1.0.1"), lookup4("10.2.0.1"));
	assert_int_equal(fib_route_del(&a.prefix), 0);
	assert_int_equal(fib_nexthop(lookup4("10.2.0.1"))->iface, 2);
}

static void test_fib_ipv6_after_commit(void **state)
{
	(void)state;
	struct fib_route route = route_of("fd00:2::/64", NEXTHOP_FORWARD, 1, NULL);
	struct fib_route host = route_of("fd00:2::1/128", NEXTHOP_LOCAL, 1, NULL);
	assert_int_equal(fib_route_add(&route), 0);
	assert_int_equal(fib_route_add(&host), 0);
	/* IPv6 changes are published as a whole, at commit. */
	assert_int_equal(lookup6("fd00:2::5"), FIB_MISS);
	assert_int_equal(fib_commit(), 0);
	assert_int_equal(fib_nexthop(lookup6("fd00:2::5"))->type, NEXTHOP_FORWARD);
	assert_int_equal(fib_nexthop(lookup6("fd00:2::1"))->type, NEXTHOP_LOCAL);
	assert_int_equal(lookup6("fd00:3::1"), FIB_MISS);
	assert_int_equal(fib_route_del(&route.prefix), 0);
	assert_int_equal(fib_commit(), 0);
	assert_int_equal(lookup6("fd00:2::5"), FIB_MISS);
}

/* A route with hops by interfaces 1 and 2 of the given weights. */
static struct fib_route multipath_of(const char *prefix, uint16_t weight1, uint16_t weight2)
{
	struct fib_route route = route_of(prefix, NEXTHOP_FORWARD, 1, NULL);
	bool v4 = route.prefix.addr.family == AF_INET;

	route.n_paths = 2;
	route.paths[0] = (struct fib_path){ .iface = 1, .weight = weight1 };
	route.paths[1] = (struct fib_path){ .iface = 2, .weight = weight2 };
	assert_int_equal(ip_addr_parse(v4 ? "192.0.2.2" : "fd00:1::2", &route.paths[0].gw), 0);
	assert_int_equal(ip_addr_parse(v4 ? "198.51.100.2" : "fd00:2::2", &route.paths[1].gw), 0);
	route.nexthop.gw = route.paths[0].gw;
	return route;
}

/* The interface the member of group index for hash leaves by. */
static uint16_t member_iface(uint32_t index, uint32_t hash)
{
	uint32_t member = fib_group_select(index, hash);

	assert_false(fib_is_group(member));
	assert_int_equal(fib_nexthop(member)->type, NEXTHOP_FORWARD);
	return fib_nexthop(member)->iface;
}

/* fib_rebalance's split: over the whole 31-bit hash space weight 1 against
 * 3 takes a quarter, each hash always the same member, flows of different
 * sources both members; a dead hop takes none. */
static void test_fib_multipath_by_weight(void **state)
{
	struct fib_route route = multipath_of("10.9.0.0/24", 1, 3);
	unsigned on_first = 0, flows_on_first = 0;
	uint32_t index;

	(void)state;
	assert_int_equal(fib_route_add(&route), 0);
	index = lookup4("10.9.0.7");
	assert_true(fib_is_group(index));
	assert_int_equal(fib_nexthop_type(index), NEXTHOP_GROUP);
	for (uint32_t i = 0; i < 4096; i++) {
		uint32_t hash = i << 19;
		on_first += member_iface(index, hash) == 1;
		assert_int_equal(member_iface(index, hash), member_iface(index, hash));
	}
	assert_int_equal(on_first, 1024);
	for (uint32_t i = 0; i < 1000; i++) {
		struct ip_addr src = { .family = AF_INET, .v4 = rte_cpu_to_be_32(0x0a010000 + i) };
		struct ip_addr dst = { .family = AF_INET, .v4 = rte_cpu_to_be_32(0x0a090007) };
		flows_on_first += member_iface(index, flow_hash_addrs(&src, &dst)) == 1;
	}
	assert_in_range(flows_on_first, 180, 320);

	route.paths[0].flags = RTNH_F_DEAD;
	assert_int_equal(fib_route_add(&route), 0);
	index = lookup4("10.9.0.7");
	for (uint32_t i = 0; i < 4096; i++)
		assert_int_equal(member_iface(index, i << 19), 2);
	assert_int_equal(fib_route_del(&route.prefix), 0);
	assert_int_equal(lookup4("10.9.0.7"), FIB_MISS);
}

/* How many of 4096 hashes spread over the space take interface 1. */
static unsigned on_iface1(uint32_t index)
{
	unsigned count = 0;

	for (uint32_t i = 0; i < 4096; i++)
		count += member_iface(index, i << 19) == 1;
	return count;
}

/* fib_multipath_use_neigh: a hop whose gateway's neighbor is not valid is
 * passed over, and only while the setting is on; with every hop's bad,
 * the first. */
static void test_fib_multipath_use_neigh(void **state)
{
	struct fib_route route = multipath_of("10.9.0.0/24", 1, 1);
	uint32_t index;

	(void)state;
	assert_int_equal(fib_route_add(&route), 0);
	index = lookup4("10.9.0.7");
	assert_int_equal(on_iface1(index), 2048);
	fib_neigh_bad_set(2, &route.paths[1].gw, true);
	assert_int_equal(on_iface1(index), 2048);
	flow_hash_confs[0].use_neigh = 1;
	assert_int_equal(on_iface1(index), 4096);
	fib_neigh_bad_set(1, &route.paths[1].gw, false);
	assert_int_equal(on_iface1(index), 4096);
	fib_neigh_bad_set(1, &route.paths[0].gw, true);
	assert_int_equal(on_iface1(index), 4096);
	fib_neigh_bad_set(2, &route.paths[1].gw, false);
	assert_int_equal(on_iface1(index), 0);
	fib_neigh_bad_set(1, &route.paths[0].gw, false);
	assert_int_equal(on_iface1(index), 2048);
	flow_hash_confs[0].use_neigh = 0;
	assert_int_equal(fib_route_del(&route.prefix), 0);
}

/* IPv6 groups are published at commit. */
static void test_fib_multipath_ipv6(void **state)
{
	struct fib_route route = multipath_of("fd00:9::/64", 1, 1);
	struct ip_addr src, dst;
	unsigned on_first = 0;

	(void)state;
	assert_int_equal(fib_route_add(&route), 0);
	assert_int_equal(fib_commit(), 0);
	uint32_t index = lookup6("fd00:9::7");
	assert_true(fib_is_group(index));
	assert_int_equal(ip_addr_parse("fd00:1::1", &src), 0);
	assert_int_equal(ip_addr_parse("fd00:9::7", &dst), 0);
	for (uint32_t i = 0; i < 1000; i++) {
		src.bytes[15] = (uint8_t)i;
		src.bytes[14] = (uint8_t)(i >> 8);
		on_first += member_iface(index, flow_hash_addrs(&src, &dst)) == 1;
	}
	assert_in_range(on_first, 400, 600);
	assert_int_equal(fib_route_find(&route.prefix)->n_paths, 2);
	assert_int_equal(fib_route_find(&route.prefix)->paths[1].weight, 1);
}

static void test_fib_rejects_unknown_family(void **state)
{
	(void)state;
	struct fib_route route = { 0 };
	assert_int_equal(fib_route_add(&route), -EAFNOSUPPORT);
}

static void test_neigh_add_update_delete(void **state)
{
	(void)state;
	struct rte_ether_addr mac = { { 2, 0, 0, 0, 0, 1 } }, other = { { 2, 0, 0, 0, 0, 2 } }, out;
	struct ip_addr addr;
	assert_int_equal(ip_addr_parse("10.2.0.2", &addr), 0);
	assert_false(neigh_lookup(1, &addr, &out));
	assert_int_equal(neigh_add(1, &addr, &mac, 2, 7), 0);
	assert_true(neigh_lookup(1, &addr, &out));
	assert_memory_equal(&out, &mac, sizeof(mac));
	/* Same address on another interface is another neighbor. */
	assert_false(neigh_lookup(2, &addr, &out));
	assert_int_equal(neigh_add(1, &addr, &other, 2, 8), 0);
	assert_true(neigh_lookup(1, &addr, &out));
	assert_memory_equal(&out, &other, sizeof(other));
	assert_int_equal(neigh_count(), 1);
	assert_int_equal(neigh_del(1, &addr), 0);
	assert_false(neigh_lookup(1, &addr, &out));
	assert_int_not_equal(neigh_del(1, &addr), 0);
}

static void test_neigh_lookup_bulk(void **state)
{
	(void)state;
	struct rte_ether_addr mac4 = { { 2, 0, 0, 0, 0, 4 } }, mac6 = { { 2, 0, 0, 0, 0, 6 } };
	struct rte_ether_addr macs[4];
	struct ip_addr v4, v6, unknown;
	struct neigh_key keys[4];
	const struct neigh_key *key_ptrs[4] = { &keys[0], &keys[1], &keys[2], &keys[3] };
	assert_int_equal(ip_addr_parse("10.2.0.2", &v4), 0);
	assert_int_equal(ip_addr_parse("fd00:2::2", &v6), 0);
	assert_int_equal(ip_addr_parse("10.2.0.3", &unknown), 0);
	assert_int_equal(neigh_add(1, &v4, &mac4, 2, 1), 0);
	assert_int_equal(neigh_add(1, &v6, &mac6, 2, 1), 0);
	neigh_key_set(&keys[0], 1, AF_INET, v4.bytes);
	neigh_key_set(&keys[1], 1, AF_INET, unknown.bytes);
	neigh_key_set(&keys[2], 1, AF_INET6, v6.bytes);
	neigh_key_set(&keys[3], 2, AF_INET6, v6.bytes);
	assert_int_equal(neigh_lookup_bulk(key_ptrs, 4, macs), 0x5);
	assert_memory_equal(&macs[0], &mac4, sizeof(mac4));
	assert_memory_equal(&macs[2], &mac6, sizeof(mac6));
	assert_false(neigh_key_equal(&keys[0], &keys[1]));
	neigh_key_set(&keys[1], 1, AF_INET, v4.bytes);
	assert_true(neigh_key_equal(&keys[0], &keys[1]));
	assert_int_equal(neigh_lookup_bulk(key_ptrs, 0, macs), 0);
}

/* The incremental TTL update gives the checksum a full recomputation
 * gives, for every TTL and across the whole range of checksum values
 * (the identification field moves the sum through every carry case). */
static void test_ip_hop_decrement_checksum(void **state)
{
	(void)state;
	for (uint32_t id = 0; id <= 0xffff; id++) {
		struct rte_ipv4_hdr ip = {
			.version_ihl = RTE_IPV4_VHL_DEF,
			.total_length = RTE_BE16(84),
			.packet_id = rte_cpu_to_be_16((uint16_t)id),
			.time_to_live = (uint8_t)(2 + id % 254),
			.next_proto_id = (uint8_t)(id >> 8),
			.src_addr = RTE_BE32(0xc0a80001),
			.dst_addr = rte_cpu_to_be_32(0x0a000000 | id),
		};
		uint8_t ttl = ip.time_to_live;

		ip.hdr_checksum = rte_ipv4_cksum(&ip);
		ip_hop_decrement(&ip, AF_INET);
		assert_int_equal(ip.time_to_live, ttl - 1);
		uint16_t got = ip.hdr_checksum;
		ip.hdr_checksum = 0;
		assert_int_equal(got, rte_ipv4_cksum(&ip));
	}
}

/* A burst moves whole only when every edge is the first: a difference is
 * found wherever it is, in the eight-edge comparisons and in the tail, and
 * whatever bits of the edge differ. */
static void test_edges_all_same(void **state)
{
	rte_edge_t nexts[RTE_GRAPH_BURST_SIZE];

	(void)state;
	for (uint16_t n = 1; n <= RTE_GRAPH_BURST_SIZE; n++) {
		for (uint16_t i = 0; i < n; i++)
			nexts[i] = 3;
		assert_true(edges_all_same(nexts, n));
		for (uint16_t at = 0; at < n; at++) {
			for (rte_edge_t bit = 1; bit; bit <<= 1) {
				nexts[at] = 3 ^ bit;
				/* One edge is always the same as itself. */
				assert_int_equal(edges_all_same(nexts, n), n == 1);
			}
			nexts[at] = 3;
		}
	}
}

static void test_counters_sum_and_clear(void **state)
{
	(void)state;
	uint64_t before = counter_total(ESPD_COUNTER_IP_NO_ROUTE);
	counter_inc(0, ESPD_COUNTER_IP_NO_ROUTE);
	counter_inc(3, ESPD_COUNTER_IP_NO_ROUTE);
	assert_int_equal(counter_total(ESPD_COUNTER_IP_NO_ROUTE), before + 2);
	counters_clear();
	assert_int_equal(counter_total(ESPD_COUNTER_IP_NO_ROUTE), 0);
	counter_inc(1, ESPD_COUNTER_IP_NO_ROUTE);
	assert_int_equal(counter_total(ESPD_COUNTER_IP_NO_ROUTE), 1);
	assert_string_equal(counter_node(ESPD_COUNTER_IP_NO_ROUTE), "ip-lookup");
	assert_string_equal(counter_kind(ESPD_COUNTER_IP_NO_ROUTE), "punt");
	assert_string_equal(counter_text(ESPD_COUNTER_IP_NO_ROUTE), "no route");
}

static int handler_args;
static int test_handler(struct cli_out *out, int argc, char **argv)
{
	handler_args = argc;
	cli_printf(out, "%s", argc ? argv[0] : "none");
	return 0;
}

static const struct cli_command test_commands[] = {
	{ "show things", test_handler, "things" },
	{ "show things detail", test_handler, "things in detail" },
};

static void test_cli_longest_match_and_errors(void **state)
{
	(void)state;
	struct cli_out out = { 0 };
	char *detail[] = { "show", "things", "detail", "x" };
	char *unknown[] = { "shw" };
	char *json[] = { "show", "--json", "things" };

	cli_register(test_commands, 2);
	cli_execute(4, detail, &out);
	assert_int_equal(out.status, 0);
	assert_int_equal(handler_args, 1);
	assert_string_equal(out.buf, "x");
	cli_out_free(&out);
	cli_execute(1, unknown, &out);
	assert_int_not_equal(out.status, 0);
	assert_non_null(strstr(out.buf, "unknown command 'shw'"));
	cli_out_free(&out);
	cli_execute(3, json, &out);
	assert_true(out.json);
	assert_string_equal(out.buf, "none");
	cli_out_free(&out);
}

static void test_cli_json_error(void **state)
{
	(void)state;
	struct cli_out out = { .json = true };
	cli_error(&out, -EINVAL, "bad \"word\"");
	assert_string_equal(out.buf, "{\"error\": \"bad \\\"word\\\"\"}\n");
	cli_out_free(&out);
}

int main(void)
{
	char *eal_args[] = { "test_tables", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
			     "--file-prefix", "test_tables", "--log-level", "*:error" };
	if (rte_eal_init(RTE_DIM(eal_args), eal_args) < 0)
		return 1;
	rcu = rte_zmalloc("rcu", rte_rcu_qsbr_get_memsize(1), 64);
	rte_rcu_qsbr_init(rcu, 1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fib_longest_prefix_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fib_delete_falls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fib_replace_changes_nexthop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fib_shared_nexthop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fib_ipv6_after_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fib_multipath_by_weight, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fib_multipath_ipv6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fib_multipath_use_neigh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fib_rejects_unknown_family, setup, teardown),
		cmocka_unit_test_setup_teardown(test_neigh_add_update_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_neigh_lookup_bulk, setup, teardown),
		cmocka_unit_test(test_ip_hop_decrement_checksum),
		cmocka_unit_test(test_edges_all_same),
		cmocka_unit_test(test_counters_sum_and_clear),
		cmocka_unit_test(test_cli_longest_match_and_errors),
		cmocka_unit_test(test_cli_json_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
