/*
 * send_redirects and shared_media, read from /proc/sys (redirect_conf.h).
 */
#include "control/redirect_conf.h"

#include <limits.h>

#include "common/sysctl.h"
#include "tables/iface.h"

/* What conf/all said at the last read that succeeded: the kernel's default
 * until then. */
static int all_send_redirects = 1, all_shared_media = 1;

static int conf_read(const char *ifname, const char *name, int fallback)
{
	char path[PATH_MAX];

	sysctl_conf_path(path, sizeof(path), "ipv4", ifname, name);
	return sysctl_read_or(path, fallback);
}

/* *on: all's or the interface's setting, unless the interface's cannot be
 * read. */
static void conf_follow(volatile bool *on, const struct iface *iface, const char *name, int all)
{
	int own = conf_read(iface->name, name, -1);

	if (own >= 0)
		*on = all || own;
}

void redirect_confs_refresh(void)
{
	all_send_redirects = conf_read("all", "send_redirects", all_send_redirects);
	all_shared_media = conf_read("all", "shared_media", all_shared_media);
	for (uint16_t i = 0; i < iface_table.n_ifaces; i++) {
		struct iface *iface = &iface_table.ifaces[i];
		conf_follow(&iface->send_redirects, iface, "send_redirects", all_send_redirects);
		conf_follow(&iface->shared_media, iface, "shared_media", all_shared_media);
	}
}
