/* Worker graphs and their run loop. */
#include "graph/worker.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_rcu_qsbr.h>
#include "esp/crypto.h"

/* Empty walks before a worker starts sleeping, and its longest nap: a
 * quiet espd costs almost no CPU, a burst after a nap waits at most 0.5 ms. */
#define IDLE_WALKS_BEFORE_SLEEP 256
#define SLEEP_MIN_US 20
#define SLEEP_MAX_US 500

struct worker workers[ESPD_WORKERS_MAX];
unsigned n_workers;
int pkt_meta_offset = -1;

static struct {
	struct rte_rcu_qsbr *rcu;
	bool adaptive;
	volatile bool stop;
	struct node_runtime baseline[64];
	size_t n_baseline;
	uint64_t walks_seen[ESPD_WORKERS_MAX]; /* at the last workers_progressed */
} run;

static const char *const node_patterns[] = {
	NODE_PORT_INPUT, NODE_ACL_INPUT, NODE_ACL_OUTPUT, NODE_ETHERNET_INPUT, NODE_IP4_INPUT, NODE_IP6_INPUT, NODE_IP_LOOKUP,
	NODE_IP_REWRITE, NODE_IP_FRAGMENT, NODE_IP_REASSEMBLE, NODE_ICMP_ERROR, NODE_ICMP_TOO_BIG, NODE_PUNT,
	NODE_PORT_OUTPUT, NODE_DROP,
	NODE_SPD_OUTPUT, NODE_SPD_LOCAL, NODE_ESP_ENCRYPT, NODE_IPSEC_INPUT, NODE_ESP_DECRYPT,
	NODE_SPD_INPUT,
};

int pkt_meta_register(void)
{
	static const struct rte_mbuf_dynfield desc = {
		.name = "espd_pkt_meta",
		.size = sizeof(struct pkt_meta),
		.align = __alignof__(struct pkt_meta),
	};
	pkt_meta_offset = rte_mbuf_dynfield_register(&desc);
	return pkt_meta_offset < 0 ? -rte_errno : 0;
}

struct worker *worker_of_graph(const struct rte_graph *graph)
{
	unsigned id;
	if (sscanf(graph->name, "espd-worker-%u", &id) != 1 || id >= n_workers)
		return NULL;
	return &workers[id];
}

int workers_create(unsigned n, struct rte_rcu_qsbr *rcu)
{
	run.rcu = rcu;
	n_workers = n;
	for (unsigned i = 0; i < n; i++) {
		char name[RTE_GRAPH_NAMESIZE];
		struct rte_graph_param param = {
			.socket_id = SOCKET_ID_ANY,
			.nb_node_patterns = RTE_DIM(node_patterns),
			.node_patterns = (const char **)(uintptr_t)node_patterns,
		};
		snprintf(name, sizeof(name), "espd-worker-%u", i);
		if (rte_graph_create(name, &param) == RTE_GRAPH_ID_INVALID)
			return -rte_errno ? -rte_errno : -EINVAL;
		workers[i].graph = rte_graph_lookup(name);
		workers[i].graph_id = rte_graph_from_name(name);
		/* ESP crypto managers and the IV source, made before the worker
		 * runs: the fast path never allocates. */
		int rc = esp_crypto_worker_create(&workers[i].crypto);
		if (rc == 0)
			rc = ip_reassemble_init(i);
		if (rc < 0)
			return rc;
		workers[i].ip_id = (uint16_t)i;
	}
	return 0;
}

static void nap(unsigned *sleep_us)
{
	struct timespec ts = { .tv_nsec = (long)*sleep_us * 1000 };
	nanosleep(&ts, NULL);
	if (*sleep_us < SLEEP_MAX_US)
		*sleep_us *= 2;
}

static int worker_main(void *arg)
{
	struct worker *worker = arg;
	unsigned idle_walks = 0, sleep_us = SLEEP_MIN_US;

	rte_rcu_qsbr_thread_register(run.rcu, worker->id);
	rte_rcu_qsbr_thread_online(run.rcu, worker->id);
	while (!run.stop) {
		rte_graph_walk(worker->graph);
		rte_rcu_qsbr_quiescent(run.rcu, worker->id);
		__atomic_store_n(&worker->walks, worker->walks + 1, __ATOMIC_RELAXED);
		if (worker->rx_last_walk) {
			idle_walks = 0;
			sleep_us = SLEEP_MIN_US;
			continue;
		}
		if (!run.adaptive || ++idle_walks < IDLE_WALKS_BEFORE_SLEEP)
			continue;
		/* Offline while asleep so control-plane RCU waits do not stall. */
		rte_rcu_qsbr_thread_offline(run.rcu, worker->id);
		nap(&sleep_us);
		rte_rcu_qsbr_thread_online(run.rcu, worker->id);
	}
	rte_rcu_qsbr_thread_offline(run.rcu, worker->id);
	rte_rcu_qsbr_thread_unregister(run.rcu, worker->id);
	return 0;
}

int workers_start(bool adaptive)
{
	run.adaptive = adaptive;
	run.stop = false;
	for (unsigned i = 0; i < n_workers; i++) {
		int rc = rte_eal_remote_launch(worker_main, &workers[i], workers[i].lcore);
		if (rc < 0)
			return rc;
	}
	return 0;
}

bool workers_progressed(unsigned *stuck)
{
	bool all = true;

	for (unsigned i = 0; i < n_workers; i++) {
		uint64_t walks = __atomic_load_n(&workers[i].walks, __ATOMIC_RELAXED);
		if (walks == run.walks_seen[i] && all) {
			*stuck = i;
			all = false;
		}
		run.walks_seen[i] = walks;
	}
	return all;
}

void workers_synchronize(void)
{
	if (run.rcu)
		rte_rcu_qsbr_synchronize(run.rcu, RTE_QSBR_THRID_INVALID);
}

void workers_stop(void)
{
	run.stop = true;
	for (unsigned i = 0; i < n_workers; i++) {
		rte_eal_wait_lcore(workers[i].lcore);
		/* Workers run once per process: their crypto state goes with them. */
		esp_crypto_worker_destroy(workers[i].crypto);
		workers[i].crypto = NULL;
		ip_reassemble_destroy(i);
	}
}

struct runtime_collect {
	struct node_runtime *out;
	size_t max, n;
};

static int collect_node(bool is_first, bool is_last, void *cookie,
			const struct rte_graph_cluster_node_stats *stats)
{
	struct runtime_collect *collect = cookie;
	RTE_SET_USED(is_first);
	RTE_SET_USED(is_last);
	if (collect->n >= collect->max)
		return 0;
	struct node_runtime *node = &collect->out[collect->n++];
	snprintf(node->name, sizeof(node->name), "%s", stats->name);
	node->calls = stats->calls;
	node->packets = stats->objs;
	node->cycles = stats->cycles;
	return 0;
}

static size_t runtime_raw(struct node_runtime *out, size_t max)
{
	const char *pattern = "espd-worker-*";
	struct runtime_collect collect = { .out = out, .max = max };
	struct rte_graph_cluster_stats_param param = {
		.socket_id = SOCKET_ID_ANY,
		.fn = collect_node,
		.cookie = &collect,
		.nb_graph_patterns = 1,
		.graph_patterns = &pattern,
	};
	struct rte_graph_cluster_stats *stats = rte_graph_cluster_stats_create(&param);
	if (!stats)
		return 0;
	rte_graph_cluster_stats_get(stats, false);
	rte_graph_cluster_stats_destroy(stats);
	return collect.n;
}

size_t workers_runtime(struct node_runtime *out, size_t max)
{
	size_t n = runtime_raw(out, max);
	for (size_t i = 0; i < n; i++)
		for (size_t b = 0; b < run.n_baseline; b++)
			if (strcmp(out[i].name, run.baseline[b].name) == 0) {
				out[i].calls -= run.baseline[b].calls;
				out[i].packets -= run.baseline[b].packets;
				out[i].cycles -= run.baseline[b].cycles;
			}
	return n;
}

void workers_runtime_clear(void)
{
	run.n_baseline = runtime_raw(run.baseline, RTE_DIM(run.baseline));
}
