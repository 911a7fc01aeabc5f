/* Unsigned numbers spelled in text: CLI words, the state file, the
 * service manager's environment. */
#ifndef ESPD_COMMON_NUMBER_H
#define ESPD_COMMON_NUMBER_H

#include <stdint.h>

/* The unsigned number text spells in base (0: with C's 0x and 0 prefixes),
 * at most max: 0, or -EINVAL for anything else (a sign, other characters,
 * nothing, overflow); each caller words its own error. */
int number_parse(const char *text, int base, uint64_t max, uint64_t *value);
/* The same with a leading minus taken as strtoull takes it, the negation
 * modulo 2^64 of what follows: how iproute2's get_u8 to get_u64 read a
 * word (lib/utils.c), so that ip takes -0 as 0 and a 64-bit -1 as
 * 2^64 - 1, while a 32-bit -1 is above its max. */
int number_parse_negatable(const char *text, int base, uint64_t max, uint64_t *value);

#endif
