/*
 * `show acl [--json]`: every IP list with its rules and per-rule packets
 * and bytes, where it is bound, each bound (interface, direction) with its
 * default-deny and session counts, the reflect sessions, and the MAC lists.
 */
#include "tables/acl_private.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "control/cli.h"

#define TEXT_LEN 64

static const char *proto_text(char *buf, size_t size, int protocol)
{
	const char *name = acl_protocol_name(protocol);
	if (name)
		return name;
	snprintf(buf, size, "%d", protocol);
	return buf;
}

static const char *prefix_text(char *buf, size_t size, const struct ip_prefix *prefix)
{
	return prefix->addr.family ? format_ip_prefix(buf, size, prefix) : "any";
}

static const char *port_text(char *buf, size_t size, uint16_t lo, uint16_t hi)
{
	if (lo == 0 && hi == UINT16_MAX)
		return "any";
	if (lo == hi)
		snprintf(buf, size, "%u", lo);
	else
		snprintf(buf, size, "%u-%u", lo, hi);
	return buf;
}

/* "syn,!ack": flags that must be set, then those that must not. */
static const char *flags_text(char *buf, size_t size, uint8_t set, uint8_t clear)
{
	char on[TEXT_LEN], off[TEXT_LEN];
	size_t used = 0;

	buf[0] = '\0';
	format_tcp_flags(on, sizeof(on), set);
	if (on[0])
		used += (size_t)snprintf(buf, size, "%s", on);
	for (int bit = 0; bit < 8 && used < size; bit++)
		if (clear & 1 << bit)
			used += (size_t)snprintf(buf + used, size - used, "%s!%s", used ? "," : "",
						 format_tcp_flags(off, sizeof(off), (uint8_t)(1 << bit)));
	return buf[0] ? buf : "-";
}

static void json_counter(struct cli_out *out, const char *name, struct acl_counter c)
{
	cli_printf(out, ", \"%s_packets\": %" PRIu64 ", \"%s_bytes\": %" PRIu64, name, c.packets,
		   name, c.bytes);
}

static void format_ip_rule(struct cli_out *out, const struct acl_tables *t,
			   const struct acl_rule *r, uint32_t counter, bool first)
{
	char number[8], src[IP_PREFIX_STRLEN], dst[IP_PREFIX_STRLEN], sport[16], dport[16];
	char flags[TEXT_LEN], set[TEXT_LEN], clear[TEXT_LEN];
	struct acl_counter c = acl_counter_total(t, &t->base->rules[counter]);

	const char *proto = proto_text(number, sizeof(number), r->protocol);
	if (!out->json) {
		cli_printf(out, "    %-6" PRIu32 " %-14s %-8s %-20s %-11s %-20s %-11s %-14s %12" PRIu64
			   " %14" PRIu64 "\n", r->number, format_acl_action(r->action), proto,
			   prefix_text(src, sizeof(src), &r->src),
			   port_text(sport, sizeof(sport), r->sport_lo, r->sport_hi),
			   prefix_text(dst, sizeof(dst), &r->dst),
			   port_text(dport, sizeof(dport), r->dport_lo, r->dport_hi),
			   flags_text(flags, sizeof(flags), r->tcp_flags_set, r->tcp_flags_clear),
			   c.packets, c.bytes);
		return;
	}
	cli_printf(out, "%s{\"number\": %" PRIu32 ", \"action\": \"%s\", \"protocol\": \"%s\", "
		   "\"source\": \"%s\", \"source_port\": \"%s\", \"destination\": \"%s\", "
		   "\"destination_port\": \"%s\", \"tcp_flags_set\": \"%s\", "
		   "\"tcp_flags_not_set\": \"%s\", \"description\": ",
		   first ? "" : ", ", r->number, format_acl_action(r->action), proto,
		   prefix_text(src, sizeof(src), &r->src),
		   port_text(sport, sizeof(sport), r->sport_lo, r->sport_hi),
		   prefix_text(dst, sizeof(dst), &r->dst),
		   port_text(dport, sizeof(dport), r->dport_lo, r->dport_hi),
		   format_tcp_flags(set, sizeof(set), r->tcp_flags_set),
		   format_tcp_flags(clear, sizeof(clear), r->tcp_flags_clear));
	cli_json_string(out, r->description);
	cli_printf(out, ", \"packets\": %" PRIu64 ", \"bytes\": %" PRIu64 "}", c.packets, c.bytes);
}

/* Where a list is bound: "r-a input acl-tag 10". */
static void format_bound(struct cli_out *out, const struct acl_tables *t, const char *tag)
{
	bool first = true;
	for (size_t i = 0; i < t->cfg.n_bindings; i++) {
		const struct acl_binding *b = &t->cfg.bindings[i];
		if (strcmp(b->tag, tag) != 0)
			continue;
		if (out->json)
			cli_printf(out, "%s{\"interface\": \"%s\", \"direction\": \"%s\", "
				   "\"order\": %" PRIu32 "}", first ? "" : ", ", b->ifname,
				   format_acl_dir(b->dir), b->order);
		else
			cli_printf(out, "  bound to %s %s acl-tag %" PRIu32 "\n", b->ifname,
				   format_acl_dir(b->dir), b->order);
		first = false;
	}
	if (first && !out->json)
		cli_printf(out, "  not bound\n");
}

static void format_ip_list(struct cli_out *out, const struct acl_tables *t,
			   const struct acl_view *view, bool first)
{
	const struct acl_list *list = view->list;

	if (out->json) {
		cli_printf(out, "%s{\"name\": ", first ? "" : ", ");
		cli_json_string(out, list->name);
		cli_printf(out, ", \"description\": ");
		cli_json_string(out, list->description);
		cli_printf(out, ", \"bound\": [");
		format_bound(out, t, list->name);
		cli_printf(out, "], \"rules\": [");
	} else {
		cli_printf(out, "ip tag-name %s%s%s%s\n", list->name, list->description[0] ? " \"" : "",
			   list->description, list->description[0] ? "\"" : "");
		format_bound(out, t, list->name);
		cli_printf(out, "    %-6s %-14s %-8s %-20s %-11s %-20s %-11s %-14s %12s %14s\n", "rule",
			   "action", "protocol", "source", "sport", "destination", "dport",
			   "tcp-flags", "packets", "bytes");
	}
	for (size_t j = 0; j < list->n_rules; j++)
		format_ip_rule(out, t, &list->rules[j], view->first_counter + (uint32_t)j, j == 0);
	if (out->json)
		cli_printf(out, "]}");
}

/* One bound (interface, direction): its lists in order and its counters. */
static void format_attach(struct cli_out *out, const struct acl_tables *t,
			  const struct acl_binding *b, size_t n, bool first)
{
	const struct iface *iface = iface_by_name(b->ifname);
	struct acl_counter deny = { 0 }, session = { 0 };

	if (iface) {
		deny = acl_counter_total(t, &t->base->deny[iface->index][b->dir]);
		session = acl_counter_total(t, &t->base->session[iface->index][b->dir]);
	}
	if (out->json)
		cli_printf(out, "%s{\"interface\": \"%s\", \"direction\": \"%s\", \"tags\": [",
			   first ? "" : ", ", b->ifname, format_acl_dir(b->dir));
	else
		cli_printf(out, "interface %s %s:", b->ifname, format_acl_dir(b->dir));
	for (size_t i = 0; i < n; i++) {
		if (out->json)
			cli_printf(out, "%s{\"order\": %" PRIu32 ", \"tag\": \"%s\"}", i ? ", " : "",
				   b[i].order, b[i].tag);
		else
			cli_printf(out, " %s(%" PRIu32 ")", b[i].tag, b[i].order);
	}
	if (out->json) {
		cli_printf(out, "]");
		json_counter(out, "default_deny", deny);
		json_counter(out, "session", session);
		cli_printf(out, "}");
	} else {
		cli_printf(out, "\n    default deny %" PRIu64 " packets %" PRIu64 " bytes, permitted by "
			   "reflect sessions %" PRIu64 " packets %" PRIu64 " bytes\n",
			   deny.packets, deny.bytes, session.packets, session.bytes);
	}
}

static void format_attaches(struct cli_out *out, const struct acl_tables *t)
{
	const struct acl_binding *b = t->cfg.bindings;
	size_t n = t->cfg.n_bindings;

	for (size_t start = 0, end; start < n; start = end) {
		for (end = start + 1; end < n && strcmp(b[end].ifname, b[start].ifname) == 0 &&
				      b[end].dir == b[start].dir; end++)
			;
		format_attach(out, t, &b[start], end - start, start == 0);
	}
}

static void format_sessions(struct cli_out *out)
{
	struct acl_session_stats s;
	acl_sessions_stats(&s);
	if (out->json)
		cli_printf(out, "{\"active\": %" PRIu64 ", \"created\": %" PRIu64 ", \"expired\": %"
			   PRIu64 ", \"table_full\": %" PRIu64 ", \"tcp_timeout_s\": %u, "
			   "\"other_timeout_s\": %u}", s.active, s.created, s.expired, s.full,
			   ACL_TCP_TIMEOUT_S, ACL_OTHER_TIMEOUT_S);
	else
		cli_printf(out, "reflect sessions: %" PRIu64 " active, %" PRIu64 " created, %" PRIu64
			   " expired, %" PRIu64 " refused (table full); idle timeout tcp %u s, "
			   "other %u s\n", s.active, s.created, s.expired, s.full,
			   ACL_TCP_TIMEOUT_S, ACL_OTHER_TIMEOUT_S);
}

static void format_mac_rule(struct cli_out *out, const struct acl_tables *t,
			    const struct macip_rule *r, uint32_t counter, bool first)
{
	char mac[18], mask[18], prefix[IP_PREFIX_STRLEN];
	struct acl_counter c = acl_counter_total(t, &t->base->rules[counter]);

	format_mac(mac, sizeof(mac), r->mac);
	format_mac(mask, sizeof(mask), r->mac_mask);
	prefix_text(prefix, sizeof(prefix), &r->prefix);
	if (out->json) {
		cli_printf(out, "%s{\"number\": %" PRIu32 ", \"action\": \"%s\", \"mac\": \"%s\", "
			   "\"mac_mask\": \"%s\", \"prefix\": \"%s\", \"description\": ",
			   first ? "" : ", ", r->number, format_acl_action(r->action), mac, mask,
			   prefix);
		cli_json_string(out, r->description);
		cli_printf(out, ", \"packets\": %" PRIu64 ", \"bytes\": %" PRIu64 "}", c.packets,
			   c.bytes);
	} else {
		cli_printf(out, "    %-6" PRIu32 " %-8s %-17s %-17s %-20s %12" PRIu64 " %14" PRIu64 "\n",
			   r->number, format_acl_action(r->action), mac, mask, prefix, c.packets,
			   c.bytes);
	}
}

static void format_mac_list(struct cli_out *out, const struct acl_tables *t,
			    const struct acl_mac_view *view, bool first)
{
	const struct macip_list *list = view->list;
	bool bound = false;

	if (out->json) {
		cli_printf(out, "%s{\"name\": ", first ? "" : ", ");
		cli_json_string(out, list->name);
		cli_printf(out, ", \"description\": ");
		cli_json_string(out, list->description);
		cli_printf(out, ", \"interfaces\": [");
	} else {
		cli_printf(out, "mac tag-name %s%s%s%s\n", list->name, list->description[0] ? " \"" : "",
			   list->description, list->description[0] ? "\"" : "");
	}
	for (size_t i = 0; i < t->cfg.n_macip_bindings; i++) {
		const struct macip_binding *b = &t->cfg.macip_bindings[i];
		if (strcmp(b->tag, list->name) != 0)
			continue;
		const struct iface *iface = iface_by_name(b->ifname);
		struct acl_counter deny = iface ? acl_counter_total(t, &t->base->mac_deny[iface->index])
						: (struct acl_counter){ 0 };
		if (out->json) {
			cli_printf(out, "%s{\"interface\": \"%s\"", bound ? ", " : "", b->ifname);
			json_counter(out, "default_deny", deny);
			cli_printf(out, "}");
		} else {
			cli_printf(out, "  bound to %s input, default deny %" PRIu64 " packets %" PRIu64
				   " bytes\n", b->ifname, deny.packets, deny.bytes);
		}
		bound = true;
	}
	if (out->json)
		cli_printf(out, "], \"rules\": [");
	else
		cli_printf(out, "%s    %-6s %-8s %-17s %-17s %-20s %12s %14s\n",
			   bound ? "" : "  not bound\n", "rule", "action", "mac", "mac-mask", "prefix",
			   "packets", "bytes");
	for (size_t j = 0; j < list->n_rules; j++)
		format_mac_rule(out, t, &list->rules[j], view->first_counter + (uint32_t)j, j == 0);
	if (out->json)
		cli_printf(out, "]}");
}

void format_acl(struct cli_out *out)
{
	const struct acl_tables *t = acl_state.current;

	if (!t) {
		cli_printf(out, out->json ? "{\"lists\": [], \"interfaces\": [], \"mac\": "
					    "{\"enforced\": true, \"lists\": []}}\n"
					  : "no ACLs\n");
		return;
	}
	if (out->json)
		cli_printf(out, "{\"lists\": [");
	for (size_t i = 0; i < t->cfg.n_acls; i++)
		format_ip_list(out, t, &t->views[i], i == 0);
	cli_printf(out, out->json ? "], \"interfaces\": [" : "");
	format_attaches(out, t);
	cli_printf(out, out->json ? "], \"sessions\": " : "");
	format_sessions(out);
	if (out->json)
		cli_printf(out, ", \"mac\": {\"enforced\": true, \"lists\": [");
	for (size_t i = 0; i < t->cfg.n_macips; i++)
		format_mac_list(out, t, &t->mac_views[i], i == 0);
	if (out->json)
		cli_printf(out, "]}}\n");
}

static int show_acl(struct cli_out *out, int argc, char **argv)
{
	(void)argv;
	if (argc)
		return cli_error(out, -EINVAL, "show acl takes no arguments");
	format_acl(out);
	return 0;
}

static const struct cli_command acl_commands[] = {
	{ "show acl", show_acl, "ACL lists and rules with packet counts, bindings, sessions" },
};

void acl_cli_register(void)
{
	cli_register(acl_commands, RTE_DIM(acl_commands));
}
