/*
 * linux-cp takeover and restore of kernel devices (sequence in lcp.h): the
 * steps, the link itself over rtnetlink through control/nl.h, and through
 * /proc/sys disable_ipv6, accept_local on the TAP and the sysctls the TAP
 * carries over from the device and gives back before it goes (forwarding,
 * rp_filter, send_redirects, shared_media, disable_policy, disable_xfrm,
 * IPv6 hop_limit).
 * Addresses, routes, the ingress fence and the offloads have files of their
 * own (lcp_internal.h); lcp_state.c keeps the state file these functions are
 * driven from.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "common/sysctl.h"
#include "ports/lcp_internal.h"

/* Link flags restored on the device; the TAP only mirrors IFF_UP. */
#define RESTORE_FLAGS (IFF_UP | IFF_PROMISC | IFF_ALLMULTI | IFF_NOARP)

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

int lcp_fail(const char *name, const char *what, int rc)
{
	fprintf(stderr, "espd: lcp: %s: %s failed: %s\n", name, what, strerror(-rc));
	return rc;
}

static int fail(const struct lcp_ctx *c, const char *what, int rc)
{
	return lcp_fail(c->name, what, rc);
}

static int ctx_open(struct lcp_ctx *c, const char *name)
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

/* ---- links ---- */

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
			lcp_attr_get_str(link->name, sizeof(link->name), attr);
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
					lcp_attr_get_str(link->kind, sizeof(link->kind), info);
			break;
		}
	}
	return MNL_CB_OK;
}

/* Look a link up by ifindex, or by name when ifindex is 0. -ENODEV if absent. */
static int link_get(struct lcp_ctx *c, int ifindex, const char *name, struct link *link)
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

static int link_modify(struct lcp_ctx *c, int ifindex, const struct link_change *ch)
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

static int link_set_flags(struct lcp_ctx *c, int ifindex, uint32_t flags, uint32_t mask)
{
	struct link_change ch = { .flags = flags, .mask = mask };
	int rc = link_modify(c, ifindex, &ch);

	if (rc < 0)
		return fail(c, mask == IFF_UP ? (flags ? "setting link up" : "setting link down")
					      : "restoring link flags", rc);
	return 0;
}

int lcp_link_mtu_set(const char *name, int ifindex, uint32_t mtu)
{
	struct link_change ch = { .mtu = mtu };
	struct lcp_ctx c;
	int rc;

	if ((rc = ctx_open(&c, name)) < 0)
		return rc;
	if ((rc = link_modify(&c, ifindex, &ch)) < 0)
		fail(&c, "setting MTU", rc);
	nl_sock_close(&c.nl);
	return rc;
}

/* Renaming needs the device down on most drivers. */
static int link_rename(struct lcp_ctx *c, const struct link *cur, const char *name)
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

/* ---- per-device sysctls ---- */

/* Reads (value < 0: returns the sysctl's value) or writes the small
 * non-negative integer sysctl /proc/sys/net/<family>/conf/<ifname>/<name>. */
static int conf_rw(const char *family, const char *ifname, const char *name, int value)
{
	char path[PATH_MAX];
	int got, rc;

	sysctl_conf_path(path, sizeof(path), family, ifname, name);
	if (value >= 0)
		return sysctl_write(path, value);
	rc = sysctl_read(path, &got);
	return rc < 0 ? rc : got;
}

static int ipv6_disabled_rw(const char *ifname, int value)
{
	return conf_rw("ipv6", ifname, "disable_ipv6", value);
}

/* 0 or 1 as the sysctl reads; -1 when the device has no IPv6 settings
 * (kernel without IPv6, or an MTU below IPv6's minimum). */
static int ipv6_disabled_get(const char *ifname)
{
	int rc = ipv6_disabled_rw(ifname, -1);
	/* The kernel keeps any integer written; all but 0 disable. */
	return rc == -ENOENT ? -1 : rc > 1 ? 1 : rc;
}

static int ipv6_disabled_set(struct lcp_ctx *c, const char *ifname, int value)
{
	int rc;

	if (value < 0)
		return 0;
	rc = ipv6_disabled_rw(ifname, value);
	return rc < 0 ? fail(c, value ? "disabling IPv6" : "restoring disable_ipv6", rc) : 0;
}

/* The per-device sysctls the TAP takes from the device, which keeps its own
 * under the phys name while espd runs: a new device starts from
 * conf/default, and it is the TAP's that the kernel (forwarding, the
 * reverse-path filter, redirects, policy checks) and espd (the IPv6 hop
 * limit of what it sends) go by. accept_local is not among them: espd
 * sets it. */
static const struct carried_conf {
	const char *family;
	const char *name;
} carried_confs[] = {
	{ "ipv4", "forwarding" },
	{ "ipv4", "rp_filter" },
	{ "ipv4", "send_redirects" },
	{ "ipv4", "shared_media" },
	{ "ipv4", "disable_policy" },
	{ "ipv4", "disable_xfrm" },
	{ "ipv6", "forwarding" },
	{ "ipv6", "hop_limit" },
	{ "ipv6", "disable_policy" },
};

/* Copy sysctl conf/<from>/<k->name> of k->family to conf/<to>. An IPv6
 * sysctl is skipped where either side has no IPv6 settings (see
 * ipv6_disabled_get). An equal value is not written, as a write marks an
 * IPv4 setting as the device's own, which conf/default no longer changes. */
static int carried_conf_copy(struct lcp_ctx *c, const struct carried_conf *k, const char *from,
			     const char *to)
{
	int value = conf_rw(k->family, from, k->name, -1);
	int cur = value < 0 ? value : conf_rw(k->family, to, k->name, -1);
	int rc = cur < 0 ? cur : cur != value ? conf_rw(k->family, to, k->name, value) : 0;
	char what[64];

	if (rc == -ENOENT && strcmp(k->family, "ipv6") == 0)
		return 0;
	snprintf(what, sizeof(what), "copying net.%s.conf.%s.%s", k->family, from, k->name);
	return rc < 0 ? fail(c, what, rc) : 0;
}

static int carried_confs_copy(struct lcp_ctx *c, const char *from, const char *to)
{
	int rc;

	for (size_t i = 0; i < sizeof(carried_confs) / sizeof(carried_confs[0]); i++)
		if ((rc = carried_conf_copy(c, &carried_confs[i], from, to)) < 0)
			return rc;
	return 0;
}

/* ---- the steps ---- */

int lcp_capture(const char *ifname, struct lcp_saved *saved)
{
	struct lcp_ctx c;
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
	if ((rc = lcp_offloads_capture(ifname, saved)) < 0 ||
	    (rc = lcp_addrs_capture(&c, link.ifindex, link.mac, saved)) < 0 ||
	    (rc = lcp_routes_capture(&c, link.ifindex, saved)) < 0)
		lcp_saved_free(saved);
out:
	nl_sock_close(&c.nl);
	return rc;
}

/* The device with the saved ifindex, checked to still be the one captured
 * (same name, or the phys name a takeover gave it). */
static int device_find(struct lcp_ctx *c, const struct lcp_saved *s, struct link *cur)
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
	struct lcp_ctx c;
	int rc;

	if ((rc = ctx_open(&c, s->name)) < 0)
		return rc;
	if ((rc = device_find(&c, s, &cur)) < 0)
		goto out;
	if (strcmp(cur.name, s->phys_name) != 0 && (rc = link_rename(&c, &cur, s->phys_name)) < 0)
		goto out;
	if ((rc = lcp_addrs_flush(&c, s->ifindex)) < 0 ||
	    (rc = ipv6_disabled_set(&c, s->phys_name, s->disable_ipv6 < 0 ? -1 : 1)) < 0 ||
	    (rc = lcp_routes_flush(&c, s->ifindex)) < 0 ||
	    (rc = lcp_offloads_off(s, s->phys_name)) < 0 || (rc = lcp_fence_add(s)) < 0)
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
static int apply(struct lcp_ctx *c, const struct lcp_saved *s, int ifindex, uint32_t flag_mask)
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
	first = lcp_addrs_add(c, s, ifindex);
	if ((rc = link_set_flags(c, ifindex, s->flags & flag_mask, flag_mask)) < 0)
		return rc;
	rc = lcp_routes_add(c, s, ifindex);
	return first ? first : rc;
}

int lcp_tap_configure(const struct lcp_saved *s, int tap_ifindex)
{
	struct lcp_ctx c;
	int rc;

	if ((rc = ctx_open(&c, s->name)) < 0)
		return rc;
	/* After apply: the MTU it gives the TAP decides whether the TAP has
	 * IPv6 settings at all. */
	rc = apply(&c, s, tap_ifindex, IFF_UP);
	if (rc == 0)
		rc = carried_confs_copy(&c, s->phys_name, s->name);
	/* espd hands the kernel ESP packets it built, with the router's own
	 * source address, when their next hop is unresolved: the kernel must
	 * take them (not drop them as martians) to resolve it and send them. */
	if (rc == 0 && (rc = conf_rw("ipv4", s->name, "accept_local", 1)) < 0)
		rc = fail(&c, "setting accept_local", rc);
	nl_sock_close(&c.nl);
	return rc;
}

int lcp_tap_confs_give_back(const char *name, const char *phys_name)
{
	struct lcp_ctx c = { .name = name };

	return carried_confs_copy(&c, name, phys_name);
}

/* Something other than the device holds its name: normally the TAP that
 * a crash left behind, gone as soon as its file descriptor closed. */
static int name_free(struct lcp_ctx *c, const struct lcp_saved *s)
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
	struct lcp_ctx c;
	int rc, fence, offloads = 0;

	if ((rc = ctx_open(&c, s->name)) < 0)
		return rc;
	/* The fence goes first, while the device has the phys name it was put
	 * on: kernels that bind netdev hooks by name would otherwise apply an
	 * nftables chain to whatever takes the name next. A fence that will
	 * not go must not keep the device from coming back, though. */
	fence = lcp_fence_del(s);
	if ((rc = device_find(&c, s, &cur)) < 0)
		goto out;
	if (strcmp(cur.name, s->name) != 0 &&
	    ((rc = name_free(&c, s)) < 0 || (rc = link_rename(&c, &cur, s->name)) < 0))
		goto out;
	offloads = lcp_offloads_restore(s, s->name);
	rc = apply(&c, s, s->ifindex, RESTORE_FLAGS);
out:
	nl_sock_close(&c.nl);
	return rc ? rc : fence ? fence : offloads;
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
