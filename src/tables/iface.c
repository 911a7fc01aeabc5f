/* The interface table: names, ports and kernel indexes of espd interfaces. */
#include "tables/iface.h"

#include <stdio.h>
#include <string.h>

struct iface_table iface_table;

void iface_table_init(void)
{
	memset(&iface_table, 0, sizeof(iface_table));
	for (unsigned i = 0; i < RTE_MAX_ETHPORTS; i++)
		iface_table.by_port[i] = IFACE_NONE;
}

struct iface *iface_add(const char *name)
{
	if (iface_table.n_ifaces >= IFACE_MAX)
		return NULL;
	struct iface *iface = &iface_table.ifaces[iface_table.n_ifaces];
	memset(iface, 0, sizeof(*iface));
	snprintf(iface->name, sizeof(iface->name), "%s", name);
	iface->index = iface_table.n_ifaces++;
	iface->port_id = UINT16_MAX;
	iface->tap_port_id = UINT16_MAX;
	iface->tap_mtu = UINT16_MAX; /* no limit of its own until a TAP says */
	return iface;
}

struct iface *iface_by_name(const char *name)
{
	for (uint16_t i = 0; i < iface_table.n_ifaces; i++)
		if (strcmp(iface_table.ifaces[i].name, name) == 0)
			return &iface_table.ifaces[i];
	return NULL;
}

struct iface *iface_by_ifindex(int kernel_ifindex)
{
	for (uint16_t i = 0; i < iface_table.n_ifaces; i++)
		if (iface_table.ifaces[i].tap_ifindex == kernel_ifindex)
			return &iface_table.ifaces[i];
	return NULL;
}

void iface_bind_port(struct iface *iface, uint16_t port_id, bool is_tap)
{
	if (is_tap)
		iface->tap_port_id = port_id;
	else
		iface->port_id = port_id;
	iface_table.by_port[port_id] = iface->index;
}
