/* Unsigned numbers spelled in text: CLI words, the state file, the
 * service manager's environment. */
#ifndef ESPD_COMMON_NUMBER_H
#define ESPD_COMMON_NUMBER_H

#include <stdint.h>

/* The unsigned number text spells in base (0: with C's 0x and 0 prefixes),
 * at most max: 0, or -EINVAL for anything else (a sign, other characters,
 * nothing, overflow); each caller words its own error. */
int number_parse(const char *text, int base, uint64_t max, uint64_t *value);

#endif
