/* Command-line parsing for espd. */
#include "espd/options.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#define RUN_DIR "/run/espd"

static void usage(FILE *to)
{
	fprintf(to,
		"usage: espd -c FILE [--check] [--restore] [--name NAME] [--socket PATH]\n"
		"  -c, --config FILE   configuration (VyOS `set vpp ...` lines)\n"
		"      --check         validate the configuration and exit\n"
		"      --restore       give taken-over interfaces back to the kernel and exit\n"
		"      --name NAME     instance name (default espd): DPDK file prefix, state\n"
		"                      under " RUN_DIR "/NAME; alias --file-prefix\n"
		"      --socket PATH   CLI socket (default " RUN_DIR "/cli.sock)\n"
		"  -V, --version       print the version\n");
}

/* An instance named after its socket when only --socket was given. */
static void name_from_socket(struct options *options)
{
	const char *base = strrchr(options->socket_path, '/');
	base = base ? base + 1 : options->socket_path;
	size_t len = strcspn(base, ".");
	if (len == 0 || len >= sizeof(options->name))
		return;
	snprintf(options->name, sizeof(options->name), "%.*s", (int)len, base);
}

int options_parse(int argc, char **argv, struct options *options)
{
	static const struct option long_options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'k' },
		{ "restore", no_argument, NULL, 'r' },
		{ "name", required_argument, NULL, 'n' },
		{ "file-prefix", required_argument, NULL, 'n' },
		{ "socket", required_argument, NULL, 's' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool named = false, socket_given = false;
	int opt;

	memset(options, 0, sizeof(*options));
	snprintf(options->name, sizeof(options->name), "espd");
	snprintf(options->socket_path, sizeof(options->socket_path), RUN_DIR "/cli.sock");
	while ((opt = getopt_long(argc, argv, "c:Vh", long_options, NULL)) != -1) {
		switch (opt) {
		case 'c': options->config_path = optarg; break;
		case 'k': options->check = true; break;
		case 'r': options->restore = true; break;
		case 'n':
			snprintf(options->name, sizeof(options->name), "%s", optarg);
			named = true;
			break;
		case 's':
			snprintf(options->socket_path, sizeof(options->socket_path), "%s", optarg);
			socket_given = true;
			break;
		case 'V': printf("espd %s\n", ESPD_VERSION); return 1;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return -1;
		}
	}
	if (optind < argc || !options->config_path) {
		fprintf(stderr, "espd: %s\n", optind < argc ? "unexpected argument" : "-c FILE is required");
		usage(stderr);
		return -1;
	}
	if (socket_given && !named)
		name_from_socket(options);
	if (named && !socket_given)
		snprintf(options->socket_path, sizeof(options->socket_path), RUN_DIR "/%s.sock",
			 options->name);
	snprintf(options->state_dir, sizeof(options->state_dir), RUN_DIR "/%s", options->name);
	return 0;
}
