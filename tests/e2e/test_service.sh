#!/usr/bin/env bash
# espd as a systemd service: the unit file the build makes verifies, and
# espd speaks the readiness protocol of Type=notify (sd_notify(3)): READY=1
# only once its CLI answers, RELOADING=1 then READY=1 around a SIGHUP
# reload, STOPPING=1 at SIGTERM, WATCHDOG=1 while its worker walks its
# graph (and not while it is stuck); the unit's ExecStopPost (espd --restore)
# after a clean stop changes nothing. systemd itself need not run: a
# socket stands in for its notify socket.
DIR=$(dirname "$0")
source "$DIR/lib.sh"
CONF=$SCRATCH/espd.conf
NOTIFY=$SCRATCH/notify.sock
NOTIFY_LOG=$SCRATCH/notify.log
LISTENER=""
stop_listener() {
	[ -n "$LISTENER" ] && kill "$LISTENER" 2>/dev/null
	wait "$LISTENER" 2>/dev/null
	LISTENER=""
}
at_exit 'stop_listener; cleanup'

case_unit_verifies() {
	local unit=$SCRATCH/$T.service out
	# The installed paths do not exist before `meson install`: point the
	# commands at this build's binaries, keeping everything else.
	sed "s#^\(Exec[A-Za-z]*=\)[^ ]*/espd #\1$ESPD #" "$ESPD_BUILD/espd.service" >"$unit"
	out=$(cd "$SCRATCH" && systemd-analyze verify "$unit" 2>&1)
	[ -z "$out" ] || echo "$out"
	check "unit file: systemd-analyze verify finds nothing" [ -z "$out" ]
	check "unit file: Type=notify, interfaces restored after a crash" \
		bash -c "grep -qx Type=notify $unit && grep -q '^ExecStopPost=$ESPD --restore' $unit"
	check "unit file: a watchdog" grep -qx 'WatchdogSec=30s' "$unit"
}

# Records each datagram on one line ('|' for newlines); at READY=1 it asks
# espctl at once, so the line says whether the CLI already answered.
start_listener() {
	rm -f "$NOTIFY" "$NOTIFY_LOG"
	"$PY" - "$NOTIFY" "$NOTIFY_LOG" "$ESPCTL" "$SOCK" <<'PYEOF' &
import socket, subprocess, sys
path, log, espctl, sock = sys.argv[1:5]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(log, "a", buffering=1) as f:
    f.write("listening\n")
    while True:
        msg = s.recv(4096).decode()
        line = msg.replace("\n", "|")
        if "READY=1" in msg.split("\n"):
            rc = subprocess.run([espctl, "--socket", sock, "show", "version"],
                                capture_output=True).returncode
            line += " cli=%d" % rc
        f.write(line + "\n")
PYEOF
	LISTENER=$!
	wait_until 5 grep -qs listening "$NOTIFY_LOG"
}

messages() { grep -v '^listening$' "$NOTIFY_LOG"; }
ready_first_with_cli() { messages | head -1 | grep -qx 'READY=1|STATUS=.* cli=0'; }
reload_told() { [ "$(messages | sed -n '2,3p' | cut -d' ' -f1 | tr '\n' ' ')" = "RELOADING=1 READY=1 " ]; }
stopping_last() { [ "$(messages | tail -1)" = STOPPING=1 ]; }

case_notify() {
	local before after
	start_listener
	NOTIFY_SOCKET=$NOTIFY espd_start "$CONF" || { fail "espd starts"; return; }
	wait_until 5 grep -q READY "$NOTIFY_LOG"
	check "READY=1 is the first message, sent once the CLI answers" ready_first_with_cli
	check "STATUS says workers, interfaces and the CLI socket" \
		grep -q "STATUS=running with 1 worker(s), 2 interface(s), CLI at $SOCK" "$NOTIFY_LOG"
	kill -HUP "$ESPD_PID"
	wait_until 5 bash -c "[ \$(grep -c '^READY=1' $NOTIFY_LOG) -ge 2 ]"
	check "SIGHUP: RELOADING=1, then READY=1 after the reload" reload_told
	check "still forwarding after the reload" in_a ping -c 1 -q -W 2 10.2.0.2
	check "SIGTERM: exit status 0" espd_stop
	wait_until 5 grep -q STOPPING=1 "$NOTIFY_LOG"
	check "STOPPING=1 is the last message" stopping_last
	stop_listener
	before=$(kernel_snapshot r-a; kernel_snapshot r-b)
	check "ExecStopPost after a clean stop: espd --restore exits 0" \
		in_r "$ESPD" --restore -c "$CONF" --name "$T"
	after=$(kernel_snapshot r-a; kernel_snapshot r-b)
	check "ExecStopPost after a clean stop changes nothing" [ "$before" = "$after" ]
}

# freeze_thread TID SECONDS: stops that one thread (ptrace stops a thread,
# where a signal would stop the whole process), then lets it go on.
freeze_thread() {
	"$PY" - "$1" "$2" <<'PYEOF'
import ctypes, os, sys, time
PTRACE_SEIZE, PTRACE_INTERRUPT, PTRACE_DETACH, WALL = 0x4206, 0x4207, 17, 0x40000000
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
tid, seconds = int(sys.argv[1]), float(sys.argv[2])
if libc.ptrace(PTRACE_SEIZE, tid, None, None) or libc.ptrace(PTRACE_INTERRUPT, tid, None, None):
    sys.exit("ptrace: %s" % os.strerror(ctypes.get_errno()))
os.waitpid(tid, WALL)
time.sleep(seconds)
libc.ptrace(PTRACE_DETACH, tid, None, None)
PYEOF
}

# The thread of espd's worker 0 (DPDK names its lcore threads).
worker_thread() {
	grep -l '^rte-worker' /proc/"$ESPD_PID"/task/*/comm | head -1 | cut -d/ -f5
}

feeds() { grep -c '^WATCHDOG=1$' "$NOTIFY_LOG"; }

case_watchdog() {
	local tid n0 n1 n2 freezer
	start_listener
	NOTIFY_SOCKET=$NOTIFY WATCHDOG_USEC=1000000 espd_start "$CONF" ||
		{ fail "espd starts with a watchdog"; return; }
	n0=$(feeds)
	sleep 2
	n1=$(feeds)
	check "watchdog of 1 s: WATCHDOG=1 every 0.5 s ($((n1 - n0)) sent in 2 s)" \
		bash -c "[ $((n1 - n0)) -ge 3 ] && [ $((n1 - n0)) -le 5 ]"
	tid=$(worker_thread)
	check "the worker's thread found" [ -n "$tid" ]
	freeze_thread "$tid" 3 &
	freezer=$!
	sleep 0.8
	n1=$(feeds)
	sleep 2
	n2=$(feeds)
	check "a stuck worker withholds WATCHDOG=1 ($((n2 - n1)) sent in 2 s)" [ "$n2" -eq "$n1" ]
	check "which worker is stuck is logged" \
		grep -q 'worker 0 finished no graph walk in 500 ms: the service manager.s watchdog is not fed' \
		"$ESPD_LOG"
	wait "$freezer"
	sleep 1.2
	check "fed again once the worker walks" [ "$(feeds)" -gt "$n2" ]
	check "that is logged too" grep -q 'the workers walk again: the watchdog is fed' "$ESPD_LOG"
	check "forwarding after the stall" in_a ping -c 1 -q -W 2 10.2.0.2
	espd_stop
	stop_listener
	start_listener
	NOTIFY_SOCKET=$NOTIFY WATCHDOG_USEC=1000000 WATCHDOG_PID=1 espd_start "$CONF" ||
		{ fail "espd starts with another process's watchdog"; return; }
	sleep 1.5
	check "a watchdog for another process (WATCHDOG_PID) is not fed" [ "$(feeds)" -eq 0 ]
	espd_stop
	stop_listener
}

case_notify_unusable() {
	NOTIFY_SOCKET=/nonexistent/notify espd_start "$CONF" || { fail "espd starts"; return; }
	check "an unreachable notify socket is logged, espd runs on" bash -c "
		grep -q 'cannot notify the service manager: No such file or directory' $ESPD_LOG &&
		ip netns exec $NS_A ping -c 1 -W 2 10.2.0.2 >/dev/null"
	espd_stop
}

topology_up
write_config "$CONF" af-packet
case_unit_verifies
case_notify
case_watchdog
case_notify_unusable
[ -z "${FAILED:-}" ]
