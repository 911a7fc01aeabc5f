/*
 * lcp_tool: drives the linux-cp takeover functions the way espd does, for
 * tests/e2e/test_lcp.sh. The TAP is made here as DPDK's net_tap makes it
 * (/dev/net/tun, IFF_TAP | IFF_NO_PI, original MAC), so it vanishes with
 * the process.
 *
 *   lcp_tool capture IFNAME                  print the captured state
 *   lcp_tool takeover STATE_DIR IFNAME [--nft TABLE] [--no-tap]
 *       capture, save, take over (fenced when --nft is given: nftables,
 *       or tc where the kernel has no netdev family), (make and configure
 *       the TAP), print "READY <phys name> <tap ifindex>", then wait;
 *       SIGTERM or SIGINT gives the TAP's sysctls back, closes the TAP
 *       and restores, like espd's clean exit. A takeover that fails is
 *       restored at once, as espd does.
 *   lcp_tool restore STATE_DIR               crash repair from the state file
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <linux/if_tun.h>

#include "ports/lcp.h"

static int usage(void)
{
	fprintf(stderr, "usage: lcp_tool capture IFNAME\n"
			"       lcp_tool takeover STATE_DIR IFNAME [--nft TABLE] [--no-tap]\n"
			"       lcp_tool restore STATE_DIR\n");
	return 2;
}

/* What net_tap does: a TAP named name with the given MAC; returns its fd. */
static int tap_create(const char *name, const uint8_t mac[6], int *ifindex)
{
	struct ifreq ifr = { 0 };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC), sock;

	if (fd < 0)
		return -errno;
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		goto fail;
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		goto fail;
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
	int rc = ioctl(sock, SIOCSIFHWADDR, &ifr);
	close(sock);
	if (rc < 0)
		goto fail;
	*ifindex = (int)if_nametoindex(name);
	return fd;
fail:
	rc = -errno;
	close(fd);
	return rc;
}

static int wait_for_stop(void)
{
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	return sigwait(&set, &sig);
}

static int cmd_takeover(const char *state_dir, const char *ifname, const char *table, bool tap)
{
	struct lcp_saved saved;
	char phys[LCP_IFNAMSIZ];
	int rc, restored, fd = -1, tap_ifindex = 0;

	if ((rc = lcp_capture(ifname, &saved)) < 0)
		return rc;
	if ((table && (rc = lcp_saved_set_ingress_drop(&saved, table)) < 0) ||
	    (rc = lcp_state_save(state_dir, &saved, 1)) < 0)
		goto out;
	if ((rc = lcp_takeover(&saved, phys)) < 0)
		goto give_back;
	if (tap) {
		fd = tap_create(saved.name, saved.mac, &tap_ifindex);
		if (fd < 0) {
			rc = fd;
			fprintf(stderr, "lcp_tool: creating TAP %s failed: %s\n", saved.name,
				strerror(-rc));
			goto give_back;
		}
		if ((rc = lcp_tap_configure(&saved, tap_ifindex)) < 0)
			goto give_back;
	}
	printf("READY %s %d\n", phys, tap_ifindex);
	fflush(stdout);
	wait_for_stop();
	if (fd >= 0)
		rc = lcp_tap_confs_give_back(saved.name, phys);
give_back:
	if (fd >= 0)
		close(fd);
	restored = lcp_restore(state_dir);
	if (rc == 0)
		rc = restored;
out:
	lcp_saved_free(&saved);
	return rc;
}

static int cmd_capture(const char *ifname)
{
	struct lcp_saved saved;
	int rc = lcp_capture(ifname, &saved);

	if (rc < 0)
		return rc;
	rc = lcp_state_write(stdout, &saved, 1);
	lcp_saved_free(&saved);
	return rc;
}

int main(int argc, char **argv)
{
	int rc;

	if (argc == 3 && strcmp(argv[1], "capture") == 0) {
		rc = cmd_capture(argv[2]);
	} else if (argc == 3 && strcmp(argv[1], "restore") == 0) {
		rc = lcp_restore(argv[2]);
		if (rc >= 0)
			printf("restored %d\n", rc);
	} else if (argc >= 4 && strcmp(argv[1], "takeover") == 0) {
		const char *table = NULL;
		bool tap = true;
		for (int i = 4; i < argc; i++) {
			if (strcmp(argv[i], "--nft") == 0 && i + 1 < argc)
				table = argv[++i];
			else if (strcmp(argv[i], "--no-tap") == 0)
				tap = false;
			else
				return usage();
		}
		rc = cmd_takeover(argv[2], argv[3], table, tap);
	} else {
		return usage();
	}
	return rc < 0 ? 1 : 0;
}
