/*
 * MAC ACLs: `set vpp acl mac tag-name X rule N action|prefix|mac-address|
 * mac-mask|description` and `set vpp acl mac interface IF tag-name X`
 * (`acl macip` is the older VyOS spelling of the same node). They filter
 * on the source MAC and source IP of frames entering an interface, so there
 * is one tag per interface and no direction. Rule lines merge as in
 * config_acl.c; a rule needs an action and a bound tag must exist.
 */
#include "config/config.h"
#include "config/config_parse.h"
#include "common/hex.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const macip_action_names[] = {"deny", "permit", NULL};

static int cmp_macip_name(const void *key, const void *elem)
{
	return strcmp(key, ((const struct macip_draft *)elem)->list.name);
}

static int cmp_macip_rule_number(const void *key, const void *elem)
{
	uint32_t a = *(const uint32_t *)key, b = ((const struct macip_rule_draft *)elem)->rule.number;
	return a < b ? -1 : a > b;
}

static int cmp_macip_binding(const void *key, const void *elem)
{
	return strcmp(key, ((const struct macip_binding_draft *)elem)->binding.ifname);
}

static int parse_mac_tag(struct parser *p, const struct keyword *kw)
{
	const char *name;
	bool found;
	if (parser_tag_name(p, &name))
		return -EINVAL;
	size_t i = parser_bsearch(p->macips, p->n_macips, sizeof(*p->macips), name,
				  cmp_macip_name, &found);
	if (!found) {
		struct macip_draft *d = parser_insert(p, (void **)&p->macips, &p->n_macips,
						      &p->cap_macips, sizeof(*p->macips), i);
		if (!d)
			return -ENOMEM;
		strcpy(d->list.name, name);
	}
	p->macip = &p->macips[i];
	p->obj = &p->macip->list;
	return p->pos == p->n_words ? 0 : parser_dispatch(p, kw->children);
}

static int parse_mac_rule(struct parser *p, const struct keyword *kw)
{
	struct macip_draft *list = p->macip;
	uint32_t number;
	bool found;
	if (parser_rule_number(p, &number))
		return -EINVAL;
	size_t i = parser_bsearch(list->rules, list->n_rules, sizeof(*list->rules), &number,
				  cmp_macip_rule_number, &found);
	if (!found) {
		struct macip_rule_draft *d = parser_insert(p, (void **)&list->rules, &list->n_rules,
							   &list->cap_rules, sizeof(*list->rules), i);
		if (!d)
			return -ENOMEM;
		d->rule.number = number;
		d->rule.line = p->line;
		memset(d->rule.mac_mask, 0xff, sizeof(d->rule.mac_mask));
	}
	p->macip_rule = &list->rules[i];
	p->obj = &p->macip_rule->rule;
	return p->pos == p->n_words ? 0 : parser_dispatch(p, kw->children);
}

static int parse_mac_action(struct parser *p, const struct keyword *kw)
{
	int rc = parser_leaf_choice(p, kw);
	if (rc == 0)
		p->macip_rule->has_action = true;
	return rc;
}

static int parse_mac_prefix(struct parser *p, const struct keyword *kw)
{
	const char *w;
	(void)kw;
	return parser_prefix(p, &p->macip_rule->rule.prefix, &w);
}

/* Exactly xx:xx:xx:xx:xx:xx, as the VyOS mac-address validator takes it. */
static bool mac_parse(const char *s, uint8_t mac[6])
{
	if (strlen(s) != 17)
		return false;
	for (int i = 0; i < 6; i++) {
		int hi = hex_digit(s[i * 3]), lo = hex_digit(s[i * 3 + 1]);
		if (hi < 0 || lo < 0 || (i < 5 && s[i * 3 + 2] != ':'))
			return false;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static int parse_mac(struct parser *p, const struct keyword *kw)
{
	const char *w = parser_value(p, "a MAC address such as 00:1b:21:12:34:56");
	if (!w)
		return -EINVAL;
	if (!mac_parse(w, parser_field(p, kw)))
		return parser_error(p, w, "invalid MAC address, expected xx:xx:xx:xx:xx:xx");
	return 0;
}

static int parse_mac_interface(struct parser *p, const struct keyword *kw)
{
	const char *name;
	if (parser_ifname(p, &name))
		return -EINVAL;
	strcpy(p->binding.binding.ifname, name);
	return parser_dispatch(p, kw->children);
}

static int parse_mac_binding_tag(struct parser *p, const struct keyword *kw)
{
	const char *ifname = p->binding.binding.ifname, *name;
	bool found;
	(void)kw;
	if (parser_tag_name(p, &name))
		return -EINVAL;
	size_t i = parser_bsearch(p->macip_bindings, p->n_macip_bindings,
				  sizeof(*p->macip_bindings), ifname, cmp_macip_binding, &found);
	if (found) {
		const struct macip_binding_draft *old = &p->macip_bindings[i];
		if (strcmp(old->binding.tag, name) == 0)
			return 0;
		return parser_error(p, name,
				    "%s is already bound to mac tag-name %s (line %" PRIu32 ")",
				    ifname, old->binding.tag, old->line);
	}
	struct macip_binding_draft *d =
		parser_insert(p, (void **)&p->macip_bindings, &p->n_macip_bindings,
			      &p->cap_macip_bindings, sizeof(*p->macip_bindings), i);
	if (!d)
		return -ENOMEM;
	strcpy(d->binding.ifname, ifname);
	strcpy(d->binding.tag, name);
	d->line = p->line;
	return 0;
}

#define MRULE(member) offsetof(struct macip_rule, member)

static const struct keyword mac_rule_kw[] = {
	{.name = "action", .parse = parse_mac_action, .offset = MRULE(action), .names = macip_action_names},
	{.name = "description", .parse = parser_leaf_text, .offset = MRULE(description), .hi = CONFIG_DESCRIPTION_LEN},
	{.name = "prefix", .parse = parse_mac_prefix},
	{.name = "mac-address", .parse = parse_mac, .offset = MRULE(mac)},
	{.name = "mac-mask", .parse = parse_mac, .offset = MRULE(mac_mask)},
	{0},
};

static const struct keyword mac_tag_kw[] = {
	{.name = "description", .parse = parser_leaf_text, .offset = offsetof(struct macip_list, description), .hi = CONFIG_DESCRIPTION_LEN},
	{.name = "rule", .parse = parse_mac_rule, .children = mac_rule_kw},
	{0},
};

static const struct keyword mac_binding_kw[] = {
	{.name = "tag-name", .parse = parse_mac_binding_tag},
	{0},
};

const struct keyword config_macip_kw[] = {
	{.name = "tag-name", .parse = parse_mac_tag, .children = mac_tag_kw},
	{.name = "interface", .parse = parse_mac_interface, .children = mac_binding_kw},
	{0},
};

void config_macip_check(struct parser *p)
{
	char number[16];
	bool found;

	for (size_t i = 0; i < p->n_macips; i++) {
		for (size_t j = 0; j < p->macips[i].n_rules; j++) {
			const struct macip_rule_draft *d = &p->macips[i].rules[j];
			snprintf(number, sizeof(number), "%" PRIu32, d->rule.number);
			if (!d->has_action)
				parser_defer_error(p, d->rule.line, number, "rule has no action");
		}
	}
	for (size_t i = 0; i < p->n_macip_bindings; i++) {
		const struct macip_binding_draft *b = &p->macip_bindings[i];
		parser_bsearch(p->macips, p->n_macips, sizeof(*p->macips), b->binding.tag,
			       cmp_macip_name, &found);
		if (!found)
			parser_defer_error(p, b->line, b->binding.tag, "mac tag-name is not defined");
	}
}

int config_macip_build(struct parser *p, struct config *cfg)
{
	if (p->n_macips && !(cfg->macips = calloc(p->n_macips, sizeof(*cfg->macips))))
		return -ENOMEM;
	for (size_t i = 0; i < p->n_macips; i++) {
		const struct macip_draft *d = &p->macips[i];
		struct macip_list *list = &cfg->macips[cfg->n_macips++];
		*list = d->list;
		if (d->n_rules && !(list->rules = calloc(d->n_rules, sizeof(*list->rules))))
			return -ENOMEM;
		for (size_t j = 0; j < d->n_rules; j++)
			list->rules[j] = d->rules[j].rule;
		list->n_rules = d->n_rules;
	}
	if (p->n_macip_bindings &&
	    !(cfg->macip_bindings = calloc(p->n_macip_bindings, sizeof(*cfg->macip_bindings))))
		return -ENOMEM;
	for (size_t i = 0; i < p->n_macip_bindings; i++)
		cfg->macip_bindings[i] = p->macip_bindings[i].binding;
	cfg->n_macip_bindings = p->n_macip_bindings;
	return 0;
}

void config_macip_drafts_free(struct parser *p)
{
	for (size_t i = 0; i < p->n_macips; i++)
		free(p->macips[i].rules);
	free(p->macips);
	free(p->macip_bindings);
}

void config_macip_free(struct config *cfg)
{
	for (size_t i = 0; i < cfg->n_macips; i++)
		free(cfg->macips[i].rules);
	free(cfg->macips);
	free(cfg->macip_bindings);
}

static int cmp_macip_list_name(const void *key, const void *elem)
{
	return strcmp(key, ((const struct macip_list *)elem)->name);
}

const struct macip_list *config_macip_find(const struct config *cfg, const char *name)
{
	return cfg->n_macips ? bsearch(name, cfg->macips, cfg->n_macips, sizeof(*cfg->macips),
				       cmp_macip_list_name)
			     : NULL;
}

const char *format_mac(char *buf, size_t size, const uint8_t mac[6])
{
	snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
	return buf;
}
