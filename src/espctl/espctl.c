/*
 * espctl: sends its arguments to a running espd over the CLI socket and
 * prints the reply. Exit status 0 on success, 1 when espd reports an error,
 * 2 when espd cannot be reached or the exchange breaks (said on stderr).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/espd/cli.sock"
#define MAX_REQUEST 4096
#define MAX_REPLY (16u << 20)

static int read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = read(fd, (char *)buf + done, len - done);
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

static int connect_to(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(addr.sun_path))
		return -1;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/*
 * The length and the words in one message, so espd finds the whole request
 * at once; MSG_NOSIGNAL: an espd that closed the connection is reported,
 * not a SIGPIPE. Returns 0, -E2BIG for a request too long, or -errno.
 */
static int send_request(int fd, int argc, char **argv)
{
	char message[sizeof(uint32_t) + MAX_REQUEST];
	char *request = message + sizeof(uint32_t);
	uint32_t len = 0;

	for (int i = 0; i < argc; i++) {
		size_t word = strlen(argv[i]) + 1;
		if (len + word > MAX_REQUEST)
			return -E2BIG;
		memcpy(request + len, argv[i], word);
		len += (uint32_t)word;
	}
	memcpy(message, &len, sizeof(len));
	size_t total = sizeof(len) + len;
	ssize_t sent = send(fd, message, total, MSG_NOSIGNAL);
	if (sent < 0)
		return -errno;
	return (size_t)sent == total ? 0 : -EPIPE;
}

/* Says why the exchange with espd failed; exit status 2. */
static int __attribute__((format(printf, 2, 3))) broken(int fd, const char *fmt, ...)
{
	va_list args;

	if (fd >= 0)
		close(fd);
	fputs("espctl: ", stderr);
	va_start(args, fmt);
	vfprintf(stderr, fmt, args);
	va_end(args);
	fputc('\n', stderr);
	return 2;
}

static void usage(void)
{
	fprintf(stderr, "usage: espctl [--socket PATH] <command> [--json]\n"
			"       espctl help   lists the commands of the running espd\n");
}

int main(int argc, char **argv)
{
	const char *path = getenv("ESPCTL_SOCKET") ? getenv("ESPCTL_SOCKET") : DEFAULT_SOCKET;
	int first = 1;

	if (argc > 2 && strcmp(argv[1], "--socket") == 0) {
		path = argv[2];
		first = 3;
	}
	if (first < argc && (strcmp(argv[first], "-h") == 0 || strcmp(argv[first], "--help") == 0)) {
		usage();
		return 0;
	}
	int fd = connect_to(path);
	if (fd < 0)
		return broken(-1, "cannot reach espd at %s: %s", path, strerror(errno));
	int32_t status;
	uint32_t len;
	int rc = send_request(fd, argc - first, argv + first);
	if (rc == -E2BIG)
		return broken(fd, "request longer than %d bytes", MAX_REQUEST);
	if (rc < 0)
		return broken(fd, "espd at %s did not take the request: %s", path, strerror(-rc));
	if (read_full(fd, &status, sizeof(status)) < 0 || read_full(fd, &len, sizeof(len)) < 0)
		return broken(fd, "espd at %s closed the connection without a reply", path);
	if (len > MAX_REPLY)
		return broken(fd, "reply from espd longer than %u bytes", MAX_REPLY);
	char *reply = malloc(len + 1);
	if (!reply || read_full(fd, reply, len) < 0) {
		free(reply);
		return broken(fd, "reply from espd cut short");
	}
	close(fd);
	fwrite(reply, 1, len, status ? stderr : stdout);
	free(reply);
	return status ? 1 : 0;
}
