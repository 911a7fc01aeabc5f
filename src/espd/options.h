/*
 * espd's command line and the names derived from it: the instance name
 * keeps two espd processes apart (DPDK file prefix, CLI socket, state
 * directory, nftables table).
 */
#ifndef ESPD_ESPD_OPTIONS_H
#define ESPD_ESPD_OPTIONS_H

#include <stdbool.h>

struct options {
	const char *config_path;
	char name[32];
	char socket_path[108];
	char state_dir[256];
	bool check;
	bool restore;
};

/* 0 to run, 1 when it printed help or version, -1 on a usage error. */
int options_parse(int argc, char **argv, struct options *options);

#endif
