/* Hexadecimal digits and byte strings, for keys, MACs and the state file. */
#ifndef ESPD_COMMON_HEX_H
#define ESPD_COMMON_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Value of one hex digit, or -1. */
static inline int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode the n_chars hex digits at text into out (at most max bytes).
 * 0 with *len set, -EINVAL for an odd count or a non-digit, -E2BIG when
 * it does not fit. */
int hex_decode(const char *text, size_t n_chars, uint8_t *out, size_t max, size_t *len);

#endif
