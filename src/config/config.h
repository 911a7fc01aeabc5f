/*
 * The espd configuration: the model built from a file of VyOS `set vpp ...`
 * lines, and the parser that builds it.
 *
 * The file holds the same lines a VyOS user writes for the VPP dataplane
 * (one command a line, values quoted with '...' or "..." or not, `#` starts
 * a comment). Like VyOS `set`, lines merge: every line naming `rule 10` of a
 * tag adds to the same rule, a leaf set twice keeps the later value, and
 * repeating a line changes nothing. The model is built only when the whole
 * file is valid; the first error is reported as `FILE:LINE: 'word': what`.
 */
#ifndef ESPD_CONFIG_CONFIG_H
#define ESPD_CONFIG_CONFIG_H

#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"

#define CONFIG_DEV_LEN 128        /* PCI address or vdev string, with NUL */
#define CONFIG_TAG_LEN 64         /* ACL tag name, with NUL */
#define CONFIG_DESCRIPTION_LEN 256 /* description text, with NUL */
#define CONFIG_MAX_CORE 512       /* highest CPU core number accepted */
/* Each worker has a queue pair on every TAP; DPDK 22.11's TAP PMD passes
 * the queues' descriptors in a fixed array of 8 at start and overruns it
 * (stack smashing, espd aborts) past 4 pairs. */
#define CONFIG_WORKERS_MAX 4

enum port_driver {
	PORT_DRIVER_DPDK,      /* the NIC is handed to a DPDK PMD (default) */
	PORT_DRIVER_XDP,       /* AF_XDP socket on the kernel interface */
	PORT_DRIVER_AF_PACKET, /* AF_PACKET socket on the kernel interface */
};

enum rx_mode {
	RX_MODE_ADAPTIVE,  /* poll under load, sleep when idle (default) */
	RX_MODE_POLLING,   /* busy-poll: lowest latency, a full core */
	RX_MODE_INTERRUPT, /* wait for interrupts */
};

enum ipsec_interface_type {
	IPSEC_INTERFACE_IPSEC, /* route-based tunnels as ipsecN (default) */
	IPSEC_INTERFACE_IPIP,  /* route-based tunnels as ipipN */
};

enum crypto_engine {
	CRYPTO_ENGINE_IPSECMB, /* intel-ipsec-mb (default) */
	CRYPTO_ENGINE_OPENSSL, /* OpenSSL 3 */
};

struct config_interface {
	char name[IFNAMSIZ];        /* kernel interface taken over */
	enum port_driver driver;
	char dpdk_dev[CONFIG_DEV_LEN]; /* PCI address or vdev; empty: derive from name */
	uint16_t num_rx_queues;     /* 0: driver default (xdp: all queues) */
	uint16_t num_tx_queues;     /* 0: driver default */
	uint16_t num_rx_desc;       /* DPDK rx ring size, 0: default */
	uint16_t num_tx_desc;       /* DPDK tx ring size, 0: default */
	uint16_t rx_queue_size;     /* AF_XDP rx ring size, 0: default */
	uint16_t tx_queue_size;     /* AF_XDP tx ring size, 0: default */
	bool promisc;               /* put the NIC in promiscuous mode */
	bool zero_copy;             /* AF_XDP zero-copy */
	bool no_syscall_lock;       /* AF_XDP: no lock around tx wakeups */
	bool rx_mode_set;           /* rx_mode given for this interface */
	enum rx_mode rx_mode;       /* valid when rx_mode_set */
};

struct config_cpu {
	int main_core;          /* core of the control thread, -1: unset */
	int workers;            /* number of worker threads, -1: unset */
	int skip_cores;         /* cores to leave to the system, 0: none */
	int cores;              /* total cores (main + workers), -1: unset */
	cpu_set_t worker_cores; /* corelist-workers; empty: unset */
};

struct config_netlink {
	uint32_t rx_buffer_size; /* socket receive buffer, bytes */
	uint32_t batch_size;     /* messages applied per batch */
	uint32_t batch_delay_ms; /* wait to fill a batch */
};

#define CONFIG_NETLINK_RX_BUFFER_SIZE_DEFAULT (64u << 20)
#define CONFIG_NETLINK_BATCH_SIZE_DEFAULT 2048u
#define CONFIG_NETLINK_BATCH_DELAY_MS_DEFAULT 50u

enum acl_action {
	ACL_ACTION_DENY,
	ACL_ACTION_PERMIT,
	ACL_ACTION_PERMIT_REFLECT, /* permit and let the return traffic in */
};

enum acl_dir {
	ACL_DIR_INPUT,
	ACL_DIR_OUTPUT,
};

#define ACL_PROTO_ANY (-1)

/* TCP header flag bits (RFC 9293, RFC 3168). */
#define ACL_TCP_FIN 0x01
#define ACL_TCP_SYN 0x02
#define ACL_TCP_RST 0x04
#define ACL_TCP_PSH 0x08
#define ACL_TCP_ACK 0x10
#define ACL_TCP_URG 0x20
#define ACL_TCP_ECE 0x40
#define ACL_TCP_CWR 0x80

struct acl_rule {
	uint32_t number;          /* rule order within its tag, 1-4294967295 */
	enum acl_action action;
	int protocol;             /* IP protocol 0-255, or ACL_PROTO_ANY */
	struct ip_prefix src;     /* addr.family 0: any source */
	struct ip_prefix dst;     /* addr.family 0: any destination */
	uint16_t sport_lo, sport_hi; /* 0-65535: any */
	uint16_t dport_lo, dport_hi; /* 0-65535: any */
	uint8_t tcp_flags_set;    /* ACL_TCP_* bits that must be set */
	uint8_t tcp_flags_clear;  /* ACL_TCP_* bits that must be clear */
	char description[CONFIG_DESCRIPTION_LEN];
	uint32_t line;            /* first config line naming this rule */
};

struct acl_list {
	char name[CONFIG_TAG_LEN];
	char description[CONFIG_DESCRIPTION_LEN];
	struct acl_rule *rules;   /* sorted by number */
	size_t n_rules;
};

struct acl_binding {
	char ifname[IFNAMSIZ];
	enum acl_dir dir;
	uint32_t order;           /* acl-tag number: lists apply in this order */
	char tag[CONFIG_TAG_LEN];
};

/* MAC ACLs (`set vpp acl mac`, formerly `acl macip`): input only. */
struct macip_rule {
	uint32_t number;
	enum acl_action action;   /* permit or deny */
	struct ip_prefix prefix;  /* source prefix; addr.family 0: any */
	uint8_t mac[6];           /* source MAC, default 00:00:00:00:00:00 */
	uint8_t mac_mask[6];      /* default ff:ff:ff:ff:ff:ff */
	char description[CONFIG_DESCRIPTION_LEN];
	uint32_t line;
};

struct macip_list {
	char name[CONFIG_TAG_LEN];
	char description[CONFIG_DESCRIPTION_LEN];
	struct macip_rule *rules; /* sorted by number */
	size_t n_rules;
};

struct macip_binding {
	char ifname[IFNAMSIZ];
	char tag[CONFIG_TAG_LEN];
};

struct config {
	struct config_interface *interfaces; /* in order of first mention */
	size_t n_interfaces;
	struct config_cpu cpu;
	struct config_netlink netlink;       /* `lcp netlink` and `ipsec netlink` */
	bool ignore_kernel_routes;
	enum rx_mode interface_rx_mode;      /* for interfaces without rx-mode */
	bool ipsec_acceleration;
	enum ipsec_interface_type ipsec_interface_type;
	enum crypto_engine crypto_engine;
	struct acl_list *acls;               /* sorted by name */
	size_t n_acls;
	struct acl_binding *bindings;        /* sorted by ifname, dir, order */
	size_t n_bindings;
	struct macip_list *macips;           /* sorted by name */
	size_t n_macips;
	struct macip_binding *macip_bindings; /* sorted by ifname */
	size_t n_macip_bindings;
};

/* Fill cfg with the defaults of an empty file. */
void config_init(struct config *cfg);
/* Free everything cfg owns and leave it as config_init does. */
void config_free(struct config *cfg);
/* Parse a file into cfg. 0, or -errno with err set; on error cfg is untouched.
 * On success cfg is overwritten without being freed first. */
int config_load(const char *path, struct config *cfg, char *err, size_t err_size);
/* As config_load, for text held in memory; name is used in error messages. */
int config_parse_string(const char *name, const char *text, struct config *cfg,
			char *err, size_t err_size);

const struct config_interface *config_interface_find(const struct config *cfg,
						     const char *name);
/* rx-mode of an interface: its own, else the global interface-rx-mode. */
enum rx_mode config_interface_rx_mode(const struct config *cfg,
				      const struct config_interface *ifc);
const struct acl_list *config_acl_find(const struct config *cfg, const char *name);
const struct macip_list *config_macip_find(const struct config *cfg, const char *name);
/* True if core is in cpu.worker_cores. */
bool config_cpu_is_worker(const struct config_cpu *cpu, unsigned core);

/* IP protocol by name ("tcp", "all", ...) or number "0"-"255": 0 or -EINVAL. */
int acl_protocol_parse(const char *text, int *protocol);
/* Name of an IP protocol, "all" for ACL_PROTO_ANY, NULL if it has none. */
const char *acl_protocol_name(int protocol);

const char *format_port_driver(enum port_driver driver);
const char *format_rx_mode(enum rx_mode mode);
const char *format_ipsec_interface_type(enum ipsec_interface_type type);
const char *format_crypto_engine(enum crypto_engine engine);
const char *format_acl_action(enum acl_action action);
const char *format_acl_dir(enum acl_dir dir);
/* "syn,ack" style list of ACL_TCP_* bits ("" for none), into buf. */
const char *format_tcp_flags(char *buf, size_t size, uint8_t flags);
/* "aa:bb:cc:dd:ee:ff" into buf (at least 18 bytes). */
const char *format_mac(char *buf, size_t size, const uint8_t mac[6]);

#endif
