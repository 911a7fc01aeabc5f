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
	iface_table.ttl4 = iface_table.hop_limit6 = IFACE_HOP_LIMIT_DEFAULT;
	iface_table.forwarding6 = true;
}

const char *format_iface_rp_filter(uint8_t rp_filter)
{
	static const char *const names[] = { "off", "strict", "loose" };
	return rp_filter < sizeof(names) / sizeof(names[0]) ? names[rp_filter] : "?";
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
	iface->hop_limit = IFACE_HOP_LIMIT_DEFAULT;
	iface->forwarding4 = true; /* until the kernel's settings are read (none in benches) */
	iface->send_redirects = iface->shared_media = true; /* the kernel's defaults */
	rte_seqlock_init(&iface->addrs.lock);
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

void iface_addrs_set(struct iface *iface, const struct ip_prefix *addrs, size_t n)
{
	n = n < IFACE_ADDR_MAX ? n : IFACE_ADDR_MAX;
	rte_seqlock_write_lock(&iface->addrs.lock);
	memcpy(iface->addrs.addr, addrs, n * sizeof(*addrs));
	iface->addrs.n = (uint16_t)n;
	rte_seqlock_write_unlock(&iface->addrs.lock);
}

/* Of addrs[0..n): the index of the best source toward, or -1. */
static int source_pick(const struct ip_prefix *addrs, uint16_t n, const struct ip_addr *toward)
{
	int first = -1;

	for (uint16_t i = 0; i < n; i++) {
		if (addrs[i].addr.family != toward->family ||
		    ip_addr_is_link_local(&addrs[i].addr) != ip_addr_is_link_local(toward))
			continue;
		if (ip_prefix_contains(&addrs[i], toward))
			return i;
		if (first < 0)
			first = i;
	}
	return first;
}

bool iface_source_select(const struct iface *iface, const struct ip_addr *toward,
			 struct ip_addr *source)
{
	const struct iface_addrs *addrs = &iface->addrs;
	uint32_t sequence;
	int picked;

	do {
		sequence = rte_seqlock_read_begin(&addrs->lock);
		picked = source_pick(addrs->addr, RTE_MIN(addrs->n, (uint16_t)IFACE_ADDR_MAX), toward);
		if (picked >= 0)
			*source = addrs->addr[picked].addr;
	} while (rte_seqlock_read_retry(&addrs->lock, sequence));
	return picked >= 0;
}

static bool onlink(const struct ip_prefix *addrs, uint16_t n, const struct ip_addr *a,
		   const struct ip_addr *b)
{
	for (uint16_t i = 0; i < n; i++)
		if (ip_prefix_contains(&addrs[i], a) &&
		    (!b->family || ip_prefix_contains(&addrs[i], b)))
			return true;
	return false;
}

bool iface_addr_onlink(const struct iface *iface, const struct ip_addr *a,
		       const struct ip_addr *b)
{
	const struct iface_addrs *addrs = &iface->addrs;
	uint32_t sequence;
	bool found;

	do {
		sequence = rte_seqlock_read_begin(&addrs->lock);
		found = onlink(addrs->addr, RTE_MIN(addrs->n, (uint16_t)IFACE_ADDR_MAX), a, b);
	} while (rte_seqlock_read_retry(&addrs->lock, sequence));
	return found;
}
