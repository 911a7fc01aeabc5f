/*
 * The command table behind espctl: commands register {words, handler, help};
 * the server (control thread) matches the longest registered word prefix of
 * a request and hands the remaining words to the handler, which writes text
 * or, when the request carried --json, one JSON document into a cli_out.
 */
#ifndef ESPD_CONTROL_CLI_H
#define ESPD_CONTROL_CLI_H

#include <stdbool.h>
#include <stddef.h>

struct cli_out {
	char *buf;
	size_t len, size;
	bool json;     /* the request asked for --json */
	int status;    /* 0 ok; non-zero makes espctl exit with failure */
};

/* Handlers return 0, or -errno after cli_error(). */
typedef int (*cli_handler_t)(struct cli_out *out, int argc, char **argv);
typedef int (*cli_run_t)(struct cli_out *out);

/* A command has a handler for the words after its path, or runs without
 * any: then words after it are refused for it ("<path> takes no arguments"). */
struct cli_command {
	const char *path;   /* words, e.g. "show routes" */
	cli_handler_t handler;
	const char *help;   /* one line, shown by "help" */
	cli_run_t run;
};

void cli_register(const struct cli_command *commands, size_t n);
void cli_printf(struct cli_out *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Report a usage or runtime error: sets status, writes the message (as JSON
 * {"error": ...} when json). */
int cli_error(struct cli_out *out, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Write s as a JSON string literal, quotes included. */
void cli_json_string(struct cli_out *out, const char *s);

/* Run one request given as words (used by the server and by tests); a
 * "--json" word anywhere selects JSON output. */
void cli_execute(int argc, char **argv, struct cli_out *out);
void cli_out_free(struct cli_out *out);

int cli_server_open(const char *path);   /* returns the listening fd or -errno */
void cli_server_accept(int listen_fd);   /* serve one pending client */
void cli_server_close(int listen_fd, const char *path);

#define CLI_MAX_REQUEST 4096
#define CLI_MAX_REPLY (16u << 20)

#endif
