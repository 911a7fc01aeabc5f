/* The IPsec unit tests' environment (ipsec_env.h). */
#include "ipsec_env.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <rte_common.h>
#include <rte_eal.h>
#include <rte_malloc.h>

#include "tables/fib.h"

struct rte_rcu_qsbr *ipsec_env_start(const char *name, unsigned readers)
{
	char *argv[] = { (char *)name, "--no-huge", "-m", "512", "--no-pci", "--no-shconf",
			 "--file-prefix", (char *)name, "--log-level", "*:error" };
	struct rte_rcu_qsbr *rcu;

	if (rte_eal_init(RTE_DIM(argv), argv) < 0)
		return NULL;
	rcu = rte_zmalloc("rcu", rte_rcu_qsbr_get_memsize(readers), RTE_CACHE_LINE_SIZE);
	if (!rcu || rte_rcu_qsbr_init(rcu, readers) != 0 || fib_init(rcu, 1024) != 0)
		return NULL;
	return rcu;
}

void ipsec_env_local_route(const char *prefix)
{
	struct fib_route route = { .nexthop = { .type = NEXTHOP_LOCAL } };

	assert_int_equal(ip_prefix_parse(prefix, &route.prefix), 0);
	route.nexthop.family = route.prefix.addr.family;
	assert_int_equal(fib_route_add(&route), 0);
}

void ipsec_env_stop(struct rte_rcu_qsbr *rcu)
{
	fib_destroy();
	rte_free(rcu);
	rte_eal_cleanup();
}
