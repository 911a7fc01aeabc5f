/*
 * Per-interface settings read from /proc/sys (iface_conf.h).
 */
#include "control/iface_conf.h"

#include <limits.h>
#include <stdbool.h>

#include "common/sysctl.h"
#include "tables/iface.h"

/* One setting and what conf/all said at the last read that succeeded:
 * the kernel's default until then. */
struct conf {
	const char *family;
	const char *name;
	int all;
};

static struct conf send_redirects = { "ipv4", "send_redirects", 1 };
static struct conf shared_media = { "ipv4", "shared_media", 1 };
static struct conf no_policy4 = { "ipv4", "disable_policy", 0 };
static struct conf no_policy6 = { "ipv6", "disable_policy", 0 };
static struct conf no_xfrm = { "ipv4", "disable_xfrm", 0 };

static int conf_read(const struct conf *conf, const char *ifname, int fallback)
{
	char path[PATH_MAX];

	sysctl_conf_path(path, sizeof(path), conf->family, ifname, conf->name);
	return sysctl_read_or(path, fallback);
}

/* *on: all's or the interface's setting, unless the interface's cannot be
 * read. Returns *on. */
static bool conf_follow(volatile bool *on, const struct iface *iface, const struct conf *conf)
{
	int own = conf_read(conf, iface->name, -1);

	if (own >= 0)
		*on = conf->all || own;
	return *on;
}

void iface_confs_refresh(void)
{
	struct conf *confs[] = { &send_redirects, &shared_media, &no_policy4, &no_policy6,
				 &no_xfrm };
	bool any_no_policy = false, any_no_xfrm = false;

	for (size_t k = 0; k < sizeof(confs) / sizeof(confs[0]); k++)
		confs[k]->all = conf_read(confs[k], "all", confs[k]->all);
	for (uint16_t i = 0; i < iface_table.n_ifaces; i++) {
		struct iface *iface = &iface_table.ifaces[i];
		conf_follow(&iface->send_redirects, iface, &send_redirects);
		conf_follow(&iface->shared_media, iface, &shared_media);
		any_no_policy |= conf_follow(&iface->no_policy[0], iface, &no_policy4);
		any_no_policy |= conf_follow(&iface->no_policy[1], iface, &no_policy6);
		any_no_xfrm |= conf_follow(&iface->no_xfrm, iface, &no_xfrm);
	}
	iface_table.any_no_policy = any_no_policy;
	iface_table.any_no_xfrm = any_no_xfrm;
}
