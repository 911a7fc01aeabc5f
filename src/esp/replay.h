/*
 * Anti-replay window of an inbound SA (RFC 4303 s.3.4.3, ESN per RFC 4303
 * appendix A2) kept as the RFC 6479 ring of 64-bit words, so a window of
 * any size up to REPLAY_WINDOW_MAX advances by clearing whole words and
 * never shifts the bitmap.
 *
 * Semantics follow the Linux kernel (net/xfrm/xfrm_replay.c) so that a
 * packet espd accepts is one the kernel would accept:
 *  - without ESN, sequence number 0 is never valid, a packet right of the
 *    window is accepted, and one left of it (seq + window <= top) fails;
 *    a window of 0 turns the check off (xfrm_replay_check_legacy);
 *  - with ESN, the high 32 bits are inferred as RFC 4303 A2.2 says
 *    (xfrm_replay_seqhi): a low half below the window's bottom means the
 *    next subspace, so such a packet is not refused here but by its ICV;
 *    0 is refused only while the window reaches below 1 in subspace 0
 *    (xfrm_replay_check_esn); ESN needs a window (xfrm_init_replay
 *    refuses 0).
 *
 * The reasons are the kernel's: each fails xfrm_replay_check
 * (XfrmInStateSeqError; per state it counts replay or replay_window, and
 * nothing for 0), except a low half the inference puts below subspace 0,
 * which the kernel passes and authenticates with high bits 0xffffffff:
 * its ICV fails.
 *
 * Use per packet: replay_check() before the ICV check (cheap refusal, and
 * the high bits the ICV covers); replay_update() only after the ICV
 * verified, which checks again, so two copies of one packet in a burst
 * cannot both pass.
 *
 * Not thread-safe: the caller serialises check and update of one window
 * (struct sa_replay in tables/sad.h carries the lock).
 */
#ifndef ESPD_ESP_REPLAY_H
#define ESPD_ESP_REPLAY_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#define REPLAY_WUR __attribute__((warn_unused_result))

/* Largest window: the kernel's limit (XFRMA_REPLAY_ESN_MAX bitmap bytes). */
#define REPLAY_WINDOW_MAX 4096u
/* Ring words: a power of two with one word beyond the largest window. */
#define REPLAY_WORDS 128u

struct replay_window {
	uint64_t top;     /* highest authenticated sequence number (64 bits with ESN) */
	uint32_t size;    /* window in packets, 0..REPLAY_WINDOW_MAX */
	uint32_t mask;    /* ring words in use - 1 (power of two - 1) */
	uint8_t esn;
	uint8_t pad[7];
	uint64_t bitmap[REPLAY_WORDS]; /* bit (seq % (64 * (mask + 1))) */
};

/* Reasons a packet fails; values are negative errno-style codes. */
#define REPLAY_DUPLICATE (-EALREADY) /* seen before: x->stats.replay */
#define REPLAY_TOO_OLD (-ERANGE)     /* left of the window: x->stats.replay_window */
#define REPLAY_ZERO (-EINVAL)        /* sequence number 0: no per-state count */
#define REPLAY_BELOW_ZERO (-EDOM)    /* ESN subspace -1: the ICV fails (integrity_failed) */

/*
 * Set up an empty window below top, the highest sequence number already
 * seen (0 for a new SA): every number in the window is accepted once, as
 * the kernel takes `ip xfrm state add ... replay-seq N` (a replay state
 * with an empty bitmap). Returns 0 or -EINVAL (size above REPLAY_WINDOW_MAX).
 */
int replay_init(struct replay_window *r, uint32_t size, bool esn, uint64_t top) REPLAY_WUR;

/*
 * Before the ICV check: 0 when seq_low may be accepted, with *seq_hi set
 * to the high 32 bits to authenticate and use (0 without ESN); otherwise
 * one of the reasons above.
 */
int replay_check(const struct replay_window *r, uint32_t seq_low, uint32_t *seq_hi) REPLAY_WUR;

/*
 * After the ICV verified: record the full sequence number (seq_hi << 32 |
 * seq_low). Checks again, because another packet of the burst may have
 * taken it or moved the window: returns 0, or a reason above (then
 * nothing changed and the packet must be dropped).
 */
int replay_update(struct replay_window *r, uint64_t seq) REPLAY_WUR;

/* Highest sequence number seen, for show and for the kernel write-back. */
static inline uint64_t replay_top(const struct replay_window *r)
{
	return r->top;
}

#endif
