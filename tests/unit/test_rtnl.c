/*
 * The rtnetlink mirror: its translators on messages recorded from a real
 * kernel (tests/unit/rtnl_msgs, see record.py there), and its batching,
 * shadow state and mark-and-sweep resync against test doubles of the
 * sockets and tables defined below.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/netconf.h>
#include <cmocka.h>

#include "control/cli.h"
#include "control/nl.h"
#include "control/rtnl.h"
#include "tables/fib.h"
#include "tables/iface.h"
#include "tables/neigh.h"
#include "tables/own_addr.h"

static const char *msgs_dir = "tests/unit/rtnl_msgs";

/* ---- test doubles: tables ---- */

#define FIB_SIZE 64
static struct fib_route fib[FIB_SIZE];
static size_t n_fib;
static unsigned fib_commits;

int fib_route_add(const struct fib_route *route)
{
	for (size_t i = 0; i < n_fib; i++) {
		if (ip_prefix_equal(&fib[i].prefix, &route->prefix)) {
			fib[i] = *route;
			return 0;
		}
	}
	if (n_fib == FIB_SIZE)
		return -ENOSPC;
	fib[n_fib++] = *route;
	return 0;
}

int fib_route_del(const struct ip_prefix *prefix)
{
	for (size_t i = 0; i < n_fib; i++) {
		if (ip_prefix_equal(&fib[i].prefix, prefix)) {
			fib[i] = fib[--n_fib];
			return 0;
		}
	}
	return -ENOENT;
}

int fib_commit(void)
{
	fib_commits++;
	return 0;
}

#define NEIGH_SIZE 32
static struct neigh_entry neighs[NEIGH_SIZE];
static size_t n_neighs;

int neigh_add(uint16_t iface, const struct ip_addr *addr, const struct rte_ether_addr *mac,
	      uint16_t state, uint32_t generation)
{
	size_t i = 0;

	while (i < n_neighs && !(neighs[i].iface == iface && ip_addr_equal(&neighs[i].addr, addr)))
		i++;
	if (i == NEIGH_SIZE)
		return -ENOSPC;
	n_neighs += i == n_neighs;
	neighs[i] = (struct neigh_entry){ .iface = iface, .addr = *addr, .mac = *mac,
					  .state = state, .generation = generation };
	return 0;
}

int neigh_del(uint16_t iface, const struct ip_addr *addr)
{
	for (size_t i = 0; i < n_neighs; i++) {
		if (neighs[i].iface == iface && ip_addr_equal(&neighs[i].addr, addr)) {
			neighs[i] = neighs[--n_neighs];
			return 0;
		}
	}
	return -ENOENT;
}

void neigh_walk(int (*cb)(const struct neigh_entry *entry, void *arg), void *arg)
{
	for (size_t i = 0; i < n_neighs; i++)
		if (cb(&neighs[i], arg))
			return;
}

size_t neigh_count(void)
{
	return n_neighs;
}

/* The neighbors the mirror last said are kept but not valid. */
static struct ip_addr neighs_bad[NEIGH_SIZE];
static size_t n_neighs_bad;

void fib_neigh_bad_set(uint16_t iface, const struct ip_addr *addr, bool bad)
{
	size_t i = 0;

	(void)iface;
	while (i < n_neighs_bad && !ip_addr_equal(&neighs_bad[i], addr))
		i++;
	if (bad && i == n_neighs_bad && i < NEIGH_SIZE)
		neighs_bad[n_neighs_bad++] = *addr;
	else if (!bad && i < n_neighs_bad)
		neighs_bad[i] = neighs_bad[--n_neighs_bad];
}

#define OWN_SIZE 16
static uint32_t own[OWN_SIZE];
static size_t n_own;

int own_addr_sync(const uint32_t *addrs_be, size_t n)
{
	n_own = n < OWN_SIZE ? n : OWN_SIZE;
	memcpy(own, addrs_be, n_own * sizeof(own[0]));
	return n > OWN_SIZE ? -ENOSPC : 0;
}

/* ---- test doubles: sockets (a scripted kernel) and CLI ---- */

#define KERNEL_SIZE 64
static struct nlmsghdr *kernel[KERNEL_SIZE]; /* what a dump returns, NEW* messages */
static struct nlmsghdr *events[KERNEL_SIZE]; /* what the next read returns */
static size_t n_events;
static int events_error;                     /* returned after the events, once */
static int dump_errors[8];                   /* returned by the next dumps, in order */
static unsigned n_dumps;
static struct nlmsghdr *allocated[256];
static size_t n_allocated;

int nl_sock_open(struct nl_sock *sock, int protocol, const unsigned *groups, size_t n_groups,
		 uint32_t rcvbuf)
{
	(void)groups, (void)n_groups, (void)rcvbuf;
	memset(sock, 0, sizeof(*sock));
	sock->protocol = protocol;
	sock->mnl = (struct mnl_socket *)sock; /* only tested for NULL */
	return 0;
}

void nl_sock_close(struct nl_sock *sock)
{
	sock->mnl = NULL;
}

int nl_sock_fd(const struct nl_sock *sock)
{
	(void)sock;
	return -1;
}

static uint16_t new_type_of_get(uint16_t type)
{
	return type == RTM_GETLINK ? RTM_NEWLINK : type == RTM_GETADDR ? RTM_NEWADDR :
	       type == RTM_GETNEIGH ? RTM_NEWNEIGH : type == RTM_GETNETCONF ? RTM_NEWNETCONF :
	       RTM_NEWROUTE;
}

int nl_dump(struct nl_sock *sock, uint16_t type, const void *hdr, size_t hdr_len,
	    mnl_cb_t cb, void *data)
{
	uint8_t family = *(const uint8_t *)hdr;
	int err = type == RTM_GETLINK ? dump_errors[n_dumps++ % 8] : 0;

	(void)sock, (void)hdr_len;
	if (err)
		return err;
	for (size_t i = 0; i < KERNEL_SIZE; i++) {
		const struct nlmsghdr *nlh = kernel[i];
		if (!nlh || nlh->nlmsg_type != new_type_of_get(type))
			continue;
		if (family != AF_UNSPEC && *(const uint8_t *)mnl_nlmsg_get_payload(nlh) != family)
			continue;
		cb(nlh, data);
	}
	return 0;
}

int nl_read_events(struct nl_sock *sock, mnl_cb_t cb, void *data)
{
	int n = (int)n_events, err = events_error;

	(void)sock;
	for (size_t i = 0; i < n_events; i++)
		cb(events[i], data);
	n_events = 0;
	events_error = 0;
	return err ? err : n;
}

/* What the stand-in socket still holds after an overflow is discarded. */
int nl_drain(struct nl_sock *sock)
{
	int n = (int)n_events;

	(void)sock;
	n_events = 0;
	return n;
}

const char *nl_msg_type_name(int protocol, uint16_t type)
{
	static const char *const names[] = {
		[RTM_NEWLINK] = "RTM_NEWLINK", [RTM_DELLINK] = "RTM_DELLINK",
		[RTM_NEWADDR] = "RTM_NEWADDR", [RTM_DELADDR] = "RTM_DELADDR",
		[RTM_NEWROUTE] = "RTM_NEWROUTE", [RTM_DELROUTE] = "RTM_DELROUTE",
		[RTM_NEWNEIGH] = "RTM_NEWNEIGH", [RTM_DELNEIGH] = "RTM_DELNEIGH",
	};
	(void)protocol;
	return type < sizeof(names) / sizeof(names[0]) && names[type] ? names[type] : "unknown";
}

static const struct cli_command *registered;

void cli_printf(struct cli_out *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(out->buf + out->len, out->size - out->len, fmt, ap);
	va_end(ap);
	out->len += (size_t)n < out->size - out->len ? (size_t)n : out->size - out->len - 1;
}

void cli_json_string(struct cli_out *out, const char *s)
{
	cli_printf(out, "\"%s\"", s);
}

int cli_error(struct cli_out *out, int err, const char *fmt, ...)
{
	(void)fmt;
	out->status = 1;
	return err;
}

void cli_register(const struct cli_command *commands, size_t n)
{
	assert_int_equal(n, 1);
	registered = commands;
}

/* ---- reading recordings, building messages, looking at tables ---- */

static struct nlmsghdr *keep(const struct nlmsghdr *nlh)
{
	struct nlmsghdr *copy = malloc(nlh->nlmsg_len);

	assert_non_null(copy);
	assert_true(n_allocated < sizeof(allocated) / sizeof(allocated[0]));
	memcpy(copy, nlh, nlh->nlmsg_len);
	allocated[n_allocated++] = copy;
	return copy;
}

/* A recorded message: hex after '#' comment lines. */
static struct nlmsghdr *load(const char *name)
{
	char path[512], line[256];
	uint8_t bytes[4096];
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/%s.hex", msgs_dir, name);
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s", path);
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#')
			continue;
		for (char *p = line; p[0] && p[1] && p[0] != '\n'; p += 2) {
			unsigned byte;
			assert_int_equal(sscanf(p, "%2x", &byte), 1);
			assert_true(n < sizeof(bytes));
			bytes[n++] = (uint8_t)byte;
		}
	}
	fclose(f);
	struct nlmsghdr *nlh = (struct nlmsghdr *)bytes;
	assert_true(n >= sizeof(*nlh));
	assert_int_equal(nlh->nlmsg_len, n);
	return keep(nlh);
}

static struct ip_addr addr_of(const char *text)
{
	struct ip_addr addr;
	assert_int_equal(ip_addr_parse(text, &addr), 0);
	return addr;
}

static struct ip_prefix prefix_of(const char *text)
{
	struct ip_prefix prefix;
	assert_int_equal(ip_prefix_parse(text, &prefix), 0);
	return prefix;
}

static void assert_addr(const struct ip_addr *addr, const char *text)
{
	char buf[IP_ADDR_STRLEN];
	assert_string_equal(format_ip_addr(buf, sizeof(buf), addr), text);
}

static void assert_prefix(const struct ip_prefix *prefix, const char *text)
{
	char buf[IP_PREFIX_STRLEN];
	assert_string_equal(format_ip_prefix(buf, sizeof(buf), prefix), text);
}

static int ifindex_of(const char *link_msg)
{
	struct rtnl_link link;
	assert_int_equal(rtnl_msg_to_link(load(link_msg), &link), 0);
	return link.ifindex;
}

/* ---- translators on recorded messages ---- */

static void test_link(void **state)
{
	struct rtnl_link link;

	(void)state;
	assert_int_equal(rtnl_msg_to_link(load("link_up_mtu"), &link), 0);
	assert_string_equal(link.name, "rr0");
	assert_int_equal(link.mtu, 1400);
	assert_true(link.flags & IFF_UP);
	assert_false(link.del);
	assert_true(rtnl_link_is_up(&link));

	assert_int_equal(rtnl_msg_to_link(load("link_down"), &link), 0);
	assert_false(link.flags & IFF_UP);
	assert_false(rtnl_link_is_up(&link));
}

static void test_addr4_broadcast(void **state)
{
	struct rtnl_addr addr;

	(void)state;
	assert_int_equal(rtnl_msg_to_addr(load("addr4_brd"), &addr), 0);
	assert_int_equal(addr.ifindex, ifindex_of("link_up_mtu"));
	assert_prefix(&addr.prefix, "192.0.2.1/24");
	assert_addr(&addr.broadcast, "192.0.2.255");
	assert_false(addr.del);

	assert_int_equal(rtnl_msg_to_addr(load("addr4_del"), &addr), 0);
	assert_true(addr.del);
	assert_prefix(&addr.prefix, "192.0.2.1/24");
}

static void test_addr6(void **state)
{
	struct rtnl_addr addr;

	(void)state;
	assert_int_equal(rtnl_msg_to_addr(load("addr6"), &addr), 0);
	assert_prefix(&addr.prefix, "2001:db8:1::1/64");
	assert_int_equal(addr.broadcast.family, 0);
	assert_true(addr.flags & IFA_F_NODAD);
}

static void test_route4_gateway(void **state)
{
	struct rtnl_route route;

	(void)state;
	assert_int_equal(rtnl_msg_to_route(load("route4_gw"), &route), 0);
	assert_prefix(&route.prefix, "198.51.100.0/24");
	assert_addr(&route.gw, "192.0.2.2");
	assert_int_equal(route.oif, ifindex_of("link_up_mtu"));
	assert_int_equal(route.priority, 10);
	assert_int_equal(route.protocol, RTPROT_STATIC);
	assert_int_equal(route.table, RT_TABLE_MAIN);
	assert_int_equal(route.type, RTN_UNICAST);
	assert_int_equal(route.n_hops, 1);
	assert_false(route.del);
	assert_int_equal(rtnl_route_action(&route, false), RTNL_ROUTE_OIF);
	assert_int_equal(rtnl_route_action(&route, true), RTNL_ROUTE_FILTER);

	assert_int_equal(rtnl_msg_to_route(load("route4_del"), &route), 0);
	assert_true(route.del);
	assert_prefix(&route.prefix, "198.51.100.0/24");
	assert_int_equal(route.priority, 10);
}

static void test_route4_connected_and_local(void **state)
{
	struct rtnl_route route;

	(void)state;
	assert_int_equal(rtnl_msg_to_route(load("route4_connected"), &route), 0);
	assert_prefix(&route.prefix, "192.0.2.0/24");
	assert_int_equal(route.gw.family, 0);
	assert_int_equal(route.protocol, RTPROT_KERNEL);
	assert_int_equal(rtnl_route_action(&route, true), RTNL_ROUTE_OIF);

	assert_int_equal(rtnl_msg_to_route(load("route4_local"), &route), 0);
	assert_int_equal(route.table, RT_TABLE_LOCAL);
	assert_int_equal(route.type, RTN_LOCAL);
	assert_int_equal(rtnl_route_action(&route, false), RTNL_ROUTE_IGNORE);
}

static void test_route6(void **state)
{
	struct rtnl_route route;

	(void)state;
	assert_int_equal(rtnl_msg_to_route(load("route6_gw"), &route), 0);
	assert_prefix(&route.prefix, "2001:db8:99::/48");
	assert_addr(&route.gw, "2001:db8:1::2");
	assert_int_equal(route.priority, 1024);
	assert_int_equal(route.n_hops, 1);
	assert_int_equal(rtnl_route_action(&route, false), RTNL_ROUTE_OIF);
}

static void test_route4_via6(void **state)
{
	struct rtnl_route route;

	(void)state;
	assert_int_equal(rtnl_msg_to_route(load("route4_via6"), &route), 0);
	assert_prefix(&route.prefix, "203.0.113.128/25");
	assert_int_equal(route.gw.family, AF_INET6);
	assert_addr(&route.gw, "2001:db8:1::2");
}

static void test_route_blackhole(void **state)
{
	struct rtnl_route route;

	(void)state;
	assert_int_equal(rtnl_msg_to_route(load("route4_blackhole"), &route), 0);
	assert_prefix(&route.prefix, "203.0.113.0/25");
	assert_int_equal(route.type, RTN_BLACKHOLE);
	assert_int_equal(route.oif, 0);
	assert_int_equal(rtnl_route_action(&route, false), RTNL_ROUTE_BLACKHOLE);
}

static void test_route_multipath(void **state)
{
	struct rtnl_route route;

	(void)state;
	assert_int_equal(rtnl_msg_to_route(load("route4_multipath"), &route), 0);
	assert_prefix(&route.prefix, "100.64.0.0/16");
	assert_int_equal(route.n_hops, 2);
	assert_int_equal(route.oif, ifindex_of("link_up_mtu"));
	assert_addr(&route.gw, "192.0.2.2");

	assert_int_equal(rtnl_msg_to_route(load("route6_multipath"), &route), 0);
	assert_int_equal(route.n_hops, 2);
	assert_addr(&route.gw, "2001:db8:1::2");

	/* Deleting one hop of an IPv6 multipath route names that hop only. */
	assert_int_equal(rtnl_msg_to_route(load("route6_multipath_del_hop"), &route), 0);
	assert_true(route.del);
	assert_int_equal(route.n_hops, 1);
}

/* The recording msg is a route of two hops by gw0 and gw1 of weights w0
 * and w1 that makes the same message again. */
static void assert_two_hops(const char *msg, const char *gw0, uint16_t w0, const char *gw1,
			    uint16_t w1)
{
	char buf[RTNL_MSG_SIZE];
	struct rtnl_route route, back_route;

	assert_int_equal(rtnl_msg_to_route(load(msg), &route), 0);
	assert_int_equal(route.n_hops, 2);
	assert_int_equal(route.hops[0].oif, ifindex_of("link_up_mtu"));
	assert_true(route.hops[1].oif > 0 && route.hops[1].oif != route.hops[0].oif);
	assert_addr(&route.hops[0].gw, gw0);
	assert_int_equal(route.hops[0].weight, w0);
	assert_addr(&route.hops[1].gw, gw1);
	assert_int_equal(route.hops[1].weight, w1);
	assert_int_equal(rtnl_msg_to_route(rtnl_route_to_msg(&route, buf), &back_route), 0);
	assert_memory_equal(&route, &back_route, sizeof(route));
}

/* Every hop of a multipath route with its weight, in both families. */
static void test_route_multipath_weights(void **state)
{
	(void)state;
	assert_two_hops("route4_multipath_weights", "192.0.2.2", 1, "10.9.0.2", 3);
	assert_two_hops("route6_multipath_weights", "2001:db8:1::2", 2, "2001:db8:2::2", 5);
}

/* RTA_METRICS' hop limit is kept; the route's other metrics are skipped. */
static void test_route_hop_limit(void **state)
{
	char buf[RTNL_MSG_SIZE];
	struct rtnl_route route, back_route;

	(void)state;
	assert_int_equal(rtnl_msg_to_route(load("route4_hoplimit"), &route), 0);
	assert_prefix(&route.prefix, "198.18.0.0/15");
	assert_int_equal(route.hop_limit, 9);
	assert_int_equal(rtnl_msg_to_route(rtnl_route_to_msg(&route, buf), &back_route), 0);
	assert_memory_equal(&route, &back_route, sizeof(route));
	assert_int_equal(rtnl_msg_to_route(load("route6_hoplimit"), &route), 0);
	assert_prefix(&route.prefix, "2001:db8:55::/48");
	assert_int_equal(route.hop_limit, 200);
	assert_int_equal(rtnl_msg_to_route(load("route4_gw"), &route), 0);
	assert_int_equal(route.hop_limit, 0);
}

static void test_neighbors(void **state)
{
	static const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	struct rtnl_neigh neigh;

	(void)state;
	assert_int_equal(rtnl_msg_to_neigh(load("neigh4_reachable"), &neigh), 0);
	assert_addr(&neigh.addr, "192.0.2.2");
	assert_true(neigh.has_lladdr);
	assert_memory_equal(neigh.lladdr, mac, sizeof(mac));
	assert_int_equal(neigh.state, NUD_REACHABLE);
	assert_true(rtnl_neigh_is_usable(&neigh));

	assert_int_equal(rtnl_msg_to_neigh(load("neigh6_stale"), &neigh), 0);
	assert_addr(&neigh.addr, "2001:db8:1::2");
	assert_int_equal(neigh.state, NUD_STALE);
	assert_true(rtnl_neigh_is_usable(&neigh));

	assert_int_equal(rtnl_msg_to_neigh(load("neigh4_failed"), &neigh), 0);
	assert_addr(&neigh.addr, "192.0.2.3");
	assert_int_equal(neigh.state, NUD_FAILED);
	assert_false(rtnl_neigh_is_usable(&neigh));

	assert_int_equal(rtnl_msg_to_neigh(load("neigh4_del"), &neigh), 0);
	assert_true(neigh.del);
	assert_false(rtnl_neigh_is_usable(&neigh));

	assert_int_equal(rtnl_msg_to_neigh(load("neigh6_stale"), &neigh), 0);
	neigh.addr = addr_of("ff02::16");
	neigh.state = NUD_NOARP;
	assert_false(rtnl_neigh_is_usable(&neigh));
	neigh.addr = addr_of("224.0.0.5");
	assert_false(rtnl_neigh_is_usable(&neigh));
}

static int parse_any(const struct nlmsghdr *nlh)
{
	union {
		struct rtnl_link link;
		struct rtnl_addr addr;
		struct rtnl_neigh neigh;
		struct rtnl_route route;
		struct rtnl_netconf netconf;
	} u;

	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		return rtnl_msg_to_link(nlh, &u.link);
	case RTM_NEWADDR:
	case RTM_DELADDR:
		return rtnl_msg_to_addr(nlh, &u.addr);
	case RTM_NEWNEIGH:
	case RTM_DELNEIGH:
		return rtnl_msg_to_neigh(nlh, &u.neigh);
	case RTM_NEWNETCONF:
		return rtnl_msg_to_netconf(nlh, &u.netconf);
	default:
		return rtnl_msg_to_route(nlh, &u.route);
	}
}

/* Truncated or garbled copies of every recording parse or fail cleanly. */
static void test_malformed(void **state)
{
	static const char *const names[] = {
		"link_up_mtu", "addr4_brd", "addr6", "route4_gw", "route6_gw", "route4_via6",
		"route4_multipath", "route6_multipath", "neigh4_reachable", "neigh6_stale",
		"netconf4_rp_filter", "netconf6_all_forwarding",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct nlmsghdr *nlh = load(names[i]);
		uint32_t len = nlh->nlmsg_len;
		for (uint32_t cut = sizeof(*nlh); cut < len; cut++) {
			nlh->nlmsg_len = cut;
			int rc = parse_any(nlh);
			assert_true(rc == 0 || rc == -EINVAL);
		}
		nlh->nlmsg_len = len;
		for (uint32_t at = sizeof(*nlh); at < len; at++) {
			uint8_t saved = ((uint8_t *)nlh)[at];
			((uint8_t *)nlh)[at] = 0xff;
			int rc = parse_any(nlh);
			assert_true(rc == 0 || rc == -EINVAL || rc == -EAFNOSUPPORT);
			((uint8_t *)nlh)[at] = saved;
		}
	}
}

static void test_round_trip(void **state)
{
	char buf[RTNL_MSG_SIZE];
	struct rtnl_route route, back_route;
	struct rtnl_addr addr, back_addr;
	struct rtnl_neigh neigh, back_neigh;
	struct rtnl_link link, back_link;
	struct rtnl_netconf conf, back_conf;

	(void)state;
	assert_int_equal(rtnl_msg_to_route(load("route4_gw"), &route), 0);
	assert_int_equal(rtnl_msg_to_route(rtnl_route_to_msg(&route, buf), &back_route), 0);
	assert_memory_equal(&route, &back_route, sizeof(route));
	assert_int_equal(rtnl_msg_to_route(load("route4_via6"), &route), 0);
	assert_int_equal(rtnl_msg_to_route(rtnl_route_to_msg(&route, buf), &back_route), 0);
	assert_memory_equal(&route, &back_route, sizeof(route));
	assert_int_equal(rtnl_msg_to_addr(load("addr4_brd"), &addr), 0);
	assert_int_equal(rtnl_msg_to_addr(rtnl_addr_to_msg(&addr, buf), &back_addr), 0);
	assert_memory_equal(&addr, &back_addr, sizeof(addr));
	assert_int_equal(rtnl_msg_to_addr(load("addr6"), &addr), 0);
	assert_int_equal(rtnl_msg_to_addr(rtnl_addr_to_msg(&addr, buf), &back_addr), 0);
	assert_memory_equal(&addr, &back_addr, sizeof(addr));
	assert_int_equal(rtnl_msg_to_neigh(load("neigh6_stale"), &neigh), 0);
	assert_int_equal(rtnl_msg_to_neigh(rtnl_neigh_to_msg(&neigh, buf), &back_neigh), 0);
	assert_memory_equal(&neigh, &back_neigh, sizeof(neigh));
	assert_int_equal(rtnl_msg_to_link(load("link_up_mtu"), &link), 0);
	assert_int_equal(rtnl_msg_to_link(rtnl_link_to_msg(&link, buf), &back_link), 0);
	assert_memory_equal(&link, &back_link, sizeof(link));
	assert_int_equal(rtnl_msg_to_netconf(load("netconf4_rp_filter"), &conf), 0);
	assert_int_equal(rtnl_msg_to_netconf(rtnl_netconf_to_msg(&conf, buf), &back_conf), 0);
	assert_memory_equal(&conf, &back_conf, sizeof(conf));
}

/* The kernel notifies the one setting that changed; all's has ifindex -1. */
static void test_netconf(void **state)
{
	struct rtnl_netconf conf;

	(void)state;
	assert_int_equal(rtnl_msg_to_netconf(load("netconf4_rp_filter"), &conf), 0);
	assert_int_equal(conf.family, AF_INET);
	assert_int_equal(conf.ifindex, 3);
	assert_int_equal(conf.rp_filter, 2);
	assert_int_equal(conf.forwarding, RTNL_NETCONF_ABSENT);
	assert_int_equal(rtnl_msg_to_netconf(load("netconf4_forwarding"), &conf), 0);
	assert_int_equal(conf.ifindex, 3);
	assert_int_equal(conf.forwarding, 1);
	assert_int_equal(conf.rp_filter, RTNL_NETCONF_ABSENT);
	assert_int_equal(rtnl_msg_to_netconf(load("netconf6_all_forwarding"), &conf), 0);
	assert_int_equal(conf.family, AF_INET6);
	assert_int_equal(conf.ifindex, NETCONFA_IFINDEX_ALL);
	assert_int_equal(conf.forwarding, 1);
}

static void test_route_actions(void **state)
{
	struct rtnl_route route = { .prefix = prefix_of("fe80::/64"), .table = RT_TABLE_MAIN,
				    .type = RTN_UNICAST, .protocol = RTPROT_KERNEL, .oif = 3 };

	(void)state;
	assert_int_equal(rtnl_route_action(&route, false), RTNL_ROUTE_FILTER);
	route.prefix = prefix_of("ff00::/8");
	assert_int_equal(rtnl_route_action(&route, false), RTNL_ROUTE_FILTER);
	route.prefix = prefix_of("2001:db8::/64");
	assert_int_equal(rtnl_route_action(&route, true), RTNL_ROUTE_OIF); /* connected */
	route.flags = RTM_F_CLONED;
	assert_int_equal(rtnl_route_action(&route, false), RTNL_ROUTE_IGNORE);
	route.flags = 0;
	route.tos = 0x10;
	assert_int_equal(rtnl_route_action(&route, false), RTNL_ROUTE_IGNORE);
	route.tos = 0;
	route.oif = 0;
	assert_int_equal(rtnl_route_action(&route, false), RTNL_ROUTE_PUNT);
	route.type = RTN_UNREACHABLE;
	assert_int_equal(rtnl_route_action(&route, false), RTNL_ROUTE_BLACKHOLE);
	route.type = RTN_PROHIBIT;
	assert_int_equal(rtnl_route_action(&route, false), RTNL_ROUTE_BLACKHOLE);
	route.type = RTN_THROW;
	assert_int_equal(rtnl_route_action(&route, false), RTNL_ROUTE_PUNT);
	route.type = RTN_LOCAL;
	assert_int_equal(rtnl_route_action(&route, false), RTNL_ROUTE_LOCAL);
	route.table = 100;
	assert_int_equal(rtnl_route_action(&route, false), RTNL_ROUTE_IGNORE);
}

/* ---- the mirror against the scripted kernel ---- */

#define TAP 10    /* kernel ifindex of espd's TAP, iface 0 */
#define OTHER 20  /* an interface espd does not own */

static struct nlmsghdr *msg_link(int ifindex, const char *name, uint32_t mtu, bool up)
{
	char buf[RTNL_MSG_SIZE];
	struct rtnl_link link = { .ifindex = ifindex, .mtu = mtu,
				  .flags = up ? IFF_UP | IFF_RUNNING : 0,
				  .operstate = up ? IF_OPER_UP : IF_OPER_DOWN };

	snprintf(link.name, sizeof(link.name), "%s", name);
	return keep(rtnl_link_to_msg(&link, buf));
}

static struct nlmsghdr *msg_addr(int ifindex, const char *ip, uint8_t len, const char *brd,
				 bool del)
{
	char buf[RTNL_MSG_SIZE];
	struct rtnl_addr addr = { .ifindex = ifindex, .prefix = { addr_of(ip), len }, .del = del };

	if (brd)
		addr.broadcast = addr_of(brd);
	return keep(rtnl_addr_to_msg(&addr, buf));
}

static struct nlmsghdr *msg_neigh(int ifindex, const char *ip, uint16_t state, bool del)
{
	char buf[RTNL_MSG_SIZE];
	struct rtnl_neigh neigh = { .ifindex = ifindex, .addr = addr_of(ip), .state = state,
				    .has_lladdr = true, .lladdr = { 2, 0, 0, 0, 0, 7 },
				    .del = del };

	return keep(rtnl_neigh_to_msg(&neigh, buf));
}

static struct nlmsghdr *msg_route(const char *prefix, const char *gw, int oif, uint32_t metric,
				  uint8_t type, bool del)
{
	char buf[RTNL_MSG_SIZE];
	struct rtnl_route route = { .prefix = prefix_of(prefix), .table = RT_TABLE_MAIN,
				    .priority = metric, .type = type, .protocol = RTPROT_STATIC,
				    .oif = oif, .n_hops = 1, .del = del };

	if (gw)
		route.gw = addr_of(gw);
	return keep(rtnl_route_to_msg(&route, buf));
}

#define ABSENT RTNL_NETCONF_ABSENT
static struct nlmsghdr *msg_netconf(uint8_t family, int ifindex, int32_t forwarding,
				    int32_t rp_filter)
{
	char buf[RTNL_MSG_SIZE];
	struct rtnl_netconf conf = { .family = family, .ifindex = ifindex,
				     .forwarding = forwarding, .rp_filter = rp_filter };

	return keep(rtnl_netconf_to_msg(&conf, buf));
}

static size_t kernel_add(struct nlmsghdr *nlh)
{
	for (size_t i = 0; i < KERNEL_SIZE; i++) {
		if (!kernel[i]) {
			kernel[i] = nlh;
			return i;
		}
	}
	fail_msg("scripted kernel full");
	return 0;
}

static void event(struct nlmsghdr *nlh)
{
	assert_true(n_events < KERNEL_SIZE);
	events[n_events++] = nlh;
}

static const struct fib_route *fib_get(const char *text)
{
	struct ip_prefix prefix = prefix_of(text);

	for (size_t i = 0; i < n_fib; i++)
		if (ip_prefix_equal(&fib[i].prefix, &prefix))
			return &fib[i];
	return NULL;
}

static bool neigh_has(const char *ip)
{
	struct ip_addr addr = addr_of(ip);

	for (size_t i = 0; i < n_neighs; i++)
		if (ip_addr_equal(&neighs[i].addr, &addr))
			return true;
	return false;
}

static bool neigh_bad(const char *ip)
{
	struct ip_addr addr = addr_of(ip);

	for (size_t i = 0; i < n_neighs_bad; i++)
		if (ip_addr_equal(&neighs_bad[i], &addr))
			return true;
	return false;
}

/* The start state: a TAP with an address, a neighbor and routes, and an
 * interface espd does not own with its own address and a default route. */
static size_t k_link, k_route_tap, k_neigh, k_addr;

static int setup_mirror(void **state)
{
	struct rtnl_mirror_config cfg = { .rx_buffer_size = 1 << 20, .batch_size = 3,
					  .batch_delay_ms = 50 };

	if (*state)
		cfg = *(struct rtnl_mirror_config *)*state;
	memset(kernel, 0, sizeof(kernel));
	n_fib = n_neighs = n_events = n_own = 0;
	fib_commits = n_dumps = 0;
	events_error = 0;
	memset(dump_errors, 0, sizeof(dump_errors));
	memset(&iface_table, 0, sizeof(iface_table));
	iface_table.n_ifaces = 1;
	snprintf(iface_table.ifaces[0].name, sizeof(iface_table.ifaces[0].name), "eth1");
	iface_table.ifaces[0].tap_ifindex = TAP;
	iface_table.ifaces[0].forwarding4 = iface_table.forwarding6 = true;

	k_link = kernel_add(msg_link(TAP, "eth1", 1400, true));
	kernel_add(msg_link(OTHER, "wan0", 1500, true));
	k_addr = kernel_add(msg_addr(TAP, "192.0.2.1", 24, "192.0.2.255", false));
	kernel_add(msg_addr(OTHER, "10.0.0.2", 24, "10.0.0.255", false));
	kernel_add(msg_addr(TAP, "2001:db8:1::1", 64, NULL, false));
	k_neigh = kernel_add(msg_neigh(TAP, "192.0.2.2", NUD_REACHABLE, false));
	kernel_add(msg_neigh(OTHER, "10.0.0.1", NUD_REACHABLE, false));
	k_route_tap = kernel_add(msg_route("198.51.100.0/24", "192.0.2.2", TAP, 10, RTN_UNICAST,
					   false));
	kernel_add(msg_route("0.0.0.0/0", "10.0.0.1", OTHER, 0, RTN_UNICAST, false));
	kernel_add(msg_route("203.0.113.0/24", NULL, 0, 0, RTN_BLACKHOLE, false));
	kernel_add(msg_route("2001:db8:99::/48", "2001:db8:1::2", TAP, 1024, RTN_UNICAST, false));
	kernel_add(load("route4_local")); /* table local: not mirrored */
	assert_int_equal(rtnl_mirror_open(&cfg), 0);
	return 0;
}

static int teardown_mirror(void **state)
{
	(void)state;
	rtnl_mirror_close();
	for (size_t i = 0; i < n_allocated; i++)
		free(allocated[i]);
	n_allocated = 0;
	return 0;
}

static void test_initial_dump(void **state)
{
	const struct fib_route *r;
	struct ip_prefix addrs[4];

	(void)state;
	assert_int_equal(iface_table.ifaces[0].mtu, 1400);
	assert_true(iface_table.ifaces[0].up);
	r = fib_get("198.51.100.0/24");
	assert_non_null(r);
	assert_int_equal(r->nexthop.type, NEXTHOP_FORWARD);
	assert_int_equal(r->nexthop.iface, 0);
	assert_addr(&r->nexthop.gw, "192.0.2.2");
	assert_int_equal(r->priority, 10);
	assert_int_equal(fib_get("0.0.0.0/0")->nexthop.type, NEXTHOP_PUNT);
	assert_int_equal(fib_get("203.0.113.0/24")->nexthop.type, NEXTHOP_BLACKHOLE);
	assert_int_equal(fib_get("2001:db8:99::/48")->nexthop.type, NEXTHOP_FORWARD);
	/* Local addresses (any interface) and IPv4 broadcasts go to the kernel. */
	for (size_t i = 0; i < 5; i++) {
		static const char *const locals[] = { "192.0.2.1/32", "192.0.2.255/32",
						      "2001:db8:1::1/128", "10.0.0.2/32",
						      "10.0.0.255/32" };
		r = fib_get(locals[i]);
		assert_non_null(r);
		assert_int_equal(r->nexthop.type, NEXTHOP_LOCAL);
		assert_true(r->local);
	}
	assert_int_equal(fib_get("192.0.2.1/32")->nexthop.iface, 0);
	assert_int_equal(fib_get("10.0.0.2/32")->nexthop.iface, IFACE_NONE);
	assert_int_equal(n_fib, 9);
	assert_int_equal(rtnl_iface_addresses(0, addrs, 4), 2);
	assert_prefix(&addrs[0], "192.0.2.1/24");
	assert_prefix(&addrs[1], "2001:db8:1::1/64");
	assert_int_equal(rtnl_iface_addresses(0, addrs, 1), 2);
	/* Only neighbors on espd's TAPs. */
	assert_int_equal(n_neighs, 1);
	assert_true(neigh_has("192.0.2.2"));
	assert_true(fib_commits >= 1);
	assert_int_equal(rtnl_mirror_stats()->resyncs, 0);
}

static void test_batching(void **state)
{
	const struct rtnl_stats *stats = rtnl_mirror_stats();
	unsigned commits = fib_commits;

	(void)state;
	assert_int_equal(rtnl_mirror_next_timeout_ms(1000), -1);
	event(msg_route("192.168.1.0/24", NULL, TAP, 0, RTN_UNICAST, false));
	event(msg_route("192.168.2.0/24", NULL, TAP, 0, RTN_UNICAST, false));
	rtnl_mirror_process(1000);
	assert_null(fib_get("192.168.1.0/24"));
	assert_int_equal(rtnl_mirror_next_timeout_ms(1000), 50);
	assert_int_equal(rtnl_mirror_next_timeout_ms(1040), 10);
	rtnl_mirror_process(1049);
	assert_null(fib_get("192.168.1.0/24"));
	rtnl_mirror_process(1050);
	assert_non_null(fib_get("192.168.1.0/24"));
	assert_non_null(fib_get("192.168.2.0/24"));
	assert_int_equal(stats->batches, 1);
	assert_int_equal(fib_commits, commits + 1);
	assert_int_equal(rtnl_mirror_next_timeout_ms(1050), -1);

	/* A full batch goes at once, with one commit. */
	event(msg_route("192.168.1.0/24", NULL, TAP, 0, RTN_UNICAST, true));
	event(msg_route("192.168.2.0/24", NULL, TAP, 0, RTN_UNICAST, true));
	event(msg_route("192.168.3.0/24", NULL, OTHER, 0, RTN_UNICAST, false));
	rtnl_mirror_process(2000);
	assert_null(fib_get("192.168.1.0/24"));
	assert_null(fib_get("192.168.2.0/24"));
	assert_int_equal(fib_get("192.168.3.0/24")->nexthop.type, NEXTHOP_PUNT);
	assert_int_equal(stats->batches, 2);
	assert_int_equal(stats->largest_batch, 3);
	assert_int_equal(fib_commits, commits + 2);

	/* Neighbors alone do not commit the FIB. */
	event(msg_neigh(TAP, "192.0.2.9", NUD_STALE, false));
	event(msg_neigh(TAP, "192.0.2.2", NUD_FAILED, false));
	event(msg_neigh(OTHER, "10.0.0.9", NUD_REACHABLE, false));
	rtnl_mirror_process(3000);
	assert_true(neigh_has("192.0.2.9"));
	assert_false(neigh_has("192.0.2.2"));
	assert_false(neigh_has("10.0.0.9"));
	assert_int_equal(fib_commits, commits + 2);
	assert_int_equal(stats->rx_by_type[RTM_NEWNEIGH], 3 + 2);
	/* ... and a failed one is known as such (fib_multipath_use_neigh). */
	assert_true(neigh_bad("192.0.2.2"));
	assert_false(neigh_bad("192.0.2.9"));
	event(msg_neigh(TAP, "192.0.2.2", NUD_REACHABLE, false));
	event(msg_neigh(TAP, "192.0.2.9", NUD_INCOMPLETE, false));
	rtnl_mirror_process(4000);
	rtnl_mirror_process(4050);
	assert_false(neigh_bad("192.0.2.2"));
	assert_true(neigh_bad("192.0.2.9"));
	event(msg_neigh(TAP, "192.0.2.9", NUD_INCOMPLETE, true));
	rtnl_mirror_process(5000);
	rtnl_mirror_process(5050);
	assert_false(neigh_bad("192.0.2.9"));
}

static void test_no_delay(void **state)
{
	(void)state;
	event(msg_route("192.168.1.0/24", NULL, TAP, 0, RTN_UNICAST, false));
	rtnl_mirror_process(1000);
	assert_non_null(fib_get("192.168.1.0/24"));
}

/* The lowest metric wins; the others wait in the shadow state. */
static void test_metrics(void **state)
{
	const struct fib_route *r;

	(void)state;
	event(msg_route("198.51.100.0/24", "10.0.0.1", OTHER, 5, RTN_UNICAST, false));
	event(msg_route("198.51.100.0/24", NULL, 0, 20, RTN_UNREACHABLE, false));
	rtnl_mirror_process(1000);
	r = fib_get("198.51.100.0/24");
	assert_int_equal(r->priority, 5);
	assert_int_equal(r->nexthop.type, NEXTHOP_PUNT);
	event(msg_route("198.51.100.0/24", "10.0.0.1", OTHER, 5, RTN_UNICAST, true));
	rtnl_mirror_process(1000);
	r = fib_get("198.51.100.0/24");
	assert_int_equal(r->priority, 10);
	assert_int_equal(r->nexthop.type, NEXTHOP_FORWARD);
	event(msg_route("198.51.100.0/24", "192.0.2.2", TAP, 10, RTN_UNICAST, true));
	rtnl_mirror_process(1000);
	assert_int_equal(fib_get("198.51.100.0/24")->nexthop.type, NEXTHOP_BLACKHOLE);
	event(msg_route("198.51.100.0/24", NULL, 0, 20, RTN_UNREACHABLE, true));
	rtnl_mirror_process(1000);
	assert_null(fib_get("198.51.100.0/24"));
}

/* A route's hop limit reaches its next hop; changing only the hop limit
 * changes the FIB's route. */
static void test_hop_limit_mirrored(void **state)
{
	char buf[RTNL_MSG_SIZE];
	struct rtnl_route route = { .prefix = prefix_of("198.18.0.0/15"), .table = RT_TABLE_MAIN,
				    .type = RTN_UNICAST, .protocol = RTPROT_STATIC, .oif = TAP,
				    .n_hops = 1, .hop_limit = 9 };

	(void)state;
	event(keep(rtnl_route_to_msg(&route, buf)));
	rtnl_mirror_process(1000);
	assert_int_equal(fib_get("198.18.0.0/15")->nexthop.type, NEXTHOP_FORWARD);
	assert_int_equal(fib_get("198.18.0.0/15")->nexthop.hop_limit, 9);
	route.hop_limit = 0;
	route.replace = true;
	event(keep(rtnl_route_to_msg(&route, buf)));
	rtnl_mirror_process(1000);
	assert_int_equal(fib_get("198.18.0.0/15")->nexthop.hop_limit, 0);
}

/* A host route of a local address wins over any main-table route. */
static void test_local_beats_main(void **state)
{
	struct nlmsghdr *route = msg_route("192.0.2.1/32", "10.0.0.1", OTHER, 0, RTN_UNICAST,
					   false);

	(void)state;
	kernel_add(route);
	event(route);
	rtnl_mirror_process(1000);
	assert_int_equal(fib_get("192.0.2.1/32")->nexthop.type, NEXTHOP_LOCAL);
	/* Removing an IPv4 address makes the mirror re-read the routes. */
	kernel[k_addr] = NULL;
	event(msg_addr(TAP, "192.0.2.1", 24, "192.0.2.255", true));
	rtnl_mirror_process(1000);
	assert_int_equal(fib_get("192.0.2.1/32")->nexthop.type, NEXTHOP_PUNT);
	assert_null(fib_get("192.0.2.255/32"));
	assert_int_equal(rtnl_mirror_stats()->resyncs, 1);
}

/* IFA_BROADCAST and the subnet's all-ones address are the router's. */
static void test_broadcast(void **state)
{
	(void)state;
	event(msg_addr(TAP, "192.0.2.1", 24, "192.0.2.127", false));
	rtnl_mirror_process(1000);
	assert_int_equal(fib_get("192.0.2.127/32")->nexthop.type, NEXTHOP_LOCAL);
	assert_int_equal(fib_get("192.0.2.255/32")->nexthop.type, NEXTHOP_LOCAL);
	assert_int_equal(fib_get("192.0.2.1/32")->nexthop.type, NEXTHOP_LOCAL);
	event(msg_addr(TAP, "192.0.2.1", 24, "192.0.2.63", false));
	rtnl_mirror_process(1000);
	assert_null(fib_get("192.0.2.127/32"));
	assert_non_null(fib_get("192.0.2.63/32"));

	event(msg_addr(TAP, "198.18.0.1", 16, NULL, false));
	event(msg_addr(TAP, "198.19.0.0", 31, NULL, false));
	rtnl_mirror_process(1000);
	assert_int_equal(fib_get("198.18.255.255/32")->nexthop.type, NEXTHOP_LOCAL);
	assert_non_null(fib_get("198.19.0.0/32"));
	assert_null(fib_get("198.19.0.1/32"));
	event(msg_addr(TAP, "198.18.0.1", 16, NULL, true));
	rtnl_mirror_process(1000);
	assert_null(fib_get("198.18.255.255/32"));
	assert_null(fib_get("198.18.0.1/32"));
}

static const char *source_toward(const char *toward)
{
	static char text[IP_ADDR_STRLEN];
	struct ip_addr to = addr_of(toward), source;

	if (!iface_source_select(&iface_table.ifaces[0], &to, &source))
		return "none";
	return format_ip_addr(text, sizeof(text), &source);
}

/* The addresses workers answer ICMP from follow the kernel's. */
static void test_icmp_source(void **state)
{
	(void)state;
	assert_string_equal(source_toward("192.0.2.77"), "192.0.2.1");
	assert_string_equal(source_toward("203.0.113.9"), "192.0.2.1");
	assert_string_equal(source_toward("2001:db8:5::1"), "2001:db8:1::1");
	assert_string_equal(source_toward("fe80::1"), "none");
	size_t added = kernel_add(msg_addr(TAP, "198.18.0.1", 16, NULL, false));
	struct nlmsghdr *link_local = msg_addr(TAP, "fe80::1:2", 64, NULL, false);

	kernel_add(link_local);
	event(kernel[added]);
	event(link_local);
	rtnl_mirror_process(1000);
	assert_string_equal(source_toward("198.18.7.7"), "198.18.0.1");
	assert_string_equal(source_toward("203.0.113.9"), "192.0.2.1");
	assert_string_equal(source_toward("fe80::99"), "fe80::1:2");
	assert_string_equal(source_toward("2001:db8:5::1"), "2001:db8:1::1");
	/* Removing an IPv4 address makes the mirror re-read the kernel's. */
	kernel[k_addr] = NULL;
	event(msg_addr(TAP, "192.0.2.1", 24, "192.0.2.255", true));
	rtnl_mirror_process(1000);
	assert_string_equal(source_toward("192.0.2.77"), "198.18.0.1");
	kernel[added] = NULL;
	event(msg_addr(TAP, "198.18.0.1", 16, NULL, true));
	rtnl_mirror_process(1000);
	assert_string_equal(source_toward("192.0.2.77"), "none");
}

static bool own_has(const char *text)
{
	struct ip_addr addr = addr_of(text);

	for (size_t i = 0; i < n_own; i++)
		if (own[i] == addr.v4)
			return true;
	return false;
}

/* ip4-input's own addresses: every link's IPv4 addresses (no broadcasts,
 * no IPv6), one carried by two links until both lost it. */
static void test_own_addresses(void **state)
{
	(void)state;
	assert_int_equal(n_own, 2);
	assert_true(own_has("192.0.2.1"));
	assert_true(own_has("10.0.0.2"));
	size_t added = kernel_add(msg_addr(OTHER, "192.0.2.1", 32, NULL, false));
	event(kernel[added]);
	event(msg_addr(TAP, "198.18.0.1", 16, NULL, false));
	rtnl_mirror_process(1000);
	assert_true(own_has("198.18.0.1"));
	assert_false(own_has("198.18.255.255"));
	kernel[k_addr] = NULL;
	event(msg_addr(TAP, "192.0.2.1", 24, "192.0.2.255", true));
	rtnl_mirror_process(1000);
	assert_true(own_has("192.0.2.1"));
	kernel[added] = NULL;
	event(msg_addr(OTHER, "192.0.2.1", 32, NULL, true));
	rtnl_mirror_process(1000);
	assert_false(own_has("192.0.2.1"));
	assert_true(own_has("10.0.0.2"));
}

static void settings_event(uint8_t family, int ifindex, int32_t forwarding, int32_t rp_filter)
{
	event(msg_netconf(family, ifindex, forwarding, rp_filter));
	rtnl_mirror_process(1000);
}

/* What the kernel asks of packets arriving on a TAP: rp_filter the larger
 * of all's and the TAP's, loose taken as strict without an IPv4 address;
 * IPv4 forwarding the TAP's, IPv6's all's. ip-lookup looks only while
 * some setting asks. */
static void test_ingress_settings(void **state)
{
	const struct iface *iface = &iface_table.ifaces[0];

	(void)state;
	assert_false(iface_table.ingress_checks);
	settings_event(AF_INET, TAP, 1, 2);
	assert_int_equal(iface->rp_filter, IFACE_RP_FILTER_LOOSE);
	assert_true(iface_table.ingress_checks);
	settings_event(AF_INET, NETCONFA_IFINDEX_ALL, ABSENT, 1);
	assert_int_equal(iface->rp_filter, IFACE_RP_FILTER_LOOSE);
	kernel[k_addr] = NULL;
	event(msg_addr(TAP, "192.0.2.1", 24, "192.0.2.255", true));
	rtnl_mirror_process(1000);
	assert_int_equal(iface->rp_filter, IFACE_RP_FILTER_STRICT);
	settings_event(AF_INET, TAP, ABSENT, 0);
	assert_int_equal(iface->rp_filter, IFACE_RP_FILTER_STRICT);
	settings_event(AF_INET, NETCONFA_IFINDEX_ALL, ABSENT, 0);
	assert_int_equal(iface->rp_filter, IFACE_RP_FILTER_OFF);
	assert_false(iface_table.ingress_checks);
	settings_event(AF_INET, TAP, 0, ABSENT);
	assert_false(iface->forwarding4);
	assert_true(iface_table.ingress_checks);
	event(msg_netconf(AF_INET, TAP, 1, ABSENT));
	settings_event(AF_INET6, NETCONFA_IFINDEX_ALL, 0, ABSENT);
	assert_true(iface->forwarding4);
	assert_false(iface_table.forwarding6);
	assert_true(iface_table.ingress_checks);
	/* A TAP's own IPv6 forwarding, the defaults and other links: not asked. */
	event(msg_netconf(AF_INET6, TAP, 1, ABSENT));
	event(msg_netconf(AF_INET, NETCONFA_IFINDEX_DEFAULT, 0, 2));
	settings_event(AF_INET, OTHER, 0, 2);
	assert_false(iface_table.forwarding6);
	assert_true(iface->forwarding4);
	assert_int_equal(iface->rp_filter, IFACE_RP_FILTER_OFF);
	settings_event(AF_INET6, NETCONFA_IFINDEX_ALL, 1, ABSENT);
	assert_false(iface_table.ingress_checks);
	/* A resync takes the settings from the dump. */
	kernel_add(msg_netconf(AF_INET, TAP, 0, 1));
	rtnl_mirror_resync_request("test");
	rtnl_mirror_process(2000);
	assert_false(iface->forwarding4);
	assert_int_equal(iface->rp_filter, IFACE_RP_FILTER_STRICT);
}

static void test_link_events(void **state)
{
	(void)state;
	event(msg_link(TAP, "eth1", 9000, true));
	rtnl_mirror_process(1000);
	assert_int_equal(iface_table.ifaces[0].mtu, 9000);
	assert_true(iface_table.ifaces[0].up);
	assert_int_equal(rtnl_mirror_stats()->resyncs, 0);

	/* Setting a link down drops its IPv4 routes without RTM_DELROUTE. */
	kernel[k_route_tap] = NULL;
	kernel[k_link] = msg_link(TAP, "eth1", 9000, false);
	event(kernel[k_link]);
	rtnl_mirror_process(2000);
	assert_false(iface_table.ifaces[0].up);
	assert_int_equal(rtnl_mirror_stats()->resyncs, 1);
	assert_null(fib_get("198.51.100.0/24"));
}

/* IPv4 routes appended under one key: the first is used; deleting one
 * makes the mirror re-read which is left. */
static void test_appended_routes(void **state)
{
	char buf[RTNL_MSG_SIZE];
	struct rtnl_route route = { .prefix = prefix_of("192.168.9.0/24"), .table = RT_TABLE_MAIN,
				    .type = RTN_UNICAST, .protocol = RTPROT_STATIC, .oif = TAP,
				    .n_hops = 1 };

	(void)state;
	event(keep(rtnl_route_to_msg(&route, buf)));
	route.oif = OTHER;
	route.append = true;
	struct nlmsghdr *second = keep(rtnl_route_to_msg(&route, buf));
	kernel_add(second);
	event(second);
	rtnl_mirror_process(1000);
	assert_int_equal(fib_get("192.168.9.0/24")->nexthop.type, NEXTHOP_FORWARD);
	route.oif = TAP;
	route.append = false;
	route.del = true;
	event(keep(rtnl_route_to_msg(&route, buf)));
	rtnl_mirror_process(2000);
	assert_int_equal(rtnl_mirror_stats()->resyncs, 1);
	assert_int_equal(fib_get("192.168.9.0/24")->nexthop.type, NEXTHOP_PUNT);
}

/* Events were lost: drop the queue, dump, and sweep what the dump lacks. */
static void test_enobufs_resync(void **state)
{
	const struct rtnl_stats *stats = rtnl_mirror_stats();

	(void)state;
	event(msg_route("172.16.0.0/12", NULL, TAP, 0, RTN_UNICAST, false));
	rtnl_mirror_process(1000); /* queued, not yet due */
	kernel[k_route_tap] = NULL;
	kernel[k_neigh] = NULL;
	kernel[k_addr] = NULL;
	kernel[k_link] = NULL; /* the TAP went away too */
	kernel_add(msg_route("192.168.50.0/24", NULL, TAP, 0, RTN_UNICAST, false));
	kernel_add(msg_neigh(TAP, "192.0.2.50", NUD_PERMANENT, false));
	events_error = -ENOBUFS;
	unsigned commits = fib_commits;
	rtnl_mirror_process(1001);
	assert_int_equal(stats->enobufs, 1);
	assert_int_equal(stats->resyncs, 1);
	assert_int_equal(fib_commits, commits + 1);
	assert_null(fib_get("172.16.0.0/12"));  /* the dropped queue */
	assert_null(fib_get("198.51.100.0/24"));
	assert_null(fib_get("192.0.2.1/32"));
	assert_null(fib_get("192.0.2.255/32"));
	assert_non_null(fib_get("192.168.50.0/24"));
	assert_non_null(fib_get("0.0.0.0/0"));
	assert_non_null(fib_get("2001:db8:1::1/128"));
	assert_false(neigh_has("192.0.2.2"));
	assert_true(neigh_has("192.0.2.50"));
	struct ip_prefix addrs[4];
	assert_int_equal(rtnl_iface_addresses(0, addrs, 4), 1);
	assert_false(own_has("192.0.2.1"));
	assert_true(own_has("10.0.0.2"));
	assert_int_equal(n_fib, 7);
	assert_false(iface_table.ifaces[0].up);
	assert_int_equal(rtnl_mirror_next_timeout_ms(1001), -1);
}

/* An interrupted dump is taken again; a failing one is retried later and
 * sweeps nothing meanwhile. */
static void test_dump_failures(void **state)
{
	const struct rtnl_stats *stats = rtnl_mirror_stats();

	(void)state;
	dump_errors[1] = -EINTR;
	kernel[k_route_tap] = NULL;
	rtnl_mirror_resync_request("test");
	rtnl_mirror_process(1000);
	assert_null(fib_get("198.51.100.0/24"));
	assert_int_equal(n_dumps, 3);

	dump_errors[3] = dump_errors[4] = -EIO;
	kernel[k_neigh] = NULL;
	rtnl_mirror_resync_request("test");
	rtnl_mirror_process(2000);
	assert_true(neigh_has("192.0.2.2"));
	assert_int_equal(rtnl_mirror_next_timeout_ms(2000), 1000);
	assert_int_equal(stats->errors, 1);
	rtnl_mirror_process(2999);
	assert_true(neigh_has("192.0.2.2"));
	rtnl_mirror_process(3000); /* the next dump fails again */
	assert_true(neigh_has("192.0.2.2"));
	rtnl_mirror_process(4000);
	assert_false(neigh_has("192.0.2.2"));
	assert_int_equal(rtnl_mirror_next_timeout_ms(4000), -1);
}

/* The recordings' second hop, rr2, made espd's second interface. */
static void own_second_hop(const char *msg)
{
	struct rtnl_route route;

	assert_int_equal(rtnl_msg_to_route(load(msg), &route), 0);
	iface_table.ifaces[0].tap_ifindex = route.hops[0].oif;
	iface_table.ifaces[1].tap_ifindex = route.hops[1].oif;
	iface_table.ifaces[1].index = 1;
	snprintf(iface_table.ifaces[1].name, sizeof(iface_table.ifaces[1].name), "eth2");
	iface_table.n_ifaces = 2;
}

/* One hop of an IPv6 multipath route deleted: the rest is re-read. */
static void test_partial_multipath_delete(void **state)
{
	const struct fib_route *r;

	(void)state;
	own_second_hop("route6_multipath");
	size_t k = kernel_add(load("route6_multipath"));
	event(load("route6_multipath"));
	rtnl_mirror_process(1000);
	r = fib_get("2001:db8:77::/48");
	assert_int_equal(r->nexthop.type, NEXTHOP_FORWARD);
	assert_int_equal(r->n_paths, 2);

	struct rtnl_route route;
	assert_int_equal(rtnl_msg_to_route(load("route6_multipath"), &route), 0);
	route.gw = route.hops[1].gw;
	route.oif = route.hops[1].oif;
	route.n_hops = 1;
	memset(route.hops, 0, sizeof(route.hops));
	char buf[RTNL_MSG_SIZE];
	kernel[k] = keep(rtnl_route_to_msg(&route, buf)); /* the hop that is left */
	event(load("route6_multipath_del_hop"));
	rtnl_mirror_process(2000);
	assert_int_equal(rtnl_mirror_stats()->resyncs, 1);
	r = fib_get("2001:db8:77::/48");
	assert_int_equal(r->nexthop.type, NEXTHOP_FORWARD);
	assert_int_equal(r->nexthop.iface, 1);
	assert_int_equal(r->n_paths, 0);
}

/* ip -6 route append: IPv6 makes the new route a hop of the one under the
 * key, and its notification (NLM_F_APPEND) describes the whole multipath
 * route, where IPv4's describes a route of its own behind the first. */
static void test_ipv6_append_is_whole(void **state)
{
	struct rtnl_route route;
	char buf[RTNL_MSG_SIZE];
	const struct fib_route *r;

	(void)state;
	own_second_hop("route6_multipath_weights");
	assert_int_equal(rtnl_msg_to_route(load("route6_multipath_weights"), &route), 0);
	route.gw = route.hops[0].gw;
	route.oif = route.hops[0].oif;
	route.n_hops = 1;
	memset(route.hops, 0, sizeof(route.hops));
	event(keep(rtnl_route_to_msg(&route, buf)));
	rtnl_mirror_process(1000);
	assert_int_equal(fib_get("2001:db8:78::/48")->n_paths, 0);

	struct nlmsghdr *append = keep(load("route6_multipath_weights"));
	append->nlmsg_flags |= NLM_F_APPEND | NLM_F_CREATE;
	event(append);
	rtnl_mirror_process(2000);
	r = fib_get("2001:db8:78::/48");
	assert_int_equal(r->n_paths, 2);
	assert_int_equal(r->paths[1].weight, 5);
	assert_int_equal(rtnl_mirror_stats()->resyncs, 0);
}

/* A multipath route over espd's interfaces reaches the FIB with every hop
 * and its weight; one with a hop by an interface espd does not own is the
 * kernel's, counted. */
static void test_multipath_mirrored(void **state)
{
	const struct fib_route *r;

	(void)state;
	own_second_hop("route4_multipath_weights");
	event(load("route4_multipath_weights"));
	event(load("route6_multipath_weights"));
	rtnl_mirror_process(1000);
	r = fib_get("100.65.0.0/16");
	assert_int_equal(r->nexthop.type, NEXTHOP_FORWARD);
	assert_int_equal(r->n_paths, 2);
	assert_int_equal(r->paths[0].iface, 0);
	assert_addr(&r->paths[0].gw, "192.0.2.2");
	assert_int_equal(r->paths[0].weight, 1);
	assert_int_equal(r->paths[1].iface, 1);
	assert_addr(&r->paths[1].gw, "10.9.0.2");
	assert_int_equal(r->paths[1].weight, 3);
	r = fib_get("2001:db8:78::/48");
	assert_int_equal(r->n_paths, 2);
	assert_int_equal(r->paths[0].weight, 2);
	assert_int_equal(r->paths[1].weight, 5);
	assert_int_equal(rtnl_mirror_stats()->multipath_punted, 0);

	iface_table.n_ifaces = 1;
	event(load("route4_multipath_weights"));
	rtnl_mirror_process(2000);
	r = fib_get("100.65.0.0/16");
	assert_int_equal(r->nexthop.type, NEXTHOP_PUNT);
	assert_int_equal(r->n_paths, 0);
	assert_int_equal(rtnl_mirror_stats()->multipath_punted, 1);
}

static void test_ignore_kernel_routes(void **state)
{
	(void)state;
	assert_null(fib_get("198.51.100.0/24"));
	assert_null(fib_get("0.0.0.0/0"));
	assert_non_null(fib_get("192.0.2.1/32"));
	event(load("route4_connected"));
	rtnl_mirror_process(1000);
	assert_int_equal(fib_get("192.0.2.0/24")->nexthop.type, NEXTHOP_PUNT); /* not via the TAP */
	iface_table.ifaces[0].tap_ifindex = ifindex_of("link_up_mtu");
	event(load("route4_connected"));
	rtnl_mirror_process(1000);
	assert_int_equal(fib_get("192.0.2.0/24")->nexthop.type, NEXTHOP_FORWARD);
}

static void test_show_netlink(void **state)
{
	char buf[8192];
	struct cli_out out = { .buf = buf, .size = sizeof(buf) };

	(void)state;
	rtnl_cli_register();
	assert_string_equal(registered[0].path, "show netlink");
	assert_int_equal(registered[0].run(&out), 0);
	assert_non_null(strstr(buf, "RTM_NEWROUTE"));
	assert_non_null(strstr(buf, "routes"));
	out.len = 0;
	out.json = true;
	format_rtnl_stats(&out);
	assert_int_equal(buf[0], '{');
	assert_non_null(strstr(buf, "\"routes\": 9, "));
	assert_non_null(strstr(buf, "\"RTM_NEWLINK\": 2"));
	assert_string_equal(buf + out.len - 2, "}\n");
}

int main(int argc, char **argv)
{
	static struct rtnl_mirror_config no_delay = { .batch_size = 64, .batch_delay_ms = 0 };
	static struct rtnl_mirror_config delay_0 = { .batch_size = 1, .batch_delay_ms = 0 };
	static struct rtnl_mirror_config connected_only = { .batch_size = 1,
							    .ignore_kernel_routes = true };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_link),
		cmocka_unit_test(test_addr4_broadcast),
		cmocka_unit_test(test_addr6),
		cmocka_unit_test(test_route4_gateway),
		cmocka_unit_test(test_route4_connected_and_local),
		cmocka_unit_test(test_route6),
		cmocka_unit_test(test_route4_via6),
		cmocka_unit_test(test_route_blackhole),
		cmocka_unit_test(test_route_multipath),
		cmocka_unit_test(test_route_multipath_weights),
		cmocka_unit_test(test_route_hop_limit),
		cmocka_unit_test(test_neighbors),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_netconf),
		cmocka_unit_test(test_route_actions),
		cmocka_unit_test_setup_teardown(test_initial_dump, setup_mirror, teardown_mirror),
		cmocka_unit_test_setup_teardown(test_batching, setup_mirror, teardown_mirror),
		cmocka_unit_test_prestate_setup_teardown(test_no_delay, setup_mirror,
							 teardown_mirror, &no_delay),
		cmocka_unit_test_prestate_setup_teardown(test_metrics, setup_mirror,
							 teardown_mirror, &delay_0),
		cmocka_unit_test_prestate_setup_teardown(test_hop_limit_mirrored, setup_mirror,
							 teardown_mirror, &delay_0),
		cmocka_unit_test_prestate_setup_teardown(test_local_beats_main, setup_mirror,
							 teardown_mirror, &delay_0),
		cmocka_unit_test_prestate_setup_teardown(test_broadcast, setup_mirror,
							 teardown_mirror, &delay_0),
		cmocka_unit_test_prestate_setup_teardown(test_icmp_source, setup_mirror,
							 teardown_mirror, &delay_0),
		cmocka_unit_test_prestate_setup_teardown(test_own_addresses, setup_mirror,
							 teardown_mirror, &delay_0),
		cmocka_unit_test_prestate_setup_teardown(test_ingress_settings, setup_mirror,
							 teardown_mirror, &delay_0),
		cmocka_unit_test_prestate_setup_teardown(test_link_events, setup_mirror,
							 teardown_mirror, &delay_0),
		cmocka_unit_test_prestate_setup_teardown(test_appended_routes, setup_mirror,
							 teardown_mirror, &delay_0),
		cmocka_unit_test_setup_teardown(test_enobufs_resync, setup_mirror, teardown_mirror),
		cmocka_unit_test_prestate_setup_teardown(test_dump_failures, setup_mirror,
							 teardown_mirror, &delay_0),
		cmocka_unit_test_prestate_setup_teardown(test_partial_multipath_delete,
							 setup_mirror, teardown_mirror, &delay_0),
		cmocka_unit_test_prestate_setup_teardown(test_multipath_mirrored,
							 setup_mirror, teardown_mirror, &delay_0),
		cmocka_unit_test_prestate_setup_teardown(test_ipv6_append_is_whole,
							 setup_mirror, teardown_mirror, &delay_0),
		cmocka_unit_test_prestate_setup_teardown(test_ignore_kernel_routes, setup_mirror,
							 teardown_mirror, &connected_only),
		cmocka_unit_test_setup_teardown(test_show_netlink, setup_mirror, teardown_mirror),
	};

	if (argc > 1)
		msgs_dir = argv[1];
	return cmocka_run_group_tests_name("rtnl", tests, NULL, NULL);
}
