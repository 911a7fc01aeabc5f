/*
 * The CLI server: a UNIX stream socket (root only), one request per
 * connection. Request: u32 length, then the words separated by NUL bytes.
 * Reply: i32 status, u32 length, then the text. Lengths are checked both ways.
 */
#include "control/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define CLI_COMMANDS_MAX 128
#define CLI_WORDS_MAX 64

static struct {
	const struct cli_command *commands[CLI_COMMANDS_MAX];
	size_t n;
} registry;

void cli_register(const struct cli_command *commands, size_t n)
{
	for (size_t i = 0; i < n && registry.n < CLI_COMMANDS_MAX; i++)
		registry.commands[registry.n++] = &commands[i];
}

static void out_reserve(struct cli_out *out, size_t extra)
{
	if (out->len + extra + 1 <= out->size)
		return;
	size_t size = out->size ? out->size : 4096;
	while (size < out->len + extra + 1)
		size *= 2;
	char *buf = realloc(out->buf, size);
	if (!buf)
		return;
	out->buf = buf;
	out->size = size;
}

static void out_vprintf(struct cli_out *out, const char *fmt, va_list ap)
{
	va_list copy;
	va_copy(copy, ap);
	int need = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (need <= 0 || out->len + (size_t)need > CLI_MAX_REPLY)
		return;
	out_reserve(out, (size_t)need);
	if (out->len + (size_t)need + 1 > out->size)
		return;
	vsnprintf(out->buf + out->len, out->size - out->len, fmt, ap);
	out->len += (size_t)need;
}

void cli_printf(struct cli_out *out, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	out_vprintf(out, fmt, ap);
	va_end(ap);
}

void cli_json_string(struct cli_out *out, const char *s)
{
	cli_printf(out, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			cli_printf(out, "\\%c", c);
		else if (c < 0x20)
			cli_printf(out, "\\u%04x", c);
		else
			cli_printf(out, "%c", c);
	}
	cli_printf(out, "\"");
}

int cli_error(struct cli_out *out, int err, const char *fmt, ...)
{
	char message[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	out->len = 0;
	out->status = err ? err : -EINVAL;
	if (out->json) {
		cli_printf(out, "{\"error\": ");
		cli_json_string(out, message);
		cli_printf(out, "}\n");
	} else {
		cli_printf(out, "error: %s\n", message);
	}
	return out->status;
}

void cli_out_free(struct cli_out *out)
{
	free(out->buf);
	memset(out, 0, sizeof(*out));
}

/* Number of leading words of argv that spell path, or 0. */
static int match_words(const char *path, int argc, char **argv)
{
	char copy[128];
	char *save = NULL;
	int matched = 0;

	snprintf(copy, sizeof(copy), "%s", path);
	for (char *word = strtok_r(copy, " ", &save); word; word = strtok_r(NULL, " ", &save)) {
		if (matched >= argc || strcmp(word, argv[matched]) != 0)
			return 0;
		matched++;
	}
	return matched;
}

static void help(struct cli_out *out)
{
	for (size_t i = 0; i < registry.n; i++)
		cli_printf(out, "%-28s %s\n", registry.commands[i]->path, registry.commands[i]->help);
}

void cli_execute(int argc, char **argv, struct cli_out *out)
{
	char *words[CLI_WORDS_MAX];
	int n = 0, best_len = 0;
	const struct cli_command *best = NULL;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			out->json = true;
		else if (n < CLI_WORDS_MAX)
			words[n++] = argv[i];
		else
			n = CLI_WORDS_MAX + 1;
	}
	if (n > CLI_WORDS_MAX) {
		cli_error(out, -E2BIG, "more than %d words", CLI_WORDS_MAX);
		return;
	}
	if (n == 0 || strcmp(words[0], "help") == 0) {
		help(out);
		return;
	}
	for (size_t i = 0; i < registry.n; i++) {
		int len = match_words(registry.commands[i]->path, n, words);
		if (len > best_len) {
			best_len = len;
			best = registry.commands[i];
		}
	}
	if (!best) {
		cli_error(out, -ENOENT, "unknown command '%s'; try 'help'", words[0]);
		return;
	}
	if (!best->run)
		best->handler(out, n - best_len, words + best_len);
	else if (n > best_len)
		cli_error(out, -EINVAL, "%s takes no arguments", best->path);
	else
		best->run(out);
}

int cli_server_open(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	mode_t old_mask = umask(0077); /* the socket file: root only */
	int rc = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	umask(old_mask);
	if (rc < 0 || listen(fd, 16) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

static int read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = read(fd, (char *)buf + done, len - done);
		if (n <= 0)
			return n == 0 ? -EPIPE : -errno;
		done += (size_t)n;
	}
	return 0;
}

static int write_full(int fd, const void *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return 0;
}

/* Words beyond the limit are counted, so cli_execute can refuse them. */
static int split_words(char *request, uint32_t len, char **words, int max)
{
	int n = 0;
	for (uint32_t at = 0; at < len; at += (uint32_t)strlen(request + at) + 1, n++)
		if (n < max)
			words[n] = request + at;
	return n;
}

static void serve(int fd)
{
	struct timeval timeout = { .tv_sec = 2 };
	char request[CLI_MAX_REQUEST + 1];
	char *words[CLI_WORDS_MAX + 1];
	struct cli_out out = { 0 };
	uint32_t len;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
	int rc = read_full(fd, &len, sizeof(len));
	if (rc == 0 && len > CLI_MAX_REQUEST)
		rc = -E2BIG;
	if (rc == 0)
		rc = read_full(fd, request, len);
	if (rc < 0) {
		fprintf(stderr, "espd: cli: request dropped: %s\n", strerror(-rc));
		return;
	}
	request[len] = '\0';
	int n = split_words(request, len, words, CLI_WORDS_MAX + 1);
	cli_execute(n < CLI_WORDS_MAX + 1 ? n : CLI_WORDS_MAX + 1, words, &out);
	/* Requests may carry key material (ipsec sa add). */
	explicit_bzero(request, sizeof(request));
	int32_t status = out.status;
	uint32_t reply_len = (uint32_t)out.len;
	rc = write_full(fd, &status, sizeof(status));
	if (rc == 0)
		rc = write_full(fd, &reply_len, sizeof(reply_len));
	if (rc == 0)
		rc = write_full(fd, out.buf ? out.buf : "", reply_len);
	if (rc < 0)
		fprintf(stderr, "espd: cli: reply not delivered: %s\n", strerror(-rc));
	cli_out_free(&out);
}

void cli_server_accept(int listen_fd)
{
	int fd;
	while ((fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		serve(fd);
		close(fd);
	}
}

void cli_server_close(int listen_fd, const char *path)
{
	if (listen_fd >= 0)
		close(listen_fd);
	unlink(path);
}
