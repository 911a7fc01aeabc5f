/*
 * DPDK EAL start-up: lcore layout from `set vpp settings cpu`, memory
 * on 4 KB pages when fewer hugepages are free than espd needs (for its
 * configuration, or ESPD_MEMORY_MB), and no shared runtime files
 * (--in-memory, or --no-shconf without hugepages, where EAL refuses
 * --in-memory) under a per-instance prefix, so two espd never collide.
 */
#include "espd/eal.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include "graph/counters.h"

#define EAL_ARGS_MAX 48

/* ESPD_MEMORY_MB: 0 when unset, -1 when not a number of MB. */
static long memory_override_mb(void)
{
	const char *text = getenv("ESPD_MEMORY_MB");
	char *end;
	long mb;

	if (!text)
		return 0;
	mb = strtol(text, &end, 10);
	if (*text && !*end && mb > 0)
		return mb;
	fprintf(stderr, "espd: ESPD_MEMORY_MB=%s: not a number of MB\n", text);
	return -1;
}

/* MB of free hugepages of the default size (/proc/meminfo). */
static long hugepages_free_mb(void)
{
	FILE *meminfo = fopen("/proc/meminfo", "r");
	char line[128];
	long free_pages = 0, page_kb = 0;

	if (!meminfo)
		return 0;
	while (fgets(line, sizeof(line), meminfo)) {
		sscanf(line, "HugePages_Free: %ld", &free_pages);
		sscanf(line, "Hugepagesize: %ld kB", &page_kb);
	}
	fclose(meminfo);
	return free_pages * page_kb / 1024;
}

/*
 * espd takes hugepages only when all the memory it needs is free there:
 * DPDK grows onto them as it allocates, and a machine with a few to spare
 * (another DPDK application's, a small reservation) would fail espd's
 * start-up half way (tables, packet buffers) instead of running it on 4 KB
 * pages, slower but whole.
 */
static bool use_hugepages(long hugepages_mb, long small_pages_mb)
{
	long free_mb = hugepages_free_mb();

	if (free_mb >= hugepages_mb)
		return true;
	fprintf(stderr, "espd: %ld MB of hugepages free, %ld MB needed: DPDK runs in %ld MB "
		"of 4 KB pages, which costs TLB misses on every packet "
		"(sysctl vm.nr_hugepages=%ld reserves them as 2 MB pages)\n",
		free_mb, hugepages_mb, small_pages_mb, (hugepages_mb + 1) / 2);
	return false;
}

/* The n-th CPU this process may run on, wrapping when there are fewer. */
static int allowed_cpu(unsigned n)
{
	cpu_set_t allowed;
	int cpus[CPU_SETSIZE], count = 0;

	if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0)
		return 0;
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &allowed))
			cpus[count++] = cpu;
	return count ? cpus[n % (unsigned)count] : 0;
}

/* Worker cores: corelist-workers, else `workers N` after main-core and
 * skip-cores, else one worker on the next allowed CPU. */
static unsigned plan_cores(const struct config_cpu *cpu, int *main_core, int *worker_cores)
{
	unsigned n = 0;

	*main_core = cpu->main_core >= 0 ? cpu->main_core : allowed_cpu(0);
	if (CPU_COUNT(&cpu->worker_cores) > 0) {
		for (int core = 0; core < CPU_SETSIZE && n < ESPD_WORKERS_MAX; core++)
			if (CPU_ISSET(core, &cpu->worker_cores))
				worker_cores[n++] = core;
		return n;
	}
	int wanted = cpu->workers > 0 ? cpu->workers : 1;
	for (int i = 0; i < wanted && n < ESPD_WORKERS_MAX; i++)
		worker_cores[n++] = allowed_cpu((unsigned)(1 + cpu->skip_cores + i));
	return n;
}

static void add_extra_args(char **argv, int *argc, char *extra)
{
	for (char *save = NULL, *word = strtok_r(extra, " ", &save);
	     word && *argc < EAL_ARGS_MAX - 1; word = strtok_r(NULL, " ", &save))
		argv[(*argc)++] = word;
}

unsigned eal_worker_count(const struct config *cfg)
{
	int main_core, worker_cores[ESPD_WORKERS_MAX];

	return plan_cores(&cfg->cpu, &main_core, worker_cores);
}

int eal_start(const struct config *cfg, const char *name, const struct eal_memory *memory,
	      unsigned *worker_lcores)
{
	static char lcores[512], prefix[64], extra[512], memory_mb[24];
	char *argv[EAL_ARGS_MAX];
	int argc = 0, main_core, worker_cores[ESPD_WORKERS_MAX];
	unsigned n = plan_cores(&cfg->cpu, &main_core, worker_cores);
	long override_mb = memory_override_mb();

	if (override_mb < 0)
		return -EINVAL;
	long hugepages_mb = override_mb ? override_mb : memory->hugepages_mb;
	long small_pages_mb = override_mb ? override_mb : memory->small_pages_mb;
	int len = snprintf(lcores, sizeof(lcores), "0@%d", main_core);

	for (unsigned i = 0; i < n; i++) {
		len += snprintf(lcores + len, sizeof(lcores) - (size_t)len, ",%u@%d", i + 1,
				worker_cores[i]);
		worker_lcores[i] = i + 1;
	}
	snprintf(prefix, sizeof(prefix), "%s", name);
	argv[argc++] = "espd";
	argv[argc++] = "--file-prefix";
	argv[argc++] = prefix;
	argv[argc++] = "--lcores";
	argv[argc++] = lcores;
	argv[argc++] = "--log-level";
	argv[argc++] = "*:warning";
	snprintf(memory_mb, sizeof(memory_mb), "%ld", small_pages_mb);
	if (!use_hugepages(hugepages_mb, small_pages_mb)) {
		argv[argc++] = "--no-huge";
		argv[argc++] = "-m";
		argv[argc++] = memory_mb;
		argv[argc++] = "--iova-mode=va";
		argv[argc++] = "--no-shconf";
	} else {
		argv[argc++] = "--in-memory";
	}
	bool pci = false;
	for (size_t i = 0; i < cfg->n_interfaces; i++)
		pci |= cfg->interfaces[i].driver == PORT_DRIVER_DPDK &&
		       strncmp(cfg->interfaces[i].dpdk_dev, "net_", 4) != 0;
	if (!pci)
		argv[argc++] = "--no-pci";
	if (getenv("ESPD_EAL_ARGS")) {
		snprintf(extra, sizeof(extra), "%s", getenv("ESPD_EAL_ARGS"));
		add_extra_args(argv, &argc, extra);
	}
	argv[argc] = NULL;
	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "espd: DPDK start-up failed: %s\n", rte_strerror(rte_errno));
		return -rte_errno ? -rte_errno : -EINVAL;
	}
	return 0;
}
