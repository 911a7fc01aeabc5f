/*
 * Every reason a packet is dropped or punted, declared once with its
 * description. Workers count into their own cache-aligned row; `show
 * errors` sums the rows. A counter's name is "<node>: <reason>".
 */
#ifndef ESPD_GRAPH_COUNTERS_H
#define ESPD_GRAPH_COUNTERS_H

#include <stdint.h>
#include <rte_common.h>

/* _(ID, node, kind, description) where kind is "drop" or "punt", or "miss"
 * for a capture copy or an ICMP redirect not made (the packet itself goes
 * on). */
#define foreach_espd_counter(_)                                                             \
	_(ACL_INPUT_DENY, "acl-input", "drop", "denied by an input ACL")                    \
	_(ACL_OUTPUT_DENY, "acl-output", "drop", "denied by an output ACL")                 \
	_(ETH_NOT_FOR_US, "ethernet-input", "drop", "destination MAC not ours")            \
	_(ETH_RUNT, "ethernet-input", "drop", "frame shorter than an Ethernet header")      \
	_(ETH_BROADCAST, "ethernet-input", "punt", "broadcast or multicast frame")         \
	_(ETH_ARP, "ethernet-input", "punt", "ARP")                                         \
	_(ETH_VLAN, "ethernet-input", "punt", "VLAN-tagged frame")                          \
	_(ETH_OTHER, "ethernet-input", "punt", "other ethertype")                           \
	_(IP4_MALFORMED, "ip4-input", "drop", "malformed IPv4 header")                      \
	_(IP4_TRUNCATED, "ip4-input", "drop", "shorter than its total length")             \
	_(IP4_BAD_CHECKSUM, "ip4-input", "drop", "bad IPv4 header checksum")                \
	_(IP4_MARTIAN, "ip4-input", "drop", "martian source address")                       \
	_(IP4_MARTIAN_DESTINATION, "ip4-input", "drop", "martian destination address")      \
	_(IP4_OPTIONS, "ip4-input", "punt", "IPv4 options")                                 \
	_(IP4_MULTICAST, "ip4-input", "punt", "multicast or broadcast destination")         \
	_(IP_FRAGMENT_NO_BUFFER, "ip-fragment", "drop", "no buffer for a fragment")        \
	_(IP_FRAGMENT_FAILED, "ip-fragment", "drop", "cannot be fragmented")               \
	_(IP_REASSEMBLE_DROPPED, "ip-reassemble", "drop", "timed out, or given up and not the kernel's") \
	_(IP_REASSEMBLE_HANDED_OVER, "ip-reassemble", "punt", "fragment of a datagram given to the kernel") \
	_(IP_REASSEMBLE_NOT_IPSEC, "ip-reassemble", "punt", "not ESP: the kernel's")       \
	_(IP_REASSEMBLE_TOO_BIG, "ip-reassemble", "punt", "ESP larger than a buffer")   \
	_(IP_REASSEMBLE_NO_BUFFER, "ip-reassemble", "punt", "no large buffer free for ESP") \
	_(IP_REASSEMBLE_OVERSIZED, "ip-reassemble", "drop", "fragments of more than 64 KB") \
	_(IP6_MALFORMED, "ip6-input", "drop", "malformed IPv6 header")                      \
	_(IP6_MARTIAN, "ip6-input", "drop", "martian source address")                       \
	_(IP6_MARTIAN_DESTINATION, "ip6-input", "drop", "loopback destination address")     \
	_(IP6_SOURCE_SCOPE, "ip6-input", "punt", "link-local or unspecified source")        \
	_(IP6_HOP_BY_HOP, "ip6-input", "punt", "hop-by-hop options")                        \
	_(IP6_LINK_LOCAL, "ip6-input", "punt", "link-local or multicast destination")      \
	_(IP_LOCAL, "ip-lookup", "punt", "addressed to the router")                         \
	_(IP_NO_ROUTE, "ip-lookup", "punt", "no route")                                     \
	_(IP_KERNEL_ROUTE, "ip-lookup", "punt", "route via an interface espd does not own") \
	_(IP_BLACKHOLE, "ip-lookup", "punt", "blackhole, unreachable or prohibit route")   \
	_(IP_FORWARDING_OFF, "ip-lookup", "drop", "forwarding disabled on the input interface") \
	_(IP_RP_FILTER, "ip-lookup", "drop", "source fails the reverse path filter")       \
	_(IP_TTL_EXPIRED, "ip-rewrite", "punt", "TTL or hop limit expired")                 \
	_(IP_TTL_ICMP, "ip-rewrite", "drop", "TTL or hop limit expired, larger than the TAP: espd answers") \
	_(IP_NEIGHBOR_MISS, "ip-rewrite", "punt", "neighbor unresolved")                    \
	_(IP_MTU_EXCEEDED, "ip-rewrite", "punt", "larger than the output MTU")              \
	_(IP_IFACE_DOWN, "ip-rewrite", "drop", "output interface down")                     \
	_(IP_MTU_ICMP, "ip-rewrite", "drop", "larger than the output MTU and the TAP: espd answers") \
	_(ICMP_ERROR_NOT_ANSWERED, "icmp-error", "drop", "ICMP error or later fragment: no answer") \
	_(ICMP_ERROR_NO_SOURCE, "icmp-error", "drop", "no address of the router to answer from") \
	_(ICMP_ERROR_NO_ROOM, "icmp-error", "drop", "no head room to answer in")          \
	_(ICMP_ERROR_RATE_LIMITED, "icmp-error", "drop", "time exceeded: rate limited")    \
	_(REDIRECT_MARTIAN, "icmp-redirect", "drop", "martian: source route not unicast")      \
	_(REDIRECT_PACED, "icmp-redirect", "miss", "IPv4: held back per source")            \
	_(REDIRECT_NOT_ANSWERED, "icmp-redirect", "miss", "IPv4: ICMP error or later fragment") \
	_(REDIRECT_NO_SOURCE, "icmp-redirect", "miss", "IPv4: no address to send from")     \
	_(REDIRECT_DEST_LIMITED, "icmp-redirect", "miss", "IPv6: rate limited per destination") \
	_(REDIRECT_NO_LINK_LOCAL, "icmp-redirect", "miss", "IPv6: no link-local address")   \
	_(REDIRECT_TARGET, "icmp-redirect", "miss", "IPv6: target not link-local")          \
	_(REDIRECT_NOT_NEIGHBOUR, "icmp-redirect", "miss", "IPv6: sender not a neighbour")  \
	_(REDIRECT_SOURCE_LIMITED, "icmp-redirect", "miss", "IPv6: rate limited per source") \
	_(REDIRECT_NO_BUFFER, "icmp-redirect", "miss", "no buffer for the redirect")        \
	_(ICMP_TOO_BIG_REPORTED, "icmp-too-big", "punt", "path MTU toward an SA's peer reported") \
	_(ICMP_TOO_BIG_NOT_LOWER, "icmp-too-big", "punt", "path MTU not below the link's") \
	_(ICMP_TOO_BIG_BELOW_IP6_MIN, "icmp-too-big", "punt", "IPv6 MTU below 1280 ignored") \
	_(ICMP_TOO_BIG_OTHER, "icmp-too-big", "punt", "not about an ESP packet of espd's SAs") \
	_(ICMP_TOO_BIG_CHECKSUM, "icmp-too-big", "punt", "bad ICMP checksum or length")     \
	_(ICMP_TOO_BIG_QUEUE_FULL, "icmp-too-big", "punt", "path MTU report queue full")   \
	_(TAP_NO_PORT, "port-input", "drop", "frame from a TAP without a port")             \
	_(TX_QUEUE_FULL, "port-output", "drop", "transmit queue full")                      \
	_(TX_NO_PORT, "port-output", "drop", "no output port")                              \
	_(PCAP_NO_BUFFER, "pcap", "miss", "no buffer for a copy")                          \
	_(PCAP_RING_FULL, "pcap", "miss", "capture ring full")                             \
	_(SPD_OUT_DISCARD, "spd-output", "drop", "discarded by an outbound policy")        \
	_(SPD_OUT_NO_SA, "spd-output", "drop", "needs IPsec, no usable SA (espd policy)")  \
	_(SPD_OUT_SEQ_OVERFLOW, "spd-output", "drop", "SA sequence numbers exhausted")     \
	_(SPD_OUT_KERNEL, "spd-output", "punt", "needs IPsec the kernel applies")          \
	_(SPD_LOCAL_DISCARD, "spd-local", "drop", "router's packet discarded by a policy") \
	_(SPD_LOCAL_NO_SA, "spd-local", "drop", "router's packet needs IPsec, no usable SA") \
	_(SPD_LOCAL_SEQ_OVERFLOW, "spd-local", "drop", "SA sequence numbers exhausted")    \
	_(ESP_ENC_TTL, "esp-encrypt", "punt", "TTL or hop limit expired")                  \
	_(ESP_ENC_TTL_ICMP, "esp-encrypt", "drop", "TTL or hop limit expired, larger than the TAP: espd answers") \
	_(ESP_ENC_MTU, "esp-encrypt", "punt", "too big for the tunnel (kernel SA)")        \
	_(ESP_ENC_MTU_ICMP, "esp-encrypt", "drop", "too big for the tunnel, ICMP sent")   \
	_(ESP_ENC_SEQ_OVERFLOW, "esp-encrypt", "drop", "sequence numbers exhausted")       \
	_(ESP_ENC_NO_ROOM, "esp-encrypt", "drop", "no head or tail room for ESP")          \
	_(ESP_ENC_MALFORMED, "esp-encrypt", "drop", "cannot place ESP in the packet")      \
	_(ESP_ENC_SA_GONE, "esp-encrypt", "drop", "SA removed or stopped")                 \
	_(ESP_ENC_CRYPTO, "esp-encrypt", "drop", "crypto engine error")                    \
	_(ESP_ENC_EXPIRED, "esp-encrypt", "drop", "SA reached a hard packet or byte limit") \
	_(IPSEC_IKE, "ipsec-input", "punt", "IKE on the NAT-T port")                       \
	_(IPSEC_KEEPALIVE, "ipsec-input", "punt", "NAT-T keepalive")                       \
	_(IPSEC_UNKNOWN_SPI, "ipsec-input", "punt", "unknown SPI")                         \
	_(IPSEC_NOT_OFFLOADED, "ipsec-input", "punt", "SA not offloaded")                  \
	_(IPSEC_KERNEL_TRANSPORT, "ipsec-input", "punt", "transport mode SA of the kernel") \
	_(IPSEC_TRUNCATED, "ipsec-input", "drop", "truncated ESP or UDP header")           \
	_(IPSEC_ENCAP, "ipsec-input", "drop", "UDP encapsulation differs from the SA")     \
	_(IPSEC_EXPIRED, "ipsec-input", "drop", "SA stopped at a hard packet or byte limit") \
	_(IPSEC_UDP_CHECKSUM, "ipsec-input", "drop", "ESP in UDP with a bad UDP checksum") \
	_(ESP_DEC_REPLAY, "esp-decrypt", "drop", "replayed packet")                        \
	_(ESP_DEC_WINDOW_LEFT, "esp-decrypt", "drop", "left of the anti-replay window")    \
	_(ESP_DEC_SEQ_ZERO, "esp-decrypt", "drop", "sequence number 0")                    \
	_(ESP_DEC_ICV, "esp-decrypt", "drop", "integrity check failed")                    \
	_(ESP_DEC_LENGTH, "esp-decrypt", "drop", "bad ESP length")                         \
	_(ESP_DEC_PAD, "esp-decrypt", "drop", "bad padding")                               \
	_(ESP_DEC_NEXT_HEADER, "esp-decrypt", "drop", "unexpected next header")            \
	_(ESP_DEC_DUMMY, "esp-decrypt", "drop", "dummy packet (next header 59)")           \
	_(ESP_DEC_SEGMENTED, "esp-decrypt", "drop", "multi-segment packet")                \
	_(ESP_DEC_SA_GONE, "esp-decrypt", "drop", "SA removed")                            \
	_(ESP_DEC_CRYPTO, "esp-decrypt", "drop", "crypto engine error")                    \
	_(ESP_DEC_EXPIRED, "esp-decrypt", "drop", "SA reached a hard packet or byte limit") \
	_(PUNT_SELECTOR, "punt", "drop", "decrypted packet outside the SA selector")        \
	_(PUNT_SA_GONE, "punt", "drop", "SA freed before its check")                        \
	_(SPD_IN_PLAINTEXT, "spd-input", "drop", "plaintext where a policy requires IPsec") \
	_(SPD_IN_SELECTOR, "spd-input", "drop", "decrypted packet outside the SA selector") \
	_(SPD_IN_POLICY, "spd-input", "drop", "decrypted packet without an inbound policy") \
	_(SPD_IN_POLICY_BLOCK, "spd-input", "drop", "decrypted packet blocked by a policy") \
	_(SPD_IN_TEMPLATE, "spd-input", "drop", "inbound policy wants another SA")          \
	_(SPD_IN_SA_GONE, "spd-input", "drop", "SA freed before its check")

enum espd_counter {
#define _(id, node, kind, text) ESPD_COUNTER_##id,
	foreach_espd_counter(_)
#undef _
	ESPD_COUNTER_MAX
};

#define ESPD_WORKERS_MAX 16

struct counter_row {
	uint64_t count[ESPD_COUNTER_MAX];
} __rte_cache_aligned;

extern struct counter_row counter_rows[ESPD_WORKERS_MAX];

static inline void counter_inc(unsigned worker, enum espd_counter counter)
{
	counter_rows[worker].count[counter]++;
}

static inline void counter_add(unsigned worker, enum espd_counter counter, uint64_t n)
{
	counter_rows[worker].count[counter] += n;
}

uint64_t counter_total(enum espd_counter counter);
const char *counter_node(enum espd_counter counter);
const char *counter_kind(enum espd_counter counter);
const char *counter_text(enum espd_counter counter);
void counters_clear(void);

#endif
