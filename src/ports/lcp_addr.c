/*
 * linux-cp addresses: capture the addresses of a device, add them back (to
 * the TAP, or to the device on restore), and strip them from the device,
 * all over rtnetlink through control/nl.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "ports/lcp_internal.h"

/* Address flags a user can ask for; the rest is state the kernel keeps. */
#define ADDR_SETTABLE_FLAGS (IFA_F_NODAD | IFA_F_HOMEADDRESS | IFA_F_MANAGETEMPADDR | \
			     IFA_F_NOPREFIXROUTE | IFA_F_MCAUTOJOIN)

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
			lcp_attr_get_ip(&address, ifa->ifa_family, attr);
			break;
		case IFA_LOCAL:
			lcp_attr_get_ip(&local, ifa->ifa_family, attr);
			break;
		case IFA_BROADCAST:
			lcp_attr_get_ip(&a->broadcast, ifa->ifa_family, attr);
			break;
		case IFA_LABEL:
			lcp_attr_get_str(a->label, sizeof(a->label), attr);
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

static int addr_dump(struct lcp_ctx *c, struct addr_dump *d)
{
	struct ifaddrmsg hdr = { .ifa_family = AF_UNSPEC };
	int rc = nl_dump(&c->nl, RTM_GETADDR, &hdr, sizeof(hdr), addr_cb, d);

	if (rc == 0)
		rc = d->rc;
	if (rc < 0) {
		free(d->addrs);
		d->addrs = NULL;
		d->n = 0;
		return lcp_fail(c->name, "reading addresses", rc);
	}
	return 0;
}

static int addr_msg(struct lcp_ctx *c, uint16_t type, int ifindex, const struct lcp_addr *a)
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
	lcp_attr_put_ip(nlh, IFA_LOCAL, &a->local);
	lcp_attr_put_ip(nlh, IFA_ADDRESS, a->peer.family ? &a->peer : &a->local);
	if (type == RTM_NEWADDR) {
		lcp_attr_put_ip(nlh, IFA_BROADCAST, &a->broadcast);
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

static int addr_fail(struct lcp_ctx *c, const char *verb, const struct lcp_addr *a, int rc)
{
	char buf[IP_ADDR_STRLEN], what[96];

	snprintf(what, sizeof(what), "%s address %s/%u", verb,
		 format_ip_addr(buf, sizeof(buf), &a->local), a->prefixlen);
	return lcp_fail(c->name, what, rc);
}

/* IPv6 puts the newest address of a scope first, so adding the saved list
 * backwards reproduces its order; IPv4 keeps insertion order. */
int lcp_addrs_add(struct lcp_ctx *c, const struct lcp_saved *s, int ifindex)
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

int lcp_addrs_flush(struct lcp_ctx *c, int ifindex)
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

int lcp_addrs_capture(struct lcp_ctx *c, int ifindex, const uint8_t mac[6], struct lcp_saved *s)
{
	struct addr_dump d = { .ifindex = ifindex, .mac = mac };
	int rc = addr_dump(c, &d);

	if (rc < 0)
		return rc;
	s->addrs = d.addrs;
	s->n_addrs = d.n;
	return 0;
}
