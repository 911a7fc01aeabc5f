#!/usr/bin/env bash
# User-Mode Linux harness: runs a script inside a real Linux 6.1 kernel (with
# ESP, VTI, veth, TUN) whose root filesystem is the host's own, through hostfs.
# The guest gets no network device: it cannot touch the host's networking.
# Source it from a test, or run it:
#   tests/uml/uml.sh run <workdir> <script>     boot, run <script>, power off
#   tests/uml/uml.sh setup                      prepare the host only
#
# API (for scripts that source this file):
#   uml_run <workdir> <script>        boots UML, runs <script> inside as root,
#                                     returns its exit status (124 on timeout)
#   uml_write_script <file>           writes stdin (a heredoc) to <file>, +x
#   uml_show_logs <workdir> [lines]   prints the tails of the run's logs
#   uml_results <workdir> <what> <rc> prints the PASS/FAIL lines the script
#                                     wrote to $UML_OUT/results
#   uml_setup                         host preparation (uml_run calls it)
# Inside UML, a bash <script> also has:
#   uml_save <path>...                copies files out to $UML_OUT
#   $UML_WORKDIR, $UML_OUT            the workdir and <workdir>/out (host fs)
#   $TMPDIR                           /run/tmp, private to the guest
# Inside, /run, /dev, /dev/shm, /proc and /sys are the guest's own; /tmp and
# everything else is the host's, read-write: write only to $UML_WORKDIR,
# $UML_OUT or the private places.
#
# Files in <workdir> after a run: console.log (the script's stdout and
# stderr), boot.log (the kernel's console: boot messages, the init wrapper's
# notes, panics), status (the script's exit status), boot_time ("<to script>
# <to init>" in seconds), out/ (what uml_save copied), init.sh (the init).
#
# Settings (environment): UML_MEM (1G), UML_TIMEOUT (600 s), UML_MODULES
# (modules loaded before the script; missing ones are only noted in
# boot.log), UML_KERNEL (/usr/bin/linux.uml), UML_TMPDIR (where UML keeps its
# memory file; chosen automatically), UML_CACHE_DIR (see scripts/uml-setup.sh).
# After uml_run, UML_BOOT_TIME holds the seconds from start until the script
# started, UML_INIT_TIME those until init started.

UML_KERNEL=${UML_KERNEL:-/usr/bin/linux.uml}
UML_MEM=${UML_MEM:-1G}
UML_TIMEOUT=${UML_TIMEOUT:-600}
UML_MODULES=${UML_MODULES:-"ipv6 xfrm_user esp4 esp6 authenc cbc ctr gcm seqiv
	echainiv hmac sha512_generic ip_vti ip6_vti xfrm_interface veth tun af_packet
	sch_ingress cls_matchall act_gact"}
UML_BOOT_TIME='' UML_INIT_TIME=''

_uml_lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
_uml_top=$(cd "$_uml_lib_dir/../.." && pwd)

_uml_err() { echo "uml: $*" >&2; }

# Runs scripts/uml-setup.sh once per shell: module link and the xstate
# preload library. Sets UML_KERNEL_VERSION and UML_PRELOAD.
uml_setup() {
	local out line
	[ -n "${UML_PRELOAD:-}" ] && [ -f "$UML_PRELOAD" ] && return 0
	out=$(UML_KERNEL=$UML_KERNEL bash "$_uml_top/scripts/uml-setup.sh") || return 1
	while IFS= read -r line; do
		case $line in
		UML_KERNEL_VERSION=*) UML_KERNEL_VERSION=${line#*=} ;;
		UML_PRELOAD=*) UML_PRELOAD=${line#*=} ;;
		esac
	done <<<"$out"
	[ -n "${UML_PRELOAD:-}" ] || { _uml_err "uml-setup.sh gave no preload library"; return 1; }
}

# Writes stdin to <file> as an executable script (bash unless it has a #!).
uml_write_script() {
	local file=${1:?usage: uml_write_script <file> <<'EOF' ... EOF} body
	body=$(cat)
	{
		[[ $body == '#!'* ]] || printf '#!/bin/bash\n'
		printf '%s\n' "$body"
	} >"$file" && chmod +x "$file"
}

uml_show_logs() {
	local workdir=${1:?usage: uml_show_logs <workdir> [lines]} lines=${2:-30} f
	for f in console.log boot.log; do
		[ -s "$workdir/$f" ] || continue
		echo "--- $workdir/$f (last $lines lines)"
		tail -n "$lines" "$workdir/$f"
	done
}

# "1G", "512M", "65536K" or bytes -> bytes.
_uml_bytes() {
	local v=${1^^}
	case $v in
	*G) echo $((${v%G} << 30)) ;;
	*M) echo $((${v%M} << 20)) ;;
	*K) echo $((${v%K} << 10)) ;;
	*) echo $((v)) ;;
	esac
}

# UML keeps guest memory in an unlinked file under $TMPDIR (else /dev/shm,
# else /tmp) that it maps executable. If that filesystem fills up, the guest
# dies with SIGBUS, so pick a directory with room for the guest's memory plus
# the ~600 MiB UML adds for the exec-shield gap, mounted without noexec.
_uml_memdir() {
	local workdir=$1 need d avail
	need=$(($(_uml_bytes "$UML_MEM") + (640 << 20)))
	for d in ${UML_TMPDIR:-} /dev/shm /tmp /var/tmp "$workdir"; do
		{ [ -d "$d" ] && [ -w "$d" ]; } || continue
		findmnt -no OPTIONS -T "$d" 2>/dev/null | grep -qw noexec && continue
		avail=$(df -B1 --output=avail "$d" 2>/dev/null | tail -1)
		[ "${avail:-0}" -ge "$need" ] && { echo "$d"; return 0; }
	done
	_uml_err "no directory with $((need >> 20)) MiB free for UML's memory file (set UML_TMPDIR or lower UML_MEM)"
	return 1
}

# Paths must be visible inside UML: the init wrapper mounts fresh filesystems
# over /run, /dev, /proc and /sys, so anything under them is hidden there.
_uml_check_path() {
	case $1 in
	*[[:space:]\'\"]*) _uml_err "path with whitespace or quotes not supported: $1"; return 1 ;;
	/run/* | /var/run/* | /dev/* | /proc/* | /sys/*)
		_uml_err "$1 is hidden inside UML (tmpfs/devtmpfs there): use a directory such as /tmp"
		return 1 ;;
	esac
}

# Modules of UML_MODULES this UML kernel has (as modules or built in).
_uml_modules_present() {
	local dir=/usr/lib/uml/modules/$UML_KERNEL_VERSION m have=''
	for m in $UML_MODULES; do
		if grep -Eq "/${m//_/[_-]}\.ko(\.[a-z]+)?:" "$dir/modules.dep" ||
			grep -Eq "/${m//_/[_-]}\.ko$" "$dir/modules.builtin"; then
			have="$have $m"
		else
			echo "$m"
		fi
	done >"$2"
	echo "${have# }"
}

_uml_write_init() {
	local workdir=$1 script=$2 modules missing
	modules=$(_uml_modules_present "$workdir" "$workdir/.missing")
	missing=$(tr '\n' ' ' <"$workdir/.missing")
	missing=${missing% }
	rm -f "$workdir/.missing"
	cat >"$workdir/init.sh" <<EOF
#!/bin/bash
# PID 1 inside UML, generated by tests/uml/uml.sh. Output goes to the UML
# console (boot.log on the host); the script's own output to console.log.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 TERM=dumb
export UML_WORKDIR='$workdir' UML_OUT='$workdir/out' TMPDIR=/run/tmp
: >"\$UML_WORKDIR/booted"
mountpoint -q /proc || mount -t proc proc /proc
mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /dev/net
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
# A private /run: the host's sockets, pid files and /run/netns stay out of
# reach, and ip netns, DPDK (/var/run/dpdk) and daemons get a clean one.
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/tmp /run/lock /run/netns && chmod 1777 /run/tmp /run/lock
mkdir -p "\$UML_OUT"
${missing:+echo "uml: modules this kernel does not have: $missing"}
hostname uml
ip link set lo up
# One modprobe for all: each process start is slow under UML.
modprobe -a -q $modules || echo "uml: modprobe -a failed (see above)"
[ -c /dev/net/tun ] || mknod /dev/net/tun c 10 200
uml_save() {
	local f rc=0
	mkdir -p "\$UML_OUT"
	for f; do cp -a -- "\$f" "\$UML_OUT/" || { echo "uml_save: cannot copy \$f" >&2; rc=1; }; done
	return \$rc
}
export -f uml_save
: >"\$UML_WORKDIR/ready"
cd "\$UML_WORKDIR" || echo "uml: cannot cd to \$UML_WORKDIR"
if [ -x '$script' ]; then
	'$script'
else
	bash '$script'
fi >"\$UML_WORKDIR/console.log" 2>&1 </dev/null
echo \$? >"\$UML_WORKDIR/status"
sync
poweroff -f
echo o >/proc/sysrq-trigger
EOF
	chmod +x "$workdir/init.sh"
}

# Seconds between two `date +%s%N` stamps, with two decimals.
_uml_secs() {
	local ms=$((($2 - $1) / 1000000))
	printf '%d.%02d' $((ms / 1000)) $((ms % 1000 / 10))
}

# Runs in a subshell: starts UML in its own session, waits for it with a
# timeout and always kills the whole session (all of UML's host processes).
_uml_supervise() {
	local workdir=$1 memdir=$2 umldir=$3 pidfile=$3/pid pgid='' sid start now booted='' ready=''
	set +e
	trap '[ -z "$pgid" ] || kill -KILL -- "-$pgid" 2>/dev/null; rm -rf "$umldir"' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	start=$(date +%s%N)
	# shellcheck disable=SC2016 # expanded by the inner bash
	setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" \
		env TMPDIR="$memdir" LD_PRELOAD="$UML_PRELOAD" "$UML_KERNEL" \
		mem="$UML_MEM" rootfstype=hostfs rootflags=/ rw init="$workdir/init.sh" \
		con=null con0=null,fd:1 ssl=null uml_dir="$umldir" umid=uml \
		>"$workdir/boot.log" 2>&1 </dev/null &
	while [ ! -s "$pidfile" ]; do
		kill -0 $! 2>/dev/null || [ -s "$pidfile" ] || { _uml_err "could not start $UML_KERNEL"; exit 1; }
		sleep 0.05
	done
	sid=$(<"$pidfile")
	# Only ever kill a group that is really UML's own new session.
	[ "$(awk '{print $6}' "/proc/$sid/stat" 2>/dev/null)" = "$sid" ] && pgid=$sid
	while kill -0 "$sid" 2>/dev/null && ! grep -q '^[^ ]* ([^)]*) Z' "/proc/$sid/stat" 2>/dev/null; do
		now=$(date +%s%N)
		if [ -z "$booted" ] && [ -e "$workdir/booted" ]; then
			booted=$(_uml_secs "$start" "$now")
			echo "- $booted" >"$workdir/boot_time"
		fi
		if [ -z "$ready" ] && [ -e "$workdir/ready" ]; then
			ready=$(_uml_secs "$start" "$now")
			echo "$ready ${booted:--}" >"$workdir/boot_time"
		fi
		if [ $(((now - start) / 1000000000)) -ge "$UML_TIMEOUT" ]; then
			_uml_err "timeout after ${UML_TIMEOUT}s: killing UML (logs in $workdir)"
			echo timeout >"$workdir/timeout"
			exit 124
		fi
		sleep 0.1
	done
	exit 0
}

uml_run() {
	local workdir=${1:?usage: uml_run <workdir> <script>} script=${2:?usage: uml_run <workdir> <script>}
	local memdir umldir rc status
	UML_BOOT_TIME='' UML_INIT_TIME=''
	[ -f "$script" ] || { _uml_err "no such script: $script"; return 1; }
	mkdir -p "$workdir" || return 1
	workdir=$(realpath "$workdir") && script=$(realpath "$script") || return 1
	_uml_check_path "$workdir/" && _uml_check_path "$script" || return 1
	uml_setup || return 1
	memdir=$(_uml_memdir "$workdir") || return 1
	rm -rf "$workdir/out"
	rm -f "$workdir"/{status,booted,ready,boot_time,timeout,console.log,boot.log}
	_uml_write_init "$workdir" "$script"
	# The mconsole socket path must stay short (sun_path is 108 bytes).
	umldir=$(mktemp -d /tmp/uml.XXXXXX) || return 1
	rc=0
	(_uml_supervise "$workdir" "$memdir" "$umldir") || rc=$?
	if [ -f "$workdir/boot_time" ]; then
		read -r UML_BOOT_TIME UML_INIT_TIME <"$workdir/boot_time"
		[ "$UML_BOOT_TIME" != - ] || UML_BOOT_TIME=
		[ "$UML_INIT_TIME" != - ] || UML_INIT_TIME=
	fi
	[ "$rc" -eq 0 ] || return "$rc"
	if [ ! -s "$workdir/status" ]; then
		_uml_err "the script left no exit status in $workdir/status (UML did not boot, panicked, or init was killed)"
		tail -n 15 "$workdir/boot.log" 2>/dev/null | sed 's/^/uml: boot.log| /' >&2
		return 1
	fi
	status=$(<"$workdir/status")
	[[ $status =~ ^[0-9]+$ ]] || { _uml_err "bad status '$status' in $workdir/status"; return 1; }
	return "$status"
}

# uml_results <workdir> <what> <rc>: after uml_run of a script that wrote
# PASS/FAIL/SKIP lines to $UML_OUT/results, prints them as "PASS: uml: ..."
# (or one FAIL for <what> when there are none) and returns 1 on any failure.
uml_results() {
	local workdir=$1 what=$2 rc=$3 results=$1/out/results
	echo "uml boot: ${UML_BOOT_TIME:-?} s to the script (${UML_INIT_TIME:-?} s to init)"
	if ! grep -qE '^(PASS|FAIL|SKIP):' "$results" 2>/dev/null; then
		echo "FAIL: uml: $what (no results: the run inside UML ended with status $rc)"
		uml_show_logs "$workdir" 20
		return 1
	fi
	sed -nE 's/^(PASS|FAIL|SKIP): /\1: uml: /p' "$results"
	if grep -q '^FAIL:' "$results" || [ "$rc" -ne 0 ]; then
		tail -n 30 "$workdir/out/stderr.log" 2>/dev/null | sed 's/^/  stderr| /'
		return 1
	fi
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	case ${1:-} in
	run) shift; [ $# -eq 2 ] || { echo "usage: $0 run <workdir> <script>" >&2; exit 2; }
		uml_run "$1" "$2"; rc=$?
		[ -z "$UML_BOOT_TIME" ] || echo "uml: boot took ${UML_BOOT_TIME}s, script exited $rc" >&2
		exit "$rc" ;;
	setup) uml_setup && echo "uml: ready (kernel $UML_KERNEL_VERSION, preload $UML_PRELOAD)" ;;
	*) sed -n '2,/^$/s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	esac
fi
