/*
 * What the linux-cp files share among themselves; espd uses lcp.h only.
 * lcp.c drives the steps through these: addresses (lcp_addr.c) and routes
 * (lcp_route.c) over rtnetlink, the ingress fence (lcp_fence.c) and the
 * offloads (lcp_offload.c).
 */
#ifndef ESPD_PORTS_LCP_INTERNAL_H
#define ESPD_PORTS_LCP_INTERNAL_H

#include <string.h>

#include "control/nl.h"
#include "ports/lcp.h"

/* An rtnetlink socket and the device's kernel name, for messages. */
struct lcp_ctx {
	struct nl_sock nl;
	const char *name;
};

/* Print "espd: lcp: <name>: <what> failed: <why>" and return rc (< 0). */
int lcp_fail(const char *name, const char *what, int rc);

static inline void lcp_attr_get_ip(struct ip_addr *addr, uint8_t family, const struct nlattr *attr)
{
	if (mnl_attr_get_payload_len(attr) == ip_addr_size(family))
		ip_addr_from_bytes(addr, family, mnl_attr_get_payload(attr));
}

static inline void lcp_attr_put_ip(struct nlmsghdr *nlh, uint16_t type, const struct ip_addr *addr)
{
	if (addr->family)
		mnl_attr_put(nlh, type, ip_addr_size(addr->family), addr->bytes);
}

/* A string attribute into dst (size bytes), cut if longer. */
static inline void lcp_attr_get_str(char *dst, size_t size, const struct nlattr *attr)
{
	size_t len = strnlen(mnl_attr_get_payload(attr), mnl_attr_get_payload_len(attr));

	if (len >= size)
		len = size - 1;
	memcpy(dst, mnl_attr_get_payload(attr), len);
	dst[len] = '\0';
}

/* lcp_addr.c: the addresses of ifindex into s (kernel-made IPv6 ones left
 * out; mac recognises the EUI-64 link-local), added back, or all removed. */
int lcp_addrs_capture(struct lcp_ctx *c, int ifindex, const uint8_t mac[6], struct lcp_saved *s);
int lcp_addrs_add(struct lcp_ctx *c, const struct lcp_saved *s, int ifindex);
int lcp_addrs_flush(struct lcp_ctx *c, int ifindex);

/* lcp_route.c: the single-nexthop routes through ifindex into s (kernel-made
 * and local-table ones left out), added back with oif, or all removed. */
int lcp_routes_capture(struct lcp_ctx *c, int ifindex, struct lcp_saved *s);
int lcp_routes_add(struct lcp_ctx *c, const struct lcp_saved *s, int oif);
int lcp_routes_flush(struct lcp_ctx *c, int ifindex);

/* lcp_fence.c: whether nft takes table unquoted; install s->fence on
 * s->phys_name; remove it, doing nothing when it is not there. */
bool lcp_fence_table_valid(const char *table);
int lcp_fence_add(const struct lcp_saved *s);
int lcp_fence_del(const struct lcp_saved *s);

/* lcp_offload.c: the offloads of device ifname into s->offloads (all
 * unsupported when the device has no ethtool features); turn the supported
 * ones off; set them back as captured. */
int lcp_offloads_capture(const char *ifname, struct lcp_saved *s);
int lcp_offloads_off(const struct lcp_saved *s, const char *ifname);
int lcp_offloads_restore(const struct lcp_saved *s, const char *ifname);

#endif
