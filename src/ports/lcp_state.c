/*
 * The linux-cp state file: what every taken-over device looked like before
 * espd touched it, so that a crash at any moment can be repaired. One line
 * per record, "kind key value key value ..." (the iface line is one line):
 *
 *   iface name eth1 ifindex 7 phys espd-p7 mac 02:00:00:00:00:01 mtu 1500 flags 0x1003
 *         disable_ipv6 0 fence nft nft espd gro on gro_hw unsupported lro unsupported
 *         gso on tso on tso_ecn on tso_mangleid on tso6 off tso_accecn unsupported
 *   addr local 192.0.2.1 prefixlen 24 broadcast 192.0.2.255 scope 0 flags 0x80 valid forever preferred forever label eth1
 *   route dst 10.0.0.0/8 gateway 192.0.2.254 table 254 metric 0 flags 0x0 protocol 4 scope 0 type 1 tos 0
 *
 * addr and route lines belong to the iface line above them. Names are
 * written with %XX escapes for anything but printable non-space ASCII.
 *
 * The fence is "fence nft" with "nft <table>", "fence tc", or absent (no
 * fence). Version 1 files have no "fence" word: "nft <table>" alone means
 * nftables there. Each offload of LCP_OFFLOAD_LIST is "on", "off" or
 * "unsupported" (left alone on restore), as is one a file does not name.
 */
#include "ports/lcp_internal.h"
#include "common/hex.h"
#include "common/number.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *const fence_words[] = {
	[LCP_FENCE_NONE] = "none", [LCP_FENCE_NFT] = "nft", [LCP_FENCE_TC] = "tc",
};
static const char *const offload_words[LCP_OFFLOADS] = {
#define OFFLOAD_WORD(id, word, feature) [LCP_OFFLOAD_##id] = word,
	LCP_OFFLOAD_LIST(OFFLOAD_WORD)
#undef OFFLOAD_WORD
};
static const char *const offload_states[] = {
	[LCP_OFFLOAD_UNSUPPORTED] = "unsupported", [LCP_OFFLOAD_OFF] = "off", [LCP_OFFLOAD_ON] = "on",
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define STATE_HEADER "# espd linux-cp state v2: kernel devices taken over; espd --restore puts them back\n"

/* ---- writing ---- */

static void put_name(FILE *f, const char *key, const char *name)
{
	fprintf(f, " %s ", key);
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (*p <= ' ' || *p > '~' || *p == '%')
			fprintf(f, "%%%02x", *p);
		else
			fputc(*p, f);
	}
}

static void put_addr(FILE *f, const char *key, const struct ip_addr *addr)
{
	char buf[IP_ADDR_STRLEN];
	if (addr->family)
		fprintf(f, " %s %s", key, format_ip_addr(buf, sizeof(buf), addr));
}

static void put_lifetime(FILE *f, const char *key, uint32_t seconds)
{
	if (seconds == LCP_LIFETIME_FOREVER)
		fprintf(f, " %s forever", key);
	else
		fprintf(f, " %s %u", key, seconds);
}

static void write_iface(FILE *f, const struct lcp_saved *s)
{
	fputs("iface", f);
	put_name(f, "name", s->name);
	fprintf(f, " ifindex %d", s->ifindex);
	put_name(f, "phys", s->phys_name);
	fprintf(f, " mac %02x:%02x:%02x:%02x:%02x:%02x mtu %u flags 0x%x disable_ipv6 %d",
		s->mac[0], s->mac[1], s->mac[2], s->mac[3], s->mac[4], s->mac[5],
		s->mtu, s->flags, s->disable_ipv6);
	if (s->fence != LCP_FENCE_NONE)
		fprintf(f, " fence %s", fence_words[s->fence]);
	if (s->fence == LCP_FENCE_NFT)
		put_name(f, "nft", s->nft_table);
	for (size_t k = 0; k < LCP_OFFLOADS; k++)
		fprintf(f, " %s %s", offload_words[k], offload_states[s->offloads[k]]);
	fputc('\n', f);
}

static void write_addr(FILE *f, const struct lcp_addr *a)
{
	fputs("addr", f);
	put_addr(f, "local", &a->local);
	fprintf(f, " prefixlen %u", a->prefixlen);
	put_addr(f, "peer", &a->peer);
	put_addr(f, "broadcast", &a->broadcast);
	fprintf(f, " scope %u flags 0x%x", a->scope, a->flags);
	if (a->proto)
		fprintf(f, " proto %u", a->proto);
	if (a->metric)
		fprintf(f, " metric %u", a->metric);
	put_lifetime(f, "valid", a->valid_lft);
	put_lifetime(f, "preferred", a->preferred_lft);
	if (a->label[0])
		put_name(f, "label", a->label);
	fputc('\n', f);
}

static void write_route(FILE *f, const struct lcp_route *r)
{
	char buf[IP_PREFIX_STRLEN];

	fprintf(f, "route dst %s", format_ip_prefix(buf, sizeof(buf), &r->dst));
	if (r->src.len)
		fprintf(f, " src %s", format_ip_prefix(buf, sizeof(buf), &r->src));
	put_addr(f, "gateway", &r->gateway);
	put_addr(f, "prefsrc", &r->prefsrc);
	fprintf(f, " table %u metric %u flags 0x%x protocol %u scope %u type %u tos %u",
		r->table, r->metric, r->flags, r->protocol, r->scope, r->type, r->tos);
	if (r->pref >= 0)
		fprintf(f, " pref %d", r->pref);
	if (r->metrics_len) {
		fputs(" metrics ", f);
		for (size_t i = 0; i < r->metrics_len; i++)
			fprintf(f, "%02x", r->metrics[i]);
	}
	fputc('\n', f);
}

int lcp_state_write(FILE *f, const struct lcp_saved *saved, size_t n)
{
	fputs(STATE_HEADER, f);
	for (size_t i = 0; i < n; i++) {
		write_iface(f, &saved[i]);
		for (size_t j = 0; j < saved[i].n_addrs; j++)
			write_addr(f, &saved[i].addrs[j]);
		for (size_t j = 0; j < saved[i].n_routes; j++)
			write_route(f, &saved[i].routes[j]);
	}
	return ferror(f) ? -EIO : 0;
}

static void state_path(char *buf, size_t size, const char *state_dir, const char *suffix)
{
	snprintf(buf, size, "%s/%s%s", state_dir, LCP_STATE_FILE, suffix);
}

/* fsync the directory so the rename itself survives a power cut. */
static void sync_dir(const char *state_dir)
{
	int fd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

static int state_fail(const char *what, const char *path, int rc)
{
	fprintf(stderr, "espd: lcp: %s %s failed: %s\n", what, path, strerror(-rc));
	return rc;
}

int lcp_state_save(const char *state_dir, const struct lcp_saved *saved, size_t n)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	int fd, rc;
	FILE *f;

	state_path(path, sizeof(path), state_dir, "");
	state_path(tmp, sizeof(tmp), state_dir, ".tmp");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return state_fail("writing", tmp, -errno);
	f = fdopen(fd, "w");
	if (!f) {
		rc = -errno;
		close(fd);
		goto fail;
	}
	rc = lcp_state_write(f, saved, n);
	if (fflush(f) != 0 || fsync(fd) != 0)
		rc = -errno;
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc < 0)
		goto fail;
	sync_dir(state_dir);
	return 0;
fail:
	unlink(tmp);
	return state_fail("writing", path, rc);
}

int lcp_state_remove(const char *state_dir)
{
	char path[PATH_MAX];

	state_path(path, sizeof(path), state_dir, "");
	if (unlink(path) != 0 && errno != ENOENT)
		return state_fail("removing", path, -errno);
	sync_dir(state_dir);
	return 0;
}

/* ---- reading ---- */

static int get_name(const char *text, char *out, size_t size)
{
	size_t n = 0;

	for (const char *p = text; *p; p++) {
		int c = (unsigned char)*p;
		if (c == '%') {
			int hi = hex_digit(p[1]), lo = hi < 0 ? -1 : hex_digit(p[2]);
			if (lo < 0)
				return -EINVAL;
			c = hi << 4 | lo;
			p += 2;
		}
		if (c == 0 || n + 1 >= size)
			return -EINVAL;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return n ? 0 : -EINVAL;
}

static int get_u32(const char *text, uint32_t *out)
{
	uint64_t v;
	int rc = number_parse(text, 0, UINT32_MAX, &v);
	*out = rc == 0 ? (uint32_t)v : 0;
	return rc;
}

static int get_u8(const char *text, uint8_t *out)
{
	uint64_t v;
	int rc = number_parse(text, 0, UINT8_MAX, &v);
	*out = rc == 0 ? (uint8_t)v : 0;
	return rc;
}

static int get_lifetime(const char *text, uint32_t *out)
{
	if (strcmp(text, "forever") == 0) {
		*out = LCP_LIFETIME_FOREVER;
		return 0;
	}
	return get_u32(text, out);
}

static int get_mac(const char *text, uint8_t mac[6])
{
	unsigned b[6];
	int used = 0;

	if (sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &used) != 6 || text[used] != '\0')
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

static int get_hex(const char *text, uint8_t *out, uint16_t *len, size_t max)
{
	size_t n;
	int rc = hex_decode(text, strlen(text), out, max, &n);

	if (rc < 0)
		return -EINVAL;
	*len = (uint16_t)n;
	return 0;
}

static int get_int01(const char *text, int *out)
{
	if (strcmp(text, "-1") == 0 || strcmp(text, "0") == 0 || strcmp(text, "1") == 0) {
		*out = atoi(text);
		return 0;
	}
	return -EINVAL;
}

/* Which of words[n] text is, or -EINVAL. */
static int get_word(const char *text, const char *const words[], size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(text, words[i]) == 0)
			return (int)i;
	return -EINVAL;
}

static int iface_set(struct lcp_saved *s, const char *key, const char *val)
{
	uint64_t ifindex = 0;

	if (strcmp(key, "name") == 0)
		return get_name(val, s->name, sizeof(s->name));
	if (strcmp(key, "phys") == 0)
		return get_name(val, s->phys_name, sizeof(s->phys_name));
	if (strcmp(key, "ifindex") == 0) {
		int rc = number_parse(val, 0, INT_MAX, &ifindex);
		s->ifindex = (int)ifindex;
		return rc == 0 && ifindex > 0 ? 0 : -EINVAL;
	}
	if (strcmp(key, "mac") == 0)
		return get_mac(val, s->mac);
	if (strcmp(key, "mtu") == 0)
		return get_u32(val, &s->mtu);
	if (strcmp(key, "flags") == 0)
		return get_u32(val, &s->flags);
	if (strcmp(key, "disable_ipv6") == 0)
		return get_int01(val, &s->disable_ipv6);
	if (strcmp(key, "nft") == 0) { /* checked: it goes into an nft script */
		if (!lcp_fence_table_valid(val))
			return -EINVAL;
		memcpy(s->nft_table, val, strlen(val) + 1);
		return 0;
	}
	if (strcmp(key, "fence") == 0) {
		int fence = get_word(val, fence_words, ARRAY_LEN(fence_words));
		s->fence = fence < 0 ? LCP_FENCE_NONE : (enum lcp_fence)fence;
		return fence < 0 ? fence : 0;
	}
	for (size_t k = 0; k < LCP_OFFLOADS; k++)
		if (strcmp(key, offload_words[k]) == 0) {
			int state = get_word(val, offload_states, ARRAY_LEN(offload_states));
			s->offloads[k] = state < 0 ? LCP_OFFLOAD_UNSUPPORTED : (uint8_t)state;
			return state < 0 ? state : 0;
		}
	return -ENOENT;
}

static int addr_set(struct lcp_addr *a, const char *key, const char *val)
{
	if (strcmp(key, "local") == 0)
		return ip_addr_parse(val, &a->local);
	if (strcmp(key, "peer") == 0)
		return ip_addr_parse(val, &a->peer);
	if (strcmp(key, "broadcast") == 0)
		return ip_addr_parse(val, &a->broadcast);
	if (strcmp(key, "prefixlen") == 0)
		return get_u8(val, &a->prefixlen);
	if (strcmp(key, "scope") == 0)
		return get_u8(val, &a->scope);
	if (strcmp(key, "flags") == 0)
		return get_u32(val, &a->flags);
	if (strcmp(key, "proto") == 0)
		return get_u8(val, &a->proto);
	if (strcmp(key, "metric") == 0)
		return get_u32(val, &a->metric);
	if (strcmp(key, "valid") == 0)
		return get_lifetime(val, &a->valid_lft);
	if (strcmp(key, "preferred") == 0)
		return get_lifetime(val, &a->preferred_lft);
	if (strcmp(key, "label") == 0)
		return get_name(val, a->label, sizeof(a->label));
	return -ENOENT;
}

static int route_set(struct lcp_route *r, const char *key, const char *val)
{
	if (strcmp(key, "dst") == 0)
		return ip_prefix_parse(val, &r->dst);
	if (strcmp(key, "src") == 0)
		return ip_prefix_parse(val, &r->src);
	if (strcmp(key, "gateway") == 0)
		return ip_addr_parse(val, &r->gateway);
	if (strcmp(key, "prefsrc") == 0)
		return ip_addr_parse(val, &r->prefsrc);
	if (strcmp(key, "table") == 0)
		return get_u32(val, &r->table);
	if (strcmp(key, "metric") == 0)
		return get_u32(val, &r->metric);
	if (strcmp(key, "flags") == 0)
		return get_u32(val, &r->flags);
	if (strcmp(key, "protocol") == 0)
		return get_u8(val, &r->protocol);
	if (strcmp(key, "scope") == 0)
		return get_u8(val, &r->scope);
	if (strcmp(key, "type") == 0)
		return get_u8(val, &r->type);
	if (strcmp(key, "tos") == 0)
		return get_u8(val, &r->tos);
	if (strcmp(key, "pref") == 0) {
		uint8_t pref;
		int rc = get_u8(val, &pref);
		r->pref = pref;
		return rc;
	}
	if (strcmp(key, "metrics") == 0)
		return get_hex(val, r->metrics, &r->metrics_len, sizeof(r->metrics));
	return -ENOENT;
}

struct reader {
	struct lcp_saved *saved;
	size_t n;
	char why[80]; /* what is wrong with the line, for the error message */
};

enum record { REC_IFACE, REC_ADDR, REC_ROUTE };

/* Start the record a line describes; returns its kind or -errno. */
static int record_start(struct reader *rd, const char *kind, void **item)
{
	struct lcp_saved *cur = rd->n ? &rd->saved[rd->n - 1] : NULL;

	if (strcmp(kind, "iface") == 0) {
		struct lcp_saved *s = lcp_array_append(&rd->saved, &rd->n, sizeof(*s));
		if (!s)
			return -ENOMEM;
		s->disable_ipv6 = -1;
		*item = s;
		return REC_IFACE;
	}
	if (strcmp(kind, "addr") == 0 && cur) {
		*item = lcp_array_append(&cur->addrs, &cur->n_addrs, sizeof(struct lcp_addr));
		return *item ? REC_ADDR : -ENOMEM;
	}
	if (strcmp(kind, "route") == 0 && cur) {
		struct lcp_route *r = lcp_array_append(&cur->routes, &cur->n_routes, sizeof(*r));
		if (!r)
			return -ENOMEM;
		r->pref = -1;
		*item = r;
		return REC_ROUTE;
	}
	snprintf(rd->why, sizeof(rd->why), cur ? "unknown record '%.40s'" : "'%.40s' before any iface",
		 kind);
	return -EINVAL;
}

/* Complete a record (a version 1 iface with an nft table has the nftables
 * fence) and name the words it cannot do without, if any are missing. */
static const char *record_finish(int kind, void *item)
{
	struct lcp_saved *s = item;
	const struct lcp_addr *a = item;
	const struct lcp_route *r = item;

	switch (kind) {
	case REC_IFACE: {
		/* The phys name goes into nft and tc commands: only ours is accepted. */
		char phys[LCP_IFNAMSIZ];
		lcp_phys_name(s->ifindex, phys);
		if (s->fence == LCP_FENCE_NONE && s->nft_table[0])
			s->fence = LCP_FENCE_NFT;
		if (s->fence == LCP_FENCE_NFT && !s->nft_table[0])
			return "nft table for its nft fence";
		return s->name[0] && s->ifindex > 0 && strcmp(s->phys_name, phys) == 0
			       ? NULL : "name, ifindex or matching phys";
	}
	case REC_ADDR:
		return a->local.family ? NULL : "local";
	default:
		return r->dst.addr.family && r->table ? NULL : "dst or table";
	}
}

static int parse_line(struct reader *rd, char *line)
{
	char *save, *kind = strtok_r(line, " \t\n", &save), *key, *val;
	const char *missing;
	void *item = NULL;
	int rec, rc;

	if (!kind || kind[0] == '#')
		return 0;
	rec = record_start(rd, kind, &item);
	if (rec < 0)
		return rec;
	while ((key = strtok_r(NULL, " \t\n", &save))) {
		val = strtok_r(NULL, " \t\n", &save);
		rc = !val		 ? -EINVAL
		     : rec == REC_IFACE ? iface_set(item, key, val)
		     : rec == REC_ADDR	 ? addr_set(item, key, val)
					 : route_set(item, key, val);
		if (rc < 0) {
			snprintf(rd->why, sizeof(rd->why),
				 !val ? "no value for '%.40s'" : rc == -ENOENT ? "unknown word '%.40s'"
									: "bad value for '%.40s'",
				 key);
			return -EINVAL;
		}
	}
	if ((missing = record_finish(rec, item))) {
		snprintf(rd->why, sizeof(rd->why), "%s record without %s", kind, missing);
		return -EINVAL;
	}
	return 0;
}

int lcp_state_read(FILE *f, const char *what, struct lcp_saved **saved, size_t *n)
{
	struct reader rd = { NULL, 0, "" };
	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	int rc = 0;

	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		rc = parse_line(&rd, line);
		if (rc < 0) {
			fprintf(stderr, "espd: lcp: %s line %u: %s\n", what, lineno,
				rc == -ENOMEM ? strerror(ENOMEM) : rd.why);
			break;
		}
	}
	free(line);
	if (rc == 0 && ferror(f))
		rc = -EIO;
	if (rc < 0) {
		lcp_state_free(rd.saved, rd.n);
		return rc;
	}
	*saved = rd.saved;
	*n = rd.n;
	return 0;
}

int lcp_state_load(const char *state_dir, struct lcp_saved **saved, size_t *n)
{
	char path[PATH_MAX];
	FILE *f;
	int rc;

	state_path(path, sizeof(path), state_dir, "");
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ENOENT : state_fail("reading", path, -errno);
	rc = lcp_state_read(f, path, saved, n);
	fclose(f);
	return rc;
}

void lcp_state_free(struct lcp_saved *saved, size_t n)
{
	for (size_t i = 0; i < n; i++)
		lcp_saved_free(&saved[i]);
	free(saved);
}
