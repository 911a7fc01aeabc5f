/*
 * linux-cp offloads: AF_PACKET sees frames after GRO, so a device left with
 * GRO (or LRO, or hardware GRO) on hands the dataplane aggregates of up to
 * 64 KB that its 2 KB buffers cannot hold. Takeover turns those off, and
 * GSO and TSO with them; restore sets back what the device's owner had
 * asked for.
 *
 * The features are addressed by their ethtool names (LCP_OFFLOAD_LIST)
 * through the SIOCETHTOOL ioctl: ETHTOOL_GSTRINGS maps names to bits,
 * ETHTOOL_GFEATURES/SFEATURES read and set them. Unlike ETHTOOL_STSO, this
 * puts each TSO variant back as it was. A feature the kernel does not know,
 * or the driver does not let change, is recorded as unsupported and left
 * alone.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>

#include "ports/lcp_internal.h"

static const char *const feature_names[LCP_OFFLOADS] = {
#define FEATURE_NAME(id, word, feature) [LCP_OFFLOAD_##id] = feature,
	LCP_OFFLOAD_LIST(FEATURE_NAME)
#undef FEATURE_NAME
};

/* The device's feature words and where ours are in them. */
struct features {
	int fd;
	const char *ifname;
	int bit[LCP_OFFLOADS];            /* -1: the kernel has no feature of that name */
	uint32_t n_words;
	struct ethtool_gfeatures *words;
};

static int ethtool(const struct features *f, void *cmd)
{
	struct ifreq ifr = { 0 };
	int rc;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", f->ifname);
	ifr.ifr_data = cmd;
	rc = ioctl(f->fd, SIOCETHTOOL, &ifr);
	return rc < 0 ? -errno : rc;
}

/* How many features the kernel names. */
static int features_count(const struct features *f, uint32_t *count)
{
	union {
		struct ethtool_sset_info info;
		uint8_t bytes[sizeof(struct ethtool_sset_info) + sizeof(uint32_t)];
	} u = { .info = { .cmd = ETHTOOL_GSSET_INFO, .sset_mask = 1ULL << ETH_SS_FEATURES } };
	int rc = ethtool(f, &u);

	if (rc < 0)
		return rc;
	if (!(u.info.sset_mask & (1ULL << ETH_SS_FEATURES)))
		return -EOPNOTSUPP;
	*count = u.info.data[0];
	return 0;
}

static int features_find(struct features *f, uint32_t count)
{
	struct ethtool_gstrings *names = calloc(1, sizeof(*names) + (size_t)count * ETH_GSTRING_LEN);
	int rc;

	if (!names)
		return -ENOMEM;
	names->cmd = ETHTOOL_GSTRINGS;
	names->string_set = ETH_SS_FEATURES;
	names->len = count;
	rc = ethtool(f, names);
	for (size_t k = 0; k < LCP_OFFLOADS; k++) {
		f->bit[k] = -1;
		for (uint32_t i = 0; rc >= 0 && i < names->len && i < count; i++)
			if (strncmp((const char *)names->data + i * ETH_GSTRING_LEN, feature_names[k],
				    ETH_GSTRING_LEN) == 0)
				f->bit[k] = (int)i;
	}
	free(names);
	return rc < 0 ? rc : 0;
}

static int features_read(struct features *f)
{
	f->words->cmd = ETHTOOL_GFEATURES;
	f->words->size = f->n_words;
	return ethtool(f, f->words);
}

static void features_close(struct features *f)
{
	free(f->words);
	f->words = NULL;
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

/* Open the device's features; -EOPNOTSUPP when it has none to offer. */
static int features_open(struct features *f, const char *ifname)
{
	uint32_t count = 0;
	int rc;

	memset(f, 0, sizeof(*f));
	f->ifname = ifname;
	f->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (f->fd < 0)
		return -errno;
	if ((rc = features_count(f, &count)) < 0 || (rc = features_find(f, count)) < 0)
		goto fail;
	f->n_words = (count + 31) / 32;
	f->words = calloc(1, sizeof(*f->words) + f->n_words * sizeof(f->words->features[0]));
	if (!f->words) {
		rc = -ENOMEM;
		goto fail;
	}
	if ((rc = features_read(f)) >= 0)
		return 0;
fail:
	features_close(f);
	return rc;
}

/* Bit k of one of the words of block ethtool_get_features_block. */
#define FEATURE(f, k, field) \
	(((f)->words->features[(f)->bit[k] / 32].field >> ((f)->bit[k] % 32)) & 1)

/* Whether offload k exists and the driver lets it change. */
static bool changeable(const struct features *f, size_t k)
{
	return f->bit[k] >= 0 && (uint32_t)f->bit[k] / 32 < f->n_words && FEATURE(f, k, available);
}

/* Ask for offload k = on for each k whose saved state is not unsupported. */
static int features_set(struct features *f, const uint8_t saved[LCP_OFFLOADS], bool restore)
{
	struct ethtool_sfeatures *set = calloc(1, sizeof(*set) + f->n_words * sizeof(set->features[0]));
	int rc;

	if (!set)
		return -ENOMEM;
	set->cmd = ETHTOOL_SFEATURES;
	set->size = f->n_words;
	for (size_t k = 0; k < LCP_OFFLOADS; k++) {
		if (saved[k] == LCP_OFFLOAD_UNSUPPORTED || !changeable(f, k))
			continue;
		uint32_t mask = 1u << (f->bit[k] % 32);
		set->features[f->bit[k] / 32].valid |= mask;
		if (restore && saved[k] == LCP_OFFLOAD_ON)
			set->features[f->bit[k] / 32].requested |= mask;
	}
	/* A positive answer only says the result differs from the wish. */
	rc = ethtool(f, set);
	free(set);
	return rc < 0 ? rc : features_read(f);
}

int lcp_offloads_capture(const char *ifname, struct lcp_saved *s)
{
	struct features f;
	int rc = features_open(&f, ifname);

	memset(s->offloads, LCP_OFFLOAD_UNSUPPORTED, sizeof(s->offloads));
	if (rc == -EOPNOTSUPP)
		return 0;
	if (rc < 0)
		return lcp_fail(s->name, "reading offloads", rc);
	for (size_t k = 0; k < LCP_OFFLOADS; k++)
		if (changeable(&f, k))
			s->offloads[k] = FEATURE(&f, k, requested) ? LCP_OFFLOAD_ON : LCP_OFFLOAD_OFF;
	features_close(&f);
	return 0;
}

int lcp_offloads_off(const struct lcp_saved *s, const char *ifname)
{
	struct features f;
	int rc = features_open(&f, ifname);

	if (rc == -EOPNOTSUPP)
		return 0;
	if (rc < 0 || (rc = features_set(&f, s->offloads, false)) < 0) {
		features_close(&f);
		return lcp_fail(s->name, "turning offloads off", rc);
	}
	/* A fixed or dependent feature the driver keeps on is worth a word:
	 * the dataplane may see frames bigger than the MTU. */
	for (size_t k = 0; k < LCP_OFFLOADS; k++)
		if (f.bit[k] >= 0 && FEATURE(&f, k, active))
			fprintf(stderr, "espd: lcp: %s: %s stays on: the driver keeps it\n", s->name,
				feature_names[k]);
	features_close(&f);
	return 0;
}

int lcp_offloads_restore(const struct lcp_saved *s, const char *ifname)
{
	struct features f;
	int rc = features_open(&f, ifname);

	if (rc == -EOPNOTSUPP)
		return 0;
	if (rc == 0)
		rc = features_set(&f, s->offloads, true);
	features_close(&f);
	return rc < 0 ? lcp_fail(s->name, "restoring offloads", rc) : 0;
}
