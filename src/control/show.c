/* `show` handlers for interfaces, routes, neighbors, errors and runtime. */
#include "control/show.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_version.h>
#include "control/ipsec_cli.h"
#include "control/rtnl.h"
#include "graph/counters.h"
#include "graph/worker.h"
#include "tables/acl.h"
#include "tables/fib.h"
#include "tables/iface.h"
#include "tables/neigh.h"

#define ADDRESSES_MAX 32

static struct port_stats port_totals(uint16_t port)
{
	struct port_stats total = { 0 };
	if (port >= RTE_MAX_ETHPORTS)
		return total;
	for (unsigned w = 0; w < n_workers; w++) {
		total.rx_packets += workers[w].ports[port].rx_packets;
		total.rx_bytes += workers[w].ports[port].rx_bytes;
		total.tx_packets += workers[w].ports[port].tx_packets;
		total.tx_bytes += workers[w].ports[port].tx_bytes;
	}
	return total;
}

static void format_interface(struct cli_out *out, const struct iface *iface, bool first)
{
	struct ip_prefix addresses[ADDRESSES_MAX];
	char mac[RTE_ETHER_ADDR_FMT_SIZE], text[IP_PREFIX_STRLEN];
	size_t n = rtnl_iface_addresses(iface->index, addresses, ADDRESSES_MAX);
	struct port_stats device = port_totals(iface->port_id), tap = port_totals(iface->tap_port_id);

	rte_ether_format_addr(mac, sizeof(mac), &iface->mac);
	if (!out->json) {
		cli_printf(out, "%-12s %-4s %-10s mtu %-5u %s device %s port %u tap port %u\n",
			   iface->name, iface->up ? "up" : "down", iface->driver, iface->mtu, mac,
			   iface->phys_name, iface->port_id, iface->tap_port_id);
		for (size_t i = 0; i < n; i++)
			cli_printf(out, "    %s\n", format_ip_prefix(text, sizeof(text), &addresses[i]));
		cli_printf(out, "    forwarding ipv4 %s ipv6 %s, rp_filter %s, send_redirects %s, "
			   "shared_media %s\n",
			   iface->forwarding4 ? "on" : "off", iface_table.forwarding6 ? "on" : "off",
			   format_iface_rp_filter(iface->rp_filter),
			   iface->send_redirects ? "on" : "off",
			   iface->shared_media ? "on" : "off");
		cli_printf(out, "    disable_policy ipv4 %s ipv6 %s, disable_xfrm %s\n",
			   iface->no_policy[0] ? "on" : "off", iface->no_policy[1] ? "on" : "off",
			   iface->no_xfrm ? "on" : "off");
		cli_printf(out, "    rx %" PRIu64 " packets %" PRIu64 " bytes, tx %" PRIu64
			   " packets %" PRIu64 " bytes, punted %" PRIu64 ", from kernel %" PRIu64 "\n",
			   device.rx_packets, device.rx_bytes, device.tx_packets, device.tx_bytes,
			   tap.tx_packets, tap.rx_packets);
		return;
	}
	cli_printf(out, "%s{\"name\": \"%s\", \"up\": %s, \"driver\": \"%s\", \"mtu\": %u, "
		   "\"mac\": \"%s\", \"device\": \"%s\", \"port\": %u, \"tap_port\": %u, "
		   "\"tap_ifindex\": %d, \"addresses\": [",
		   first ? "" : ", ", iface->name, iface->up ? "true" : "false", iface->driver,
		   iface->mtu, mac, iface->phys_name, iface->port_id, iface->tap_port_id,
		   iface->tap_ifindex);
	for (size_t i = 0; i < n; i++)
		cli_printf(out, "%s\"%s\"", i ? ", " : "",
			   format_ip_prefix(text, sizeof(text), &addresses[i]));
	cli_printf(out, "], \"forwarding4\": %s, \"forwarding6\": %s, \"rp_filter\": \"%s\"",
		   iface->forwarding4 ? "true" : "false", iface_table.forwarding6 ? "true" : "false",
		   format_iface_rp_filter(iface->rp_filter));
	cli_printf(out, ", \"send_redirects\": %s, \"shared_media\": %s",
		   iface->send_redirects ? "true" : "false",
		   iface->shared_media ? "true" : "false");
	cli_printf(out, ", \"disable_policy4\": %s, \"disable_policy6\": %s, \"disable_xfrm\": %s",
		   iface->no_policy[0] ? "true" : "false", iface->no_policy[1] ? "true" : "false",
		   iface->no_xfrm ? "true" : "false");
	cli_printf(out, ", \"rx_packets\": %" PRIu64 ", \"rx_bytes\": %" PRIu64
		   ", \"tx_packets\": %" PRIu64 ", \"tx_bytes\": %" PRIu64 ", \"punted\": %" PRIu64
		   ", \"from_kernel\": %" PRIu64 "}",
		   device.rx_packets, device.rx_bytes, device.tx_packets, device.tx_bytes,
		   tap.tx_packets, tap.rx_packets);
}

void format_interfaces(struct cli_out *out)
{
	if (out->json)
		cli_printf(out, "[");
	for (uint16_t i = 0; i < iface_table.n_ifaces; i++)
		format_interface(out, &iface_table.ifaces[i], i == 0);
	if (out->json)
		cli_printf(out, "]\n");
}

/*
 * The route and neighbor tables are hashes, walked in no order: a listing
 * is copied out and sorted first, by address as `ip route` and `ip neigh`
 * list them, so that two `show`s of one table read alike.
 */
struct listing {
	const char *what;   /* "routes": for the error */
	const char *header; /* the text listing's first line, or NULL */
	size_t size;
	int (*order)(const void *, const void *);
	void (*format)(struct cli_out *out, const void *item, bool first);
	char *items;
	size_t n, cap;
	int err;
};

static int listing_add(struct listing *list, const void *item)
{
	if (list->n == list->cap) {
		size_t cap = list->cap ? 2 * list->cap : 64;
		char *items = realloc(list->items, cap * list->size);

		if (!items) {
			list->err = -ENOMEM;
			return list->err;
		}
		list->items = items;
		list->cap = cap;
	}
	memcpy(list->items + list->n * list->size, item, list->size);
	list->n++;
	return 0;
}

static int listing_print(struct cli_out *out, struct listing *list)
{
	if (list->err) {
		free(list->items);
		return cli_error(out, list->err, "no memory to list %zu %s", list->n, list->what);
	}
	qsort(list->items, list->n, list->size, list->order);
	if (out->json)
		cli_printf(out, "[");
	else if (list->header)
		cli_printf(out, "%s\n", list->header);
	for (size_t i = 0; i < list->n; i++)
		list->format(out, list->items + i * list->size, i == 0);
	if (out->json)
		cli_printf(out, "]\n");
	free(list->items);
	return 0;
}

static int route_collect(const struct fib_route *route, void *arg)
{
	return listing_add(arg, route);
}

static int route_order(const void *a, const void *b)
{
	const struct fib_route *x = a, *y = b;

	return ip_prefix_compare(&x->prefix, &y->prefix);
}

/* A multipath route's hops as `ip route` lists them: below the route in
 * text, a "nexthops" array in JSON; a dead one says so. */
static void format_route_paths(struct cli_out *out, const struct fib_route *route)
{
	char gw[IP_ADDR_STRLEN];

	if (out->json)
		cli_printf(out, ", \"nexthops\": [");
	for (unsigned i = 0; i < route->n_paths; i++) {
		const struct fib_path *path = &route->paths[i];
		const char *ifname = iface_table.ifaces[path->iface].name;
		bool dead = path->flags & RTNH_F_DEAD;

		format_ip_addr(gw, sizeof(gw), &path->gw);
		if (out->json)
			cli_printf(out, "%s{\"interface\": \"%s\", \"gateway\": \"%s\", "
				   "\"weight\": %u, \"dead\": %s}", i ? ", " : "", ifname,
				   path->gw.family ? gw : "", path->weight,
				   dead ? "true" : "false");
		else
			cli_printf(out, "%-44s %-9s %-12s %-28s weight %u%s\n", "", "nexthop",
				   ifname, path->gw.family ? gw : "-", path->weight,
				   dead ? " dead" : "");
	}
	if (out->json)
		cli_printf(out, "]");
}

static void format_route(struct cli_out *out, const void *item, bool first)
{
	const struct fib_route *route = item;
	char prefix[IP_PREFIX_STRLEN], gw[IP_ADDR_STRLEN], hop_limit[16] = "";
	const struct nexthop *nexthop = &route->nexthop;
	bool multipath = route->n_paths > 1;
	const char *ifname = nexthop->type == NEXTHOP_FORWARD && !multipath ?
			     iface_table.ifaces[nexthop->iface].name : "-";
	bool has_gw = nexthop->gw.family && !multipath; /* a multipath route's are its hops' */

	format_ip_prefix(prefix, sizeof(prefix), &route->prefix);
	format_ip_addr(gw, sizeof(gw), &nexthop->gw);
	if (nexthop->hop_limit)
		snprintf(hop_limit, sizeof(hop_limit), " hoplimit %u", nexthop->hop_limit);
	if (out->json) {
		cli_printf(out, "%s{\"prefix\": \"%s\", \"type\": \"%s\", \"interface\": \"%s\", "
			   "\"gateway\": \"%s\", \"metric\": %u, \"hop_limit\": %u, \"protocol\": %u, "
			   "\"local\": %s",
			   first ? "" : ", ", prefix, format_nexthop_type(nexthop->type), ifname,
			   has_gw ? gw : "", route->priority, nexthop->hop_limit,
			   route->protocol, route->local ? "true" : "false");
		if (multipath)
			format_route_paths(out, route);
		cli_printf(out, "}");
		return;
	}
	cli_printf(out, "%-44s %-9s %-12s %-28s metric %u%s\n", prefix,
		   format_nexthop_type(nexthop->type), ifname,
		   has_gw ? gw : "-", route->priority, hop_limit);
	if (multipath)
		format_route_paths(out, route);
}

int format_routes(struct cli_out *out)
{
	char header[128];
	struct listing list = { .what = "routes", .header = header,
				.size = sizeof(struct fib_route), .order = route_order,
				.format = format_route };

	snprintf(header, sizeof(header), "%-44s %-9s %-12s %-28s", "prefix", "type", "interface",
		 "gateway");
	fib_route_walk(route_collect, &list);
	return listing_print(out, &list);
}

static int neighbor_collect(const struct neigh_entry *entry, void *arg)
{
	return listing_add(arg, entry);
}

/* As `ip neigh`: by interface, then address. */
static int neighbor_order(const void *a, const void *b)
{
	const struct neigh_entry *x = a, *y = b;

	if (x->iface != y->iface)
		return x->iface < y->iface ? -1 : 1;
	return ip_addr_compare(&x->addr, &y->addr);
}

static void format_neighbor(struct cli_out *out, const void *item, bool first)
{
	const struct neigh_entry *entry = item;
	char addr[IP_ADDR_STRLEN], mac[RTE_ETHER_ADDR_FMT_SIZE];
	const char *ifname = entry->iface < iface_table.n_ifaces ?
			     iface_table.ifaces[entry->iface].name : "?";

	format_ip_addr(addr, sizeof(addr), &entry->addr);
	rte_ether_format_addr(mac, sizeof(mac), &entry->mac);
	if (out->json)
		cli_printf(out, "%s{\"interface\": \"%s\", \"address\": \"%s\", "
			   "\"mac\": \"%s\", \"state\": %u}",
			   first ? "" : ", ", ifname, addr, mac, entry->state);
	else
		cli_printf(out, "%-12s %-40s %s\n", ifname, addr, mac);
}

int format_neighbors(struct cli_out *out)
{
	struct listing list = { .what = "neighbors", .size = sizeof(struct neigh_entry),
				.order = neighbor_order, .format = format_neighbor };

	neigh_walk(neighbor_collect, &list);
	return listing_print(out, &list);
}

void format_errors(struct cli_out *out)
{
	bool first = true;
	if (out->json)
		cli_printf(out, "[");
	else
		cli_printf(out, "%12s  %-16s %-5s %s\n", "count", "node", "kind", "reason");
	for (unsigned c = 0; c < ESPD_COUNTER_MAX; c++) {
		uint64_t count = counter_total(c);
		if (out->json) {
			cli_printf(out, "%s{\"node\": \"%s\", \"kind\": \"%s\", \"reason\": \"%s\", "
				   "\"count\": %" PRIu64 "}", first ? "" : ", ", counter_node(c),
				   counter_kind(c), counter_text(c), count);
			first = false;
		} else if (count) {
			cli_printf(out, "%12" PRIu64 "  %-16s %-5s %s\n", count, counter_node(c),
				   counter_kind(c), counter_text(c));
		}
	}
	if (out->json)
		cli_printf(out, "]\n");
}

void format_runtime(struct cli_out *out)
{
	struct node_runtime nodes[64];
	size_t n = workers_runtime(nodes, RTE_DIM(nodes));

	if (out->json)
		cli_printf(out, "{\"workers\": %u, \"nodes\": [", n_workers);
	else
		cli_printf(out, "workers %u\n%-20s %14s %12s %10s %12s\n", n_workers, "node",
			   "packets", "calls", "pkts/call", "cycles/pkt");
	for (size_t i = 0; i < n; i++) {
		double per_call = nodes[i].calls ? (double)nodes[i].packets / nodes[i].calls : 0;
		double cycles = nodes[i].packets ? (double)nodes[i].cycles / nodes[i].packets : 0;
		if (out->json)
			cli_printf(out, "%s{\"node\": \"%s\", \"packets\": %" PRIu64 ", \"calls\": %"
				   PRIu64 ", \"cycles\": %" PRIu64 ", \"cycles_per_packet\": %.1f}",
				   i ? ", " : "", nodes[i].name, nodes[i].packets, nodes[i].calls,
				   nodes[i].cycles, cycles);
		else
			cli_printf(out, "%-20s %14" PRIu64 " %12" PRIu64 " %10.2f %12.1f\n",
				   nodes[i].name, nodes[i].packets, nodes[i].calls, per_call, cycles);
	}
	if (out->json)
		cli_printf(out, "]}\n");
}

static int show_interfaces(struct cli_out *out)
{
	format_interfaces(out);
	return 0;
}

static int show_routes(struct cli_out *out)
{
	return format_routes(out);
}

static int show_neighbors(struct cli_out *out)
{
	return format_neighbors(out);
}

static int show_errors(struct cli_out *out)
{
	format_errors(out);
	return 0;
}

static int show_runtime(struct cli_out *out)
{
	format_runtime(out);
	return 0;
}

static int show_version(struct cli_out *out)
{
	if (out->json)
		cli_printf(out, "{\"espd\": \"%s\", \"dpdk\": \"%s\"}\n", ESPD_VERSION, rte_version());
	else
		cli_printf(out, "espd %s (%s)\n", ESPD_VERSION, rte_version());
	return 0;
}

static int clear_counters(struct cli_out *out)
{
	counters_clear();
	workers_runtime_clear();
	acl_counters_clear();
	ipsec_counters_clear(false, 0);
	if (out->json)
		cli_printf(out, "{\"cleared\": true}\n");
	return 0;
}

static const struct cli_command show_commands[] = {
	{ .path = "show interfaces", .run = show_interfaces,
	  .help = "interfaces, addresses and packet counts" },
	{ .path = "show routes", .run = show_routes, .help = "the forwarding table" },
	{ .path = "show neighbors", .run = show_neighbors, .help = "ARP and ND entries" },
	{ .path = "show errors", .run = show_errors,
	  .help = "packets dropped or punted, by reason" },
	{ .path = "show runtime", .run = show_runtime,
	  .help = "per node packets, calls and cycles per packet" },
	{ .path = "show version", .run = show_version, .help = "espd and DPDK versions" },
	{ .path = "clear counters", .run = clear_counters,
	  .help = "reset error, runtime, ACL and SA counters" },
};

void show_cli_register(void)
{
	cli_register(show_commands, RTE_DIM(show_commands));
}
