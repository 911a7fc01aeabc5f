/*
 * The SPD: the control thread's list of policies, their resolution to SAs,
 * and the published per-direction snapshots (policies in priority order
 * plus one rte_acl context per family) that workers search.
 *
 * Kernel references (net/xfrm/xfrm_policy.c): the best policy is the
 * matching one with the lowest priority value, the earliest inserted on a
 * tie (xfrm_policy_lookup_bytype keeps the lower ->pos); a policy matches
 * when xfrm_selector_match does and (mark & m) == v and if_id is equal
 * (xfrm_policy_match). Inbound checks follow __xfrm_policy_check,
 * xfrm_policy_ok and xfrm_state_ok (include/net/xfrm.h).
 */
#include "tables/spd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <rte_acl.h>
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include "common/key.h"
#include "tables/sad.h"

#define CLI_INDEX_BASE 0x80000000u /* kernel indexes count up from 0 */

uint8_t spd_published_flags;

/* Published per direction; immutable once published. */
struct snapshot {
	struct rte_acl_ctx *acl[2]; /* AF_INET, AF_INET6; NULL: no rule or scanned */
	bool meta;                  /* the ACL rules compare mark and if_id */
	uint32_t n;
	struct spd_policy policies[]; /* by rank; ACL userdata = rank + 1 */
};

static struct {
	struct rte_rcu_qsbr *rcu;
	struct spd_policy *entries; /* control copy, unordered */
	uint32_t n, max;
	uint64_t next_seq;
	uint32_t next_index;
	uint32_t generation;        /* names ACL contexts uniquely */
	uint32_t sad_generation;    /* the SAD state last resolved against */
	bool dirty;
	struct snapshot *published[SPD_DIR_N];
} spd;

/* ---- ACL layout over struct spd_packet_key ---- */

/*
 * Rule fields: protocol, ports, the address words, then mark and if_id.
 * A direction where no policy sets a mark mask or an if_id (the usual
 * case) leaves the last two out, so every packet walks 8 bytes less of
 * the trie; a packet with an if_id then matches nothing (snapshot.meta).
 */
enum { F_PROTO, F_SPORT, F_DPORT, F_ADDR };
#define ADDR_FIELDS(v6) ((v6) ? 8u : 2u)
#define META_FIELDS 2u

RTE_ACL_RULE_DEF(spd_rule, F_ADDR + ADDR_FIELDS(true) + META_FIELDS);

static unsigned acl_fields(bool v6, bool meta)
{
	return F_ADDR + ADDR_FIELDS(v6) + (meta ? META_FIELDS : 0);
}

/* Input words: 0 the protocol byte, 1 both ports, then one per field. */
static struct rte_acl_field_def acl_word(uint8_t type, unsigned field, size_t offset)
{
	return (struct rte_acl_field_def){
		.type = type, .size = 4, .field_index = (uint8_t)field,
		.input_index = (uint8_t)(field - 1), .offset = (uint32_t)offset,
	};
}

static void acl_defs(struct rte_acl_config *cfg, bool v6, bool meta)
{
	static const struct rte_acl_field_def head[] = {
		{ RTE_ACL_FIELD_TYPE_BITMASK, 1, F_PROTO, 0, offsetof(struct spd_packet_key, proto) },
		{ RTE_ACL_FIELD_TYPE_BITMASK, 2, F_SPORT, 1, offsetof(struct spd_packet_key, sport) },
		{ RTE_ACL_FIELD_TYPE_BITMASK, 2, F_DPORT, 1, offsetof(struct spd_packet_key, dport) },
	};
	unsigned words = v6 ? 4 : 1, f = F_ADDR;

	memset(cfg, 0, sizeof(*cfg));
	cfg->num_categories = 1;
	memcpy(cfg->defs, head, sizeof(head));
	for (unsigned i = 0; i < 2 * words; i++, f++) {
		size_t side = i / words ? offsetof(struct spd_packet_key, dst)
					: offsetof(struct spd_packet_key, src);
		cfg->defs[f] = acl_word(RTE_ACL_FIELD_TYPE_MASK, f, side + 4 * (i % words));
	}
	if (meta) {
		cfg->defs[f] = acl_word(RTE_ACL_FIELD_TYPE_BITMASK, f,
					offsetof(struct spd_packet_key, mark));
		f++;
		cfg->defs[f] = acl_word(RTE_ACL_FIELD_TYPE_BITMASK, f,
					offsetof(struct spd_packet_key, if_id));
		f++;
	}
	cfg->num_fields = f;
}

/* A selector's host bits stay in the value: rte_acl masks each value with
 * its prefix length itself (acl_gen_mask_trie). */
static void acl_prefix(struct rte_acl_field *f, const struct ip_prefix *prefix, unsigned words)
{
	for (unsigned w = 0; w < words; w++) {
		int bits = (int)prefix->len - 32 * (int)w;
		uint32_t chunk;

		memcpy(&chunk, prefix->addr.bytes + 4 * w, 4);
		f[w].value.u32 = bits > 0 ? rte_be_to_cpu_32(chunk) : 0;
		f[w].mask_range.u32 = bits <= 0 ? 0 : bits >= 32 ? 32 : (uint32_t)bits;
	}
}

static void acl_rule(struct spd_rule *r, const struct spd_policy *pol, uint32_t rank, bool v6,
		     bool meta)
{
	const struct spd_policy_params *p = &pol->p;
	unsigned words = v6 ? 4 : 1, f_mark = F_ADDR + 2 * words;

	memset(r, 0, sizeof(*r));
	r->data.category_mask = 1;
	r->data.priority = (int32_t)(RTE_ACL_MAX_PRIORITY - rank);
	r->data.userdata = rank + 1;
	r->field[F_PROTO].value.u8 = p->sel.proto;
	r->field[F_PROTO].mask_range.u8 = p->sel.proto ? 0xff : 0;
	r->field[F_SPORT].value.u16 = p->sel.sport & p->sel.sport_mask;
	r->field[F_SPORT].mask_range.u16 = p->sel.sport_mask;
	r->field[F_DPORT].value.u16 = p->sel.dport & p->sel.dport_mask;
	r->field[F_DPORT].mask_range.u16 = p->sel.dport_mask;
	acl_prefix(&r->field[F_ADDR], &p->sel.src, words);
	acl_prefix(&r->field[F_ADDR + words], &p->sel.dst, words);
	if (!meta)
		return;
	r->field[f_mark].value.u32 = p->mark_v;
	r->field[f_mark].mask_range.u32 = p->mark_m;
	r->field[f_mark + 1].value.u32 = p->if_id;
	r->field[f_mark + 1].mask_range.u32 = UINT32_MAX;
}

/* A packet of family may match pol: a selector of family AF_UNSPEC (both
 * prefixes empty) matches either; a mark value with bits outside its mask
 * matches none, as xfrm_policy_match compares (mark & m) with v. */
static bool policy_in_family(const struct spd_policy *pol, uint8_t family)
{
	return (pol->p.sel.family == AF_UNSPEC || pol->p.sel.family == family) &&
	       (pol->p.mark_v & ~pol->p.mark_m) == 0;
}

static struct rte_acl_ctx *acl_build(const struct snapshot *snap, uint8_t dir, bool v6)
{
	uint8_t family = v6 ? AF_INET6 : AF_INET;
	struct rte_acl_config cfg;
	struct spd_rule rule;
	char name[RTE_ACL_NAMESIZE];
	uint32_t n = 0;

	for (uint32_t i = 0; i < snap->n; i++)
		n += policy_in_family(&snap->policies[i], family);
	if (n == 0)
		return NULL;
	snprintf(name, sizeof(name), "spd%u_%u_%u", spd.generation, dir, family);
	struct rte_acl_param param = {
		.name = name,
		.socket_id = SOCKET_ID_ANY,
		.rule_size = RTE_ACL_RULE_SZ(acl_fields(v6, snap->meta)),
		.max_rule_num = n,
	};
	struct rte_acl_ctx *ctx = rte_acl_create(&param);
	if (!ctx)
		return NULL;
	for (uint32_t i = 0; i < snap->n; i++) {
		if (!policy_in_family(&snap->policies[i], family))
			continue;
		acl_rule(&rule, &snap->policies[i], i, v6, snap->meta);
		if (rte_acl_add_rules(ctx, (const struct rte_acl_rule *)&rule, 1) != 0)
			goto fail;
	}
	acl_defs(&cfg, v6, snap->meta);
	if (rte_acl_build(ctx, &cfg) != 0)
		goto fail;
	return ctx;
fail:
	rte_acl_free(ctx);
	return NULL;
}

/* ---- Control list ---- */

int spd_init(struct rte_rcu_qsbr *rcu, uint32_t max_policies)
{
	if (!rcu || max_policies == 0)
		return -EINVAL;
	spd.rcu = rcu;
	spd.max = max_policies;
	spd.entries = calloc(max_policies, sizeof(*spd.entries));
	if (!spd.entries)
		return -ENOMEM;
	return 0;
}

static void snapshot_free(struct snapshot *snap)
{
	if (!snap)
		return;
	rte_acl_free(snap->acl[0]);
	rte_acl_free(snap->acl[1]);
	rte_free(snap);
}

/* Workers must be stopped. */
void spd_destroy(void)
{
	for (unsigned d = 0; d < SPD_DIR_N; d++)
		snapshot_free(spd.published[d]);
	free(spd.entries);
	memset(&spd, 0, sizeof(spd));
	__atomic_store_n(&spd_published_flags, 0, __ATOMIC_RELAXED);
}

static bool selector_equal(const struct spd_selector *a, const struct spd_selector *b)
{
	return ip_prefix_equal(&a->src, &b->src) && ip_prefix_equal(&a->dst, &b->dst) &&
	       a->sport == b->sport && a->sport_mask == b->sport_mask &&
	       a->dport == b->dport && a->dport_mask == b->dport_mask &&
	       a->proto == b->proto && a->family == b->family;
}

/* xfrm_policy_insert's notion of "the same policy" (xfrm_policy_mark_match
 * compares value and mask as given). */
static bool same_identity(const struct spd_policy_params *a, const struct spd_policy_params *b)
{
	return a->dir == b->dir && selector_equal(&a->sel, &b->sel) &&
	       a->mark_v == b->mark_v && a->mark_m == b->mark_m && a->if_id == b->if_id;
}

static struct spd_policy *entry_find(const struct spd_policy_params *p)
{
	for (uint32_t i = 0; i < spd.n; i++)
		if (same_identity(&spd.entries[i].p, p))
			return &spd.entries[i];
	return NULL;
}

static int params_check(const struct spd_policy_params *p)
{
	if (p->dir >= SPD_DIR_N || p->action > SPD_ACTION_BLOCK || p->n_tmpl > SPD_TMPL_MAX)
		return -EINVAL;
	if (p->sel.src.len > ip_addr_size(p->sel.src.addr.family) * 8 ||
	    p->sel.dst.len > ip_addr_size(p->sel.dst.addr.family) * 8)
		return -EINVAL;
	return 0;
}

/* Whether a policy other than e has index. */
static bool index_used(const struct spd_policy *e, uint32_t index)
{
	for (uint32_t i = 0; i < spd.n; i++)
		if (&spd.entries[i] != e && spd.entries[i].p.index == index)
			return true;
	return false;
}

/* The policy p at e, ranked after every policy inserted before it unless
 * seq (its rank among equal priorities) is given. Its index is the one
 * given unless another policy has it; else, as xfrm_gen_index, the next
 * free one of its direction. */
static void entry_set(struct spd_policy *e, const struct spd_policy_params *p, uint64_t seq)
{
	memset(e, 0, sizeof(*e));
	e->p = *p;
	while (e->p.index == 0 || index_used(e, e->p.index)) {
		e->p.index = CLI_INDEX_BASE + spd.next_index * 8 + p->dir;
		spd.next_index++;
	}
	e->seq = seq ? seq : ++spd.next_seq;
	e->sa[0].index = SAD_INDEX_NONE;
	spd.dirty = true;
}

int spd_policy_add(const struct spd_policy_params *p)
{
	int rc = params_check(p);

	if (rc != 0)
		return rc;
	if (entry_find(p))
		return -EEXIST;
	if (spd.n == spd.max)
		return -ENOSPC;
	entry_set(&spd.entries[spd.n++], p, 0);
	return 0;
}

/* A replaced policy keeps its index and, at the same priority, its place
 * among its equals; at another priority it goes behind those of its new
 * one, as xfrm_policy_insert_list re-inserts it. */
int spd_policy_update(const struct spd_policy_params *p)
{
	struct spd_policy *e = entry_find(p);
	struct spd_policy_params replacing = *p;
	int rc = params_check(p);

	if (rc != 0)
		return rc;
	if (!e)
		return spd_policy_add(p);
	replacing.index = e->p.index;
	entry_set(e, &replacing, e->p.priority == p->priority ? e->seq : 0);
	return 0;
}

static void entry_remove(struct spd_policy *e)
{
	*e = spd.entries[--spd.n];
	spd.dirty = true;
}

int spd_policy_del(const struct spd_policy_params *p)
{
	struct spd_policy *e = entry_find(p);

	if (!e)
		return -ENOENT;
	entry_remove(e);
	return 0;
}

int spd_policy_del_index(uint32_t index)
{
	for (uint32_t i = 0; i < spd.n; i++) {
		if (spd.entries[i].p.index == index) {
			entry_remove(&spd.entries[i]);
			return 0;
		}
	}
	return -ENOENT;
}

void spd_flush(uint8_t origin)
{
	for (uint32_t i = spd.n; i-- > 0;)
		if (spd.entries[i].p.origin == origin)
			entry_remove(&spd.entries[i]);
}

const struct spd_policy *spd_policy_find(const struct spd_policy_params *p)
{
	return entry_find(p);
}

size_t spd_count(void)
{
	return spd.n;
}

/* ---- Template resolution (outbound) ---- */

/*
 * The SA the kernel would pick for an out template (xfrm_tmpl_resolve_one,
 * xfrm_state_find): protocol, mode, reqid exactly (a template without one
 * takes only an SA without one), SPI when set, destination, source when
 * set, the policy's mark under the SA's mask, the same if_id, and no SA
 * flagged wildrecv. Transport mode takes the endpoints from the packet,
 * which a policy only fixes when its selector is one host pair. Among
 * candidates, better_sa.
 */
struct endpoints {
	struct ip_addr src, dst;
};

static bool host_prefix(const struct ip_prefix *prefix)
{
	return prefix->addr.family && prefix->len == ip_addr_size(prefix->addr.family) * 8;
}

static bool tmpl_endpoints(const struct spd_policy_params *p, const struct spd_tmpl *t,
			   struct endpoints *ep)
{
	if (t->mode == SA_MODE_TUNNEL) {
		ep->src = t->src;
		ep->dst = t->dst;
		return t->dst.family != 0;
	}
	if (!host_prefix(&p->sel.src) || !host_prefix(&p->sel.dst))
		return false;
	ep->src = p->sel.src.addr;
	ep->dst = p->sel.dst.addr;
	return true;
}

static bool sa_fits_tmpl(const struct sa *sa, const struct spd_policy_params *p,
			 const struct spd_tmpl *t, const struct endpoints *ep)
{
	uint32_t mark = p->mark_v & p->mark_m;

	return sa->rt.proto == t->proto && sa->rt.mode == t->mode && sa->rt.reqid == t->reqid &&
	       (mark & sa->cfg.id.mark_m) == sa->cfg.id.mark_v && sa->cfg.id.if_id == p->if_id &&
	       !(sa->rt.flags & SA_FLAG_WILDRECV) &&
	       (!t->spi || sa->rt.spi_be == rte_cpu_to_be_32(t->spi)) &&
	       ip_addr_equal(&sa->rt.dst, &ep->dst) &&
	       (ip_addr_is_zero(&ep->src) || !ep->src.family || ip_addr_equal(&sa->rt.src, &ep->src));
}

/* A template's SAs, best first (better_sa). */
struct sa_choices {
	const struct sa *sa[SPD_SA_CHOICES];
	unsigned n;
};

struct resolve {
	const struct spd_policy_params *p;
	const struct spd_tmpl *t;
	struct endpoints ep;
	struct sa_choices found;
};

/* An SA espd can use first; then, as xfrm_state_look_at, one that has not
 * reached a soft limit (km.dying), then the newest. */
static bool better_sa(const struct sa *sa, const struct sa *best)
{
	if (sa_ready(sa, SA_DIR_OUT) != sa_ready(best, SA_DIR_OUT))
		return sa_ready(sa, SA_DIR_OUT);
	if (sa->cfg.soft_expired != best->cfg.soft_expired)
		return !sa->cfg.soft_expired;
	return sa->rt.uid > best->rt.uid;
}

/* sa in its place among the best SPD_SA_CHOICES found so far. */
static void choices_insert(struct sa_choices *c, const struct sa *sa)
{
	unsigned at = c->n;

	while (at > 0 && better_sa(sa, c->sa[at - 1]))
		at--;
	if (at == SPD_SA_CHOICES)
		return;
	if (c->n < SPD_SA_CHOICES)
		c->n++;
	memmove(&c->sa[at + 1], &c->sa[at], (c->n - 1 - at) * sizeof(c->sa[0]));
	c->sa[at] = sa;
}

static int resolve_one(const struct sa *sa, void *arg)
{
	struct resolve *r = arg;

	if (sa_fits_tmpl(sa, r->p, r->t, &r->ep))
		choices_insert(&r->found, sa);
	return 0;
}

static void tmpl_resolve(const struct spd_policy_params *p, const struct spd_tmpl *t,
			 struct sa_choices *found)
{
	struct resolve r = { .p = p, .t = t };

	if (tmpl_endpoints(p, t, &r.ep))
		sad_walk(resolve_one, &r);
	*found = r.found;
}

static bool selector_covers(const struct spd_selector *outer, const struct spd_selector *inner);

/* Needs IPsec espd cannot apply: the kernel's policy goes to the kernel;
 * an espd-only policy never lets the packet out in clear. */
static uint8_t cannot_protect(const struct spd_policy *e)
{
	return e->p.origin == IPSEC_ORIGIN_CLI ? SPD_NO_SA : SPD_KERNEL;
}

/* xfrm_state_look_at skips an SA whose selector misses the packet: the
 * policy keeps the SAs of its template up to the first that covers its
 * selector, which takes every packet the ones before it miss. */
static void keep_choices(struct spd_policy *e, const struct sa_choices *c)
{
	for (unsigned i = 0; i < c->n; i++) {
		e->sa[i] = (struct spd_sa_ref){ c->sa[i]->rt.index, c->sa[i]->rt.uid };
		e->n_sa = (uint8_t)(i + 1);
		if (selector_covers(&c->sa[i]->rt.sel, &e->p.sel))
			break;
	}
	e->sa_selector_check = !selector_covers(&c->sa[0]->rt.sel, &e->p.sel);
}

static void resolve_out(struct spd_policy *e)
{
	struct sa_choices applied = { .n = 0 }, found;
	unsigned n_applied = 0;
	bool missing = false;

	if (e->p.action == SPD_ACTION_BLOCK) {
		e->verdict = SPD_DISCARD;
		return;
	}
	for (unsigned i = 0; i < e->p.n_tmpl; i++) {
		tmpl_resolve(&e->p, &e->p.tmpl[i], &found);
		if (found.n) {
			applied = found;
			n_applied++;
		} else if (!e->p.tmpl[i].optional) {
			missing = true;
		}
	}
	if (n_applied == 1)
		keep_choices(e, &applied);
	if (missing || n_applied > 1)
		e->verdict = cannot_protect(e);
	else if (n_applied == 0)
		e->verdict = SPD_BYPASS;
	else if (applied.sa[0]->rt.proto == IPPROTO_ESP && sa_ready(applied.sa[0], SA_DIR_OUT))
		e->verdict = SPD_PROTECT;
	else
		e->verdict = cannot_protect(e);
}

static void resolve(struct spd_policy *e)
{
	e->sa[0] = (struct spd_sa_ref){ SAD_INDEX_NONE, 0 };
	e->n_sa = 0;
	e->sa_selector_check = false;
	e->verdict = SPD_BYPASS;
	e->requires_ipsec = e->p.action == SPD_ACTION_BLOCK;
	for (unsigned i = 0; i < e->p.n_tmpl; i++)
		e->requires_ipsec |= !e->p.tmpl[i].optional;
	if (e->p.dir == SPD_DIR_OUT)
		resolve_out(e);
}

/* ---- Commit ---- */

static int by_rank(const void *a, const void *b)
{
	const struct spd_policy *x = a, *y = b;

	if (x->p.priority != y->p.priority)
		return x->p.priority < y->p.priority ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static bool uses_meta(const struct spd_policy *pol)
{
	return pol->p.mark_m != 0 || pol->p.if_id != 0;
}

static int snapshot_classifier(struct snapshot *snap, uint8_t dir)
{
	for (uint32_t i = 0; i < snap->n; i++)
		snap->meta |= uses_meta(&snap->policies[i]);
	for (unsigned f = 0; f < 2; f++) {
		bool needed = false;

		snap->acl[f] = acl_build(snap, dir, f);
		for (uint32_t i = 0; i < snap->n; i++)
			needed |= policy_in_family(&snap->policies[i], f ? AF_INET6 : AF_INET);
		if (needed && !snap->acl[f])
			return -ENOMEM;
	}
	return 0;
}

static struct snapshot *snapshot_build(uint8_t dir)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < spd.n; i++)
		n += spd.entries[i].p.dir == dir;
	struct snapshot *snap = rte_zmalloc("spd_snapshot",
					    sizeof(*snap) + n * sizeof(snap->policies[0]),
					    RTE_CACHE_LINE_SIZE);
	if (!snap)
		return NULL;
	for (uint32_t i = 0; i < spd.n; i++)
		if (spd.entries[i].p.dir == dir)
			snap->policies[snap->n++] = spd.entries[i];
	qsort(snap->policies, snap->n, sizeof(snap->policies[0]), by_rank);
	for (uint32_t i = 0; i < snap->n; i++)
		snap->policies[i].rank = i;
	if (snap->n > SPD_SCAN_MAX && snapshot_classifier(snap, dir) != 0) {
		snapshot_free(snap);
		return NULL;
	}
	return snap;
}

static uint8_t flags_of(struct snapshot *const snaps[SPD_DIR_N])
{
	uint8_t flags = 0;

	for (unsigned d = 0; d < SPD_DIR_N; d++) {
		if (snaps[d]->n)
			flags |= SPD_FLAG_DIR(d);
		for (uint32_t i = 0; i < snaps[d]->n; i++) {
			const struct spd_policy *pol = &snaps[d]->policies[i];
			if (d == SPD_DIR_OUT && pol->p.origin == IPSEC_ORIGIN_CLI)
				flags |= SPD_FLAG_LOCAL_OUT;
			if (d != SPD_DIR_OUT && pol->requires_ipsec)
				flags |= SPD_FLAG_PLAINTEXT;
		}
	}
	return flags;
}

int spd_commit(void)
{
	struct snapshot *next[SPD_DIR_N] = { NULL }, *old[SPD_DIR_N];

	if (!spd.dirty && spd.sad_generation == sad_generation())
		return 0;
	for (uint32_t i = 0; i < spd.n; i++)
		resolve(&spd.entries[i]);
	spd.generation++;
	for (unsigned d = 0; d < SPD_DIR_N; d++) {
		next[d] = snapshot_build(d);
		if (!next[d]) {
			for (unsigned k = 0; k < d; k++)
				snapshot_free(next[k]);
			return -ENOMEM;
		}
	}
	for (unsigned d = 0; d < SPD_DIR_N; d++) {
		old[d] = spd.published[d];
		__atomic_store_n(&spd.published[d], next[d], __ATOMIC_RELEASE);
	}
	__atomic_store_n(&spd_published_flags, flags_of(next), __ATOMIC_RELEASE);
	rte_rcu_qsbr_synchronize(spd.rcu, RTE_QSBR_THRID_INVALID);
	for (unsigned d = 0; d < SPD_DIR_N; d++)
		snapshot_free(old[d]);
	spd.dirty = false;
	spd.sad_generation = sad_generation();
	return 0;
}

void spd_walk(int (*cb)(const struct spd_policy *policy, void *arg), void *arg)
{
	static const uint8_t order[] = { SPD_DIR_OUT, SPD_DIR_IN, SPD_DIR_FWD };

	for (unsigned d = 0; d < RTE_DIM(order); d++) {
		const struct snapshot *snap = spd.published[order[d]];
		for (uint32_t i = 0; snap && i < snap->n; i++)
			if (cb(&snap->policies[i], arg))
				return;
	}
}

/* ---- Fast path ---- */

/* The first prefix->len bits of addr, over at most words 32-bit words (the
 * ACL's MASK fields), equal the prefix's; word by word, as a memcmp call
 * would cost more than the comparison. */
static inline bool prefix_bits_match(const struct ip_prefix *prefix, const uint8_t *addr, unsigned words)
{
	for (unsigned w = 0; w < words; w++) {
		int bits = (int)prefix->len - 32 * (int)w;
		uint32_t want, have;

		if (bits <= 0)
			return true;
		uint32_t mask = bits >= 32 ? UINT32_MAX : ~(UINT32_MAX >> bits);
		memcpy(&want, prefix->addr.bytes + 4 * w, 4);
		memcpy(&have, addr + 4 * w, 4);
		if ((rte_be_to_cpu_32(want ^ have) & mask) != 0)
			return false;
	}
	return true;
}

static void classify(const struct snapshot *snap, unsigned f, const uint8_t **data,
		     uint32_t *results, unsigned n)
{
	if (n == 0)
		return;
	if (!snap->acl[f] || rte_acl_classify(snap->acl[f], data, results, n, 1) != 0)
		memset(results, 0, n * sizeof(*results));
}

static bool scan_match(const struct spd_policy *pol, const struct spd_packet_key *key, bool v6)
{
	const struct spd_policy_params *p = &pol->p;
	unsigned words = v6 ? 4 : 1;

	return policy_in_family(pol, v6 ? AF_INET6 : AF_INET) &&
	       (!p->sel.proto || p->sel.proto == key->proto) &&
	       ((rte_be_to_cpu_16(key->sport) ^ p->sel.sport) & p->sel.sport_mask) == 0 &&
	       ((rte_be_to_cpu_16(key->dport) ^ p->sel.dport) & p->sel.dport_mask) == 0 &&
	       (rte_be_to_cpu_32(key->mark) & p->mark_m) == p->mark_v &&
	       rte_be_to_cpu_32(key->if_id) == p->if_id &&
	       prefix_bits_match(&p->sel.src, key->src, words) &&
	       prefix_bits_match(&p->sel.dst, key->dst, words);
}

static const struct spd_policy *scan(const struct snapshot *snap, const struct spd_packet_key *key)
{
	bool v6 = key->family == AF_INET6;

	for (uint32_t i = 0; i < snap->n; i++)
		if (scan_match(&snap->policies[i], key, v6))
			return &snap->policies[i];
	return NULL;
}

#define BULK_MAX 256

/* Best policies of the distinct keys, from the snapshot of their direction. */
static void lookup_distinct(const struct snapshot *snap, const struct spd_packet_key *const keys[],
			    const struct spd_policy *out[], unsigned n)
{
	const uint8_t *data[2][BULK_MAX];
	uint32_t results[2][BULK_MAX];
	uint16_t where[2][BULK_MAX];
	unsigned count[2] = { 0, 0 };

	if (snap->n <= SPD_SCAN_MAX) {
		for (unsigned i = 0; i < n; i++)
			out[i] = scan(snap, keys[i]);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		unsigned f = keys[i]->family == AF_INET6;
		out[i] = NULL;
		/* Every rule wants if_id 0 when none compares it. */
		if (unlikely(keys[i]->if_id != 0 && !snap->meta))
			continue;
		data[f][count[f]] = (const uint8_t *)keys[i];
		where[f][count[f]++] = (uint16_t)i;
	}
	for (unsigned f = 0; f < 2; f++) {
		classify(snap, f, data[f], results[f], count[f]);
		for (unsigned j = 0; j < count[f]; j++)
			if (results[f][j])
				out[where[f][j]] = &snap->policies[results[f][j] - 1];
	}
}

/* Packets of one flow come in runs: a key equal to the one before it shares
 * its lookup, which with many policies (rte_acl) costs far more than the
 * comparison. */
void spd_lookup_bulk(enum spd_dir dir, const struct spd_packet_key *const keys[],
		     const struct spd_policy *out[], unsigned n)
{
	const struct snapshot *snap = __atomic_load_n(&spd.published[dir], __ATOMIC_ACQUIRE);
	const struct spd_packet_key *distinct[BULK_MAX];
	const struct spd_policy *found[BULK_MAX];
	uint16_t key_of[BULK_MAX];
	unsigned n_keys = 0;

	_Static_assert(sizeof(struct spd_packet_key) % sizeof(uint64_t) == 0,
		       "key_equal compares whole words");
	if (!snap) {
		memset(out, 0, n * sizeof(out[0]));
		return;
	}
	n = RTE_MIN(n, (unsigned)BULK_MAX);
	for (unsigned i = 0; i < n; i++) {
		if (n_keys == 0 || !key_equal(keys[i], distinct[n_keys - 1], sizeof(*keys[i])))
			distinct[n_keys++] = keys[i];
		key_of[i] = (uint16_t)(n_keys - 1);
	}
	lookup_distinct(snap, distinct, found, n_keys);
	for (unsigned i = 0; i < n; i++)
		out[i] = found[key_of[i]];
}

const struct spd_policy *spd_lookup(enum spd_dir dir, const struct spd_packet_key *key)
{
	const struct spd_policy *policy;

	spd_lookup_bulk(dir, &key, &policy, 1);
	return policy;
}

static bool prefix_match(const struct ip_prefix *prefix, uint8_t family, const uint8_t *addr)
{
	return prefix->len == 0 ||
	       (prefix->addr.family == family && prefix_bits_match(prefix, addr, 4));
}

bool spd_selector_match(const struct spd_selector *sel, const struct spd_packet_key *key)
{
	return (!sel->proto || sel->proto == key->proto) &&
	       ((rte_be_to_cpu_16(key->sport) ^ sel->sport) & sel->sport_mask) == 0 &&
	       ((rte_be_to_cpu_16(key->dport) ^ sel->dport) & sel->dport_mask) == 0 &&
	       prefix_match(&sel->src, key->family, key->src) &&
	       prefix_match(&sel->dst, key->family, key->dst);
}

/* Whether every packet inner matches also matches outer: an SA whose
 * selector covers its policy's needs no look per packet. */
static bool prefix_covers(const struct ip_prefix *outer, const struct ip_prefix *inner)
{
	return outer->len == 0 ||
	       (inner->addr.family == outer->addr.family && inner->len >= outer->len &&
		prefix_bits_match(outer, inner->addr.bytes, 4));
}

static bool port_covers(uint16_t outer, uint16_t outer_mask, uint16_t inner, uint16_t inner_mask)
{
	return (outer_mask & ~inner_mask) == 0 && ((outer ^ inner) & outer_mask) == 0;
}

static bool selector_covers(const struct spd_selector *outer, const struct spd_selector *inner)
{
	return (!outer->proto || outer->proto == inner->proto) &&
	       port_covers(outer->sport, outer->sport_mask, inner->sport, inner->sport_mask) &&
	       port_covers(outer->dport, outer->dport_mask, inner->dport, inner->dport_mask) &&
	       prefix_covers(&outer->src, &inner->src) && prefix_covers(&outer->dst, &inner->dst);
}

/* xfrm_state_ok: the only source checked is a set template source
 * (__xfrm4/6_state_addr_cmp); the destination matched by SPI lookup. */
static bool state_ok(const struct spd_tmpl *t, const struct sa *sa)
{
	return sa->rt.proto == t->proto &&
	       (!t->spi || sa->rt.spi_be == rte_cpu_to_be_32(t->spi)) &&
	       (!t->reqid || sa->rt.reqid == t->reqid) && sa->rt.mode == t->mode &&
	       (sa->rt.mode == SA_MODE_TRANSPORT || !t->src.family ||
		ip_addr_is_zero(&t->src) || ip_addr_equal(&t->src, &sa->rt.src));
}

/* xfrm_policy_ok over a sec_path of this one SA: the next unmatched
 * sec_path position, or < 0 when a required template is unmet. */
static int policy_ok(const struct spd_tmpl *t, const struct sa *sa, int start)
{
	int idx = start;

	if (t->optional) {
		if (t->mode == SA_MODE_TRANSPORT)
			return start;
	} else {
		start = -1;
	}
	if (idx < 1) {
		if (state_ok(t, sa))
			return idx + 1;
		if (sa->rt.mode != SA_MODE_TRANSPORT && start == -1)
			start = -2 - idx;
	}
	return start;
}

/* The SA's selector, or for an SA with flag icmp the flow an ICMP error
 * quotes (__xfrm_policy_check's first step, Linux 6.9+). */
static bool sa_selector_ok(const struct sa *sa, const struct spd_packet_key *key,
			   const struct spd_packet_key *quote)
{
	if (likely(spd_selector_match(&sa->rt.sel, key)))
		return true;
	return quote && (sa->rt.flags & SA_FLAG_ICMP) && spd_selector_match(&sa->rt.sel, quote);
}

int spd_inbound_check_policy(const struct sa *sa, const struct spd_packet_key *key,
			     const struct spd_packet_key *quote, const struct spd_policy *pol,
			     unsigned *why)
{
	int k = 0;

	if (!sa_selector_ok(sa, key, quote)) {
		*why = SA_ERROR_SELECTOR;
		return -EACCES;
	}
	if (!pol) {
		/* No policy: a tunnel-mode SA was never asked for. */
		*why = SA_ERROR_POLICY;
		return sa->rt.mode == SA_MODE_TRANSPORT ? 0 : -EACCES;
	}
	if (pol->p.action == SPD_ACTION_BLOCK) {
		*why = SA_ERROR_POLICY_BLOCK;
		return -EACCES;
	}
	/* Templates are matched from the last (outermost) one. */
	for (int i = pol->p.n_tmpl - 1; i >= 0; i--) {
		k = policy_ok(&pol->p.tmpl[i], sa, k);
		if (k < 0)
			break;
	}
	/* A tunnel SA no template consumed fails (secpath_has_nontransport). */
	if (k < 0 || (k == 0 && sa->rt.mode != SA_MODE_TRANSPORT)) {
		*why = SA_ERROR_TEMPLATE;
		return -EACCES;
	}
	return 0;
}

const struct sa *spd_policy_sa_choice(const struct spd_policy *policy, unsigned i)
{
	const struct sa *sa = sad_sa(policy->sa[i].index);

	return sa && sa->rt.uid == policy->sa[i].uid ? sa : NULL;
}

const struct sa *spd_policy_sa(const struct spd_policy *policy)
{
	return spd_policy_sa_choice(policy, 0);
}

const struct sa *spd_policy_sa_for(const struct spd_policy *policy,
				   const struct spd_packet_key *flow)
{
	for (unsigned i = 0; i < policy->n_sa; i++) {
		const struct sa *sa = spd_policy_sa_choice(policy, i);
		if (sa && spd_selector_match(&sa->rt.sel, flow))
			return sa;
	}
	return NULL;
}

/* ---- Packet keys ---- */

/* Ports as xfrm_flowi_sport/dport see them. */
static void l4_ports(struct spd_packet_key *key, const uint8_t *l4, uint32_t len)
{
	switch (key->proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
	case IPPROTO_SCTP:
		if (len >= 4) {
			memcpy(&key->sport, l4, 2);
			memcpy(&key->dport, l4 + 2, 2);
		}
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (len >= 2) {
			key->sport = rte_cpu_to_be_16(l4[0]);
			key->dport = rte_cpu_to_be_16(l4[1]);
		}
		break;
	case IPPROTO_MH:
		if (len >= 3)
			key->sport = rte_cpu_to_be_16(l4[2]);
		break;
	case IPPROTO_GRE:
		/* The key field, after the checksum word when present. */
		if (len >= 12 && (l4[0] & 0x20)) {
			const uint8_t *k = l4 + ((l4[0] & 0x80) ? 8 : 4);
			memcpy(&key->sport, k, 2);
			memcpy(&key->dport, k + 2, 2);
		}
		break;
	default:
		break;
	}
}

/* parse4 and parse6 return where the transport header starts, or -EINVAL. */
static int parse4(struct spd_packet_key *key, const uint8_t *ip, uint32_t len)
{
	uint32_t ihl = (ip[0] & 0x0f) * 4u;
	uint16_t frag;

	if (len < 20 || ihl < 20 || len < ihl)
		return -EINVAL;
	key->family = AF_INET;
	key->proto = ip[9];
	memcpy(key->src, ip + 12, 4);
	memcpy(key->dst, ip + 16, 4);
	memcpy(&frag, ip + 6, 2);
	/* Fragments carry no ports the kernel looks at. */
	if ((rte_be_to_cpu_16(frag) & 0x3fff) == 0)
		l4_ports(key, ip + ihl, len - ihl);
	return (int)ihl;
}

static int parse6(struct spd_packet_key *key, const uint8_t *ip, uint32_t len)
{
	uint32_t off = 40;
	uint8_t next;
	bool fragment = false;

	if (len < 40)
		return -EINVAL;
	key->family = AF_INET6;
	memcpy(key->src, ip + 8, 16);
	memcpy(key->dst, ip + 24, 16);
	next = ip[6];
	for (;;) {
		if (next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING || next == IPPROTO_DSTOPTS) {
			if (len < off + 8)
				return -EINVAL;
			next = ip[off];
			off += (ip[off + 1] + 1u) * 8;
		} else if (next == IPPROTO_FRAGMENT) {
			if (len < off + 8)
				return -EINVAL;
			next = ip[off];
			off += 8;
			fragment = true;
		} else {
			break;
		}
	}
	key->proto = next;
	if (!fragment && len > off)
		l4_ports(key, ip + off, len - off);
	return (int)off; /* may pass len: a header cut short, no ports */
}

/* Always inline: the per-packet key of spd_packet_key_parse is built on the
 * fast path, the quote parser's two calls are rare. */
static __rte_always_inline int parse(struct spd_packet_key *key, const uint8_t *ip, uint32_t len)
{
	memset(key, 0, sizeof(*key));
	if (len < 1)
		return -EINVAL;
	if ((ip[0] >> 4) == 4)
		return parse4(key, ip, len);
	if ((ip[0] >> 4) == 6)
		return parse6(key, ip, len);
	return -EINVAL;
}

int spd_packet_key_parse(struct spd_packet_key *key, const void *l3, uint32_t len)
{
	int l4 = parse(key, l3, len);

	return l4 < 0 ? l4 : 0;
}

#define ICMP_HEADER_LEN 8 /* what precedes the quote, ICMP and ICMPv6 alike */

/* xfrm_decode_session_reverse: the flow of the other direction. Ports
 * swap; an ICMP type and code or a GRE key is the packet's own
 * (decode_session4/6 set those after the swap), and so is the MH type. */
static void key_reverse(struct spd_packet_key *key)
{
	uint8_t addr[16];
	uint16_t port = key->sport;

	memcpy(addr, key->src, sizeof(addr));
	memcpy(key->src, key->dst, sizeof(addr));
	memcpy(key->dst, addr, sizeof(addr));
	switch (key->proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
	case IPPROTO_SCTP:
		key->sport = key->dport;
		key->dport = port;
		break;
	default:
		break;
	}
}

/*
 * xfrm_icmp_flow_decode: the quoted packet's flow, reversed, with the
 * error's mark and if_id. The kernel takes the quote at a fixed 28 (IPv4)
 * or 48 (IPv6) bytes, which is where it is unless the error carries IPv4
 * options or IPv6 extension headers; espd takes it where the ICMP header
 * ends, so those read the quote too rather than bytes before it. A quote of
 * the other family, or too short for its IP header, quotes no flow.
 */
int spd_icmp_quote_key_parse(struct spd_packet_key *quote, const struct spd_packet_key *key,
			     const void *l3, uint32_t len)
{
	const uint8_t *ip = l3;
	int l4 = parse(quote, ip, len);
	uint8_t icmp = key->family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;

	if (l4 < 0 || quote->family != key->family || quote->proto != icmp ||
	    (uint32_t)l4 + ICMP_HEADER_LEN > len)
		return -EINVAL;
	l4 += ICMP_HEADER_LEN;
	if (parse(quote, ip + l4, len - (uint32_t)l4) < 0 || quote->family != key->family)
		return -EINVAL;
	key_reverse(quote);
	quote->mark = key->mark;
	quote->if_id = key->if_id;
	return 0;
}

/* Out of line: only ICMP errors without a policy of their own ask, and the
 * quote parser inlined into the graph's policy nodes cost every packet
 * there ~10 cycles (bench/run-esp.sh, spd-input). */
__rte_noinline const struct spd_policy *
spd_icmp_quote_lookup(enum spd_dir dir, const struct spd_packet_key *key, const void *l3,
		      uint32_t len, struct spd_packet_key *quote)
{
	return spd_icmp_quote_key_parse(quote, key, l3, len) == 0 ? spd_lookup(dir, quote) : NULL;
}

/* ---- Names ---- */

const char *format_spd_dir(uint8_t dir)
{
	static const char *const names[] = { "in", "out", "fwd" };
	return dir < RTE_DIM(names) ? names[dir] : "?";
}

const char *format_spd_action(uint8_t action)
{
	return action == SPD_ACTION_BLOCK ? "block" : "allow";
}

const char *format_spd_verdict(uint8_t verdict)
{
	static const char *const names[] = { "bypass", "discard", "protect", "kernel", "no SA" };
	return verdict < RTE_DIM(names) ? names[verdict] : "?";
}
