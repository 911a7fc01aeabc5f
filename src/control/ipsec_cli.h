/*
 * The IPsec commands of espctl: static SAs and policies in the words of
 * `ip xfrm state|policy add|del|flush` (so a line copied from ip xfrm
 * works), and `show ipsec sa|policy|tunnel` with text or --json output.
 * Handlers run on the control thread, which owns every SAD/SPD write.
 */
#ifndef ESPD_CONTROL_IPSEC_CLI_H
#define ESPD_CONTROL_IPSEC_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include "control/cli.h"

void ipsec_cli_register(void);

void format_ipsec_sas(struct cli_out *out, bool filter_spi, uint32_t spi);
void format_ipsec_policies(struct cli_out *out);
void format_ipsec_tunnels(struct cli_out *out);

#endif
