/*
 * One-line decodes of the frame bytes a packet trace keeps: Ethernet, then
 * IPv4 or IPv6, then ICMP, UDP, TCP or ESP (over IP or in UDP), never
 * beyond the ESP header (what follows it is ciphertext).
 */
#ifndef ESPD_CONTROL_TRACE_DECODE_H
#define ESPD_CONTROL_TRACE_DECODE_H

#include <stddef.h>
#include <stdint.h>

/* Decode the frame's first len bytes into buf; returns buf. */
char *format_trace_frame(char *buf, size_t size, const uint8_t *frame, size_t len);

#endif
