/*
 * `show` commands for the tables and counters the dataplane owns:
 * interfaces, routes, neighbors, errors, runtime, version; and `clear
 * counters`. Each has a format_* function writing text or JSON.
 */
#ifndef ESPD_CONTROL_SHOW_H
#define ESPD_CONTROL_SHOW_H

#include "control/cli.h"

void show_cli_register(void);
void format_interfaces(struct cli_out *out);
int format_routes(struct cli_out *out);
int format_neighbors(struct cli_out *out);
void format_errors(struct cli_out *out);
void format_runtime(struct cli_out *out);

#endif
