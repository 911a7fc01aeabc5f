/*
 * sd_notify(3) without libsystemd: one datagram to the AF_UNIX socket
 * $NOTIFY_SOCKET names, a path or, with a leading '@', an abstract name;
 * the watchdog's timeout as sd_watchdog_enabled(3) reads it.
 */
#include "espd/notify.h"

#include "common/number.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int notify_address(struct sockaddr_un *sun, socklen_t *len)
{
	const char *path = getenv("NOTIFY_SOCKET");
	size_t n = path ? strlen(path) : 0;

	if (n == 0)
		return 0;
	if ((path[0] != '/' && path[0] != '@') || n >= sizeof(sun->sun_path))
		return -EINVAL;
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, n);
	if (path[0] == '@')
		sun->sun_path[0] = '\0';
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	return 1;
}

int service_notify(const char *state)
{
	struct sockaddr_un sun;
	socklen_t len;
	int rc = notify_address(&sun, &len);

	if (rc <= 0)
		return rc;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sun, len) < 0
		? -errno : 0;
	close(fd);
	return rc;
}

/* A decimal number the whole of the variable; false if unset or not one. */
static bool env_number(const char *name, uint64_t *value)
{
	const char *text = getenv(name);

	return text && number_parse(text, 10, UINT64_MAX, value) == 0;
}

uint64_t service_watchdog_interval_ms(void)
{
	uint64_t usec, pid;

	if (!env_number("WATCHDOG_USEC", &usec) || usec == 0)
		return 0;
	if (getenv("WATCHDOG_PID") && (!env_number("WATCHDOG_PID", &pid) || pid != (uint64_t)getpid()))
		return 0;
	return usec / 2000 ? usec / 2000 : 1;
}
