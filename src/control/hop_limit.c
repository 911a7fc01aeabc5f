/*
 * The kernel's TTL and hop limits, read from /proc/sys (hop_limit.h).
 */
#include "control/hop_limit.h"

#include <limits.h>

#include "common/sysctl.h"
#include "tables/iface.h"

/* The sysctl at path if it holds a TTL (1-255), else fallback. */
static uint8_t ttl_read(const char *path, uint8_t fallback)
{
	int value = sysctl_read_or(path, fallback);

	return value >= 1 && value <= 255 ? (uint8_t)value : fallback;
}

void hop_limits_refresh(void)
{
	char path[PATH_MAX];

	iface_table.ttl4 = ttl_read("/proc/sys/net/ipv4/ip_default_ttl", iface_table.ttl4);
	sysctl_conf_path(path, sizeof(path), "ipv6", "all", "hop_limit");
	iface_table.hop_limit6 = ttl_read(path, iface_table.hop_limit6);
	for (uint16_t i = 0; i < iface_table.n_ifaces; i++) {
		struct iface *iface = &iface_table.ifaces[i];
		sysctl_conf_path(path, sizeof(path), "ipv6", iface->name, "hop_limit");
		iface->hop_limit = ttl_read(path, iface->hop_limit);
	}
}
