/* Hex byte strings. */
#include "common/hex.h"

#include <errno.h>

int hex_decode(const char *text, size_t n_chars, uint8_t *out, size_t max, size_t *len)
{
	if (n_chars % 2)
		return -EINVAL;
	if (n_chars / 2 > max)
		return -E2BIG;
	for (size_t i = 0; i < n_chars / 2; i++) {
		int hi = hex_digit(text[2 * i]), lo = hex_digit(text[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = n_chars / 2;
	return 0;
}
