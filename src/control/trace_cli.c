/*
 * `trace add N`, `show trace` and `clear trace`: the control side of the
 * packet trace (graph/trace.h records it). Packets are shown in the order
 * they arrived, over all workers; each node visit with its time since the
 * packet's first, a decode of the packet as the node received it, and at
 * the drop and punt nodes the counter that sent it there.
 */
#include "control/trace_cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <rte_cycles.h>
#include "common/number.h"
#include "control/cli.h"
#include "control/trace_decode.h"
#include "graph/counters.h"
#include "graph/trace.h"
#include "graph/worker.h"

#define TRACE_LINE_MAX 256

/* A record, for the order of first visits over workers. */
struct trace_ref {
	uint64_t tsc;
	const struct trace_packet *packet;
	unsigned worker;
};

static int ref_by_time(const void *a, const void *b)
{
	const struct trace_ref *x = a, *y = b;

	return x->tsc < y->tsc ? -1 : x->tsc > y->tsc;
}

/* Records that hold at least one visit, oldest first; the caller frees. */
static struct trace_ref *trace_refs(size_t *n)
{
	struct trace_ref *refs = calloc((size_t)n_workers * TRACE_PACKETS_MAX, sizeof(*refs));

	*n = 0;
	if (!refs)
		return NULL;
	for (unsigned w = 0; w < n_workers; w++) {
		const struct trace_buffer *buf = trace_buffer_of(w);
		uint32_t taken = buf ? __atomic_load_n(&buf->n_packets, __ATOMIC_ACQUIRE) : 0;
		for (uint32_t s = 0; s < taken; s++) {
			const struct trace_packet *p = &buf->packets[s];
			if (__atomic_load_n(&p->n_visits, __ATOMIC_ACQUIRE) == 0)
				continue;
			refs[(*n)++] = (struct trace_ref){ p->visits[0].tsc, p, w };
		}
	}
	qsort(refs, *n, sizeof(*refs), ref_by_time);
	return refs;
}

static bool node_is(const struct trace_visit *v, const char *name)
{
	const char *node = rte_node_id_to_name(v->node);

	return node && strcmp(node, name) == 0;
}

/* The counter's name as `show errors` gives it: "<node>: <reason>". */
static char *format_trace_reason(char *buf, size_t size, const struct trace_visit *v)
{
	buf[0] = '\0';
	if (v->why < ESPD_COUNTER_MAX && (node_is(v, NODE_DROP) || node_is(v, NODE_PUNT)))
		snprintf(buf, size, "%s: %s", counter_node(v->why), counter_text(v->why));
	return buf;
}

static const char *format_trace_flags(char *buf, size_t size, uint8_t flags)
{
	static const struct {
		uint8_t flag;
		const char *name;
	} names[] = {
		{ PKT_IPSEC_ENCRYPTED, "encrypted" }, { PKT_IPSEC_DECRYPTED, "decrypted" },
		{ PKT_PUNT_FRAGMENT, "punt-fragment" }, { PKT_OWN, "own" },
		{ PKT_PATH_MTU, "path-mtu" }, { PKT_REASSEMBLED, "reassembled" },
		{ PKT_SA_FRAGMENT, "sa-fragment" }, { PKT_NO_REDIRECT, "no-redirect" },
	};
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < RTE_DIM(names) && len < size; i++)
		if (flags & names[i].flag)
			len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? "," : "",
						names[i].name);
	return buf;
}

/* The SA a visit concerns: the ESP nodes' input, or an IPsec result. */
static bool visit_has_sa(const struct trace_visit *v)
{
	return (v->flags & PKT_IPSEC) || node_is(v, NODE_ESP_ENCRYPT) ||
	       node_is(v, NODE_ESP_DECRYPT);
}

/* The one-line decode of a visit: at port-input where the frame came
 * from, then the headers, the SA and the flags. */
static char *format_trace_visit(char *buf, size_t size, const struct trace_visit *v)
{
	char frame[TRACE_LINE_MAX], flags[64];
	size_t len = 0;

	format_trace_frame(frame, sizeof(frame), v->bytes, v->n_bytes);
	if (node_is(v, NODE_PORT_INPUT)) {
		const char *ifname = v->rx_iface < iface_table.n_ifaces ?
				     iface_table.ifaces[v->rx_iface].name : "?";
		len = (size_t)snprintf(buf, size, "%s %s, %u bytes: ", ifname,
				       v->flags & PKT_OWN ? "tap rx" : "rx", v->pkt_len);
	}
	if (len < size)
		len += (size_t)snprintf(buf + len, size - len, "%s", frame);
	if (visit_has_sa(v) && len < size)
		len += (size_t)snprintf(buf + len, size - len, ", sa %u", v->sa_index);
	format_trace_flags(flags, sizeof(flags), v->flags);
	if (flags[0] && len < size)
		snprintf(buf + len, size - len, ", flags %s", flags);
	return buf;
}

static double visit_us(const struct trace_packet *p, const struct trace_visit *v)
{
	return (double)(v->tsc - p->visits[0].tsc) * 1e6 / (double)rte_get_tsc_hz();
}

static void format_trace_packet(struct cli_out *out, const struct trace_ref *ref,
				size_t number)
{
	const struct trace_packet *p = ref->packet;
	uint16_t n = __atomic_load_n(&p->n_visits, __ATOMIC_ACQUIRE);
	char line[2 * TRACE_LINE_MAX], reason[TRACE_LINE_MAX];

	if (out->json)
		cli_printf(out, "%s{\"packet\": %zu, \"worker\": %u, \"visits_lost\": %u, "
			   "\"visits\": [", number > 1 ? ", " : "", number, ref->worker,
			   p->visits_lost);
	else
		cli_printf(out, "Packet %zu (worker %u)\n", number, ref->worker);
	for (uint16_t i = 0; i < n; i++) {
		const struct trace_visit *v = &p->visits[i];
		const char *node = rte_node_id_to_name(v->node);
		format_trace_visit(line, sizeof(line), v);
		format_trace_reason(reason, sizeof(reason), v);
		if (!out->json) {
			cli_printf(out, "  %10.3f us  %s\n      %s\n", visit_us(p, v),
				   node ? node : "?", line);
			if (reason[0])
				cli_printf(out, "      reason: %s\n", reason);
			continue;
		}
		cli_printf(out, "%s{\"node\": ", i ? ", " : "");
		cli_json_string(out, node ? node : "?");
		cli_printf(out, ", \"us\": %.3f, \"decode\": ", visit_us(p, v));
		cli_json_string(out, line);
		if (visit_has_sa(v))
			cli_printf(out, ", \"sa_index\": %u", v->sa_index);
		if (reason[0]) {
			cli_printf(out, ", \"reason\": ");
			cli_json_string(out, reason);
		}
		cli_printf(out, "}");
	}
	if (out->json)
		cli_printf(out, "]}");
	else if (p->visits_lost)
		cli_printf(out, "  %u more visits not recorded\n", p->visits_lost);
}

static uint64_t packets_lost(void)
{
	uint64_t lost = 0;

	for (unsigned w = 0; w < n_workers; w++) {
		const struct trace_buffer *buf = trace_buffer_of(w);
		if (buf)
			lost += __atomic_load_n(&buf->packets_lost, __ATOMIC_RELAXED);
	}
	return lost;
}

void format_trace(struct cli_out *out)
{
	size_t n;
	struct trace_ref *refs = trace_refs(&n);
	uint32_t left = __atomic_load_n(&trace_budget, __ATOMIC_RELAXED);
	uint64_t lost = packets_lost();

	if (out->json)
		cli_printf(out, "{\"to_trace\": %u, \"packets_lost\": %" PRIu64 ", \"packets\": [",
			   left, lost);
	else if (n == 0)
		cli_printf(out, "No packets traced.\n");
	for (size_t i = 0; i < n; i++)
		format_trace_packet(out, &refs[i], i + 1);
	if (out->json) {
		cli_printf(out, "]}\n");
	} else {
		if (lost)
			cli_printf(out, "%" PRIu64 " traced packets not recorded: buffer full\n",
				   lost);
		if (left)
			cli_printf(out, "%u packets still to trace\n", left);
	}
	free(refs);
}

static int trace_add_cmd(struct cli_out *out, int argc, char **argv)
{
	uint64_t n;
	int rc;

	if (argc != 1)
		return cli_error(out, -EINVAL, "usage: trace add N (1..%d)", TRACE_PACKETS_MAX);
	if (number_parse(argv[0], 10, TRACE_PACKETS_MAX, &n) < 0 || n < 1)
		return cli_error(out, -EINVAL, "'%s': want a count of packets, 1..%d", argv[0],
				 TRACE_PACKETS_MAX);
	rc = trace_add((uint32_t)n);
	if (rc < 0)
		return cli_error(out, rc, "trace add: %s", strerror(-rc));
	if (out->json)
		cli_printf(out, "{\"to_trace\": %u}\n",
			   __atomic_load_n(&trace_budget, __ATOMIC_RELAXED));
	return 0;
}

static int show_trace(struct cli_out *out)
{
	format_trace(out);
	return 0;
}

static int clear_trace(struct cli_out *out)
{
	trace_clear();
	if (out->json)
		cli_printf(out, "{\"cleared\": true}\n");
	return 0;
}

static const struct cli_command trace_commands[] = {
	{ .path = "trace add", .handler = trace_add_cmd,
	  .help = "trace the next N received packets through the graph" },
	{ .path = "show trace", .run = show_trace, .help = "the packets traced, node by node" },
	{ .path = "clear trace", .run = clear_trace, .help = "stop tracing, forget the trace" },
};

void trace_cli_register(void)
{
	cli_register(trace_commands, RTE_DIM(trace_commands));
}
