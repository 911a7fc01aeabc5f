/*
 * espd: start-up, the control loop and shutdown. Start-up is ordered so
 * that nothing is touched until everything that can be checked has been:
 * configuration, then the kernel interfaces (captured and saved to the state
 * file), then DPDK, and only then the takeover. Shutdown, and the next start
 * after a crash, give the interfaces back exactly as they were.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include "config/config.h"
#include "control/cli.h"
#include "control/rtnl.h"
#include "control/show.h"
#include "espd/eal.h"
#include "espd/notify.h"
#include "espd/options.h"
#include "graph/pcap.h"
#include "graph/worker.h"
#include "ports/lcp.h"
#include "ports/port.h"
#include "control/hop_limit.h"
#include "control/iface_conf.h"
#include "control/ipsec_cli.h"
#include "control/pcap_cli.h"
#include "control/trace_cli.h"
#include "tables/acl.h"
#include "tables/sad.h"
#include "tables/spd.h"
#include "tables/fib.h"
#include "tables/flow_hash.h"
#include "tables/iface.h"
#include "tables/own_addr.h"
#include "tables/neigh.h"
#include "tables/path_mtu.h"

#define FIB_ROUTES_MAX 131072
#define NEIGHBORS_MAX 65536
#define SAS_MAX 16384
/* The control loop's longest sleep: how late a path MTU report applies. */
#define CONTROL_TICK_MS 250
#define POLICIES_MAX 16384
#define MBUFS_PER_QUEUE 2048
/*
 * DPDK memory besides the packet pools: the tables at their fixed sizes
 * (FIB, neighbors, SAD, SPD, ACLs), and per worker its reassembly buffers
 * and graph. Measured with 1, 2 and 4 workers on hugepages.
 */
#define TABLES_MB 200
#define WORKER_TABLES_MB 4
/* Every test of espd runs in this much: the least it is given. */
#define MEMORY_MIN_MB 512

static struct {
	struct options options;
	struct config config;
	struct lcp_saved *saved;
	size_t n_saved;
	struct rte_rcu_qsbr *rcu;
	struct rte_mempool *pool;
	int signal_fd;
	int cli_fd;
	bool taken_over;
	uint64_t watchdog_ms;      /* service_watchdog_interval_ms; 0: none */
	uint64_t watchdog_next_ms; /* when to look at the workers again */
	bool watchdog_withheld;    /* a worker was stuck at the last look */
} espd = { .signal_fd = -1, .cli_fd = -1 };

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int load_config(void)
{
	char error[512];
	config_init(&espd.config);
	if (config_load(espd.options.config_path, &espd.config, error, sizeof(error)) < 0) {
		fprintf(stderr, "%s\n", error);
		return -EINVAL;
	}
	return 0;
}

/* Read every interface before changing any, so a missing one changes nothing. */
static int capture_interfaces(void)
{
	espd.n_saved = espd.config.n_interfaces;
	espd.saved = calloc(espd.n_saved ? espd.n_saved : 1, sizeof(*espd.saved));
	if (!espd.saved)
		return -ENOMEM;
	char nft_table[LCP_NFT_NAME_MAX];
	snprintf(nft_table, sizeof(nft_table), "espd_%.26s", espd.options.name);
	for (size_t i = 0; i < espd.n_saved; i++) {
		const struct config_interface *config = &espd.config.interfaces[i];
		int rc = lcp_capture(config->name, &espd.saved[i]);
		if (rc == 0 && config->driver == PORT_DRIVER_AF_PACKET)
			rc = lcp_saved_set_ingress_drop(&espd.saved[i], nft_table);
		if (rc < 0)
			return rc;
	}
	return lcp_state_save(espd.options.state_dir, espd.saved, espd.n_saved);
}

static int setup_signals(void)
{
	sigset_t set;

	/* A write to a reader gone (a CLI client that left before its reply,
	 * a log pipe) fails with EPIPE, which the writer reports, instead of
	 * ending espd. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return -errno;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	/* Blocked before DPDK starts its threads, so only the signalfd sees them. */
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		return -errno;
	espd.signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return espd.signal_fd < 0 ? -errno : 0;
}

/* The shared pool: for each worker, queues toward and from every device and
 * its TAP, and packets in flight between them. */
static unsigned pool_mbufs(unsigned n_workers)
{
	return MBUFS_PER_QUEUE * 4 * n_workers * (unsigned)(espd.n_saved + 1);
}

/* The DPDK memory, in MB, this configuration takes at start on pages of
 * page_size bytes (0: hugepages), a quarter on top for what grows (rebuilt
 * tables, DPDK's own). */
static long memory_needed_mb(unsigned n_workers, size_t page_size)
{
	size_t bytes = ((size_t)TABLES_MB + (size_t)WORKER_TABLES_MB * n_workers) << 20;

	bytes += port_pktmbuf_pool_bytes(pool_mbufs(n_workers), RTE_MBUF_DEFAULT_BUF_SIZE,
					 page_size);
	for (size_t i = 0; i < espd.n_saved; i++)
		bytes += port_pools_bytes(&espd.config.interfaces[i], (uint16_t)espd.saved[i].mtu,
					  n_workers, page_size);
	return RTE_MAX((long)((bytes + bytes / 4) >> 20), (long)MEMORY_MIN_MB);
}

static int tables_init(unsigned n_workers)
{
	size_t size = rte_rcu_qsbr_get_memsize(n_workers);
	espd.rcu = rte_zmalloc("espd_rcu", size, RTE_CACHE_LINE_SIZE);
	if (!espd.rcu || rte_rcu_qsbr_init(espd.rcu, n_workers) != 0)
		return -ENOMEM;
	iface_table_init();
	int rc = fib_init(espd.rcu, FIB_ROUTES_MAX);
	if (rc == 0)
		rc = neigh_init(espd.rcu, NEIGHBORS_MAX);
	if (rc == 0)
		rc = own_addr_init(espd.rcu);
	if (rc == 0)
		rc = acl_init(espd.rcu);
	if (rc == 0)
		rc = sad_init(espd.rcu, SAS_MAX, n_workers);
	if (rc == 0)
		rc = spd_init(espd.rcu, POLICIES_MAX);
	if (rc == 0)
		rc = pkt_meta_register();
	espd.pool = rte_pktmbuf_pool_create("espd_mbufs", pool_mbufs(n_workers), 256, 0,
					    RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	return rc < 0 ? rc : espd.pool ? 0 : -ENOMEM;
}

static int take_over_one(const struct config_interface *config, const struct lcp_saved *saved)
{
	struct iface *iface = iface_add(config->name);
	struct port_params params = {
		.config = config,
		.mtu = (uint16_t)saved->mtu,
		.n_queues = (uint16_t)n_workers,
		.pool = espd.pool,
	};
	uint16_t port_id, tap_port_id;
	int rc;

	if (!iface)
		return -ENOSPC;
	rc = lcp_takeover(saved, iface->phys_name);
	if (rc < 0)
		return rc;
	params.device = iface->phys_name;
	rte_ether_addr_copy((const struct rte_ether_addr *)saved->mac, &iface->mac);
	iface->mtu = (uint16_t)saved->mtu;
	iface->phys_ifindex = saved->ifindex;
	iface->driver = format_port_driver(config->driver);
	rc = port_open_device(&params, &port_id);
	if (rc < 0) {
		fprintf(stderr, "espd: %s: cannot open %s port on %s: %s\n", config->name,
			iface->driver, iface->phys_name, strerror(-rc));
		return rc;
	}
	iface_bind_port(iface, port_id, false);
	rc = port_open_tap(config->name, &iface->mac, &params, &tap_port_id, &iface->tap_ifindex);
	if (rc < 0) {
		fprintf(stderr, "espd: %s: cannot create TAP: %s\n", config->name, strerror(-rc));
		return rc;
	}
	iface_bind_port(iface, tap_port_id, true);
	iface->tap_mtu = port_mtu(tap_port_id);
	return lcp_tap_configure(saved, iface->tap_ifindex);
}

static int take_over_interfaces(void)
{
	espd.taken_over = true;
	for (size_t i = 0; i < espd.config.n_interfaces; i++) {
		int rc = take_over_one(&espd.config.interfaces[i], &espd.saved[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Worker w polls queue w of every device and every TAP. */
static void assign_queues(void)
{
	for (unsigned w = 0; w < n_workers; w++) {
		struct worker *worker = &workers[w];
		worker->n_rx = 0;
		for (uint16_t i = 0; i < iface_table.n_ifaces; i++) {
			const struct iface *iface = &iface_table.ifaces[i];
			worker->rx[worker->n_rx++] = (struct rx_queue_ref){ iface->port_id, (uint16_t)w, false };
			worker->rx[worker->n_rx++] = (struct rx_queue_ref){ iface->tap_port_id, (uint16_t)w, true };
		}
	}
}

static bool adaptive_polling(void)
{
	for (size_t i = 0; i < espd.config.n_interfaces; i++)
		if (config_interface_rx_mode(&espd.config, &espd.config.interfaces[i]) ==
		    RX_MODE_POLLING)
			return false;
	return espd.config.n_interfaces > 0 || espd.config.interface_rx_mode != RX_MODE_POLLING;
}

/* SAs are inbound or outbound by whose address they carry: re-decide when
 * the router's addresses change, and re-resolve policies if any moved. */
static void fib_changed(void)
{
	if (sad_refresh_directions() > 0)
		spd_commit();
}

/* The TAP's MTU changed (ip link, the router's configuration): the device
 * takes the same, or the kernel drops larger frames on it unseen. What the
 * port cannot take is refused: logged, and the TAP's MTU put back. */
static void mtu_changed(struct iface *iface, uint32_t mtu)
{
	uint32_t max;
	int rc = port_device_mtu_set(iface->port_id, iface->tap_port_id, iface->phys_name,
				     iface->phys_ifindex, mtu, &max);

	if (rc == 0) {
		fprintf(stderr, "espd: %s: MTU %u -> %u, on %s too\n", iface->name, iface->mtu, mtu,
			iface->phys_name);
		iface->mtu = (uint16_t)mtu;
		return;
	}
	if (rc == -ERANGE)
		fprintf(stderr, "espd: %s: MTU %u refused: espd's buffers for its %s port, sized "
				"when espd started, carry up to MTU %u; MTU stays %u\n",
			iface->name, mtu, iface->driver, max, iface->mtu);
	else
		fprintf(stderr, "espd: %s: MTU %u refused: %s does not take it: %s; MTU stays %u\n",
			iface->name, mtu, iface->phys_name, strerror(-rc), iface->mtu);
	lcp_link_mtu_set(iface->name, iface->tap_ifindex, iface->mtu);
}

static int start_mirror(void)
{
	struct rtnl_mirror_config mirror = {
		.rx_buffer_size = espd.config.netlink.rx_buffer_size,
		.batch_size = espd.config.netlink.batch_size,
		.batch_delay_ms = espd.config.netlink.batch_delay_ms,
		.ignore_kernel_routes = espd.config.ignore_kernel_routes,
		.fib_changed = fib_changed,
		.mtu_changed = mtu_changed,
	};
	return rtnl_mirror_open(&mirror);
}

static bool same_interfaces(const struct config *a, const struct config *b)
{
	if (a->n_interfaces != b->n_interfaces)
		return false;
	for (size_t i = 0; i < a->n_interfaces; i++)
		if (memcmp(&a->interfaces[i], &b->interfaces[i], sizeof(a->interfaces[i])) != 0)
			return false;
	return true;
}

/* Re-read the configuration file. What can change at run time (ACLs) is
 * applied atomically; an error keeps the running configuration whole. */
static int reload(struct cli_out *out)
{
	struct config fresh;
	char error[512];

	config_init(&fresh);
	if (config_load(espd.options.config_path, &fresh, error, sizeof(error)) < 0)
		return cli_error(out, -EINVAL, "reload refused, running configuration kept: %s", error);
	if (!same_interfaces(&espd.config, &fresh))
		snprintf(error, sizeof(error), "interfaces, drivers and queues change only on restart");
	if (!same_interfaces(&espd.config, &fresh) ||
	    acl_config_apply(&fresh, error, sizeof(error)) < 0) {
		config_free(&fresh);
		return cli_error(out, -EINVAL, "reload refused, running configuration kept: %s", error);
	}
	config_free(&espd.config);
	espd.config = fresh;
	if (out->json)
		cli_printf(out, "{\"reloaded\": \"%s\"}\n", espd.options.config_path);
	else
		cli_printf(out, "reloaded %s\n", espd.options.config_path);
	return 0;
}

static const struct cli_command main_commands[] = {
	{ .path = "reload", .run = reload,
	  .help = "re-read the configuration file (ACLs change at once)" },
};

static int open_cli(void)
{
	char dir[sizeof(espd.options.socket_path)];
	snprintf(dir, sizeof(dir), "%s", espd.options.socket_path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0700);
	}
	show_cli_register();
	rtnl_cli_register();
	acl_cli_register();
	ipsec_cli_register();
	pcap_cli_register();
	trace_cli_register();
	cli_register(main_commands, RTE_DIM(main_commands));
	espd.cli_fd = cli_server_open(espd.options.socket_path);
	if (espd.cli_fd < 0)
		fprintf(stderr, "espd: CLI socket %s: %s\n", espd.options.socket_path,
			strerror(-espd.cli_fd));
	return espd.cli_fd < 0 ? espd.cli_fd : 0;
}

/* Once a second: SAs past their hard lifetime go, and policies that used
 * them, or one that reached a soft limit, are resolved again; the kernel's
 * TTL and hop limits, its redirect settings and multipath hash policies
 * are read again. */
static void every_second(uint64_t *last_s)
{
	uint64_t now_s = sad_now_s();

	if (now_s == *last_s)
		return;
	*last_s = now_s;
	if (sad_expire(now_s) > 0)
		spd_commit();
	hop_limits_refresh();
	iface_confs_refresh();
	flow_hash_refresh();
}

/* The service manager learns of espd's state (notify.h); a failure is
 * logged, not fatal: espd forwards all the same. */
static void tell_service(const char *state)
{
	int rc = service_notify(state);

	if (rc < 0)
		fprintf(stderr, "espd: cannot notify the service manager: %s\n", strerror(-rc));
}

/*
 * The service manager's watchdog is fed only while every worker finishes
 * graph walks, so that systemd restarts an espd whose worker is stuck, as
 * well as one whose control thread is (WatchdogSec= in the unit).
 */
static void watchdog_feed(uint64_t now)
{
	unsigned stuck = 0;
	bool progressed;

	if (espd.watchdog_ms == 0 || now < espd.watchdog_next_ms)
		return;
	espd.watchdog_next_ms = now + espd.watchdog_ms;
	progressed = workers_progressed(&stuck);
	if (progressed)
		tell_service("WATCHDOG=1");
	if (progressed == !espd.watchdog_withheld)
		return;
	espd.watchdog_withheld = !progressed;
	if (progressed)
		fprintf(stderr, "espd: the workers walk again: the watchdog is fed\n");
	else
		fprintf(stderr, "espd: worker %u finished no graph walk in %" PRIu64 " ms: the "
			"service manager's watchdog is not fed\n", stuck, espd.watchdog_ms);
}

/* The control loop's sleep: at most a tick, and no later than the next
 * rtnl mirror deadline, pcap drain or watchdog look. */
static int control_timeout_ms(uint64_t now)
{
	int timeout = rtnl_mirror_next_timeout_ms(now);

	if (timeout < 0 || timeout > CONTROL_TICK_MS)
		timeout = CONTROL_TICK_MS;
	if (pcap_cli_running() && timeout > PCAP_DRAIN_MS)
		timeout = PCAP_DRAIN_MS;
	if (espd.watchdog_ms && espd.watchdog_next_ms < now + (uint64_t)timeout)
		timeout = espd.watchdog_next_ms > now ? (int)(espd.watchdog_next_ms - now) : 0;
	return timeout;
}

static void reload_on_sighup(void)
{
	struct cli_out out = { 0 };

	tell_service("RELOADING=1");
	reload(&out);
	fprintf(stderr, "espd: SIGHUP: %.*s", (int)out.len, out.buf ? out.buf : "");
	cli_out_free(&out);
	tell_service("READY=1");
}

/* Returns when SIGINT or SIGTERM arrives; SIGHUP reloads. */
static void control_loop(void)
{
	uint64_t second = 0;

	for (;;) {
		struct pollfd fds[3] = {
			{ .fd = espd.signal_fd, .events = POLLIN },
			{ .fd = espd.cli_fd, .events = POLLIN },
			{ .fd = rtnl_mirror_fd(), .events = POLLIN },
		};
		if (poll(fds, 3, control_timeout_ms(now_ms())) < 0 && errno != EINTR)
			fprintf(stderr, "espd: poll: %s\n", strerror(errno));
		if (fds[0].revents & POLLIN) {
			struct signalfd_siginfo info;
			if (read(espd.signal_fd, &info, sizeof(info)) != sizeof(info))
				continue;
			if (info.ssi_signo != SIGHUP)
				return;
			reload_on_sighup();
		}
		if (fds[1].revents & POLLIN)
			cli_server_accept(espd.cli_fd);
		rtnl_mirror_process(now_ms());
		path_mtu_poll(sad_now_s());
		pcap_cli_poll();
		every_second(&second);
		watchdog_feed(now_ms());
	}
}

/* On stderr, and to the service manager with READY=1. */
static void announce_running(unsigned n_workers)
{
	char status[256], ready[sizeof(status) + 32];

	snprintf(status, sizeof(status), "running with %u worker(s), %u interface(s), CLI at %s",
		 n_workers, iface_table.n_ifaces, espd.options.socket_path);
	fprintf(stderr, "espd: %s\n", status);
	snprintf(ready, sizeof(ready), "READY=1\nSTATUS=%s", status);
	tell_service(ready);
}

static void give_back_interfaces(void)
{
	for (uint16_t i = 0; i < iface_table.n_ifaces; i++) {
		const struct iface *iface = &iface_table.ifaces[i];
		if (iface->tap_port_id != UINT16_MAX) {
			lcp_tap_confs_give_back(iface->name, iface->phys_name);
			port_close(iface->tap_port_id);
		}
		if (iface->port_id != UINT16_MAX)
			port_close(iface->port_id);
	}
	if (lcp_restore(espd.options.state_dir) < 0)
		fprintf(stderr, "espd: some interfaces could not be restored; "
				"run espd --restore -c %s\n", espd.options.config_path);
}

static int run(void)
{
	unsigned worker_lcores[ESPD_WORKERS_MAX], n;
	int rc;

	if ((rc = lcp_restore(espd.options.state_dir)) < 0)
		return rc;
	if ((rc = capture_interfaces()) < 0 || (rc = setup_signals()) < 0)
		return rc;
	n = eal_worker_count(&espd.config);
	struct eal_memory memory = {
		.hugepages_mb = memory_needed_mb(n, 0),
		.small_pages_mb = memory_needed_mb(n, (size_t)sysconf(_SC_PAGESIZE)),
	};
	if ((rc = eal_start(&espd.config, espd.options.name, &memory, worker_lcores)) < 0) {
		lcp_restore(espd.options.state_dir);
		return rc;
	}
	if ((rc = tables_init(n)) < 0)
		goto out;
	if ((rc = workers_create(n, espd.rcu)) < 0)
		goto out;
	for (unsigned i = 0; i < n; i++) {
		workers[i].id = i;
		workers[i].lcore = worker_lcores[i];
	}
	if ((rc = take_over_interfaces()) < 0 || (rc = start_mirror()) < 0 ||
	    (rc = open_cli()) < 0)
		goto out;
	char error[512];
	if ((rc = acl_config_apply(&espd.config, error, sizeof(error))) < 0) {
		fprintf(stderr, "espd: %s\n", error);
		goto out;
	}
	assign_queues();
	hop_limits_refresh();
	iface_confs_refresh();
	flow_hash_refresh();
	if ((rc = workers_start(adaptive_polling())) < 0)
		goto out;
	announce_running(n);
	espd.watchdog_ms = service_watchdog_interval_ms();
	espd.watchdog_next_ms = now_ms() + espd.watchdog_ms;
	control_loop();
	tell_service("STOPPING=1");
	fprintf(stderr, "espd: stopping\n");
	pcap_cli_stop();
	workers_stop();
	acl_fini();
	rtnl_mirror_close();
	/* SAs go so that their keys are wiped. The FIB and neighbor tables
	 * are left to the process's end: rte_free clears what it frees, tens
	 * of MB for the LPM tables, seconds on a slow machine for nothing. */
	spd_destroy();
	sad_destroy();
out:
	if (rc < 0)
		fprintf(stderr, "espd: start-up failed: %s\n", strerror(-rc));
	cli_server_close(espd.cli_fd, espd.options.socket_path);
	if (espd.taken_over || rc < 0)
		give_back_interfaces();
	rte_eal_cleanup();
	return rc;
}

int main(int argc, char **argv)
{
	int rc = options_parse(argc, argv, &espd.options);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	if (load_config() < 0)
		return 2;
	if (espd.options.check) {
		printf("%s: configuration is valid\n", espd.options.config_path);
		return 0;
	}
	mkdir("/run/espd", 0700);
	mkdir(espd.options.state_dir, 0700);
	if (espd.options.restore)
		return lcp_restore(espd.options.state_dir) < 0 ? 1 : 0;
	rc = run();
	config_free(&espd.config);
	return rc == -ENODEV || rc == -EINVAL ? 2 : rc < 0 ? 1 : 0;
}
