/*
 * Anti-replay window (RFC 4303 s.3.4.3 and appendix A2) on the RFC 6479
 * ring of 64-bit words. Sequence numbers are handled as 64-bit values
 * throughout: without ESN the high half is simply 0. The acceptance rules
 * are the Linux kernel's (net/xfrm/xfrm_replay.c), see replay.h.
 */
#include "esp/replay.h"

#include <string.h>

static uint32_t words_for(uint32_t size)
{
	uint32_t words = 1;

	/* One word more than the window spans, so advancing into a fresh
	 * word never clears a bit still inside the window (RFC 6479 s.2). */
	while (words < size / 64 + 2)
		words <<= 1;
	return words;
}

static inline uint32_t word_of(const struct replay_window *r, uint64_t seq)
{
	return (uint32_t)(seq >> 6) & r->mask;
}

static inline uint64_t bit_of(uint64_t seq)
{
	return 1ull << (seq & 63);
}

int replay_init(struct replay_window *r, uint32_t size, bool esn, uint64_t top)
{
	/* The kernel refuses ESN with no window (xfrm_init_replay). */
	if (size > REPLAY_WINDOW_MAX || (esn && size == 0))
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	r->size = size;
	r->esn = esn;
	r->top = esn ? top : (uint32_t)top;
	r->mask = words_for(size) - 1;
	return 0;
}

/*
 * RFC 4303 A2.2 (xfrm_replay_seqhi): with T the highest seen and W the
 * window, case A (Tl >= W - 1, the window lies in one subspace) puts a low
 * half below the bottom into the next subspace; case B (the window spans
 * two) puts a low half at or above the bottom into the previous one.
 * Returns false when that subspace would be below zero (the kernel's
 * high bits 0xffffffff, which no sender of the SA used).
 */
static bool infer_hi(const struct replay_window *r, uint32_t seq_low, uint32_t *seq_hi)
{
	uint32_t top_low = (uint32_t)r->top, top_hi = (uint32_t)(r->top >> 32);
	uint32_t bottom = top_low - r->size + 1;

	*seq_hi = top_hi;
	if (top_low >= r->size - 1) {
		if (seq_low < bottom)
			*seq_hi = top_hi + 1;
		return true;
	}
	if (seq_low >= bottom) {
		if (top_hi == 0)
			return false;
		*seq_hi = top_hi - 1;
	}
	return true;
}

static int window_test(const struct replay_window *r, uint64_t seq)
{
	if (seq > r->top)
		return 0;
	if (r->top - seq >= r->size)
		return REPLAY_TOO_OLD;
	if (r->bitmap[word_of(r, seq)] & bit_of(seq))
		return REPLAY_DUPLICATE;
	return 0;
}

/*
 * Sequence number 0, which the kernel refuses before the window: always
 * without ESN (xfrm_replay_check_legacy, _bmp); with ESN while the window
 * reaches below 1 in subspace 0 (xfrm_replay_check_esn). With ESN a full
 * number 0 arises otherwise only with the top at window - 1: 0 is then in
 * the window, and its ICV decides.
 */
static bool zero_refused(const struct replay_window *r, uint64_t seq)
{
	return seq == 0 && (!r->esn || r->top < (uint64_t)r->size - 1);
}

int replay_check(const struct replay_window *r, uint32_t seq_low, uint32_t *seq_hi)
{
	uint64_t seq = seq_low;

	*seq_hi = 0;
	if (r->esn) {
		if (!infer_hi(r, seq_low, seq_hi))
			return REPLAY_BELOW_ZERO;
		seq |= (uint64_t)*seq_hi << 32;
	} else if (r->size == 0) {
		/* xfrm_replay_check_legacy: no window, no check. */
		return 0;
	}
	if (zero_refused(r, seq))
		return REPLAY_ZERO;
	return window_test(r, seq);
}

/* Move the top to seq, clearing the words between (RFC 6479 s.2). */
static void advance(struct replay_window *r, uint64_t seq)
{
	uint64_t words = (seq >> 6) - (r->top >> 6);

	if (words > r->mask) {
		memset(r->bitmap, 0, sizeof(r->bitmap[0]) * (r->mask + 1));
	} else {
		for (uint64_t i = 1; i <= words; i++)
			r->bitmap[word_of(r, r->top + 64 * i)] = 0;
	}
	r->top = seq;
}

int replay_update(struct replay_window *r, uint64_t seq)
{
	if (!r->esn && r->size == 0) {
		if (seq > r->top)
			r->top = seq;
		return 0;
	}
	if (zero_refused(r, seq))
		return REPLAY_ZERO;
	if (seq > r->top) {
		advance(r, seq);
	} else {
		int rc = window_test(r, seq);
		if (rc != 0)
			return rc;
	}
	r->bitmap[word_of(r, seq)] |= bit_of(seq);
	return 0;
}
