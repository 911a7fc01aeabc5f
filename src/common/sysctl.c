/* Integer sysctls under /proc/sys (sysctl.h). */
#include "common/sysctl.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int parse(const char *text, int *value)
{
	char *end;
	long number;

	errno = 0;
	number = strtol(text, &end, 10);
	if (errno || end == text || (*end != '\n' && *end != '\0') || number < 0 ||
	    number > INT_MAX)
		return -ERANGE;
	*value = (int)number;
	return 0;
}

int sysctl_read(const char *path, int *value)
{
	char text[24] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, text, sizeof(text) - 1);
	int rc = n < 0 ? -errno : parse(text, value);
	close(fd);
	return rc;
}

int sysctl_read_or(const char *path, int fallback)
{
	int value;

	return sysctl_read(path, &value) < 0 ? fallback : value;
}

void sysctl_conf_path(char *path, size_t size, const char *family, const char *ifname,
		      const char *name)
{
	snprintf(path, size, "/proc/sys/net/%s/conf/%s/%s", family, ifname, name);
}

int sysctl_write(const char *path, int value)
{
	char text[16];
	int len = snprintf(text, sizeof(text), "%d", value);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, (size_t)len);
	int rc = n < 0 ? -errno : 0;
	close(fd);
	return rc;
}
