/*
 * The configuration: `set vpp settings ...` (ports, CPU, netlink, IPsec),
 * reading a file line by line, the checks that need the whole file, and
 * building struct config once everything is valid. `set vpp acl ...` is in
 * config_acl.c and config_macip.c, the parser engine in config_parse.c.
 *
 * Both the 2025 VyOS paths (`interface X driver D`, `dpdk-options ...`,
 * `lcp netlink ...`, `ipsec netlink ...`) and the 2026 ones (`interface X
 * num-rx-queues N`, `interface-rx-mode M`, `ignore-kernel-routes`) write the
 * same fields, so either spelling gives the same model.
 */
#include "config/config.h"
#include "config/config_parse.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUEUES_MAX 64

_Static_assert(sizeof(enum port_driver) == sizeof(int) &&
		       sizeof(enum rx_mode) == sizeof(int) &&
		       sizeof(enum ipsec_interface_type) == sizeof(int) &&
		       sizeof(enum crypto_engine) == sizeof(int),
	       "parser_leaf_choice stores enums as int");

/* Value names, indexed by the enum they spell. */
static const char *const driver_names[] = {"dpdk", "xdp", "af-packet", NULL};
static const char *const rx_mode_names[] = {"adaptive", "polling", "interrupt", NULL};
static const char *const ipsec_type_names[] = {"ipsec", "ipip", NULL};
static const char *const crypto_names[] = {"ipsecmb", "openssl", NULL};

void config_init(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->cpu.main_core = -1;
	cfg->cpu.workers = -1;
	cfg->cpu.cores = -1;
	CPU_ZERO(&cfg->cpu.worker_cores);
	cfg->netlink.rx_buffer_size = CONFIG_NETLINK_RX_BUFFER_SIZE_DEFAULT;
	cfg->netlink.batch_size = CONFIG_NETLINK_BATCH_SIZE_DEFAULT;
	cfg->netlink.batch_delay_ms = CONFIG_NETLINK_BATCH_DELAY_MS_DEFAULT;
	cfg->interface_rx_mode = RX_MODE_ADAPTIVE;
	cfg->ipsec_interface_type = IPSEC_INTERFACE_IPSEC;
	cfg->crypto_engine = CRYPTO_ENGINE_IPSECMB;
}

void config_free(struct config *cfg)
{
	free(cfg->interfaces);
	config_acl_free(cfg);
	config_macip_free(cfg);
	config_init(cfg);
}

/* ---- set vpp settings interface ---- */

static int interface_add(struct parser *p, const char *name)
{
	for (size_t i = 0; i < p->n_ifaces; i++) {
		if (strcmp(p->ifaces[i].ifc.name, name) == 0) {
			p->iface = &p->ifaces[i];
			return 0;
		}
	}
	p->iface = parser_insert(p, (void **)&p->ifaces, &p->n_ifaces, &p->cap_ifaces,
				 sizeof(*p->ifaces), p->n_ifaces);
	if (!p->iface)
		return -ENOMEM;
	strcpy(p->iface->ifc.name, name);
	p->iface->ifc.driver = PORT_DRIVER_DPDK;
	return 0;
}

static int parse_interface(struct parser *p, const struct keyword *kw)
{
	const char *name;
	int rc = parser_ifname(p, &name);
	if (rc == 0)
		rc = interface_add(p, name);
	if (rc)
		return rc;
	p->obj = &p->iface->ifc;
	/* `set vpp settings interface eth1` alone takes eth1 with defaults. */
	return p->pos == p->n_words ? 0 : parser_dispatch(p, kw->children);
}

static int parse_dpdk_options(struct parser *p, const struct keyword *kw)
{
	if (!p->iface->dpdk_options_line)
		p->iface->dpdk_options_line = p->line;
	return parser_dispatch(p, kw->children);
}

static int parse_xdp_options(struct parser *p, const struct keyword *kw)
{
	if (!p->iface->xdp_options_line)
		p->iface->xdp_options_line = p->line;
	return parser_dispatch(p, kw->children);
}

static int parse_rx_mode(struct parser *p, const struct keyword *kw)
{
	int rc = parser_leaf_choice(p, kw);
	if (rc == 0)
		p->iface->ifc.rx_mode_set = true;
	return rc;
}

static size_t hex_run(const char *s)
{
	size_t n = 0;
	while (isxdigit((unsigned char)s[n]))
		n++;
	return n;
}

/* [domain:]bus:device.function, as DPDK's -a takes it. */
static bool is_pci_address(const char *s, size_t len)
{
	size_t n = hex_run(s);
	if (n >= 1 && n <= 8 && s[n] == ':' && hex_run(s + n + 1) == 2 && s[n + 3] == ':') {
		len -= n + 1;
		s += n + 1;
	}
	return len == 7 && hex_run(s) == 2 && s[2] == ':' && hex_run(s + 3) == 2 &&
	       s[5] == '.' && s[6] >= '0' && s[6] <= '7';
}

static bool is_vdev_name(const char *s, size_t len)
{
	if (len <= 4 || strncmp(s, "net_", 4) != 0)
		return false;
	for (size_t i = 4; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

/* A PCI address or a vdev name, either followed by ",devargs". */
static int parse_dev(struct parser *p, const struct keyword *kw)
{
	const char *w = parser_value(p, "a PCI address or a vdev");
	(void)kw;
	if (!w)
		return -EINVAL;
	size_t name_len = strcspn(w, ",");
	if (strlen(w) >= CONFIG_DEV_LEN)
		return parser_error(p, w, "longer than %d characters", CONFIG_DEV_LEN - 1);
	if (strpbrk(w, " \t") || !(is_pci_address(w, name_len) || is_vdev_name(w, name_len)))
		return parser_error(p, w,
				    "invalid device, expected a PCI address (0000:03:00.0) or a "
				    "vdev (net_tap0,iface=tap0)");
	strcpy(p->iface->ifc.dpdk_dev, w);
	return 0;
}

/* `num-rx-queues all` is the AF_XDP default: every queue of the NIC. */
static int parse_xdp_rx_queues(struct parser *p, const struct keyword *kw)
{
	uint64_t v = 0;
	const char *w = parser_value(p, "a number 1-64 or all");
	if (!w)
		return -EINVAL;
	if (strcmp(w, "all") != 0 && parser_number(p, w, kw->lo, kw->hi, &v))
		return -EINVAL;
	*(uint16_t *)parser_field(p, kw) = (uint16_t)v;
	return 0;
}

#define IFC(member) offsetof(struct config_interface, member)

static const struct keyword dpdk_options_kw[] = {
	{.name = "dev", .parse = parse_dev},
	{.name = "num-rx-queues", .parse = parser_leaf_u16, .offset = IFC(num_rx_queues), .lo = 1, .hi = QUEUES_MAX},
	{.name = "num-tx-queues", .parse = parser_leaf_u16, .offset = IFC(num_tx_queues), .lo = 1, .hi = QUEUES_MAX},
	{.name = "num-rx-desc", .parse = parser_leaf_ring, .offset = IFC(num_rx_desc), .lo = PARSER_RING_MIN, .hi = PARSER_RING_MAX},
	{.name = "num-tx-desc", .parse = parser_leaf_ring, .offset = IFC(num_tx_desc), .lo = PARSER_RING_MIN, .hi = PARSER_RING_MAX},
	{.name = "promisc", .parse = parser_leaf_flag, .offset = IFC(promisc)},
	{0},
};

static const struct keyword xdp_options_kw[] = {
	{.name = "num-rx-queues", .parse = parse_xdp_rx_queues, .offset = IFC(num_rx_queues), .lo = 1, .hi = QUEUES_MAX},
	{.name = "rx-queue-size", .parse = parser_leaf_ring, .offset = IFC(rx_queue_size), .lo = 0, .hi = PARSER_RING_MAX},
	{.name = "tx-queue-size", .parse = parser_leaf_ring, .offset = IFC(tx_queue_size), .lo = 0, .hi = PARSER_RING_MAX},
	{.name = "zero-copy", .parse = parser_leaf_flag, .offset = IFC(zero_copy)},
	{.name = "promisc", .parse = parser_leaf_flag, .offset = IFC(promisc)},
	{.name = "no-syscall-lock", .parse = parser_leaf_flag, .offset = IFC(no_syscall_lock)},
	{0},
};

static const struct keyword interface_kw[] = {
	{.name = "driver", .parse = parser_leaf_choice, .offset = IFC(driver), .names = driver_names},
	{.name = "dpdk-options", .parse = parse_dpdk_options, .children = dpdk_options_kw},
	{.name = "xdp-options", .parse = parse_xdp_options, .children = xdp_options_kw},
	{.name = "rx-mode", .parse = parse_rx_mode, .offset = IFC(rx_mode), .names = rx_mode_names},
	{.name = "num-rx-queues", .parse = parser_leaf_u16, .offset = IFC(num_rx_queues), .lo = 1, .hi = QUEUES_MAX},
	{.name = "num-tx-queues", .parse = parser_leaf_u16, .offset = IFC(num_tx_queues), .lo = 1, .hi = QUEUES_MAX},
	{.name = "num-rx-desc", .parse = parser_leaf_ring, .offset = IFC(num_rx_desc), .lo = PARSER_RING_MIN, .hi = PARSER_RING_MAX},
	{.name = "num-tx-desc", .parse = parser_leaf_ring, .offset = IFC(num_tx_desc), .lo = PARSER_RING_MIN, .hi = PARSER_RING_MAX},
	{0},
};

/* Options of one driver given to an interface using another one. */
static void check_interfaces(struct parser *p)
{
	for (size_t i = 0; i < p->n_ifaces; i++) {
		const struct iface_draft *d = &p->ifaces[i];
		const char *driver = format_port_driver(d->ifc.driver);
		if (d->xdp_options_line && d->ifc.driver != PORT_DRIVER_XDP)
			parser_defer_error(p, d->xdp_options_line, "xdp-options",
					   "not applicable to driver %s", driver);
		if (d->dpdk_options_line && d->ifc.driver == PORT_DRIVER_XDP)
			parser_defer_error(p, d->dpdk_options_line, "dpdk-options",
					   "not applicable to driver %s", driver);
	}
}

/* ---- set vpp settings cpu / lcp / ipsec ---- */

static int core_range(struct parser *p, char *item, cpu_set_t *set)
{
	uint64_t first, last;
	char *dash = strchr(item, '-');
	if (dash)
		*dash = '\0';
	if (parser_number(p, item, 0, CONFIG_MAX_CORE, &first))
		return -EINVAL;
	last = first;
	if (dash && parser_number(p, dash + 1, 0, CONFIG_MAX_CORE, &last))
		return -EINVAL;
	if (last < first) {
		*dash = '-';
		return parser_error(p, item, "range start greater than end");
	}
	for (uint64_t c = first; c <= last; c++)
		CPU_SET(c, set);
	return 0;
}

static int workers_check(struct parser *p, const char *word, int n_workers)
{
	if (n_workers <= CONFIG_WORKERS_MAX)
		return 0;
	return parser_error(p, word, "%d workers: espd runs at most %d (DPDK 22.11's TAP "
			    "driver fails with more queues)", n_workers, CONFIG_WORKERS_MAX);
}

static int parse_workers(struct parser *p, const struct keyword *kw)
{
	int rc = parser_leaf_int(p, kw);

	return rc ? rc : workers_check(p, parser_prev(p), p->cfg.cpu.workers);
}

/* "1,3-5"; several corelist-workers lines add up, as a VyOS multi leaf. */
static int parse_corelist(struct parser *p, const struct keyword *kw)
{
	char list[256], *save = NULL;
	cpu_set_t set;
	const char *w = parser_value(p, "a core list such as 1,3-5");
	(void)kw;
	if (!w)
		return -EINVAL;
	if (strlen(w) >= sizeof(list) || w[0] == ',' || w[strlen(w) - 1] == ',' ||
	    strstr(w, ",,"))
		return parser_error(p, w, "invalid core list, expected a list such as 1,3-5");
	strcpy(list, w);
	CPU_ZERO(&set);
	for (char *item = strtok_r(list, ",", &save); item; item = strtok_r(NULL, ",", &save))
		if (core_range(p, item, &set))
			return -EINVAL;
	CPU_OR(&p->cfg.cpu.worker_cores, &p->cfg.cpu.worker_cores, &set);
	return workers_check(p, w, CPU_COUNT(&p->cfg.cpu.worker_cores));
}

static int parse_obj_cpu(struct parser *p, const struct keyword *kw)
{
	p->obj = &p->cfg.cpu;
	return parser_dispatch(p, kw->children);
}

static int parse_obj_netlink(struct parser *p, const struct keyword *kw)
{
	p->obj = &p->cfg.netlink;
	return parser_dispatch(p, kw->children);
}

#define CPU(member) offsetof(struct config_cpu, member)
#define NL(member) offsetof(struct config_netlink, member)
#define CFG(member) offsetof(struct config, member)

static const struct keyword cpu_kw[] = {
	{.name = "main-core", .parse = parser_leaf_int, .offset = CPU(main_core), .lo = 0, .hi = CONFIG_MAX_CORE},
	{.name = "corelist-workers", .parse = parse_corelist},
	{.name = "workers", .parse = parse_workers, .offset = CPU(workers), .lo = 0, .hi = CONFIG_MAX_CORE},
	{.name = "skip-cores", .parse = parser_leaf_int, .offset = CPU(skip_cores), .lo = 0, .hi = CONFIG_MAX_CORE},
	{0},
};

static const struct keyword resource_kw[] = {
	{.name = "cpu-cores", .parse = parser_leaf_int, .offset = CPU(cores), .lo = 1, .hi = CONFIG_MAX_CORE},
	{0},
};

static const struct keyword netlink_kw[] = {
	{.name = "rx-buffer-size", .parse = parser_leaf_u32, .offset = NL(rx_buffer_size), .lo = 4096, .hi = 1u << 30},
	{.name = "batch-size", .parse = parser_leaf_u32, .offset = NL(batch_size), .lo = 1, .hi = 100000},
	{.name = "batch-delay-ms", .parse = parser_leaf_u32, .offset = NL(batch_delay_ms), .lo = 0, .hi = 10000},
	{0},
};

static const struct keyword lcp_kw[] = {
	{.name = "netlink", .parse = parse_obj_netlink, .children = netlink_kw},
	{.name = "ignore-kernel-routes", .parse = parser_leaf_flag, .offset = CFG(ignore_kernel_routes)},
	{0},
};

static const struct keyword ipsec_kw[] = {
	{.name = "interface-type", .parse = parser_leaf_choice, .offset = CFG(ipsec_interface_type), .names = ipsec_type_names},
	{.name = "crypto-engine", .parse = parser_leaf_choice, .offset = CFG(crypto_engine), .names = crypto_names},
	{.name = "netlink", .parse = parse_obj_netlink, .children = netlink_kw},
	{0},
};

static const struct keyword settings_kw[] = {
	{.name = "interface", .parse = parse_interface, .children = interface_kw},
	{.name = "interface-rx-mode", .parse = parser_leaf_choice, .offset = CFG(interface_rx_mode), .names = rx_mode_names},
	{.name = "cpu", .parse = parse_obj_cpu, .children = cpu_kw},
	{.name = "resource-allocation", .parse = parse_obj_cpu, .children = resource_kw},
	{.name = "lcp", .parse = parser_node, .children = lcp_kw},
	{.name = "ignore-kernel-routes", .parse = parser_leaf_flag, .offset = CFG(ignore_kernel_routes)},
	{.name = "ipsec", .parse = parser_node, .children = ipsec_kw},
	{.name = "ipsec-acceleration", .parse = parser_leaf_flag, .offset = CFG(ipsec_acceleration)},
	{0},
};

static const struct keyword vpp_kw[] = {
	{.name = "settings", .parse = parser_node, .children = settings_kw},
	{.name = "acl", .parse = config_acl_parse},
	{0},
};

static const struct keyword set_kw[] = {
	{.name = "vpp", .parse = parser_node, .children = vpp_kw},
	{0},
};

static const struct keyword line_kw[] = {
	{.name = "set", .parse = parser_node, .children = set_kw},
	{0},
};

/* ---- whole file ---- */

static int parse_line(struct parser *p, char *line)
{
	int rc = parser_split(p, line);
	if (rc || p->n_words == 0)
		return rc;
	p->obj = &p->cfg;
	p->iface = NULL;
	p->acl = NULL;
	p->rule = NULL;
	p->macip = NULL;
	p->macip_rule = NULL;
	rc = parser_dispatch(p, line_kw);
	if (rc == 0 && p->pos < p->n_words)
		rc = parser_error(p, p->words[p->pos], "unexpected word after a complete command");
	return rc;
}

static int parse_lines(struct parser *p, char *text)
{
	char *next;
	for (char *line = text; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		p->line++;
		int rc = parse_line(p, line);
		if (rc)
			return rc;
	}
	return 0;
}

static int build(struct parser *p, struct config *out)
{
	*out = p->cfg;
	if (p->n_ifaces) {
		out->interfaces = calloc(p->n_ifaces, sizeof(*out->interfaces));
		if (!out->interfaces)
			return -ENOMEM;
		for (size_t i = 0; i < p->n_ifaces; i++)
			out->interfaces[i] = p->ifaces[i].ifc;
		out->n_interfaces = p->n_ifaces;
	}
	int rc = config_acl_build(p, out);
	if (rc == 0)
		rc = config_macip_build(p, out);
	if (rc)
		config_free(out);
	return rc;
}

int config_parse_string(const char *name, const char *text, struct config *cfg, char *err,
			size_t err_size)
{
	struct parser p = {.file = name, .err = err, .err_size = err_size};
	struct config out;
	int rc = -ENOMEM;
	char *copy = strdup(text);

	if (err && err_size)
		err[0] = '\0';
	config_init(&p.cfg);
	if (copy)
		rc = parse_lines(&p, copy);
	if (rc == 0) {
		check_interfaces(&p);
		config_acl_check(&p);
		config_macip_check(&p);
		if (p.deferred_line)
			rc = -EINVAL;
	}
	if (rc == 0)
		rc = build(&p, &out);
	if (rc == -ENOMEM && err && err_size)
		snprintf(err, err_size, "%s: out of memory", name);
	if (rc == 0)
		*cfg = out;
	free(p.ifaces);
	config_acl_drafts_free(&p);
	config_macip_drafts_free(&p);
	free(copy);
	return rc;
}

static void load_error(char *err, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void load_error(char *err, size_t size, const char *fmt, ...)
{
	va_list ap;
	if (!err || size == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, size, fmt, ap);
	va_end(ap);
}

/* Whole file in memory, NUL-terminated; -errno on failure. */
static int read_file(FILE *f, char **text, size_t *len)
{
	size_t cap = 4096, used = 0;
	char *buf = malloc(cap);
	while (buf) {
		used += fread(buf + used, 1, cap - used - 1, f);
		if (ferror(f)) {
			int rc = errno ? -errno : -EIO;
			free(buf);
			return rc;
		}
		if (feof(f)) {
			buf[used] = '\0';
			*text = buf;
			*len = used;
			return 0;
		}
		char *grown = realloc(buf, cap * 2);
		if (!grown)
			free(buf);
		buf = grown;
		cap *= 2;
	}
	return -ENOMEM;
}

int config_load(const char *path, struct config *cfg, char *err, size_t err_size)
{
	char *text;
	size_t len;
	FILE *f = fopen(path, "re");
	if (!f) {
		int rc = -errno;
		load_error(err, err_size, "%s: cannot open: %s", path, strerror(-rc));
		return rc;
	}
	int rc = read_file(f, &text, &len);
	fclose(f);
	if (rc) {
		load_error(err, err_size, "%s: cannot read: %s", path, strerror(-rc));
		return rc;
	}
	const char *nul = memchr(text, '\0', len);
	if (nul) {
		unsigned line = 1;
		for (const char *c = text; c < nul; c++)
			line += *c == '\n';
		load_error(err, err_size, "%s:%u: '\\0': unexpected NUL byte", path, line);
		free(text);
		return -EINVAL;
	}
	rc = config_parse_string(path, text, cfg, err, err_size);
	free(text);
	return rc;
}

/* ---- lookups and names ---- */

const struct config_interface *config_interface_find(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_interfaces; i++)
		if (strcmp(cfg->interfaces[i].name, name) == 0)
			return &cfg->interfaces[i];
	return NULL;
}

enum rx_mode config_interface_rx_mode(const struct config *cfg, const struct config_interface *ifc)
{
	return ifc->rx_mode_set ? ifc->rx_mode : cfg->interface_rx_mode;
}

bool config_cpu_is_worker(const struct config_cpu *cpu, unsigned core)
{
	return core < CPU_SETSIZE && CPU_ISSET(core, &cpu->worker_cores);
}

static const char *name_of(const char *const *names, size_t n, unsigned value)
{
	return value < n - 1 ? names[value] : "unknown";
}

#define NAME_OF(names, value) name_of(names, sizeof(names) / sizeof(names[0]), (unsigned)(value))

const char *format_port_driver(enum port_driver driver)
{
	return NAME_OF(driver_names, driver);
}

const char *format_rx_mode(enum rx_mode mode)
{
	return NAME_OF(rx_mode_names, mode);
}

const char *format_ipsec_interface_type(enum ipsec_interface_type type)
{
	return NAME_OF(ipsec_type_names, type);
}

const char *format_crypto_engine(enum crypto_engine engine)
{
	return NAME_OF(crypto_names, engine);
}
