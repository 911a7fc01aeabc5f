/*
 * The IPsec commands of espctl: static SAs and policies in the words of
 * `ip xfrm state|policy add|del|flush` (so a line copied from ip xfrm
 * works), `show ipsec sa|policy|tunnel` with text or --json output and
 * `clear ipsec sa`. Handlers run on the control thread, which owns every
 * SAD/SPD write.
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
/* Reset the SA counters shown (those of one SPI with filter_spi): how many. */
unsigned ipsec_counters_clear(bool filter_spi, uint32_t spi);

#endif
