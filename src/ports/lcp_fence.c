/*
 * linux-cp ingress fence: keeps the kernel's stack off the frames of a
 * device the dataplane reads through AF_PACKET. AF_PACKET's taps run before
 * the ingress hooks, so the dataplane still sees every frame.
 *
 * nftables is the first choice: a netdev table (one per espd instance) with
 * an ingress chain per device whose policy is drop. Kernels without the
 * netdev family (User-Mode Linux 6.1) get a tc ingress qdisc with a matchall
 * drop filter instead; kernels without tc classifiers have the netdev family.
 * Both go through their command-line tools, `nft -f -` and `tc`.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ports/lcp_internal.h"

/* The tc filter sits first in the ingress chain and carries a cookie, so
 * that restore removes its own filter and nobody else's. */
#define TC_PREF "1"
#define TC_COOKIE "657370642d6c6370" /* "espd-lcp" */

enum { OUT_STDOUT, OUT_BOTH }; /* what a tool's output buffer receives */

static void __attribute__((noreturn)) tool_exec(char *const argv[], int in, int out, int what)
{
	int null = open("/dev/null", O_WRONLY);

	dup2(in, 0);
	dup2(out, 1);
	dup2(what == OUT_BOTH ? out : null, 2);
	execvp(argv[0], argv);
	_exit(127);
}

/* Read what the tool prints into out (NUL-terminated, cut to size). */
static void tool_read(int fd, char *out, size_t size)
{
	size_t used = 0;
	char sink[256];
	ssize_t n;

	for (;;) {
		bool keep = used + 1 < size;
		n = read(fd, keep ? out + used : sink, keep ? size - 1 - used : sizeof(sink));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		used += keep ? (size_t)n : 0;
	}
	out[used] = '\0';
}

/* Run argv with input (may be NULL) on its stdin; its stdout, and its stderr
 * too for OUT_BOTH, go to out. Returns the exit status, or -errno when it
 * could not run (-ENOENT: no such binary). */
static int tool_run(char *const argv[], const char *input, char *out, size_t size, int what)
{
	int in[2], res[2], status, rc = 0;
	pid_t pid;

	out[0] = '\0';
	if (pipe2(in, O_CLOEXEC) < 0)
		return -errno;
	/* Inputs are far smaller than a pipe's buffer: writing before the tool
	 * starts can neither block nor raise SIGPIPE if it fails to start. */
	if ((input && write(in[1], input, strlen(input)) < 0) || pipe2(res, O_CLOEXEC) < 0) {
		rc = -errno;
		close(in[0]);
		close(in[1]);
		return rc;
	}
	close(in[1]);
	pid = fork();
	if (pid == 0)
		tool_exec(argv, in[0], res[1], what);
	if (pid < 0)
		rc = -errno;
	close(in[0]);
	close(res[1]);
	if (pid > 0)
		tool_read(res[0], out, size);
	close(res[0]);
	if (pid < 0)
		return rc;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (!WIFEXITED(status))
		return -EINTR;
	return WEXITSTATUS(status) == 127 ? -ENOENT : WEXITSTATUS(status);
}

/* The tool's first line of output, for a one-line message, from its
 * "Error: " on (nft puts the place in its input before it). */
static const char *first_line(char *out, const char *tool, int rc)
{
	char *p = out + strspn(out, " \t\n"), *error;

	p[strcspn(p, "\n")] = '\0';
	if ((error = strstr(p, "Error: ")))
		p = error;
	if (rc == -ENOENT)
		snprintf(out, 64, "%s not found", tool);
	else if (rc < 0)
		snprintf(out, 64, "running %s: %s", tool, strerror(-rc));
	else if (!*p)
		snprintf(out, 64, "%s exited with status %d", tool, rc);
	else
		return p;
	return out;
}

/* A tool's failure as one "espd: lcp: ..." line; -EIO when it ran. */
static int tool_fail(const struct lcp_saved *s, const char *what, char *out, const char *tool,
		     int rc)
{
	fprintf(stderr, "espd: lcp: %s: %s failed: %s\n", s->name, what, first_line(out, tool, rc));
	return rc < 0 ? rc : -EIO;
}

/* ---- nftables ---- */

static int nft_run(const char *script, char *out, size_t size, int what)
{
	char *const argv[] = { "nft", "-f", "-", NULL };
	return tool_run(argv, script, out, size, what);
}

static int nft_chain_add(const struct lcp_saved *s)
{
	char script[512], out[512];
	int rc;

	snprintf(script, sizeof(script),
		 "table netdev %s {\n"
		 "\tchain %s {\n"
		 "\t\ttype filter hook ingress device \"%s\" priority 0; policy drop;\n"
		 "\t}\n"
		 "}\n", s->nft_table, s->phys_name, s->phys_name);
	rc = nft_run(script, out, sizeof(out), OUT_BOTH);
	return rc ? tool_fail(s, "adding nftables ingress drop chain", out, "nft", rc) : 0;
}

/* Delete the chain if it exists, and the table once no chain is left in it
 * (another device of the same instance may still use it). */
static int nft_chain_del(const struct lcp_saved *s)
{
	char script[256], out[4096];
	int rc;

	snprintf(script, sizeof(script), "list chain netdev %s %s\n", s->nft_table, s->phys_name);
	if (nft_run(script, out, sizeof(out), OUT_STDOUT) == 0) {
		snprintf(script, sizeof(script), "delete chain netdev %s %s\n", s->nft_table,
			 s->phys_name);
		if ((rc = nft_run(script, out, sizeof(out), OUT_BOTH)) != 0)
			return tool_fail(s, "removing nftables ingress drop chain", out, "nft", rc);
	}
	snprintf(script, sizeof(script), "list table netdev %s\n", s->nft_table);
	if (nft_run(script, out, sizeof(out), OUT_STDOUT) == 0 && !strstr(out, "chain ")) {
		snprintf(script, sizeof(script), "delete table netdev %s\n", s->nft_table);
		if ((rc = nft_run(script, out, sizeof(out), OUT_BOTH)) != 0)
			return tool_fail(s, "removing nftables table", out, "nft", rc);
	}
	return 0;
}

/* Whether the kernel takes a netdev table: `nft --check` has the kernel
 * validate the batch and then aborts it, so nothing is created. On failure
 * note says why. */
static bool nft_usable(const struct lcp_saved *s, char *note, size_t size)
{
	char *const argv[] = { "nft", "--check", "-f", "-", NULL };
	char script[64], out[512];
	int rc;

	snprintf(script, sizeof(script), "add table netdev %s\n", s->nft_table);
	rc = tool_run(argv, script, out, sizeof(out), OUT_BOTH);
	if (rc == 0)
		return true;
	snprintf(note, size, "%s", first_line(out, "nft", rc));
	return false;
}

/* ---- tc ---- */

/* tc ARGS... on s->phys_name's ingress; "DEV" in args is the device. */
static int tc_run(const struct lcp_saved *s, const char *const args[], char *out, size_t size,
		  int what)
{
	char *argv[16] = { "tc" };
	size_t n = 1;

	for (size_t i = 0; args[i] && n + 1 < sizeof(argv) / sizeof(argv[0]); i++)
		argv[n++] = strcmp(args[i], "DEV") == 0 ? (char *)s->phys_name : (char *)args[i];
	argv[n] = NULL;
	return tool_run(argv, NULL, out, size, what);
}

static int tc_add(const struct lcp_saved *s, char *out, size_t size)
{
	static const char *const show[] = { "qdisc", "show", "dev", "DEV", "ingress", NULL };
	static const char *const qdisc[] = { "qdisc", "add", "dev", "DEV", "ingress", NULL };
	static const char *const filter[] = { "filter", "add", "dev", "DEV", "ingress",
		"protocol", "all", "pref", TC_PREF, "matchall", "action", "drop", "cookie", TC_COOKIE,
		NULL };
	int rc = tc_run(s, show, out, size, OUT_BOTH);

	/* An ingress or clsact qdisc already there takes the filter as well. */
	if (rc == 0 && out[0] == '\0')
		rc = tc_run(s, qdisc, out, size, OUT_BOTH);
	if (rc == 0)
		rc = tc_run(s, filter, out, size, OUT_BOTH);
	return rc;
}

/* Remove the filter if it is ours, then the ingress qdisc once it holds no
 * filter: takeover adds one where there was none (an empty one the device
 * had before goes too, which changes nothing for its traffic). Nothing to
 * do when no device carries the phys name: the filter only ever goes on
 * under that name, and restore removes it before renaming the device back. */
static int tc_del(const struct lcp_saved *s)
{
	static const char *const show_ours[] = { "filter", "show", "dev", "DEV", "ingress",
		"pref", TC_PREF, NULL };
	static const char *const del[] = { "filter", "del", "dev", "DEV", "ingress", "pref", TC_PREF,
		NULL };
	static const char *const show_all[] = { "filter", "show", "dev", "DEV", "ingress", NULL };
	static const char *const show_qdisc[] = { "qdisc", "show", "dev", "DEV", "ingress", NULL };
	static const char *const del_qdisc[] = { "qdisc", "del", "dev", "DEV", "ingress", NULL };
	char out[4096];
	int rc;

	if ((rc = tc_run(s, show_ours, out, sizeof(out), OUT_BOTH)) != 0)
		return rc > 0 && strstr(out, "Cannot find device")
			       ? 0 : tool_fail(s, "reading tc ingress filters", out, "tc", rc);
	if (strstr(out, "cookie " TC_COOKIE) && (rc = tc_run(s, del, out, sizeof(out), OUT_BOTH)) != 0)
		return tool_fail(s, "removing tc ingress drop filter", out, "tc", rc);
	if (tc_run(s, show_all, out, sizeof(out), OUT_STDOUT) != 0 || out[0] != '\0' ||
	    tc_run(s, show_qdisc, out, sizeof(out), OUT_STDOUT) != 0 ||
	    strncmp(out, "qdisc ingress ", 14) != 0)
		return 0;
	if ((rc = tc_run(s, del_qdisc, out, sizeof(out), OUT_BOTH)) != 0)
		return tool_fail(s, "removing tc ingress qdisc", out, "tc", rc);
	return 0;
}

/* ---- the fence ---- */

bool lcp_fence_table_valid(const char *table)
{
	size_t len = strlen(table);

	/* The name goes into an nft script: allow only what nft takes unquoted. */
	return len > 0 && len < LCP_NFT_NAME_MAX &&
	       ((table[0] >= 'a' && table[0] <= 'z') || (table[0] >= 'A' && table[0] <= 'Z')) &&
	       strspn(table, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == len;
}

int lcp_saved_set_ingress_drop(struct lcp_saved *saved, const char *table)
{
	if (!lcp_fence_table_valid(table)) {
		fprintf(stderr, "espd: lcp: %s: invalid nftables table name '%s'\n", saved->name, table);
		return -EINVAL;
	}
	memcpy(saved->nft_table, table, strlen(table) + 1);
	saved->fence = LCP_FENCE_NFT;
	saved->fence_note[0] = '\0';
	if (nft_usable(saved, saved->fence_note, sizeof(saved->fence_note)))
		return 0;
	fprintf(stderr, "espd: lcp: %s: nftables cannot fence the device (%s); using tc\n",
		saved->name, saved->fence_note);
	saved->fence = LCP_FENCE_TC;
	saved->nft_table[0] = '\0';
	return 0;
}

int lcp_fence_add(const struct lcp_saved *s)
{
	char out[512];
	int rc;

	if (s->fence == LCP_FENCE_NFT)
		return nft_chain_add(s);
	if (s->fence != LCP_FENCE_TC)
		return 0;
	rc = tc_add(s, out, sizeof(out));
	if (rc == 0)
		return 0;
	fprintf(stderr, "espd: lcp: %s: ingress drop failed: nftables: %s; tc: %s\n", s->name,
		s->fence_note[0] ? s->fence_note : "not tried", first_line(out, "tc", rc));
	return rc < 0 ? rc : -EOPNOTSUPP;
}

int lcp_fence_del(const struct lcp_saved *s)
{
	if (s->fence == LCP_FENCE_NFT)
		return nft_chain_del(s);
	if (s->fence == LCP_FENCE_TC)
		return tc_del(s);
	return 0;
}
