/*
 * What the IPsec unit tests (SAD, SPD, ipsec CLI) share: DPDK without
 * hugepages, an RCU variable for their readers and a FIB, in which the
 * router's own addresses are local routes (they decide an SA's direction).
 */
#ifndef ESPD_TEST_IPSEC_ENV_H
#define ESPD_TEST_IPSEC_ENV_H

#include <rte_rcu_qsbr.h>

/* EAL with file prefix name, the RCU variable and the FIB; NULL on failure. */
struct rte_rcu_qsbr *ipsec_env_start(const char *name, unsigned readers);
/* A local route for prefix (text); fails the running test if refused. */
void ipsec_env_local_route(const char *prefix);
void ipsec_env_stop(struct rte_rcu_qsbr *rcu);

#endif
