/* The churn test's control plane and its checks of the WAN port (churn.h). */
#include "churn.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>

#include "common/hex.h"
#include "esp/crypto.h"
#include "network.h"
#include "tables/path_mtu.h"
#include "tables/sad.h"
#include "tables/spd.h"

#define CHURN_LINE_MAX 512
#define OUT_MAX 8
#define IN_MAX 16
#define POLICIES_MAX 32
#define SPI_BASE 0x10000u /* the churn's SPIs, spis_per_step() a step from here */
#define REQID_MOVED 1000u /* added to the reqid a template moves to, and back */
#define NATT_PORT 4500
#define ENCAP " encap espinudp " /* then the source port */
#define HARD_PACKETS 100 /* of REKEY_NEWEST's SAs: a step sends more */
#define FLUSH_EVERY 32   /* steps between flushes of every SA */

/* The churn's own policy, for a prefix no corpus frame goes to: with it
 * the out direction has more policies than SPD_SCAN_MAX and workers
 * search it with rte_acl, without it policy by policy. */
#define OWN_POLICY "src 10.1.0.0/24 dst 10.2.97.0/24 dir out"
#define OWN_POLICY_ACTION "action block"

/* The ways of a rekey; the outbound SAs take them by turns in the order
 * of their SPIs. */
enum rekey {
	REKEY_MOVE,         /* new SA of another reqid, template moved, old deleted */
	REKEY_NEWEST,       /* new SA of the same reqid, old deleted */
	REKEY_DELETE_FIRST, /* old SA deleted, new one added */
	REKEY_N,
};

/* An SA of the setup: its line, its own SPI and reqid, and theirs now;
 * outbound, the protect policy whose template names it and the high bits
 * of the sequence numbers it and its successors start with (ESN). */
struct sa_now {
	const char *add;
	uint32_t own_spi, own_reqid;
	uint32_t spi, reqid;
	const char *protect;
	uint32_t esn_hi;
};

struct churn_stats churn_stats;

static struct {
	struct sa_now out[OUT_MAX], in[IN_MAX];
	unsigned n_out, n_in;
	const char *policies[POLICIES_MAX]; /* deleted and added again */
	unsigned n_policies;
	struct spd_selector protected[OUT_MAX];
	unsigned n_protected;
	uint32_t *out_spis; /* of every outbound SA of the run, ascending */
	size_t n_out_spis, out_spis_room;
	uint32_t step;
	void (*between)(void); /* traffic after each command; NULL: none */
	struct esp_crypto verify[OUT_MAX]; /* the keys of out[i] or a successor, */
	uint32_t verify_spi[OUT_MAX];       /* this one */
	struct esp_crypto_worker *crypto;
} churn;

static __rte_noreturn void die(const char *what)
{
	fprintf(stderr, "graph_fuzz: churn: %s\n", what);
	exit(2);
}

/* ---- Command lines ---- */

static bool __attribute__((format(printf, 1, 2))) enter(const char *fmt, ...)
{
	char line[CHURN_LINE_MAX];
	va_list ap;
	bool ok;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ok = fuzz_cli(line) == 0;
	churn_stats.commands++;
	churn_stats.failed += !ok;
	if (churn.between)
		churn.between();
	return ok;
}

/*
 * An SA line's words after "reqid R" (rest) in buf, with keys of its own
 * for the SPIs the churn makes (SPI_BASE and up): each key's first four
 * bytes are the SPI, so an ESP packet sealed with another SA's keys fails
 * the ICV check. The setup's SPIs keep the keys corpus.py uses.
 */
static void rest_keyed(char *buf, size_t size, const char *rest, uint32_t spi)
{
	char *key = buf;

	snprintf(buf, size, "%s", rest);
	while (spi >= SPI_BASE && (key = strstr(key, " 0x")) && strlen(key) > 3 + 8) {
		char digits[9];
		snprintf(digits, sizeof(digits), "%08x", spi);
		memcpy(key + 3, digits, 8);
		key += 3 + 8;
	}
}

static const char *rest_of(const char *add)
{
	const char *rest = strchr(strstr(add, " reqid ") + strlen(" reqid "), ' ');

	return rest ? rest : "";
}

/* The setup's "ipsec sa add ID spi S reqid R REST" with another SPI and
 * reqid, and more words (or ""). */
static void sa_add_more(const struct sa_now *sa, uint32_t spi, uint32_t reqid, const char *more)
{
	const char *id = sa->add + strlen("ipsec sa add");
	int id_len = (int)(strstr(sa->add, " spi ") - id);
	char rest[CHURN_LINE_MAX];

	rest_keyed(rest, sizeof(rest), rest_of(sa->add), spi);
	enter("ipsec sa add%.*s spi %#x reqid %u%s%s", id_len, id, spi, reqid, rest, more);
}

static void sa_add(const struct sa_now *sa, uint32_t spi, uint32_t reqid)
{
	sa_add_more(sa, spi, reqid, "");
}

static void sa_del(const struct sa_now *sa, uint32_t spi)
{
	const char *id = sa->add + strlen("ipsec sa add");
	int id_len = (int)(strstr(sa->add, " spi ") - id);

	churn_stats.removed += enter("ipsec sa del%.*s spi %#x", id_len, id, spi);
}

/* The setup's "ipsec policy add SEL dir D ...": its identity, SEL dir D. */
static int policy_identity_len(const char *add)
{
	const char *id = add + strlen("ipsec policy add");
	const char *dir = strstr(id, " dir ") + strlen(" dir ");
	const char *end = strchr(dir, ' ');

	return (int)((end ? end : dir + strlen(dir)) - id);
}

/* ---- Setup ---- */

static int sa_found(const struct sa *sa, void *arg)
{
	bool out = sa->rt.dir == SA_DIR_OUT;
	struct sa_now *now;
	char spi[32];

	(void)arg;
	if ((out ? churn.n_out : churn.n_in) == (out ? OUT_MAX : IN_MAX))
		die("more SAs than the churn keeps");
	now = out ? &churn.out[churn.n_out++] : &churn.in[churn.n_in++];
	now->own_spi = now->spi = sa->cfg.id.spi;
	now->own_reqid = now->reqid = sa->rt.reqid;
	now->esn_hi = (uint32_t)(sa->out.last >> 32);
	snprintf(spi, sizeof(spi), " spi %#x ", now->spi);
	for (size_t i = 0; i < fuzz_ipsec_n && !now->add; i++)
		if (strstr(fuzz_ipsec_lines[i], spi))
			now->add = fuzz_ipsec_lines[i];
	if (!now->add)
		die("an SA of the setup not found among its lines");
	return 0;
}

static int by_spi(const void *a, const void *b)
{
	const struct sa_now *x = a, *y = b;

	return x->spi < y->spi ? -1 : x->spi > y->spi;
}

static int protected_found(const struct spd_policy *pol, void *arg)
{
	(void)arg;
	if (pol->p.dir == SPD_DIR_OUT && pol->verdict == SPD_PROTECT &&
	    churn.n_protected < OUT_MAX)
		churn.protected[churn.n_protected++] = pol->p.sel;
	return 0;
}

static enum rekey rekey_way(unsigned out)
{
	return (enum rekey)(out % REKEY_N);
}

/* The SPIs a step makes: the outbound SAs' rekeys', then an inbound SA's. */
static uint32_t spis_per_step(void)
{
	return churn.n_out + 1;
}

/* The outbound SA whose template the protect policy's line names. */
static void protect_policy_found(const char *line)
{
	size_t len = strlen(line);
	char reqid[32];

	for (unsigned i = 0; i < churn.n_out; i++) {
		snprintf(reqid, sizeof(reqid), " reqid %u", churn.out[i].own_reqid);
		if (len > strlen(reqid) && strcmp(line + len - strlen(reqid), reqid) == 0)
			churn.out[i].protect = line;
	}
}

/* Protect policies are only updated (deleted, their packets would leave
 * in clear, as the kernel sends them); the others are deleted and added. */
static void policies_find(void)
{
	for (size_t i = 0; i < fuzz_ipsec_n; i++) {
		const char *line = fuzz_ipsec_lines[i];
		if (strncmp(line, "ipsec policy add", strlen("ipsec policy add")) != 0)
			continue;
		if (strstr(line, " dir out tmpl ")) {
			protect_policy_found(line);
			continue;
		}
		if (churn.n_policies == POLICIES_MAX)
			die("more policies than the churn keeps");
		churn.policies[churn.n_policies++] = line;
	}
	for (unsigned i = 0; i < churn.n_out; i++)
		if (rekey_way(i) == REKEY_MOVE && !churn.out[i].protect)
			die("no protect policy for an SA whose template moves");
	if (churn.n_policies == 0)
		die("no policies to churn");
}

static void out_spi_add(uint32_t spi)
{
	if (churn.n_out_spis == churn.out_spis_room) {
		churn.out_spis_room = churn.out_spis_room ? 2 * churn.out_spis_room : 1024;
		churn.out_spis = realloc(churn.out_spis, churn.out_spis_room * sizeof(spi));
		if (!churn.out_spis)
			die("out of memory");
	}
	churn.out_spis[churn.n_out_spis++] = spi;
}

/* ---- Outbound ESP verified ---- */

/* An algorithm of an SA line: after word kw, its name, key and ICV bits. */
static bool line_alg(const char *line, const char *kw, uint8_t *key, size_t *key_len,
		     const struct esp_crypto_alg **alg, unsigned *icv_bits, uint8_t type)
{
	char want[32], name[64], hex[256];
	const char *at;

	snprintf(want, sizeof(want), " %s ", kw);
	at = strstr(line, want);
	if (!at || sscanf(at + strlen(want), "%63s %255s %u", name, hex, icv_bits) < 2 ||
	    strncmp(hex, "0x", 2) != 0 ||
	    hex_decode(hex + 2, strlen(hex) - 2, key, ESP_CRYPTO_AUTH_KEY_MAX, key_len) != 0)
		return false;
	return esp_crypto_alg_lookup(type, name, (unsigned)*key_len * 8, alg) == 0;
}

/* A context with the keys of the SA of spi, successor of the SA of the
 * setup's line, as the peer would hold them. */
static void verifier_init(struct esp_crypto *ctx, const char *add, uint32_t spi)
{
	char line[CHURN_LINE_MAX];
	uint8_t enc[ESP_CRYPTO_AUTH_KEY_MAX], auth[ESP_CRYPTO_AUTH_KEY_MAX];
	struct esp_crypto_params p = { 0 };
	size_t enc_len = 0, auth_len = 0;
	unsigned icv_bits = 0, enc_icv_bits; /* the latter read, but enc has none */
	bool ok;

	rest_keyed(line, sizeof(line), rest_of(add), spi);
	ok = line_alg(line, "aead", enc, &enc_len, &p.aead, &icv_bits, ESP_CRYPTO_ALG_AEAD);

	if (ok) {
		p.aead_key = enc;
		p.aead_key_bits = (uint16_t)(enc_len * 8);
	} else {
		ok = line_alg(line, "enc", enc, &enc_len, &p.enc, &enc_icv_bits,
			      ESP_CRYPTO_ALG_ENC) &&
		     line_alg(line, "auth-trunc", auth, &auth_len, &p.auth, &icv_bits,
			      ESP_CRYPTO_ALG_AUTH);
		p.enc_key = enc;
		p.enc_key_bits = (uint16_t)(enc_len * 8);
		p.auth_key = auth;
		p.auth_key_bits = (uint16_t)(auth_len * 8);
	}
	p.icv_bits = (uint16_t)icv_bits;
	p.esn = strstr(line, " esn ") != NULL;
	ok = ok && esp_crypto_init(ctx, ESP_CRYPTO_ENGINE_IPSECMB, &p) == 0;
	explicit_bzero(line, sizeof(line));
	explicit_bzero(enc, sizeof(enc));
	explicit_bzero(auth, sizeof(auth));
	if (!ok)
		die("an outbound SA's keys not read from its line");
}

/* Which of the setup's outbound SAs spi is of, or a successor of (its
 * index, churn_step's SPIs); n_out for none. */
static unsigned out_of(uint32_t spi)
{
	uint32_t out = (spi - SPI_BASE) % spis_per_step();

	for (unsigned i = 0; i < churn.n_out; i++)
		if (spi == churn.out[i].own_spi)
			return i;
	return spi >= SPI_BASE ? out : churn.n_out;
}

/* The high 32 bits of the sequence number of out[i]'s ESN SA (or a
 * successor's), as its peer infers them: the ESN SAs start 8 short of a
 * subspace's end (network.c), and none sends 2^31 packets in a run, so a
 * low half in the upper half of the space is from before that end. */
static uint32_t esn_hi_of(unsigned i, const uint8_t *esp)
{
	uint32_t low;

	memcpy(&low, esp + 4, sizeof(low));
	return churn.out[i].esn_hi + !(rte_be_to_cpu_32(low) >> 31);
}

/* Whether the whole ESP packet (esp_len bytes at esp, header to ICV) of
 * spi, out[i] or a successor, passes its ICV under that SA's keys. */
static bool esp_authentic(unsigned i, uint32_t spi, uint8_t *esp, uint32_t esp_len)
{
	struct esp_crypto *ctx = &churn.verify[i];

	struct esp_crypto_op op = { .sa = ctx, .esp = esp };
	struct esp_crypto_op *ops[1] = { &op };

	if (churn.verify_spi[i] != spi) {
		esp_crypto_destroy(ctx);
		verifier_init(ctx, churn.out[i].add, spi);
		churn.verify_spi[i] = spi;
	}
	if (esp_len < (uint32_t)ctx->hdr_len + ctx->icv_len)
		return false;
	op.len = esp_len - ctx->hdr_len - ctx->icv_len;
	op.esn_hi = ctx->esn ? esn_hi_of(i, esp) : 0;
	return esp_crypto_decrypt_burst(churn.crypto, ops, 1) == 1;
}

static void sa_freed(const struct sa *sa)
{
	static const struct esp_crypto_keys zero;

	churn_stats.freed++;
	churn_stats.freed_keyed += memcmp(&sa->crypto.keys, &zero, sizeof(zero)) != 0;
}

void churn_init(void (*between)(void))
{
	churn.between = between;
	sad_walk(sa_found, NULL);
	if (churn.n_out == 0 || churn.n_in == 0)
		die("the setup has too few SAs");
	qsort(churn.out, churn.n_out, sizeof(churn.out[0]), by_spi);
	for (unsigned i = 0; i < churn.n_out; i++)
		out_spi_add(churn.out[i].spi);
	for (unsigned i = 0; i < churn.n_out; i++) {
		verifier_init(&churn.verify[i], churn.out[i].add, churn.out[i].spi);
		churn.verify_spi[i] = churn.out[i].spi;
	}
	if (esp_crypto_worker_create(&churn.crypto) != 0)
		die("no crypto managers");
	policies_find();
	spd_walk(protected_found, NULL);
	if (churn.n_protected == 0)
		die("no protect policy");
	sad_free_hook = sa_freed;
}

/* ---- Steps ---- */

/* The protect policy of the SA with its template's reqid. */
static void move_policy_update(const struct sa_now *sa, uint32_t reqid)
{
	const char *sel = sa->protect + strlen("ipsec policy add");
	int sel_len = (int)(strstr(sa->protect, " reqid ") - sel);

	enter("ipsec policy update%.*s reqid %u", sel_len, sel, reqid);
}

static void rekey_move(struct sa_now *sa, uint32_t spi)
{
	uint32_t reqid = sa->reqid == sa->own_reqid ? sa->own_reqid + REQID_MOVED : sa->own_reqid;

	sa_add(sa, spi, reqid);
	move_policy_update(sa, reqid);
	sa_del(sa, sa->spi);
	sa->spi = spi;
	sa->reqid = reqid;
}

/* The new SA stops at a hard packet limit, likely before the next rekey:
 * workers stop it while the control thread replaces it. */
static void rekey_newest(struct sa_now *sa, uint32_t spi)
{
	sa_add_more(sa, spi, sa->reqid, " limit packet-hard " RTE_STR(HARD_PACKETS));
	sa_del(sa, sa->spi);
	sa->spi = spi;
}

/* ESP in UDP from another source port, as after a NAT's mapping changed:
 * `ipsec sa update` changes the SA in place, under the workers. */
static void natt_port_update(const struct sa_now *sa, uint16_t sport)
{
	const char *id = sa->add + strlen("ipsec sa add");
	int id_len = (int)(strstr(sa->add, " spi ") - id);
	char rest[CHURN_LINE_MAX];
	const char *encap, *after;

	rest_keyed(rest, sizeof(rest), rest_of(sa->add), sa->spi);
	encap = strstr(rest, ENCAP);
	if (!encap)
		return;
	after = strchr(encap + strlen(ENCAP), ' ');
	enter("ipsec sa update%.*s spi %#x reqid %u%.*s" ENCAP "%u%s", id_len, id, sa->spi,
	      sa->reqid, (int)(encap - rest), rest, sport, after ? after : "");
}

static void rekey_delete_first(struct sa_now *sa, uint32_t spi)
{
	sa_del(sa, sa->spi);
	sa_add(sa, spi, sa->reqid);
	sa->spi = spi;
	natt_port_update(sa, (uint16_t)(NATT_PORT + churn.step % 2));
}

/* An inbound SA under another SPI for a step, then its own again, deleted
 * and added once more. */
static void inbound_again(uint32_t spi)
{
	struct sa_now *sa = &churn.in[churn.step / 2 % churn.n_in];

	sa_del(sa, sa->spi);
	if (sa->spi == sa->own_spi) {
		sa_add(sa, spi, sa->reqid);
		sa->spi = spi;
		return;
	}
	sa_add(sa, sa->own_spi, sa->reqid);
	sa_del(sa, sa->own_spi);
	sa_add(sa, sa->own_spi, sa->reqid);
	sa->spi = sa->own_spi;
}

static void policy_again(void)
{
	const char *add = churn.policies[churn.step % churn.n_policies];

	enter("ipsec policy del%.*s", policy_identity_len(add),
	      add + strlen("ipsec policy add"));
	enter("%s", add);
	if (churn.step % 2 == 0)
		enter("ipsec policy add " OWN_POLICY " " OWN_POLICY_ACTION);
	else
		enter("ipsec policy del " OWN_POLICY);
}

/* Every SA flushed and the setup's entered again, as after a restart of
 * the IKE daemon; the moved templates moved back. */
static void flush_again(void)
{
	churn_stats.removed += sad_count();
	enter("ipsec sa flush");
	for (size_t i = 0; i < fuzz_ipsec_n; i++)
		if (strncmp(fuzz_ipsec_lines[i], "ipsec sa add", strlen("ipsec sa add")) == 0)
			enter("%s", fuzz_ipsec_lines[i]);
	for (unsigned i = 0; i < churn.n_out; i++)
		if (churn.out[i].reqid != churn.out[i].own_reqid)
			move_policy_update(&churn.out[i], churn.out[i].own_reqid);
	for (unsigned i = 0; i < churn.n_out; i++) {
		churn.out[i].spi = churn.out[i].own_spi;
		churn.out[i].reqid = churn.out[i].own_reqid;
	}
	for (unsigned i = 0; i < churn.n_in; i++)
		churn.in[i].spi = churn.in[i].own_spi;
}

void churn_step(void)
{
	static void (*const rekey[REKEY_N])(struct sa_now *sa, uint32_t spi) = {
		[REKEY_MOVE] = rekey_move,
		[REKEY_NEWEST] = rekey_newest,
		[REKEY_DELETE_FIRST] = rekey_delete_first,
	};
	uint32_t spi = SPI_BASE + spis_per_step() * churn.step;

	/* Known before its SA exists: the worker may send it at once. */
	for (unsigned i = 0; i < churn.n_out; i++)
		out_spi_add(spi + i);
	for (unsigned i = 0; i < churn.n_out; i++)
		rekey[rekey_way(i)](&churn.out[i], spi + i);
	inbound_again(spi + churn.n_out);
	policy_again();
	if (churn.step % FLUSH_EVERY == FLUSH_EVERY - 1)
		flush_again();
	/* As espd's control loop: the MTUs icmp-too-big reported applied. */
	path_mtu_poll(sad_now_s());
	churn.step++;
	churn_stats.steps++;
}

void churn_final_state(void)
{
	churn.between = NULL;
	churn_stats.removed += sad_count();
	enter("ipsec policy flush");
	enter("ipsec sa flush");
	enter("ipsec path-mtu flush");
	churn_stats.commands += fuzz_ipsec_n;
	churn_stats.failed += fuzz_ipsec_enter();
}

bool churn_explains(enum espd_counter c)
{
	switch (c) {
	case ESPD_COUNTER_SPD_OUT_NO_SA:   /* between an SA's delete and its successor */
	case ESPD_COUNTER_SPD_LOCAL_NO_SA:
	case ESPD_COUNTER_ESP_ENC_SA_GONE: /* deleted during the worker's walk */
	case ESPD_COUNTER_ESP_DEC_SA_GONE:
	case ESPD_COUNTER_SPD_IN_POLICY:   /* while an inbound policy is deleted */
	case ESPD_COUNTER_ESP_ENC_EXPIRED: /* at a hard limit until the next rekey */
	case ESPD_COUNTER_ESP_DEC_REPLAY:  /* the same frames again */
	case ESPD_COUNTER_ESP_DEC_WINDOW_LEFT:
	/* the same fragments again, for the router and checked whole: given up */
	case ESPD_COUNTER_IP_REASSEMBLE_DROPPED:
	case ESPD_COUNTER_ICMP_ERROR_RATE_LIMITED:
		return true;
	default:
		return false;
	}
}

/* ---- The WAN port ---- */

static bool protected_key(const struct spd_packet_key *key)
{
	for (unsigned i = 0; i < churn.n_protected; i++)
		if (spd_selector_match(&churn.protected[i], key))
			return true;
	return false;
}

/* An ESP packet out of the WAN port, as the peer finds it. */
struct esp_seen {
	uint32_t spi;
	uint8_t *esp;     /* its ESP header, in the first fragment if fragmented */
	uint32_t esp_len; /* header to ICV, when whole */
	bool whole;
};

/* Where the IP packet at l3 carries its transport header, which one, and
 * whether it is whole (not a fragment); false for a later fragment. */
static bool transport_of(const uint8_t *l3, uint32_t len, uint32_t *at, uint8_t *proto,
			 bool *whole)
{
	uint16_t frag;

	if (l3[0] >> 4 == 4) {
		memcpy(&frag, l3 + 6, sizeof(frag));
		*at = (l3[0] & 0x0f) * 4u;
		*proto = l3[9];
		*whole = (rte_be_to_cpu_16(frag) & (RTE_IPV4_HDR_MF_FLAG |
						    RTE_IPV4_HDR_OFFSET_MASK)) == 0;
		return (rte_be_to_cpu_16(frag) & RTE_IPV4_HDR_OFFSET_MASK) == 0;
	}
	*at = 40;
	*proto = l3[6];
	*whole = *proto != IPPROTO_FRAGMENT;
	if (*whole)
		return true;
	if (len < 48)
		return false;
	memcpy(&frag, l3 + 42, sizeof(frag));
	*at = 48;
	*proto = l3[40];
	return (rte_be_to_cpu_16(frag) & 0xfff8) == 0;
}

/* The IP packet's length as its header says. */
static uint32_t ip_len_of(const uint8_t *l3)
{
	uint16_t len;

	memcpy(&len, l3 + (l3[0] >> 4 == 4 ? 2 : 4), sizeof(len));
	return rte_be_to_cpu_16(len) + (l3[0] >> 4 == 4 ? 0u : 40u);
}

/* ESP, or ESP in UDP to the NAT-T port (not IKE's non-ESP marker), in the
 * first fragment if fragmented; false if not ESP. */
static bool esp_find(uint8_t *l3, uint32_t len, struct esp_seen *e)
{
	uint32_t at, ip_len = ip_len_of(l3);
	uint8_t proto;
	uint16_t dport;

	if (!transport_of(l3, len, &at, &proto, &e->whole))
		return false;
	if (proto == IPPROTO_UDP) {
		if (len < at + 8 + sizeof(e->spi))
			return false;
		memcpy(&dport, l3 + at + 2, sizeof(dport));
		if (rte_be_to_cpu_16(dport) != NATT_PORT)
			return false;
		at += 8;
	} else if (proto != IPPROTO_ESP || len < at + sizeof(e->spi)) {
		return false;
	}
	memcpy(&e->spi, l3 + at, sizeof(e->spi));
	e->spi = rte_be_to_cpu_32(e->spi);
	e->esp = l3 + at;
	e->whole = e->whole && ip_len <= len && ip_len >= at;
	e->esp_len = e->whole ? ip_len - at : 0;
	return proto == IPPROTO_ESP || e->spi != 0;
}

static int spi_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* A whole ESP packet is decrypted in place (the frame is freed after). */
static void esp_check(struct esp_seen *e)
{
	unsigned out = out_of(e->spi);

	churn_stats.wan_esp++;
	if (!bsearch(&e->spi, churn.out_spis, churn.n_out_spis, sizeof(e->spi), spi_cmp) ||
	    out == churn.n_out) {
		churn_stats.bad_spi++;
		return;
	}
	if (!e->whole)
		return;
	churn_stats.wan_esp_whole++;
	churn_stats.icv_bad += !esp_authentic(out, e->spi, e->esp, e->esp_len);
}

void churn_wan_frame(struct rte_mbuf *m)
{
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);
	uint16_t type = len >= RTE_ETHER_HDR_LEN ? (uint16_t)(d[12] << 8 | d[13]) : 0;
	struct spd_packet_key key;
	struct esp_seen e;

	if (!(type == RTE_ETHER_TYPE_IPV4 && len >= RTE_ETHER_HDR_LEN + 20) &&
	    !(type == RTE_ETHER_TYPE_IPV6 && len >= RTE_ETHER_HDR_LEN + 40))
		return;
	churn_stats.wan_ip++;
	if (esp_find(d + RTE_ETHER_HDR_LEN, len - RTE_ETHER_HDR_LEN, &e)) {
		esp_check(&e);
		return;
	}
	if (spd_packet_key_parse(&key, d + RTE_ETHER_HDR_LEN, len - RTE_ETHER_HDR_LEN) == 0 &&
	    protected_key(&key))
		churn_stats.clear++;
}
