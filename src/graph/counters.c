/* Named drop and punt counters, summed over workers for `show errors`. */
#include "graph/counters.h"

struct counter_row counter_rows[ESPD_WORKERS_MAX];

/* Workers own their rows; clearing records a baseline instead of writing
 * into rows a worker may be incrementing. */
static uint64_t cleared_at[ESPD_COUNTER_MAX];

static const struct {
	const char *node, *kind, *text;
} counter_info[ESPD_COUNTER_MAX] = {
#define _(id, n, k, t) [ESPD_COUNTER_##id] = { n, k, t },
	foreach_espd_counter(_)
#undef _
};

static uint64_t raw_total(enum espd_counter counter)
{
	uint64_t total = 0;
	for (unsigned w = 0; w < ESPD_WORKERS_MAX; w++)
		total += __atomic_load_n(&counter_rows[w].count[counter], __ATOMIC_RELAXED);
	return total;
}

uint64_t counter_total(enum espd_counter counter)
{
	return raw_total(counter) - cleared_at[counter];
}

const char *counter_node(enum espd_counter counter)
{
	return counter_info[counter].node;
}

const char *counter_kind(enum espd_counter counter)
{
	return counter_info[counter].kind;
}

const char *counter_text(enum espd_counter counter)
{
	return counter_info[counter].text;
}

void counters_clear(void)
{
	for (unsigned c = 0; c < ESPD_COUNTER_MAX; c++)
		cleared_at[c] = raw_total(c);
}
