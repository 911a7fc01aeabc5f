/*
 * Netlink sockets on libmnl for both rtnetlink and XFRM: one implementation
 * of set-up, request/ACK and event reading.
 */
#include "control/nl.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/rtnetlink.h>
#include <linux/xfrm.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

static int set_rcvbuf(int fd, uint32_t size)
{
	int value = (int)size;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &value, sizeof(value)) == 0)
		return 0;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &value, sizeof(value)) == 0)
		return 0;
	return -errno;
}

int nl_sock_open(struct nl_sock *sock, int protocol, const unsigned *groups, size_t n_groups,
		 uint32_t rcvbuf)
{
	int one = 1, rc;

	memset(sock, 0, sizeof(*sock));
	sock->protocol = protocol;
	sock->mnl = mnl_socket_open2(protocol, SOCK_CLOEXEC);
	if (!sock->mnl)
		return -errno;
	if (mnl_socket_bind(sock->mnl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	for (size_t i = 0; i < n_groups; i++) {
		unsigned group = groups[i];
		if (mnl_socket_setsockopt(sock->mnl, NETLINK_ADD_MEMBERSHIP, &group,
					  sizeof(group)) < 0)
			goto fail;
	}
	/* Extended ACKs make kernel refusals readable in our logs. */
	mnl_socket_setsockopt(sock->mnl, NETLINK_EXT_ACK, &one, sizeof(one));
	if (rcvbuf && (rc = set_rcvbuf(mnl_socket_get_fd(sock->mnl), rcvbuf)) < 0) {
		errno = -rc;
		goto fail;
	}
	sock->portid = mnl_socket_get_portid(sock->mnl);
	sock->seq = 1;
	return 0;
fail:
	rc = -errno;
	mnl_socket_close(sock->mnl);
	sock->mnl = NULL;
	return rc;
}

void nl_sock_close(struct nl_sock *sock)
{
	if (sock->mnl)
		mnl_socket_close(sock->mnl);
	sock->mnl = NULL;
}

int nl_sock_fd(const struct nl_sock *sock)
{
	return mnl_socket_get_fd(sock->mnl);
}

struct nlmsghdr *nl_msg_start(struct nl_sock *sock, void *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
	nlh->nlmsg_seq = sock->seq++;
	return nlh;
}

static int run_replies(struct nl_sock *sock, uint32_t seq, mnl_cb_t cb, void *data)
{
	static __thread char buf[NL_BUFFER_SIZE];
	int rc;

	do {
		ssize_t n = mnl_socket_recvfrom(sock->mnl, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		rc = mnl_cb_run(buf, (size_t)n, seq, sock->portid, cb, data);
	} while (rc > 0);
	return rc < 0 ? -errno : 0;
}

int nl_request(struct nl_sock *sock, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(sock->mnl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return run_replies(sock, nlh->nlmsg_seq, cb, data);
}

int nl_dump(struct nl_sock *sock, uint16_t type, const void *hdr, size_t hdr_len,
	    mnl_cb_t cb, void *data)
{
	char buf[NL_REQUEST_SIZE];
	struct nlmsghdr *nlh = nl_msg_start(sock, buf, type, NLM_F_DUMP);
	void *extra = mnl_nlmsg_put_extra_header(nlh, hdr_len);

	memcpy(extra, hdr, hdr_len);
	if (mnl_socket_sendto(sock->mnl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return run_replies(sock, nlh->nlmsg_seq, cb, data);
}

int nl_read_events(struct nl_sock *sock, mnl_cb_t cb, void *data)
{
	static __thread char buf[NL_BUFFER_SIZE];
	int count = 0;

	for (;;) {
		ssize_t n = recv(nl_sock_fd(sock), buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return count;
			if (errno == EINTR)
				continue;
			return -errno;
		}
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		int len = (int)n;
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
				continue;
			count++;
			if (cb(nlh, data) < 0)
				return -errno ? -errno : -EINVAL;
		}
	}
}

int nl_drain(struct nl_sock *sock)
{
	static __thread char buf[NL_BUFFER_SIZE];
	int count = 0;

	for (;;) {
		ssize_t n = recv(nl_sock_fd(sock), buf, sizeof(buf), MSG_DONTWAIT);
		if (n >= 0) {
			count++;
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return count;
		if (errno != EINTR && errno != ENOBUFS)
			return -errno;
	}
}

#define NAME(x) [x] = #x
static const char *const rtnl_names[RTM_MAX + 1] = {
	NAME(RTM_NEWLINK), NAME(RTM_DELLINK), NAME(RTM_NEWADDR), NAME(RTM_DELADDR),
	NAME(RTM_NEWROUTE), NAME(RTM_DELROUTE), NAME(RTM_NEWNEIGH), NAME(RTM_DELNEIGH),
	NAME(RTM_NEWNETCONF), NAME(RTM_DELNETCONF),
};
static const char *const xfrm_names[XFRM_MSG_MAX + 1] = {
	NAME(XFRM_MSG_NEWSA), NAME(XFRM_MSG_DELSA), NAME(XFRM_MSG_UPDSA),
	NAME(XFRM_MSG_NEWPOLICY), NAME(XFRM_MSG_DELPOLICY), NAME(XFRM_MSG_UPDPOLICY),
	NAME(XFRM_MSG_EXPIRE), NAME(XFRM_MSG_POLEXPIRE), NAME(XFRM_MSG_FLUSHSA),
	NAME(XFRM_MSG_FLUSHPOLICY), NAME(XFRM_MSG_NEWAE), NAME(XFRM_MSG_ACQUIRE),
};
#undef NAME

const char *nl_msg_type_name(int protocol, uint16_t type)
{
	const char *name = NULL;
	if (protocol == NETLINK_ROUTE && type <= RTM_MAX)
		name = rtnl_names[type];
	else if (protocol == NETLINK_XFRM && type <= XFRM_MSG_MAX)
		name = xfrm_names[type];
	return name ? name : "unknown";
}
