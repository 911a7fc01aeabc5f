/*
 * The kernel's per-interface settings that send no netlink event
 * (devinet_conf_proc notifies forwarding, rp_filter and a few others
 * only), copied into the interface table, each on for an interface where
 * conf/all's or the interface's is (IN_DEV_ORCONF; ip6_forward reads
 * IPv6's disable_policy alike):
 *  - net.ipv4.conf.*.send_redirects and shared_media (both on by default),
 *    for icmp-redirect;
 *  - net.ipv4|ipv6.conf.*.disable_policy: what comes in by the interface
 *    skips the in and fwd policy checks (IPSKB_NOPOLICY);
 *  - net.ipv4.conf.*.disable_xfrm: what leaves by it skips the out policy
 *    lookup (DST_NOXFRM), IPv4 only, as in the kernel.
 * The control thread reads them again once a second, as it does the hop
 * limits (hop_limit.h).
 */
#ifndef ESPD_CONTROL_IFACE_CONF_H
#define ESPD_CONTROL_IFACE_CONF_H

/* Control thread. A setting that cannot be read keeps its last value. */
void iface_confs_refresh(void);

#endif
