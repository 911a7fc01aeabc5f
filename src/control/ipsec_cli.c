/*
 * `ipsec sa|policy add|del|flush` and `show ipsec sa|policy|tunnel`.
 * Parsing follows iproute2's ip xfrm grammar; validation follows what the
 * kernel accepts (algorithm names and ICV lengths of net/xfrm/xfrm_algo.c,
 * key lengths the crypto API's setkey takes); what espd can run is the
 * SAD's decision (an SA it cannot run is kept, unsupported). Key text is
 * wiped from the request words and the parse buffers on every path and
 * never appears in a reply.
 */
#include "control/ipsec_cli.h"

#include "common/hex.h"
#include "common/number.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <rte_byteorder.h>
#include "tables/path_mtu.h"
#include "tables/sad.h"
#include "tables/spd.h"

#define KEY_MAX 512 /* bytes: what ip xfrm has room for (XFRM_ALGO_KEY_BUF_SIZE) */
#define UDP_ENCAP_ESPINUDP 2

/* ---- The kernel's algorithms ---- */

struct kernel_alg {
	const char *name, *compat;
	uint8_t type;              /* enum esp_crypto_alg_type */
	uint16_t keys[3];          /* accepted key bits (first 0: see below), as the
				    * crypto API's setkey takes them: xfrm_algo.c's
				    * sadb_alg_minbits/maxbits are pfkey's only */
	uint16_t key_min, key_max; /* a range instead, when key_max != 0 */
	bool any_key;              /* any whole number of bytes, 0 too */
	uint16_t icv_full;         /* auth: digest bits */
	uint16_t icv_default;      /* auth: the kernel's truncation */
	uint16_t icvs[3];          /* aead: accepted ICV bits */
};

#define ENC(n, c, ...) { .name = n, .compat = c, .type = ESP_CRYPTO_ALG_ENC, __VA_ARGS__ }
#define AUTH(n, c, full, def, ...)                                                   \
	{ .name = n, .compat = c, .type = ESP_CRYPTO_ALG_AUTH, .icv_full = full,      \
	  .icv_default = def, __VA_ARGS__ }
#define AEAD(n, k0, k1, k2, i0, i1, i2)                                               \
	{ .name = n, .type = ESP_CRYPTO_ALG_AEAD, .keys = { k0, k1, k2 },              \
	  .icvs = { i0, i1, i2 } }

static const struct kernel_alg kernel_algs[] = {
	ENC("ecb(cipher_null)", "cipher_null", .keys = { 0 }),
	ENC("cbc(des)", "des", .keys = { 64 }),
	ENC("cbc(des3_ede)", "des3_ede", .keys = { 192 }),
	ENC("cbc(cast5)", "cast5", .key_min = 40, .key_max = 128),
	ENC("cbc(blowfish)", "blowfish", .key_min = 32, .key_max = 448),
	ENC("cbc(aes)", "aes", .keys = { 128, 192, 256 }),
	ENC("cbc(serpent)", "serpent", .key_min = 0, .key_max = 256),
	ENC("cbc(camellia)", "camellia", .keys = { 128, 192, 256 }),
	ENC("cbc(twofish)", "twofish", .keys = { 128, 192, 256 }),
	ENC("rfc3686(ctr(aes))", NULL, .keys = { 160, 224, 288 }),
	ENC("cbc(sm4)", "sm4", .keys = { 128 }),
	AUTH("digest_null", NULL, 0, 0, .any_key = true),
	AUTH("hmac(md5)", "md5", 128, 96, .any_key = true),
	AUTH("hmac(sha1)", "sha1", 160, 96, .any_key = true),
	AUTH("hmac(sha256)", "sha256", 256, 96, .any_key = true),
	AUTH("hmac(sha384)", "sha384", 384, 192, .any_key = true),
	AUTH("hmac(sha512)", "sha512", 512, 256, .any_key = true),
	AUTH("hmac(rmd160)", "rmd160", 160, 96, .any_key = true),
	AUTH("hmac(sm3)", "sm3", 256, 256, .any_key = true),
	/* Their setkey gives the key to their AES, which takes any AES key;
	 * the 128 bits of xfrm_algo.c (sadb_alg_minbits) are pfkey's only. */
	AUTH("xcbc(aes)", NULL, 128, 96, .keys = { 128, 192, 256 }),
	AUTH("cmac(aes)", NULL, 128, 96, .keys = { 128, 192, 256 }),
	AEAD("rfc4106(gcm(aes))", 160, 224, 288, 64, 96, 128),
	AEAD("rfc4309(ccm(aes))", 152, 216, 280, 64, 96, 128),
	AEAD("rfc4543(gcm(aes))", 160, 224, 288, 128, 0, 0),
	AEAD("rfc7539esp(chacha20,poly1305)", 288, 0, 0, 128, 0, 0),
};

static const struct kernel_alg *kernel_alg_find(uint8_t type, const char *name)
{
	for (size_t i = 0; i < RTE_DIM(kernel_algs); i++) {
		const struct kernel_alg *a = &kernel_algs[i];
		if (a->type == type && (strcmp(a->name, name) == 0 ||
					(a->compat && strcmp(a->compat, name) == 0)))
			return a;
	}
	return NULL;
}

/* "128, 192 or 256" */
static void list_text(const uint16_t *v, size_t n, char *buf, size_t size)
{
	size_t len = 0, count = 0;

	while (count < n && (v[count] || (count == 0 && n == 1)))
		count++;
	buf[0] = 0;
	for (size_t i = 0; i < count; i++)
		len += (size_t)snprintf(buf + len, len < size ? size - len : 0, "%s%u",
					i == 0 ? "" : i + 1 == count ? " or " : ", ", v[i]);
}

static bool key_bits_ok(const struct kernel_alg *a, unsigned bits, char *expect, size_t size)
{
	/* hmac_setkey takes any key, none too (RFC 2104 pads it with zeros),
	 * and null_hash_setkey ignores it. */
	if (a->any_key)
		return true;
	if (a->key_max) {
		snprintf(expect, size, "%u to %u", a->key_min, a->key_max);
		return bits >= a->key_min && bits <= a->key_max;
	}
	list_text(a->keys, a->keys[0] ? RTE_DIM(a->keys) : 1, expect, size);
	for (size_t i = 0; i < RTE_DIM(a->keys); i++)
		if (a->keys[i] == bits && (bits || i == 0))
			return true;
	return false;
}

/* ---- Words ---- */

struct parse {
	struct cli_out *out;
	const char *cmd;
	char **argv;
	int argc, at;
	/* iproute2's preferred_family: the family ip xfrm reads addresses in
	 * (0: either), which the words before give it, and the word that did. */
	uint8_t family;
	const char *family_word;
	/* The port and ICMP words of the selector being read, if any. */
	const char *port_word, *type_word;
};

static const char *peek(const struct parse *ps)
{
	return ps->at < ps->argc ? ps->argv[ps->at] : NULL;
}

static const char *take(struct parse *ps)
{
	return ps->at < ps->argc ? ps->argv[ps->at++] : NULL;
}

/* A long hex word may be key material typed in the wrong place. */
static const char *shown(const char *word)
{
	return strncmp(word, "0x", 2) == 0 && strlen(word) > 10 ? "0x..." : word;
}

static int __attribute__((format(printf, 3, 4)))
fail(struct parse *ps, const char *word, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return cli_error(ps->out, -EINVAL, "%s: '%s': %s", ps->cmd, shown(word), what);
}

static int value(struct parse *ps, const char *key, const char **v)
{
	*v = take(ps);
	return *v ? 0 : fail(ps, key, "missing value");
}

static int number(struct parse *ps, const char *key, uint64_t max, uint64_t *n)
{
	const char *v;

	if (value(ps, key, &v))
		return -EINVAL;
	if (number_parse_negatable(v, 0, max, n) < 0)
		return fail(ps, v, "bad value for '%s'", key);
	return 0;
}

static int u32_value(struct parse *ps, const char *key, uint32_t *out)
{
	uint64_t n = 0;
	int rc = number(ps, key, UINT32_MAX, &n);
	*out = (uint32_t)n;
	return rc;
}

static int u16_value(struct parse *ps, const char *key, uint16_t *out)
{
	uint64_t n = 0;
	int rc = number(ps, key, UINT16_MAX, &n);
	*out = (uint16_t)n;
	return rc;
}

/* What ip xfrm's words give the family it reads the next addresses in. */
static void family_given(struct parse *ps, uint8_t family, const char *word)
{
	ps->family = family;
	ps->family_word = word;
}

/*
 * A prefix as get_prefix reads it in ip xfrm's preferred family: any, all
 * and default are refused without one ("has an unrecognized address
 * family"), an address of the other family too.
 */
static int prefix_word(struct parse *ps, const char *v, const char *what,
		       struct ip_prefix *prefix)
{
	int rc = ip_prefix_parse_iproute2(v, ps->family, prefix);

	if (rc == -EAFNOSUPPORT)
		return fail(ps, v, "not an %s address, the family the '%s' before gives (as ip "
			    "xfrm reads it)", ps->family == AF_INET ? "IPv4" : "IPv6",
			    ps->family_word);
	if (rc)
		return fail(ps, v, "not %s", what);
	if (!prefix->addr.family)
		return fail(ps, v, "no address family to read it in: ip xfrm takes any, all and "
			    "default only after words that give one (a tmpl before a policy's "
			    "selector, a sel before an SA's src and dst)");
	return 0;
}

/* An SA's or template's address: xfrm_id_parse reads a prefix and keeps
 * its address, whatever the length. */
static int addr_value(struct parse *ps, const char *key, struct ip_addr *addr)
{
	struct ip_prefix prefix;
	const char *v;

	if (value(ps, key, &v) || prefix_word(ps, v, "an address", &prefix))
		return -EINVAL;
	*addr = prefix.addr;
	return 0;
}

/* A selector's address stays as given, host bits too: ip xfrm copies it
 * whole into struct xfrm_selector, xfrm_policy_insert and
 * xfrm_policy_bysel_ctx compare selectors whole, and only matching masks
 * it with the prefix length (addr4_match, addr_match). */
static int prefix_value(struct parse *ps, const char *key, struct ip_prefix *prefix)
{
	const char *v;

	if (value(ps, key, &v))
		return -EINVAL;
	return prefix_word(ps, v, "an address or prefix", prefix);
}

static const struct { const char *name; uint8_t proto; } protos[] = {
	{ "any", 0 }, { "icmp", IPPROTO_ICMP }, { "tcp", IPPROTO_TCP }, { "udp", IPPROTO_UDP },
	{ "gre", IPPROTO_GRE }, { "esp", IPPROTO_ESP }, { "ah", IPPROTO_AH },
	{ "ipv6-icmp", IPPROTO_ICMPV6 }, { "sctp", IPPROTO_SCTP }, { "dccp", IPPROTO_DCCP },
	{ "udplite", IPPROTO_UDPLITE }, { "mobility-header", IPPROTO_MH },
	{ "comp", IPPROTO_COMP }, { "ipip", IPPROTO_IPIP }, { "ipv6", IPPROTO_IPV6 },
};

static const char *proto_name(uint8_t proto, char *buf, size_t size)
{
	for (size_t i = 0; i < RTE_DIM(protos); i++)
		if (protos[i].proto == proto)
			return protos[i].name;
	snprintf(buf, size, "%u", proto);
	return buf;
}

static int proto_value(struct parse *ps, const char *key, uint8_t *proto)
{
	const char *v = peek(ps);
	uint64_t n;

	for (size_t i = 0; v && i < RTE_DIM(protos); i++) {
		if (strcmp(v, protos[i].name) == 0) {
			ps->at++;
			*proto = protos[i].proto;
			return 0;
		}
	}
	if (number(ps, key, 255, &n))
		return -EINVAL;
	*proto = (uint8_t)n;
	return 0;
}

/* "V", "V/M" or "V mask M"; a mark alone matches exactly. */
static int mark_value(struct parse *ps, uint32_t *v, uint32_t *m)
{
	const char *text;
	char *end;

	if (value(ps, "mark", &text))
		return -EINVAL;
	errno = 0;
	unsigned long long mark = strtoull(text, &end, 0), mask = UINT32_MAX;
	if (*end == '/')
		mask = strtoull(end + 1, &end, 0);
	if (errno || end == text || *end || mark > UINT32_MAX || mask > UINT32_MAX)
		return fail(ps, text, "bad value for 'mark'");
	*v = (uint32_t)mark;
	*m = (uint32_t)mask;
	if (peek(ps) && strcmp(peek(ps), "mask") == 0) {
		ps->at++;
		return u32_value(ps, "mask", m);
	}
	return 0;
}

static int mode_value(struct parse *ps, uint8_t *mode)
{
	const char *v;

	if (value(ps, "mode", &v))
		return -EINVAL;
	if (strcmp(v, "tunnel") == 0)
		*mode = SA_MODE_TUNNEL;
	else if (strcmp(v, "transport") == 0)
		*mode = SA_MODE_TRANSPORT;
	else
		return fail(ps, v, "mode must be tunnel or transport");
	return 0;
}

/* ---- Selectors (both SA "sel" and policies) ---- */

/* xfrm_selector_upspec_parse: a port selects that one port, port 0 none
 * (the mask stays 0: any port); an ICMP type or code is at most 255 and
 * selects itself, 0 too. */
static int port_value(struct parse *ps, const char *key, uint16_t *port, uint16_t *mask)
{
	bool typed = strcmp(key, "type") == 0 || strcmp(key, "code") == 0;
	const char *v = peek(ps);
	int rc = u16_value(ps, key, port);

	if (rc == 0 && typed && *port > UINT8_MAX)
		return fail(ps, v, "bad value for '%s': at most 255", key);
	if (rc == 0)
		*mask = typed || *port ? 0xffff : 0;
	if (typed)
		ps->type_word = key;
	else
		ps->port_word = key;
	return rc;
}

/* One selector word: 1 when consumed, 0 when not a selector word, < 0 on error. */
static int sel_word(struct parse *ps, const char *word, struct spd_selector *sel)
{
	int rc;

	if (strcmp(word, "src") == 0)
		rc = prefix_value(ps, word, &sel->src);
	else if (strcmp(word, "dst") == 0)
		rc = prefix_value(ps, word, &sel->dst);
	else if (strcmp(word, "proto") == 0)
		rc = proto_value(ps, word, &sel->proto);
	else if (strcmp(word, "sport") == 0 || strcmp(word, "type") == 0)
		rc = port_value(ps, word, &sel->sport, &sel->sport_mask);
	else if (strcmp(word, "dport") == 0 || strcmp(word, "code") == 0)
		rc = port_value(ps, word, &sel->dport, &sel->dport_mask);
	else if (strcmp(word, "dev") == 0)
		return fail(ps, word, "selectors on a device are not supported");
	else
		return 0;
	return rc < 0 ? rc : 1;
}

/* The family a selector's addresses give, 0 without one: what
 * xfrm_selector_parse leaves in sel->family. */
static uint8_t sel_family_given(const struct spd_selector *sel)
{
	return sel->dst.addr.family ? sel->dst.addr.family : sel->src.addr.family;
}

/* xfrm_selector_upspec_parse: ports only with the protocols that have
 * them (or none), ICMP type and code only with those that have them. */
static int upspec_check(struct parse *ps, const struct spd_selector *sel)
{
	char name[8];
	const char *port = ps->port_word, *type = ps->type_word;
	uint8_t p = sel->proto;

	ps->port_word = ps->type_word = NULL;
	if (port && p && p != IPPROTO_TCP && p != IPPROTO_UDP && p != IPPROTO_SCTP &&
	    p != IPPROTO_DCCP)
		return fail(ps, port, "only with proto tcp, udp, sctp or dccp (or none), as ip "
			    "xfrm takes it, not %s", proto_name(p, name, sizeof(name)));
	if (type && p != IPPROTO_ICMP && p != IPPROTO_ICMPV6 && p != IPPROTO_MH)
		return fail(ps, type, "only with proto icmp, ipv6-icmp or mobility-header, as ip "
			    "xfrm takes it, not %s", proto_name(p, name, sizeof(name)));
	return 0;
}

/* Both prefixes of one family; a missing one matches all of it. The kernel
 * needs a family, AF_INET when no address was given (as ip xfrm does). */
static int sel_finish(struct parse *ps, struct spd_selector *sel)
{
	uint8_t family = sel->src.addr.family ? sel->src.addr.family : sel->dst.addr.family;

	if (upspec_check(ps, sel))
		return -EINVAL;

	if (!family)
		family = AF_INET;
	if (sel->dst.addr.family && sel->dst.addr.family != family)
		return fail(ps, "dst", "address family differs from src");
	if (!sel->src.addr.family)
		sel->src = (struct ip_prefix){ .addr.family = family };
	if (!sel->dst.addr.family)
		sel->dst = (struct ip_prefix){ .addr.family = family };
	sel->family = family;
	return 0;
}

/* ---- SA commands ---- */

enum { ALG_ENC, ALG_AUTH, ALG_AEAD, ALG_N };

struct sa_cmd {
	struct sa_params p;
	uint8_t key[ALG_N][KEY_MAX];
	char name[ALG_N][SA_ALG_NAME_MAX];
	const struct kernel_alg *alg[ALG_N];
	uint64_t seq_hi, oseq_hi; /* replay-seq-hi, replay-oseq-hi */
	bool has_src, has_dst, has_proto, has_spi, has_sel;
	bool in_id; /* within the words xfrm_id_parse reads */
};

/*
 * A key word as xfrm_algo_parse reads it: "0x" and hex digits, an odd
 * count read with a leading 0 digit; any other word, "0x" alone and the
 * empty word too, is the key bytes themselves.
 */
static int key_parse(const char *text, uint8_t *key, size_t *len)
{
	size_t n = strlen(text), odd;

	if (n <= 2 || strncmp(text, "0x", 2) != 0) {
		if (n > KEY_MAX)
			return -E2BIG;
		memcpy(key, text, n);
		*len = n;
		return 0;
	}
	text += 2;
	n -= 2;
	odd = n % 2;
	if ((n + 1) / 2 > KEY_MAX)
		return -E2BIG;
	if (odd) {
		int digit = hex_digit(text[0]);
		if (digit < 0)
			return -EINVAL;
		key[0] = (uint8_t)digit;
	}
	if (hex_decode(text + odd, n - odd, key + odd, KEY_MAX - odd, len) != 0)
		return -EINVAL;
	*len += odd;
	return 0;
}

static int icv_check(struct parse *ps, const struct kernel_alg *a, uint32_t bits)
{
	char expect[32];

	/* attach_auth_trunc keeps up to the digest's bits as given, of which
	 * esp_init_authenc uses bits / 8 bytes; crypto_aead_setauthsize takes
	 * no ICV of 0 bytes (0 bits is the default). */
	if (a->type == ESP_CRYPTO_ALG_AUTH) {
		if (bits > a->icv_full)
			return fail(ps, a->name, "truncation %u bits; %s gives at most %u", bits,
				    a->name, a->icv_full);
		if (bits && bits < 8)
			return fail(ps, a->name, "truncation %u bits is an ICV of 0 bytes "
				    "(bits / 8), which the kernel refuses", bits);
		return 0;
	}
	for (size_t i = 0; i < RTE_DIM(a->icvs); i++)
		if (a->icvs[i] && a->icvs[i] == bits)
			return 0;
	list_text(a->icvs, RTE_DIM(a->icvs), expect, sizeof(expect));
	return fail(ps, a->name, "ICV %u bits; %s takes %s", bits, a->name, expect);
}

/* enc NAME KEY | auth NAME KEY | auth-trunc NAME KEY BITS | aead NAME KEY BITS */
static int alg_parse(struct parse *ps, struct sa_cmd *c, const char *kw)
{
	int slot = strcmp(kw, "enc") == 0 ? ALG_ENC : strcmp(kw, "aead") == 0 ? ALG_AEAD : ALG_AUTH;
	uint8_t type = slot == ALG_ENC ? ESP_CRYPTO_ALG_ENC :
		       slot == ALG_AUTH ? ESP_CRYPTO_ALG_AUTH : ESP_CRYPTO_ALG_AEAD;
	const char *name, *key;
	char expect[32];
	size_t len;
	uint32_t icv = 0;

	if (c->alg[slot])
		return fail(ps, kw, "given twice");
	if (value(ps, kw, &name))
		return -EINVAL;
	if (strncmp(name, "0x", 2) == 0)
		return fail(ps, kw, "missing algorithm name");
	const struct kernel_alg *a = kernel_alg_find(type, name);
	if (!a)
		return fail(ps, name, "unknown algorithm");
	key = take(ps);
	if (!key)
		return fail(ps, a->name, "missing key");
	int rc = key_parse(key, c->key[slot], &len);
	explicit_bzero((char *)key, strlen(key));
	if (rc == -E2BIG)
		return fail(ps, a->name, "key longer than %u bits", KEY_MAX * 8);
	if (rc)
		return fail(ps, a->name, "key is not valid hex");
	if (!key_bits_ok(a, (unsigned)len * 8, expect, sizeof(expect)))
		return fail(ps, a->name, "key is %zu bits; %s takes %s", len * 8, a->name, expect);
	if (strcmp(kw, "auth-trunc") == 0 || slot == ALG_AEAD) {
		if (u32_value(ps, kw, &icv) || icv_check(ps, a, icv))
			return -EINVAL;
	}
	/* auth, or auth-trunc's 0 (attach_auth_trunc): the kernel's truncation. */
	if (slot == ALG_AUTH && icv == 0) {
		icv = a->icv_default;
	}
	c->alg[slot] = a;
	snprintf(c->name[slot], sizeof(c->name[slot]), "%s", a->name);
	struct sa_alg_params *p = slot == ALG_ENC ? &c->p.enc : slot == ALG_AUTH ? &c->p.auth
										   : &c->p.aead;
	*p = (struct sa_alg_params){ .name = c->name[slot], .key = c->key[slot],
				     .key_bits = (uint16_t)(len * 8), .icv_bits = (uint16_t)icv };
	return 0;
}

struct flag_name {
	const char *name;
	uint32_t bit;
};

static const struct flag_name sa_flag_names[] = {
#define _(id, bit, name) { name, bit },
	foreach_sa_flag(_)
#undef _
};

static const struct flag_name policy_flag_names[] = {
#define _(id, bit, name) { name, bit },
	foreach_spd_policy_flag(_)
#undef _
};

/*
 * xfrm_state_flag_parse and xfrm_state_extra_flag_parse: "0x" and hex
 * digits is the whole set, in place of the flags given before; any other
 * word starts a list of names, empty when it is none (ip then reads that
 * word as the next keyword).
 */
static int flag_list(struct parse *ps, const char *key, const struct flag_name *names,
		     size_t n_names, uint32_t max, uint32_t *flags)
{
	const char *w = peek(ps);
	uint64_t n;

	if (!w)
		return fail(ps, key, "missing value");
	if (strlen(w) > 2 && strncmp(w, "0x", 2) == 0) {
		ps->at++;
		if (number_parse_negatable(w, 16, max, &n) < 0)
			return fail(ps, w, "bad value for '%s'", key);
		*flags = (uint32_t)n;
		return 0;
	}
	for (; (w = peek(ps)); ps->at++) {
		size_t i = 0;
		while (i < n_names && strcmp(w, names[i].name) != 0)
			i++;
		if (i == n_names)
			break;
		*flags |= names[i].bit;
	}
	return 0;
}

/* After an empty flag list, ip reads the word as a keyword. */
static int unknown_word(struct parse *ps, const char *w)
{
	if (ps->at >= 2 && (strcmp(ps->argv[ps->at - 2], "flag") == 0 ||
			    strcmp(ps->argv[ps->at - 2], "extra-flag") == 0))
		return fail(ps, w, "unknown %s", ps->argv[ps->at - 2]);
	return fail(ps, w, "unknown keyword");
}

/* `flag`: XFRM_STATE_* or XFRM_POLICY_* bits, one byte of them. */
static int flag_byte(struct parse *ps, const struct flag_name *names, size_t n_names,
		     uint8_t *flags)
{
	uint32_t given = *flags;
	int rc = flag_list(ps, "flag", names, n_names, UINT8_MAX, &given);

	*flags = (uint8_t)given;
	return rc;
}

static int extra_flag_parse(struct parse *ps, struct sa_cmd *c)
{
	static const struct flag_name names[] = {
		{ "dont-encap-dscp", SA_XFLAG_DONT_ENCAP_DSCP },
		{ "oseq-may-wrap", SA_XFLAG_OSEQ_MAY_WRAP },
	};

	return flag_list(ps, "extra-flag", names, RTE_DIM(names), UINT32_MAX,
			 &c->p.extra_flags);
}

static int encap_parse(struct parse *ps, struct sa_cmd *c)
{
	const char *type, *oa;

	if (value(ps, "encap", &type))
		return -EINVAL;
	if (strcmp(type, "espinudp") != 0)
		return fail(ps, type, "only espinudp encapsulation is supported");
	c->p.encap.type = UDP_ENCAP_ESPINUDP;
	if (u16_value(ps, "encap", &c->p.encap.sport) ||
	    u16_value(ps, "encap", &c->p.encap.dport) || value(ps, "encap", &oa))
		return -EINVAL;
	/* get_addr in no family: any, all and default are the zero address. */
	if (ip_addr_parse_iproute2(oa, 0, &c->p.encap.oa) != 0)
		return fail(ps, oa, "not an address");
	return 0;
}

static int limit_parse(struct parse *ps, struct sa_cmd *c)
{
	static const struct { const char *name; size_t offset; } limits[] = {
		{ "byte-soft", offsetof(struct sa_lifetime, soft_bytes) },
		{ "byte-hard", offsetof(struct sa_lifetime, hard_bytes) },
		{ "packet-soft", offsetof(struct sa_lifetime, soft_packets) },
		{ "packet-hard", offsetof(struct sa_lifetime, hard_packets) },
		{ "time-soft", offsetof(struct sa_lifetime, soft_add_s) },
		{ "time-hard", offsetof(struct sa_lifetime, hard_add_s) },
		{ "time-use-soft", offsetof(struct sa_lifetime, soft_use_s) },
		{ "time-use-hard", offsetof(struct sa_lifetime, hard_use_s) },
	};
	const char *which;

	if (value(ps, "limit", &which))
		return -EINVAL;
	for (size_t i = 0; i < RTE_DIM(limits); i++)
		if (strcmp(which, limits[i].name) == 0)
			return number(ps, which, UINT64_MAX,
				      (uint64_t *)((char *)&c->p.lifetime + limits[i].offset));
	return fail(ps, which, "unknown limit");
}

/* The words xfrm_id_parse reads, one after the other. */
static bool id_group_word(const char *w)
{
	return strcmp(w, "src") == 0 || strcmp(w, "dst") == 0 || strcmp(w, "proto") == 0 ||
	       strcmp(w, "spi") == 0;
}

/* xfrm_state_modify: once the ID's words end, ip reads addresses in the
 * SA's family, unless a selector before gave one. */
static void id_group_end(struct parse *ps, struct sa_cmd *c)
{
	if (c->in_id && !ps->family)
		family_given(ps, c->has_dst ? c->p.id.dst.family : c->p.src.family,
			     c->has_dst ? "dst" : "src");
	c->in_id = false;
}

/* The ID words every SA command takes. 1 consumed, 0 not an ID word. */
static int id_word(struct parse *ps, const char *w, struct sa_cmd *c)
{
	int rc;

	if (strcmp(w, "src") == 0)
		rc = addr_value(ps, w, &c->p.src), c->has_src = true;
	else if (strcmp(w, "dst") == 0)
		rc = addr_value(ps, w, &c->p.id.dst), c->has_dst = true;
	else if (strcmp(w, "spi") == 0)
		rc = u32_value(ps, w, &c->p.id.spi), c->has_spi = true;
	else if (strcmp(w, "mark") == 0)
		rc = mark_value(ps, &c->p.id.mark_v, &c->p.id.mark_m);
	else if (strcmp(w, "if_id") == 0)
		rc = u32_value(ps, w, &c->p.id.if_id);
	else if (strcmp(w, "proto") == 0) {
		const char *v = peek(ps);
		if ((rc = proto_value(ps, w, &c->p.id.proto)) == 0 && c->p.id.proto != IPPROTO_ESP)
			rc = fail(ps, v, "only esp is supported");
		c->has_proto = true;
	} else
		return 0;
	return rc < 0 ? rc : 1;
}

static int sa_word(struct parse *ps, const char *w, struct sa_cmd *c)
{
	uint64_t n;

	if (strcmp(w, "enc") == 0 || strcmp(w, "auth") == 0 || strcmp(w, "auth-trunc") == 0 ||
	    strcmp(w, "aead") == 0)
		return alg_parse(ps, c, w);
	if (strcmp(w, "reqid") == 0)
		return u32_value(ps, w, &c->p.reqid);
	if (strcmp(w, "mode") == 0)
		return mode_value(ps, &c->p.mode);
	/* Without it the window is 0, no replay check: what iproute2 sends. */
	if (strcmp(w, "replay-window") == 0) {
		if (number(ps, w, UINT32_MAX, &n))
			return -EINVAL;
		if (n > REPLAY_WINDOW_MAX)
			return fail(ps, w, "at most %u", REPLAY_WINDOW_MAX);
		c->p.replay_window = (uint32_t)n;
		return 0;
	}
	if (strcmp(w, "replay-oseq") == 0)
		return number(ps, w, UINT32_MAX, &c->p.oseq);
	if (strcmp(w, "replay-seq") == 0)
		return number(ps, w, UINT32_MAX, &c->p.iseq);
	if (strcmp(w, "replay-oseq-hi") == 0)
		return number(ps, w, UINT32_MAX, &c->oseq_hi);
	if (strcmp(w, "replay-seq-hi") == 0)
		return number(ps, w, UINT32_MAX, &c->seq_hi);
	if (strcmp(w, "flag") == 0)
		return flag_byte(ps, sa_flag_names, RTE_DIM(sa_flag_names), &c->p.flags);
	if (strcmp(w, "extra-flag") == 0)
		return extra_flag_parse(ps, c);
	if (strcmp(w, "encap") == 0)
		return encap_parse(ps, c);
	if (strcmp(w, "limit") == 0)
		return limit_parse(ps, c);
	/* xfrm_state_modify reads the selector in no family and the words
	 * after it in the selector's. */
	if (strcmp(w, "sel") == 0) {
		c->has_sel = true;
		family_given(ps, 0, w);
		for (const char *next; (next = take(ps));) {
			int rc = sel_word(ps, next, &c->p.sel);
			if (rc < 0)
				return rc;
			if (rc == 0) {
				ps->at--; /* the selector ends before this word */
				break;
			}
		}
		family_given(ps, sel_family_given(&c->p.sel), w);
		return sel_finish(ps, &c->p.sel);
	}
	return unknown_word(ps, w);
}

/* crypto_authenc_esn_setauthsize: an ICV of 1 to 3 bytes only without
 * ESN (none, digest_null's, is not one). */
static bool esn_icv_too_short(unsigned icv_bits)
{
	return icv_bits / 8 && icv_bits / 8 < ESP_CRYPTO_ESN_ICV_MIN;
}

static int sa_parse(struct parse *ps, struct sa_cmd *c, bool full)
{
	const char *w;
	int rc;

	c->p.origin = IPSEC_ORIGIN_CLI;
	c->p.lifetime = (struct sa_lifetime)SA_LIFETIME_NONE; /* as iproute2 starts */
	while ((w = take(ps))) {
		if (!id_group_word(w))
			id_group_end(ps, c);
		c->in_id |= id_group_word(w);
		rc = id_word(ps, w, c);
		if (rc == 0)
			rc = full ? sa_word(ps, w, c) : fail(ps, w, "unknown keyword");
		if (rc < 0)
			return rc;
	}
	if (!c->has_dst)
		return fail(ps, "dst", "required");
	if (!c->has_proto)
		return fail(ps, "proto", "required");
	if (!c->has_spi)
		return fail(ps, "spi", "required");
	if (c->has_src && c->p.src.family != c->p.id.dst.family)
		return fail(ps, "dst", "address family differs from src");
	if (!full)
		return 0;
	if (!c->has_src)
		return fail(ps, "src", "required");
	if (c->p.id.spi == 0)
		return fail(ps, "spi", "0 is reserved (RFC 4303 s.2.1)");
	if (c->alg[ALG_AEAD] && (c->alg[ALG_ENC] || c->alg[ALG_AUTH]))
		return fail(ps, "aead", "cannot be combined with enc or auth");
	if (!c->alg[ALG_AEAD] && !c->alg[ALG_ENC])
		return fail(ps, "enc", "required (or aead)");
	if ((c->p.flags & SA_FLAG_ESN) && c->p.replay_window == 0)
		return fail(ps, "replay-window", "ESN needs a window above 0");
	if ((c->p.flags & SA_FLAG_ESN) && esn_icv_too_short(c->p.auth.icv_bits))
		return fail(ps, c->name[ALG_AUTH], "truncation %u bits is an ICV of %u bytes "
			    "(bits / 8); with ESN the kernel takes at least %u", c->p.auth.icv_bits,
			    c->p.auth.icv_bits / 8, ESP_CRYPTO_ESN_ICV_MIN);
	/* The high halves live in the ESN replay state (seq_hi, oseq_hi):
	 * without ESN the kernel counts in 32 bits and never reads them. */
	if (c->p.flags & SA_FLAG_ESN) {
		c->p.iseq |= c->seq_hi << 32;
		c->p.oseq |= c->oseq_hi << 32;
	}
	/* ip xfrm sends the original address as an xfrm_address_t, which the
	 * kernel reads in the SA's family (copy_from_user_state). */
	if (c->p.encap.type) {
		struct ip_addr oa = c->p.encap.oa;
		ip_addr_from_bytes(&c->p.encap.oa, c->p.id.dst.family, oa.bytes);
	}
	return 0;
}

static void wipe_key_words(int argc, char **argv)
{
	for (int i = 0; i + 2 < argc; i++)
		if (strcmp(argv[i], "enc") == 0 || strcmp(argv[i], "auth") == 0 ||
		    strcmp(argv[i], "auth-trunc") == 0 || strcmp(argv[i], "aead") == 0)
			explicit_bzero(argv[i + 2], strlen(argv[i + 2]));
}

static int commit(struct cli_out *out, const char *cmd)
{
	int rc = spd_commit();
	return rc ? cli_error(out, rc, "%s: policy tables not rebuilt: %s", cmd, strerror(-rc)) : 0;
}

/* Parses a whole SA line (keys included) into a copy wiped after apply. */
static int sa_with_keys(struct cli_out *out, int argc, char **argv, const char *cmd,
			int (*apply)(struct cli_out *out, const struct sa_params *p))
{
	struct parse ps = { .out = out, .cmd = cmd, .argv = argv, .argc = argc };
	struct sa_cmd *c = calloc(1, sizeof(*c));
	int rc;

	if (!c)
		return cli_error(out, -ENOMEM, "%s: out of memory", cmd);
	rc = sa_parse(&ps, c, true);
	wipe_key_words(argc, argv);
	if (rc == 0)
		rc = apply(out, &c->p);
	explicit_bzero(c, sizeof(*c));
	free(c);
	return rc;
}

static int sa_add_apply(struct cli_out *out, const struct sa_params *p)
{
	char dst[IP_ADDR_STRLEN];
	uint32_t index;
	int rc = sad_sa_add(p, &index);

	if (rc == -EEXIST)
		return cli_error(out, rc, "ipsec sa add: SA spi 0x%08x dst %s proto esp exists",
				 p->id.spi, format_ip_addr(dst, sizeof(dst), &p->id.dst));
	if (rc)
		return cli_error(out, rc, "ipsec sa add: %s", strerror(-rc));
	if ((rc = commit(out, "ipsec sa add")) != 0)
		return rc;
	const struct sa *sa = sad_sa(index);
	if (out->json)
		cli_printf(out, "{\"index\": %u, \"direction\": \"%s\", \"state\": \"%s\"}\n",
			   index, format_sa_dir(sa->rt.dir), format_sa_state(sa->rt.state));
	else
		cli_printf(out, "sa 0x%08x added: %s, %s\n", p->id.spi, format_sa_dir(sa->rt.dir),
			   format_sa_state(sa->rt.state));
	return 0;
}

static int sa_add(struct cli_out *out, int argc, char **argv)
{
	return sa_with_keys(out, argc, argv, "ipsec sa add", sa_add_apply);
}

/* The index of an SA entered on the CLI; the kernel's are changed with
 * ip xfrm (ip_cmd). */
static int cli_sa_find(struct cli_out *out, const char *cmd, const char *ip_cmd,
		       const struct sa_id *id, uint32_t *index)
{
	*index = sad_find(id);
	if (*index == SAD_INDEX_NONE)
		return cli_error(out, -ESRCH, "%s: no SA spi 0x%08x", cmd, id->spi);
	if (sad_sa(*index)->rt.origin != IPSEC_ORIGIN_CLI)
		return cli_error(out, -EPERM, "%s: SA 0x%08x belongs to the kernel; use %s", cmd,
				 id->spi, ip_cmd);
	return 0;
}

/* As ip xfrm state update: the same line as the add, of which the kernel
 * takes only the encapsulation and the lifetime limits. */
static int sa_update_apply(struct cli_out *out, const struct sa_params *p)
{
	static const char cmd[] = "ipsec sa update";
	uint32_t index;
	int rc = cli_sa_find(out, cmd, "ip xfrm state update", &p->id, &index);

	if (rc)
		return rc;
	if (sad_sa_update_in_place(p) != 0)
		return cli_error(out, -EINVAL, "%s: 'encap': SA 0x%08x is%s ESP in UDP; an update "
				 "cannot change that (delete and add the SA)", cmd, p->id.spi,
				 p->encap.type ? " not" : "");
	/* Out templates choose again: the SA's if_id, or a soft expiry gone. */
	if ((rc = commit(out, cmd)) != 0)
		return rc;
	if (out->json)
		cli_printf(out, "{\"index\": %u, \"updated\": [\"encap\", \"lifetime\"]}\n", index);
	else
		cli_printf(out, "sa 0x%08x updated: encapsulation and lifetime limits (keys, "
			   "algorithms, mode and flags stay as added)\n", p->id.spi);
	return 0;
}

static int sa_update(struct cli_out *out, int argc, char **argv)
{
	return sa_with_keys(out, argc, argv, "ipsec sa update", sa_update_apply);
}

static int sa_del(struct cli_out *out, int argc, char **argv)
{
	struct parse ps = { .out = out, .cmd = "ipsec sa del", .argv = argv, .argc = argc };
	struct sa_cmd c;
	uint32_t index;
	int rc;

	memset(&c, 0, sizeof(c));
	if ((rc = sa_parse(&ps, &c, false)) != 0)
		return rc;
	if ((rc = cli_sa_find(out, ps.cmd, "ip xfrm state del", &c.p.id, &index)) != 0)
		return rc;
	rc = sad_sa_del(&c.p.id);
	return rc ? cli_error(out, rc, "ipsec sa del: %s", strerror(-rc)) : commit(out, ps.cmd);
}

static int sa_flush(struct cli_out *out)
{
	sad_flush(IPSEC_ORIGIN_CLI);
	return commit(out, "ipsec sa flush");
}

/* ---- Policy commands ---- */

struct policy_cmd {
	struct spd_policy_params p;
	const char *index_word; /* as given, for the error */
	bool has_dir;
	bool in_sel, sel_ended; /* within, after the words xfrm_selector_parse reads */
};

/* A template's protocol, one xfrm_id_proto_valid takes (43 and 60 are
 * Mobile IPv6's route2 and hao). */
static int tmpl_proto(struct parse *ps, struct spd_tmpl *t)
{
	const char *v = peek(ps);

	if (proto_value(ps, "proto", &t->proto))
		return -EINVAL;
	if (t->proto == IPPROTO_ESP || t->proto == IPPROTO_AH || t->proto == IPPROTO_COMP ||
	    t->proto == IPPROTO_ROUTING || t->proto == IPPROTO_DSTOPTS)
		return 0;
	return fail(ps, v, "not an XFRM protocol (esp, ah, comp, 43 or 60)");
}

/* One word of a template's, w taken. */
static int tmpl_word(struct parse *ps, const char *w, struct spd_tmpl *t)
{
	const char *v;
	int rc;

	if (strcmp(w, "src") == 0)
		return addr_value(ps, w, &t->src);
	if (strcmp(w, "dst") == 0)
		return addr_value(ps, w, &t->dst);
	if (strcmp(w, "proto") == 0)
		return tmpl_proto(ps, t);
	if (strcmp(w, "spi") == 0)
		return u32_value(ps, w, &t->spi);
	if (strcmp(w, "mode") == 0)
		return mode_value(ps, &t->mode);
	if (strcmp(w, "reqid") == 0)
		return u32_value(ps, w, &t->reqid);
	if ((rc = value(ps, w, &v)) != 0)
		return rc;
	if (strcmp(v, "use") && strcmp(v, "required"))
		return fail(ps, v, "level must be required or use");
	t->optional = strcmp(v, "use") == 0;
	return 0;
}

/*
 * xfrm_tmpl_parse: mode, reqid and level around one run of the words
 * xfrm_id_parse reads; such a word after that run is the policy's (its
 * selector's). The template's addresses are read in no family.
 */
static int tmpl_parse(struct parse *ps, struct policy_cmd *c)
{
	uint8_t family = ps->family;
	const char *w, *family_word = ps->family_word;
	bool id_begun = false, id_ended = false;
	struct spd_tmpl *t;
	int rc = 0;

	if (c->p.n_tmpl == SPD_TMPL_MAX)
		return fail(ps, "tmpl", "at most %u templates", SPD_TMPL_MAX);
	t = &c->p.tmpl[c->p.n_tmpl++];
	t->proto = IPPROTO_ESP;
	family_given(ps, 0, "tmpl");
	while (rc == 0 && (w = peek(ps))) {
		bool id = id_group_word(w);

		if ((!id && strcmp(w, "mode") && strcmp(w, "reqid") && strcmp(w, "level")) ||
		    (id && id_ended))
			break;
		id_begun |= id;
		id_ended |= !id && id_begun;
		ps->at++;
		rc = tmpl_word(ps, w, t);
	}
	/* The words after it are read in the template's family, or in the
	 * one before when it has no address. */
	if (t->dst.family || t->src.family)
		family_given(ps, t->dst.family ? t->dst.family : t->src.family, "tmpl");
	else
		family_given(ps, family, family_word);
	if (rc == 0 && t->mode == SA_MODE_TUNNEL && !t->dst.family)
		rc = fail(ps, "tmpl", "tunnel mode needs dst");
	if (rc == 0 && t->src.family && t->dst.family && t->src.family != t->dst.family)
		rc = fail(ps, "tmpl", "address family of src and dst differ");
	return rc;
}

static int dir_value(struct parse *ps, struct policy_cmd *c)
{
	const char *v;

	if (value(ps, "dir", &v))
		return -EINVAL;
	for (uint8_t d = 0; d < SPD_DIR_N; d++) {
		if (strcmp(v, format_spd_dir(d)) == 0) {
			c->p.dir = d;
			c->has_dir = true;
			return 0;
		}
	}
	return fail(ps, v, "dir must be in, out or fwd");
}

static int policy_word(struct parse *ps, const char *w, struct policy_cmd *c, bool full)
{
	const char *v;
	int rc = sel_word(ps, w, &c->p.sel);

	if (rc > 0 && c->sel_ended)
		return fail(ps, w, "the selector's words come in one run, as ip xfrm reads them");
	if (rc != 0) {
		c->in_sel = true;
		return rc < 0 ? rc : 0;
	}
	/* xfrm_policy_modify: once the selector's words end, ip reads
	 * addresses in its family, unless one is given already. */
	if (c->in_sel && !ps->family)
		family_given(ps, sel_family_given(&c->p.sel), "selector");
	c->sel_ended |= c->in_sel;
	c->in_sel = false;
	if (strcmp(w, "dir") == 0)
		return dir_value(ps, c);
	if (strcmp(w, "mark") == 0)
		return mark_value(ps, &c->p.mark_v, &c->p.mark_m);
	if (strcmp(w, "if_id") == 0)
		return u32_value(ps, w, &c->p.if_id);
	if (strcmp(w, "ptype") == 0) {
		if (value(ps, w, &v))
			return -EINVAL;
		return strcmp(v, "main") == 0 ? 0 : fail(ps, v, "only ptype main is supported");
	}
	if (!full)
		return fail(ps, w, "unknown keyword");
	if (strcmp(w, "priority") == 0)
		return u32_value(ps, w, &c->p.priority);
	if (strcmp(w, "index") == 0) {
		c->index_word = peek(ps);
		return u32_value(ps, w, &c->p.index);
	}
	if (strcmp(w, "tmpl") == 0)
		return tmpl_parse(ps, c);
	if (strcmp(w, "flag") == 0) /* xfrm_policyflag_parse */
		return flag_byte(ps, policy_flag_names, RTE_DIM(policy_flag_names), &c->p.flags);
	if (strcmp(w, "action") == 0) {
		if (value(ps, w, &v))
			return -EINVAL;
		if (strcmp(v, "allow") && strcmp(v, "block"))
			return fail(ps, v, "action must be allow or block");
		c->p.action = strcmp(v, "block") == 0 ? SPD_ACTION_BLOCK : SPD_ACTION_ALLOW;
		return 0;
	}
	return unknown_word(ps, w);
}

/* What validate_tmpl refuses besides: a tunnel template an out policy may
 * skip, and a transport one of another family than the selector's or the
 * template's before it (one without addresses has the selector's). */
static int tmpls_check(struct parse *ps, const struct policy_cmd *c)
{
	uint8_t prev = c->p.sel.family;

	for (unsigned i = 0; i < c->p.n_tmpl; i++) {
		const struct spd_tmpl *t = &c->p.tmpl[i];
		uint8_t family = t->dst.family ? t->dst.family :
				 t->src.family ? t->src.family : c->p.sel.family;

		if (t->mode == SA_MODE_TUNNEL && t->optional && c->p.dir == SPD_DIR_OUT)
			return fail(ps, "use", "a tunnel template of an out policy must be level "
				    "required");
		if (t->mode == SA_MODE_TRANSPORT && family != prev)
			return fail(ps, "transport", "a transport template keeps the address "
				    "family of what it follows");
		prev = family;
	}
	return 0;
}

static int policy_parse(struct parse *ps, struct policy_cmd *c, bool full)
{
	const char *w;
	int rc;

	c->p.origin = IPSEC_ORIGIN_CLI;
	while ((w = take(ps)))
		if ((rc = policy_word(ps, w, c, full)) < 0)
			return rc;
	if (!c->has_dir)
		return fail(ps, "dir", "required");
	/* verify_newpolicy_info: an index tells its direction (xfrm_policy_id2dir). */
	if (c->p.index && (c->p.index & 7) != c->p.dir)
		return fail(ps, c->index_word, "the index of %s %s policy is %u more than a multiple "
			    "of 8", c->p.dir == SPD_DIR_FWD ? "a" : "an", format_spd_dir(c->p.dir),
			    c->p.dir);
	if ((rc = sel_finish(ps, &c->p.sel)) != 0)
		return rc;
	return tmpls_check(ps, c);
}

static int policy_add(struct cli_out *out, int argc, char **argv)
{
	struct parse ps = { .out = out, .cmd = "ipsec policy add", .argv = argv, .argc = argc };
	struct policy_cmd c;
	int rc;

	memset(&c, 0, sizeof(c));
	if ((rc = policy_parse(&ps, &c, true)) != 0)
		return rc;
	rc = spd_policy_add(&c.p);
	if (rc == -EEXIST)
		return cli_error(out, rc, "ipsec policy add: a policy with this selector and "
				 "dir exists");
	if (rc)
		return cli_error(out, rc, "ipsec policy add: %s", strerror(-rc));
	if ((rc = commit(out, ps.cmd)) != 0)
		spd_policy_del(&c.p);
	return rc;
}

/* The kernel's policies are changed with ip xfrm (ip_cmd), not here. */
static int cli_policy_check(struct cli_out *out, const char *cmd, const char *ip_cmd,
			    const struct spd_policy *found)
{
	if (found && found->p.origin != IPSEC_ORIGIN_CLI)
		return cli_error(out, -EPERM, "%s: the policy belongs to the kernel; use %s", cmd,
				 ip_cmd);
	return 0;
}

/* As ip xfrm policy update: add, or replace the policy of the same
 * selector and dir in one step, so no packet meets neither. */
static int policy_update(struct cli_out *out, int argc, char **argv)
{
	struct parse ps = { .out = out, .cmd = "ipsec policy update", .argv = argv, .argc = argc };
	struct spd_policy_params before;
	const struct spd_policy *found;
	struct policy_cmd c;
	int rc;

	memset(&c, 0, sizeof(c));
	if ((rc = policy_parse(&ps, &c, true)) != 0)
		return rc;
	found = spd_policy_find(&c.p);
	if ((rc = cli_policy_check(out, ps.cmd, "ip xfrm policy update", found)) != 0)
		return rc;
	if (found)
		before = found->p;
	if ((rc = spd_policy_update(&c.p)) != 0)
		return cli_error(out, rc, "ipsec policy update: %s", strerror(-rc));
	if ((rc = commit(out, ps.cmd)) != 0) {
		if (found)
			spd_policy_update(&before);
		else
			spd_policy_del(&c.p);
	}
	return rc;
}

static int policy_del(struct cli_out *out, int argc, char **argv)
{
	struct parse ps = { .out = out, .cmd = "ipsec policy del", .argv = argv, .argc = argc };
	struct policy_cmd c;
	const struct spd_policy *found;
	int rc;

	memset(&c, 0, sizeof(c));
	if ((rc = policy_parse(&ps, &c, false)) != 0)
		return rc;
	found = spd_policy_find(&c.p);
	if (!found)
		return cli_error(out, -ENOENT, "ipsec policy del: no such policy");
	if ((rc = cli_policy_check(out, ps.cmd, "ip xfrm policy del", found)) != 0)
		return rc;
	spd_policy_del(&c.p);
	return commit(out, ps.cmd);
}

static int policy_flush(struct cli_out *out)
{
	spd_flush(IPSEC_ORIGIN_CLI);
	return commit(out, "ipsec policy flush");
}

/* ---- show ipsec sa ---- */

struct show {
	struct cli_out *out;
	bool first;
	bool filter;
	uint32_t spi;
	uint32_t reqid;
};

/* Whether sa is one `show ipsec sa` or `clear ipsec sa` names: every
 * SA, or those of one SPI. */
static bool sa_named(const struct sa *sa, bool filter, uint32_t spi)
{
	return !filter || rte_be_to_cpu_32(sa->rt.spi_be) == spi;
}

static void json_sep(struct show *s)
{
	if (!s->first)
		cli_printf(s->out, ", ");
	s->first = false;
}

static void format_selector(struct cli_out *out, const struct spd_selector *sel)
{
	char src[IP_PREFIX_STRLEN], dst[IP_PREFIX_STRLEN], proto[8];
	/* ICMP's and the Mobility Header's ports are their type and code. */
	bool typed = sel->proto == IPPROTO_ICMP || sel->proto == IPPROTO_ICMPV6 ||
		     sel->proto == IPPROTO_MH;
	const char *sport = typed ? "type" : "sport", *dport = typed ? "code" : "dport";

	format_ip_prefix(src, sizeof(src), &sel->src);
	format_ip_prefix(dst, sizeof(dst), &sel->dst);
	if (out->json) {
		cli_printf(out, "{\"src\": \"%s\", \"dst\": \"%s\", \"proto\": \"%s\"",
			   sel->src.addr.family ? src : "any", sel->dst.addr.family ? dst : "any",
			   proto_name(sel->proto, proto, sizeof(proto)));
		if (sel->sport_mask)
			cli_printf(out, ", \"%s\": %u", sport, sel->sport);
		if (sel->dport_mask)
			cli_printf(out, ", \"%s\": %u", dport, sel->dport);
		cli_printf(out, "}");
		return;
	}
	cli_printf(out, "src %s dst %s proto %s", sel->src.addr.family ? src : "any",
		   sel->dst.addr.family ? dst : "any", proto_name(sel->proto, proto, sizeof(proto)));
	if (sel->sport_mask)
		cli_printf(out, " %s %u", sport, sel->sport);
	if (sel->dport_mask)
		cli_printf(out, " %s %u", dport, sel->dport);
}

/* Algorithm name and lengths; never the key. */
static void format_alg(struct cli_out *out, const char *kind, const struct sa_alg *alg)
{
	if (!alg->name[0])
		return;
	if (out->json) {
		cli_printf(out, ", \"%s\": {\"name\": ", kind);
		cli_json_string(out, alg->name);
		cli_printf(out, ", \"key_bits\": %u", alg->key_bits);
		if (alg->icv_bits)
			cli_printf(out, ", \"icv_bits\": %u", alg->icv_bits);
		cli_printf(out, "}");
		return;
	}
	cli_printf(out, "    %s %s key %u bits", kind, alg->name, alg->key_bits);
	if (alg->icv_bits)
		cli_printf(out, " icv %u bits", alg->icv_bits);
	cli_printf(out, "\n");
}

static void format_flag_names(struct cli_out *out, uint8_t flags, const struct flag_name *names,
			      size_t n_names)
{
	bool first = true;

	for (size_t i = 0; i < n_names; i++) {
		if (!(flags & names[i].bit))
			continue;
		cli_printf(out, out->json ? "%s\"%s\"" : "%s%s", first ? "" : out->json ? ", " : " ",
			   names[i].name);
		first = false;
	}
	if (first && !out->json)
		cli_printf(out, "none");
}

/* The byte and packet limits, soft and hard, as words: "none" (JSON null)
 * for XFRM_INF. */
struct count_limits {
	char buf[4][24];
	const char *soft_bytes, *hard_bytes, *soft_packets, *hard_packets;
};

static const char *format_count_limit(char *buf, size_t size, uint64_t limit, bool json)
{
	if (limit == SA_LIMIT_NONE)
		return json ? "null" : "none";
	snprintf(buf, size, "%" PRIu64, limit);
	return buf;
}

static void format_count_limits(struct count_limits *f, const struct sa_lifetime *l, bool json)
{
	f->soft_bytes = format_count_limit(f->buf[0], sizeof(f->buf[0]), l->soft_bytes, json);
	f->hard_bytes = format_count_limit(f->buf[1], sizeof(f->buf[1]), l->hard_bytes, json);
	f->soft_packets = format_count_limit(f->buf[2], sizeof(f->buf[2]), l->soft_packets, json);
	f->hard_packets = format_count_limit(f->buf[3], sizeof(f->buf[3]), l->hard_packets, json);
}

/* Seconds since the SA's first use (its use-time limits count from it);
 * NULL when not used yet. */
static const char *format_used_s(char *buf, size_t size, const struct sa_config *cfg)
{
	if (!cfg->use_time_s)
		return NULL;
	snprintf(buf, size, "%" PRIu64, sad_now_s() - cfg->use_time_s);
	return buf;
}

/* "ip xfrm state"'s lifetime lines, shortened. */
static void format_lifetime_text(struct cli_out *out, const struct sa_config *cfg)
{
	const struct sa_lifetime *l = &cfg->lifetime;
	static const struct sa_lifetime none = SA_LIFETIME_NONE;
	struct count_limits f;
	char used[24];
	const char *used_s = format_used_s(used, sizeof(used), cfg);

	if (memcmp(l, &none, sizeof(none)) == 0)
		return;
	format_count_limits(&f, l, false);
	cli_printf(out, "    limit soft/hard: bytes %s/%s packets %s/%s add %" PRIu64 "/%" PRIu64
		   " s use %" PRIu64 "/%" PRIu64 " s; age %" PRIu64 " s, %s%s%s%s\n",
		   f.soft_bytes, f.hard_bytes, f.soft_packets, f.hard_packets,
		   l->soft_add_s, l->hard_add_s, l->soft_use_s, l->hard_use_s,
		   sad_now_s() - cfg->add_time_s, used_s ? "in use " : "not used",
		   used_s ? used_s : "", used_s ? " s" : "",
		   cfg->soft_expired ? ", soft limit reached" : "");
}

/* The path MTU toward the SA's peer, when ICMP reported one. */
static void format_path_mtu_text(struct cli_out *out, const struct sa *sa)
{
	uint64_t expires_s;
	uint32_t mtu = path_mtu_get(&sa->rt.dst, &expires_s);

	if (mtu)
		cli_printf(out, "    path-mtu %u (ICMP; expires in %" PRIu64 " s)\n", mtu,
			   expires_s - sad_now_s());
}

static void format_sa_text(struct cli_out *out, const struct sa *sa, const struct sa_counters *c)
{
	char src[IP_ADDR_STRLEN], dst[IP_ADDR_STRLEN], oa[IP_ADDR_STRLEN];
	bool errors = false;

	cli_printf(out, "sa 0x%08x %s %s reqid %u mode %s origin %s index %u\n",
		   rte_be_to_cpu_32(sa->rt.spi_be), format_sa_dir(sa->rt.dir),
		   format_sa_state(sa->rt.state), sa->rt.reqid, format_sa_mode(sa->rt.mode),
		   sa->rt.origin == IPSEC_ORIGIN_CLI ? "cli" : "kernel", sa->rt.index);
	if (sa->rt.state == SA_STATE_UNSUPPORTED)
		cli_printf(out, "    unsupported: %s (the kernel handles it)\n", sa->cfg.reason);
	cli_printf(out, "    src %s dst %s proto esp", format_ip_addr(src, sizeof(src), &sa->rt.src),
		   format_ip_addr(dst, sizeof(dst), &sa->rt.dst));
	if (sa->cfg.id.mark_m)
		cli_printf(out, " mark 0x%x/0x%x", sa->cfg.id.mark_v, sa->cfg.id.mark_m);
	if (sa->cfg.id.if_id)
		cli_printf(out, " if_id %u", sa->cfg.id.if_id);
	cli_printf(out, "\n");
	format_alg(out, "enc", &sa->cfg.enc);
	format_alg(out, "auth", &sa->cfg.auth);
	format_alg(out, "aead", &sa->cfg.aead);
	cli_printf(out, "    replay-window %u esn %s flags ", sa->cfg.replay_window,
		   sa->rt.flags & SA_FLAG_ESN ? "yes" : "no");
	format_flag_names(out, sa->rt.flags, sa_flag_names, RTE_DIM(sa_flag_names));
	cli_printf(out, "\n");
	if (sa->rt.encap)
		cli_printf(out, "    encap espinudp %u %u oa %s\n", sa->cfg.encap.sport,
			   sa->cfg.encap.dport, format_ip_addr(oa, sizeof(oa), &sa->cfg.encap.oa));
	format_lifetime_text(out, &sa->cfg);
	format_path_mtu_text(out, sa);
	cli_printf(out, "    sel ");
	format_selector(out, &sa->rt.sel);
	cli_printf(out, "\n    seq");
	if (sa->rt.dir != SA_DIR_IN)
		cli_printf(out, " outbound next %" PRIu64, sa->out.last + 1);
	if (sa->rt.dir != SA_DIR_OUT)
		cli_printf(out, " inbound highest %" PRIu64, replay_top(&sa->in.w));
	cli_printf(out, "\n");
	cli_printf(out, "    packets %" PRIu64 " bytes %" PRIu64 "\n    errors", c->packets, c->bytes);
	for (unsigned e = 0; e < SA_ERROR_MAX; e++) {
		if (!c->errors[e])
			continue;
		cli_printf(out, " %s %" PRIu64, sa_error_name(e), c->errors[e]);
		errors = true;
	}
	cli_printf(out, errors ? "\n" : " none\n");
}

/* The lifetime object: limits (null: none), age, seconds in use (null:
 * not used yet) and whether a soft limit was reached. */
static void format_lifetime_json(struct cli_out *out, const struct sa_config *cfg)
{
	const struct sa_lifetime *l = &cfg->lifetime;
	struct count_limits f;
	char used[24];
	const char *used_s = format_used_s(used, sizeof(used), cfg);

	format_count_limits(&f, l, true);
	cli_printf(out, "\"lifetime\": {\"soft_bytes\": %s, \"hard_bytes\": %s, "
		   "\"soft_packets\": %s, \"hard_packets\": %s, \"soft_add_s\": %" PRIu64
		   ", \"hard_add_s\": %" PRIu64 ", \"soft_use_s\": %" PRIu64 ", \"hard_use_s\": %"
		   PRIu64 ", \"age_s\": %" PRIu64 ", \"used_s\": %s, \"soft_reached\": %s}",
		   f.soft_bytes, f.hard_bytes, f.soft_packets, f.hard_packets,
		   l->soft_add_s, l->hard_add_s, l->soft_use_s, l->hard_use_s,
		   sad_now_s() - cfg->add_time_s, used_s ? used_s : "null",
		   cfg->soft_expired ? "true" : "false");
}

static void format_sa_json(struct cli_out *out, const struct sa *sa, const struct sa_counters *c)
{
	char src[IP_ADDR_STRLEN], dst[IP_ADDR_STRLEN], oa[IP_ADDR_STRLEN];

	cli_printf(out, "{\"spi\": %u, \"spi_hex\": \"0x%08x\", \"index\": %u, \"direction\": \"%s\", "
		   "\"state\": \"%s\", \"reason\": ", rte_be_to_cpu_32(sa->rt.spi_be),
		   rte_be_to_cpu_32(sa->rt.spi_be), sa->rt.index, format_sa_dir(sa->rt.dir),
		   format_sa_state(sa->rt.state));
	cli_json_string(out, sa->cfg.reason);
	cli_printf(out, ", \"origin\": \"%s\", \"reqid\": %u, \"mode\": \"%s\", \"src\": \"%s\", "
		   "\"dst\": \"%s\", \"proto\": \"esp\", \"mark\": %u, \"mark_mask\": %u, "
		   "\"if_id\": %u", sa->rt.origin == IPSEC_ORIGIN_CLI ? "cli" : "kernel",
		   sa->rt.reqid, format_sa_mode(sa->rt.mode),
		   format_ip_addr(src, sizeof(src), &sa->rt.src),
		   format_ip_addr(dst, sizeof(dst), &sa->rt.dst), sa->cfg.id.mark_v,
		   sa->cfg.id.mark_m, sa->cfg.id.if_id);
	format_alg(out, "enc", &sa->cfg.enc);
	format_alg(out, "auth", &sa->cfg.auth);
	format_alg(out, "aead", &sa->cfg.aead);
	cli_printf(out, ", \"esn\": %s, \"flags\": [", sa->rt.flags & SA_FLAG_ESN ? "true" : "false");
	format_flag_names(out, sa->rt.flags, sa_flag_names, RTE_DIM(sa_flag_names));
	cli_printf(out, "], \"replay_window\": %u, \"encap\": ", sa->cfg.replay_window);
	if (sa->rt.encap)
		cli_printf(out, "{\"type\": \"espinudp\", \"sport\": %u, \"dport\": %u, \"oa\": \"%s\"}",
			   sa->cfg.encap.sport, sa->cfg.encap.dport,
			   format_ip_addr(oa, sizeof(oa), &sa->cfg.encap.oa));
	else
		cli_printf(out, "null");
	cli_printf(out, ", \"selector\": ");
	format_selector(out, &sa->rt.sel);
	cli_printf(out, ", \"seq\": {\"outbound_next\": %" PRIu64 ", \"inbound_highest\": %" PRIu64
		   "}, ", sa->out.last + 1, replay_top(&sa->in.w));
	format_lifetime_json(out, &sa->cfg);
	cli_printf(out, ", \"packets\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"errors\": {",
		   c->packets, c->bytes);
	for (unsigned e = 0; e < SA_ERROR_MAX; e++)
		cli_printf(out, "%s\"%s\": %" PRIu64, e ? ", " : "", sa_error_name(e), c->errors[e]);
	uint64_t expires_s = 0;
	uint32_t mtu = path_mtu_get(&sa->rt.dst, &expires_s);
	cli_printf(out, "}, \"path_mtu\": %u, \"path_mtu_expires_in_s\": %" PRIu64 "}", mtu,
		   mtu ? expires_s - sad_now_s() : 0);
}

static int format_one_sa(const struct sa *sa, void *arg)
{
	struct show *s = arg;
	struct sa_counters c;

	if (!sa_named(sa, s->filter, s->spi))
		return 0;
	sad_sa_counters_shown(sa->rt.index, &c);
	if (s->out->json) {
		json_sep(s);
		format_sa_json(s->out, sa, &c);
	} else {
		format_sa_text(s->out, sa, &c);
	}
	return 0;
}

void format_ipsec_sas(struct cli_out *out, bool filter_spi, uint32_t spi)
{
	struct show s = { .out = out, .first = true, .filter = filter_spi, .spi = spi };

	if (out->json)
		cli_printf(out, "[");
	sad_walk(format_one_sa, &s);
	if (out->json)
		cli_printf(out, "]\n");
}

/* ---- show ipsec policy ---- */

static void format_tmpl(struct cli_out *out, const struct spd_tmpl *t, bool first)
{
	char src[IP_ADDR_STRLEN], dst[IP_ADDR_STRLEN], proto[8];

	format_ip_addr(src, sizeof(src), &t->src);
	format_ip_addr(dst, sizeof(dst), &t->dst);
	cli_printf(out, out->json ? "%s{\"src\": \"%s\", \"dst\": \"%s\", \"proto\": \"%s\", "
		   "\"spi\": %u, \"mode\": \"%s\", \"reqid\": %u, \"level\": \"%s\"}"
		   : "%s    tmpl src %s dst %s proto %s spi 0x%08x mode %s reqid %u level %s\n",
		   out->json && !first ? ", " : "", t->src.family ? src : "any",
		   t->dst.family ? dst : "any", proto_name(t->proto, proto, sizeof(proto)), t->spi,
		   format_sa_mode(t->mode), t->reqid, t->optional ? "use" : "required");
}

/* The SPIs of the SAs an out policy uses, best first: each packet takes
 * the first whose selector it is inside. */
static void resolution_sas(const struct spd_policy *pol, char *buf, size_t size)
{
	size_t len = (size_t)snprintf(buf, size, "sa");

	for (unsigned i = 0; i < pol->n_sa && len < size; i++) {
		const struct sa *sa = spd_policy_sa_choice(pol, i);
		if (sa)
			len += (size_t)snprintf(buf + len, size - len, " 0x%08x",
						rte_be_to_cpu_32(sa->rt.spi_be));
	}
}

/* What the policy does: the SAs it uses, or why none. */
static const char *resolution(const struct spd_policy *pol, char *buf, size_t size)
{
	if (pol->p.dir != SPD_DIR_OUT)
		return pol->p.action == SPD_ACTION_BLOCK ? "discard" :
		       pol->requires_ipsec ? "requires IPsec" : "allows plaintext";
	if (pol->verdict == SPD_PROTECT && spd_policy_sa(pol))
		resolution_sas(pol, buf, size);
	else if (pol->verdict == SPD_KERNEL)
		snprintf(buf, size, "kernel");
	else
		snprintf(buf, size, "%s", format_spd_verdict(pol->verdict));
	return buf;
}

static int format_one_policy(const struct spd_policy *pol, void *arg)
{
	struct show *s = arg;
	struct cli_out *out = s->out;
	char what[64];

	if (out->json) {
		json_sep(s);
		cli_printf(out, "{\"dir\": \"%s\", \"index\": %u, \"priority\": %u, \"action\": \"%s\", "
			   "\"origin\": \"%s\", \"mark\": %u, \"mark_mask\": %u, \"if_id\": %u, "
			   "\"selector\": ", format_spd_dir(pol->p.dir), pol->p.index, pol->p.priority,
			   format_spd_action(pol->p.action),
			   pol->p.origin == IPSEC_ORIGIN_CLI ? "cli" : "kernel", pol->p.mark_v,
			   pol->p.mark_m, pol->p.if_id);
		format_selector(out, &pol->p.sel);
		cli_printf(out, ", \"flags\": [");
		format_flag_names(out, pol->p.flags, policy_flag_names,
				  RTE_DIM(policy_flag_names));
		cli_printf(out, "], \"templates\": [");
		for (unsigned i = 0; i < pol->p.n_tmpl; i++)
			format_tmpl(out, &pol->p.tmpl[i], i == 0);
		cli_printf(out, "], \"resolution\": \"%s\", \"sa_index\": ",
			   resolution(pol, what, sizeof(what)));
		cli_printf(out, spd_policy_sa(pol) ? "%u}" : "null}", pol->sa[0].index);
		return 0;
	}
	cli_printf(out, "policy %s priority %u action %s index 0x%x origin %s\n    ",
		   format_spd_dir(pol->p.dir), pol->p.priority, format_spd_action(pol->p.action),
		   pol->p.index, pol->p.origin == IPSEC_ORIGIN_CLI ? "cli" : "kernel");
	format_selector(out, &pol->p.sel);
	if (pol->p.mark_m)
		cli_printf(out, " mark 0x%x/0x%x", pol->p.mark_v, pol->p.mark_m);
	if (pol->p.if_id)
		cli_printf(out, " if_id %u", pol->p.if_id);
	if (pol->p.flags) {
		cli_printf(out, " flag ");
		format_flag_names(out, pol->p.flags, policy_flag_names,
				  RTE_DIM(policy_flag_names));
	}
	cli_printf(out, "\n");
	for (unsigned i = 0; i < pol->p.n_tmpl; i++)
		format_tmpl(out, &pol->p.tmpl[i], i == 0);
	cli_printf(out, "    -> %s\n", resolution(pol, what, sizeof(what)));
	return 0;
}

void format_ipsec_policies(struct cli_out *out)
{
	struct show s = { .out = out, .first = true };

	if (out->json)
		cli_printf(out, "[");
	spd_walk(format_one_policy, &s);
	if (out->json)
		cli_printf(out, "]\n");
}

/* ---- show ipsec tunnel: per reqid, its SAs and policies ---- */

#define REQIDS_MAX 4096

struct reqids {
	uint32_t v[REQIDS_MAX];
	unsigned n;
};

static void reqid_add(struct reqids *r, uint32_t reqid)
{
	for (unsigned i = 0; i < r->n; i++)
		if (r->v[i] == reqid)
			return;
	if (reqid && r->n < REQIDS_MAX)
		r->v[r->n++] = reqid;
}

static int reqid_of_sa(const struct sa *sa, void *arg)
{
	reqid_add(arg, sa->rt.reqid);
	return 0;
}

static int reqid_of_policy(const struct spd_policy *pol, void *arg)
{
	for (unsigned i = 0; i < pol->p.n_tmpl; i++)
		reqid_add(arg, pol->p.tmpl[i].reqid);
	return 0;
}

static int by_value(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static int tunnel_sa(const struct sa *sa, void *arg)
{
	struct show *s = arg;
	struct sa_counters c;
	char src[IP_ADDR_STRLEN], dst[IP_ADDR_STRLEN];

	if (sa->rt.reqid != s->reqid)
		return 0;
	sad_sa_counters_shown(sa->rt.index, &c);
	format_ip_addr(src, sizeof(src), &sa->rt.src);
	format_ip_addr(dst, sizeof(dst), &sa->rt.dst);
	if (s->out->json) {
		json_sep(s);
		cli_printf(s->out, "{\"spi\": %u, \"direction\": \"%s\", \"state\": \"%s\", "
			   "\"src\": \"%s\", \"dst\": \"%s\", \"packets\": %" PRIu64 ", \"bytes\": %"
			   PRIu64 "}", rte_be_to_cpu_32(sa->rt.spi_be), format_sa_dir(sa->rt.dir),
			   format_sa_state(sa->rt.state), src, dst, c.packets, c.bytes);
	} else {
		cli_printf(s->out, "    sa %-6s 0x%08x %s -> %s %s packets %" PRIu64 " bytes %" PRIu64
			   "\n", format_sa_dir(sa->rt.dir), rte_be_to_cpu_32(sa->rt.spi_be), src, dst,
			   format_sa_state(sa->rt.state), c.packets, c.bytes);
	}
	return 0;
}

static int tunnel_policy(const struct spd_policy *pol, void *arg)
{
	struct show *s = arg;
	char src[IP_PREFIX_STRLEN], dst[IP_PREFIX_STRLEN], what[64];
	bool mine = false;

	for (unsigned i = 0; i < pol->p.n_tmpl; i++)
		mine |= pol->p.tmpl[i].reqid == s->reqid;
	if (!mine)
		return 0;
	format_ip_prefix(src, sizeof(src), &pol->p.sel.src);
	format_ip_prefix(dst, sizeof(dst), &pol->p.sel.dst);
	if (s->out->json) {
		json_sep(s);
		cli_printf(s->out, "{\"dir\": \"%s\", \"src\": \"%s\", \"dst\": \"%s\", "
			   "\"resolution\": \"%s\"}", format_spd_dir(pol->p.dir), src, dst,
			   resolution(pol, what, sizeof(what)));
	} else {
		cli_printf(s->out, "    policy %-3s %s -> %s: %s\n", format_spd_dir(pol->p.dir), src,
			   dst, resolution(pol, what, sizeof(what)));
	}
	return 0;
}

void format_ipsec_tunnels(struct cli_out *out)
{
	struct reqids *r = calloc(1, sizeof(*r));

	if (!r) {
		cli_error(out, -ENOMEM, "show ipsec tunnel: out of memory");
		return;
	}
	sad_walk(reqid_of_sa, r);
	spd_walk(reqid_of_policy, r);
	qsort(r->v, r->n, sizeof(r->v[0]), by_value);
	if (out->json)
		cli_printf(out, "[");
	for (unsigned i = 0; i < r->n; i++) {
		struct show s = { .out = out, .first = true, .reqid = r->v[i] };
		if (out->json) {
			cli_printf(out, "%s{\"reqid\": %u, \"sas\": [", i ? ", " : "", r->v[i]);
			sad_walk(tunnel_sa, &s);
			s.first = true;
			cli_printf(out, "], \"policies\": [");
			spd_walk(tunnel_policy, &s);
			cli_printf(out, "]}");
		} else {
			cli_printf(out, "tunnel reqid %u\n", r->v[i]);
			sad_walk(tunnel_sa, &s);
			spd_walk(tunnel_policy, &s);
		}
	}
	if (out->json)
		cli_printf(out, "]\n");
	free(r);
}

/* ---- Handlers ---- */

/* The optional SPI of `show ipsec sa` and `clear ipsec sa`: 0 with one
 * parsed into *spi, 1 without one, or -errno after the error. */
static int spi_argument(struct cli_out *out, const char *cmd, int argc, char **argv,
			uint32_t *spi)
{
	struct parse ps = { .out = out, .cmd = cmd, .argv = argv, .argc = argc };

	if (argc > 1)
		return cli_error(out, -EINVAL, "%s takes at most an SPI", cmd);
	if (argc == 0)
		return 1;
	return u32_value(&ps, "spi", spi) ? out->status : 0;
}

static int show_sa(struct cli_out *out, int argc, char **argv)
{
	uint32_t spi = 0;
	int rc = spi_argument(out, "show ipsec sa", argc, argv, &spi);

	if (rc < 0)
		return rc;
	format_ipsec_sas(out, rc == 0, spi);
	return 0;
}

struct clear {
	bool filter;
	uint32_t spi;
	unsigned count;
};

static int clear_one_sa(const struct sa *sa, void *arg)
{
	struct clear *c = arg;

	if (!sa_named(sa, c->filter, c->spi))
		return 0;
	sad_sa_counters_clear(sa->rt.index);
	c->count++;
	return 0;
}

unsigned ipsec_counters_clear(bool filter_spi, uint32_t spi)
{
	struct clear c = { .filter = filter_spi, .spi = spi };

	sad_walk(clear_one_sa, &c);
	return c.count;
}

static int clear_sa(struct cli_out *out, int argc, char **argv)
{
	uint32_t spi = 0;
	int rc = spi_argument(out, "clear ipsec sa", argc, argv, &spi);
	unsigned count;

	if (rc < 0)
		return rc;
	count = ipsec_counters_clear(rc == 0, spi);
	if (rc == 0 && count == 0)
		return cli_error(out, -ENOENT, "clear ipsec sa: no SA with SPI 0x%08x", spi);
	if (out->json)
		cli_printf(out, "{\"cleared\": %u}\n", count);
	return 0;
}

static int show_policy(struct cli_out *out)
{
	format_ipsec_policies(out);
	return 0;
}

static int path_mtu_flush_cmd(struct cli_out *out)
{
	(void)out;
	path_mtu_flush();
	return 0;
}

static void format_path_mtu_peer(const struct ip_addr *dst, uint32_t mtu, uint64_t expires_s,
				 void *arg)
{
	char peer[IP_ADDR_STRLEN];

	cli_printf(arg, "peer %s mtu %u expires in %" PRIu64 " s\n",
		   format_ip_addr(peer, sizeof(peer), dst), mtu, expires_s - sad_now_s());
}

static int show_path_mtu(struct cli_out *out)
{
	path_mtu_walk(format_path_mtu_peer, out);
	return 0;
}

static int show_tunnel(struct cli_out *out)
{
	format_ipsec_tunnels(out);
	return 0;
}

static const struct cli_command ipsec_commands[] = {
	{ "ipsec sa add", sa_add, "add an SA: ip xfrm state add syntax" },
	{ "ipsec sa update", sa_update, "change an SA's encap ports and lifetime limits: ip xfrm "
					"state update syntax" },
	{ "ipsec sa del", sa_del, "delete an SA: src A dst B proto esp spi N" },
	{ .path = "ipsec sa flush", .run = sa_flush, .help = "delete every SA added on the CLI" },
	{ "ipsec policy add", policy_add, "add a policy: ip xfrm policy add syntax" },
	{ "ipsec policy update", policy_update, "add or replace a policy at once: ip xfrm policy "
						"update syntax" },
	{ "ipsec policy del", policy_del, "delete a policy: selector and dir" },
	{ .path = "ipsec policy flush", .run = policy_flush,
	  .help = "delete every policy added on the CLI" },
	{ "show ipsec sa", show_sa, "SAs with counters (optionally one SPI); never keys" },
	{ "clear ipsec sa", clear_sa, "reset the counters show ipsec sa gives (optionally one "
				      "SPI's); lifetimes go on" },
	{ .path = "show ipsec policy", .run = show_policy,
	  .help = "policies in priority order with their SA" },
	{ .path = "show ipsec tunnel", .run = show_tunnel,
	  .help = "per reqid: SAs, policies and packet counts" },
	{ .path = "show ipsec path-mtu", .run = show_path_mtu,
	  .help = "path MTU toward SA peers, learnt from ICMP" },
	{ .path = "ipsec path-mtu flush", .run = path_mtu_flush_cmd,
	  .help = "forget the path MTU learnt from ICMP" },
};

void ipsec_cli_register(void)
{
	cli_register(ipsec_commands, RTE_DIM(ipsec_commands));
}
