/*
 * linux-cp routes: capture the routes that leave through a device by a
 * single nexthop, add them back through another (the TAP) or the same
 * device, and remove what is still routed through the device once it is
 * stripped; rtnetlink through control/nl.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <linux/rtnetlink.h>

#include "ports/lcp_internal.h"

struct route_dump {
	int ifindex;
	bool all;        /* also keep routes the kernel makes itself */
	const char *name; /* report routes that cannot be moved; NULL: quiet */
	struct lcp_route *routes;
	size_t n;
	int rc;
};

static const char *format_route(char *buf, size_t size, const struct lcp_route *r)
{
	char dst[IP_PREFIX_STRLEN], gw[IP_ADDR_STRLEN];

	snprintf(buf, size, "%s%s%s table %u", format_ip_prefix(dst, sizeof(dst), &r->dst),
		 r->gateway.family ? " via " : "",
		 r->gateway.family ? format_ip_addr(gw, sizeof(gw), &r->gateway) : "", r->table);
	return buf;
}

static bool multipath_uses(const struct nlattr *attr, int ifindex)
{
	const struct rtnexthop *nh = mnl_attr_get_payload(attr);
	int len = (int)mnl_attr_get_payload_len(attr);

	for (; len >= (int)sizeof(*nh) && nh->rtnh_len >= sizeof(*nh) && nh->rtnh_len <= len;
	     len -= RTNH_ALIGN(nh->rtnh_len), nh = RTNH_NEXT(nh))
		if (nh->rtnh_ifindex == ifindex)
			return true;
	return false;
}

/* Parse one route; returns the ifindex it leaves through, 0 if none. *complex
 * is set for routes whose nexthops cannot be moved as one address pair. */
static int route_parse(const struct nlmsghdr *nlh, struct lcp_route *r, int ifindex, bool *complex)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	int oif = 0;

	r->dst.addr.family = rtm->rtm_family;
	r->dst.len = rtm->rtm_dst_len;
	if (rtm->rtm_src_len) {
		r->src.addr.family = rtm->rtm_family;
		r->src.len = rtm->rtm_src_len;
	}
	r->table = rtm->rtm_table;
	r->protocol = rtm->rtm_protocol;
	r->scope = rtm->rtm_scope;
	r->type = rtm->rtm_type;
	r->tos = rtm->rtm_tos;
	r->flags = rtm->rtm_flags;
	r->pref = -1;
	mnl_attr_for_each(attr, nlh, sizeof(*rtm)) {
		const void *p = mnl_attr_get_payload(attr);
		bool u32 = mnl_attr_validate(attr, MNL_TYPE_U32) == 0;
		switch (mnl_attr_get_type(attr)) {
		case RTA_TABLE:
			r->table = u32 ? mnl_attr_get_u32(attr) : r->table;
			break;
		case RTA_PRIORITY:
			r->metric = u32 ? mnl_attr_get_u32(attr) : 0;
			break;
		case RTA_OIF:
			oif = u32 ? (int)mnl_attr_get_u32(attr) : 0;
			break;
		case RTA_DST:
			lcp_attr_get_ip(&r->dst.addr, rtm->rtm_family, attr);
			break;
		case RTA_SRC:
			lcp_attr_get_ip(&r->src.addr, rtm->rtm_family, attr);
			break;
		case RTA_GATEWAY:
			lcp_attr_get_ip(&r->gateway, rtm->rtm_family, attr);
			break;
		case RTA_PREFSRC:
			lcp_attr_get_ip(&r->prefsrc, rtm->rtm_family, attr);
			break;
		case RTA_PREF:
			if (mnl_attr_validate(attr, MNL_TYPE_U8) == 0)
				r->pref = mnl_attr_get_u8(attr);
			break;
		case RTA_VIA: {
			const struct rtvia *via = p;
			if (mnl_attr_get_payload_len(attr) == sizeof(*via) + ip_addr_size(via->rtvia_family))
				ip_addr_from_bytes(&r->gateway, (uint8_t)via->rtvia_family, via->rtvia_addr);
			break;
		}
		case RTA_METRICS:
			if (mnl_attr_get_payload_len(attr) > sizeof(r->metrics)) {
				*complex = true;
				break;
			}
			r->metrics_len = mnl_attr_get_payload_len(attr);
			memcpy(r->metrics, p, r->metrics_len);
			break;
		case RTA_MULTIPATH:
			if (multipath_uses(attr, ifindex))
				oif = ifindex;
			*complex = true;
			break;
		case RTA_NH_ID:
		case RTA_ENCAP:
			*complex = true;
			break;
		}
	}
	return oif;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct route_dump *d = data;
	struct lcp_route r = { 0 }, *slot;
	bool complex = false;
	char buf[128];

	if (nlh->nlmsg_type != RTM_NEWROUTE || (rtm->rtm_flags & RTM_F_CLONED) ||
	    (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6))
		return MNL_CB_OK;
	if (route_parse(nlh, &r, d->ifindex, &complex) != d->ifindex)
		return MNL_CB_OK;
	if (!d->all && (r.table == RT_TABLE_LOCAL || r.protocol == RTPROT_KERNEL ||
			r.protocol == RTPROT_RA))
		return MNL_CB_OK;
	if (complex) {
		if (d->name)
			fprintf(stderr, "espd: lcp: %s: route %s has several nexthops, a nexthop "
				"object or an encap; not moved\n", d->name,
				format_route(buf, sizeof(buf), &r));
		return MNL_CB_OK;
	}
	slot = lcp_array_append(&d->routes, &d->n, sizeof(r));
	if (!slot)
		d->rc = -ENOMEM;
	else
		*slot = r;
	return MNL_CB_OK;
}

static int route_dump(struct lcp_ctx *c, struct route_dump *d)
{
	struct rtmsg hdr = { .rtm_family = AF_UNSPEC };
	int rc = nl_dump(&c->nl, RTM_GETROUTE, &hdr, sizeof(hdr), route_cb, d);

	if (rc == 0)
		rc = d->rc;
	if (rc < 0) {
		free(d->routes);
		d->routes = NULL;
		d->n = 0;
		return lcp_fail(c->name, "reading routes", rc);
	}
	return 0;
}

static int route_msg(struct lcp_ctx *c, uint16_t type, const struct lcp_route *r, int oif)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	bool add = type == RTM_NEWROUTE;
	struct nlmsghdr *nlh = nl_msg_start(&c->nl, buf, type, add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	uint8_t family = r->dst.addr.family;

	rtm->rtm_family = family;
	rtm->rtm_dst_len = r->dst.len;
	rtm->rtm_src_len = r->src.len;
	rtm->rtm_tos = r->tos;
	rtm->rtm_table = r->table < 256 ? (uint8_t)r->table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = r->protocol;
	rtm->rtm_scope = add ? r->scope : RT_SCOPE_NOWHERE; /* NOWHERE: any, on delete */
	rtm->rtm_type = r->type;
	rtm->rtm_flags = r->flags & RTNH_F_ONLINK;
	mnl_attr_put_u32(nlh, RTA_TABLE, r->table);
	if (r->dst.len)
		lcp_attr_put_ip(nlh, RTA_DST, &r->dst.addr);
	if (r->src.len)
		lcp_attr_put_ip(nlh, RTA_SRC, &r->src.addr);
	if (r->gateway.family == family) {
		lcp_attr_put_ip(nlh, RTA_GATEWAY, &r->gateway);
	} else if (r->gateway.family) {
		char via[sizeof(struct rtvia) + 16];
		size_t size = ip_addr_size(r->gateway.family);
		((struct rtvia *)via)->rtvia_family = r->gateway.family;
		memcpy(via + sizeof(struct rtvia), r->gateway.bytes, size);
		mnl_attr_put(nlh, RTA_VIA, sizeof(struct rtvia) + size, via);
	}
	if (r->metric)
		mnl_attr_put_u32(nlh, RTA_PRIORITY, r->metric);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)oif);
	if (add) {
		lcp_attr_put_ip(nlh, RTA_PREFSRC, &r->prefsrc);
		if (r->pref >= 0 && family == AF_INET6)
			mnl_attr_put_u8(nlh, RTA_PREF, (uint8_t)r->pref);
		if (r->metrics_len)
			mnl_attr_put(nlh, RTA_METRICS, r->metrics_len, r->metrics);
	}
	return nl_request(&c->nl, nlh, NULL, NULL);
}

/* A route may need another saved route for its gateway: retry the failures
 * while each pass adds something. */
int lcp_routes_add(struct lcp_ctx *c, const struct lcp_saved *s, int oif)
{
	int *rcs = calloc(s->n_routes ? s->n_routes : 1, sizeof(*rcs));
	size_t left = s->n_routes, added;
	int first = 0;
	char buf[128], what[160];

	if (!rcs)
		return lcp_fail(c->name, "adding routes", -ENOMEM);
	for (size_t i = 0; i < s->n_routes; i++)
		rcs[i] = -EAGAIN;
	do {
		added = 0;
		for (size_t i = 0; i < s->n_routes; i++) {
			if (rcs[i] == 0)
				continue;
			rcs[i] = route_msg(c, RTM_NEWROUTE, &s->routes[i], oif);
			if (rcs[i] == -EEXIST)
				rcs[i] = 0;
			added += rcs[i] == 0;
		}
		left -= added;
	} while (left && added);
	for (size_t i = 0; i < s->n_routes; i++) {
		if (rcs[i] == 0)
			continue;
		snprintf(what, sizeof(what), "adding route %s",
			 format_route(buf, sizeof(buf), &s->routes[i]));
		if (!first)
			first = rcs[i];
		lcp_fail(c->name, what, rcs[i]);
	}
	free(rcs);
	return first;
}

/* Remove what is still routed through the device once its addresses and
 * IPv6 are gone (the kernel drops most of it by itself). */
int lcp_routes_flush(struct lcp_ctx *c, int ifindex)
{
	struct route_dump d = { .ifindex = ifindex, .all = true };
	int rc = route_dump(c, &d), first = rc;
	char buf[128], what[160];

	for (size_t i = 0; rc == 0 && i < d.n; i++) {
		int del = route_msg(c, RTM_DELROUTE, &d.routes[i], ifindex);
		if (del < 0 && del != -ESRCH && del != -ENOENT && !first) {
			snprintf(what, sizeof(what), "removing route %s",
				 format_route(buf, sizeof(buf), &d.routes[i]));
			first = lcp_fail(c->name, what, del);
		}
	}
	free(d.routes);
	return first;
}

int lcp_routes_capture(struct lcp_ctx *c, int ifindex, struct lcp_saved *s)
{
	struct route_dump d = { .ifindex = ifindex, .name = c->name };
	int rc = route_dump(c, &d);

	if (rc < 0)
		return rc;
	s->routes = d.routes;
	s->n_routes = d.n;
	return 0;
}
