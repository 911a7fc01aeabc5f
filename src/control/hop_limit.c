/*
 * The kernel's TTL and hop limits, read from /proc/sys (hop_limit.h).
 */
#include "control/hop_limit.h"

#include <limits.h>
#include <stdio.h>

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
	iface_table.hop_limit6 = ttl_read("/proc/sys/net/ipv6/conf/all/hop_limit",
					  iface_table.hop_limit6);
	for (uint16_t i = 0; i < iface_table.n_ifaces; i++) {
		struct iface *iface = &iface_table.ifaces[i];
		snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/hop_limit", iface->name);
		iface->hop_limit = ttl_read(path, iface->hop_limit);
	}
}
