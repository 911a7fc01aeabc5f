/*
 * IP ACLs: `set vpp acl ip tag-name X rule N ...` (IPv4/IPv6 rules) bound
 * with `set vpp acl ip interface IF input|output acl-tag ORDER tag-name X`.
 * `set vpp acl mac ...` is dispatched to config_macip.c.
 *
 * As with VyOS `set`, the lines naming one rule merge into that rule: there
 * are no duplicate rule numbers, a rule set twice keeps the later value of
 * each leaf. Whether a rule is complete and consistent (an action, prefixes
 * of one family, ports only with tcp/udp, tcp-flags only with tcp) and
 * whether bound tags exist is checked once the whole file is read, because
 * VyOS itself prints `destination port` before `protocol`.
 */
#include "config/config.h"
#include "config/config_parse.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROTO_TCP 6
#define PROTO_UDP 17

static const struct {
	const char *name;
	int number;
} protocols[] = {
	/* Names as in /etc/protocols, which VyOS completes from; icmpv6 too. */
	{"hopopt", 0}, {"icmp", 1}, {"igmp", 2}, {"ipencap", 4}, {"tcp", 6},
	{"egp", 8}, {"udp", 17}, {"ipv6", 41}, {"ipv6-route", 43}, {"ipv6-frag", 44},
	{"rsvp", 46}, {"gre", 47}, {"esp", 50}, {"ah", 51}, {"icmpv6", 58},
	{"ipv6-icmp", 58}, {"ipv6-nonxt", 59}, {"ipv6-opts", 60}, {"ospf", 89},
	{"ipip", 94}, {"pim", 103}, {"vrrp", 112}, {"l2tp", 115}, {"sctp", 132},
};

/* Indexed by bit number, with VyOS's name "ecn" for ECE; "ece" is an alias. */
static const char *const tcp_flag_names[] = {
	"fin", "syn", "rst", "psh", "ack", "urg", "ecn", "cwr", "ece", NULL,
};

static const char *const action_names[] = {"deny", "permit", "permit-reflect", NULL};
static const char *const dir_names[] = {"input", "output", NULL};

int acl_protocol_parse(const char *text, int *protocol)
{
	if (strcmp(text, "all") == 0) {
		*protocol = ACL_PROTO_ANY;
		return 0;
	}
	for (size_t i = 0; i < sizeof(protocols) / sizeof(protocols[0]); i++) {
		if (strcmp(text, protocols[i].name) == 0) {
			*protocol = protocols[i].number;
			return 0;
		}
	}
	size_t len = strlen(text);
	if (len == 0 || len > 3 || strspn(text, "0123456789") != len || atoi(text) > 255)
		return -EINVAL;
	*protocol = atoi(text);
	return 0;
}

const char *acl_protocol_name(int protocol)
{
	if (protocol == ACL_PROTO_ANY)
		return "all";
	for (size_t i = 0; i < sizeof(protocols) / sizeof(protocols[0]); i++)
		if (protocols[i].number == protocol)
			return protocols[i].name;
	return NULL;
}

static void origin_set(struct origin *o, uint32_t line, const char *word)
{
	o->line = line;
	snprintf(o->word, sizeof(o->word), "%s", word);
}

static int cmp_acl_name(const void *key, const void *elem)
{
	return strcmp(key, ((const struct acl_draft *)elem)->list.name);
}

static int cmp_rule_number(const void *key, const void *elem)
{
	uint32_t a = *(const uint32_t *)key, b = ((const struct rule_draft *)elem)->rule.number;
	return a < b ? -1 : a > b;
}

static int cmp_binding(const void *key, const void *elem)
{
	const struct acl_binding *a = key, *b = &((const struct binding_draft *)elem)->binding;
	int c = strcmp(a->ifname, b->ifname);
	if (c)
		return c;
	if (a->dir != b->dir)
		return a->dir < b->dir ? -1 : 1;
	return a->order < b->order ? -1 : a->order > b->order;
}

/* ---- set vpp acl ip tag-name X rule N ... ---- */

static int parse_ip_tag(struct parser *p, const struct keyword *kw)
{
	const char *name;
	bool found;
	if (parser_tag_name(p, &name))
		return -EINVAL;
	size_t i = parser_bsearch(p->acls, p->n_acls, sizeof(*p->acls), name, cmp_acl_name, &found);
	if (!found) {
		struct acl_draft *d = parser_insert(p, (void **)&p->acls, &p->n_acls, &p->cap_acls,
						    sizeof(*p->acls), i);
		if (!d)
			return -ENOMEM;
		strcpy(d->list.name, name);
	}
	p->acl = &p->acls[i];
	p->obj = &p->acl->list;
	return p->pos == p->n_words ? 0 : parser_dispatch(p, kw->children);
}

static int parse_ip_rule(struct parser *p, const struct keyword *kw)
{
	struct acl_draft *acl = p->acl;
	uint32_t number;
	bool found;
	if (parser_rule_number(p, &number))
		return -EINVAL;
	size_t i = parser_bsearch(acl->rules, acl->n_rules, sizeof(*acl->rules), &number,
				  cmp_rule_number, &found);
	if (!found) {
		struct rule_draft *d = parser_insert(p, (void **)&acl->rules, &acl->n_rules,
						     &acl->cap_rules, sizeof(*acl->rules), i);
		if (!d)
			return -ENOMEM;
		d->rule.number = number;
		d->rule.line = p->line;
		d->rule.protocol = ACL_PROTO_ANY;
		d->rule.sport_hi = d->rule.dport_hi = UINT16_MAX;
	}
	p->rule = &acl->rules[i];
	p->obj = &p->rule->rule;
	return p->pos == p->n_words ? 0 : parser_dispatch(p, kw->children);
}

static int parse_action(struct parser *p, const struct keyword *kw)
{
	int rc = parser_leaf_choice(p, kw);
	if (rc == 0)
		p->rule->has_action = true;
	return rc;
}

static int parse_protocol(struct parser *p, const struct keyword *kw)
{
	const char *w = parser_value(p, "a protocol name or number 0-255");
	(void)kw;
	if (!w)
		return -EINVAL;
	if (acl_protocol_parse(w, &p->rule->rule.protocol) < 0)
		return parser_error(p, w, "unknown protocol, expected all, a name such as tcp, "
					  "udp, icmp, icmpv6, esp, ah, gre, or 0-255");
	origin_set(&p->rule->protocol, p->line, w);
	return 0;
}

/* kw->offset is 0 for source, 1 for destination. */
static int parse_prefix(struct parser *p, const struct keyword *kw)
{
	struct rule_draft *d = p->rule;
	struct ip_prefix prefix;
	const char *w;
	if (parser_prefix(p, &prefix, &w))
		return -EINVAL;
	*(kw->offset ? &d->rule.dst : &d->rule.src) = prefix;
	origin_set(kw->offset ? &d->dst : &d->src, p->line, w);
	return 0;
}

static bool port_number(const char *s, size_t len, uint16_t *port)
{
	if (len == 0 || len > 5 || strspn(s, "0123456789") < len)
		return false;
	unsigned long v = strtoul(s, NULL, 10);
	*port = (uint16_t)v;
	return v <= UINT16_MAX;
}

/* "N" or "N-M" within 0-65535. */
static int parse_port(struct parser *p, const struct keyword *kw)
{
	struct rule_draft *d = p->rule;
	uint16_t lo, hi;
	const char *w = parser_value(p, "a port or a range such as 1000-2000");
	if (!w)
		return -EINVAL;
	const char *dash = strchr(w, '-');
	size_t lo_len = dash ? (size_t)(dash - w) : strlen(w);
	if (!port_number(w, lo_len, &lo) || (dash && !port_number(dash + 1, strlen(dash + 1), &hi)))
		return parser_error(p, w, "invalid port, expected 0-65535 or a range N-M");
	if (!dash)
		hi = lo;
	if (lo > hi)
		return parser_error(p, w, "port range start greater than end");
	if (kw->offset) {
		d->rule.dport_lo = lo;
		d->rule.dport_hi = hi;
	} else {
		d->rule.sport_lo = lo;
		d->rule.sport_hi = hi;
	}
	origin_set(kw->offset ? &d->dport : &d->sport, p->line, w);
	return 0;
}

static int tcp_flag_bit(const char *w)
{
	for (int i = 0; tcp_flag_names[i]; i++)
		if (strcmp(w, tcp_flag_names[i]) == 0)
			return i == 8 ? ACL_TCP_ECE : 1 << i;
	return -1;
}

/* One or more flags; kw->offset is 0 for is-set, 1 for is-not-set. */
static int parse_tcp_flags(struct parser *p, const struct keyword *kw)
{
	struct acl_rule *r = &p->rule->rule;
	uint8_t *mine = kw->offset ? &r->tcp_flags_clear : &r->tcp_flags_set;
	uint8_t other = kw->offset ? r->tcp_flags_set : r->tcp_flags_clear;
	static const char expected[] = "one of: fin, syn, rst, psh, ack, urg, ecn, ece, cwr";
	size_t first = p->pos;

	if (!parser_value(p, expected))
		return -EINVAL;
	for (p->pos = first; p->pos < p->n_words; p->pos++) {
		const char *w = p->words[p->pos];
		int bit = tcp_flag_bit(w);
		if (bit < 0)
			return parser_error(p, w, "invalid value, expected %s", expected);
		if (other & bit)
			return parser_error(p, w, "flag is both set and not set");
		*mine |= (uint8_t)bit;
	}
	if (!p->rule->tcp_flags.line)
		origin_set(&p->rule->tcp_flags, p->line, p->words[first]);
	return 0;
}

/* ---- set vpp acl ip interface IF input|output acl-tag N tag-name X ---- */

static int parse_ip_interface(struct parser *p, const struct keyword *kw)
{
	const char *name;
	if (parser_ifname(p, &name))
		return -EINVAL;
	strcpy(p->binding.binding.ifname, name);
	return parser_dispatch(p, kw->children);
}

static int parse_dir(struct parser *p, const struct keyword *kw)
{
	p->binding.binding.dir = (enum acl_dir)kw->offset;
	return parser_dispatch(p, kw->children);
}

static int parse_acl_tag(struct parser *p, const struct keyword *kw)
{
	uint64_t v;
	const char *w = parser_value(p, "an acl-tag number 1-4294967295");
	if (!w || parser_number(p, w, 1, UINT32_MAX, &v))
		return -EINVAL;
	p->binding.binding.order = (uint32_t)v;
	return parser_dispatch(p, kw->children);
}

static int parse_ip_binding_tag(struct parser *p, const struct keyword *kw)
{
	struct acl_binding *b = &p->binding.binding;
	const char *name;
	bool found;
	(void)kw;
	if (parser_tag_name(p, &name))
		return -EINVAL;
	strcpy(b->tag, name);
	size_t i = parser_bsearch(p->bindings, p->n_bindings, sizeof(*p->bindings), b,
				  cmp_binding, &found);
	if (found) {
		const struct binding_draft *old = &p->bindings[i];
		if (strcmp(old->binding.tag, name) == 0)
			return 0;
		return parser_error(p, name,
				    "acl-tag %" PRIu32 " of %s %s is already bound to tag-name %s "
				    "(line %" PRIu32 ")",
				    b->order, b->ifname, format_acl_dir(b->dir), old->binding.tag,
				    old->line);
	}
	struct binding_draft *d = parser_insert(p, (void **)&p->bindings, &p->n_bindings,
						&p->cap_bindings, sizeof(*p->bindings), i);
	if (!d)
		return -ENOMEM;
	d->binding = *b;
	d->line = p->line;
	return 0;
}

/* ---- keyword tables ---- */

#define RULE(member) offsetof(struct acl_rule, member)

static const struct keyword source_kw[] = {
	{.name = "prefix", .parse = parse_prefix, .offset = 0},
	{.name = "port", .parse = parse_port, .offset = 0},
	{0},
};

static const struct keyword destination_kw[] = {
	{.name = "prefix", .parse = parse_prefix, .offset = 1},
	{.name = "port", .parse = parse_port, .offset = 1},
	{0},
};

static const struct keyword tcp_flags_kw[] = {
	{.name = "is-set", .parse = parse_tcp_flags, .offset = 0},
	{.name = "is-not-set", .parse = parse_tcp_flags, .offset = 1},
	{0},
};

static const struct keyword ip_rule_kw[] = {
	{.name = "action", .parse = parse_action, .offset = RULE(action), .names = action_names},
	{.name = "description", .parse = parser_leaf_text, .offset = RULE(description), .hi = CONFIG_DESCRIPTION_LEN},
	{.name = "protocol", .parse = parse_protocol},
	{.name = "source", .parse = parser_node, .children = source_kw},
	{.name = "destination", .parse = parser_node, .children = destination_kw},
	{.name = "tcp-flags", .parse = parser_node, .children = tcp_flags_kw},
	{0},
};

static const struct keyword ip_tag_kw[] = {
	{.name = "description", .parse = parser_leaf_text, .offset = offsetof(struct acl_list, description), .hi = CONFIG_DESCRIPTION_LEN},
	{.name = "rule", .parse = parse_ip_rule, .children = ip_rule_kw},
	{0},
};

static const struct keyword binding_tag_kw[] = {
	{.name = "tag-name", .parse = parse_ip_binding_tag},
	{0},
};

static const struct keyword acl_tag_kw[] = {
	{.name = "acl-tag", .parse = parse_acl_tag, .children = binding_tag_kw},
	{0},
};

static const struct keyword dir_kw[] = {
	{.name = "input", .parse = parse_dir, .children = acl_tag_kw, .offset = ACL_DIR_INPUT},
	{.name = "output", .parse = parse_dir, .children = acl_tag_kw, .offset = ACL_DIR_OUTPUT},
	{0},
};

static const struct keyword ip_kw[] = {
	{.name = "tag-name", .parse = parse_ip_tag, .children = ip_tag_kw},
	{.name = "interface", .parse = parse_ip_interface, .children = dir_kw},
	{0},
};

static const struct keyword acl_kw[] = {
	{.name = "ip", .parse = parser_node, .children = ip_kw},
	{.name = "mac", .parse = parser_node, .children = config_macip_kw},
	{.name = "macip", .parse = parser_node, .children = config_macip_kw},
	{0},
};

int config_acl_parse(struct parser *p, const struct keyword *kw)
{
	(void)kw;
	return parser_dispatch(p, acl_kw);
}

/* ---- end of file ---- */

static void check_rule(struct parser *p, const struct rule_draft *d)
{
	const struct acl_rule *r = &d->rule;
	char number[16];

	snprintf(number, sizeof(number), "%" PRIu32, r->number);
	if (!d->has_action)
		parser_defer_error(p, r->line, number, "rule has no action");
	if (d->src.line && d->dst.line && r->src.addr.family != r->dst.addr.family) {
		bool dst_later = d->dst.line > d->src.line;
		const struct origin *later = dst_later ? &d->dst : &d->src;
		const struct origin *other = dst_later ? &d->src : &d->dst;
		parser_defer_error(p, later->line, later->word,
				   "address family differs from the rule's %s prefix '%s'",
				   dst_later ? "source" : "destination", other->word);
	}
	const struct origin *port = d->sport.line ? &d->sport : NULL;
	if (d->dport.line && (!port || d->dport.line < port->line))
		port = &d->dport;
	if (port && r->protocol != PROTO_TCP && r->protocol != PROTO_UDP)
		parser_defer_error(p, port->line, port->word, "ports need protocol tcp or udp");
	if (d->tcp_flags.line && r->protocol != PROTO_TCP)
		parser_defer_error(p, d->tcp_flags.line, d->tcp_flags.word,
				   "tcp-flags need protocol tcp");
}

void config_acl_check(struct parser *p)
{
	bool found;

	for (size_t i = 0; i < p->n_acls; i++)
		for (size_t j = 0; j < p->acls[i].n_rules; j++)
			check_rule(p, &p->acls[i].rules[j]);
	for (size_t i = 0; i < p->n_bindings; i++) {
		const struct binding_draft *b = &p->bindings[i];
		parser_bsearch(p->acls, p->n_acls, sizeof(*p->acls), b->binding.tag,
			       cmp_acl_name, &found);
		if (!found)
			parser_defer_error(p, b->line, b->binding.tag, "tag-name is not defined");
	}
}

/* ---- build and free ---- */

static int build_acls(struct parser *p, struct config *cfg)
{
	if (p->n_acls && !(cfg->acls = calloc(p->n_acls, sizeof(*cfg->acls))))
		return -ENOMEM;
	for (size_t i = 0; i < p->n_acls; i++) {
		const struct acl_draft *d = &p->acls[i];
		struct acl_list *list = &cfg->acls[cfg->n_acls++];
		*list = d->list;
		if (d->n_rules && !(list->rules = calloc(d->n_rules, sizeof(*list->rules))))
			return -ENOMEM;
		for (size_t j = 0; j < d->n_rules; j++)
			list->rules[j] = d->rules[j].rule;
		list->n_rules = d->n_rules;
	}
	if (p->n_bindings && !(cfg->bindings = calloc(p->n_bindings, sizeof(*cfg->bindings))))
		return -ENOMEM;
	for (size_t i = 0; i < p->n_bindings; i++)
		cfg->bindings[i] = p->bindings[i].binding;
	cfg->n_bindings = p->n_bindings;
	return 0;
}

int config_acl_build(struct parser *p, struct config *cfg)
{
	return build_acls(p, cfg);
}

void config_acl_drafts_free(struct parser *p)
{
	for (size_t i = 0; i < p->n_acls; i++)
		free(p->acls[i].rules);
	free(p->acls);
	free(p->bindings);
}

void config_acl_free(struct config *cfg)
{
	for (size_t i = 0; i < cfg->n_acls; i++)
		free(cfg->acls[i].rules);
	free(cfg->acls);
	free(cfg->bindings);
}

/* ---- lookups and names ---- */

static int cmp_list_name(const void *key, const void *elem)
{
	return strcmp(key, ((const struct acl_list *)elem)->name);
}

const struct acl_list *config_acl_find(const struct config *cfg, const char *name)
{
	return cfg->n_acls ? bsearch(name, cfg->acls, cfg->n_acls, sizeof(*cfg->acls),
				     cmp_list_name)
			   : NULL;
}

const char *format_acl_action(enum acl_action action)
{
	return (unsigned)action <= ACL_ACTION_PERMIT_REFLECT ? action_names[action] : "unknown";
}

const char *format_acl_dir(enum acl_dir dir)
{
	return (unsigned)dir <= ACL_DIR_OUTPUT ? dir_names[dir] : "unknown";
}

const char *format_tcp_flags(char *buf, size_t size, uint8_t flags)
{
	static const char *const names[] = {"fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr"};
	size_t used = 0;
	if (size)
		buf[0] = '\0';
	for (int i = 0; i < 8; i++) {
		if (!(flags & (1 << i)) || used >= size)
			continue;
		int n = snprintf(buf + used, size - used, "%s%s", used ? "," : "", names[i]);
		if (n > 0)
			used += (size_t)n;
	}
	return buf;
}
