/*
 * Port set-up. Device drivers map to DPDK PMDs: af-packet -> net_af_packet,
 * xdp -> net_af_xdp, dpdk -> a PCI device or any vdev string. TAPs are
 * net_tap ports created with the original interface's name and MAC.
 */
#include "ports/port.h"
#include "ports/lcp.h"

#include <errno.h>
#include <limits.h>
#include <unistd.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <rte_bus_vdev.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#define DESC_DEFAULT 1024

/*
 * An af_packet port's socket hands each packet in one frame of its ring,
 * which the PMD copies into one mbuf, and the kernel truncates what does not
 * fit a frame. Packets can be much larger than the MTU: DPDK joins the
 * socket to a fanout group with PACKET_FANOUT_FLAG_DEFRAG, so the kernel
 * reassembles IPv4 fragments first. Frames of at least AF_PACKET_FRAME_MIN
 * bytes, and mbufs as large from the port's own pool, carry such datagrams
 * (fragmented DNS, IKE with certificates, ESP from a jumbo LAN) whole.
 */
#define AF_PACKET_FRAME_MIN 16384
#define AF_PACKET_RING_BYTES (16u << 20) /* per queue and direction */
#define AF_PACKET_FRAME_HDR 128 /* the ring's header before the frame's bytes */

/* Mbufs a port's own receive pool has per queue beyond what its PMD holds. */
#define RX_POOL_MBUFS 1024
#define RX_POOL_CACHE 64

static unsigned vdev_serial;
/* Fixed when a port opens: the frame size of an af_packet port, and the
 * largest frame a TAP receives in one mbuf. */
static unsigned af_packet_frame[RTE_MAX_ETHPORTS];
static unsigned tap_frame[RTE_MAX_ETHPORTS];

/* A power of two from min up with room for a frame of mtu and the ring's
 * header. */
static unsigned frame_size(uint16_t mtu, unsigned min)
{
	uint32_t need = (uint32_t)mtu + RTE_ETHER_HDR_LEN + AF_PACKET_FRAME_HDR;
	uint32_t size = min;

	while (size < need)
		size <<= 1;
	return RTE_MIN(size, 32768u);
}

/* Receive mbufs of a port whose frames outgrow the shared 2 KB ones: the
 * af_packet and TAP PMDs put a frame in one mbuf, or drop it. A pool of
 * n_mbufs of frame bytes; none (0) where the shared pool serves. */
struct rx_pool_size {
	unsigned frame;
	unsigned n_mbufs;
};

static struct rx_pool_size af_packet_rx_pool(uint16_t mtu, unsigned n_queues)
{
	return (struct rx_pool_size){ frame_size(mtu, AF_PACKET_FRAME_MIN),
				      RX_POOL_MBUFS * n_queues };
}

/* The kernel sends frames up to the interface's MTU into the TAP: in one
 * mbuf each for the MTU at start (espd's nodes, ESP above all, want a
 * packet whole), chained past a later raise. */
static struct rx_pool_size tap_rx_pool(uint16_t mtu, unsigned n_queues)
{
	unsigned frame = frame_size(mtu, RTE_MBUF_DEFAULT_DATAROOM);

	if (frame <= RTE_MBUF_DEFAULT_DATAROOM)
		return (struct rx_pool_size){ 0, 0 };
	return (struct rx_pool_size){ frame, (DESC_DEFAULT + RX_POOL_MBUFS) * n_queues };
}

static struct rte_mempool *rx_pool_create(const char *kind, const char *name,
					  struct rx_pool_size size)
{
	char pool_name[RTE_MEMPOOL_NAMESIZE];

	snprintf(pool_name, sizeof(pool_name), "%s_%s", kind, name);
	return rte_pktmbuf_pool_create(pool_name, size.n_mbufs, RX_POOL_CACHE, 0,
				       (uint16_t)(RTE_PKTMBUF_HEADROOM + size.frame),
				       SOCKET_ID_ANY);
}

/* On 4 KB pages a mempool puts no object across a page boundary, so an
 * mbuf of 2 KB of data takes a whole page. */
size_t port_pktmbuf_pool_bytes(unsigned n_mbufs, unsigned data_room, size_t page_size)
{
	size_t object = rte_mempool_calc_obj_size((uint32_t)(sizeof(struct rte_mbuf) + data_room),
						  0, NULL);

	return (size_t)n_mbufs * (page_size ? RTE_ALIGN_CEIL(object, page_size) : object);
}

static size_t rx_pool_bytes(struct rx_pool_size size, size_t page_size)
{
	return port_pktmbuf_pool_bytes(size.n_mbufs, RTE_PKTMBUF_HEADROOM + size.frame, page_size);
}

size_t port_pools_bytes(const struct config_interface *config, uint16_t mtu, unsigned n_queues,
			size_t page_size)
{
	size_t bytes = rx_pool_bytes(tap_rx_pool(mtu, n_queues), page_size);

	if (config->driver == PORT_DRIVER_AF_PACKET)
		bytes += rx_pool_bytes(af_packet_rx_pool(mtu, n_queues), page_size);
	return bytes;
}

static int vdev_create(const char *driver, const char *args, uint16_t *port_id)
{
	char name[64];
	snprintf(name, sizeof(name), "%s%u", driver, vdev_serial++);
	int rc = rte_vdev_init(name, args);
	if (rc < 0)
		return rc;
	if (rte_eth_dev_get_port_by_name(name, port_id) != 0)
		return -ENODEV;
	return 0;
}

/* `driver dpdk` without dpdk-options dev: the PCI address behind the kernel
 * interface. The device must already be bound to a DPDK-capable driver
 * (vfio-pci); espd does not rebind devices itself. */
static int pci_probe(const char *device, uint16_t *port_id)
{
	char link[PATH_MAX], target[PATH_MAX];

	snprintf(link, sizeof(link), "/sys/class/net/%s/device", device);
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	if (n < 0) {
		fprintf(stderr, "espd: %s: no PCI device behind it; use dpdk-options dev\n", device);
		return -ENODEV;
	}
	target[n] = '\0';
	const char *pci = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;
	if (rte_dev_probe(pci) < 0 || rte_eth_dev_get_port_by_name(pci, port_id) != 0) {
		fprintf(stderr, "espd: %s: PCI %s is not usable by DPDK; bind it to vfio-pci "
				"(dpdk-devbind.py -b vfio-pci %s)\n", device, pci, pci);
		return -ENODEV;
	}
	return 0;
}

/* The device's port, and the pool it receives into when not params->pool. */
static int device_create(const struct port_params *params, uint16_t *port_id,
			 struct rte_mempool **rx_pool)
{
	const struct config_interface *config = params->config;
	char args[256];

	switch (config->driver) {
	case PORT_DRIVER_AF_PACKET: {
		struct rx_pool_size size = af_packet_rx_pool(params->mtu, params->n_queues);
		unsigned frame = size.frame;
		*rx_pool = rx_pool_create("rx", params->device, size);
		if (!*rx_pool)
			return -rte_errno;
		snprintf(args, sizeof(args),
			 "iface=%s,qpairs=%u,blocksz=%u,framesz=%u,framecnt=%u,qdisc_bypass=1",
			 params->device, params->n_queues, frame, frame, AF_PACKET_RING_BYTES / frame);
		int rc = vdev_create("net_af_packet", args, port_id);
		if (rc == 0)
			af_packet_frame[*port_id] = frame;
		return rc;
	}
	case PORT_DRIVER_XDP:
		snprintf(args, sizeof(args), "iface=%s,queue_count=%u%s", params->device,
			 params->n_queues, config->zero_copy ? "" : ",force_copy=1");
		return vdev_create("net_af_xdp", args, port_id);
	case PORT_DRIVER_DPDK:
		if (config->dpdk_dev[0] == '\0')
			return pci_probe(params->device, port_id);
		if (strncmp(config->dpdk_dev, "net_", 4) == 0) {
			char driver[64];
			const char *comma = strchr(config->dpdk_dev, ',');
			size_t len = comma ? (size_t)(comma - config->dpdk_dev) : strlen(config->dpdk_dev);
			snprintf(driver, sizeof(driver), "%.*s", (int)len, config->dpdk_dev);
			int rc = rte_vdev_init(driver, comma ? comma + 1 : "");
			if (rc < 0)
				return rc;
			return rte_eth_dev_get_port_by_name(driver, port_id) == 0 ? 0 : -ENODEV;
		}
		if (rte_dev_probe(config->dpdk_dev) < 0)
			return -ENODEV;
		return rte_eth_dev_get_port_by_name(config->dpdk_dev, port_id) == 0 ? 0 : -ENODEV;
	}
	return -EINVAL;
}

/* A TAP takes no RSS, and receives what outgrows an mbuf in a chain of
 * them: the kernel sends frames as large as the TAP's MTU, which may be
 * raised while espd runs. */
static int port_start(uint16_t port_id, const struct port_params *params,
		      struct rte_mempool *rx_pool, bool tap)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf = { 0 };
	uint16_t n_rx_desc = DESC_DEFAULT, n_tx_desc = DESC_DEFAULT;
	int rc;

	rc = rte_eth_dev_info_get(port_id, &info);
	if (rc < 0)
		return rc;
	if (!tap && params->n_queues > 1 && info.flow_type_rss_offloads) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads &
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP);
	}
	if (tap)
		conf.rxmode.offloads = info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER;
	if (params->config && params->config->num_rx_desc)
		n_rx_desc = params->config->num_rx_desc;
	if (params->config && params->config->num_tx_desc)
		n_tx_desc = params->config->num_tx_desc;
	rc = rte_eth_dev_configure(port_id, params->n_queues, params->n_queues, &conf);
	if (rc < 0)
		return rc;
	rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &n_rx_desc, &n_tx_desc);
	for (uint16_t q = 0; q < params->n_queues; q++) {
		rc = rte_eth_rx_queue_setup(port_id, q, n_rx_desc, SOCKET_ID_ANY, NULL, rx_pool);
		if (rc < 0)
			return rc;
		rc = rte_eth_tx_queue_setup(port_id, q, n_tx_desc, SOCKET_ID_ANY, NULL);
		if (rc < 0)
			return rc;
	}
	return rte_eth_dev_start(port_id);
}

int port_open_device(const struct port_params *params, uint16_t *port_id)
{
	struct rte_mempool *rx_pool = params->pool;
	int rc = device_create(params, port_id, &rx_pool);
	if (rc < 0)
		return rc;
	rc = port_start(*port_id, params, rx_pool, false);
	if (rc < 0)
		return rc;
	/* Frames for the router's own MAC and for multicast both matter; the
	 * ethernet-input node does the filtering. */
	rte_eth_promiscuous_enable(*port_id);
	return 0;
}

int port_open_tap(const char *name, const struct rte_ether_addr *mac,
		  const struct port_params *params, uint16_t *port_id, int *ifindex)
{
	char args[128], mac_text[RTE_ETHER_ADDR_FMT_SIZE];
	struct port_params tap_params = *params;
	struct rte_mempool *rx_pool = params->pool;

	rte_ether_format_addr(mac_text, sizeof(mac_text), mac);
	snprintf(args, sizeof(args), "iface=%s,mac=%s", name, mac_text);
	int rc = vdev_create("net_tap", args, port_id);
	if (rc < 0)
		return rc;
	tap_params.config = NULL;
	struct rx_pool_size size = tap_rx_pool(params->mtu, params->n_queues);
	if (size.n_mbufs) {
		rx_pool = rx_pool_create("tap", name, size);
		if (!rx_pool)
			return -rte_errno;
	}
	rc = port_start(*port_id, &tap_params, rx_pool, true);
	if (rc < 0)
		return rc;
	tap_frame[*port_id] = rte_pktmbuf_data_room_size(rx_pool) - RTE_PKTMBUF_HEADROOM;
	*ifindex = (int)if_nametoindex(name);
	return *ifindex > 0 ? 0 : -ENODEV;
}

uint16_t port_mtu(uint16_t port_id)
{
	uint16_t mtu = RTE_ETHER_MTU;

	rte_eth_dev_get_mtu(port_id, &mtu);
	return mtu;
}

/*
 * The af_packet PMD sends a chain of mbufs whole, so the TAP's frames may
 * outgrow an mbuf there; the af_xdp PMD copies only the first mbuf's worth
 * (DPDK 22.11), so other ports take no MTU whose frames the TAP would chain.
 */
int port_device_mtu_set(uint16_t port_id, uint16_t tap_port_id, const char *device, int ifindex,
			uint32_t mtu, uint32_t *max)
{
	unsigned frame = af_packet_frame[port_id];

	*max = frame ? frame - AF_PACKET_FRAME_HDR - RTE_ETHER_HDR_LEN
		     : tap_frame[tap_port_id] - RTE_ETHER_HDR_LEN;
	if (mtu > *max)
		return -ERANGE;
	if (!frame)
		return rte_eth_dev_set_mtu(port_id, (uint16_t)mtu);
	/* DPDK 22.11's af_packet PMD refuses any MTU above 1500 (its
	 * max_rx_pktlen): the device is the kernel's, set over netlink. */
	return lcp_link_mtu_set(device, ifindex, mtu);
}

void port_close(uint16_t port_id)
{
	struct rte_eth_dev_info info;
	char name[RTE_DEV_NAME_MAX_LEN] = "";

	if (rte_eth_dev_info_get(port_id, &info) == 0 && info.device)
		snprintf(name, sizeof(name), "%s", rte_dev_name(info.device));
	af_packet_frame[port_id] = 0;
	tap_frame[port_id] = 0;
	rte_eth_dev_stop(port_id);
	rte_eth_dev_close(port_id);
	/* Closing a TAP port deletes the kernel TAP; uninit frees the vdev so
	 * its name can be used again. */
	if (strncmp(name, "net_", 4) == 0)
		rte_vdev_uninit(name);
}
