/*
 * espctl: sends its arguments to a running espd over the CLI socket and
 * prints the reply. Exit status 0 on success, 1 when espd reports an error,
 * 2 when espd cannot be reached.
 */
#include <errno.h>
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

static int send_request(int fd, int argc, char **argv)
{
	char request[MAX_REQUEST];
	uint32_t len = 0;

	for (int i = 0; i < argc; i++) {
		size_t word = strlen(argv[i]) + 1;
		if (len + word > sizeof(request))
			return -1;
		memcpy(request + len, argv[i], word);
		len += (uint32_t)word;
	}
	if (write(fd, &len, sizeof(len)) != sizeof(len) || write(fd, request, len) != (ssize_t)len)
		return -1;
	return 0;
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
	if (fd < 0) {
		fprintf(stderr, "espctl: cannot reach espd at %s: %s\n", path, strerror(errno));
		return 2;
	}
	int32_t status;
	uint32_t len;
	if (send_request(fd, argc - first, argv + first) < 0 ||
	    read_full(fd, &status, sizeof(status)) < 0 || read_full(fd, &len, sizeof(len)) < 0 ||
	    len > MAX_REPLY) {
		fprintf(stderr, "espctl: bad exchange with espd at %s\n", path);
		close(fd);
		return 2;
	}
	char *reply = malloc(len + 1);
	if (!reply || read_full(fd, reply, len) < 0) {
		fprintf(stderr, "espctl: reply from espd cut short\n");
		free(reply);
		close(fd);
		return 2;
	}
	close(fd);
	fwrite(reply, 1, len, status ? stderr : stdout);
	free(reply);
	return status ? 1 : 0;
}
