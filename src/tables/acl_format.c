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

/* A rule's matching fields as text ("any" where the rule does not care). */
struct rule_text {
	const char *proto, *src, *dst, *sport, *dport, *flags, *set, *clear;
	char proto_buf[8], src_buf[IP_PREFIX_STRLEN], dst_buf[IP_PREFIX_STRLEN];
	char sport_buf[16], dport_buf[16], flags_buf[TEXT_LEN], set_buf[TEXT_LEN],
		clear_buf[TEXT_LEN];
};

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
	char name[TEXT_LEN];
	size_t used = (size_t)snprintf(buf, size, "%s", format_tcp_flags(name, sizeof(name), set));

	for (int bit = 0; bit < 8 && used < size; bit++) {
		if (!(clear & 1 << bit))
			continue;
		format_tcp_flags(name, sizeof(name), (uint8_t)(1 << bit));
		used += (size_t)snprintf(buf + used, size - used, "%s!%s", used ? "," : "", name);
	}
	return buf[0] ? buf : "-";
}

static void rule_text_fill(struct rule_text *rt, const struct acl_rule *r)
{
	rt->proto = acl_protocol_name(r->protocol);
	if (!rt->proto) {
		snprintf(rt->proto_buf, sizeof(rt->proto_buf), "%d", r->protocol);
		rt->proto = rt->proto_buf;
	}
	rt->src = prefix_text(rt->src_buf, sizeof(rt->src_buf), &r->src);
	rt->dst = prefix_text(rt->dst_buf, sizeof(rt->dst_buf), &r->dst);
	rt->sport = port_text(rt->sport_buf, sizeof(rt->sport_buf), r->sport_lo, r->sport_hi);
	rt->dport = port_text(rt->dport_buf, sizeof(rt->dport_buf), r->dport_lo, r->dport_hi);
	rt->flags = flags_text(rt->flags_buf, sizeof(rt->flags_buf), r->tcp_flags_set,
			       r->tcp_flags_clear);
	rt->set = format_tcp_flags(rt->set_buf, sizeof(rt->set_buf), r->tcp_flags_set);
	rt->clear = format_tcp_flags(rt->clear_buf, sizeof(rt->clear_buf), r->tcp_flags_clear);
}

static void json_counter(struct cli_out *out, const char *name, struct acl_counter c)
{
	cli_printf(out, ", \"%s_packets\": %" PRIu64 ", \"%s_bytes\": %" PRIu64, name, c.packets,
		   name, c.bytes);
}

/* `, "key": "value"` with value escaped. */
static void json_field(struct cli_out *out, const char *key, const char *value)
{
	cli_printf(out, ", \"%s\": ", key);
	cli_json_string(out, value);
}

static void format_ip_rule(struct cli_out *out, const struct acl_tables *t,
			   const struct acl_rule *r, uint32_t counter, bool first)
{
	struct acl_counter c = acl_counter_total(t, &t->base->rules[counter]);
	struct rule_text rt;

	rule_text_fill(&rt, r);
	if (!out->json) {
		cli_printf(out, "    %-6" PRIu32 " %-14s %-8s %-20s %-11s %-20s %-11s %-14s",
			   r->number, format_acl_action(r->action), rt.proto, rt.src, rt.sport,
			   rt.dst, rt.dport, rt.flags);
		cli_printf(out, " %12" PRIu64 " %14" PRIu64 "\n", c.packets, c.bytes);
		return;
	}
	cli_printf(out, "%s{\"number\": %" PRIu32 ", \"action\": \"%s\", \"protocol\": \"%s\", "
		   "\"source\": \"%s\", \"source_port\": \"%s\", \"destination\": \"%s\", "
		   "\"destination_port\": \"%s\", \"tcp_flags_set\": \"%s\", "
		   "\"tcp_flags_not_set\": \"%s\"", first ? "" : ", ", r->number,
		   format_acl_action(r->action), rt.proto, rt.src, rt.sport, rt.dst, rt.dport,
		   rt.set, rt.clear);
	json_field(out, "description", r->description);
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
		if (out->json) {
			cli_printf(out, "%s{\"interface\": ", first ? "" : ", ");
			cli_json_string(out, b->ifname);
			cli_printf(out, ", \"direction\": \"%s\", \"order\": %" PRIu32 "}",
				   format_acl_dir(b->dir), b->order);
		} else {
			cli_printf(out, "  bound to %s %s acl-tag %" PRIu32 "\n", b->ifname,
				   format_acl_dir(b->dir), b->order);
		}
		first = false;
	}
	if (first && !out->json)
		cli_printf(out, "  not bound\n");
}

/* The head of a list: name and description. */
static void format_list_head(struct cli_out *out, const char *kind, const char *name,
			     const char *description, bool first)
{
	if (out->json) {
		cli_printf(out, "%s{\"name\": ", first ? "" : ", ");
		cli_json_string(out, name);
		json_field(out, "description", description);
	} else if (description[0]) {
		cli_printf(out, "%s tag-name %s \"%s\"\n", kind, name, description);
	} else {
		cli_printf(out, "%s tag-name %s\n", kind, name);
	}
}

static void format_ip_list(struct cli_out *out, const struct acl_tables *t,
			   const struct acl_view *view, bool first)
{
	const struct acl_list *list = view->list;

	format_list_head(out, "ip", list->name, list->description, first);
	if (out->json)
		cli_printf(out, ", \"bound\": [");
	format_bound(out, t, list->name);
	if (out->json)
		cli_printf(out, "], \"rules\": [");
	else
		cli_printf(out, "    %-6s %-14s %-8s %-20s %-11s %-20s %-11s %-14s %12s %14s\n",
			   "rule", "action", "protocol", "source", "sport", "destination", "dport",
			   "tcp-flags", "packets", "bytes");
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
	if (out->json) {
		cli_printf(out, "%s{\"interface\": ", first ? "" : ", ");
		cli_json_string(out, b->ifname);
		cli_printf(out, ", \"direction\": \"%s\", \"tags\": [", format_acl_dir(b->dir));
	} else {
		cli_printf(out, "interface %s %s:", b->ifname, format_acl_dir(b->dir));
	}
	for (size_t i = 0; i < n; i++) {
		if (out->json) {
			cli_printf(out, "%s{\"order\": %" PRIu32 ", \"tag\": ", i ? ", " : "",
				   b[i].order);
			cli_json_string(out, b[i].tag);
			cli_printf(out, "}");
		} else {
			cli_printf(out, " %s(%" PRIu32 ")", b[i].tag, b[i].order);
		}
	}
	if (!out->json) {
		cli_printf(out, "\n    default deny %" PRIu64 " packets %" PRIu64 " bytes, "
			   "permitted by reflect sessions %" PRIu64 " packets %" PRIu64 " bytes\n",
			   deny.packets, deny.bytes, session.packets, session.bytes);
		return;
	}
	cli_printf(out, "]");
	json_counter(out, "default_deny", deny);
	json_counter(out, "session", session);
	cli_printf(out, "}");
}

static void format_attaches(struct cli_out *out, const struct acl_tables *t)
{
	const struct acl_binding *b = t->cfg.bindings;
	size_t n = t->cfg.n_bindings;

	/* Bindings are sorted by interface, direction, acl-tag. */
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
		cli_printf(out, "reflect sessions: %" PRIu64 " active, %" PRIu64 " created, %"
			   PRIu64 " expired, %" PRIu64 " refused (table full); idle timeout "
			   "tcp %u s, other %u s\n", s.active, s.created, s.expired, s.full,
			   ACL_TCP_TIMEOUT_S, ACL_OTHER_TIMEOUT_S);
}

static void format_mac_rule(struct cli_out *out, const struct acl_tables *t,
			    const struct macip_rule *r, uint32_t counter, bool first)
{
	char mac[18], mask[18], prefix_buf[IP_PREFIX_STRLEN];
	struct acl_counter c = acl_counter_total(t, &t->base->rules[counter]);
	const char *prefix = prefix_text(prefix_buf, sizeof(prefix_buf), &r->prefix);

	format_mac(mac, sizeof(mac), r->mac);
	format_mac(mask, sizeof(mask), r->mac_mask);
	if (!out->json) {
		cli_printf(out, "    %-6" PRIu32 " %-8s %-17s %-17s %-20s %12" PRIu64 " %14" PRIu64
			   "\n", r->number, format_acl_action(r->action), mac, mask, prefix,
			   c.packets, c.bytes);
		return;
	}
	cli_printf(out, "%s{\"number\": %" PRIu32 ", \"action\": \"%s\", \"mac\": \"%s\", "
		   "\"mac_mask\": \"%s\", \"prefix\": \"%s\"", first ? "" : ", ", r->number,
		   format_acl_action(r->action), mac, mask, prefix);
	json_field(out, "description", r->description);
	cli_printf(out, ", \"packets\": %" PRIu64 ", \"bytes\": %" PRIu64 "}", c.packets, c.bytes);
}

/* The interfaces a MAC list is bound to, with their default-deny counts. */
static bool format_mac_bound(struct cli_out *out, const struct acl_tables *t, const char *tag)
{
	bool bound = false;

	for (size_t i = 0; i < t->cfg.n_macip_bindings; i++) {
		const struct macip_binding *b = &t->cfg.macip_bindings[i];
		const struct iface *iface = iface_by_name(b->ifname);
		struct acl_counter deny = { 0 };
		if (strcmp(b->tag, tag) != 0)
			continue;
		if (iface)
			deny = acl_counter_total(t, &t->base->mac_deny[iface->index]);
		if (out->json) {
			cli_printf(out, "%s{\"interface\": ", bound ? ", " : "");
			cli_json_string(out, b->ifname);
			json_counter(out, "default_deny", deny);
			cli_printf(out, "}");
		} else {
			cli_printf(out, "  bound to %s input, default deny %" PRIu64 " packets %"
				   PRIu64 " bytes\n", b->ifname, deny.packets, deny.bytes);
		}
		bound = true;
	}
	return bound;
}

static void format_mac_list(struct cli_out *out, const struct acl_tables *t,
			    const struct acl_mac_view *view, bool first)
{
	const struct macip_list *list = view->list;

	format_list_head(out, "mac", list->name, list->description, first);
	if (out->json)
		cli_printf(out, ", \"interfaces\": [");
	bool bound = format_mac_bound(out, t, list->name);
	if (out->json)
		cli_printf(out, "], \"rules\": [");
	else
		cli_printf(out, "%s    %-6s %-8s %-17s %-17s %-20s %12s %14s\n",
			   bound ? "" : "  not bound\n", "rule", "action", "mac", "mac-mask",
			   "prefix", "packets", "bytes");
	for (size_t j = 0; j < list->n_rules; j++)
		format_mac_rule(out, t, &list->rules[j], view->first_counter + (uint32_t)j, j == 0);
	if (out->json)
		cli_printf(out, "]}");
}

void format_acl(struct cli_out *out)
{
	const struct acl_tables *t = acl_state.current;

	if (!t) {
		cli_printf(out, "%s", out->json ? "{\"lists\": [], \"interfaces\": [], \"mac\": "
						  "{\"enforced\": true, \"lists\": []}}\n"
						: "no ACLs\n");
		return;
	}
	if (out->json)
		cli_printf(out, "{\"lists\": [");
	for (size_t i = 0; i < t->cfg.n_acls; i++)
		format_ip_list(out, t, &t->views[i], i == 0);
	if (out->json)
		cli_printf(out, "], \"interfaces\": [");
	format_attaches(out, t);
	if (out->json)
		cli_printf(out, "], \"sessions\": ");
	format_sessions(out);
	if (out->json)
		cli_printf(out, ", \"mac\": {\"enforced\": true, \"lists\": [");
	else if (t->cfg.n_macips)
		cli_printf(out, "mac ACLs (enforced on input, first match, no match denies):\n");
	for (size_t i = 0; i < t->cfg.n_macips; i++)
		format_mac_list(out, t, &t->mac_views[i], i == 0);
	if (out->json)
		cli_printf(out, "]}}\n");
}

static int show_acl(struct cli_out *out)
{
	format_acl(out);
	return 0;
}

static const struct cli_command acl_commands[] = {
	{ .path = "show acl", .run = show_acl,
	  .help = "ACL lists and rules with packet counts, bindings, sessions" },
};

void acl_cli_register(void)
{
	cli_register(acl_commands, RTE_DIM(acl_commands));
}
