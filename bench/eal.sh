# Sourced by the graph bench wrappers: bench_run starts a benchmark's binary
# pinned to one core (CORE, default 1) with its EAL arguments.
#
# espd runs on 2 MB hugepages when the router has them (src/espd/eal.c), so
# the benches do too: on 4 KB pages every packet's mbuf and data cost TLB
# misses, and the numbers would be those of a router without hugepages
# (here about 30 % fewer packets at 64 B through the ESP path, 40 % fewer
# forwarded). Pages missing are reserved for the run when this process may
# (root, vm.nr_hugepages) and given back when it exits; without them, or
# with BENCH_HUGEPAGES=0, the bench runs on 4 KB pages and says so.

bench_hugepages_want=256 # 512 MB: the most a bench takes

bench_hugepages_free() {
	awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo
}

bench_hugepages_give_back() {
	echo "$bench_hugepages_total" >/proc/sys/vm/nr_hugepages
}

# Reserves the pages missing; true when bench_hugepages_want are free.
bench_hugepages_reserve() {
	local free total
	free=$(bench_hugepages_free)
	[ "${free:-0}" -ge "$bench_hugepages_want" ] && return 0
	[ -w /proc/sys/vm/nr_hugepages ] || return 1
	bench_hugepages_total=$(cat /proc/sys/vm/nr_hugepages)
	trap bench_hugepages_give_back EXIT
	trap 'exit 130' INT TERM
	total=$((bench_hugepages_total + bench_hugepages_want - free))
	echo "$total" >/proc/sys/vm/nr_hugepages 2>/dev/null || return 1
	[ "$(bench_hugepages_free)" -ge "$bench_hugepages_want" ]
}

if [ "${BENCH_HUGEPAGES:-1}" != 0 ] && grep -q ' hugetlbfs .*pagesize=2M' /proc/mounts &&
	bench_hugepages_reserve; then
	bench_eal_memory=(--in-memory)
else
	echo "bench: no 2 MB hugepages (BENCH_HUGEPAGES=0, no hugetlbfs mount, not root or" \
		"no memory): 4 KB pages, slower than a router with hugepages" >&2
	bench_eal_memory=(--no-huge -m 512 --no-shconf)
fi

# bench_run NAME [ARGS]: the build's bench/NAME, ARGS after the EAL's.
bench_run() {
	local name=$1 bin=${ESPD_BUILD:-$top/build}/bench/$1
	shift
	if [ ! -x "$bin" ]; then
		echo "missing $bin: build it with ninja -C ${bin%/bench/*} bench/$name" >&2
		exit 1
	fi
	taskset -c "${CORE:-1}" "$bin" "${bench_eal_memory[@]}" --no-pci \
		--file-prefix "$name-$$" --log-level '*:warning' -l "${CORE:-1}" "$@"
}
