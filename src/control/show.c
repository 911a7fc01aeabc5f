/* `show` handlers for interfaces, routes, neighbors, errors and runtime. */
#include "control/show.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
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
		cli_printf(out, "    forwarding ipv4 %s ipv6 %s, rp_filter %s\n",
			   iface->forwarding4 ? "on" : "off", iface_table.forwarding6 ? "on" : "off",
			   format_iface_rp_filter(iface->rp_filter));
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

struct walk_state {
	struct cli_out *out;
	bool first;
};

static int format_route(const struct fib_route *route, void *arg)
{
	struct walk_state *walk = arg;
	struct cli_out *out = walk->out;
	char prefix[IP_PREFIX_STRLEN], gw[IP_ADDR_STRLEN];
	const struct nexthop *nexthop = &route->nexthop;
	const char *ifname = nexthop->type == NEXTHOP_FORWARD ?
			     iface_table.ifaces[nexthop->iface].name : "-";

	format_ip_prefix(prefix, sizeof(prefix), &route->prefix);
	format_ip_addr(gw, sizeof(gw), &nexthop->gw);
	if (out->json)
		cli_printf(out, "%s{\"prefix\": \"%s\", \"type\": \"%s\", \"interface\": \"%s\", "
			   "\"gateway\": \"%s\", \"metric\": %u, \"protocol\": %u, \"local\": %s}",
			   walk->first ? "" : ", ", prefix, format_nexthop_type(nexthop->type), ifname,
			   nexthop->gw.family ? gw : "", route->priority, route->protocol,
			   route->local ? "true" : "false");
	else
		cli_printf(out, "%-44s %-9s %-12s %-28s metric %u\n", prefix,
			   format_nexthop_type(nexthop->type), ifname, nexthop->gw.family ? gw : "-",
			   route->priority);
	walk->first = false;
	return 0;
}

void format_routes(struct cli_out *out)
{
	struct walk_state walk = { .out = out, .first = true };
	if (out->json)
		cli_printf(out, "[");
	else
		cli_printf(out, "%-44s %-9s %-12s %-28s\n", "prefix", "type", "interface", "gateway");
	fib_route_walk(format_route, &walk);
	if (out->json)
		cli_printf(out, "]\n");
}

static int format_neighbor(const struct neigh_entry *entry, void *arg)
{
	struct walk_state *walk = arg;
	char addr[IP_ADDR_STRLEN], mac[RTE_ETHER_ADDR_FMT_SIZE];
	const char *ifname = entry->iface < iface_table.n_ifaces ?
			     iface_table.ifaces[entry->iface].name : "?";

	format_ip_addr(addr, sizeof(addr), &entry->addr);
	rte_ether_format_addr(mac, sizeof(mac), &entry->mac);
	if (walk->out->json)
		cli_printf(walk->out, "%s{\"interface\": \"%s\", \"address\": \"%s\", "
			   "\"mac\": \"%s\", \"state\": %u}",
			   walk->first ? "" : ", ", ifname, addr, mac, entry->state);
	else
		cli_printf(walk->out, "%-12s %-40s %s\n", ifname, addr, mac);
	walk->first = false;
	return 0;
}

void format_neighbors(struct cli_out *out)
{
	struct walk_state walk = { .out = out, .first = true };
	if (out->json)
		cli_printf(out, "[");
	neigh_walk(format_neighbor, &walk);
	if (out->json)
		cli_printf(out, "]\n");
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
	format_routes(out);
	return 0;
}

static int show_neighbors(struct cli_out *out)
{
	format_neighbors(out);
	return 0;
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
