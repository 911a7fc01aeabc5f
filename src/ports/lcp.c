/*
 * linux-cp takeover and restore of kernel devices (sequence in lcp.h):
 * rtnetlink through control/nl.h, the AF_PACKET ingress drop chain through
 * `nft -f -`, disable_ipv6 through /proc/sys. lcp_state.c keeps the state
 * file these functions are driven from.
 */
#include "ports/lcp.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "control/nl.h"

/* Link flags restored on the device; the TAP only mirrors IFF_UP. */
#define RESTORE_FLAGS (IFF_UP | IFF_PROMISC | IFF_ALLMULTI | IFF_NOARP)
/* Address flags a user can ask for; the rest is state the kernel keeps. */
#define ADDR_SETTABLE_FLAGS (IFA_F_NODAD | IFA_F_HOMEADDRESS | IFA_F_MANAGETEMPADDR | \
			     IFA_F_NOPREFIXROUTE | IFA_F_MCAUTOJOIN)

struct ctx {
	struct nl_sock nl;
	const char *name; /* the device's kernel name, for messages */
};

/* A link as RTM_NEWLINK reports it. */
struct link {
	int ifindex;
	char name[LCP_IFNAMSIZ];
	char kind[LCP_IFNAMSIZ];
	uint8_t mac[6];
	size_t mac_len;
	uint32_t mtu;
	uint32_t flags;
	uint16_t type; /* ARPHRD_* */
};

static int fail(const struct ctx *c, const char *what, int rc)
{
	fprintf(stderr, "espd: lcp: %s: %s failed: %s\n", c->name, what, strerror(-rc));
	return rc;
}

static int ctx_open(struct ctx *c, const char *name)
{
	int rc = nl_sock_open(&c->nl, NETLINK_ROUTE, NULL, 0, 0);

	c->name = name;
	return rc < 0 ? fail(c, "opening rtnetlink socket", rc) : 0;
}

void *lcp_array_append(void *array_ptr, size_t *n, size_t elem)
{
	void **array = array_ptr;

	if ((*n & (*n - 1)) == 0) {
		void *grown = realloc(*array, (*n ? *n * 2 : 1) * elem);
		if (!grown)
			return NULL;
		*array = grown;
	}
	void *item = (char *)*array + *n * elem;
	memset(item, 0, elem);
	(*n)++;
	return item;
}

void lcp_saved_free(struct lcp_saved *saved)
{
	free(saved->addrs);
	free(saved->routes);
	saved->addrs = NULL;
	saved->routes = NULL;
	saved->n_addrs = saved->n_routes = 0;
}

void lcp_phys_name(int ifindex, char name[LCP_IFNAMSIZ])
{
	if (snprintf(name, LCP_IFNAMSIZ, "espd-p%d", ifindex) >= LCP_IFNAMSIZ)
		snprintf(name, LCP_IFNAMSIZ, "espd-px%x", (unsigned)ifindex);
}

int lcp_saved_set_ingress_drop(struct lcp_saved *saved, const char *table)
{
	size_t len = strlen(table);

	/* The name goes into an nft script: allow only what nft takes unquoted. */
	if (len == 0 || len >= sizeof(saved->nft_table) ||
	    !((table[0] >= 'a' && table[0] <= 'z') || (table[0] >= 'A' && table[0] <= 'Z')) ||
	    strspn(table, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != len) {
		fprintf(stderr, "espd: lcp: %s: invalid nftables table name '%s'\n", saved->name, table);
		return -EINVAL;
	}
	memcpy(saved->nft_table, table, len + 1);
	return 0;
}

/* ---- links ---- */

static void copy_str(char *dst, size_t size, const struct nlattr *attr)
{
	size_t len = strnlen(mnl_attr_get_payload(attr), mnl_attr_get_payload_len(attr));

	if (len >= size)
		len = size - 1;
	memcpy(dst, mnl_attr_get_payload(attr), len);
	dst[len] = '\0';
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct link *link = data;
	const struct nlattr *attr, *info;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	memset(link, 0, sizeof(*link));
	link->ifindex = ifi->ifi_index;
	link->flags = ifi->ifi_flags;
	link->type = ifi->ifi_type;
	mnl_attr_for_each(attr, nlh, sizeof(*ifi)) {
		switch (mnl_attr_get_type(attr)) {
		case IFLA_IFNAME:
			copy_str(link->name, sizeof(link->name), attr);
			break;
		case IFLA_ADDRESS:
			link->mac_len = mnl_attr_get_payload_len(attr);
			if (link->mac_len == sizeof(link->mac))
				memcpy(link->mac, mnl_attr_get_payload(attr), sizeof(link->mac));
			break;
		case IFLA_MTU:
			if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
				link->mtu = mnl_attr_get_u32(attr);
			break;
		case IFLA_LINKINFO:
			mnl_attr_for_each_nested(info, attr)
				if (mnl_attr_get_type(info) == IFLA_INFO_KIND)
					copy_str(link->kind, sizeof(link->kind), info);
			break;
		}
	}
	return MNL_CB_OK;
}

/* Look a link up by ifindex, or by name when ifindex is 0. -ENODEV if absent. */
static int link_get(struct ctx *c, int ifindex, const char *name, struct link *link)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_msg_start(&c->nl, buf, RTM_GETLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	int rc;

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	if (!ifindex)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	link->ifindex = 0;
	rc = nl_request(&c->nl, nlh, link_cb, link);
	if (rc == 0 && link->ifindex == 0)
		rc = -ENODEV;
	return rc;
}

struct link_change {
	const char *name;    /* rename to this */
	const uint8_t *mac;  /* set this address */
	uint32_t mtu;        /* 0: leave */
	uint32_t flags;      /* IFF_* values for the bits in mask */
	uint32_t mask;
};

static int link_modify(struct ctx *c, int ifindex, const struct link_change *ch)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_msg_start(&c->nl, buf, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = ch->flags;
	ifi->ifi_change = ch->mask;
	if (ch->name)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, ch->name);
	if (ch->mac)
		mnl_attr_put(nlh, IFLA_ADDRESS, 6, ch->mac);
	if (ch->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, ch->mtu);
	return nl_request(&c->nl, nlh, NULL, NULL);
}

static int link_set_flags(struct ctx *c, int ifindex, uint32_t flags, uint32_t mask)
{
	struct link_change ch = { .flags = flags, .mask = mask };
	int rc = link_modify(c, ifindex, &ch);

	if (rc < 0)
		return fail(c, mask == IFF_UP ? (flags ? "setting link up" : "setting link down")
					      : "restoring link flags", rc);
	return 0;
}

/* Renaming needs the device down on most drivers. */
static int link_rename(struct ctx *c, const struct link *cur, const char *name)
{
	struct link_change ch = { .name = name };
	char what[64];
	int rc;

	if ((cur->flags & IFF_UP) && (rc = link_set_flags(c, cur->ifindex, 0, IFF_UP)) < 0)
		return rc;
	rc = link_modify(c, cur->ifindex, &ch);
	snprintf(what, sizeof(what), "rename to %s", name);
	return rc < 0 ? fail(c, what, rc) : 0;
}

/* ---- disable_ipv6 ---- */

static int ipv6_disabled_rw(const char *ifname, int value)
{
	char path[PATH_MAX], text[8] = "";
	int fd, rc = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	fd = open(path, (value < 0 ? O_RDONLY : O_WRONLY) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (value < 0) {
		n = read(fd, text, sizeof(text) - 1);
		rc = n < 0 ? -errno : atoi(text) ? 1 : 0;
	} else {
		text[0] = value ? '1' : '0';
		n = write(fd, text, 1);
		rc = n < 0 ? -errno : 0;
	}
	close(fd);
	return rc;
}

/* 0 or 1 as the sysctl reads; -1 when the device has no IPv6 settings
 * (kernel without IPv6, or an MTU below IPv6's minimum). */
static int ipv6_disabled_get(const char *ifname)
{
	int rc = ipv6_disabled_rw(ifname, -1);
	return rc == -ENOENT ? -1 : rc;
}

static int ipv6_disabled_set(struct ctx *c, const char *ifname, int value)
{
	int rc;

	if (value < 0)
		return 0;
	rc = ipv6_disabled_rw(ifname, value);
	return rc < 0 ? fail(c, value ? "disabling IPv6" : "restoring disable_ipv6", rc) : 0;
}

/* ---- addresses ---- */

struct addr_dump {
	int ifindex;
	bool all;        /* also keep addresses the kernel makes itself */
	const uint8_t *mac;
	struct lcp_addr *addrs;
	size_t n;
	int rc;
};

/* Link-local, SLAAC and privacy addresses come back by themselves when IPv6
 * is enabled again; moving them would duplicate them. Kernels before 6.3 do
 * not say (IFA_PROTO), so the EUI-64 link-local of the MAC is recognised. */
static bool addr_kernel_made(const struct lcp_addr *a, const uint8_t mac[6])
{
	const uint8_t *b = a->local.bytes;
	const uint8_t eui64[8] = { mac[0] ^ 0x02, mac[1], mac[2], 0xff, 0xfe, mac[3], mac[4], mac[5] };

	if (a->local.family != AF_INET6)
		return false;
	if (a->proto == IFAPROT_KERNEL_LO || a->proto == IFAPROT_KERNEL_RA ||
	    a->proto == IFAPROT_KERNEL_LL || !(a->flags & IFA_F_PERMANENT))
		return true;
	return a->proto == IFAPROT_UNSPEC && a->prefixlen == 64 && b[0] == 0xfe &&
	       (b[1] & 0xc0) == 0x80 && memcmp(b + 8, eui64, 8) == 0;
}

static void get_ip(struct ip_addr *addr, uint8_t family, const struct nlattr *attr)
{
	if (mnl_attr_get_payload_len(attr) == ip_addr_size(family))
		ip_addr_from_bytes(addr, family, mnl_attr_get_payload(attr));
}

static void addr_parse(const struct nlmsghdr *nlh, struct lcp_addr *a)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct ip_addr address = { 0 }, local = { 0 };
	const struct nlattr *attr;

	a->prefixlen = ifa->ifa_prefixlen;
	a->scope = ifa->ifa_scope;
	a->flags = ifa->ifa_flags;
	a->valid_lft = a->preferred_lft = LCP_LIFETIME_FOREVER;
	mnl_attr_for_each(attr, nlh, sizeof(*ifa)) {
		switch (mnl_attr_get_type(attr)) {
		case IFA_ADDRESS:
			get_ip(&address, ifa->ifa_family, attr);
			break;
		case IFA_LOCAL:
			get_ip(&local, ifa->ifa_family, attr);
			break;
		case IFA_BROADCAST:
			get_ip(&a->broadcast, ifa->ifa_family, attr);
			break;
		case IFA_LABEL:
			copy_str(a->label, sizeof(a->label), attr);
			break;
		case IFA_FLAGS:
			if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
				a->flags = mnl_attr_get_u32(attr);
			break;
		case IFA_RT_PRIORITY:
			if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
				a->metric = mnl_attr_get_u32(attr);
			break;
		case IFA_PROTO:
			if (mnl_attr_validate(attr, MNL_TYPE_U8) == 0)
				a->proto = mnl_attr_get_u8(attr);
			break;
		case IFA_CACHEINFO:
			if (mnl_attr_get_payload_len(attr) >= sizeof(struct ifa_cacheinfo)) {
				const struct ifa_cacheinfo *ci = mnl_attr_get_payload(attr);
				a->valid_lft = ci->ifa_valid;
				a->preferred_lft = ci->ifa_prefered;
			}
			break;
		}
	}
	/* IFA_LOCAL is the own address when present; IFA_ADDRESS is then the peer. */
	a->local = local.family ? local : address;
	if (local.family && address.family && !ip_addr_equal(&local, &address))
		a->peer = address;
}

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct addr_dump *d = data;
	struct lcp_addr a = { 0 }, *slot;

	if (nlh->nlmsg_type != RTM_NEWADDR || (int)ifa->ifa_index != d->ifindex ||
	    (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
		return MNL_CB_OK;
	addr_parse(nlh, &a);
	if (!a.local.family || (!d->all && addr_kernel_made(&a, d->mac)))
		return MNL_CB_OK;
	slot = lcp_array_append(&d->addrs, &d->n, sizeof(a));
	if (!slot) {
		d->rc = -ENOMEM;
		return MNL_CB_OK;
	}
	*slot = a;
	return MNL_CB_OK;
}

static int addr_dump(struct ctx *c, struct addr_dump *d)
{
	struct ifaddrmsg hdr = { .ifa_family = AF_UNSPEC };
	int rc = nl_dump(&c->nl, RTM_GETADDR, &hdr, sizeof(hdr), addr_cb, d);

	if (rc == 0)
		rc = d->rc;
	if (rc < 0) {
		free(d->addrs);
		d->addrs = NULL;
		d->n = 0;
		return fail(c, "reading addresses", rc);
	}
	return 0;
}

static void put_ip(struct nlmsghdr *nlh, uint16_t type, const struct ip_addr *addr)
{
	if (addr->family)
		mnl_attr_put(nlh, type, ip_addr_size(addr->family), addr->bytes);
}

static int addr_msg(struct ctx *c, uint16_t type, int ifindex, const struct lcp_addr *a)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint16_t flags = type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0;
	struct nlmsghdr *nlh = nl_msg_start(&c->nl, buf, type, flags);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	uint32_t settable = a->flags & ADDR_SETTABLE_FLAGS;

	ifa->ifa_family = a->local.family;
	ifa->ifa_prefixlen = a->prefixlen;
	ifa->ifa_index = (uint32_t)ifindex;
	ifa->ifa_scope = a->scope;
	ifa->ifa_flags = (uint8_t)settable;
	put_ip(nlh, IFA_LOCAL, &a->local);
	put_ip(nlh, IFA_ADDRESS, a->peer.family ? &a->peer : &a->local);
	if (type == RTM_NEWADDR) {
		put_ip(nlh, IFA_BROADCAST, &a->broadcast);
		if (a->label[0] && a->local.family == AF_INET)
			mnl_attr_put_strz(nlh, IFA_LABEL, a->label);
		mnl_attr_put_u32(nlh, IFA_FLAGS, settable);
		if (a->metric)
			mnl_attr_put_u32(nlh, IFA_RT_PRIORITY, a->metric);
		if (a->proto)
			mnl_attr_put_u8(nlh, IFA_PROTO, a->proto);
		if (a->valid_lft != LCP_LIFETIME_FOREVER || a->preferred_lft != LCP_LIFETIME_FOREVER) {
			struct ifa_cacheinfo ci = { .ifa_prefered = a->preferred_lft,
						    .ifa_valid = a->valid_lft };
			mnl_attr_put(nlh, IFA_CACHEINFO, sizeof(ci), &ci);
		}
	}
	return nl_request(&c->nl, nlh, NULL, NULL);
}

static int addr_fail(struct ctx *c, const char *verb, const struct lcp_addr *a, int rc)
{
	char buf[IP_ADDR_STRLEN], what[96];

	snprintf(what, sizeof(what), "%s address %s/%u", verb,
		 format_ip_addr(buf, sizeof(buf), &a->local), a->prefixlen);
	return fail(c, what, rc);
}

/* IPv6 puts the newest address of a scope first, so adding the saved list
 * backwards reproduces its order; IPv4 keeps insertion order. */
static int addrs_add(struct ctx *c, const struct lcp_saved *s, int ifindex)
{
	int first = 0;

	for (size_t k = 0; k < 2 * s->n_addrs; k++) {
		bool v4_pass = k < s->n_addrs;
		const struct lcp_addr *a = &s->addrs[v4_pass ? k : 2 * s->n_addrs - 1 - k];
		if ((a->local.family == AF_INET) != v4_pass)
			continue;
		int rc = addr_msg(c, RTM_NEWADDR, ifindex, a);
		if (rc < 0 && rc != -EEXIST && !first)
			first = addr_fail(c, "adding", a, rc);
	}
	return first;
}

static int addrs_flush(struct ctx *c, int ifindex)
{
	struct addr_dump d = { .ifindex = ifindex, .all = true };
	int rc = addr_dump(c, &d), first = rc;

	for (size_t i = 0; rc == 0 && i < d.n; i++) {
		int del = addr_msg(c, RTM_DELADDR, ifindex, &d.addrs[i]);
		/* Deleting a primary IPv4 address takes its secondaries along. */
		if (del < 0 && del != -EADDRNOTAVAIL && !first)
			first = addr_fail(c, "removing", &d.addrs[i], del);
	}
	free(d.addrs);
	return first;
}

/* ---- routes ---- */

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
			get_ip(&r->dst.addr, rtm->rtm_family, attr);
			break;
		case RTA_SRC:
			get_ip(&r->src.addr, rtm->rtm_family, attr);
			break;
		case RTA_GATEWAY:
			get_ip(&r->gateway, rtm->rtm_family, attr);
			break;
		case RTA_PREFSRC:
			get_ip(&r->prefsrc, rtm->rtm_family, attr);
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

static int route_dump(struct ctx *c, struct route_dump *d)
{
	struct rtmsg hdr = { .rtm_family = AF_UNSPEC };
	int rc = nl_dump(&c->nl, RTM_GETROUTE, &hdr, sizeof(hdr), route_cb, d);

	if (rc == 0)
		rc = d->rc;
	if (rc < 0) {
		free(d->routes);
		d->routes = NULL;
		d->n = 0;
		return fail(c, "reading routes", rc);
	}
	return 0;
}

static int route_msg(struct ctx *c, uint16_t type, const struct lcp_route *r, int oif)
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
		put_ip(nlh, RTA_DST, &r->dst.addr);
	if (r->src.len)
		put_ip(nlh, RTA_SRC, &r->src.addr);
	if (r->gateway.family == family) {
		put_ip(nlh, RTA_GATEWAY, &r->gateway);
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
		put_ip(nlh, RTA_PREFSRC, &r->prefsrc);
		if (r->pref >= 0 && family == AF_INET6)
			mnl_attr_put_u8(nlh, RTA_PREF, (uint8_t)r->pref);
		if (r->metrics_len)
			mnl_attr_put(nlh, RTA_METRICS, r->metrics_len, r->metrics);
	}
	return nl_request(&c->nl, nlh, NULL, NULL);
}

/* A route may need another saved route for its gateway: retry the failures
 * while each pass adds something. */
static int routes_add(struct ctx *c, const struct lcp_saved *s, int oif)
{
	int *rcs = calloc(s->n_routes ? s->n_routes : 1, sizeof(*rcs));
	size_t left = s->n_routes, added;
	int first = 0;
	char buf[128], what[160];

	if (!rcs)
		return fail(c, "adding routes", -ENOMEM);
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
		fail(c, what, rcs[i]);
	}
	free(rcs);
	return first;
}

/* Remove what is still routed through the device once its addresses and
 * IPv6 are gone (the kernel drops most of it by itself). */
static int routes_flush(struct ctx *c, int ifindex)
{
	struct route_dump d = { .ifindex = ifindex, .all = true };
	int rc = route_dump(c, &d), first = rc;
	char buf[128], what[160];

	for (size_t i = 0; rc == 0 && i < d.n; i++) {
		int del = route_msg(c, RTM_DELROUTE, &d.routes[i], ifindex);
		if (del < 0 && del != -ESRCH && del != -ENOENT && !first) {
			snprintf(what, sizeof(what), "removing route %s",
				 format_route(buf, sizeof(buf), &d.routes[i]));
			first = fail(c, what, del);
		}
	}
	free(d.routes);
	return first;
}

/* ---- nftables ---- */

static void __attribute__((noreturn)) nft_exec(int in, int out, bool quiet)
{
	char *const argv[] = { "nft", "-f", "-", NULL };

	dup2(in, 0);
	dup2(out, 1);
	if (quiet) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 2);
	}
	execvp(argv[0], argv);
	_exit(127);
}

/* Run `nft -f -` with script on its stdin. Its stdout goes to out when given
 * (else nowhere); quiet also silences its stderr. Returns nft's exit status,
 * or -errno when it could not run (-ENOENT: no nft binary). */
static int nft_run(const char *script, char *out, size_t out_size, bool quiet)
{
	int in[2], res[2], status, rc = 0;
	char sink[256];
	size_t used = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) < 0)
		return -errno;
	/* Scripts are far smaller than a pipe's buffer: writing before nft
	 * starts can neither block nor raise SIGPIPE if nft fails to start. */
	if (write(in[1], script, strlen(script)) < 0 || pipe2(res, O_CLOEXEC) < 0) {
		rc = -errno;
		close(in[0]);
		close(in[1]);
		return rc;
	}
	close(in[1]);
	pid = fork();
	if (pid == 0)
		nft_exec(in[0], res[1], quiet);
	if (pid < 0)
		rc = -errno;
	close(in[0]);
	close(res[1]);
	while (pid > 0) {
		bool keep = out && used + 1 < out_size;
		n = read(res[0], keep ? out + used : sink, keep ? out_size - 1 - used : sizeof(sink));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		used += keep ? (size_t)n : 0;
	}
	close(res[0]);
	if (out)
		out[used] = '\0';
	if (pid < 0)
		return rc;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (!WIFEXITED(status))
		return -EINTR;
	return WEXITSTATUS(status) == 127 ? -ENOENT : WEXITSTATUS(status);
}

static int nft_chain_add(struct ctx *c, const struct lcp_saved *s)
{
	char script[512];
	int rc;

	snprintf(script, sizeof(script),
		 "table netdev %s {\n"
		 "\tchain %s {\n"
		 "\t\ttype filter hook ingress device \"%s\" priority 0; policy drop;\n"
		 "\t}\n"
		 "}\n", s->nft_table, s->phys_name, s->phys_name);
	rc = nft_run(script, NULL, 0, false);
	if (rc != 0)
		return fail(c, "adding nftables ingress drop chain", rc < 0 ? rc : -EIO);
	return 0;
}

/* Delete the chain if it exists, and the table once no chain is left in it
 * (another device of the same instance may still use it). */
static int nft_chain_del(struct ctx *c, const struct lcp_saved *s)
{
	char script[256], listing[4096];
	int rc;

	snprintf(script, sizeof(script), "list chain netdev %s %s\n", s->nft_table, s->phys_name);
	if (nft_run(script, NULL, 0, true) == 0) {
		snprintf(script, sizeof(script), "delete chain netdev %s %s\n", s->nft_table,
			 s->phys_name);
		rc = nft_run(script, NULL, 0, false);
		if (rc != 0)
			return fail(c, "removing nftables ingress drop chain", rc < 0 ? rc : -EIO);
	}
	snprintf(script, sizeof(script), "list table netdev %s\n", s->nft_table);
	if (nft_run(script, listing, sizeof(listing), true) == 0 && !strstr(listing, "chain ")) {
		snprintf(script, sizeof(script), "delete table netdev %s\n", s->nft_table);
		rc = nft_run(script, NULL, 0, false);
		if (rc != 0)
			return fail(c, "removing nftables table", rc < 0 ? rc : -EIO);
	}
	return 0;
}

/* ---- the steps ---- */

int lcp_capture(const char *ifname, struct lcp_saved *saved)
{
	struct ctx c;
	struct link link;
	int rc;

	memset(saved, 0, sizeof(*saved));
	if (ifname[0] == '\0' || strlen(ifname) >= LCP_IFNAMSIZ) {
		fprintf(stderr, "espd: lcp: invalid interface name '%s'\n", ifname);
		return -EINVAL;
	}
	if ((rc = ctx_open(&c, ifname)) < 0)
		return rc;
	rc = link_get(&c, 0, ifname, &link);
	if (rc == -ENODEV) {
		fprintf(stderr, "espd: lcp: interface %s not found\n", ifname);
		goto out;
	}
	if (rc < 0) {
		fail(&c, "reading link", rc);
		goto out;
	}
	if (link.type != ARPHRD_ETHER || link.mac_len != sizeof(link.mac)) {
		fprintf(stderr, "espd: lcp: %s is not an Ethernet device\n", ifname);
		rc = -EOPNOTSUPP;
		goto out;
	}
	memcpy(saved->name, link.name, sizeof(saved->name));
	saved->ifindex = link.ifindex;
	lcp_phys_name(link.ifindex, saved->phys_name);
	memcpy(saved->mac, link.mac, sizeof(saved->mac));
	saved->mtu = link.mtu;
	saved->flags = link.flags;
	saved->disable_ipv6 = ipv6_disabled_get(ifname);
	if (saved->disable_ipv6 < -1) {
		rc = fail(&c, "reading disable_ipv6", saved->disable_ipv6);
		goto out;
	}

	struct addr_dump ad = { .ifindex = link.ifindex, .mac = link.mac };
	struct route_dump rd = { .ifindex = link.ifindex, .name = ifname };
	if ((rc = addr_dump(&c, &ad)) < 0 || (rc = route_dump(&c, &rd)) < 0) {
		free(ad.addrs);
		goto out;
	}
	saved->addrs = ad.addrs;
	saved->n_addrs = ad.n;
	saved->routes = rd.routes;
	saved->n_routes = rd.n;
out:
	nl_sock_close(&c.nl);
	return rc;
}

/* The device with the saved ifindex, checked to still be the one captured
 * (same name, or the phys name a takeover gave it). */
static int device_find(struct ctx *c, const struct lcp_saved *s, struct link *cur)
{
	int rc = link_get(c, s->ifindex, NULL, cur);

	if (rc == -ENODEV) {
		fprintf(stderr, "espd: lcp: %s: device (ifindex %d) is gone\n", s->name, s->ifindex);
		return rc;
	}
	if (rc < 0)
		return fail(c, "reading link", rc);
	if (strcmp(cur->name, s->name) != 0 && strcmp(cur->name, s->phys_name) != 0) {
		fprintf(stderr, "espd: lcp: %s: ifindex %d is now %s, not %s or %s; not touching it\n",
			s->name, s->ifindex, cur->name, s->name, s->phys_name);
		return -ESTALE;
	}
	return 0;
}

int lcp_takeover(const struct lcp_saved *s, char *phys_name_out)
{
	struct link cur;
	struct ctx c;
	int rc;

	if ((rc = ctx_open(&c, s->name)) < 0)
		return rc;
	if ((rc = device_find(&c, s, &cur)) < 0)
		goto out;
	if (strcmp(cur.name, s->phys_name) != 0 && (rc = link_rename(&c, &cur, s->phys_name)) < 0)
		goto out;
	if ((rc = addrs_flush(&c, s->ifindex)) < 0 ||
	    (rc = ipv6_disabled_set(&c, s->phys_name, s->disable_ipv6 < 0 ? -1 : 1)) < 0 ||
	    (rc = routes_flush(&c, s->ifindex)) < 0)
		goto out;
	if (s->nft_table[0] && (rc = nft_chain_add(&c, s)) < 0)
		goto out;
	/* The DPDK drivers (af_packet, af_xdp) need the device up. */
	if ((rc = link_set_flags(&c, s->ifindex, IFF_UP, IFF_UP)) < 0)
		goto out;
	if (phys_name_out)
		memcpy(phys_name_out, s->phys_name, LCP_IFNAMSIZ);
out:
	nl_sock_close(&c.nl);
	return rc;
}

/* Give device ifindex, which carries the saved name, the saved MTU, MAC,
 * IPv6 setting, addresses, flags (those in flag_mask) and routes. */
static int apply(struct ctx *c, const struct lcp_saved *s, int ifindex, uint32_t flag_mask)
{
	struct link cur;
	int rc = link_get(c, ifindex, NULL, &cur), first;

	if (rc < 0)
		return fail(c, "reading link", rc);
	bool new_mac = memcmp(cur.mac, s->mac, sizeof(s->mac)) != 0;
	if (new_mac || cur.mtu != s->mtu) {
		struct link_change ch = { .mac = new_mac ? s->mac : NULL, .mtu = s->mtu };
		/* Most drivers refuse a new MAC while up. */
		if (new_mac && (cur.flags & IFF_UP) && (rc = link_set_flags(c, ifindex, 0, IFF_UP)) < 0)
			return rc;
		if ((rc = link_modify(c, ifindex, &ch)) < 0)
			return fail(c, new_mac ? "setting MAC and MTU" : "setting MTU", rc);
	}
	if ((rc = ipv6_disabled_set(c, cur.name, s->disable_ipv6)) < 0)
		return rc;
	first = addrs_add(c, s, ifindex);
	if ((rc = link_set_flags(c, ifindex, s->flags & flag_mask, flag_mask)) < 0)
		return rc;
	rc = routes_add(c, s, ifindex);
	return first ? first : rc;
}

int lcp_tap_configure(const struct lcp_saved *s, int tap_ifindex)
{
	struct ctx c;
	int rc;

	if ((rc = ctx_open(&c, s->name)) < 0)
		return rc;
	rc = apply(&c, s, tap_ifindex, IFF_UP);
	nl_sock_close(&c.nl);
	return rc;
}

/* Something other than the device holds its name: normally the TAP that
 * a crash left behind, gone as soon as its file descriptor closed. */
static int name_free(struct ctx *c, const struct lcp_saved *s)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], what[96];
	struct link other;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	int rc = link_get(c, 0, s->name, &other);

	if (rc == -ENODEV)
		return 0;
	if (rc < 0)
		return fail(c, "reading link", rc);
	nlh = nl_msg_start(&c->nl, buf, RTM_DELLINK, 0);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = other.ifindex;
	rc = nl_request(&c->nl, nlh, NULL, NULL);
	snprintf(what, sizeof(what), "deleting %s device (ifindex %d) holding the name",
		 other.kind[0] ? other.kind : "the", other.ifindex);
	return rc < 0 && rc != -ENODEV ? fail(c, what, rc) : 0;
}

int lcp_restore_one(const struct lcp_saved *s)
{
	struct link cur;
	struct ctx c;
	int rc, nft = 0;

	if ((rc = ctx_open(&c, s->name)) < 0)
		return rc;
	/* The chain goes first: kernels that bind netdev hooks by name would
	 * otherwise apply it to whatever takes the phys name next. A chain that
	 * will not go must not keep the device from coming back, though. */
	if (s->nft_table[0])
		nft = nft_chain_del(&c, s);
	if ((rc = device_find(&c, s, &cur)) < 0)
		goto out;
	if (strcmp(cur.name, s->name) != 0 &&
	    ((rc = name_free(&c, s)) < 0 || (rc = link_rename(&c, &cur, s->name)) < 0))
		goto out;
	rc = apply(&c, s, s->ifindex, RESTORE_FLAGS);
out:
	nl_sock_close(&c.nl);
	return rc ? rc : nft;
}

int lcp_restore(const char *state_dir)
{
	struct lcp_saved *saved;
	size_t n;
	int rc = lcp_state_load(state_dir, &saved, &n), first = 0, restored = 0;

	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		rc = lcp_restore_one(&saved[i]);
		if (rc == 0)
			restored++;
		/* A device that is gone cannot be restored, and never will be. */
		else if (rc != -ENODEV && rc != -ESTALE && !first)
			first = rc;
	}
	lcp_state_free(saved, n);
	if (first)
		return first;
	rc = lcp_state_remove(state_dir);
	return rc < 0 ? rc : restored;
}
