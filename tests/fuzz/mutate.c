/* Mutations of the graph fuzz test (mutate.h). */
#include "mutate.h"

#include <stdbool.h>
#include <string.h>
#include <netinet/in.h>
#include <rte_byteorder.h>
#include <rte_ip.h>

#define FIELDS_MAX 48
#define BOUNDARIES_MAX 16
#define ETH_LEN 14
#define VLAN_LEN 4
#define TRAILER_SPAN 32 /* the ESP trailer, padding and ICV at the end */
#define NATT_PORT 4500

/* A header field: where, and how many bytes. */
struct field {
	uint32_t at;
	uint8_t size;
};

/* What a frame's headers look like, as far as they are there. */
struct layout {
	struct field field[FIELDS_MAX];
	uint32_t boundary[BOUNDARIES_MAX];
	unsigned n_fields, n_boundaries;
	uint32_t ip4; /* offset of the outer IPv4 header, 0: none */
	uint32_t ip6; /* offset of the outer IPv6 header, 0: none */
	uint32_t esp; /* offset of the ESP header, 0: none */
};

static void field_add(struct layout *l, uint32_t len, uint32_t at, uint8_t size)
{
	if (at + size <= len && l->n_fields < FIELDS_MAX)
		l->field[l->n_fields++] = (struct field){ at, size };
}

static void boundary_add(struct layout *l, uint32_t len, uint32_t at)
{
	if (at <= len && l->n_boundaries < BOUNDARIES_MAX)
		l->boundary[l->n_boundaries++] = at;
}

static bool ext_header(uint8_t nh)
{
	return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_DSTOPTS ||
	       nh == IPPROTO_FRAGMENT;
}

static void parse_ip(struct layout *l, const uint8_t *f, uint32_t len, uint32_t at, bool quoted);

/* The transport header at at; a quoted packet's goes no deeper. */
static void parse_l4(struct layout *l, const uint8_t *f, uint32_t len, uint32_t at, uint8_t proto,
		     bool quoted)
{
	boundary_add(l, len, at);
	if (proto == IPPROTO_UDP) {
		for (uint32_t k = 0; k < 8; k += 2)
			field_add(l, len, at + k, 2);
		boundary_add(l, len, at + 8);
		if (!quoted && at + 16 <= len && f[at + 2] == NATT_PORT >> 8 &&
		    f[at + 3] == (NATT_PORT & 0xff))
			l->esp = at + 8;
	} else if (proto == IPPROTO_TCP) {
		field_add(l, len, at + 12, 1);
		field_add(l, len, at + 13, 1);
		boundary_add(l, len, at + 20);
	} else if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
		field_add(l, len, at, 1);
		field_add(l, len, at + 1, 1);
		field_add(l, len, at + 4, 4);
		boundary_add(l, len, at + 8);
		if (!quoted && at + 8 < len)
			parse_ip(l, f, len, at + 8, true);
	} else if (proto == IPPROTO_ESP && !quoted) {
		l->esp = at;
	}
	if (l->esp == 0)
		return;
	field_add(l, len, l->esp, 4);
	field_add(l, len, l->esp + 4, 4);
	boundary_add(l, len, l->esp + 8);
	for (unsigned k = 0; k < 4 && len > TRAILER_SPAN; k++)
		field_add(l, len, len - 1 - (uint32_t)k * TRAILER_SPAN / 4, 1);
}

static void parse_ip6(struct layout *l, const uint8_t *f, uint32_t len, uint32_t at, bool quoted)
{
	uint8_t nh = f[at + 6];

	field_add(l, len, at, 1);
	field_add(l, len, at + 4, 2);
	field_add(l, len, at + 6, 1);
	field_add(l, len, at + 7, 1);
	at += sizeof(struct rte_ipv6_hdr);
	for (unsigned k = 0; k < 4 && ext_header(nh) && at + 8 <= len; k++) {
		boundary_add(l, len, at);
		field_add(l, len, at, 1);
		field_add(l, len, at + 1, 1);
		if (nh == IPPROTO_FRAGMENT)
			field_add(l, len, at + 2, 2);
		uint32_t size = nh == IPPROTO_FRAGMENT ? 8 : (f[at + 1] + 1u) * 8;
		nh = f[at];
		at += size;
	}
	if (at <= len)
		parse_l4(l, f, len, at, nh, quoted);
}

static void parse_ip(struct layout *l, const uint8_t *f, uint32_t len, uint32_t at, bool quoted)
{
	boundary_add(l, len, at);
	if (at + sizeof(struct rte_ipv6_hdr) <= len && f[at] >> 4 == 6) {
		if (!quoted)
			l->ip6 = at;
		parse_ip6(l, f, len, at, quoted);
		return;
	}
	if (at + sizeof(struct rte_ipv4_hdr) > len || f[at] >> 4 != 4)
		return;
	if (!quoted)
		l->ip4 = at;
	field_add(l, len, at, 1);                        /* version, IHL */
	field_add(l, len, at + 2, 2);                    /* total length */
	field_add(l, len, at + 6, 2);                    /* flags, fragment offset */
	field_add(l, len, at + 8, 1);                    /* TTL */
	field_add(l, len, at + 9, 1);                    /* protocol */
	field_add(l, len, at + 12, 4);                   /* source */
	field_add(l, len, at + 16, 4);                   /* destination */
	uint32_t ihl = (f[at] & 0x0f) * 4u;
	if (ihl >= sizeof(struct rte_ipv4_hdr))
		parse_l4(l, f, len, at + ihl, f[at + 9], quoted);
}

static void parse(struct layout *l, const uint8_t *f, uint32_t len)
{
	uint32_t at = ETH_LEN;

	memset(l, 0, sizeof(*l));
	boundary_add(l, len, 0);
	field_add(l, len, 12, 2);
	if (len >= ETH_LEN + VLAN_LEN && f[12] == 0x81 && f[13] == 0x00) {
		at += VLAN_LEN;
		field_add(l, len, 16, 2);
	}
	boundary_add(l, len, at);
	parse_ip(l, f, len, at, false);
	boundary_add(l, len, len);
}

/* The outer IPv4 header's checksum made right again, so that a damaged
 * field gets past ip4-input to the nodes after it. */
static void ip4_checksum_fix(const struct layout *l, uint8_t *f, uint32_t len)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(f + l->ip4);
	uint32_t ihl = (f[l->ip4] & 0x0f) * 4u;

	if (!l->ip4 || ihl < sizeof(*ip) || l->ip4 + ihl > len)
		return;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
}

/* A value near what is there, or one of the extremes parsers stumble on. */
static uint32_t field_value(struct fuzz_rng *r, uint32_t old, uint8_t size)
{
	static const int32_t nudge[] = { -1, 1, -8, 8, -16, 16, -4, 4 };
	uint32_t max = size >= 4 ? UINT32_MAX : (1u << (8 * size)) - 1;

	switch (rng_below(r, 5)) {
	case 0:
		return 0;
	case 1:
		return max;
	case 2:
		return (old + (uint32_t)nudge[rng_below(r, RTE_DIM(nudge))]) & max;
	case 3:
		return rng_below(r, 64) & max;
	default:
		return (uint32_t)rng_next(r) & max;
	}
}

static void field_write(uint8_t *f, struct field fl, uint32_t v)
{
	for (int k = fl.size - 1; k >= 0; k--, v >>= 8)
		f[fl.at + (uint32_t)k] = (uint8_t)v;
}

static uint32_t field_read(const uint8_t *f, struct field fl)
{
	uint32_t v = 0;

	for (unsigned k = 0; k < fl.size; k++)
		v = v << 8 | f[fl.at + k];
	return v;
}

static void mutate_field(struct fuzz_rng *r, const struct layout *l, uint8_t *f, uint32_t len)
{
	if (l->n_fields == 0)
		return;
	struct field fl = l->field[rng_below(r, l->n_fields)];
	field_write(f, fl, field_value(r, field_read(f, fl), fl.size));
	if (rng_below(r, 4))
		ip4_checksum_fix(l, f, len);
}

/* The IP packet k bytes shorter, its length field following: what is
 * inside (UDP length, ESP trailer) no longer agrees. */
static void shrink_ip(struct fuzz_rng *r, const struct layout *l, uint8_t *f, uint32_t *len)
{
	uint32_t at = l->ip4 ? l->ip4 : l->ip6;
	if (!at)
		return;
	uint32_t room = *len - at - (l->ip4 ? sizeof(struct rte_ipv4_hdr) : sizeof(struct rte_ipv6_hdr));
	uint32_t k = 1 + rng_below(r, room < 64 ? room + 1 : 64);
	if (k > room)
		return;
	struct field length = { l->ip4 ? l->ip4 + 2 : l->ip6 + 4, 2 };
	field_write(f, length, (field_read(f, length) - k) & 0xffff);
	*len -= k;
	ip4_checksum_fix(l, f, *len);
}

static void extend(struct fuzz_rng *r, uint8_t *f, uint32_t *len, uint32_t to)
{
	while (*len < to)
		f[(*len)++] = (uint8_t)rng_next(r);
}

void mutate_fragment(uint8_t *f, uint32_t len, uint16_t id, uint16_t slot)
{
	struct layout l;

	parse(&l, f, len);
	if (l.ip4) {
		field_write(f, (struct field){ l.ip4 + 4, 2 }, id);
		field_write(f, (struct field){ l.ip4 + 6, 2 }, 0x2000u | (slot & 0x1fff));
		ip4_checksum_fix(&l, f, len);
	} else if (l.ip6 && f[l.ip6 + 6] == IPPROTO_FRAGMENT && l.ip6 + 48 <= len) {
		uint32_t ext = l.ip6 + sizeof(struct rte_ipv6_hdr);
		field_write(f, (struct field){ ext + 2, 2 }, (uint32_t)slot << 3 | 1);
		field_write(f, (struct field){ ext + 4, 4 }, id);
	}
}

/* A byte of a frame of len > 0, mostly past the Ethernet addresses: a
 * frame for another MAC tells nothing more. */
static uint32_t position(struct fuzz_rng *r, uint32_t len)
{
	if (len <= ETH_LEN || rng_below(r, 8) == 0)
		return rng_below(r, len);
	return ETH_LEN + rng_below(r, len - ETH_LEN);
}

static void mutate_one(struct fuzz_rng *r, enum mutation m, uint8_t *f, uint32_t *len)
{
	struct layout l;

	parse(&l, f, *len);
	switch (m) {
	case MUT_BIT_FLIP:
		for (unsigned k = 1 + rng_below(r, 8); k && *len; k--)
			f[position(r, *len)] ^= (uint8_t)(1u << rng_below(r, 8));
		break;
	case MUT_BYTES:
		for (unsigned k = 1 + rng_below(r, 4); k && *len; k--)
			f[position(r, *len)] = (uint8_t)rng_next(r);
		break;
	case MUT_FIELD:
		mutate_field(r, &l, f, *len);
		break;
	case MUT_CUT_BOUNDARY: {
		uint32_t at = l.boundary[rng_below(r, l.n_boundaries)] + rng_below(r, 3);
		*len = RTE_MIN(*len, at > 0 ? at - 1 : 0);
		break;
	}
	case MUT_CUT_RANDOM:
		*len = rng_below(r, *len + 1);
		break;
	case MUT_SHRINK_IP:
		shrink_ip(r, &l, f, len);
		break;
	case MUT_EXTEND:
		extend(r, f, len, RTE_MIN(*len + 1 + rng_below(r, 256), (uint32_t)FUZZ_FRAME_MAX));
		break;
	case MUT_FRAGMENT:
		mutate_fragment(f, *len, (uint16_t)rng_below(r, 16), (uint16_t)rng_below(r, 16));
		break;
	case MUT_EMPTY:
		*len = rng_below(r, 2) ? 0 : rng_below(r, ETH_LEN + 1);
		break;
	case MUT_MAXIMAL:
		extend(r, f, len, FUZZ_FRAME_MAX);
		break;
	default:
		break;
	}
}

/* Field overwrites are the most likely to get deep: they come most often. */
static enum mutation pick(struct fuzz_rng *r)
{
	static const uint8_t weight[MUT_N] = {
		[MUT_BIT_FLIP] = 6, [MUT_BYTES] = 4, [MUT_FIELD] = 16, [MUT_CUT_BOUNDARY] = 4,
		[MUT_CUT_RANDOM] = 2, [MUT_SHRINK_IP] = 4, [MUT_EXTEND] = 3, [MUT_FRAGMENT] = 2,
		[MUT_EMPTY] = 1, [MUT_MAXIMAL] = 1,
	};
	uint32_t total = 0, x;

	for (unsigned m = 0; m < MUT_N; m++)
		total += weight[m];
	x = rng_below(r, total);
	for (unsigned m = 0; m < MUT_N; m++) {
		if (x < weight[m])
			return (enum mutation)m;
		x -= weight[m];
	}
	return MUT_FIELD;
}

enum mutation mutate(struct fuzz_rng *r, uint8_t *frame, uint32_t *len)
{
	enum mutation first;
	unsigned n;

	if (rng_below(r, 5) == 0)
		return MUT_NONE;
	first = pick(r);
	mutate_one(r, first, frame, len);
	for (n = rng_below(r, 3); n; n--)
		mutate_one(r, pick(r), frame, len);
	return first;
}
