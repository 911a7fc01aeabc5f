/*
 * The graph fuzz test's mutations: a seeded generator (the same seed gives
 * the same frames) and the ways a valid frame is damaged, aimed at the
 * header fields espd's nodes read: bit flips, field overwrites, cuts at
 * header boundaries, lengths made shorter consistently, junk appended,
 * fragment headers made up, empty and maximal frames.
 */
#ifndef ESPD_TESTS_FUZZ_MUTATE_H
#define ESPD_TESTS_FUZZ_MUTATE_H

#include <stdint.h>

/* The largest frame the test sends (its large buffers' data room). */
#define FUZZ_FRAME_MAX 16384

/* splitmix64: small, and every seed gives a good sequence. */
struct fuzz_rng {
	uint64_t state;
};

static inline uint64_t rng_next(struct fuzz_rng *r)
{
	uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform enough below n (n > 0) for a fuzzer. */
static inline uint32_t rng_below(struct fuzz_rng *r, uint32_t n)
{
	return (uint32_t)(rng_next(r) % n);
}

enum mutation {
	MUT_NONE,
	MUT_BIT_FLIP,
	MUT_BYTES,
	MUT_FIELD,
	MUT_CUT_BOUNDARY,
	MUT_CUT_RANDOM,
	MUT_SHRINK_IP,
	MUT_EXTEND,
	MUT_FRAGMENT,
	MUT_EMPTY,
	MUT_MAXIMAL,
	MUT_N,
};

/* Damages frame[0..*len) in place, one to three mutations (MUT_NONE: kept
 * whole); *len stays within FUZZ_FRAME_MAX. Returns the first mutation. */
enum mutation mutate(struct fuzz_rng *r, uint8_t *frame, uint32_t *len);

/* An IPv4 frame (or IPv6 with a fragment header) made fragment number
 * slot (offset slot x 8 bytes, more to come) of the made-up packet id. */
void mutate_fragment(uint8_t *frame, uint32_t len, uint16_t id, uint16_t slot);

#endif
