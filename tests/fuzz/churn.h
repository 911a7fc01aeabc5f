/*
 * The churn test's control plane (graph_fuzz --churn): what an IKE daemon
 * does to espd's SAD and SPD while a worker lcore runs the graph, entered
 * as `espctl ipsec` lines through espd's command table (network.h), and
 * what must hold of the frames that leave meanwhile. Each step:
 *   - rekeys the outbound SAs of corpus.py's protect policies (ESN ones
 *     among them), by turns in the ways IKE daemons do: a new SA of another reqid, the
 *     policy's template moved to it (`ipsec policy update`), the old SA
 *     deleted; a new SA of the same reqid, which the template takes as
 *     the newest, the old one deleted (the new one with a hard packet
 *     limit, which workers reach before the next rekey, and stop it); the
 *     old SA deleted first and the new one added after (its packets
 *     meanwhile dropped: no SA), its ESP in UDP then sent from another
 *     port by turns (`ipsec sa update`);
 *   - deletes an inbound SA (each by turns, ESN ones too) and adds it
 *     again, by turns under another SPI (its corpus frames then punted:
 *     unknown SPI) and under its own;
 *   - deletes one of the other policies and adds it again, and adds or
 *     deletes a policy of its own (the out policies then searched with
 *     rte_acl, or one by one);
 *   - applies the path MTUs icmp-too-big reported, as espd's control loop;
 *   - now and then flushes every SA and enters the setup's again, as an
 *     IKE daemon that restarts.
 * Checks: no frame for a protected selector leaves the WAN port in clear;
 * every ESP frame there carries the SPI of an outbound SA of the run and,
 * if not fragmented, passes its ICV under that SA's keys, as the peer
 * decrypts it (espd's crypto, keys read from the SA's line; with ESN the
 * high bits inferred from where the SA's sequence numbers start);
 * every SA removed is freed once its grace period ends, its keys wiped
 * (sad_free_hook, after esp_crypto_destroy).
 */
#ifndef ESPD_TESTS_FUZZ_CHURN_H
#define ESPD_TESTS_FUZZ_CHURN_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_mbuf.h>

#include "graph/counters.h"

struct churn_stats {
	uint64_t steps;
	uint64_t commands, failed;    /* `espctl ipsec` lines entered, and refused */
	uint64_t removed;             /* SAs deleted or flushed */
	uint64_t freed, freed_keyed;  /* SAs freed, and of them with keys left */
	uint64_t wan_ip, wan_esp;     /* IP frames out of the WAN port, and ESP */
	uint64_t clear;               /* plaintext of a protected selector among them */
	uint64_t bad_spi;             /* ESP of an SPI no outbound SA of the run had */
	uint64_t wan_esp_whole;       /* ESP not fragmented, and so verified */
	uint64_t icv_bad;             /* of them, failing their ICV under their SA's keys */
};

extern struct churn_stats churn_stats;

/* After the setup: the SAs, policies and selectors to churn; the free
 * hook. between() is called after each command (to keep traffic going). */
void churn_init(void (*between)(void));
/* One step of changes. */
void churn_step(void);
/* Whether the churn, or the corpus sent again and again, explains drops
 * counted by c. */
bool churn_explains(enum espd_counter c);
/* Everything flushed (path MTUs too), then corpus.py's SAs and policies
 * entered again, with no traffic between the commands. */
void churn_final_state(void);
/* Checks a frame sent out of the WAN port, decrypting ESP in place. */
void churn_wan_frame(struct rte_mbuf *m);

#endif
