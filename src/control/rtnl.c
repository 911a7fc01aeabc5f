/*
 * The rtnetlink mirror's sockets and pacing (control thread only). The
 * event socket's callback only parses into a queue; the queue is applied in
 * batches (rtnl_apply.c). A second socket dumps the kernel's state at start
 * and after lost events; every object seen is marked with a new generation
 * and what was not seen is swept. Also the counters behind `show netlink`.
 */
#include "control/rtnl.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netconf.h>

#include "control/cli.h"
#include "control/nl.h"
#include "control/rtnl_apply.h"
#include "tables/fib.h"
#include "tables/neigh.h"

#define RESYNC_RETRY_MS 1000
#define DUMP_ATTEMPTS 3

struct rtnl_shared rtnl_shared;

static struct {
	bool open;
	struct rtnl_mirror_config cfg;
	struct nl_sock events, dump;
	struct rtnl_event *queue;
	size_t n_queued, queue_size;
	bool resync_pending;
	const char *resync_reason;
	uint64_t resync_at_ms;
} m;

void rtnl_mirror_error(int err, const char *fmt, ...)
{
	struct rtnl_stats *stats = &rtnl_shared.stats;
	char text[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	snprintf(stats->last_error, sizeof(stats->last_error), "%s: %s", text, strerror(-err));
	fprintf(stderr, "espd: netlink: %s\n", stats->last_error);
	stats->errors++;
}

void rtnl_mirror_resync_request(const char *reason)
{
	/* A dump in progress already reads everything. */
	if (rtnl_shared.in_dump || (m.resync_pending && m.resync_at_ms == 0))
		return;
	m.resync_pending = true;
	m.resync_reason = reason;
	m.resync_at_ms = 0;
}

/* Parse one message: 0 when ev is worth applying. */
static int parse_msg(const struct nlmsghdr *nlh, struct rtnl_event *ev)
{
	struct rtnl_stats *stats = &rtnl_shared.stats;
	uint16_t type = nlh->nlmsg_type;
	int rc = -EAFNOSUPPORT;

	stats->rx_by_type[type <= RTM_MAX ? type : 0]++;
	ev->type = type;
	if (type == RTM_NEWLINK || type == RTM_DELLINK)
		rc = rtnl_msg_to_link(nlh, &ev->link);
	else if (type == RTM_NEWADDR || type == RTM_DELADDR)
		rc = rtnl_msg_to_addr(nlh, &ev->addr);
	else if (type == RTM_NEWNEIGH || type == RTM_DELNEIGH)
		rc = rtnl_msg_to_neigh(nlh, &ev->neigh);
	else if (type == RTM_NEWROUTE || type == RTM_DELROUTE)
		rc = rtnl_msg_to_route(nlh, &ev->route);
	else if (type == RTM_NEWNETCONF)
		rc = rtnl_msg_to_netconf(nlh, &ev->netconf);
	if (rc == -EINVAL) {
		stats->malformed++;
		snprintf(stats->last_error, sizeof(stats->last_error), "malformed %s (%u bytes)",
			 nl_msg_type_name(NETLINK_ROUTE, type), nlh->nlmsg_len);
		fprintf(stderr, "espd: netlink: %s\n", stats->last_error);
	} else if (rc < 0) {
		stats->ignored++;
	}
	return rc;
}

static void queue_clear(void)
{
	m.n_queued = 0;
}

static int queue_grow(void)
{
	size_t size = m.queue_size ? m.queue_size * 2 : 256;
	struct rtnl_event *queue = realloc(m.queue, size * sizeof(*queue));

	if (!queue)
		return -ENOMEM;
	m.queue = queue;
	m.queue_size = size;
	return 0;
}

static int on_event(const struct nlmsghdr *nlh, void *data)
{
	struct rtnl_event ev;

	rtnl_shared.stats.events++;
	if (parse_msg(nlh, &ev) < 0)
		return MNL_CB_OK;
	/* Other tables and the route cache change all the time; not queued. */
	if ((ev.type == RTM_NEWROUTE || ev.type == RTM_DELROUTE) &&
	    rtnl_route_action(&ev.route, rtnl_shared.ignore_kernel_routes) == RTNL_ROUTE_IGNORE) {
		rtnl_shared.stats.ignored++;
		return MNL_CB_OK;
	}
	if (m.n_queued == m.queue_size && queue_grow() < 0) {
		rtnl_mirror_error(-ENOMEM, "event queue");
		queue_clear();
		rtnl_mirror_resync_request("event queue full");
		return MNL_CB_OK;
	}
	ev.time_ms = *(const uint64_t *)data;
	m.queue[m.n_queued++] = ev;
	return MNL_CB_OK;
}

static int on_dump(const struct nlmsghdr *nlh, void *data)
{
	struct rtnl_event ev;

	(void)data;
	rtnl_shared.stats.dumped++;
	if (parse_msg(nlh, &ev) == 0)
		rtnl_apply_event(&ev);
	return MNL_CB_OK;
}

static void commit_if_dirty(void)
{
	rtnl_apply_publish();
	if (!rtnl_shared.fib_dirty)
		return;
	rtnl_shared.fib_dirty = false;
	int rc = fib_commit();
	if (rc < 0)
		rtnl_mirror_error(rc, "fib_commit");
	if (m.cfg.fib_changed)
		m.cfg.fib_changed();
}

static void apply_queue(void)
{
	if (!m.n_queued)
		return;
	for (size_t i = 0; i < m.n_queued; i++)
		rtnl_apply_event(&m.queue[i]);
	rtnl_shared.stats.batches++;
	if (m.n_queued > rtnl_shared.stats.largest_batch)
		rtnl_shared.stats.largest_batch = m.n_queued;
	queue_clear();
	commit_if_dirty();
}

static int dump_all(void)
{
	/* Links first so TAPs are known, routes last so addresses already are. */
	static const struct {
		uint16_t type;
		uint8_t family;
		uint8_t hdr_len;
	} dumps[] = {
		{ RTM_GETLINK, AF_UNSPEC, sizeof(struct ifinfomsg) },
		{ RTM_GETADDR, AF_INET, sizeof(struct ifaddrmsg) },
		{ RTM_GETADDR, AF_INET6, sizeof(struct ifaddrmsg) },
		{ RTM_GETNEIGH, AF_INET, sizeof(struct ndmsg) },
		{ RTM_GETNEIGH, AF_INET6, sizeof(struct ndmsg) },
		{ RTM_GETROUTE, AF_INET, sizeof(struct rtmsg) },
		{ RTM_GETROUTE, AF_INET6, sizeof(struct rtmsg) },
		{ RTM_GETNETCONF, AF_INET, sizeof(struct netconfmsg) },
		{ RTM_GETNETCONF, AF_INET6, sizeof(struct netconfmsg) },
	};

	for (size_t i = 0; i < sizeof(dumps) / sizeof(dumps[0]); i++) {
		/* The family is the first byte of each of these headers. */
		uint8_t hdr[sizeof(struct ifinfomsg)] = { dumps[i].family };
		int rc = nl_dump(&m.dump, dumps[i].type, hdr, dumps[i].hdr_len, on_dump, NULL);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* A failed or interrupted dump may leave replies queued on the socket or the
 * kernel's walk half done; a fresh socket starts clean. */
static int dump_sock_reopen(void)
{
	nl_sock_close(&m.dump);
	int rc = nl_sock_open(&m.dump, NETLINK_ROUTE, NULL, 0, 0);
	if (rc < 0)
		rtnl_mirror_error(rc, "dump socket");
	return rc;
}

static int resync(uint64_t now_ms, const char *reason)
{
	int rc = -EINTR;

	/* libmnl reports a dump during which the table changed (NLM_F_DUMP_INTR)
	 * as -EINTR: it may have missed objects, so it is taken again. */
	for (unsigned attempt = 0; attempt < DUMP_ATTEMPTS && rc == -EINTR; attempt++) {
		if (!m.dump.mnl && dump_sock_reopen() < 0)
			break;
		rtnl_shared.generation++;
		rtnl_shared.in_dump = true;
		rc = dump_all();
		rtnl_shared.in_dump = false;
		if (rc < 0)
			nl_sock_close(&m.dump);
	}
	if (rc < 0) {
		rtnl_mirror_error(rc, "dump after %s", reason);
		m.resync_pending = true;
		m.resync_reason = reason;
		m.resync_at_ms = now_ms + RESYNC_RETRY_MS;
	} else {
		rtnl_apply_sweep();
		m.resync_pending = false;
		fprintf(stderr, "espd: netlink: synced (%s): %zu routes, %zu addresses, %zu neighbors\n",
			reason, rtnl_apply_route_count(), rtnl_apply_addr_count(), neigh_count());
	}
	commit_if_dirty();
	return rc;
}

int rtnl_mirror_open(const struct rtnl_mirror_config *cfg)
{
	static const unsigned groups[] = { RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR,
					   RTNLGRP_NEIGH, RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE,
					   RTNLGRP_IPV4_NETCONF, RTNLGRP_IPV6_NETCONF };
	socklen_t len = sizeof(rtnl_shared.stats.rcvbuf);
	int rc;

	if (m.open)
		return -EALREADY;
	memset(&m, 0, sizeof(m));
	memset(&rtnl_shared, 0, sizeof(rtnl_shared));
	m.cfg = *cfg;
	rtnl_shared.ignore_kernel_routes = cfg->ignore_kernel_routes;
	rtnl_shared.mtu_changed = cfg->mtu_changed;
	/* Subscribe before the dump so no change falls between the two. */
	rc = nl_sock_open(&m.events, NETLINK_ROUTE, groups, sizeof(groups) / sizeof(groups[0]),
			  cfg->rx_buffer_size);
	if (rc < 0) {
		rtnl_mirror_error(rc, "event socket");
		return rc;
	}
	rc = nl_sock_open(&m.dump, NETLINK_ROUTE, NULL, 0, 0);
	if (rc < 0) {
		rtnl_mirror_error(rc, "dump socket");
		nl_sock_close(&m.events);
		return rc;
	}
	if (getsockopt(nl_sock_fd(&m.events), SOL_SOCKET, SO_RCVBUF, &rtnl_shared.stats.rcvbuf,
		       &len) < 0)
		rtnl_shared.stats.rcvbuf = 0;
	m.open = true;
	rc = resync(0, "start");
	if (rc < 0)
		rtnl_mirror_close();
	return rc;
}

void rtnl_mirror_close(void)
{
	if (!m.open)
		return;
	nl_sock_close(&m.events);
	nl_sock_close(&m.dump);
	rtnl_apply_free();
	free(m.queue);
	m.queue = NULL;
	m.open = false;
}

int rtnl_mirror_fd(void)
{
	return m.open ? nl_sock_fd(&m.events) : -1;
}

static bool queue_due(uint64_t now_ms)
{
	return m.n_queued && (m.n_queued >= m.cfg.batch_size ||
			      now_ms >= m.queue[0].time_ms + m.cfg.batch_delay_ms);
}

int rtnl_mirror_next_timeout_ms(uint64_t now_ms)
{
	uint64_t due = UINT64_MAX;

	if (m.n_queued)
		due = queue_due(now_ms) ? now_ms : m.queue[0].time_ms + m.cfg.batch_delay_ms;
	if (m.resync_pending && m.resync_at_ms < due)
		due = m.resync_at_ms;
	if (due == UINT64_MAX)
		return -1;
	return due <= now_ms ? 0 : due - now_ms > INT32_MAX ? INT32_MAX : (int)(due - now_ms);
}

void rtnl_mirror_process(uint64_t now_ms)
{
	if (!m.open)
		return;
	int rc = nl_read_events(&m.events, on_event, &now_ms);
	if (rc == -ENOBUFS) {
		/* Events were lost: what is queued may be stale; the dump has it all. */
		rtnl_shared.stats.enobufs++;
		fprintf(stderr, "espd: netlink: receive buffer overflow, resyncing\n");
		/* Events still buffered predate the dump: applied after it, an
		 * add whose delete was lost would come back as stale state. */
		nl_drain(&m.events);
		queue_clear();
		m.resync_pending = false;
		rtnl_mirror_resync_request("ENOBUFS");
	} else if (rc < 0) {
		rtnl_mirror_error(rc, "reading events");
	}
	if (queue_due(now_ms))
		apply_queue();
	if (m.resync_pending && now_ms >= m.resync_at_ms) {
		apply_queue();
		rtnl_shared.stats.resyncs++;
		resync(now_ms, m.resync_reason);
	}
}

const struct rtnl_stats *rtnl_mirror_stats(void)
{
	return &rtnl_shared.stats;
}

static void format_counters(struct cli_out *out)
{
	const struct rtnl_stats *s = &rtnl_shared.stats;
	const struct {
		const char *name;
		uint64_t value;
	} counters[] = {
		{ "rcvbuf", (uint64_t)s->rcvbuf }, { "events", s->events }, { "dumped", s->dumped },
		{ "batches", s->batches }, { "largest_batch", s->largest_batch },
		{ "resyncs", s->resyncs }, { "enobufs", s->enobufs }, { "malformed", s->malformed },
		{ "ignored", s->ignored }, { "errors", s->errors },
		{ "multipath_punted", s->multipath_punted }, { "queued", m.n_queued },
		{ "routes", rtnl_apply_route_count() }, { "addresses", rtnl_apply_addr_count() },
		{ "neighbors", neigh_count() },
	};

	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		cli_printf(out, out->json ? "\"%s\": %" PRIu64 ", " : "  %-20s %" PRIu64 "\n",
			   counters[i].name, counters[i].value);
}

static void format_messages(struct cli_out *out)
{
	uint64_t other = 0;
	const char *sep = "";
	const char *next_sep = out->json ? ", " : "";

	cli_printf(out, out->json ? "\"messages\": {" : "messages received\n");
	for (uint16_t type = 0; type <= RTM_MAX; type++) {
		const char *name = nl_msg_type_name(NETLINK_ROUTE, type);
		if (strcmp(name, "unknown") == 0) {
			other += rtnl_shared.stats.rx_by_type[type];
			continue;
		}
		cli_printf(out, out->json ? "%s\"%s\": %" PRIu64 : "%s  %-20s %" PRIu64 "\n", sep,
			   name, rtnl_shared.stats.rx_by_type[type]);
		sep = next_sep;
	}
	cli_printf(out, out->json ? "%s\"%s\": %" PRIu64 "}" : "%s  %-20s %" PRIu64 "\n", sep,
		   "other", other);
}

void format_rtnl_stats(struct cli_out *out)
{
	if (!out->json) {
		cli_printf(out, "rtnetlink mirror\n");
		format_counters(out);
		cli_printf(out, "  %-20s %s\n", "last_error",
			   rtnl_shared.stats.last_error[0] ? rtnl_shared.stats.last_error : "-");
		format_messages(out);
		return;
	}
	cli_printf(out, "{");
	format_counters(out);
	cli_printf(out, "\"last_error\": ");
	cli_json_string(out, rtnl_shared.stats.last_error);
	cli_printf(out, ", ");
	format_messages(out);
	cli_printf(out, "}\n");
}

static int show_netlink(struct cli_out *out)
{
	format_rtnl_stats(out);
	return 0;
}

void rtnl_cli_register(void)
{
	static const struct cli_command commands[] = {
		{ .path = "show netlink", .run = show_netlink,
		  .help = "rtnetlink mirror counters and state" },
	};

	cli_register(commands, sizeof(commands) / sizeof(commands[0]));
}
