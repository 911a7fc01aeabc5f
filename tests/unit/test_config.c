/*
 * Unit tests of the configuration parser: good files give the expected
 * model (both the 2025 and the 2026 VyOS spellings give the same one), every
 * bad input gives its exact `FILE:LINE: 'word': message`, and a failed parse
 * leaves the caller's config untouched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config/config.h"

static const char *configs_dir = "tests/unit/configs";

static void parse_ok(const char *text, struct config *cfg)
{
	char err[512];
	if (config_parse_string("t.conf", text, cfg, err, sizeof(err)) != 0)
		fail_msg("unexpected error: %s", err);
}

static const struct acl_rule *rule_of(const struct config *cfg, const char *tag, size_t i)
{
	const struct acl_list *list = config_acl_find(cfg, tag);
	assert_non_null(list);
	assert_true(i < list->n_rules);
	return &list->rules[i];
}

static void assert_prefix(const struct ip_prefix *prefix, const char *text)
{
	char buf[IP_PREFIX_STRLEN];
	assert_string_equal(format_ip_prefix(buf, sizeof(buf), prefix), text);
}

static void test_defaults(void **state)
{
	struct config cfg;
	(void)state;
	parse_ok("# nothing but a comment\n\n   \t\n", &cfg);
	assert_int_equal(cfg.n_interfaces, 0);
	assert_int_equal(cfg.n_acls, 0);
	assert_int_equal(cfg.n_bindings, 0);
	assert_int_equal(cfg.cpu.main_core, -1);
	assert_int_equal(cfg.cpu.workers, -1);
	assert_int_equal(cfg.cpu.cores, -1);
	assert_int_equal(cfg.cpu.skip_cores, 0);
	assert_int_equal(CPU_COUNT(&cfg.cpu.worker_cores), 0);
	assert_int_equal(cfg.netlink.rx_buffer_size, 67108864);
	assert_int_equal(cfg.netlink.batch_size, 2048);
	assert_int_equal(cfg.netlink.batch_delay_ms, 50);
	assert_false(cfg.ignore_kernel_routes);
	assert_int_equal(cfg.interface_rx_mode, RX_MODE_ADAPTIVE);
	assert_false(cfg.ipsec_acceleration);
	assert_int_equal(cfg.ipsec_interface_type, IPSEC_INTERFACE_IPSEC);
	assert_int_equal(cfg.crypto_engine, CRYPTO_ENGINE_IPSECMB);
	config_free(&cfg);
	config_free(&cfg); /* freeing twice is harmless */
}

static void test_interfaces(void **state)
{
	struct config cfg;
	(void)state;
	parse_ok("set vpp settings interface eth1 driver dpdk\n"
		 "set vpp settings interface eth1 dpdk-options dev 0000:03:00.0\n"
		 "set vpp settings interface eth1 dpdk-options num-rx-queues 4\n"
		 "set vpp settings interface eth1 dpdk-options num-tx-queues 2\n"
		 "set vpp settings interface eth1 dpdk-options num-rx-desc 2048\n"
		 "set vpp settings interface eth1 dpdk-options num-tx-desc 64\n"
		 "set vpp settings interface eth1 dpdk-options promisc\n"
		 "set vpp settings interface eth1 rx-mode polling\n"
		 "set vpp settings interface eth2 driver xdp\n"
		 "set vpp settings interface eth2 xdp-options num-rx-queues 3\n"
		 "set vpp settings interface eth2 xdp-options rx-queue-size 0\n"
		 "set vpp settings interface eth2 xdp-options tx-queue-size 16384\n"
		 "set vpp settings interface eth2 xdp-options zero-copy\n"
		 "set vpp settings interface eth2 xdp-options no-syscall-lock\n"
		 "set vpp settings interface eth3\n"
		 "set vpp settings interface eth4 driver af-packet\n"
		 "set vpp settings interface eth4 dpdk-options dev net_af_packet0,iface=eth4\n"
		 "set vpp settings interface eth5 dpdk-options dev 03:00.1\n"
		 "set vpp settings interface-rx-mode interrupt\n",
		 &cfg);
	assert_int_equal(cfg.n_interfaces, 5);
	/* Kept in order of first mention: port numbering follows the file. */
	assert_string_equal(cfg.interfaces[0].name, "eth1");
	assert_string_equal(cfg.interfaces[4].name, "eth5");

	const struct config_interface *i = config_interface_find(&cfg, "eth1");
	assert_non_null(i);
	assert_int_equal(i->driver, PORT_DRIVER_DPDK);
	assert_string_equal(i->dpdk_dev, "0000:03:00.0");
	assert_int_equal(i->num_rx_queues, 4);
	assert_int_equal(i->num_tx_queues, 2);
	assert_int_equal(i->num_rx_desc, 2048);
	assert_int_equal(i->num_tx_desc, 64);
	assert_true(i->promisc);
	assert_true(i->rx_mode_set);
	assert_int_equal(config_interface_rx_mode(&cfg, i), RX_MODE_POLLING);

	i = config_interface_find(&cfg, "eth2");
	assert_int_equal(i->driver, PORT_DRIVER_XDP);
	assert_int_equal(i->num_rx_queues, 3);
	assert_int_equal(i->rx_queue_size, 0);
	assert_int_equal(i->tx_queue_size, 16384);
	assert_true(i->zero_copy);
	assert_true(i->no_syscall_lock);
	assert_false(i->promisc);
	assert_false(i->rx_mode_set);
	assert_int_equal(config_interface_rx_mode(&cfg, i), RX_MODE_INTERRUPT);

	i = config_interface_find(&cfg, "eth3");
	assert_int_equal(i->driver, PORT_DRIVER_DPDK);
	assert_string_equal(i->dpdk_dev, "");
	assert_int_equal(i->num_rx_queues, 0);

	assert_string_equal(config_interface_find(&cfg, "eth4")->dpdk_dev,
			    "net_af_packet0,iface=eth4");
	assert_int_equal(config_interface_find(&cfg, "eth4")->driver, PORT_DRIVER_AF_PACKET);
	assert_string_equal(config_interface_find(&cfg, "eth5")->dpdk_dev, "03:00.1");
	assert_null(config_interface_find(&cfg, "eth9"));
	config_free(&cfg);
}

static void assert_same_model(const struct config *a, const struct config *b)
{
	assert_int_equal(a->n_interfaces, b->n_interfaces);
	for (size_t k = 0; k < a->n_interfaces; k++) {
		const struct config_interface *x = &a->interfaces[k], *y = &b->interfaces[k];
		assert_string_equal(x->name, y->name);
		assert_int_equal(x->driver, y->driver);
		assert_string_equal(x->dpdk_dev, y->dpdk_dev);
		assert_int_equal(x->num_rx_queues, y->num_rx_queues);
		assert_int_equal(x->num_tx_queues, y->num_tx_queues);
		assert_int_equal(x->num_rx_desc, y->num_rx_desc);
		assert_int_equal(x->num_tx_desc, y->num_tx_desc);
		assert_int_equal(x->promisc, y->promisc);
		assert_int_equal(config_interface_rx_mode(a, x), config_interface_rx_mode(b, y));
	}
	assert_memory_equal(&a->netlink, &b->netlink, sizeof(a->netlink));
	assert_int_equal(a->ignore_kernel_routes, b->ignore_kernel_routes);
	assert_int_equal(a->ipsec_acceleration, b->ipsec_acceleration);
}

static void test_2025_and_2026_paths_agree(void **state)
{
	struct config old, new;
	(void)state;
	parse_ok("set vpp settings interface eth1 driver dpdk\n"
		 "set vpp settings interface eth1 dpdk-options num-rx-queues 2\n"
		 "set vpp settings interface eth1 dpdk-options num-tx-queues 2\n"
		 "set vpp settings interface eth1 dpdk-options num-rx-desc 1024\n"
		 "set vpp settings interface eth1 dpdk-options num-tx-desc 1024\n"
		 "set vpp settings interface eth1 rx-mode polling\n"
		 "set vpp settings ipsec netlink rx-buffer-size 16777216\n"
		 "set vpp settings ipsec netlink batch-size 512\n"
		 "set vpp settings ipsec netlink batch-delay-ms 5\n"
		 "set vpp settings lcp ignore-kernel-routes\n"
		 "set vpp settings ipsec-acceleration\n",
		 &old);
	parse_ok("set vpp settings interface eth1 num-rx-queues 2\n"
		 "set vpp settings interface eth1 num-tx-queues 2\n"
		 "set vpp settings interface eth1 num-rx-desc 1024\n"
		 "set vpp settings interface eth1 num-tx-desc 1024\n"
		 "set vpp settings interface-rx-mode polling\n"
		 "set vpp settings lcp netlink rx-buffer-size 16777216\n"
		 "set vpp settings lcp netlink batch-size 512\n"
		 "set vpp settings lcp netlink batch-delay-ms 5\n"
		 "set vpp settings ignore-kernel-routes\n"
		 "set vpp settings ipsec-acceleration\n",
		 &new);
	assert_same_model(&old, &new);
	config_free(&old);
	config_free(&new);
}

static void test_quoting_and_comments(void **state)
{
	struct config cfg;
	(void)state;
	parse_ok("# leading comment\r\n"
		 "\n"
		 "\tset  vpp\tacl ip tag-name 'WEB SERVER' description \"a # b 'c'\"   # trailing\r\n"
		 "set vpp acl ip tag-name \"WEB SERVER\" rule '10' action \"permit\"\n"
		 "set vpp acl ip tag-name WEB-2 description ''\n"
		 "set 'vpp' acl ip tag-name WEB-2 rule 5 action deny #comment\n",
		 &cfg);
	const struct acl_list *web = config_acl_find(&cfg, "WEB SERVER");
	assert_non_null(web);
	assert_string_equal(web->description, "a # b 'c'");
	assert_int_equal(web->n_rules, 1);
	assert_int_equal(web->rules[0].action, ACL_ACTION_PERMIT);
	assert_int_equal(web->rules[0].line, 4);
	config_free(&cfg);

	/* `#` inside a word is part of it, so that value is wrong, not a comment. */
	char err[256];
	assert_int_equal(config_parse_string("t.conf",
					     "set vpp acl ip tag-name W rule 5 action deny#x\n",
					     &cfg, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "t.conf:1: 'deny#x': invalid value, expected one of: deny, "
				 "permit, permit-reflect");
}

static void test_cpu_and_settings(void **state)
{
	struct config cfg;
	(void)state;
	parse_ok("set vpp settings cpu main-core 0\n"
		 "set vpp settings cpu corelist-workers 1,3\n"
		 "set vpp settings cpu corelist-workers 5,512\n"
		 "set vpp settings cpu workers 4\n"
		 "set vpp settings cpu skip-cores 2\n"
		 "set vpp settings resource-allocation cpu-cores 6\n"
		 "set vpp settings ipsec interface-type ipip\n"
		 "set vpp settings ipsec crypto-engine openssl\n"
		 "set vpp settings lcp netlink rx-buffer-size 4096\n"
		 "set vpp settings lcp netlink batch-size 100000\n"
		 "set vpp settings lcp netlink batch-delay-ms 0\n",
		 &cfg);
	assert_int_equal(cfg.cpu.main_core, 0);
	assert_int_equal(cfg.cpu.workers, 4);
	assert_int_equal(cfg.cpu.skip_cores, 2);
	assert_int_equal(cfg.cpu.cores, 6);
	assert_int_equal(CPU_COUNT(&cfg.cpu.worker_cores), 4);
	assert_true(config_cpu_is_worker(&cfg.cpu, 1));
	assert_false(config_cpu_is_worker(&cfg.cpu, 2));
	assert_true(config_cpu_is_worker(&cfg.cpu, 3));
	assert_true(config_cpu_is_worker(&cfg.cpu, 5));
	assert_true(config_cpu_is_worker(&cfg.cpu, 512));
	assert_false(config_cpu_is_worker(&cfg.cpu, 100000));
	assert_int_equal(cfg.ipsec_interface_type, IPSEC_INTERFACE_IPIP);
	assert_int_equal(cfg.crypto_engine, CRYPTO_ENGINE_OPENSSL);
	assert_int_equal(cfg.netlink.rx_buffer_size, 4096);
	assert_int_equal(cfg.netlink.batch_size, 100000);
	assert_int_equal(cfg.netlink.batch_delay_ms, 0);
	config_free(&cfg);
}

static void test_acl_rules(void **state)
{
	struct config cfg;
	(void)state;
	/* Alphabetical, as `show configuration commands` prints: ports before protocol. */
	parse_ok("set vpp acl ip tag-name A rule 30 action deny\n"
		 "set vpp acl ip tag-name A rule 10 action permit\n"
		 "set vpp acl ip tag-name A rule 10 destination port 443\n"
		 "set vpp acl ip tag-name A rule 10 destination prefix 192.168.100.0/24\n"
		 "set vpp acl ip tag-name A rule 10 protocol tcp\n"
		 "set vpp acl ip tag-name A rule 10 source port 1024-65535\n"
		 "set vpp acl ip tag-name A rule 10 tcp-flags is-set syn\n"
		 "set vpp acl ip tag-name A rule 10 tcp-flags is-set ecn\n"
		 "set vpp acl ip tag-name A rule 10 tcp-flags is-not-set ack rst\n"
		 "set vpp acl ip tag-name A rule 20 action permit-reflect\n"
		 "set vpp acl ip tag-name A rule 20 protocol 17\n"
		 "set vpp acl ip tag-name A rule 20 source prefix 2001:db8::/32\n"
		 "set vpp acl ip tag-name A rule 20 destination prefix 2001:db8:1::1\n"
		 "set vpp acl ip tag-name A rule 20 description 'dns'\n"
		 "set vpp acl ip tag-name A rule 30 protocol all\n"
		 "set vpp acl ip tag-name A rule 30 action permit\n" /* later value wins */
		 "set vpp acl ip tag-name A rule 40 action deny\n"
		 "set vpp acl ip tag-name A rule 40 protocol esp\n"
		 "set vpp acl ip tag-name A rule 40 destination port 0-65535\n"
		 "set vpp acl ip tag-name A rule 40 protocol udp\n"
		 "set vpp acl ip tag-name A rule 4294967295 action deny\n"
		 "set vpp acl ip tag-name A rule 4294967295 tcp-flags is-set ece cwr\n"
		 "set vpp acl ip tag-name A rule 4294967295 protocol 6\n",
		 &cfg);
	const struct acl_list *a = config_acl_find(&cfg, "A");
	assert_int_equal(a->n_rules, 5);

	const struct acl_rule *r = rule_of(&cfg, "A", 0);
	assert_int_equal(r->number, 10);
	assert_int_equal(r->line, 2);
	assert_int_equal(r->action, ACL_ACTION_PERMIT);
	assert_int_equal(r->protocol, 6);
	assert_int_equal(r->src.addr.family, 0);
	assert_prefix(&r->dst, "192.168.100.0/24");
	assert_int_equal(r->sport_lo, 1024);
	assert_int_equal(r->sport_hi, 65535);
	assert_int_equal(r->dport_lo, 443);
	assert_int_equal(r->dport_hi, 443);
	assert_int_equal(r->tcp_flags_set, ACL_TCP_SYN | ACL_TCP_ECE);
	assert_int_equal(r->tcp_flags_clear, ACL_TCP_ACK | ACL_TCP_RST);

	r = rule_of(&cfg, "A", 1);
	assert_int_equal(r->number, 20);
	assert_int_equal(r->action, ACL_ACTION_PERMIT_REFLECT);
	assert_int_equal(r->protocol, 17);
	assert_prefix(&r->src, "2001:db8::/32");
	assert_prefix(&r->dst, "2001:db8:1::1/128");
	assert_string_equal(r->description, "dns");
	assert_int_equal(r->sport_lo, 0);
	assert_int_equal(r->sport_hi, 65535);
	assert_int_equal(r->dport_hi, 65535);

	r = rule_of(&cfg, "A", 2);
	assert_int_equal(r->number, 30);
	assert_int_equal(r->line, 1);
	assert_int_equal(r->action, ACL_ACTION_PERMIT);
	assert_int_equal(r->protocol, ACL_PROTO_ANY);

	r = rule_of(&cfg, "A", 3);
	assert_int_equal(r->protocol, 17);

	r = rule_of(&cfg, "A", 4);
	assert_int_equal(r->number, 4294967295u);
	assert_int_equal(r->tcp_flags_set, ACL_TCP_ECE | ACL_TCP_CWR);
	assert_null(config_acl_find(&cfg, "B"));
	config_free(&cfg);
}

static void test_bindings(void **state)
{
	struct config cfg;
	(void)state;
	/* A binding may come before its tag; the same line twice is harmless. */
	parse_ok("set vpp acl ip interface eth2 output acl-tag 20 tag-name B\n"
		 "set vpp acl ip interface eth2 input acl-tag 20 tag-name B\n"
		 "set vpp acl ip interface eth2 input acl-tag 5 tag-name A\n"
		 "set vpp acl ip interface eth1 input acl-tag 4294967295 tag-name A\n"
		 "set vpp acl ip interface eth2 input acl-tag 5 tag-name A\n"
		 "set vpp acl ip tag-name A\n"
		 "set vpp acl ip tag-name B rule 1 action deny\n",
		 &cfg);
	assert_int_equal(cfg.n_bindings, 4);
	assert_string_equal(cfg.bindings[0].ifname, "eth1");
	assert_int_equal(cfg.bindings[0].order, 4294967295u);
	assert_string_equal(cfg.bindings[1].ifname, "eth2");
	assert_int_equal(cfg.bindings[1].dir, ACL_DIR_INPUT);
	assert_int_equal(cfg.bindings[1].order, 5);
	assert_string_equal(cfg.bindings[1].tag, "A");
	assert_int_equal(cfg.bindings[2].dir, ACL_DIR_INPUT);
	assert_int_equal(cfg.bindings[2].order, 20);
	assert_int_equal(cfg.bindings[3].dir, ACL_DIR_OUTPUT);
	assert_int_equal(cfg.n_acls, 2);
	assert_string_equal(cfg.acls[0].name, "A");
	assert_int_equal(cfg.acls[0].n_rules, 0);
	config_free(&cfg);
}

static void test_repeated_file_is_idempotent(void **state)
{
	struct config once, twice;
	static char text[1 << 16];
	FILE *f;
	char path[512];
	size_t len;
	(void)state;
	snprintf(path, sizeof(path), "%s/full.conf", configs_dir);
	f = fopen(path, "r");
	assert_non_null(f);
	len = fread(text, 1, sizeof(text) / 2 - 1, f);
	fclose(f);
	text[len] = '\0';
	parse_ok(text, &once);
	memcpy(text + len, text, len);
	text[2 * len] = '\0';
	parse_ok(text, &twice);
	assert_same_model(&once, &twice);
	assert_int_equal(once.n_acls, twice.n_acls);
	for (size_t i = 0; i < once.n_acls; i++) {
		assert_int_equal(once.acls[i].n_rules, twice.acls[i].n_rules);
		for (size_t j = 0; j < once.acls[i].n_rules; j++) {
			const struct acl_rule *x = &once.acls[i].rules[j], *y = &twice.acls[i].rules[j];
			assert_int_equal(x->number, y->number);
			assert_int_equal(x->action, y->action);
			assert_int_equal(x->protocol, y->protocol);
			assert_int_equal(x->line, y->line); /* first mention stays */
			assert_int_equal(x->tcp_flags_set, y->tcp_flags_set);
		}
	}
	assert_int_equal(once.n_bindings, twice.n_bindings);
	assert_int_equal(once.n_macip_bindings, twice.n_macip_bindings);
	config_free(&once);
	config_free(&twice);
}

static void test_macip(void **state)
{
	struct config cfg;
	char mac[18];
	(void)state;
	parse_ok("set vpp acl mac tag-name M description 'hosts'\n"
		 "set vpp acl mac tag-name M rule 20 action deny\n"
		 "set vpp acl mac tag-name M rule 20 mac-address 02:01:00:00:00:00\n"
		 "set vpp acl mac tag-name M rule 20 mac-mask FF:FF:00:00:00:00\n"
		 "set vpp acl macip tag-name M rule 10 action permit\n"
		 "set vpp acl macip tag-name M rule 10 prefix 2001:db8::/64\n"
		 "set vpp acl macip tag-name M rule 10 description 'admin'\n"
		 "set vpp acl mac interface eth0 tag-name M\n"
		 "set vpp acl mac interface eth0 tag-name M\n",
		 &cfg);
	const struct macip_list *m = config_macip_find(&cfg, "M");
	assert_non_null(m);
	assert_string_equal(m->description, "hosts");
	assert_int_equal(m->n_rules, 2);
	assert_int_equal(m->rules[0].number, 10);
	assert_int_equal(m->rules[0].action, ACL_ACTION_PERMIT);
	assert_prefix(&m->rules[0].prefix, "2001:db8::/64");
	assert_string_equal(format_mac(mac, sizeof(mac), m->rules[0].mac), "00:00:00:00:00:00");
	assert_string_equal(format_mac(mac, sizeof(mac), m->rules[0].mac_mask), "ff:ff:ff:ff:ff:ff");
	assert_string_equal(m->rules[0].description, "admin");
	assert_int_equal(m->rules[1].action, ACL_ACTION_DENY);
	assert_int_equal(m->rules[1].prefix.addr.family, 0);
	assert_string_equal(format_mac(mac, sizeof(mac), m->rules[1].mac), "02:01:00:00:00:00");
	assert_string_equal(format_mac(mac, sizeof(mac), m->rules[1].mac_mask), "ff:ff:00:00:00:00");
	assert_int_equal(cfg.n_macip_bindings, 1);
	assert_string_equal(cfg.macip_bindings[0].ifname, "eth0");
	assert_string_equal(cfg.macip_bindings[0].tag, "M");
	assert_null(config_acl_find(&cfg, "M")); /* IP and MAC tags are apart */
	config_free(&cfg);
}

static void test_full_conf(void **state)
{
	struct config cfg;
	char path[512], err[512];
	(void)state;
	snprintf(path, sizeof(path), "%s/full.conf", configs_dir);
	if (config_load(path, &cfg, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(cfg.n_interfaces, 4);
	assert_int_equal(config_interface_find(&cfg, "eth2")->driver, PORT_DRIVER_XDP);
	assert_int_equal(config_interface_find(&cfg, "eth3")->driver, PORT_DRIVER_AF_PACKET);
	assert_string_equal(config_interface_find(&cfg, "eth4")->dpdk_dev,
			    "net_tap0,iface=espd-tap0");
	assert_int_equal(CPU_COUNT(&cfg.cpu.worker_cores), 4);
	assert_int_equal(cfg.netlink.rx_buffer_size, 134217728);
	assert_int_equal(cfg.netlink.batch_size, 4096);
	assert_true(cfg.ignore_kernel_routes);
	assert_true(cfg.ipsec_acceleration);
	assert_int_equal(cfg.n_acls, 2);
	assert_string_equal(cfg.acls[0].name, "LAN-OUT");
	assert_int_equal(config_acl_find(&cfg, "WAN-IN")->n_rules, 7);
	assert_int_equal(cfg.n_bindings, 3);
	assert_int_equal(cfg.n_macips, 1);
	assert_int_equal(cfg.n_macip_bindings, 1);
	config_free(&cfg);
}

/* An empty file of its own for a test (*state: its name), removed after
 * it even when an assertion stops it half-way. */
static int scratch_file_create(void **state)
{
	static char path[] = "/tmp/test_config_XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0)
		return -1;
	close(fd);
	*state = path;
	return 0;
}

static int scratch_file_remove(void **state)
{
	return unlink(*state);
}

static void test_load_errors(void **state)
{
	struct config cfg;
	char err[512];
	const char *path = *state;
	assert_int_equal(config_load("/nonexistent/espd.conf", &cfg, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "/nonexistent/espd.conf: cannot open: No such file or directory");
	assert_int_equal(config_load("/tmp", &cfg, err, sizeof(err)), -EISDIR);
	assert_string_equal(err, "/tmp: cannot read: Is a directory");

	int fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	static const char text[] = "set vpp settings cpu workers 1\nset vpp \0settings\n";
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	char expected[600];
	assert_int_equal(config_load(path, &cfg, err, sizeof(err)), -EINVAL);
	snprintf(expected, sizeof(expected), "%s:2: '\\0': unexpected NUL byte", path);
	assert_string_equal(err, expected);

	FILE *f = fopen(path, "w");
	fputs("set vpp settings cpu workers 1\nset vpp settings cpu workers x\n", f);
	fclose(f);
	assert_int_equal(config_load(path, &cfg, err, sizeof(err)), -EINVAL);
	snprintf(expected, sizeof(expected), "%s:2: 'x': invalid number, expected 0-512", path);
	assert_string_equal(err, expected);

	/* Errors fit any buffer, and no buffer is fine too. */
	assert_int_equal(config_parse_string("t.conf", "set vpp x\n", &cfg, err, 8), -EINVAL);
	assert_string_equal(err, "t.conf:");
	assert_int_equal(config_parse_string("t.conf", "set vpp x\n", &cfg, NULL, 0), -EINVAL);
	assert_int_equal(config_load("/nonexistent", &cfg, NULL, 0), -ENOENT);
}

struct bad_case {
	const char *text;
	const char *error;
};

#define IF "set vpp settings interface eth0 "
#define RULE "set vpp acl ip tag-name T rule 10 "
#define RULE_ACTION RULE "action permit\n"

static const struct bad_case bad_cases[] = {
	/* unknown and missing keywords, at every level */
	{"delete vpp settings\n", "t.conf:1: 'delete': unknown keyword, expected one of: set"},
	{"set vyos\n", "t.conf:1: 'vyos': unknown keyword, expected one of: vpp"},
	{"set vpp\n", "t.conf:1: 'vpp': incomplete command, expected one of: settings, acl"},
	{"set vpp settings foo\n",
	 "t.conf:1: 'foo': unknown keyword, expected one of: interface, interface-rx-mode, cpu, "
	 "resource-allocation, lcp, ignore-kernel-routes, ipsec, ipsec-acceleration"},
	{IF "drivr dpdk\n",
	 "t.conf:1: 'drivr': unknown keyword, expected one of: driver, dpdk-options, xdp-options, "
	 "rx-mode, num-rx-queues, num-tx-queues, num-rx-desc, num-tx-desc"},
	{IF "dpdk-options\n",
	 "t.conf:1: 'dpdk-options': incomplete command, expected one of: dev, num-rx-queues, "
	 "num-tx-queues, num-rx-desc, num-tx-desc, promisc"},
	{IF "xdp-options zerocopy\n",
	 "t.conf:1: 'zerocopy': unknown keyword, expected one of: num-rx-queues, rx-queue-size, "
	 "tx-queue-size, zero-copy, promisc, no-syscall-lock"},
	{"set vpp settings cpu cores 4\n",
	 "t.conf:1: 'cores': unknown keyword, expected one of: main-core, corelist-workers, "
	 "workers, skip-cores"},
	{"set vpp settings lcp netlink buffer 1\n",
	 "t.conf:1: 'buffer': unknown keyword, expected one of: rx-buffer-size, batch-size, "
	 "batch-delay-ms"},
	{"set vpp acl ipv4 tag-name T\n",
	 "t.conf:1: 'ipv4': unknown keyword, expected one of: ip, mac, macip"},
	{RULE "actoin permit\n",
	 "t.conf:1: 'actoin': unknown keyword, expected one of: action, description, protocol, "
	 "source, destination, tcp-flags"},
	{RULE "source address 10.0.0.0/8\n",
	 "t.conf:1: 'address': unknown keyword, expected one of: prefix, port"},
	{RULE "tcp-flags syn\n",
	 "t.conf:1: 'syn': unknown keyword, expected one of: is-set, is-not-set"},
	{"set vpp acl ip interface eth0 inbound acl-tag 1 tag-name T\n",
	 "t.conf:1: 'inbound': unknown keyword, expected one of: input, output"},
	{"set vpp acl ip interface eth0 input acl-tag 10\n",
	 "t.conf:1: '10': incomplete command, expected one of: tag-name"},
	{"set vpp acl mac tag-name M rule 1 source prefix 10.0.0.0/8\n",
	 "t.conf:1: 'source': unknown keyword, expected one of: action, description, prefix, "
	 "mac-address, mac-mask"},

	/* bad and missing values */
	{IF "driver vfio\n", "t.conf:1: 'vfio': invalid value, expected one of: dpdk, xdp, af-packet"},
	{IF "driver\n", "t.conf:1: 'driver': missing value, expected one of: dpdk, xdp, af-packet"},
	{IF "rx-mode\n",
	 "t.conf:1: 'rx-mode': missing value, expected one of: adaptive, polling, interrupt"},
	{"set vpp settings interface-rx-mode busy\n",
	 "t.conf:1: 'busy': invalid value, expected one of: adaptive, polling, interrupt"},
	{IF "dpdk-options num-rx-queues 0\n", "t.conf:1: '0': out of range, expected 1-64"},
	{IF "num-tx-queues 65\n", "t.conf:1: '65': out of range, expected 1-64"},
	{IF "dpdk-options num-rx-queues four\n", "t.conf:1: 'four': invalid number, expected 1-64"},
	{IF "dpdk-options num-rx-queues -1\n", "t.conf:1: '-1': invalid number, expected 1-64"},
	{IF "dpdk-options num-rx-queues\n",
	 "t.conf:1: 'num-rx-queues': missing value, expected a number 1-64"},
	{IF "xdp-options num-rx-queues some\n", "t.conf:1: 'some': invalid number, expected 1-64"},
	{IF "dpdk-options num-rx-desc 1000\n",
	 "t.conf:1: '1000': not a power of two between 64 and 16384"},
	{IF "num-tx-desc 32768\n", "t.conf:1: '32768': out of range, expected 64-16384"},
	{IF "num-rx-desc 0\n", "t.conf:1: '0': out of range, expected 64-16384"},
	{IF "xdp-options rx-queue-size 100\n",
	 "t.conf:1: '100': not a power of two between 64 and 16384"},
	{IF "dpdk-options dev 03:00\n",
	 "t.conf:1: '03:00': invalid device, expected a PCI address (0000:03:00.0) or a vdev "
	 "(net_tap0,iface=tap0)"},
	{IF "dpdk-options dev 'net_tap0 iface=x'\n",
	 "t.conf:1: 'net_tap0 iface=x': invalid device, expected a PCI address (0000:03:00.0) or a "
	 "vdev (net_tap0,iface=tap0)"},
	{IF "dpdk-options promisc yes\n", "t.conf:1: 'yes': unexpected word after a complete command"},
	{"set vpp settings ipsec-acceleration on\n",
	 "t.conf:1: 'on': unexpected word after a complete command"},
	{"set vpp settings interface eth0123456789abc driver dpdk\n",
	 "t.conf:1: 'eth0123456789abc': interface name longer than 15 characters"},
	{"set vpp settings interface 'eth/0'\n", "t.conf:1: 'eth/0': invalid interface name"},
	{"set vpp settings interface ..\n", "t.conf:1: '..': invalid interface name"},
	{"set vpp settings interface\n",
	 "t.conf:1: 'interface': missing value, expected an interface name"},
	{"set vpp settings cpu corelist-workers 1,,2\n",
	 "t.conf:1: '1,,2': invalid core list, expected a list such as 1,3-5"},
	{"set vpp settings cpu corelist-workers 5-3\n", "t.conf:1: '5-3': range start greater than end"},
	{"set vpp settings cpu corelist-workers 1,600\n", "t.conf:1: '600': out of range, expected 0-512"},
	{"set vpp settings cpu main-core 513\n", "t.conf:1: '513': out of range, expected 0-512"},
	{"set vpp settings cpu workers 5\n",
	 "t.conf:1: '5': 5 workers: espd runs at most 4 (DPDK 22.11's TAP driver fails with more "
	 "queues)"},
	{"set vpp settings cpu corelist-workers 1-3\nset vpp settings cpu corelist-workers 7,8\n",
	 "t.conf:2: '7,8': 5 workers: espd runs at most 4 (DPDK 22.11's TAP driver fails with more "
	 "queues)"},
	{"set vpp settings resource-allocation cpu-cores 0\n",
	 "t.conf:1: '0': out of range, expected 1-512"},
	{"set vpp settings lcp netlink rx-buffer-size 1024\n",
	 "t.conf:1: '1024': out of range, expected 4096-1073741824"},
	{"set vpp settings lcp netlink batch-size 0\n", "t.conf:1: '0': out of range, expected 1-100000"},
	{"set vpp settings ipsec netlink batch-delay-ms 10001\n",
	 "t.conf:1: '10001': out of range, expected 0-10000"},
	{"set vpp settings ipsec netlink batch-size 99999999999999999999999\n",
	 "t.conf:1: '99999999999999999999999': out of range, expected 1-100000"},
	{"set vpp settings ipsec crypto-engine aesni\n",
	 "t.conf:1: 'aesni': invalid value, expected one of: ipsecmb, openssl"},
	{"set vpp settings ipsec interface-type vti\n",
	 "t.conf:1: 'vti': invalid value, expected one of: ipsec, ipip"},

	/* ACL values */
	{RULE "action allow\n",
	 "t.conf:1: 'allow': invalid value, expected one of: deny, permit, permit-reflect"},
	{"set vpp acl ip tag-name T rule 0 action permit\n",
	 "t.conf:1: '0': out of range, expected 1-4294967295"},
	{"set vpp acl ip tag-name T rule 4294967296\n",
	 "t.conf:1: '4294967296': out of range, expected 1-4294967295"},
	{"set vpp acl ip tag-name T rule\n",
	 "t.conf:1: 'rule': missing value, expected a rule number 1-4294967295"},
	{"set vpp acl ip tag-name\n", "t.conf:1: 'tag-name': missing value, expected a tag name"},
	{"set vpp acl ip tag-name ''\n", "t.conf:1: '': empty tag-name"},
	{"set vpp acl ip tag-name "
	 "A234567890123456789012345678901234567890123456789012345678901234\n",
	 "t.conf:1: 'A234567890123456789012345678901234567890123456789012345678901234': tag-name "
	 "longer than 63 characters"},
	{RULE "source prefix 10.0.0.0/33\n", "t.conf:1: '10.0.0.0/33': invalid IP prefix"},
	{RULE "destination prefix 2001:db8::g/64\n", "t.conf:1: '2001:db8::g/64': invalid IP prefix"},
	{RULE "source prefix 10.0.0.1/24\n",
	 "t.conf:1: '10.0.0.1/24': host bits set, did you mean 10.0.0.0/24?"},
	{RULE "destination port 2000-1000\n",
	 "t.conf:1: '2000-1000': port range start greater than end"},
	{RULE "destination port 70000\n",
	 "t.conf:1: '70000': invalid port, expected 0-65535 or a range N-M"},
	{RULE "source port 80-\n", "t.conf:1: '80-': invalid port, expected 0-65535 or a range N-M"},
	{RULE "protocol tcpp\n",
	 "t.conf:1: 'tcpp': unknown protocol, expected all, a name such as tcp, udp, icmp, icmpv6, "
	 "esp, ah, gre, or 0-255"},
	{RULE "protocol 256\n",
	 "t.conf:1: '256': unknown protocol, expected all, a name such as tcp, udp, icmp, icmpv6, "
	 "esp, ah, gre, or 0-255"},
	{RULE "tcp-flags is-set syn fin xmas\n",
	 "t.conf:1: 'xmas': invalid value, expected one of: fin, syn, rst, psh, ack, urg, ecn, ece, "
	 "cwr"},
	{RULE "tcp-flags is-not-set\n",
	 "t.conf:1: 'is-not-set': missing value, expected one of: fin, syn, rst, psh, ack, urg, ecn, "
	 "ece, cwr"},
	{RULE "tcp-flags is-set syn\n" RULE "tcp-flags is-not-set ack syn\n",
	 "t.conf:2: 'syn': flag is both set and not set"},
	{"set vpp acl ip tag-name T description '" /* 256 characters */
	 "0123456789012345678901234567890123456789012345678901234567890123"
	 "0123456789012345678901234567890123456789012345678901234567890123"
	 "0123456789012345678901234567890123456789012345678901234567890123"
	 "0123456789012345678901234567890123456789012345678901234567890123'\n",
	 "t.conf:1: '"
	 "0123456789012345678901234567890123456789012345678901234567890123"
	 "0123456789012345678901234567890123456789012345678901234567890123"
	 "0123456789012345678901234567890123456789012345678901234567890123"
	 "0123456789012345678901234567890123456789012345678901234567890123"
	 "': longer than 255 characters"},
	{"set vpp acl mac tag-name M rule 1 mac-address 00:1b:21:12:34\n",
	 "t.conf:1: '00:1b:21:12:34': invalid MAC address, expected xx:xx:xx:xx:xx:xx"},
	{"set vpp acl mac tag-name M rule 1 mac-mask ff-ff-ff-00-00-00\n",
	 "t.conf:1: 'ff-ff-ff-00-00-00': invalid MAC address, expected xx:xx:xx:xx:xx:xx"},
	{"set vpp acl mac tag-name M rule 1 action permit-reflect\n",
	 "t.conf:1: 'permit-reflect': invalid value, expected one of: deny, permit"},

	/* semantics, some only known at the end of the file */
	{RULE_ACTION RULE "source prefix 10.0.0.0/8\n" RULE "destination prefix 2001:db8::/32\n",
	 "t.conf:3: '2001:db8::/32': address family differs from the rule's source prefix "
	 "'10.0.0.0/8'"},
	{RULE_ACTION RULE "destination prefix 2001:db8::/32\n" RULE "source prefix 10.0.0.0/8\n",
	 "t.conf:3: '10.0.0.0/8': address family differs from the rule's destination prefix "
	 "'2001:db8::/32'"},
	{RULE_ACTION RULE "destination port 80\n",
	 "t.conf:2: '80': ports need protocol tcp or udp"},
	{RULE_ACTION RULE "protocol icmp\n" RULE "source port 1-1023\n",
	 "t.conf:3: '1-1023': ports need protocol tcp or udp"},
	{RULE_ACTION RULE "protocol udp\n" RULE "tcp-flags is-set syn\n",
	 "t.conf:3: 'syn': tcp-flags need protocol tcp"},
	{RULE "protocol tcp\n" RULE "destination port 22\n",
	 "t.conf:1: '10': rule has no action"},
	{"set vpp acl ip tag-name T rule 5 action deny\n"
	 "set vpp acl ip interface eth0 input acl-tag 10 tag-name NOPE\n"
	 "set vpp acl ip interface eth0 input acl-tag 20 tag-name T\n",
	 "t.conf:2: 'NOPE': tag-name is not defined"},
	{"set vpp acl ip interface eth0 input acl-tag 10 tag-name A\n"
	 "set vpp acl ip interface eth0 input acl-tag 10 tag-name B\n",
	 "t.conf:2: 'B': acl-tag 10 of eth0 input is already bound to tag-name A (line 1)"},
	{"set vpp acl mac tag-name M rule 1 mac-address 00:1b:21:12:34:56\n",
	 "t.conf:1: '1': rule has no action"},
	{"set vpp acl mac interface eth0 tag-name NOPE\n",
	 "t.conf:1: 'NOPE': mac tag-name is not defined"},
	{"set vpp acl mac tag-name M\n"
	 "set vpp acl mac interface eth0 tag-name M\n"
	 "set vpp acl mac interface eth0 tag-name N\n",
	 "t.conf:3: 'N': eth0 is already bound to mac tag-name M (line 2)"},
	{IF "dpdk-options num-rx-queues 2\n" IF "driver xdp\n",
	 "t.conf:1: 'dpdk-options': not applicable to driver xdp"},
	{IF "xdp-options zero-copy\n", "t.conf:1: 'xdp-options': not applicable to driver dpdk"},
	/* of several end-of-file errors, the earliest line is reported */
	{"set vpp acl ip interface eth0 input acl-tag 10 tag-name NOPE\n" RULE "protocol tcp\n",
	 "t.conf:1: 'NOPE': tag-name is not defined"},
	{RULE "protocol tcp\n"
	 "set vpp acl ip interface eth0 input acl-tag 10 tag-name NOPE\n",
	 "t.conf:1: '10': rule has no action"},

	/* words and lines */
	{"set vpp acl ip tag-name 'WEB rule 10 action permit  \n",
	 "t.conf:1: ''WEB rule 10 action permit': unterminated quote"},
	{"set vpp acl ip tag-name \"WEB\n", "t.conf:1: '\"WEB': unterminated quote"},
	{"set vpp acl ip tag-name 'WEB'x rule 10\n",
	 "t.conf:1: ''WEB'x': unexpected text after closing quote"},
	{"# comment\n\nset vpp settings cpu workers 1000\n",
	 "t.conf:3: '1000': out of range, expected 0-512"},
	{"set vpp settings cpu workers 1\r\nset vpp settings cpu workers 1 2\r\n",
	 "t.conf:2: '2': unexpected word after a complete command"},
	{"set vpp acl ip tag-name T rule 10 tcp-flags is-set "
	 "syn syn syn syn syn syn syn syn syn syn syn syn syn syn syn syn syn syn syn syn syn syn "
	 "fin\n",
	 "t.conf:1: 'fin': too many words on one line (at most 32)"},
};

static void test_bad_inputs(void **state)
{
	struct config cfg, sentinel;
	char err[1024];
	(void)state;
	memset(&sentinel, 0x5a, sizeof(sentinel));
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		memcpy(&cfg, &sentinel, sizeof(cfg));
		int rc = config_parse_string("t.conf", c->text, &cfg, err, sizeof(err));
		if (rc != -EINVAL || strcmp(err, c->error) != 0)
			fail_msg("case %zu: %s\n  rc %d\n  got      %s\n  expected %s", i, c->text,
				 rc, err, c->error);
		assert_memory_equal(&cfg, &sentinel, sizeof(cfg)); /* nothing half applied */
	}
}

static void test_many_rules_sorted(void **state)
{
	enum { N = 5000 };
	struct config cfg;
	size_t size = (size_t)N * 2 * 80 + 1, used = 0;
	char *text = malloc(size);
	(void)state;
	assert_non_null(text);
	for (unsigned n = N; n > 0; n--) {
		used += (size_t)snprintf(text + used, size - used,
					 "set vpp acl ip tag-name BIG rule %u action deny\n"
					 "set vpp acl ip tag-name BIG rule %u protocol %u\n",
					 n, n, n % 256);
	}
	parse_ok(text, &cfg);
	const struct acl_list *big = config_acl_find(&cfg, "BIG");
	assert_int_equal(big->n_rules, N);
	for (unsigned i = 0; i < N; i++) {
		assert_int_equal(big->rules[i].number, i + 1);
		assert_int_equal(big->rules[i].protocol, (int)((i + 1) % 256));
		assert_int_equal(big->rules[i].line, 2 * (N - i) - 1);
	}
	config_free(&cfg);
	free(text);
}

static void test_protocol_names(void **state)
{
	int proto;
	(void)state;
	assert_int_equal(acl_protocol_parse("all", &proto), 0);
	assert_int_equal(proto, ACL_PROTO_ANY);
	assert_int_equal(acl_protocol_parse("tcp", &proto), 0);
	assert_int_equal(proto, 6);
	assert_int_equal(acl_protocol_parse("icmpv6", &proto), 0);
	assert_int_equal(proto, 58);
	assert_int_equal(acl_protocol_parse("ipv6-icmp", &proto), 0);
	assert_int_equal(proto, 58);
	assert_int_equal(acl_protocol_parse("esp", &proto), 0);
	assert_int_equal(proto, 50);
	assert_int_equal(acl_protocol_parse("0", &proto), 0);
	assert_int_equal(proto, 0);
	assert_int_equal(acl_protocol_parse("255", &proto), 0);
	assert_int_equal(proto, 255);
	assert_int_equal(acl_protocol_parse("256", &proto), -EINVAL);
	assert_int_equal(acl_protocol_parse("", &proto), -EINVAL);
	assert_int_equal(acl_protocol_parse("TCP", &proto), -EINVAL);
	assert_string_equal(acl_protocol_name(ACL_PROTO_ANY), "all");
	assert_string_equal(acl_protocol_name(17), "udp");
	assert_string_equal(acl_protocol_name(58), "icmpv6");
	assert_string_equal(acl_protocol_name(47), "gre");
	assert_string_equal(acl_protocol_name(51), "ah");
	assert_null(acl_protocol_name(253));
}

static void test_format(void **state)
{
	char buf[64];
	(void)state;
	assert_string_equal(format_port_driver(PORT_DRIVER_AF_PACKET), "af-packet");
	assert_string_equal(format_port_driver((enum port_driver)7), "unknown");
	assert_string_equal(format_rx_mode(RX_MODE_POLLING), "polling");
	assert_string_equal(format_ipsec_interface_type(IPSEC_INTERFACE_IPIP), "ipip");
	assert_string_equal(format_crypto_engine(CRYPTO_ENGINE_OPENSSL), "openssl");
	assert_string_equal(format_acl_action(ACL_ACTION_PERMIT_REFLECT), "permit-reflect");
	assert_string_equal(format_acl_dir(ACL_DIR_OUTPUT), "output");
	assert_string_equal(format_tcp_flags(buf, sizeof(buf), 0), "");
	assert_string_equal(format_tcp_flags(buf, sizeof(buf), ACL_TCP_SYN | ACL_TCP_ACK), "syn,ack");
	assert_string_equal(format_tcp_flags(buf, sizeof(buf), 0xff),
			    "fin,syn,rst,psh,ack,urg,ece,cwr");
	assert_string_equal(format_tcp_flags(buf, 6, 0xff), "fin,s");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_interfaces),
		cmocka_unit_test(test_2025_and_2026_paths_agree),
		cmocka_unit_test(test_quoting_and_comments),
		cmocka_unit_test(test_cpu_and_settings),
		cmocka_unit_test(test_acl_rules),
		cmocka_unit_test(test_bindings),
		cmocka_unit_test(test_repeated_file_is_idempotent),
		cmocka_unit_test(test_macip),
		cmocka_unit_test(test_full_conf),
		cmocka_unit_test_setup_teardown(test_load_errors, scratch_file_create,
						scratch_file_remove),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_many_rules_sorted),
		cmocka_unit_test(test_protocol_names),
		cmocka_unit_test(test_format),
	};
	if (argc > 1)
		configs_dir = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
