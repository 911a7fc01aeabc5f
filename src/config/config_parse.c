/*
 * The parser engine behind config.c, config_acl.c and config_macip.c: the
 * words of a line, keyword tables, error reports in the FILE:LINE: 'word':
 * form, value checks shared by every part of the grammar, and sorted
 * dynamic arrays.
 */
#include "config/config_parse.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- errors ---- */

static void report(struct parser *p, uint32_t line, const char *word, const char *fmt,
		   va_list ap)
{
	if (!p->err || p->err_size == 0)
		return;
	int n = snprintf(p->err, p->err_size, "%s:%" PRIu32 ": '%s': ", p->file, line, word);
	if (n >= 0 && (size_t)n < p->err_size)
		vsnprintf(p->err + n, p->err_size - (size_t)n, fmt, ap);
}

int parser_error(struct parser *p, const char *word, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report(p, p->line, word, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

void parser_defer_error(struct parser *p, uint32_t line, const char *word, const char *fmt, ...)
{
	va_list ap;
	if (p->deferred_line && p->deferred_line <= line)
		return;
	p->deferred_line = line;
	va_start(ap, fmt);
	report(p, line, word, fmt, ap);
	va_end(ap);
}

/* ---- words ---- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Cut a quoted word out of s (at the opening quote); returns the next position. */
static char *split_quoted(struct parser *p, char *s, char **word)
{
	char *close = strchr(s + 1, *s);
	if (!close) {
		size_t len = strlen(s);
		while (len > 0 && is_blank(s[len - 1]))
			s[--len] = '\0';
		parser_error(p, s, "unterminated quote");
		return NULL;
	}
	if (close[1] != '\0' && !is_blank(close[1])) {
		char *end = close + 1;
		while (*end && !is_blank(*end))
			end++;
		*end = '\0';
		parser_error(p, s, "unexpected text after closing quote");
		return NULL;
	}
	*close = '\0';
	*word = s + 1;
	return close + 1;
}

/* Split a line in place. `#` at the start of a word begins a comment. */
int parser_split(struct parser *p, char *s)
{
	p->n_words = p->pos = 0;
	for (;;) {
		char *word;
		while (is_blank(*s))
			s++;
		if (*s == '\0' || *s == '#')
			return 0;
		if (*s == '\'' || *s == '"') {
			s = split_quoted(p, s, &word);
			if (!s)
				return -EINVAL;
		} else {
			word = s;
			while (*s && !is_blank(*s))
				s++;
			if (*s)
				*s++ = '\0';
		}
		if (p->n_words == PARSER_MAX_WORDS)
			return parser_error(p, word, "too many words on one line (at most %d)",
					    PARSER_MAX_WORDS);
		p->words[p->n_words++] = word;
	}
}

const char *parser_prev(const struct parser *p)
{
	return p->pos ? p->words[p->pos - 1] : "";
}

const char *parser_value(struct parser *p, const char *expected)
{
	if (p->pos == p->n_words) {
		parser_error(p, parser_prev(p), "missing value, expected %s", expected);
		return NULL;
	}
	return p->words[p->pos++];
}

/* "a, b, c" from strings stride bytes apart up to a NULL one: a plain list
 * of names, or the name field of each entry of a keyword table. */
static void join_names(char *buf, size_t size, const char *const *names, size_t stride)
{
	size_t used = 0;
	buf[0] = '\0';
	for (const char *const *n = names; *n; n = (const char *const *)((const char *)n + stride)) {
		int len = snprintf(buf + used, size - used, "%s%s", used ? ", " : "", *n);
		if (len < 0 || (size_t)len >= size - used)
			return;
		used += (size_t)len;
	}
}

int parser_dispatch(struct parser *p, const struct keyword *table)
{
	char list[512];
	const char *word = p->pos < p->n_words ? p->words[p->pos++] : NULL;

	for (const struct keyword *kw = table; word && kw->name; kw++)
		if (strcmp(word, kw->name) == 0)
			return kw->parse(p, kw);
	join_names(list, sizeof(list), &table->name, sizeof(*table));
	if (!word)
		return parser_error(p, parser_prev(p), "incomplete command, expected one of: %s",
				    list);
	return parser_error(p, word, "unknown keyword, expected one of: %s", list);
}

int parser_number(struct parser *p, const char *word, uint64_t lo, uint64_t hi, uint64_t *value)
{
	if (word[0] == '\0' || strspn(word, "0123456789") != strlen(word))
		return parser_error(p, word, "invalid number, expected %" PRIu64 "-%" PRIu64, lo,
				    hi);
	errno = 0;
	unsigned long long v = strtoull(word, NULL, 10);
	if (errno == ERANGE || v < lo || v > hi)
		return parser_error(p, word, "out of range, expected %" PRIu64 "-%" PRIu64, lo, hi);
	*value = v;
	return 0;
}

int parser_ifname(struct parser *p, const char **name)
{
	const char *w = parser_value(p, "an interface name");
	if (!w)
		return -EINVAL;
	/* The kernel's dev_valid_name(): what a link may be called. */
	if (strlen(w) >= IFNAMSIZ)
		return parser_error(p, w, "interface name longer than %d characters", IFNAMSIZ - 1);
	if (w[0] == '\0' || strcmp(w, ".") == 0 || strcmp(w, "..") == 0 || strpbrk(w, "/: \t"))
		return parser_error(p, w, "invalid interface name");
	*name = w;
	return 0;
}

int parser_prefix(struct parser *p, struct ip_prefix *prefix, const char **word)
{
	char text[IP_PREFIX_STRLEN];
	struct ip_addr given;
	const char *w = parser_value(p, "an IPv4 or IPv6 prefix");

	if (!w)
		return -EINVAL;
	if (ip_prefix_parse(w, prefix) < 0)
		return parser_error(p, w, "invalid IP prefix");
	/* Like VyOS, refuse host bits rather than silently dropping them. */
	snprintf(text, sizeof(text), "%.*s", (int)strcspn(w, "/"), w);
	if (ip_addr_parse(text, &given) < 0 || !ip_addr_equal(&given, &prefix->addr))
		return parser_error(p, w, "host bits set, did you mean %s?",
				    format_ip_prefix(text, sizeof(text), prefix));
	*word = w;
	return 0;
}

int parser_tag_name(struct parser *p, const char **name)
{
	const char *w = parser_value(p, "a tag name");
	if (!w)
		return -EINVAL;
	if (w[0] == '\0')
		return parser_error(p, w, "empty tag-name");
	if (strlen(w) >= CONFIG_TAG_LEN)
		return parser_error(p, w, "tag-name longer than %d characters", CONFIG_TAG_LEN - 1);
	*name = w;
	return 0;
}

int parser_rule_number(struct parser *p, uint32_t *number)
{
	uint64_t v;
	const char *w = parser_value(p, "a rule number 1-4294967295");
	if (!w || parser_number(p, w, 1, UINT32_MAX, &v))
		return -EINVAL;
	*number = (uint32_t)v;
	return 0;
}

/* ---- sorted dynamic arrays ---- */

size_t parser_bsearch(const void *base, size_t n, size_t size, const void *key,
		      int (*cmp)(const void *key, const void *elem), bool *found)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp(key, (const char *)base + mid * size);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*found = false;
	return lo;
}

void *parser_insert(struct parser *p, void **base, size_t *n, size_t *cap, size_t size, size_t at)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		void *grown = ncap <= SIZE_MAX / size ? realloc(*base, ncap * size) : NULL;
		if (!grown) {
			parser_error(p, parser_prev(p), "out of memory");
			return NULL;
		}
		*base = grown;
		*cap = ncap;
	}
	char *slot = (char *)*base + at * size;
	memmove(slot + size, slot, (*n - at) * size);
	memset(slot, 0, size);
	(*n)++;
	return slot;
}

/* ---- leaf parsers ---- */

int parser_node(struct parser *p, const struct keyword *kw)
{
	return parser_dispatch(p, kw->children);
}

int parser_leaf_flag(struct parser *p, const struct keyword *kw)
{
	*(bool *)parser_field(p, kw) = true;
	return 0;
}

static int number_value(struct parser *p, const struct keyword *kw, uint64_t *value)
{
	char expected[64];
	snprintf(expected, sizeof(expected), "a number %" PRIu64 "-%" PRIu64, kw->lo, kw->hi);
	const char *w = parser_value(p, expected);
	return w ? parser_number(p, w, kw->lo, kw->hi, value) : -EINVAL;
}

int parser_leaf_u16(struct parser *p, const struct keyword *kw)
{
	uint64_t v;
	int rc = number_value(p, kw, &v);
	if (rc == 0)
		*(uint16_t *)parser_field(p, kw) = (uint16_t)v;
	return rc;
}

int parser_leaf_u32(struct parser *p, const struct keyword *kw)
{
	uint64_t v;
	int rc = number_value(p, kw, &v);
	if (rc == 0)
		*(uint32_t *)parser_field(p, kw) = (uint32_t)v;
	return rc;
}

int parser_leaf_int(struct parser *p, const struct keyword *kw)
{
	uint64_t v;
	int rc = number_value(p, kw, &v);
	if (rc == 0)
		*(int *)parser_field(p, kw) = (int)v;
	return rc;
}

/* A ring size: a power of two (DPDK and AF_XDP rings need one); 0 if kw->lo is 0. */
int parser_leaf_ring(struct parser *p, const struct keyword *kw)
{
	uint64_t v;
	int rc = number_value(p, kw, &v);
	if (rc)
		return rc;
	if (v != 0 && (v < PARSER_RING_MIN || (v & (v - 1))))
		return parser_error(p, parser_prev(p), "not a power of two between %d and %d",
				    PARSER_RING_MIN, PARSER_RING_MAX);
	*(uint16_t *)parser_field(p, kw) = (uint16_t)v;
	return 0;
}

int parser_leaf_choice(struct parser *p, const struct keyword *kw)
{
	char list[256], expected[300];
	join_names(list, sizeof(list), kw->names, sizeof(*kw->names));
	snprintf(expected, sizeof(expected), "one of: %s", list);
	const char *w = parser_value(p, expected);
	if (!w)
		return -EINVAL;
	for (int i = 0; kw->names[i]; i++) {
		if (strcmp(w, kw->names[i]) == 0) {
			*(int *)parser_field(p, kw) = i;
			return 0;
		}
	}
	return parser_error(p, w, "invalid value, expected %s", expected);
}

/* A text into a char array of kw->hi bytes. */
int parser_leaf_text(struct parser *p, const struct keyword *kw)
{
	const char *w = parser_value(p, "a text");
	if (!w)
		return -EINVAL;
	if (strlen(w) >= kw->hi)
		return parser_error(p, w, "longer than %" PRIu64 " characters", kw->hi - 1);
	strcpy(parser_field(p, kw), w);
	return 0;
}

