/*
 * Lookup keys compared whole: the fast path asks whether a packet's key
 * equals the one before it (a flow's packets come in runs) to share one
 * table lookup among them.
 */
#ifndef ESPD_COMMON_KEY_H
#define ESPD_COMMON_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Whether the size bytes at a and b are equal, size a multiple of 8 (the
 * keys' padding zeroed); without branches or a memcmp call, which would
 * cost more than the comparison, and unrolled: -O2 keeps a loop of six
 * words a loop, ~3 cycles a packet more in spd-input (bench/run-esp.sh). */
static inline bool key_equal(const void *a, const void *b, size_t size)
{
	uint64_t diff = 0;

#pragma GCC unroll 8
	for (size_t at = 0; at < size; at += sizeof(uint64_t)) {
		uint64_t x, y;
		memcpy(&x, (const uint8_t *)a + at, sizeof(x));
		memcpy(&y, (const uint8_t *)b + at, sizeof(y));
		diff |= x ^ y;
	}
	return diff == 0;
}

/* A key compared right after it was built is read back from the store
 * buffer only if it was written in the same whole words key_equal reads;
 * a word over narrower stores waits for them to retire (~10 cycles a
 * packet, measured). Keys are therefore written a word at a time, and an
 * IPv4 address as this word: its 4 bytes, then zeros. */
static inline uint64_t key_word_addr4(const void *addr)
{
	union {
		uint32_t v4[2];
		uint64_t word;
	} word = { .word = 0 };

	memcpy(&word.v4[0], addr, sizeof(word.v4[0]));
	return word.word;
}

#endif
