/* Unsigned numbers spelled in text (number.h). */
#include "common/number.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

static int parse(const char *text, int base, uint64_t max, bool negatable, uint64_t *value)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(text, &end, base);
	if (errno || end == text || *end || (!negatable && text[0] == '-') || n > max)
		return -EINVAL;
	*value = n;
	return 0;
}

int number_parse(const char *text, int base, uint64_t max, uint64_t *value)
{
	return parse(text, base, max, false, value);
}

int number_parse_negatable(const char *text, int base, uint64_t max, uint64_t *value)
{
	return parse(text, base, max, true, value);
}
