/*
 * Packet capture, worker side, and the pool and rings the copies travel
 * in (graph/pcap.h). Workers take a slot of the capture's max with one
 * atomic add, copy, and queue on their own ring; they never write files.
 */
#include "graph/pcap.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include "graph/worker.h"
#include "tables/iface.h"

/* Copies in flight between the workers and the file: with a drain every
 * PCAP_DRAIN_MS (10 ms), 200 000 frames a second; more are missed, counted.
 * Each worker's ring can take them all. */
#define PCAP_POOL_COPIES 2048
#define PCAP_RING_SIZE PCAP_POOL_COPIES

bool pcap_armed;

static struct {
	struct rte_mempool *pool;
	struct rte_ring *rings[ESPD_WORKERS_MAX];
	uint32_t snaplen;
	uint64_t max;
	uint64_t taken; /* slots of max handed out; workers add atomically */
	unsigned next_ring; /* where pcap_dequeue goes on, so no ring waits */
	struct pcap_worker_stats stats[ESPD_WORKERS_MAX];
} capture;

/* A device port of the router's: frames on TAP ports are the kernel's view,
 * which tcpdump on the TAP already shows. */
static bool is_router_port(uint16_t port)
{
	const struct iface *iface = iface_by_port(port);
	return iface && iface->port_id == port;
}

/* How many of n frames may still be copied, reserved in one add. */
static uint16_t take_slots(uint16_t n)
{
	uint64_t before = __atomic_fetch_add(&capture.taken, n, __ATOMIC_RELAXED);
	if (before >= capture.max)
		return 0;
	return (uint16_t)RTE_MIN((uint64_t)n, capture.max - before);
}

void pcap_copy_burst(unsigned worker, uint16_t port, uint16_t queue, struct rte_mbuf **pkts,
		     uint16_t n, enum rte_pcapng_direction direction)
{
	struct pcap_worker_stats *stats = &capture.stats[worker];
	struct rte_mbuf *copies[n];
	uint16_t slots, made = 0;

	if (!is_router_port(port) || __atomic_load_n(&capture.taken, __ATOMIC_RELAXED) >= capture.max)
		return;
	slots = take_slots(n);
	/* The time is read just before each copy: the library's time base,
	 * shared by all workers, moves on by whole seconds and must not pass
	 * a timestamp not yet converted (start_pcapng_clock says why). */
	for (uint16_t i = 0; i < slots; i++) {
		copies[made] = rte_pcapng_copy(port, queue, pkts[i], capture.pool, capture.snaplen,
					       rte_get_tsc_cycles(), direction);
		if (likely(copies[made] != NULL))
			made++;
	}
	stats->no_buffer += slots - made;
	counter_add(worker, ESPD_COUNTER_PCAP_NO_BUFFER, slots - made);
	unsigned queued = rte_ring_sp_enqueue_burst(capture.rings[worker], (void **)copies, made,
						    NULL);
	stats->queued += queued;
	stats->ring_full += made - queued;
	counter_add(worker, ESPD_COUNTER_PCAP_RING_FULL, made - queued);
	if (queued < made)
		rte_pktmbuf_free_bulk(copies + queued, made - queued);
}

static int make_rings(void)
{
	for (unsigned w = 0; w < n_workers; w++) {
		char name[RTE_RING_NAMESIZE];
		snprintf(name, sizeof(name), "espd_pcap_%u", w);
		capture.rings[w] = rte_ring_create(name, PCAP_RING_SIZE, SOCKET_ID_ANY,
						   RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (!capture.rings[w])
			return -rte_errno;
	}
	return 0;
}

/*
 * DPDK 22.11's rte_pcapng_copy takes its TSC-to-time base at its first
 * call, after reading the timestamp it was given: that older timestamp
 * wraps around and moves the base 2^64 cycles ahead for good (frames dated
 * in the 23rd century). Its first call, here, gets a timestamp half a
 * second ahead, which leaves the base where it was taken.
 */
static void start_pcapng_clock(void)
{
	static bool started;
	struct rte_mbuf *probe, *copy;

	if (started || !(probe = rte_pktmbuf_alloc(capture.pool)))
		return;
	copy = rte_pcapng_copy(0, 0, probe, capture.pool, 0,
			       rte_get_tsc_cycles() + rte_get_tsc_hz() / 2,
			       RTE_PCAPNG_DIRECTION_UNKNOWN);
	started = copy != NULL;
	rte_pktmbuf_free(copy);
	rte_pktmbuf_free(probe);
}

int pcap_arm(uint32_t max, uint32_t snaplen)
{
	uint32_t data_room = rte_pcapng_mbuf_size(snaplen);
	int rc;

	/* Copies are one segment: rte_pcapng_copy appends its options to the
	 * copy's last buffer, which a chain of small ones may lack room for. */
	capture.pool = rte_pktmbuf_pool_create("espd_pcap", PCAP_POOL_COPIES, 0, 0,
					       (uint16_t)RTE_MIN(data_room, (uint32_t)UINT16_MAX),
					       SOCKET_ID_ANY);
	if (!capture.pool)
		return -rte_errno;
	rc = make_rings();
	if (rc < 0) {
		pcap_release();
		return rc;
	}
	start_pcapng_clock();
	memset(capture.stats, 0, sizeof(capture.stats));
	capture.snaplen = snaplen;
	capture.max = max;
	capture.taken = 0;
	__atomic_store_n(&pcap_armed, true, __ATOMIC_RELEASE);
	return 0;
}

uint16_t pcap_dequeue(struct rte_mbuf **copies, uint16_t max)
{
	uint16_t n = 0;

	for (unsigned i = 0; i < n_workers && n < max; i++) {
		unsigned w = (capture.next_ring + i) % n_workers;
		if (capture.rings[w])
			n += (uint16_t)rte_ring_sc_dequeue_burst(capture.rings[w],
								 (void **)copies + n, max - n, NULL);
	}
	capture.next_ring = (capture.next_ring + 1) % RTE_MAX(n_workers, 1u);
	return n;
}

struct pcap_worker_stats pcap_stats(void)
{
	struct pcap_worker_stats total = { 0 };

	for (unsigned w = 0; w < n_workers; w++) {
		total.queued += __atomic_load_n(&capture.stats[w].queued, __ATOMIC_RELAXED);
		total.no_buffer += __atomic_load_n(&capture.stats[w].no_buffer, __ATOMIC_RELAXED);
		total.ring_full += __atomic_load_n(&capture.stats[w].ring_full, __ATOMIC_RELAXED);
	}
	return total;
}

bool pcap_all_taken(void)
{
	struct pcap_worker_stats total = pcap_stats();
	return total.queued + total.no_buffer + total.ring_full >= capture.max;
}

void pcap_disarm(void)
{
	__atomic_store_n(&pcap_armed, false, __ATOMIC_RELEASE);
	/* After this, no worker is inside a walk that saw it armed. */
	workers_synchronize();
}

void pcap_release(void)
{
	for (unsigned w = 0; w < ESPD_WORKERS_MAX; w++) {
		rte_ring_free(capture.rings[w]);
		capture.rings[w] = NULL;
	}
	rte_mempool_free(capture.pool);
	capture.pool = NULL;
}
