/*
 * The kernel's settings for its ICMP redirects, copied into the interface
 * table for icmp-redirect: net.ipv4.conf.{all,<interface>}.send_redirects
 * and shared_media (both on by default), each on for an interface where
 * either is (IN_DEV_ORCONF). Their changes send no netlink event
 * (devinet_conf_proc notifies forwarding, rp_filter and a few others
 * only), so the control thread reads them again once a second, as it does
 * the hop limits (hop_limit.h).
 */
#ifndef ESPD_CONTROL_REDIRECT_CONF_H
#define ESPD_CONTROL_REDIRECT_CONF_H

/* Control thread. A setting that cannot be read keeps its last value. */
void redirect_confs_refresh(void);

#endif
