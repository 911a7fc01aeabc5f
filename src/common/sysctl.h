/*
 * The kernel's integer sysctls under /proc/sys, read and written whole:
 * one parser for every reader (path MTU rules, TTL and hop limits, the
 * redirect settings, the per-device settings linux-cp carries to its
 * TAPs) and one form of a device's path.
 */
#ifndef ESPD_COMMON_SYSCTL_H
#define ESPD_COMMON_SYSCTL_H

#include <stddef.h>

/* 0 with *value set; -errno, or -ERANGE when the text is not one
 * non-negative integer (the kernel takes negative values for some, which
 * espd neither needs nor writes). */
int sysctl_read(const char *path, int *value);
/* The sysctl's value, or fallback where sysctl_read fails. */
int sysctl_read_or(const char *path, int fallback);
/* 0 or -errno. */
int sysctl_write(const char *path, int value);
/* The path of a device's setting: /proc/sys/net/<family>/conf/<ifname>/
 * <name>, family "ipv4" or "ipv6", ifname a device's or "all". */
void sysctl_conf_path(char *path, size_t size, const char *family, const char *ifname,
		      const char *name);

#endif
