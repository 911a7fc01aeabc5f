/*
 * Internals shared by the ACL module's files: the published tables, the
 * classification keys handed to rte_acl, per-worker counter rows and the
 * reflect-session interface. Only src/tables/acl*.c and the unit test
 * include this; everything else uses acl.h.
 */
#ifndef ESPD_TABLES_ACL_PRIVATE_H
#define ESPD_TABLES_ACL_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_acl.h>
#include <rte_common.h>
#include <rte_mbuf.h>

#include "config/config.h"
#include "graph/counters.h"
#include "tables/acl.h"
#include "tables/iface.h"

#define ACL_CHUNK 64                  /* packets classified per rte_acl call */
#define ACL_SESSIONS_PER_WORKER 65536
#define ACL_TCP_TIMEOUT_S 3600
#define ACL_OTHER_TIMEOUT_S 120

/* What the key parser found in a frame. */
enum acl_family {
	ACL_FAM_IP4 = 0,  /* index of the IPv4 context */
	ACL_FAM_IP6 = 1,  /* index of the IPv6 context */
	ACL_FAM_PASS,     /* not IP: not subject to ACLs */
	ACL_FAM_BAD,      /* IP, but headers unreadable: matches no rule */
};

/* What the parser could read (acl_key.parsed). */
#define ACL_KEY_L4 0x01              /* ports and TCP flags are known */
#define ACL_KEY_LATER_FRAGMENT 0x02  /* a non-first fragment: no transport header */

/* The fields rte_acl reads, in network byte order. rte_acl consumes input
 * in groups of four bytes after a first one-byte field, hence the layout.
 * IPv4 addresses use the first four bytes of src and dst. */
struct acl_key {
	uint8_t proto;
	uint8_t pad0[3];
	uint8_t tcp_flags;
	uint8_t parsed;    /* ACL_KEY_* */
	uint8_t pad1[2];
	uint16_t sport, dport;
	uint8_t src[16];
	uint8_t dst[16];
};

/* The fields a MAC ACL matches: source MAC and source address. */
struct acl_mac_key {
	uint8_t first;     /* always 0: rte_acl's first field is one byte */
	uint8_t pad[3];
	uint8_t mac[8];    /* source MAC, then two zero bytes */
	uint8_t src[16];
};

struct acl_counter {
	uint64_t packets, bytes;
};

/* One rule of a combined (interface, direction) list. */
struct acl_slot {
	uint32_t counter;  /* index into acl_row.rules */
	uint8_t action;    /* enum acl_action */
};

/* The lists bound to one interface in one direction (or its MAC list).
 * Non-first fragments are classified against later_ctx: the same rules on
 * protocol and addresses only. It is ctx itself when no rule of the family
 * names ports or TCP flags; MAC lists leave it NULL. */
struct acl_attach {
	struct rte_acl_ctx *ctx[2]; /* by enum acl_family; NULL: no rule of that family */
	struct rte_acl_ctx *later_ctx[2];
	struct acl_slot *slots;     /* userdata - 1 indexes this */
	uint32_t n_slots;
	bool reflect;               /* the interface has a permit-reflect rule bound */
};

/* One worker's counters; the rows of a generation are indexed by worker. */
struct acl_row {
	struct acl_counter deny[IFACE_MAX][2];    /* default deny per (iface, dir) */
	struct acl_counter session[IFACE_MAX][2]; /* permitted by a reflect session */
	struct acl_counter mac_deny[IFACE_MAX];   /* MAC ACL default deny */
	struct acl_counter rules[];               /* IP rules, then MAC rules */
};
_Static_assert(sizeof(struct acl_row) % sizeof(struct acl_counter) == 0,
	       "an acl_row is an array of counters (acl_counters_clear)");

/* A list as configured, with where its counters start. */
struct acl_view {
	const struct acl_list *list;         /* into acl_tables.cfg */
	uint32_t first_counter;
};

struct acl_mac_view {
	const struct macip_list *list;
	uint32_t first_counter;
};

/* One generation of published tables. Workers read ip, mac, the active
 * masks and rows; the rest is for the control thread. */
struct acl_tables {
	struct acl_attach ip[IFACE_MAX][2];
	struct acl_attach mac[IFACE_MAX];
	uint32_t ip_active[2];           /* interfaces with lists, per direction */
	uint32_t mac_active;             /* interfaces with a MAC list */
	struct acl_row *rows[ESPD_WORKERS_MAX];

	struct acl_row *base;            /* counts carried over from older tables */
	uint32_t n_counters;
	struct config cfg;               /* the ACL part of the config, owned */
	struct acl_view *views;          /* parallel to cfg.acls */
	struct acl_mac_view *mac_views;  /* parallel to cfg.macips */
	uint64_t generation;
};

struct acl_state {
	struct rte_rcu_qsbr *rcu;
	unsigned n_workers;
	struct acl_tables *current;      /* workers load it with acquire */
	uint64_t generations;
	uint64_t tsc_hz;
};

extern struct acl_state acl_state;

static inline const struct acl_tables *acl_tables_current(void)
{
	return __atomic_load_n(&acl_state.current, __ATOMIC_ACQUIRE);
}

static inline size_t acl_row_size(uint32_t n_counters)
{
	return RTE_ALIGN_CEIL(sizeof(struct acl_row) + n_counters * sizeof(struct acl_counter),
			      RTE_CACHE_LINE_SIZE);
}

/* acl_build.c: the tables of a config, and freeing them. */
int acl_tables_build(const struct config *cfg, struct acl_tables **out, char *err,
		     size_t err_size);
void acl_tables_free(struct acl_tables *t);

/* acl_classify.c: the fast path, with an explicit TSC time for tests. */
uint16_t acl_filter_burst_at(uint64_t now, unsigned worker, enum acl_dir dir,
			     const uint16_t ifaces[], struct rte_mbuf *pkts[], uint16_t n);

/* acl_reflect.c: reflect sessions. Keys are built from the packet's key;
 * track records the reversed flow for the opposite direction. */
struct acl_session_stats {
	uint64_t active, created, expired, full;
};

int acl_sessions_init(unsigned n_workers, struct rte_rcu_qsbr *rcu, uint64_t tsc_hz);
bool acl_sessions_ready(void);
void acl_session_track(unsigned worker, const struct acl_key *key, enum acl_family fam,
		       uint16_t iface, enum acl_dir dir, uint64_t now);
bool acl_session_hit(unsigned worker, const struct acl_key *key, enum acl_family fam,
		     uint16_t iface, enum acl_dir dir, uint64_t now);
void acl_sessions_sweep(unsigned worker, uint64_t now, unsigned budget);
void acl_sessions_stats(struct acl_session_stats *stats);
void acl_sessions_fini(void);

/* acl.c: one counter summed over the carried base and every worker row;
 * in_base is the counter's address within t->base. */
struct acl_counter acl_counter_total(const struct acl_tables *t, const struct acl_counter *in_base);

#endif
