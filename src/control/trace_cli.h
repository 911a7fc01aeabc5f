/*
 * The packet trace's commands (`trace add`, `show trace`, `clear trace`)
 * and their output, text or JSON.
 */
#ifndef ESPD_CONTROL_TRACE_CLI_H
#define ESPD_CONTROL_TRACE_CLI_H

struct cli_out;

/* Every traced packet, node by node. */
void format_trace(struct cli_out *out);
void trace_cli_register(void);

#endif
