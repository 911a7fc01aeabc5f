/*
 * One netlink socket module for NETLINK_ROUTE and NETLINK_XFRM, on libmnl.
 * Owns socket set-up (groups, receive buffer, strict checking), synchronous
 * requests that wait for the kernel's ACK or the end of a dump, and
 * non-blocking reads of event messages for the mirror.
 */
#ifndef ESPD_CONTROL_NL_H
#define ESPD_CONTROL_NL_H

#include <stddef.h>
#include <stdint.h>
#include <libmnl/libmnl.h>

struct nl_sock {
	struct mnl_socket *mnl;
	uint32_t portid;
	uint32_t seq;
	int protocol;
};

#define NL_BUFFER_SIZE (128 * 1024)
#define NL_REQUEST_SIZE 8192

/* Open a socket; groups is a list of multicast groups (RTNLGRP_*), n may be 0.
 * rcvbuf 0 keeps the default; otherwise SO_RCVBUFFORCE (falls back to SO_RCVBUF). */
int nl_sock_open(struct nl_sock *sock, int protocol, const unsigned *groups, size_t n_groups,
		 uint32_t rcvbuf);
void nl_sock_close(struct nl_sock *sock);
int nl_sock_fd(const struct nl_sock *sock);

/* Start a request message in buf: sets type, flags (NLM_F_REQUEST added), seq. */
struct nlmsghdr *nl_msg_start(struct nl_sock *sock, void *buf, uint16_t type, uint16_t flags);

/* Send nlh and read replies until ACK/DONE/error; each data message goes to cb
 * (may be NULL). Returns 0 or the kernel's -errno. NLM_F_ACK is added. */
int nl_request(struct nl_sock *sock, struct nlmsghdr *nlh, mnl_cb_t cb, void *data);

/* Dump: send a NLM_F_DUMP request of type with a family header of size hdr_len
 * (copied from hdr) and pass each message to cb. */
int nl_dump(struct nl_sock *sock, uint16_t type, const void *hdr, size_t hdr_len,
	    mnl_cb_t cb, void *data);

/* Read what is pending without blocking; each message goes to cb.
 * Returns messages read (>= 0), or -ENOBUFS when the kernel dropped events
 * (the caller must resync), or another -errno. */
int nl_read_events(struct nl_sock *sock, mnl_cb_t cb, void *data);

/* Discard everything pending on the socket (after an overflow, what is left
 * predates the dump that will replace it). Returns messages discarded. */
int nl_drain(struct nl_sock *sock);

/* Name of a message type, for logs ("RTM_NEWROUTE", "XFRM_MSG_NEWSA"). */
const char *nl_msg_type_name(int protocol, uint16_t type);

#endif
