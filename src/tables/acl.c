/*
 * ACL tables: start-up, applying a config (build, publish with one pointer
 * store, RCU grace period, carry counters over, free the old generation)
 * and counter totals. Building is in acl_build.c, the fast path in
 * acl_classify.c, reflect sessions in acl_reflect.c, `show acl` in
 * acl_format.c.
 */
#include "tables/acl_private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <rte_cycles.h>
#include <rte_rcu_qsbr.h>

struct acl_state acl_state;

int acl_init(struct rte_rcu_qsbr *rcu)
{
	if (!rcu)
		return -EINVAL;
	acl_state.rcu = rcu;
	acl_state.n_workers = RTE_MIN(rcu->max_threads, (uint32_t)ESPD_WORKERS_MAX);
	acl_state.tsc_hz = rte_get_tsc_hz();
	return 0;
}

void acl_fini(void)
{
	acl_tables_free(acl_state.current);
	acl_state.current = NULL;
	acl_sessions_fini();
}

struct acl_counter acl_counter_total(const struct acl_tables *t, const struct acl_counter *in_base)
{
	size_t offset = (size_t)((const char *)in_base - (const char *)t->base);
	struct acl_counter sum = *in_base;

	for (unsigned w = 0; w < acl_state.n_workers; w++) {
		const struct acl_counter *c = (const void *)((const char *)t->rows[w] + offset);
		sum.packets += __atomic_load_n(&c->packets, __ATOMIC_RELAXED);
		sum.bytes += __atomic_load_n(&c->bytes, __ATOMIC_RELAXED);
	}
	return sum;
}

/* The base row becomes minus what the workers counted, so every total
 * reads zero; worker rows stay written only by their workers. */
void acl_counters_clear(void)
{
	struct acl_tables *t = acl_state.current;

	if (!t)
		return;
	struct acl_counter *base = (struct acl_counter *)t->base;
	size_t n = sizeof(struct acl_row) / sizeof(*base) + t->n_counters;
	for (size_t k = 0; k < n; k++) {
		struct acl_counter total = acl_counter_total(t, &base[k]);
		base[k].packets -= total.packets;
		base[k].bytes -= total.bytes;
	}
}

static bool has_reflect(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->n_acls; i++)
		for (size_t j = 0; j < cfg->acls[i].n_rules; j++)
			if (cfg->acls[i].rules[j].action == ACL_ACTION_PERMIT_REFLECT)
				return true;
	return false;
}

static int cmp_rule_number(const void *key, const void *elem)
{
	uint32_t a = *(const uint32_t *)key, b = ((const struct acl_rule *)elem)->number;
	return a < b ? -1 : a > b;
}

static int cmp_macip_number(const void *key, const void *elem)
{
	uint32_t a = *(const uint32_t *)key, b = ((const struct macip_rule *)elem)->number;
	return a < b ? -1 : a > b;
}

static void carry(struct acl_tables *t, uint32_t to, const struct acl_tables *old, uint32_t from)
{
	t->base->rules[to] = acl_counter_total(old, &old->base->rules[from]);
}

/* Rules keep their counts when their tag name and rule number survive. */
static void carry_rules(struct acl_tables *t, const struct acl_tables *old)
{
	for (size_t i = 0; i < t->cfg.n_acls; i++) {
		const struct acl_list *list = &t->cfg.acls[i];
		const struct acl_list *was = config_acl_find(&old->cfg, list->name);
		if (!was)
			continue;
		uint32_t from = old->views[was - old->cfg.acls].first_counter;
		for (size_t j = 0; j < list->n_rules; j++) {
			const struct acl_rule *r = bsearch(&list->rules[j].number, was->rules,
							   was->n_rules, sizeof(*r),
							   cmp_rule_number);
			if (r)
				carry(t, t->views[i].first_counter + (uint32_t)j, old,
				      from + (uint32_t)(r - was->rules));
		}
	}
	for (size_t i = 0; i < t->cfg.n_macips; i++) {
		const struct macip_list *list = &t->cfg.macips[i];
		const struct macip_list *was = config_macip_find(&old->cfg, list->name);
		if (!was)
			continue;
		uint32_t from = old->mac_views[was - old->cfg.macips].first_counter;
		for (size_t j = 0; j < list->n_rules; j++) {
			const struct macip_rule *r = bsearch(&list->rules[j].number, was->rules,
							     was->n_rules, sizeof(*r),
							     cmp_macip_number);
			if (r)
				carry(t, t->mac_views[i].first_counter + (uint32_t)j, old,
				      from + (uint32_t)(r - was->rules));
		}
	}
}

/* Interface counters survive while the interface stays bound. */
static void carry_bindings(struct acl_tables *t, const struct acl_tables *old)
{
	for (unsigned i = 0; i < IFACE_MAX; i++) {
		for (unsigned d = ACL_DIR_INPUT; d <= ACL_DIR_OUTPUT; d++) {
			if (!(t->ip_active[d] & old->ip_active[d] & 1u << i))
				continue;
			t->base->deny[i][d] = acl_counter_total(old, &old->base->deny[i][d]);
			t->base->session[i][d] = acl_counter_total(old, &old->base->session[i][d]);
		}
		if (t->mac_active & old->mac_active & 1u << i)
			t->base->mac_deny[i] = acl_counter_total(old, &old->base->mac_deny[i]);
	}
}

int acl_config_apply(const struct config *cfg, char *err, size_t err_size)
{
	struct acl_tables *t, *old = acl_state.current;
	int rc;

	if (!acl_state.rcu) {
		snprintf(err, err_size, "acl: not initialised");
		return -EINVAL;
	}
	if (has_reflect(cfg) &&
	    (rc = acl_sessions_init(acl_state.n_workers, acl_state.rcu, acl_state.tsc_hz)) < 0) {
		snprintf(err, err_size, "acl: cannot create the reflect session tables: %s",
			 strerror(-rc));
		return rc;
	}
	if ((rc = acl_tables_build(cfg, &t, err, err_size)) < 0)
		return rc;
	__atomic_store_n(&acl_state.current, t, __ATOMIC_RELEASE);
	if (old) {
		/* After the grace period no worker reads old or counts into it. */
		rte_rcu_qsbr_synchronize(acl_state.rcu, RTE_QSBR_THRID_INVALID);
		carry_rules(t, old);
		carry_bindings(t, old);
		acl_tables_free(old);
	}
	return 0;
}
