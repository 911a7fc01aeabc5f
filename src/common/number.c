/* Unsigned numbers spelled in text (number.h). */
#include "common/number.h"

#include <errno.h>
#include <stdlib.h>

int number_parse(const char *text, int base, uint64_t max, uint64_t *value)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(text, &end, base);
	if (errno || end == text || *end || text[0] == '-' || n > max)
		return -EINVAL;
	*value = n;
	return 0;
}
