/*
 * The graph fuzz test's network, the one corpus.py builds frames for:
 * espd interfaces WAN (MTU 1500) and LAN (a jumbo one, MTU 9000) on DPDK
 * ring ports, each with a ring port for its TAP (which takes 1500 bytes,
 * as DPDK's TAP PMD), their routes, neighbors and the router's addresses;
 * ACLs (the LAN's input, both outputs); the SAs and policies of corpus.py's
 * ESP, as `espctl ipsec` adds them (and the churn test, churn.h, enters
 * them again and changes them); and one worker's graph, polling the four
 * ports.
 */
#ifndef ESPD_TESTS_FUZZ_NETWORK_H
#define ESPD_TESTS_FUZZ_NETWORK_H

#include <rte_ether.h>
#include <rte_graph.h>
#include <rte_mempool.h>

#include "bench_ports.h"

#define FUZZ_WAN_MTU 1500
#define FUZZ_LAN_MTU 9000 /* larger than the TAP: icmp-error answers */
#define FUZZ_TAP_MTU 1500 /* DPDK's TAP PMD */

enum { PORT_WAN, PORT_LAN, PORT_TAP_WAN, PORT_TAP_LAN, PORT_N };

extern const struct rte_ether_addr fuzz_mac_wan, fuzz_mac_lan;

/* All of it, the ports receiving into pool; the worker's graph. Exits
 * when something cannot be made. */
struct rte_graph *fuzz_network_setup(struct ring_port ports[PORT_N], struct rte_mempool *pool);

/* One `espctl` command line through espd's command table: its status (0:
 * done), the reply written to stderr when it failed. */
int fuzz_cli(const char *line);

/* corpus.py's SAs and policies: the `espctl` lines (SAs first, each
 * "ipsec sa add ... spi S reqid R ...", then "ipsec policy add ... dir D
 * ..."), and all of them entered as at setup: how many lines failed. */
extern const char *const fuzz_ipsec_lines[];
extern const size_t fuzz_ipsec_n;
unsigned fuzz_ipsec_enter(void);

#endif
