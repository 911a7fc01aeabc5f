/*
 * Parser internals shared by config_parse.c (words, keyword tables, value
 * checks), config.c (settings, whole file), config_acl.c (IP ACLs) and
 * config_macip.c (MAC ACLs). Not part of the config API.
 *
 * A line is split into words, then walked down a tree of keyword tables;
 * each keyword names the function that parses the rest of the line. Objects
 * are collected as drafts that remember the line (and word) where each part
 * was set, so that checks needing the whole file (a rule without action, a
 * binding to an undefined tag) still report a precise place. The public
 * config is built from the drafts only when every check has passed.
 */
#ifndef ESPD_CONFIG_CONFIG_PARSE_H
#define ESPD_CONFIG_CONFIG_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

#define PARSER_MAX_WORDS 32
#define PARSER_RING_MIN 64    /* smallest ring size */
#define PARSER_RING_MAX 16384 /* largest ring size */

struct parser;

struct keyword {
	const char *name;
	int (*parse)(struct parser *p, const struct keyword *kw);
	const struct keyword *children; /* table of a node, ends with name NULL */
	size_t offset;                  /* field in p->obj set by a leaf parser */
	uint64_t lo, hi;                /* range of a number; size of a text field */
	const char *const *names;       /* values of a choice, ends with NULL */
};

/* Where a value was set, to report it in checks done at end of file. */
struct origin {
	uint32_t line; /* 0: never set */
	char word[IP_PREFIX_STRLEN];
};

struct iface_draft {
	struct config_interface ifc;
	uint32_t dpdk_options_line; /* first dpdk-options line, 0: none */
	uint32_t xdp_options_line;  /* first xdp-options line, 0: none */
};

struct rule_draft {
	struct acl_rule rule;
	bool has_action;
	struct origin protocol, src, dst, sport, dport, tcp_flags;
};

struct acl_draft {
	struct acl_list list; /* rules and n_rules are filled when built */
	struct rule_draft *rules;
	size_t n_rules, cap_rules;
};

struct binding_draft {
	struct acl_binding binding;
	uint32_t line;
};

struct macip_rule_draft {
	struct macip_rule rule;
	bool has_action;
};

struct macip_draft {
	struct macip_list list;
	struct macip_rule_draft *rules;
	size_t n_rules, cap_rules;
};

struct macip_binding_draft {
	struct macip_binding binding;
	uint32_t line;
};

struct parser {
	const char *file;
	uint32_t line;
	char *words[PARSER_MAX_WORDS];
	size_t n_words, pos;
	char *err;
	size_t err_size;
	uint32_t deferred_line; /* line of the end-of-file error kept, 0: none */
	void *obj;              /* object the leaf parsers write into */

	struct config cfg; /* scalar settings; arrays are built from drafts */
	struct iface_draft *ifaces;
	size_t n_ifaces, cap_ifaces;
	struct acl_draft *acls;
	size_t n_acls, cap_acls;
	struct binding_draft *bindings;
	size_t n_bindings, cap_bindings;
	struct macip_draft *macips;
	size_t n_macips, cap_macips;
	struct macip_binding_draft *macip_bindings;
	size_t n_macip_bindings, cap_macip_bindings;

	/* Objects named earlier on the current line. */
	struct iface_draft *iface;
	struct acl_draft *acl;
	struct rule_draft *rule;
	struct macip_draft *macip;
	struct macip_rule_draft *macip_rule;
	struct binding_draft binding;
};

/* Split a line into p->words in place; quotes and comments as in VyOS. */
int parser_split(struct parser *p, char *line);
/* Report an error on the current line; returns -EINVAL. */
int parser_error(struct parser *p, const char *word, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Keep an end-of-file error unless one on an earlier line is kept already. */
void parser_defer_error(struct parser *p, uint32_t line, const char *word,
			const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The word before the next one: the keyword a missing value belongs to. */
const char *parser_prev(const struct parser *p);
/* Next word, or NULL after reporting "missing value, expected <expected>". */
const char *parser_value(struct parser *p, const char *expected);
/* Parse the next word with the table; reports unknown and missing keywords. */
int parser_dispatch(struct parser *p, const struct keyword *table);
/* A decimal number within lo..hi: 0 or -EINVAL (reported). */
int parser_number(struct parser *p, const char *word, uint64_t lo, uint64_t hi,
		  uint64_t *value);
/* Next word as a valid kernel interface name. */
int parser_ifname(struct parser *p, const char **name);
/* Next word as an ACL tag name. */
int parser_tag_name(struct parser *p, const char **name);
/* Next word as a rule number 1-4294967295. */
int parser_rule_number(struct parser *p, uint32_t *number);
/* Next word as a prefix without host bits. */
int parser_prefix(struct parser *p, struct ip_prefix *prefix, const char **word);
/* Index where key is or would be inserted in a sorted array. */
size_t parser_bsearch(const void *base, size_t n, size_t size, const void *key,
		      int (*cmp)(const void *key, const void *elem), bool *found);
/* Insert a zeroed element at index at; NULL (reported) when out of memory. */
void *parser_insert(struct parser *p, void **base, size_t *n, size_t *cap,
		    size_t size, size_t at);

/* The field of p->obj a leaf keyword writes. */
static inline void *parser_field(struct parser *p, const struct keyword *kw)
{
	return (char *)p->obj + kw->offset;
}

/* Leaf parsers writing into p->obj at kw->offset. */
int parser_node(struct parser *p, const struct keyword *kw);
int parser_leaf_flag(struct parser *p, const struct keyword *kw);
int parser_leaf_u16(struct parser *p, const struct keyword *kw);
int parser_leaf_u32(struct parser *p, const struct keyword *kw);
int parser_leaf_int(struct parser *p, const struct keyword *kw);
int parser_leaf_ring(struct parser *p, const struct keyword *kw);
int parser_leaf_choice(struct parser *p, const struct keyword *kw);
int parser_leaf_text(struct parser *p, const struct keyword *kw);

/* config_acl.c: `set vpp acl ...`, its end-of-file checks, and the build. */
int config_acl_parse(struct parser *p, const struct keyword *kw);
void config_acl_check(struct parser *p);
int config_acl_build(struct parser *p, struct config *cfg);
void config_acl_drafts_free(struct parser *p);
void config_acl_free(struct config *cfg);

/* config_macip.c: the same for `set vpp acl mac ...`. */
extern const struct keyword config_macip_kw[];
void config_macip_check(struct parser *p);
int config_macip_build(struct parser *p, struct config *cfg);
void config_macip_drafts_free(struct parser *p);
void config_macip_free(struct config *cfg);

#endif
