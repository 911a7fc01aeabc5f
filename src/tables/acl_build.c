/*
 * Building one generation of ACL tables from the config, off the fast
 * path: a private copy of the lists (for show), counter slots per rule,
 * and for every (interface, direction) with lists, and every interface with
 * a MAC list, one rte_acl context per address family over the combined
 * rule list. Rule i of the combined list gets priority MAX - i, so the
 * highest priority match is the first match, and userdata i + 1. When
 * rules of a family name ports or TCP flags, a second context holds the
 * same rules on protocol and addresses only, for non-first fragments.
 */
#include "tables/acl_private.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <rte_byteorder.h>
#include <rte_errno.h>

/* Field order of IP rules: protocol, flags word, ports, then addresses. */
enum { IP_PROTO, IP_FLAGS, IP_SPORT, IP_DPORT, IP_ADDRS };
/* Field order of the rules for non-first fragments: protocol, addresses. */
enum { LATER_PROTO, LATER_ADDRS };
/* Field order of MAC rules: the dummy first byte, the MAC, the source. */
enum { MAC_FIRST, MAC_HI, MAC_LO, MAC_ADDRS };

struct layout {
	struct rte_acl_field_def defs[RTE_ACL_MAX_FIELDS];
	unsigned n;
};

struct rule_buf {
	uint8_t *rules;
	uint32_t n, size;     /* size: bytes of one rule */
};

static unsigned addr_words(unsigned fam)
{
	return fam == ACL_FAM_IP4 ? 1 : 4;
}

static int family_of(unsigned fam)
{
	return fam == ACL_FAM_IP4 ? AF_INET : AF_INET6;
}

static void field_add(struct layout *l, uint8_t type, uint8_t size, uint32_t offset,
		      uint32_t input)
{
	l->defs[l->n] = (struct rte_acl_field_def){
		.type = type, .size = size, .field_index = (uint8_t)l->n,
		.input_index = (uint8_t)input, .offset = offset,
	};
	l->n++;
}

/* Source then destination address words, from input index input on. */
static void addr_layout(struct layout *l, unsigned words, unsigned input)
{
	for (unsigned k = 0; k < words; k++)
		field_add(l, RTE_ACL_FIELD_TYPE_MASK, 4, offsetof(struct acl_key, src) + 4 * k,
			  input + k);
	for (unsigned k = 0; k < words; k++)
		field_add(l, RTE_ACL_FIELD_TYPE_MASK, 4, offsetof(struct acl_key, dst) + 4 * k,
			  input + words + k);
}

/* rte_acl reads four bytes per input index, after a first one-byte field. */
static void ip_layout(struct layout *l, unsigned words)
{
	l->n = 0;
	field_add(l, RTE_ACL_FIELD_TYPE_BITMASK, 1, offsetof(struct acl_key, proto), 0);
	field_add(l, RTE_ACL_FIELD_TYPE_BITMASK, 4, offsetof(struct acl_key, tcp_flags), 1);
	field_add(l, RTE_ACL_FIELD_TYPE_RANGE, 2, offsetof(struct acl_key, sport), 2);
	field_add(l, RTE_ACL_FIELD_TYPE_RANGE, 2, offsetof(struct acl_key, dport), 2);
	addr_layout(l, words, 3);
}

/* The same key read without the flags word and ports: a shorter trie. */
static void later_layout(struct layout *l, unsigned words)
{
	l->n = 0;
	field_add(l, RTE_ACL_FIELD_TYPE_BITMASK, 1, offsetof(struct acl_key, proto), 0);
	addr_layout(l, words, 1);
}

static void mac_layout(struct layout *l, unsigned words)
{
	l->n = 0;
	field_add(l, RTE_ACL_FIELD_TYPE_BITMASK, 1, offsetof(struct acl_mac_key, first), 0);
	field_add(l, RTE_ACL_FIELD_TYPE_BITMASK, 4, offsetof(struct acl_mac_key, mac), 1);
	field_add(l, RTE_ACL_FIELD_TYPE_BITMASK, 4, offsetof(struct acl_mac_key, mac) + 4, 2);
	for (unsigned k = 0; k < words; k++)
		field_add(l, RTE_ACL_FIELD_TYPE_MASK, 4, offsetof(struct acl_mac_key, src) + 4 * k,
			  3 + k);
}

static struct rte_acl_rule *rule_at(const struct rule_buf *buf, uint32_t i)
{
	return (struct rte_acl_rule *)(buf->rules + (size_t)i * buf->size);
}

/* rte_acl takes rule values in host order, most significant byte first
 * against the input; MASK fields take a prefix length. */
static void prefix_fields(struct rte_acl_field *f, const struct ip_prefix *p, unsigned words)
{
	for (unsigned k = 0; k < words; k++) {
		int len = p->addr.family ? RTE_MIN(RTE_MAX((int)p->len - 32 * (int)k, 0), 32) : 0;
		uint32_t word;
		memcpy(&word, p->addr.bytes + 4 * k, sizeof(word));
		f[k].value.u32 = len ? rte_be_to_cpu_32(word) : 0;
		f[k].mask_range.u32 = (uint32_t)len;
	}
}

/* The rule names ports or TCP flags, which only a transport header has. */
static bool names_l4(const struct acl_rule *r)
{
	return r->sport_lo || r->sport_hi != UINT16_MAX || r->dport_lo ||
	       r->dport_hi != UINT16_MAX || r->tcp_flags_set || r->tcp_flags_clear;
}

static void proto_field(struct rte_acl_field *f, const struct acl_rule *r)
{
	f->value.u8 = r->protocol == ACL_PROTO_ANY ? 0 : (uint8_t)r->protocol;
	f->mask_range.u8 = r->protocol == ACL_PROTO_ANY ? 0 : 0xff;
}

static void ip_rule_fields(struct rte_acl_field *f, const struct acl_rule *r, unsigned words)
{
	uint32_t l4 = names_l4(r) ? ACL_KEY_L4 : 0;

	proto_field(&f[IP_PROTO], r);
	/* The flags word is tcp_flags, parsed, two zero bytes (acl_key). */
	f[IP_FLAGS].value.u32 = (uint32_t)r->tcp_flags_set << 24 | l4 << 16;
	f[IP_FLAGS].mask_range.u32 =
		(uint32_t)(r->tcp_flags_set | r->tcp_flags_clear) << 24 | l4 << 16;
	f[IP_SPORT].value.u16 = r->sport_lo;
	f[IP_SPORT].mask_range.u16 = r->sport_hi;
	f[IP_DPORT].value.u16 = r->dport_lo;
	f[IP_DPORT].mask_range.u16 = r->dport_hi;
	prefix_fields(&f[IP_ADDRS], &r->src, words);
	prefix_fields(&f[IP_ADDRS + words], &r->dst, words);
}

/* The rule as a non-first fragment sees it: ports and TCP flags ignored,
 * as the acl-plugin does with l4-match-nonfirst-fragment (its default). */
static void later_rule_fields(struct rte_acl_field *f, const struct acl_rule *r, unsigned words)
{
	proto_field(&f[LATER_PROTO], r);
	prefix_fields(&f[LATER_ADDRS], &r->src, words);
	prefix_fields(&f[LATER_ADDRS + words], &r->dst, words);
}

static uint32_t be_word(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void mac_rule_fields(struct rte_acl_field *f, const struct macip_rule *r, unsigned words)
{
	uint8_t value[8] = { 0 }, mask[8] = { 0 };

	for (int i = 0; i < 6; i++) {
		value[i] = r->mac[i] & r->mac_mask[i];
		mask[i] = r->mac_mask[i];
	}
	f[MAC_FIRST].value.u8 = 0;
	f[MAC_FIRST].mask_range.u8 = 0;
	f[MAC_HI].value.u32 = be_word(value);
	f[MAC_HI].mask_range.u32 = be_word(mask);
	f[MAC_LO].value.u32 = be_word(value + 4);
	f[MAC_LO].mask_range.u32 = be_word(mask + 4);
	prefix_fields(&f[MAC_ADDRS], &r->prefix, words);
}

static bool fits_family(const struct ip_prefix *p, unsigned fam)
{
	return p->addr.family == 0 || p->addr.family == family_of(fam);
}

static void rule_data(struct rte_acl_rule *rule, uint32_t index)
{
	rule->data.category_mask = 1;
	rule->data.priority = (int32_t)(RTE_ACL_MAX_PRIORITY - index);
	rule->data.userdata = index + 1;
}

static int ctx_build(const struct layout *l, const struct rule_buf *buf, struct rte_acl_ctx **out)
{
	static uint32_t seq;
	char name[RTE_ACL_NAMESIZE];
	struct rte_acl_config config = { .num_categories = 1, .num_fields = l->n };
	int rc;

	*out = NULL;
	if (buf->n == 0)
		return 0;
	/* rte_acl_create hands back an existing context of the same name. */
	snprintf(name, sizeof(name), "espd-acl-%" PRIu32, ++seq);
	struct rte_acl_param param = {
		.name = name, .socket_id = SOCKET_ID_ANY,
		.rule_size = buf->size, .max_rule_num = buf->n,
	};
	struct rte_acl_ctx *ctx = rte_acl_create(&param);
	if (!ctx)
		return rte_errno ? -rte_errno : -ENOMEM;
	memcpy(config.defs, l->defs, sizeof(config.defs[0]) * l->n);
	rc = rte_acl_add_rules(ctx, (const struct rte_acl_rule *)buf->rules, buf->n);
	if (rc == 0)
		rc = rte_acl_build(ctx, &config);
	if (rc < 0) {
		rte_acl_free(ctx);
		return rc;
	}
	*out = ctx;
	return 0;
}

/* Room for max_rules rules of each family; fields(words) fields each. */
static int bufs_init(struct rule_buf bufs[2], unsigned (*fields)(unsigned words),
		     uint32_t max_rules)
{
	for (unsigned fam = ACL_FAM_IP4; fam <= ACL_FAM_IP6; fam++) {
		bufs[fam].n = 0;
		bufs[fam].size = (uint32_t)RTE_ACL_RULE_SZ(fields(addr_words(fam)));
		bufs[fam].rules = calloc(max_rules ? max_rules : 1, bufs[fam].size);
		if (!bufs[fam].rules)
			return -ENOMEM;
	}
	return 0;
}

static unsigned ip_fields(unsigned words)
{
	return IP_ADDRS + 2 * words;
}

static unsigned later_fields(unsigned words)
{
	return LATER_ADDRS + 2 * words;
}

static unsigned mac_fields(unsigned words)
{
	return MAC_ADDRS + words;
}

static int error_set(char *err, size_t err_size, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int error_set(char *err, size_t err_size, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, err_size, fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- the config copy and counters ---- */

/* A copy of n elements (at least one is allocated), or NULL. */
static void *dup_array(const void *src, size_t n, size_t size)
{
	void *copy = calloc(n ? n : 1, size);
	if (copy && n)
		memcpy(copy, src, n * size);
	return copy;
}

static int copy_acls(struct config *dst, const struct config *src)
{
	if (!(dst->acls = dup_array(src->acls, src->n_acls, sizeof(*dst->acls))))
		return -ENOMEM;
	for (; dst->n_acls < src->n_acls; dst->n_acls++) {
		struct acl_list *list = &dst->acls[dst->n_acls];
		if (!(list->rules = dup_array(list->rules, list->n_rules, sizeof(*list->rules))))
			return -ENOMEM;
	}
	dst->bindings = dup_array(src->bindings, src->n_bindings, sizeof(*dst->bindings));
	dst->n_bindings = src->n_bindings;
	return dst->bindings ? 0 : -ENOMEM;
}

static int copy_macips(struct config *dst, const struct config *src)
{
	if (!(dst->macips = dup_array(src->macips, src->n_macips, sizeof(*dst->macips))))
		return -ENOMEM;
	for (; dst->n_macips < src->n_macips; dst->n_macips++) {
		struct macip_list *list = &dst->macips[dst->n_macips];
		if (!(list->rules = dup_array(list->rules, list->n_rules, sizeof(*list->rules))))
			return -ENOMEM;
	}
	dst->macip_bindings = dup_array(src->macip_bindings, src->n_macip_bindings,
					sizeof(*dst->macip_bindings));
	dst->n_macip_bindings = src->n_macip_bindings;
	return dst->macip_bindings ? 0 : -ENOMEM;
}

static struct acl_row *row_alloc(uint32_t n_counters)
{
	size_t size = acl_row_size(n_counters);
	struct acl_row *row = aligned_alloc(RTE_CACHE_LINE_SIZE, size);
	if (row)
		memset(row, 0, size);
	return row;
}

/* Counter slots: the rules of every IP list, then of every MAC list. */
static int counters_assign(struct acl_tables *t)
{
	uint32_t n = 0;

	t->views = calloc(t->cfg.n_acls + 1, sizeof(*t->views));
	t->mac_views = calloc(t->cfg.n_macips + 1, sizeof(*t->mac_views));
	if (!t->views || !t->mac_views)
		return -ENOMEM;
	for (size_t i = 0; i < t->cfg.n_acls; i++) {
		t->views[i] = (struct acl_view){ &t->cfg.acls[i], n };
		n += (uint32_t)t->cfg.acls[i].n_rules;
	}
	for (size_t i = 0; i < t->cfg.n_macips; i++) {
		t->mac_views[i] = (struct acl_mac_view){ &t->cfg.macips[i], n };
		n += (uint32_t)t->cfg.macips[i].n_rules;
	}
	t->n_counters = n;
	if (!(t->base = row_alloc(n)))
		return -ENOMEM;
	for (unsigned w = 0; w < acl_state.n_workers; w++)
		if (!(t->rows[w] = row_alloc(n)))
			return -ENOMEM;
	return 0;
}

/* ---- IP bindings ---- */

static const struct acl_view *view_find(const struct acl_tables *t, const char *tag)
{
	for (size_t i = 0; i < t->cfg.n_acls; i++)
		if (strcmp(t->cfg.acls[i].name, tag) == 0)
			return &t->views[i];
	return NULL;
}

/* The rule sets of one (interface, direction) being built, by family. */
struct ip_sets {
	struct rule_buf whole[2];  /* for ctx */
	struct rule_buf later[2];  /* for later_ctx */
	bool l4[2];                /* a rule of the family names ports or TCP flags */
};

/* Append a list's rules to an attachment and to the family rule sets. */
static void ip_rules_add(struct acl_attach *att, struct ip_sets *sets,
			 const struct acl_view *view)
{
	for (size_t j = 0; j < view->list->n_rules; j++) {
		const struct acl_rule *r = &view->list->rules[j];
		uint32_t index = att->n_slots++;
		att->slots[index] = (struct acl_slot){ view->first_counter + (uint32_t)j,
						       (uint8_t)r->action };
		att->reflect |= r->action == ACL_ACTION_PERMIT_REFLECT;
		for (unsigned fam = ACL_FAM_IP4; fam <= ACL_FAM_IP6; fam++) {
			if (!fits_family(&r->src, fam) || !fits_family(&r->dst, fam))
				continue;
			struct rte_acl_rule *rule = rule_at(&sets->whole[fam], sets->whole[fam].n++);
			rule_data(rule, index);
			ip_rule_fields(rule->field, r, addr_words(fam));
			rule = rule_at(&sets->later[fam], sets->later[fam].n++);
			rule_data(rule, index);
			later_rule_fields(rule->field, r, addr_words(fam));
			sets->l4[fam] |= names_l4(r);
		}
	}
}

/* The contexts of one family. Without rules naming ports or TCP flags a
 * non-first fragment matches exactly what the full context says, so that
 * context serves both and no memory is spent on a second one. */
static int ip_family_build(struct acl_attach *att, const struct ip_sets *sets, unsigned fam)
{
	struct layout layout;
	int rc;

	ip_layout(&layout, addr_words(fam));
	if ((rc = ctx_build(&layout, &sets->whole[fam], &att->ctx[fam])) < 0)
		return rc;
	if (!sets->l4[fam]) {
		att->later_ctx[fam] = att->ctx[fam];
		return 0;
	}
	later_layout(&layout, addr_words(fam));
	return ctx_build(&layout, &sets->later[fam], &att->later_ctx[fam]);
}

static void ip_sets_free(struct ip_sets *sets)
{
	for (unsigned fam = ACL_FAM_IP4; fam <= ACL_FAM_IP6; fam++) {
		free(sets->whole[fam].rules);
		free(sets->later[fam].rules);
	}
}

/* The bindings b[0..n) of one (interface, direction), in acl-tag order,
 * as one combined list. */
static int ip_attach_build(struct acl_tables *t, struct acl_attach *att,
			   const struct acl_binding *b, size_t n, char *err, size_t err_size)
{
	const struct acl_view *views[n];
	struct ip_sets sets = { 0 };
	uint32_t total = 0;
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		if (!(views[i] = view_find(t, b[i].tag)))
			return error_set(err, err_size, -EINVAL,
					 "acl ip interface %s: tag-name %s is not defined",
					 b[i].ifname, b[i].tag);
		total += (uint32_t)views[i]->list->n_rules;
	}
	att->slots = calloc(total ? total : 1, sizeof(*att->slots));
	if (!att->slots || bufs_init(sets.whole, ip_fields, total) < 0 ||
	    bufs_init(sets.later, later_fields, total) < 0) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		ip_rules_add(att, &sets, views[i]);
	for (unsigned fam = ACL_FAM_IP4; fam <= ACL_FAM_IP6 && rc == 0; fam++)
		rc = ip_family_build(att, &sets, fam);
out:
	if (rc < 0)
		error_set(err, err_size, rc,
			  "acl ip interface %s %s: cannot build the classifier: %s", b[0].ifname,
			  format_acl_dir(b[0].dir), strerror(-rc));
	ip_sets_free(&sets);
	return rc;
}

static int ip_bindings_build(struct acl_tables *t, char *err, size_t err_size)
{
	const struct acl_binding *b = t->cfg.bindings;
	size_t n = t->cfg.n_bindings;

	/* Bindings are sorted by interface, direction, acl-tag. */
	for (size_t start = 0, end; start < n; start = end) {
		for (end = start + 1; end < n && strcmp(b[end].ifname, b[start].ifname) == 0 &&
				      b[end].dir == b[start].dir; end++)
			;
		const struct iface *iface = iface_by_name(b[start].ifname);
		if (!iface)
			return error_set(err, err_size, -ENODEV,
					 "acl ip interface %s: not an interface espd owns "
					 "(add `set vpp settings interface %s driver ...`)",
					 b[start].ifname, b[start].ifname);
		int rc = ip_attach_build(t, &t->ip[iface->index][b[start].dir], &b[start],
					 end - start, err, err_size);
		if (rc < 0)
			return rc;
		t->ip_active[b[start].dir] |= 1u << iface->index;
	}
	/* Sessions of an interface are looked up in both directions. */
	for (unsigned i = 0; i < IFACE_MAX; i++) {
		bool reflect = t->ip[i][ACL_DIR_INPUT].reflect || t->ip[i][ACL_DIR_OUTPUT].reflect;
		t->ip[i][ACL_DIR_INPUT].reflect = t->ip[i][ACL_DIR_OUTPUT].reflect = reflect;
	}
	return 0;
}

/* ---- MAC bindings ---- */

static int mac_attach_build(struct acl_attach *att, const struct acl_mac_view *view)
{
	const struct macip_list *list = view->list;
	struct layout layout;
	struct rule_buf bufs[2] = { 0 };
	int rc = 0;

	att->slots = calloc(list->n_rules ? list->n_rules : 1, sizeof(*att->slots));
	if (!att->slots || bufs_init(bufs, mac_fields, (uint32_t)list->n_rules) < 0) {
		rc = -ENOMEM;
		goto out;
	}
	for (uint32_t j = 0; j < list->n_rules; j++) {
		const struct macip_rule *r = &list->rules[j];
		att->slots[att->n_slots++] = (struct acl_slot){ view->first_counter + j,
								(uint8_t)r->action };
		for (unsigned fam = ACL_FAM_IP4; fam <= ACL_FAM_IP6; fam++) {
			if (!fits_family(&r->prefix, fam))
				continue;
			struct rte_acl_rule *rule = rule_at(&bufs[fam], bufs[fam].n++);
			rule_data(rule, j);
			mac_rule_fields(rule->field, r, addr_words(fam));
		}
	}
	for (unsigned fam = ACL_FAM_IP4; fam <= ACL_FAM_IP6 && rc == 0; fam++) {
		mac_layout(&layout, addr_words(fam));
		rc = ctx_build(&layout, &bufs[fam], &att->ctx[fam]);
	}
out:
	free(bufs[0].rules);
	free(bufs[1].rules);
	return rc;
}

static int mac_bindings_build(struct acl_tables *t, char *err, size_t err_size)
{
	for (size_t i = 0; i < t->cfg.n_macip_bindings; i++) {
		const struct macip_binding *b = &t->cfg.macip_bindings[i];
		const struct iface *iface = iface_by_name(b->ifname);
		const struct acl_mac_view *view = NULL;
		if (!iface)
			return error_set(err, err_size, -ENODEV,
					 "acl mac interface %s: not an interface espd owns",
					 b->ifname);
		for (size_t k = 0; k < t->cfg.n_macips && !view; k++)
			if (strcmp(t->cfg.macips[k].name, b->tag) == 0)
				view = &t->mac_views[k];
		if (!view)
			return error_set(err, err_size, -EINVAL,
					 "acl mac interface %s: tag-name %s is not defined",
					 b->ifname, b->tag);
		int rc = mac_attach_build(&t->mac[iface->index], view);
		if (rc < 0)
			return error_set(err, err_size, rc,
					 "acl mac interface %s: cannot build the classifier: %s",
					 b->ifname, strerror(-rc));
		t->mac_active |= 1u << iface->index;
	}
	return 0;
}

/* ---- the whole generation ---- */

static void attach_free(struct acl_attach *att)
{
	for (unsigned fam = ACL_FAM_IP4; fam <= ACL_FAM_IP6; fam++) {
		if (att->later_ctx[fam] != att->ctx[fam])
			rte_acl_free(att->later_ctx[fam]);
		rte_acl_free(att->ctx[fam]);
	}
	free(att->slots);
}

void acl_tables_free(struct acl_tables *t)
{
	if (!t)
		return;
	for (unsigned i = 0; i < IFACE_MAX; i++) {
		attach_free(&t->ip[i][ACL_DIR_INPUT]);
		attach_free(&t->ip[i][ACL_DIR_OUTPUT]);
		attach_free(&t->mac[i]);
	}
	for (unsigned w = 0; w < ESPD_WORKERS_MAX; w++)
		free(t->rows[w]);
	free(t->base);
	free(t->views);
	free(t->mac_views);
	config_free(&t->cfg);
	free(t);
}

int acl_tables_build(const struct config *cfg, struct acl_tables **out, char *err,
		     size_t err_size)
{
	struct acl_tables *t = calloc(1, sizeof(*t));
	int rc;

	*out = NULL;
	if (!t)
		return error_set(err, err_size, -ENOMEM, "acl: out of memory");
	config_init(&t->cfg);
	t->generation = ++acl_state.generations;
	if ((rc = copy_acls(&t->cfg, cfg)) < 0 || (rc = copy_macips(&t->cfg, cfg)) < 0 ||
	    (rc = counters_assign(t)) < 0) {
		error_set(err, err_size, rc, "acl: out of memory");
		goto error;
	}
	if ((rc = ip_bindings_build(t, err, err_size)) < 0 ||
	    (rc = mac_bindings_build(t, err, err_size)) < 0)
		goto error;
	*out = t;
	return 0;
error:
	acl_tables_free(t);
	return rc;
}
