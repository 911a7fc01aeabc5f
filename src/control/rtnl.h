/*
 * The rtnetlink mirror: links, addresses, neighbors and main-table routes of
 * the kernel, copied into espd's interface, neighbor and forwarding tables,
 * and the interfaces' forwarding and rp_filter settings (netconf).
 * One event socket feeds a queue that the control thread applies in batches;
 * a separate socket dumps everything at start and again whenever events were
 * lost (ENOBUFS), followed by mark and sweep so nothing stale survives.
 *
 * The translators between kernel messages and the rtnl_* structs below live
 * in rtnl_parse.c and need no tables, so they are usable (and tested) alone.
 */
#ifndef ESPD_CONTROL_RTNL_H
#define ESPD_CONTROL_RTNL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include "common/addr.h"

struct iface;
struct cli_out;

struct rtnl_mirror_config {
	uint32_t rx_buffer_size;   /* SO_RCVBUF(FORCE) of the event socket; 0 keeps the default */
	uint32_t batch_size;       /* apply once this many events are queued (0: at once) */
	uint32_t batch_delay_ms;   /* ... or once the oldest is this old; 0 applies at once */
	bool ignore_kernel_routes; /* mirror only connected routes */
	void (*fib_changed)(void);  /* after each commit of a batch that changed the FIB; may be NULL */
	/* A TAP's MTU is not the one espd carries: apply it to the device (and
	 * set iface->mtu) or refuse it. NULL: iface->mtu follows the TAP. */
	void (*mtu_changed)(struct iface *iface, uint32_t mtu);
};

/* A link (RTM_NEWLINK/RTM_DELLINK, family AF_UNSPEC). */
struct rtnl_link {
	int ifindex;
	char name[16];
	uint32_t mtu;       /* 0 when absent */
	uint32_t flags;     /* IFF_* */
	uint8_t operstate;  /* IF_OPER_*; IF_OPER_UNKNOWN when absent */
	bool del;
};

/* An address (RTM_NEWADDR/RTM_DELADDR). */
struct rtnl_addr {
	int ifindex;
	struct ip_prefix prefix;  /* the local address, host bits kept, and its prefix length */
	struct ip_addr broadcast; /* IPv4 IFA_BROADCAST; family 0 when absent */
	uint32_t flags;           /* IFA_F_* */
	uint8_t scope;
	bool del;
};

/* A neighbor (RTM_NEWNEIGH/RTM_DELNEIGH, AF_INET or AF_INET6). */
struct rtnl_neigh {
	int ifindex;
	struct ip_addr addr;
	uint8_t lladdr[6];
	bool has_lladdr;    /* NDA_LLADDR present and 6 bytes long */
	uint16_t state;     /* NUD_* */
	uint8_t flags;      /* NTF_* */
	bool del;
};

/* One hop of a multipath route (struct rtnexthop and its attributes). */
#define RTNL_ROUTE_HOPS 8
struct rtnl_hop {
	int oif;
	struct ip_addr gw;  /* family 0 when directly connected */
	uint16_t weight;    /* rtnh_hops + 1 */
	uint8_t flags;      /* RTNH_F_* */
};

/* A route (RTM_NEWROUTE/RTM_DELROUTE). oif and gw are those of its hop, of
 * a multipath route its first live one; hops[] holds the first
 * RTNL_ROUTE_HOPS of a multipath route's n_hops. */
struct rtnl_route {
	struct ip_prefix prefix;
	uint32_t table;     /* RTA_TABLE, else rtm_table */
	uint32_t priority;  /* RTA_PRIORITY (metric), 0 when absent */
	uint32_t flags;     /* RTM_F_* */
	uint8_t type;       /* RTN_* */
	uint8_t protocol;   /* RTPROT_* */
	uint8_t scope;      /* RT_SCOPE_* */
	uint8_t tos;
	uint8_t src_len;    /* source-specific (IPv6 subtree) routes have one */
	int oif;            /* 0 when none */
	struct ip_addr gw;  /* RTA_GATEWAY or RTA_VIA; family 0 when directly connected */
	uint16_t n_hops;    /* 1, or the hop count of RTA_MULTIPATH */
	struct rtnl_hop hops[RTNL_ROUTE_HOPS]; /* RTA_MULTIPATH only */
	uint8_t hop_limit;  /* RTAX_HOPLIMIT of RTA_METRICS, 0 when absent */
	bool append;        /* NLM_F_APPEND: another route under the same key (IPv4) */
	bool replace;       /* NLM_F_REPLACE: it replaced the route under its key */
	bool del;
};

/* A device's IP settings (RTM_NEWNETCONF, AF_INET or AF_INET6): the
 * kernel notifies only the one that changed, a dump or a new device all. */
#define RTNL_NETCONF_ABSENT (-1)
struct rtnl_netconf {
	int ifindex;        /* a link, NETCONFA_IFINDEX_ALL or NETCONFA_IFINDEX_DEFAULT */
	uint8_t family;
	int32_t forwarding; /* RTNL_NETCONF_ABSENT when not in the message */
	int32_t rp_filter;  /* IPv4 only; RTNL_NETCONF_ABSENT when not in the message */
};

/* Message to struct: 0, -EAFNOSUPPORT for a family the mirror does not
 * want (bridge ports, MPLS), -EINVAL for a malformed message. nlh must have
 * passed mnl_nlmsg_ok(); everything inside it is checked here. */
int rtnl_msg_to_link(const struct nlmsghdr *nlh, struct rtnl_link *link);
int rtnl_msg_to_addr(const struct nlmsghdr *nlh, struct rtnl_addr *addr);
int rtnl_msg_to_neigh(const struct nlmsghdr *nlh, struct rtnl_neigh *neigh);
int rtnl_msg_to_route(const struct nlmsghdr *nlh, struct rtnl_route *route);
int rtnl_msg_to_netconf(const struct nlmsghdr *nlh, struct rtnl_netconf *conf);

/* Struct to message, as the kernel would notify it (NEW or DEL per ->del;
 * a multipath route its hops[] in RTA_MULTIPATH). buf holds RTNL_MSG_SIZE bytes; the
 * caller sets nlmsg_flags and nlmsg_seq when sending it as a request. */
#define RTNL_MSG_SIZE 512
struct nlmsghdr *rtnl_link_to_msg(const struct rtnl_link *link, void *buf);
struct nlmsghdr *rtnl_addr_to_msg(const struct rtnl_addr *addr, void *buf);
struct nlmsghdr *rtnl_neigh_to_msg(const struct rtnl_neigh *neigh, void *buf);
struct nlmsghdr *rtnl_route_to_msg(const struct rtnl_route *route, void *buf);
struct nlmsghdr *rtnl_netconf_to_msg(const struct rtnl_netconf *conf, void *buf);

/* What the mirror does with a route. */
enum rtnl_route_action {
	RTNL_ROUTE_IGNORE,    /* not a main-table route object: other table, cache, tos, source */
	RTNL_ROUTE_FILTER,    /* a main-table route left to the kernel: drop its key's mirror */
	RTNL_ROUTE_OIF,       /* unicast: forward via the oif if espd owns it, else punt */
	RTNL_ROUTE_LOCAL,     /* local/broadcast/anycast in the main table: to the router */
	RTNL_ROUTE_PUNT,      /* throw, nat, no oif: the kernel decides */
	RTNL_ROUTE_BLACKHOLE, /* blackhole, unreachable, prohibit */
};
enum rtnl_route_action rtnl_route_action(const struct rtnl_route *route, bool ignore_kernel_routes);
/* A neighbor espd can forward to: known MAC in a usable NUD state. */
bool rtnl_neigh_is_usable(const struct rtnl_neigh *neigh);
/* An entry the kernel keeps that is not NUD_VALID (INCOMPLETE, FAILED):
 * fib_multipath_use_neigh passes over a hop through it (fib_good_nh). */
bool rtnl_neigh_is_bad(const struct rtnl_neigh *neigh);
/* Admin up and operational state not down. */
bool rtnl_link_is_up(const struct rtnl_link *link);

/* Counters behind `show netlink`. */
struct rtnl_stats {
	uint64_t rx_by_type[RTM_MAX + 1]; /* events and dump replies per message type */
	uint64_t events, dumped;
	uint64_t batches, largest_batch;
	uint64_t resyncs, enobufs;
	uint64_t malformed;   /* messages that failed to parse */
	uint64_t ignored;     /* well-formed but not for espd */
	uint64_t errors;      /* socket, dump or table failures */
	uint64_t multipath_punted; /* multipath routes over espd's ports the kernel forwards */
	int rcvbuf;           /* the event socket's SO_RCVBUF as obtained */
	char last_error[160];
};

int rtnl_mirror_open(const struct rtnl_mirror_config *cfg);       /* sockets + initial dump */
void rtnl_mirror_close(void);                                      /* frees the mirror's state */
int rtnl_mirror_fd(void);                                          /* event socket, for poll */
int rtnl_mirror_next_timeout_ms(uint64_t now_ms);                  /* -1: nothing pending */
void rtnl_mirror_process(uint64_t now_ms);                         /* read, batch, apply, resync */
void rtnl_mirror_resync_request(const char *reason);               /* reason: a literal */
/* An espd interface's addresses (address/prefix length): returns how many it
 * has and writes at most max of them. */
size_t rtnl_iface_addresses(uint16_t iface, struct ip_prefix *out, size_t max);
const struct rtnl_stats *rtnl_mirror_stats(void);
void format_rtnl_stats(struct cli_out *out);                       /* text or JSON */
void rtnl_cli_register(void);                                      /* `show netlink` */

#endif
