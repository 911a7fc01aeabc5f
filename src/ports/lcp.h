/*
 * linux-cp takeover of kernel interfaces. For each port espd drives, the
 * kernel device's state (MAC, MTU, flags, offloads, addresses, routes) is
 * captured and written to a state file before anything is touched; the
 * device is then renamed out of the way, stripped of its addresses and IPv6,
 * its receive/segmentation offloads turned off, and (for AF_PACKET ports)
 * fenced off from the kernel's stack by an ingress drop: an nftables netdev
 * chain, or a tc matchall filter where the kernel has no netdev family. The
 * TAP that takes the original name receives the addresses and routes.
 * Restore reverses all of it, on clean exit and, from the state file, after
 * a crash; every step is idempotent.
 *
 * Files: lcp.c (the steps, links, disable_ipv6), lcp_addr.c and lcp_route.c
 * (rtnetlink through control/nl.h), lcp_fence.c (the `nft` and `tc`
 * binaries), lcp_offload.c (the ethtool ioctl), lcp_state.c (the state
 * file). Functions return 0 (or a count) or -errno after printing
 * "espd: lcp: <name>: <what> failed: <why>".
 */
#ifndef ESPD_PORTS_LCP_H
#define ESPD_PORTS_LCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/addr.h"

#define LCP_IFNAMSIZ 16         /* IFNAMSIZ, without dragging in net/if.h */
#define LCP_NFT_NAME_MAX 32
#define LCP_METRICS_MAX 128     /* raw RTA_METRICS payload kept per route */
#define LCP_LIFETIME_FOREVER UINT32_MAX
#define LCP_STATE_FILE "lcp.state"

/* How the kernel's stack is kept off an AF_PACKET device's frames. Both run
 * after AF_PACKET's taps, so the dataplane still sees every frame. */
enum lcp_fence {
	LCP_FENCE_NONE,
	LCP_FENCE_NFT, /* netdev table nft_table, ingress chain with policy drop */
	LCP_FENCE_TC,  /* tc ingress qdisc with a matchall drop filter */
};

/* Offloads takeover turns off: GRO, hardware GRO and LRO hand AF_PACKET
 * aggregates of up to 64 KB, which the dataplane's 2 KB buffers cannot hold;
 * GSO and TSO are their transmit side. X(id, state file word, ethtool name) */
#define LCP_OFFLOAD_LIST(X)                                                  \
	X(GRO, "gro", "rx-gro")                                              \
	X(GRO_HW, "gro_hw", "rx-gro-hw")                                     \
	X(LRO, "lro", "large-receive-offload")                               \
	X(GSO, "gso", "tx-generic-segmentation")                             \
	X(TSO, "tso", "tx-tcp-segmentation")                                 \
	X(TSO_ECN, "tso_ecn", "tx-tcp-ecn-segmentation")                     \
	X(TSO_MANGLEID, "tso_mangleid", "tx-tcp-mangleid-segmentation")      \
	X(TSO6, "tso6", "tx-tcp6-segmentation")                              \
	X(TSO_ACCECN, "tso_accecn", "tx-tcp-accecn-segmentation")

enum lcp_offload {
#define LCP_OFFLOAD_ID(id, word, feature) LCP_OFFLOAD_##id,
	LCP_OFFLOAD_LIST(LCP_OFFLOAD_ID)
#undef LCP_OFFLOAD_ID
	LCP_OFFLOADS
};

/* One offload as captured: what the device's owner asked for (ethtool's
 * "requested"), which is what restore sets back. */
enum lcp_offload_state {
	LCP_OFFLOAD_UNSUPPORTED, /* unknown to the kernel, fixed, or not captured: left alone */
	LCP_OFFLOAD_OFF,
	LCP_OFFLOAD_ON,
};

/* One address as the kernel reported it (RTM_NEWADDR). */
struct lcp_addr {
	struct ip_addr local;       /* the interface's own address */
	struct ip_addr peer;        /* point-to-point peer; family 0 when none */
	struct ip_addr broadcast;   /* IPv4 broadcast; family 0 when none */
	uint8_t prefixlen;
	uint8_t scope;              /* RT_SCOPE_* */
	uint8_t proto;              /* IFA_PROTO; 0 when unset */
	uint32_t flags;             /* IFA_F_* */
	uint32_t metric;            /* IFA_RT_PRIORITY of the prefix route; 0 when unset */
	uint32_t valid_lft;         /* seconds left at capture, or LCP_LIFETIME_FOREVER */
	uint32_t preferred_lft;
	char label[LCP_IFNAMSIZ];   /* IPv4 label; "" when none */
};

/* One route whose single nexthop leaves through the interface. */
struct lcp_route {
	struct ip_prefix dst;       /* its family is the route's family */
	struct ip_prefix src;       /* IPv6 source-specific routing; all zero when none */
	struct ip_addr gateway;     /* family 0: none; other family than dst: RTA_VIA */
	struct ip_addr prefsrc;     /* family 0 when none */
	uint32_t table;
	uint32_t metric;            /* RTA_PRIORITY */
	uint32_t flags;             /* RTNH_F_ONLINK is the one that matters on add */
	uint8_t protocol;           /* RTPROT_* */
	uint8_t scope;
	uint8_t type;               /* RTN_* */
	uint8_t tos;
	int16_t pref;               /* RTA_PREF (IPv6 router preference), -1 when absent */
	uint16_t metrics_len;
	uint8_t metrics[LCP_METRICS_MAX]; /* RTA_METRICS payload (mtu, advmss, ...) */
};

/* Everything needed to take one device over and to put it back. */
struct lcp_saved {
	char name[LCP_IFNAMSIZ];      /* kernel name; the TAP takes it over */
	char phys_name[LCP_IFNAMSIZ]; /* the device's name while espd runs ("espd-p7") */
	int ifindex;                  /* the device's ifindex, kept across the rename */
	uint8_t mac[6];
	uint32_t mtu;
	uint32_t flags;               /* IFF_*; UP, PROMISC, ALLMULTI, NOARP are restored */
	int disable_ipv6;             /* 0 or 1; -1 when the device has no IPv6 settings */
	enum lcp_fence fence;
	char nft_table[LCP_NFT_NAME_MAX]; /* LCP_FENCE_NFT: the netdev table holding the chain */
	char fence_note[128];         /* why nftables was passed over for tc; for messages, not saved */
	uint8_t offloads[LCP_OFFLOADS]; /* enum lcp_offload_state */
	struct lcp_addr *addrs;       /* kernel-made IPv6 addresses (link-local, SLAAC) left out */
	size_t n_addrs;
	struct lcp_route *routes;     /* kernel-made (proto kernel, ra) and local-table routes left out */
	size_t n_routes;
};

/* Capture the kernel state of ifname into saved (allocates; see lcp_saved_free).
 * -ENODEV with "interface X not found" when it does not exist. */
int lcp_capture(const char *ifname, struct lcp_saved *saved);
void lcp_saved_free(struct lcp_saved *saved);
/* Ask takeover to fence the device off the kernel's stack: with an ingress
 * drop chain in nftables netdev table `table` (one name per espd instance)
 * where the kernel has that family, else with a tc ingress matchall drop.
 * The kernel is asked here (`nft --check`, which changes nothing), so that
 * the state file saved next names the fence restore must remove.
 * -EINVAL for a name nft would not take. */
int lcp_saved_set_ingress_drop(struct lcp_saved *saved, const char *table);
/* The device's temporary name: "espd-p<ifindex>" (hex when decimal is too long). */
void lcp_phys_name(int ifindex, char name[LCP_IFNAMSIZ]);

/* State file <state_dir>/lcp.state: written to a temporary file, synced and
 * renamed into place, so a crash leaves either the old or the new file. */
int lcp_state_save(const char *state_dir, const struct lcp_saved *saved, size_t n);
/* Load it (allocates *saved, free with lcp_state_free). -ENOENT when absent,
 * -EINVAL with the line number printed when it is malformed. */
int lcp_state_load(const char *state_dir, struct lcp_saved **saved, size_t *n);
int lcp_state_remove(const char *state_dir);
void lcp_state_free(struct lcp_saved *saved, size_t n);
/* The same format on any stream; `what` names the source in error messages. */
int lcp_state_write(FILE *f, const struct lcp_saved *saved, size_t n);
int lcp_state_read(FILE *f, const char *what, struct lcp_saved **saved, size_t *n);

/* Rename the device to its phys name, strip addresses, routes and IPv6, turn
 * its offloads off, add the fence if asked, and bring it up for the DPDK
 * driver. On error the
 * device may be half taken over: lcp_restore_one repairs it. phys_name_out
 * (LCP_IFNAMSIZ bytes, may be NULL) receives the new name. */
int lcp_takeover(const struct lcp_saved *saved, char *phys_name_out);
/* Give the TAP that now carries the original name the saved MTU, MAC (if it
 * differs), disable_ipv6, addresses, admin state and routes (oif = TAP), and
 * the device's forwarding, rp_filter, send_redirects, shared_media,
 * disable_policy, disable_xfrm and IPv6 hop_limit sysctls. */
int lcp_tap_configure(const struct lcp_saved *saved, int tap_ifindex);
/* Before the TAP named name goes: those sysctls of the TAP go back to the
 * device (phys_name), so that what the router's user changed while espd ran
 * stays once the device has its name back. */
int lcp_tap_confs_give_back(const char *name, const char *phys_name);
/* While running: the MTU of a kernel link (a taken-over device, a TAP);
 * name is for the error message. */
int lcp_link_mtu_set(const char *name, int ifindex, uint32_t mtu);
/* Put one device back as captured, whatever step a takeover reached: fence
 * removed, whatever else holds the name deleted, name, offloads, MAC, MTU,
 * IPv6, addresses, flags and routes restored. -ENODEV/-ESTALE when the device is
 * gone or its ifindex now belongs to another device (nothing touched). */
int lcp_restore_one(const struct lcp_saved *saved);
/* Restore every device of the state file, then remove the file. Returns the
 * number restored (0 when there is no state file) or -errno, in which case
 * the file stays for another attempt. */
int lcp_restore(const char *state_dir);

/* Append one zeroed elem-sized item to the array *array_ptr of *n items
 * (capacity doubles at powers of two); NULL when out of memory. Shared by
 * capture and the state-file reader, which build the arrays of lcp_saved. */
void *lcp_array_append(void *array_ptr, size_t *n, size_t elem);

#endif
