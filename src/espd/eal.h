/* DPDK EAL start-up from the configuration. */
#ifndef ESPD_ESPD_EAL_H
#define ESPD_ESPD_EAL_H

#include "config/config.h"

/* The number of workers the configuration asks for. */
unsigned eal_worker_count(const struct config *cfg);
/* The MB of DPDK memory espd needs on hugepages and on the system's pages
 * (mempools waste more of small pages). */
struct eal_memory {
	long hugepages_mb;
	long small_pages_mb;
};

/* Start EAL on hugepages if as much as it needs is free there, else on the
 * system's pages (ESPD_MEMORY_MB overrides both figures); fills the
 * workers' lcore ids. */
int eal_start(const struct config *cfg, const char *name, const struct eal_memory *memory,
	      unsigned *worker_lcores);

#endif
