/* DPDK EAL start-up from the configuration. */
#ifndef ESPD_ESPD_EAL_H
#define ESPD_ESPD_EAL_H

#include "config/config.h"

/* Start EAL; fills the number of workers and their lcore ids. */
int eal_start(const struct config *cfg, const char *name, unsigned *n_workers,
	      unsigned *worker_lcores);

#endif
