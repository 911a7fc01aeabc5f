/*
 * Inside the rtnetlink mirror: rtnl.c (sockets, event queue, dumps) hands
 * parsed objects to rtnl_apply.c (shadow state, table updates, sweep).
 * Not for use outside the mirror.
 */
#ifndef ESPD_CONTROL_RTNL_APPLY_H
#define ESPD_CONTROL_RTNL_APPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "control/rtnl.h"

/* One parsed message, as queued between reading and applying. */
struct rtnl_event {
	uint64_t time_ms;
	uint16_t type; /* RTM_* */
	union {
		struct rtnl_link link;
		struct rtnl_addr addr;
		struct rtnl_neigh neigh;
		struct rtnl_route route;
		struct rtnl_netconf netconf;
	};
};

/* State both halves use; owned by rtnl.c. */
struct rtnl_shared {
	uint32_t generation;       /* the mark of every object applied now */
	bool in_dump;              /* applying a dump rather than events */
	bool ignore_kernel_routes;
	bool fib_dirty;            /* routes changed since the last fib_commit */
	void (*mtu_changed)(struct iface *iface, uint32_t mtu); /* rtnl_mirror_config's */
	struct rtnl_stats stats;
};
extern struct rtnl_shared rtnl_shared;

void rtnl_apply_event(const struct rtnl_event *ev);  /* into the tables */
void rtnl_apply_sweep(void);                         /* delete what the dump did not mark */
void rtnl_apply_publish(void);                       /* after a batch: the own addresses */
void rtnl_apply_free(void);                          /* forget the shadow state */
size_t rtnl_apply_route_count(void);                 /* prefixes the mirror put in the FIB */
size_t rtnl_apply_addr_count(void);

/* Count an error, keep its text for `show netlink` and log it. */
void rtnl_mirror_error(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
