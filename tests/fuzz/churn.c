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

#include "network.h"
#include "tables/path_mtu.h"
#include "tables/sad.h"
#include "tables/spd.h"

#define CHURN_LINE_MAX 512
#define OUT_MAX 8
#define IN_MAX 16
#define POLICIES_MAX 32
#define SPI_BASE 0x10000u /* the churn's SPIs, four a step from here */
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

/* The ways of a rekey; the outbound SAs take them in the order of their SPIs. */
enum rekey {
	REKEY_MOVE,         /* new SA of another reqid, template moved, old deleted */
	REKEY_NEWEST,       /* new SA of the same reqid, old deleted */
	REKEY_DELETE_FIRST, /* old SA deleted, new one added */
	REKEY_N,
};

/* An SA of the setup: its line, its own SPI and reqid, and theirs now. */
struct sa_now {
	const char *add;
	uint32_t own_spi, own_reqid;
	uint32_t spi, reqid;
};

struct churn_stats churn_stats;

static struct {
	struct sa_now out[OUT_MAX], in[IN_MAX];
	unsigned n_out, n_in;
	const char *move_policy; /* the protect policy of out[REKEY_MOVE] */
	const char *policies[POLICIES_MAX]; /* deleted and added again */
	unsigned n_policies;
	struct spd_selector protected[OUT_MAX];
	unsigned n_protected;
	uint32_t *out_spis; /* of every outbound SA of the run, ascending */
	size_t n_out_spis, out_spis_room;
	uint32_t step;
	void (*between)(void); /* traffic after each command; NULL: none */
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

/* The setup's "ipsec sa add ID spi S reqid R REST" with another SPI and
 * reqid, and more words (or ""). */
static void sa_add_more(const struct sa_now *sa, uint32_t spi, uint32_t reqid, const char *more)
{
	const char *id = sa->add + strlen("ipsec sa add");
	int id_len = (int)(strstr(sa->add, " spi ") - id);
	const char *rest = strchr(strstr(sa->add, " reqid ") + strlen(" reqid "), ' ');

	enter("ipsec sa add%.*s spi %#x reqid %u%s%s", id_len, id, spi, reqid, rest ? rest : "",
	      more);
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

/* Protect policies are only updated (deleted, their packets would leave
 * in clear, as the kernel sends them); the others are deleted and added. */
static void policies_find(void)
{
	char reqid[32];

	snprintf(reqid, sizeof(reqid), " reqid %u", churn.out[REKEY_MOVE].own_reqid);
	for (size_t i = 0; i < fuzz_ipsec_n; i++) {
		const char *line = fuzz_ipsec_lines[i];
		size_t len = strlen(line);
		if (strncmp(line, "ipsec policy add", strlen("ipsec policy add")) != 0)
			continue;
		if (strstr(line, " dir out tmpl ")) {
			if (len > strlen(reqid) && strcmp(line + len - strlen(reqid), reqid) == 0)
				churn.move_policy = line;
			continue;
		}
		if (churn.n_policies == POLICIES_MAX)
			die("more policies than the churn keeps");
		churn.policies[churn.n_policies++] = line;
	}
	if (!churn.move_policy || churn.n_policies == 0)
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
	if (churn.n_out < REKEY_N || churn.n_in == 0)
		die("the setup has too few SAs");
	qsort(churn.out, churn.n_out, sizeof(churn.out[0]), by_spi);
	for (unsigned i = 0; i < churn.n_out; i++)
		out_spi_add(churn.out[i].spi);
	policies_find();
	spd_walk(protected_found, NULL);
	if (churn.n_protected == 0)
		die("no protect policy");
	sad_free_hook = sa_freed;
}

/* ---- Steps ---- */

static void rekey_move(struct sa_now *sa, uint32_t spi)
{
	uint32_t reqid = sa->reqid == sa->own_reqid ? sa->own_reqid + REQID_MOVED : sa->own_reqid;
	const char *sel = churn.move_policy + strlen("ipsec policy add");
	int sel_len = (int)(strstr(churn.move_policy, " reqid ") - sel);

	sa_add(sa, spi, reqid);
	enter("ipsec policy update%.*s reqid %u", sel_len, sel, reqid);
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
	const char *rest = strchr(strstr(sa->add, " reqid ") + strlen(" reqid "), ' ');
	const char *encap = strstr(sa->add, ENCAP);
	const char *after;

	if (!encap || !rest || encap < rest)
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
 * the IKE daemon; the moved template moved back. */
static void flush_again(void)
{
	struct sa_now *move = &churn.out[REKEY_MOVE];
	const char *sel = churn.move_policy + strlen("ipsec policy add");
	int sel_len = (int)(strstr(churn.move_policy, " reqid ") - sel);

	churn_stats.removed += sad_count();
	enter("ipsec sa flush");
	for (size_t i = 0; i < fuzz_ipsec_n; i++)
		if (strncmp(fuzz_ipsec_lines[i], "ipsec sa add", strlen("ipsec sa add")) == 0)
			enter("%s", fuzz_ipsec_lines[i]);
	if (move->reqid != move->own_reqid)
		enter("ipsec policy update%.*s reqid %u", sel_len, sel, move->own_reqid);
	for (unsigned i = 0; i < churn.n_out; i++) {
		churn.out[i].spi = churn.out[i].own_spi;
		churn.out[i].reqid = churn.out[i].own_reqid;
	}
	for (unsigned i = 0; i < churn.n_in; i++)
		churn.in[i].spi = churn.in[i].own_spi;
}

void churn_step(void)
{
	uint32_t spi = SPI_BASE + 4 * churn.step;

	/* Known before its SA exists: the worker may send it at once. */
	for (unsigned r = 0; r < REKEY_N; r++)
		out_spi_add(spi + r);
	rekey_move(&churn.out[REKEY_MOVE], spi + REKEY_MOVE);
	rekey_newest(&churn.out[REKEY_NEWEST], spi + REKEY_NEWEST);
	rekey_delete_first(&churn.out[REKEY_DELETE_FIRST], spi + REKEY_DELETE_FIRST);
	inbound_again(spi + REKEY_N);
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
	case ESPD_COUNTER_SPD_IN_SA_GONE:
	case ESPD_COUNTER_PUNT_SA_GONE:
	case ESPD_COUNTER_SPD_IN_POLICY:   /* while an inbound policy is deleted */
	case ESPD_COUNTER_ESP_ENC_EXPIRED: /* at a hard limit until the next rekey */
	case ESPD_COUNTER_ESP_DEC_REPLAY:  /* the same frames again */
	case ESPD_COUNTER_ESP_DEC_WINDOW_LEFT:
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

/* Where the IP packet at l3 carries its transport header, and which one;
 * false for a later fragment. */
static bool transport_of(const uint8_t *l3, uint32_t len, uint32_t *at, uint8_t *proto)
{
	uint16_t frag;

	if (l3[0] >> 4 == 4) {
		memcpy(&frag, l3 + 6, sizeof(frag));
		*at = (l3[0] & 0x0f) * 4u;
		*proto = l3[9];
		return (rte_be_to_cpu_16(frag) & RTE_IPV4_HDR_OFFSET_MASK) == 0;
	}
	*at = 40;
	*proto = l3[6];
	if (*proto != IPPROTO_FRAGMENT)
		return true;
	if (len < 48)
		return false;
	memcpy(&frag, l3 + 42, sizeof(frag));
	*at = 48;
	*proto = l3[40];
	return (rte_be_to_cpu_16(frag) & 0xfff8) == 0;
}

/* The SPI of ESP, or of ESP in UDP to the NAT-T port (not IKE's non-ESP
 * marker), in the first fragment if fragmented; false if not ESP. */
static bool esp_spi(const uint8_t *l3, uint32_t len, uint32_t *spi)
{
	uint32_t at;
	uint8_t proto;
	uint16_t dport;

	if (!transport_of(l3, len, &at, &proto))
		return false;
	if (proto == IPPROTO_UDP) {
		if (len < at + 8 + sizeof(*spi))
			return false;
		memcpy(&dport, l3 + at + 2, sizeof(dport));
		if (rte_be_to_cpu_16(dport) != NATT_PORT)
			return false;
		at += 8;
	} else if (proto != IPPROTO_ESP || len < at + sizeof(*spi)) {
		return false;
	}
	memcpy(spi, l3 + at, sizeof(*spi));
	*spi = rte_be_to_cpu_32(*spi);
	return proto == IPPROTO_ESP || *spi != 0;
}

static int spi_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

void churn_wan_frame(const struct rte_mbuf *m)
{
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m), spi;
	uint16_t type = len >= RTE_ETHER_HDR_LEN ? (uint16_t)(d[12] << 8 | d[13]) : 0;
	struct spd_packet_key key;

	if (!(type == RTE_ETHER_TYPE_IPV4 && len >= RTE_ETHER_HDR_LEN + 20) &&
	    !(type == RTE_ETHER_TYPE_IPV6 && len >= RTE_ETHER_HDR_LEN + 40))
		return;
	churn_stats.wan_ip++;
	if (esp_spi(d + RTE_ETHER_HDR_LEN, len - RTE_ETHER_HDR_LEN, &spi)) {
		churn_stats.wan_esp++;
		churn_stats.bad_spi += !bsearch(&spi, churn.out_spis, churn.n_out_spis, sizeof(spi),
						spi_cmp);
		return;
	}
	if (spd_packet_key_parse(&key, d + RTE_ETHER_HDR_LEN, len - RTE_ETHER_HDR_LEN) == 0 &&
	    protected_key(&key))
		churn_stats.clear++;
}
