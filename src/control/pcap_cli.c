/*
 * The capture session: the file, its parameters and results, and the
 * commands. One capture at a time; its results stay for `show pcap` and
 * `pcap off` when it completed by itself.
 */
#include "control/pcap_cli.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <rte_common.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_pcapng.h>
#include "common/number.h"
#include "graph/pcap.h"
#include "tables/iface.h"

#define PCAP_MAX_DEFAULT 10000
#define PCAP_MAX_LIMIT 1000000
#define PCAP_SNAPLEN_DEFAULT 9216
#define PCAP_SNAPLEN_MIN 64
#define PCAP_SNAPLEN_MAX 9216
#define DRAIN_BURST 256

enum session_state {
	SESSION_NONE,     /* no capture since start, or `pcap off` took it (zeroed) */
	SESSION_RUNNING,  /* workers copy, the control thread writes */
	SESSION_COMPLETE, /* max frames in, file closed; results kept */
};

static struct {
	enum session_state state;
	rte_pcapng_t *file;
	char path[PATH_MAX];
	uint32_t max, snaplen;
	uint64_t written;
	uint64_t write_failed; /* copies lost to a failed write (disk full) */
	struct pcap_worker_stats final; /* the workers' totals once stopped */
} session;

bool pcap_cli_running(void)
{
	return session.state == SESSION_RUNNING;
}

/* DPDK 22.11's rte_pcapng_write_packets leaves the copies to the caller,
 * whatever its header says (dpdk-dumpcap frees them too). */
static void write_copies(struct rte_mbuf **copies, uint16_t n)
{
	ssize_t rc = rte_pcapng_write_packets(session.file, copies, n);

	rte_pktmbuf_free_bulk(copies, n);
	if (rc >= 0) {
		session.written += n;
		return;
	}
	if (session.write_failed == 0)
		fprintf(stderr, "espd: pcap: writing %s failed: %s\n", session.path,
			strerror(rte_errno));
	session.write_failed += n;
}

static void drain(void)
{
	struct rte_mbuf *copies[DRAIN_BURST];
	uint16_t n;

	while ((n = pcap_dequeue(copies, DRAIN_BURST)) > 0)
		write_copies(copies, n);
}

/* Disarm, write the last copies and close: the file is complete. */
static void finish(void)
{
	pcap_disarm();
	drain();
	session.final = pcap_stats();
	pcap_release();
	rte_pcapng_close(session.file);
	session.file = NULL;
	session.state = SESSION_COMPLETE;
}

void pcap_cli_poll(void)
{
	if (session.state != SESSION_RUNNING)
		return;
	/* Read before draining: then every copy counted is on a ring. */
	bool all_taken = pcap_all_taken();
	drain();
	if (all_taken)
		finish();
}

void pcap_cli_stop(void)
{
	if (session.state == SESSION_RUNNING)
		finish();
}

static struct pcap_worker_stats current_stats(void)
{
	return session.state == SESSION_RUNNING ? pcap_stats() : session.final;
}

static uint64_t missed(const struct pcap_worker_stats *stats)
{
	return stats->no_buffer + stats->ring_full + session.write_failed;
}

/* The number word gives for key, in [min, max]; else an error naming both. */
static int parse_number(struct cli_out *out, const char *key, const char *word, uint32_t min,
			uint32_t max, uint32_t *value)
{
	uint64_t n;

	if (number_parse(word, 10, max, &n) < 0 || n < min)
		return cli_error(out, -EINVAL, "pcap on: '%s': bad value for '%s' (%u..%u)", word,
				 key, min, max);
	*value = (uint32_t)n;
	return 0;
}

static int parse_options(struct cli_out *out, int argc, char **argv, uint32_t *max,
			 uint32_t *snaplen)
{
	*max = PCAP_MAX_DEFAULT;
	*snaplen = PCAP_SNAPLEN_DEFAULT;
	for (int i = 1; i < argc; i += 2) {
		bool is_max = strcmp(argv[i], "max") == 0;
		if (!is_max && strcmp(argv[i], "snaplen") != 0)
			return cli_error(out, -EINVAL, "pcap on: '%s': unknown word "
					 "(pcap on FILE [max N] [snaplen N])", argv[i]);
		if (i + 1 >= argc)
			return cli_error(out, -EINVAL, "pcap on: '%s' needs a number", argv[i]);
		int rc = is_max ? parse_number(out, "max", argv[i + 1], 1, PCAP_MAX_LIMIT, max)
				: parse_number(out, "snaplen", argv[i + 1], PCAP_SNAPLEN_MIN,
					       PCAP_SNAPLEN_MAX, snaplen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Create the file with its header and interface blocks (DPDK's ports);
 * NULL after cli_error. */
static rte_pcapng_t *open_file(struct cli_out *out, const char *path)
{
	/* O_NONBLOCK: opening a FIFO must not wait for its reader. */
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NONBLOCK, 0644);
	rte_pcapng_t *file;
	struct stat st;

	if (fd < 0) {
		cli_error(out, -errno, "cannot create '%s': %s", path, strerror(errno));
		return NULL;
	}
	/* The control thread writes the file: a pipe or device whose reader
	 * lags would stall it, and with it the netlink mirror. */
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		cli_error(out, -EINVAL, "cannot write '%s': not a regular file", path);
		return NULL;
	}
	file = rte_pcapng_fdopen(fd, NULL, NULL, "espd " ESPD_VERSION, NULL);
	if (!file) {
		int err = rte_errno;
		close(fd);
		unlink(path);
		cli_error(out, -err, "cannot write '%s': %s", path, strerror(err));
	}
	return file;
}

static void print_started(struct cli_out *out)
{
	if (!out->json) {
		cli_printf(out, "capturing up to %u frames of up to %u bytes to %s\n", session.max,
			   session.snaplen, session.path);
		return;
	}
	cli_printf(out, "{\"file\": ");
	cli_json_string(out, session.path);
	cli_printf(out, ", \"max\": %u, \"snaplen\": %u}\n", session.max, session.snaplen);
}

static int pcap_on(struct cli_out *out, int argc, char **argv)
{
	uint32_t max, snaplen;
	int rc;

	if (session.state == SESSION_RUNNING)
		return cli_error(out, -EBUSY, "already capturing to %s", session.path);
	if (argc < 1)
		return cli_error(out, -EINVAL, "pcap on FILE [max N] [snaplen N]: a file is needed");
	if (strlen(argv[0]) >= sizeof(session.path))
		return cli_error(out, -ENAMETOOLONG, "'%s': name too long", argv[0]);
	/* espd's working directory is not the caller's. */
	if (argv[0][0] != '/')
		return cli_error(out, -EINVAL, "'%s': give an absolute path", argv[0]);
	if ((rc = parse_options(out, argc, argv, &max, &snaplen)) < 0)
		return rc;
	rte_pcapng_t *file = open_file(out, argv[0]);
	if (!file)
		return out->status;
	rc = pcap_arm(max, snaplen);
	if (rc < 0) {
		rte_pcapng_close(file);
		unlink(argv[0]);
		return cli_error(out, rc, "cannot make the capture's buffers: %s", strerror(-rc));
	}
	/* The last capture's results are replaced only now that this one runs. */
	memset(&session, 0, sizeof(session));
	session.file = file;
	snprintf(session.path, sizeof(session.path), "%s", argv[0]);
	session.max = max;
	session.snaplen = snaplen;
	session.state = SESSION_RUNNING;
	print_started(out);
	return 0;
}

static int pcap_off(struct cli_out *out)
{
	if (session.state == SESSION_NONE)
		return cli_error(out, -ENOENT, "no capture to stop (pcap on FILE starts one)");
	if (session.state == SESSION_RUNNING)
		finish();
	uint64_t lost = missed(&session.final);
	if (out->json) {
		cli_printf(out, "{\"file\": ");
		cli_json_string(out, session.path);
		cli_printf(out, ", \"written\": %" PRIu64 ", \"missed\": %" PRIu64 "}\n",
			   session.written, lost);
	} else {
		cli_printf(out, "wrote %" PRIu64 " packets to %s, missed %" PRIu64 "\n",
			   session.written, session.path, lost);
	}
	memset(&session, 0, sizeof(session));
	return 0;
}

static const char *state_name(void)
{
	static const char *const names[] = {
		[SESSION_NONE] = "off", [SESSION_RUNNING] = "running",
		[SESSION_COMPLETE] = "complete",
	};
	return names[session.state];
}

/* The name the file gives a port, as librte_pcapng picks it: the kernel
 * device's (espd-p<ifindex> for af-packet and xdp ports), else dpdk:<port>. */
static void name_in_file(uint16_t port, char name[IF_NAMESIZE])
{
	struct rte_eth_dev_info info;

	if (rte_eth_dev_info_get(port, &info) == 0 && info.if_index &&
	    if_indextoname(info.if_index, name))
		return;
	snprintf(name, IF_NAMESIZE, "dpdk:%u", port);
}

/* Which port of the file is which interface: espd's eth1 is not eth1 (the
 * TAP, whose frames are not captured) but the device it took over. */
static void format_pcap_interfaces(struct cli_out *out)
{
	char name[IF_NAMESIZE];

	for (uint16_t i = 0; i < iface_table.n_ifaces; i++) {
		const struct iface *iface = &iface_table.ifaces[i];
		name_in_file(iface->port_id, name);
		if (out->json) {
			cli_printf(out, "%s{\"interface\": ", i ? ", " : "");
			cli_json_string(out, iface->name);
			cli_printf(out, ", \"in_file\": ");
			cli_json_string(out, name);
			cli_printf(out, ", \"port\": %u}", iface->port_id);
		} else {
			cli_printf(out, "  %-12s is %s (port %u) in the file\n", iface->name, name,
				   iface->port_id);
		}
	}
}

void format_pcap(struct cli_out *out)
{
	struct pcap_worker_stats stats = current_stats();

	if (out->json) {
		cli_printf(out, "{\"state\": \"%s\", \"running\": %s, \"file\": ", state_name(),
			   session.state == SESSION_RUNNING ? "true" : "false");
		cli_json_string(out, session.path);
		cli_printf(out, ", \"max\": %u, \"snaplen\": %u, \"captured\": %" PRIu64
			   ", \"written\": %" PRIu64 ", \"missed\": %" PRIu64 ", \"interfaces\": [",
			   session.max, session.snaplen, stats.queued,
			   session.written, missed(&stats));
		format_pcap_interfaces(out);
		cli_printf(out, "]}\n");
		return;
	}
	if (session.state == SESSION_NONE) {
		cli_printf(out, "pcap: off\n");
		return;
	}
	cli_printf(out, "pcap: %s, file %s, max %u, snaplen %u\n"
		   "  captured %" PRIu64 ", written %" PRIu64 ", missed %" PRIu64 "\n",
		   state_name(), session.path, session.max, session.snaplen, stats.queued,
		   session.written, missed(&stats));
	format_pcap_interfaces(out);
}

static int show_pcap(struct cli_out *out)
{
	format_pcap(out);
	return 0;
}

static const struct cli_command pcap_commands[] = {
	{ .path = "pcap on", .handler = pcap_on,
	  .help = "FILE [max N] [snaplen N]: capture the ports' frames to pcapng" },
	{ .path = "pcap off", .run = pcap_off, .help = "stop the capture, close its file" },
	{ .path = "show pcap", .run = show_pcap, .help = "the packet capture and its counts" },
};

void pcap_cli_register(void)
{
	cli_register(pcap_commands, RTE_DIM(pcap_commands));
}
