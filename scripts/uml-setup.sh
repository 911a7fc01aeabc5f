#!/usr/bin/env bash
# Prepares this host for User-Mode Linux (Debian's user-mode-linux package).
# Idempotent and cheap when already done; run as root. It:
#  1. links /lib/modules/<uml version> to /usr/lib/uml/modules/<uml version>,
#     so modprobe inside UML (whose root is the host filesystem) finds the
#     UML kernel's modules;
#  2. builds a small LD_PRELOAD library for linux.uml that pads the FPU state
#     UML hands to PTRACE_SETREGSET(NT_X86_XSTATE) to the size the host kernel
#     demands (see the comment in the C source below).
# Prints "key=value" lines for tests/uml/uml.sh:
#   UML_KERNEL_VERSION=<version>   UML_PRELOAD=<path of the library>
set -u

kernel=${UML_KERNEL:-/usr/bin/linux.uml}
cache=${UML_CACHE_DIR:-/var/cache/espd-uml}

die() { echo "uml-setup: $*" >&2; exit 1; }

[ -x "$kernel" ] || die "$kernel not found: install the user-mode-linux package (scripts/install-deps.sh)"
[ "$(id -u)" -eq 0 ] || die "must run as root"

version=$("$kernel" --version 2>/dev/null | head -1)
[ -n "$version" ] || die "$kernel --version printed nothing"
modsrc=/usr/lib/uml/modules/$version
[ -f "$modsrc/modules.dep" ] || die "$modsrc/modules.dep missing: user-mode-linux package incomplete"

# Commands used inside UML come from the host's filesystem. A host whose own
# kernel has no modules may well lack kmod (modprobe); minimal images lack ping.
need_commands() {
	local pkgs='' pair
	for pair in modprobe:kmod ping:iputils-ping ip:iproute2 cc:build-essential; do
		command -v "${pair%%:*}" >/dev/null || pkgs="$pkgs ${pair#*:}"
	done
	[ -z "$pkgs" ] || die "missing packages:$pkgs (run scripts/install-deps.sh)"
}

link_modules() {
	local dst=/lib/modules/$version
	mkdir -p /lib/modules
	# Another test may create the link at the same moment: losing that race is fine.
	[ -e "$dst" ] || ln -s "$modsrc" "$dst" 2>/dev/null || [ -e "$dst" ] ||
		die "cannot create $dst"
	[ -f "$dst/modules.dep" ] || die "$dst exists but holds no modules.dep"
}

# The C source of the preload library. Debian's UML 6.1 sizes its FPU buffer
# for the XSAVE layout of CPUs without AMX (2696 bytes). On a host whose XCR0
# also enables AMX (xstate 11008 bytes), PTRACE_SETREGSET(NT_X86_XSTATE) with
# the short buffer fails with EFAULT (the kernel wants the whole buffer), and
# UML dies as soon as init runs: "userspace - ptrace set fp regs failed,
# errno = 14", then "Kernel panic - not syncing: Attempted to kill init!".
# Upstream fixed it later by sizing the buffer at run time (um: switch to
# regset API and depend on XSTATE). Here the short buffer is copied into a
# full-size one and every component that does not fit in it is marked as
# being in its initial state (cleared in XSTATE_BV). Those components (AMX
# tiles) need an arch_prctl permission UML's guests never get, so nothing
# is lost; every state UML does keep (x87, SSE, AVX, AVX-512) is kept.
shim_source() {
	cat <<'EOF'
#define _GNU_SOURCE
#include <cpuid.h>
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define XSAVE_HDR_OFFSET 512
#define XSAVE_MAX 65536

/* linux.uml drives all ptrace calls from one host thread. */
static unsigned char full[XSAVE_MAX] __attribute__((aligned(64)));

static size_t xstate_user_size(void)
{
	unsigned int a, b, c, d;

	__cpuid_count(0xd, 0, a, b, c, d);
	return b <= XSAVE_MAX ? b : 0;
}

/* Marks components that do not fit in the first len bytes as initial. */
static void xstate_trim(uint64_t *xstate_bv, size_t len)
{
	unsigned int a, b, c, d, i;

	for (i = 2; i < 64; i++) {
		if (!(*xstate_bv & (1ULL << i)))
			continue;
		__cpuid_count(0xd, i, a, b, c, d);
		if ((size_t)b + a > len)
			*xstate_bv &= ~(1ULL << i);
	}
}

static long xstate_set_padded(pid_t pid, const struct iovec *iov)
{
	size_t size = xstate_user_size();
	struct iovec big = { full, size };
	uint64_t bv;

	if (size <= iov->iov_len || iov->iov_len < XSAVE_HDR_OFFSET + 8)
		return syscall(SYS_ptrace, PTRACE_SETREGSET, pid, NT_X86_XSTATE, iov);
	memset(full, 0, size);
	memcpy(full, iov->iov_base, iov->iov_len);
	memcpy(&bv, full + XSAVE_HDR_OFFSET, sizeof(bv));
	xstate_trim(&bv, iov->iov_len);
	memcpy(full + XSAVE_HDR_OFFSET, &bv, sizeof(bv));
	return syscall(SYS_ptrace, PTRACE_SETREGSET, pid, NT_X86_XSTATE, &big);
}

/* Same contract as glibc's ptrace(), including the PEEK* return value. */
long ptrace(enum __ptrace_request req, ...)
{
	va_list ap;
	pid_t pid;
	void *addr, *data;
	long word, ret;

	va_start(ap, req);
	pid = va_arg(ap, pid_t);
	addr = va_arg(ap, void *);
	data = va_arg(ap, void *);
	va_end(ap);

	if (req == PTRACE_SETREGSET && (uintptr_t)addr == NT_X86_XSTATE)
		return xstate_set_padded(pid, data);
	if (req == PTRACE_PEEKTEXT || req == PTRACE_PEEKDATA || req == PTRACE_PEEKUSER) {
		ret = syscall(SYS_ptrace, req, pid, addr, &word);
		if (ret < 0)
			return ret;
		errno = 0;
		return word;
	}
	return syscall(SYS_ptrace, req, pid, addr, data);
}
EOF
}

build_shim() {
	local sum so tmp
	sum=$(shim_source | sha256sum | cut -c1-12)
	so=$cache/uml-xstate-$sum.so
	if [ ! -f "$so" ]; then
		mkdir -p "$cache" || die "cannot create $cache"
		tmp=$(mktemp "$cache/.build.XXXXXX") || die "cannot write in $cache"
		if ! shim_source | cc -O2 -Wall -Wextra -Werror -shared -fPIC -x c -o "$tmp" - 2>"$tmp.err"; then
			cat "$tmp.err" >&2
			rm -f "$tmp" "$tmp.err"
			die "building the UML xstate library failed"
		fi
		rm -f "$tmp.err"
		chmod 0755 "$tmp"
		mv -f "$tmp" "$so"
	fi
	echo "$so"
}

need_commands
link_modules
preload=$(build_shim) || exit 1
echo "UML_KERNEL_VERSION=$version"
echo "UML_PRELOAD=$preload"
