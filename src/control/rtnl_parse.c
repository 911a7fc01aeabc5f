/*
 * Paired translators between rtnetlink messages and the mirror's structs,
 * and the rules that decide what the mirror does with a parsed object.
 * Nothing here touches a table or a socket. Every attribute is length
 * checked before use: odd kernel input is reported, never trusted.
 */
#include "control/rtnl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netconf.h>

struct attr_table {
	const struct nlattr **tb;
	uint16_t max;
};

/* Keep the last occurrence of each known attribute; newer kernels add
 * attributes the mirror does not know, which are skipped. */
static int collect_attr(const struct nlattr *attr, void *data)
{
	struct attr_table *table = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (type <= table->max)
		table->tb[type] = attr;
	return MNL_CB_OK;
}

static int parse_attrs(const struct nlmsghdr *nlh, size_t hdr_len, const struct nlattr **tb,
		       uint16_t max)
{
	struct attr_table table = { tb, max };

	memset(tb, 0, sizeof(*tb) * (max + 1u));
	if (mnl_nlmsg_get_payload_len(nlh) < hdr_len)
		return -EINVAL;
	return mnl_attr_parse(nlh, (unsigned)hdr_len, collect_attr, &table) < 0 ? -EINVAL : 0;
}

static int attr_addr(const struct nlattr *attr, uint8_t family, struct ip_addr *addr)
{
	if (mnl_attr_get_payload_len(attr) != ip_addr_size(family))
		return -EINVAL;
	ip_addr_from_bytes(addr, family, mnl_attr_get_payload(attr));
	return 0;
}

static int attr_u32(const struct nlattr *attr, uint32_t *value)
{
	if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
		return -EINVAL;
	*value = mnl_attr_get_u32(attr);
	return 0;
}

static bool is_family(uint8_t family)
{
	return family == AF_INET || family == AF_INET6;
}

int rtnl_msg_to_link(const struct nlmsghdr *nlh, struct rtnl_link *link)
{
	const struct nlattr *tb[IFLA_MAX + 1];
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	memset(link, 0, sizeof(*link));
	if (parse_attrs(nlh, sizeof(*ifi), tb, IFLA_MAX) < 0)
		return -EINVAL;
	/* AF_BRIDGE messages describe bridge ports, not the link itself. */
	if (ifi->ifi_family != AF_UNSPEC)
		return -EAFNOSUPPORT;
	link->ifindex = ifi->ifi_index;
	link->flags = ifi->ifi_flags;
	link->operstate = IF_OPER_UNKNOWN;
	link->del = nlh->nlmsg_type == RTM_DELLINK;
	if (tb[IFLA_MTU] && attr_u32(tb[IFLA_MTU], &link->mtu) < 0)
		return -EINVAL;
	if (tb[IFLA_OPERSTATE]) {
		if (mnl_attr_validate(tb[IFLA_OPERSTATE], MNL_TYPE_U8) < 0)
			return -EINVAL;
		link->operstate = mnl_attr_get_u8(tb[IFLA_OPERSTATE]);
	}
	if (tb[IFLA_IFNAME]) {
		if (mnl_attr_validate(tb[IFLA_IFNAME], MNL_TYPE_NUL_STRING) < 0)
			return -EINVAL;
		snprintf(link->name, sizeof(link->name), "%s", mnl_attr_get_str(tb[IFLA_IFNAME]));
	}
	return link->ifindex > 0 ? 0 : -EINVAL;
}

int rtnl_msg_to_addr(const struct nlmsghdr *nlh, struct rtnl_addr *addr)
{
	const struct nlattr *tb[IFA_MAX + 1];
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);

	memset(addr, 0, sizeof(*addr));
	if (parse_attrs(nlh, sizeof(*ifa), tb, IFA_MAX) < 0)
		return -EINVAL;
	if (!is_family(ifa->ifa_family))
		return -EAFNOSUPPORT;
	if (ifa->ifa_prefixlen > ip_addr_size(ifa->ifa_family) * 8)
		return -EINVAL;
	addr->ifindex = (int)ifa->ifa_index;
	addr->prefix.len = ifa->ifa_prefixlen;
	addr->flags = ifa->ifa_flags;
	addr->scope = ifa->ifa_scope;
	addr->del = nlh->nlmsg_type == RTM_DELADDR;
	/* IFA_LOCAL is our side of a point-to-point link, IFA_ADDRESS its peer;
	 * without a peer only IFA_ADDRESS may be present (IPv6). */
	const struct nlattr *local = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!local || attr_addr(local, ifa->ifa_family, &addr->prefix.addr) < 0)
		return -EINVAL;
	if (tb[IFA_BROADCAST] &&
	    attr_addr(tb[IFA_BROADCAST], ifa->ifa_family, &addr->broadcast) < 0)
		return -EINVAL;
	if (tb[IFA_FLAGS] && attr_u32(tb[IFA_FLAGS], &addr->flags) < 0)
		return -EINVAL;
	return 0;
}

int rtnl_msg_to_neigh(const struct nlmsghdr *nlh, struct rtnl_neigh *neigh)
{
	const struct nlattr *tb[NDA_MAX + 1];
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);

	memset(neigh, 0, sizeof(*neigh));
	if (parse_attrs(nlh, sizeof(*ndm), tb, NDA_MAX) < 0)
		return -EINVAL;
	if (!is_family(ndm->ndm_family))
		return -EAFNOSUPPORT;
	neigh->ifindex = ndm->ndm_ifindex;
	neigh->state = ndm->ndm_state;
	neigh->flags = ndm->ndm_flags;
	neigh->del = nlh->nlmsg_type == RTM_DELNEIGH;
	if (!tb[NDA_DST] || attr_addr(tb[NDA_DST], ndm->ndm_family, &neigh->addr) < 0)
		return -EINVAL;
	/* Tunnels and InfiniBand have other link-layer lengths; espd ports are Ethernet. */
	if (tb[NDA_LLADDR] && mnl_attr_get_payload_len(tb[NDA_LLADDR]) == sizeof(neigh->lladdr)) {
		memcpy(neigh->lladdr, mnl_attr_get_payload(tb[NDA_LLADDR]), sizeof(neigh->lladdr));
		neigh->has_lladdr = true;
	}
	return 0;
}

/* RTA_VIA carries a gateway of any family (an IPv4 route via an IPv6 router). */
static int attr_via(const struct nlattr *attr, struct ip_addr *gw)
{
	const struct rtvia *via = mnl_attr_get_payload(attr);
	size_t len = mnl_attr_get_payload_len(attr);

	if (len < sizeof(*via) || !is_family((uint8_t)via->rtvia_family) ||
	    len - sizeof(*via) != ip_addr_size((uint8_t)via->rtvia_family))
		return -EINVAL;
	ip_addr_from_bytes(gw, (uint8_t)via->rtvia_family, via->rtvia_addr);
	return 0;
}

static int hop_gateway(const struct nlattr *const *tb, uint8_t family, struct ip_addr *gw)
{
	memset(gw, 0, sizeof(*gw));
	if (tb[RTA_GATEWAY])
		return attr_addr(tb[RTA_GATEWAY], family, gw);
	if (tb[RTA_VIA])
		return attr_via(tb[RTA_VIA], gw);
	return 0;
}

/* Every hop with its weight (rtnh_hops + 1, as fib_get_nhs) and flags,
 * the first RTNL_ROUTE_HOPS kept; oif and gw name the first hop that is
 * neither dead nor link-down (else the first one). */
static int parse_multipath(const struct nlattr *attr, uint8_t family, struct rtnl_route *route)
{
	const struct rtnexthop *rtnh = mnl_attr_get_payload(attr);
	int len = (int)mnl_attr_get_payload_len(attr);
	bool chosen_live = false;

	route->n_hops = 0;
	for (; len >= (int)sizeof(*rtnh) && RTNH_OK(rtnh, len);
	     len -= (int)RTNH_ALIGN(rtnh->rtnh_len), rtnh = RTNH_NEXT(rtnh)) {
		const struct nlattr *tb[RTA_MAX + 1] = { 0 };
		struct attr_table table = { tb, RTA_MAX };
		struct rtnl_hop hop = { .oif = rtnh->rtnh_ifindex, .weight = rtnh->rtnh_hops + 1u,
					.flags = rtnh->rtnh_flags };
		bool live = !(rtnh->rtnh_flags & (RTNH_F_DEAD | RTNH_F_LINKDOWN));

		if (mnl_attr_parse_payload(RTNH_DATA(rtnh), rtnh->rtnh_len - RTNH_LENGTH(0),
					   collect_attr, &table) < 0 ||
		    hop_gateway(tb, family, &hop.gw) < 0)
			return -EINVAL;
		if (route->n_hops == 0 || (live && !chosen_live)) {
			route->oif = hop.oif;
			route->gw = hop.gw;
			chosen_live = live;
		}
		if (route->n_hops < RTNL_ROUTE_HOPS)
			route->hops[route->n_hops] = hop;
		route->n_hops++;
	}
	return route->n_hops > 0 ? 0 : -EINVAL;
}

static int route_hops(const struct nlattr *const *tb, uint8_t family, struct rtnl_route *route)
{
	uint32_t oif = 0;

	if (tb[RTA_MULTIPATH])
		return parse_multipath(tb[RTA_MULTIPATH], family, route);
	if (tb[RTA_OIF] && attr_u32(tb[RTA_OIF], &oif) < 0)
		return -EINVAL;
	route->oif = (int)oif;
	route->n_hops = 1;
	return hop_gateway(tb, family, &route->gw);
}

/* The metrics the mirror uses: the hop limit, which the kernel keeps up to
 * 255 (ip_metrics_convert). */
static int route_metrics(const struct nlattr *attr, struct rtnl_route *route)
{
	const struct nlattr *tb[RTAX_MAX + 1] = { 0 };
	struct attr_table table = { tb, RTAX_MAX };
	uint32_t hop_limit;

	if (mnl_attr_parse_nested(attr, collect_attr, &table) < 0)
		return -EINVAL;
	if (!tb[RTAX_HOPLIMIT])
		return 0;
	if (attr_u32(tb[RTAX_HOPLIMIT], &hop_limit) < 0)
		return -EINVAL;
	route->hop_limit = hop_limit > UINT8_MAX ? UINT8_MAX : (uint8_t)hop_limit;
	return 0;
}

int rtnl_msg_to_route(const struct nlmsghdr *nlh, struct rtnl_route *route)
{
	const struct nlattr *tb[RTA_MAX + 1];
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);

	memset(route, 0, sizeof(*route));
	if (parse_attrs(nlh, sizeof(*rtm), tb, RTA_MAX) < 0)
		return -EINVAL;
	if (!is_family(rtm->rtm_family))
		return -EAFNOSUPPORT;
	if (rtm->rtm_dst_len > ip_addr_size(rtm->rtm_family) * 8)
		return -EINVAL;
	route->prefix.addr.family = rtm->rtm_family;
	route->prefix.len = rtm->rtm_dst_len;
	route->table = rtm->rtm_table;
	route->flags = rtm->rtm_flags;
	route->type = rtm->rtm_type;
	route->protocol = rtm->rtm_protocol;
	route->scope = rtm->rtm_scope;
	route->tos = rtm->rtm_tos;
	route->src_len = rtm->rtm_src_len;
	route->append = (nlh->nlmsg_flags & NLM_F_APPEND) != 0;
	route->replace = (nlh->nlmsg_flags & NLM_F_REPLACE) != 0;
	route->del = nlh->nlmsg_type == RTM_DELROUTE;
	if (tb[RTA_DST] && attr_addr(tb[RTA_DST], rtm->rtm_family, &route->prefix.addr) < 0)
		return -EINVAL;
	ip_prefix_mask(&route->prefix);
	if ((tb[RTA_TABLE] && attr_u32(tb[RTA_TABLE], &route->table) < 0) ||
	    (tb[RTA_PRIORITY] && attr_u32(tb[RTA_PRIORITY], &route->priority) < 0) ||
	    (tb[RTA_METRICS] && route_metrics(tb[RTA_METRICS], route) < 0))
		return -EINVAL;
	return route_hops(tb, rtm->rtm_family, route);
}

static int attr_s32(const struct nlattr *attr, int32_t *value)
{
	uint32_t word;

	if (attr_u32(attr, &word) < 0)
		return -EINVAL;
	*value = (int32_t)word;
	return 0;
}

int rtnl_msg_to_netconf(const struct nlmsghdr *nlh, struct rtnl_netconf *conf)
{
	const struct nlattr *tb[NETCONFA_MAX + 1];
	const struct netconfmsg *ncm = mnl_nlmsg_get_payload(nlh);
	int32_t ifindex;

	memset(conf, 0, sizeof(*conf));
	conf->forwarding = conf->rp_filter = RTNL_NETCONF_ABSENT;
	if (parse_attrs(nlh, sizeof(*ncm), tb, NETCONFA_MAX) < 0)
		return -EINVAL;
	if (!is_family(ncm->ncm_family))
		return -EAFNOSUPPORT;
	conf->family = ncm->ncm_family;
	if (!tb[NETCONFA_IFINDEX] || attr_s32(tb[NETCONFA_IFINDEX], &ifindex) < 0 ||
	    (tb[NETCONFA_FORWARDING] && attr_s32(tb[NETCONFA_FORWARDING], &conf->forwarding) < 0) ||
	    (tb[NETCONFA_RP_FILTER] && attr_s32(tb[NETCONFA_RP_FILTER], &conf->rp_filter) < 0))
		return -EINVAL;
	conf->ifindex = ifindex;
	return 0;
}

static struct nlmsghdr *msg_start(void *buf, uint16_t type, const void *hdr, size_t hdr_len)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	memcpy(mnl_nlmsg_put_extra_header(nlh, hdr_len), hdr, hdr_len);
	return nlh;
}

struct nlmsghdr *rtnl_link_to_msg(const struct rtnl_link *link, void *buf)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = link->ifindex,
				 .ifi_flags = link->flags, .ifi_change = 0xffffffffu };
	struct nlmsghdr *nlh = msg_start(buf, link->del ? RTM_DELLINK : RTM_NEWLINK, &ifi,
					 sizeof(ifi));

	if (link->name[0])
		mnl_attr_put_strz(nlh, IFLA_IFNAME, link->name);
	if (link->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, link->mtu);
	mnl_attr_put_u8(nlh, IFLA_OPERSTATE, link->operstate);
	return nlh;
}

struct nlmsghdr *rtnl_addr_to_msg(const struct rtnl_addr *addr, void *buf)
{
	uint8_t family = addr->prefix.addr.family;
	size_t size = ip_addr_size(family);
	struct ifaddrmsg ifa = { .ifa_family = family, .ifa_prefixlen = addr->prefix.len,
				 .ifa_flags = (uint8_t)addr->flags, .ifa_scope = addr->scope,
				 .ifa_index = (uint32_t)addr->ifindex };
	struct nlmsghdr *nlh = msg_start(buf, addr->del ? RTM_DELADDR : RTM_NEWADDR, &ifa,
					 sizeof(ifa));

	mnl_attr_put(nlh, IFA_ADDRESS, size, addr->prefix.addr.bytes);
	if (family == AF_INET)
		mnl_attr_put(nlh, IFA_LOCAL, size, addr->prefix.addr.bytes);
	if (addr->broadcast.family == family)
		mnl_attr_put(nlh, IFA_BROADCAST, size, addr->broadcast.bytes);
	mnl_attr_put_u32(nlh, IFA_FLAGS, addr->flags);
	return nlh;
}

struct nlmsghdr *rtnl_neigh_to_msg(const struct rtnl_neigh *neigh, void *buf)
{
	struct ndmsg ndm = { .ndm_family = neigh->addr.family, .ndm_ifindex = neigh->ifindex,
			     .ndm_state = neigh->state, .ndm_flags = neigh->flags };
	struct nlmsghdr *nlh = msg_start(buf, neigh->del ? RTM_DELNEIGH : RTM_NEWNEIGH, &ndm,
					 sizeof(ndm));

	mnl_attr_put(nlh, NDA_DST, ip_addr_size(neigh->addr.family), neigh->addr.bytes);
	if (neigh->has_lladdr)
		mnl_attr_put(nlh, NDA_LLADDR, sizeof(neigh->lladdr), neigh->lladdr);
	return nlh;
}

static void put_gateway(struct nlmsghdr *nlh, uint8_t family, const struct ip_addr *gw)
{
	size_t size = ip_addr_size(gw->family);
	uint8_t via[sizeof(struct rtvia) + 16];

	if (gw->family == 0)
		return;
	if (gw->family == family) {
		mnl_attr_put(nlh, RTA_GATEWAY, size, gw->bytes);
		return;
	}
	((struct rtvia *)via)->rtvia_family = gw->family;
	memcpy(((struct rtvia *)via)->rtvia_addr, gw->bytes, size);
	mnl_attr_put(nlh, RTA_VIA, sizeof(struct rtvia) + size, via);
}

static void put_multipath(struct nlmsghdr *nlh, uint8_t family, const struct rtnl_route *route)
{
	struct nlattr *multipath = mnl_attr_nest_start(nlh, RTA_MULTIPATH);

	for (unsigned i = 0; i < route->n_hops && i < RTNL_ROUTE_HOPS; i++) {
		const struct rtnl_hop *hop = &route->hops[i];
		struct rtnexthop *rtnh = mnl_nlmsg_get_payload_tail(nlh);

		nlh->nlmsg_len += RTNH_ALIGN(sizeof(*rtnh));
		*rtnh = (struct rtnexthop){ .rtnh_flags = hop->flags,
					    .rtnh_hops = (uint8_t)(hop->weight - 1),
					    .rtnh_ifindex = hop->oif };
		put_gateway(nlh, family, &hop->gw);
		rtnh->rtnh_len = (unsigned short)((char *)mnl_nlmsg_get_payload_tail(nlh) -
						  (char *)rtnh);
	}
	mnl_attr_nest_end(nlh, multipath);
}

struct nlmsghdr *rtnl_route_to_msg(const struct rtnl_route *route, void *buf)
{
	uint8_t family = route->prefix.addr.family;
	/* Tables above 255 travel in RTA_TABLE only. */
	uint8_t table = route->table < 256 ? (uint8_t)route->table : RT_TABLE_UNSPEC;
	struct rtmsg rtm = { .rtm_family = family, .rtm_dst_len = route->prefix.len,
			     .rtm_src_len = route->src_len, .rtm_tos = route->tos, .rtm_table = table,
			     .rtm_protocol = route->protocol, .rtm_scope = route->scope,
			     .rtm_type = route->type, .rtm_flags = route->flags };
	struct nlmsghdr *nlh = msg_start(buf, route->del ? RTM_DELROUTE : RTM_NEWROUTE, &rtm,
					 sizeof(rtm));

	nlh->nlmsg_flags |= (route->append ? NLM_F_APPEND : 0) |
			    (route->replace ? NLM_F_REPLACE : 0);
	mnl_attr_put_u32(nlh, RTA_TABLE, route->table);
	if (route->prefix.len)
		mnl_attr_put(nlh, RTA_DST, ip_addr_size(family), route->prefix.addr.bytes);
	mnl_attr_put_u32(nlh, RTA_PRIORITY, route->priority);
	if (route->n_hops > 1) {
		put_multipath(nlh, family, route);
	} else {
		if (route->oif)
			mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)route->oif);
		put_gateway(nlh, family, &route->gw);
	}
	if (route->hop_limit) {
		struct nlattr *metrics = mnl_attr_nest_start(nlh, RTA_METRICS);

		mnl_attr_put_u32(nlh, RTAX_HOPLIMIT, route->hop_limit);
		mnl_attr_nest_end(nlh, metrics);
	}
	return nlh;
}

struct nlmsghdr *rtnl_netconf_to_msg(const struct rtnl_netconf *conf, void *buf)
{
	struct netconfmsg ncm = { .ncm_family = conf->family };
	struct nlmsghdr *nlh = msg_start(buf, RTM_NEWNETCONF, &ncm, sizeof(ncm));

	mnl_attr_put_u32(nlh, NETCONFA_IFINDEX, (uint32_t)conf->ifindex);
	if (conf->forwarding != RTNL_NETCONF_ABSENT)
		mnl_attr_put_u32(nlh, NETCONFA_FORWARDING, (uint32_t)conf->forwarding);
	if (conf->rp_filter != RTNL_NETCONF_ABSENT)
		mnl_attr_put_u32(nlh, NETCONFA_RP_FILTER, (uint32_t)conf->rp_filter);
	return nlh;
}

/* IPv6 link-local and multicast destinations never need the FIB: the ip6
 * input node punts them before any lookup. */
static bool is_ip6_link_scope(const struct ip_prefix *prefix)
{
	static const struct ip_prefix link_local = { .addr = { .family = AF_INET6,
				.bytes = { 0xfe, 0x80 } }, .len = 10 };
	static const struct ip_prefix multicast = { .addr = { .family = AF_INET6,
				.bytes = { 0xff } }, .len = 8 };

	return prefix->addr.family == AF_INET6 &&
	       ((prefix->len >= link_local.len && ip_prefix_contains(&link_local, &prefix->addr)) ||
		(prefix->len >= multicast.len && ip_prefix_contains(&multicast, &prefix->addr)));
}

/* A connected route: the kernel made it for an address; IPv6 routes carry
 * no scope, so there it is the missing gateway that tells. */
static bool is_connected(const struct rtnl_route *route)
{
	return route->protocol == RTPROT_KERNEL && route->type == RTN_UNICAST &&
	       route->gw.family == 0 &&
	       (route->prefix.addr.family == AF_INET6 || route->scope == RT_SCOPE_LINK);
}

enum rtnl_route_action rtnl_route_action(const struct rtnl_route *route, bool ignore_kernel_routes)
{
	/* A tos or source prefix makes a different kernel object than the plain
	 * route of the same prefix and metric, which is all the FIB can hold. */
	if (route->table != RT_TABLE_MAIN || (route->flags & RTM_F_CLONED) || route->tos ||
	    route->src_len)
		return RTNL_ROUTE_IGNORE;
	if (is_ip6_link_scope(&route->prefix) || (ignore_kernel_routes && !is_connected(route)))
		return RTNL_ROUTE_FILTER;
	switch (route->type) {
	case RTN_UNICAST:
		return route->oif ? RTNL_ROUTE_OIF : RTNL_ROUTE_PUNT;
	case RTN_LOCAL:
	case RTN_BROADCAST:
	case RTN_ANYCAST:
		return RTNL_ROUTE_LOCAL;
	case RTN_BLACKHOLE:
	case RTN_UNREACHABLE:
	case RTN_PROHIBIT:
		return RTNL_ROUTE_BLACKHOLE;
	case RTN_MULTICAST:
		return RTNL_ROUTE_FILTER;
	default:
		return RTNL_ROUTE_PUNT;
	}
}

static bool is_multicast(const struct ip_addr *addr)
{
	return addr->family == AF_INET ? (addr->bytes[0] & 0xf0) == 0xe0 : addr->bytes[0] == 0xff;
}

/* The kernel's NUD_VALID: states with a link-layer address to send to. */
#define NEIGH_VALID (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP)

bool rtnl_neigh_is_usable(const struct rtnl_neigh *neigh)
{
	/* Proxy entries answer for others; multicast entries (NOARP, created
	 * without notification) map an address to the MAC derived from it
	 * (RFC 1112, RFC 2464): neither is a neighbor to forward to. */
	return !neigh->del && neigh->has_lladdr && (neigh->state & NEIGH_VALID) &&
	       !(neigh->flags & NTF_PROXY) && !is_multicast(&neigh->addr);
}

bool rtnl_neigh_is_bad(const struct rtnl_neigh *neigh)
{
	return !neigh->del && !(neigh->flags & NTF_PROXY) && !(neigh->state & NEIGH_VALID);
}

bool rtnl_link_is_up(const struct rtnl_link *link)
{
	return !link->del && (link->flags & IFF_UP) && link->operstate != IF_OPER_DOWN &&
	       link->operstate != IF_OPER_LOWERLAYERDOWN && link->operstate != IF_OPER_NOTPRESENT;
}
