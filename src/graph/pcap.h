/*
 * Packet capture, worker side: while a capture is armed, port-input and
 * port-output copy the frames of the router's ports (not the TAPs') with
 * rte_pcapng_copy into the capture's own pool and queue the copies on a
 * ring per worker (one producer, one consumer). The control thread owns
 * everything else: it creates the pool and rings, arms, drains the rings
 * into the file and frees them once no worker can still hold them.
 */
#ifndef ESPD_GRAPH_PCAP_H
#define ESPD_GRAPH_PCAP_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_branch_prediction.h>
#include <rte_mbuf.h>
#include <rte_pcapng.h>
#include "graph/counters.h"

/* What workers do with one capture; zeroed between captures. */
struct pcap_worker_stats {
	uint64_t queued;    /* copies put on the worker's ring */
	uint64_t no_buffer; /* copies the pool had no buffer for */
	uint64_t ring_full; /* copies the ring had no room for */
} __rte_cache_aligned;

/* Set only while a capture runs: the one thing workers read otherwise. */
extern bool pcap_armed;

static inline bool pcap_is_armed(void)
{
	/* Acquire: whoever sees it set sees the pool and rings made before. */
	return __atomic_load_n(&pcap_armed, __ATOMIC_ACQUIRE);
}

/* Worker: copy pkts[0..n), seen on port in direction, for the capture
 * (frames of TAP ports are left out). Called only while armed. */
void pcap_copy_burst(unsigned worker, uint16_t port, uint16_t queue, struct rte_mbuf **pkts,
		     uint16_t n, enum rte_pcapng_direction direction);

/* Control thread: make the pool and rings for copies of up to snaplen
 * bytes, and arm for the first max frames. 0 or -errno. */
int pcap_arm(uint32_t max, uint32_t snaplen);
/* Control thread: take up to max copies off the rings, into copies. */
uint16_t pcap_dequeue(struct rte_mbuf **copies, uint16_t max);
/* Control thread: whether every one of the max frames was queued or missed. */
bool pcap_all_taken(void);
/* Control thread: stop the workers copying and wait until none can still
 * be copying; the rings then hold the last copies, for pcap_dequeue. */
void pcap_disarm(void);
/* Control thread, after pcap_disarm and the last pcap_dequeue: free the
 * pool and rings. */
void pcap_release(void);
/* Totals of this capture's workers. */
struct pcap_worker_stats pcap_stats(void);

#endif
