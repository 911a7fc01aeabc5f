/*
 * `pcap on|off` and `show pcap`: capture of the frames the router's ports
 * receive and send into a pcapng file. The control thread owns the file:
 * it drains the workers' rings (graph/pcap.h) every PCAP_DRAIN_MS while a
 * capture runs and closes the file at `pcap off`, after the capture's max
 * frames, or when espd stops.
 */
#ifndef ESPD_CONTROL_PCAP_CLI_H
#define ESPD_CONTROL_PCAP_CLI_H

#include <stdbool.h>
#include "control/cli.h"

#define PCAP_DRAIN_MS 10

void pcap_cli_register(void);
/* Whether a capture runs: the control loop then wakes every PCAP_DRAIN_MS. */
bool pcap_cli_running(void);
/* Control loop: write what the workers captured; close the file once the
 * capture's max frames are all in. */
void pcap_cli_poll(void);
/* At shutdown, while the workers still run: finish a running capture. */
void pcap_cli_stop(void);
void format_pcap(struct cli_out *out);

#endif
