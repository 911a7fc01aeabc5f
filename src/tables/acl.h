/*
 * ACLs on espd interfaces: `set vpp acl ip ...` lists bound to interfaces
 * per direction, and `set vpp acl mac ...` source MAC + IP filters on input.
 *
 * Semantics (those of the VPP acl-plugin that VyOS configures):
 * - The rules of a list are evaluated in rule-number order; the first match
 *   decides. Several lists bound to one interface and direction apply in
 *   acl-tag order as one combined ordered list: first match across them.
 * - When an interface has lists bound in a direction, a packet that matches
 *   no rule of any of them is denied (the acl-plugin starts every lookup
 *   with "action = 0; deny by default"). Interfaces or directions without
 *   lists pass everything. Each (interface, direction) counts these
 *   default denials.
 * - Only IPv4 and IPv6 are subject to IP ACLs; ARP and other ethertypes
 *   pass. One or two VLAN tags are looked through. An IP frame whose
 *   headers cannot be read is denied as matching no rule.
 * - IPv6 extension headers (hop-by-hop, routing, destination options,
 *   fragment, mobility, HIP, shim6) are skipped to find the protocol.
 * - Non-first fragments (IPv4 fragment offset not 0, IPv6 fragment header
 *   with offset not 0) carry no transport header: they match rules by
 *   addresses and protocol only, a rule's ports and TCP flags are ignored
 *   for them, and the first rule so matching decides, as the acl-plugin
 *   does by default (l4-match-nonfirst-fragment 1). So "udp port 500
 *   permit" lets through all fragments of a large IKE message; a rule
 *   in front with other ports and the same addresses and protocol decides
 *   the later fragments instead. First fragments and unfragmented packets
 *   are matched on everything.
 * - Input ACLs run before anything else, punt included: frames for the
 *   router itself (IKE, ...) are filtered too. Output ACLs run just before
 *   transmission, for forwarded packets and for frames the kernel sends.
 * - permit-reflect permits and records a session keyed by the reversed
 *   5-tuple, the interface and the opposite direction: the return traffic
 *   of the flow on that interface is permitted even where the lists would
 *   deny it (the input ACL for a flow reflected on output, and vice versa).
 *   Rules are still evaluated for every packet, so counters count every
 *   packet and a reload takes effect at once; a session only rescues
 *   packets the lists deny, counted per (interface, direction). ICMP queries
 *   are keyed by identifier and type: an echo request lets its echo replies
 *   in, not requests from the other side. ICMP errors match no session and
 *   need a rule. Non-first fragments show no ports: they neither make nor
 *   match a session, so the later fragments of return traffic need a rule
 *   (a permit-reflect rule still permits the fragments it matches).
 *   Sessions expire after an idle time: 3600 s for TCP, 120 s for anything
 *   else. They live in one rte_hash per worker written only by its worker
 *   (no locks) and read lock-free by all workers, because the two directions
 *   of a flow may be received by different workers; deleted entries are
 *   reclaimed through RCU. A session is looked up only on interfaces that
 *   have a permit-reflect rule bound; sessions survive a reload and age out.
 * - MAC ACLs (input only, one list per interface): the first rule whose
 *   source MAC (under the rule's mask) and source prefix match an IPv4 or
 *   IPv6 frame decides; no match denies. They run before the IP ACLs, and a
 *   frame they permit is still subject to the IP ACLs. Non-IP frames pass.
 *
 * Implementation: every (interface, direction) with lists has one DPDK
 * rte_acl context per address family built from the combined rule list
 * (priority from the order, one category, userdata = rule index + 1), so a
 * lookup costs the same for 10 or 10000 rules; a burst is classified per
 * interface with one rte_acl_classify call. Where rules of a family name
 * ports or TCP flags, a second context built from the same rules on
 * protocol and addresses only classifies the non-first fragments (elsewhere
 * the one context serves both). The tables are built off the
 * fast path, published with one pointer store and freed after an RCU
 * grace period. Counters are per worker, without atomics, summed for show.
 */
#ifndef ESPD_TABLES_ACL_H
#define ESPD_TABLES_ACL_H

#include <stddef.h>
#include <stdint.h>
#include <rte_mbuf.h>

#include "config/config.h"

struct cli_out;
struct rte_rcu_qsbr;

/* At start-up, after EAL, before any apply: rcu is the workers' QSBR
 * variable (thread id = worker id, max_threads = number of workers). */
int acl_init(struct rte_rcu_qsbr *rcu);
/* Build all lists and bindings of cfg off the fast path (interfaces are
 * resolved with iface_by_name; binding an interface espd does not own is an
 * error naming it), then publish them atomically and free the old tables
 * after an RCU grace period. 0, or -errno with err set and nothing changed.
 * Per-rule counters of lists that still exist survive (matched by tag name
 * and rule number), as do the counters of bindings that still exist. */
int acl_config_apply(const struct config *cfg, char *err, size_t err_size);
/* Register `show acl [--json]`. */
void acl_cli_register(void);
/* Every list, its rules and counters, bindings and sessions, as text or JSON. */
void format_acl(struct cli_out *out);
/* Free the tables and sessions at shutdown, once the workers have stopped. */
void acl_fini(void);

/* `clear counters`: rule, default deny and session counters read zero. */
void acl_counters_clear(void);

/* Fast path, for acl-input and acl-output: decide a burst; ifaces[i] is
 * the espd interface of pkts[i] (IFACE_NONE or out of range: not filtered).
 * Returns how many are permitted; they stay first, in order, and the denied
 * ones are moved to the tail for the caller to count and drop. */
uint16_t acl_filter_burst(unsigned worker, enum acl_dir dir, const uint16_t ifaces[],
			  struct rte_mbuf *pkts[], uint16_t n);
/* Fast path: the interfaces (bit per index) with a list bound in dir, 0 when
 * a burst has nothing to be decided. */
uint32_t acl_active_ifaces(enum acl_dir dir);

#endif
