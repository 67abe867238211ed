#!/bin/bash
# bench/probe_bench.sh: flowpathd and fping side by side, probing the same
# 1000 ICMP echo targets at 1 probe/s each, one after the other in the same
# session, RUNS runs each (medians reported).
#
#   bench/probe_bench.sh                          # BUILD=_build of the tree
#   BUILD=/tmp/build-bench RUNS=3 SECONDS_=60 bench/probe_bench.sh > out.txt
#
# Needs root (network namespaces), fping, snmpbulkwalk. Builds nothing:
# uses $BUILD/flowpathd and $BUILD/tests/tools/fp_responder.
#
# Rig (tests/integration/netns.sh): namespace A (the prober) and B (the
# targets), one veth pair. B answers a whole /22 from its own kernel
# (`ip route add local 10.252.0.0/22 dev lo`); the targets are its first
# TARGETS addresses with a host octet of 1..254. B also runs fp_responder in
# `sniff` mode: a raw socket that logs the kernel arrival stamp (monotonic)
# of every echo request, the send-time capture without pcap.
#
# flowpathd: one probe per target (icmp, interval 1 s, timeout 3 s, window
# 60 s), standalone agent on A's loopback for reading fpProbeSent after the
# run (no snmpd). fping 5: `fping -c COUNT -p 1000 -i 1 -q -f targets`
# (period 1 s per target, 1 ms between sends: 1000 sends a second, the
# closest fping comes to 1000 targets at 1/s).
#
# Per run, over the same WINDOW seconds starting WARMUP s after the start:
#   cpu      on-CPU time of the process (/proc/PID/schedstat, ns), and the
#            user/sys split (/proc/PID/stat, clock ticks: sampled, rough on
#            a VM); neither tool forks. wakeups: voluntary context switches
#   probes   echo requests that arrived at B in the window (the sniffer),
#            so rate = probes / WINDOW and cpu/probe = cpu / probes
#   spacing  over all sends: median and p99 gap, most sends in one 1 ms
#   sched    per target, the ideal grid is its first send in the window +
#            k x 1 s, k advanced by one per send (or by the number of whole
#            periods a gap spans, so a skipped slot is not a late send):
#            p50/p99/max of |arrival - grid|
#   own      the tool's own count: sum of fpProbeSent and fpProbeMissed
#            (flowpathd, whole run) or of fping's xmt (whole run)
# The kernel work of answering in B runs in the sender's softirq on a veth
# pair, so both tools' sys time includes it (the same for both).
set -u

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRC/_build}
FLOWPATHD=${FLOWPATHD:-$BUILD/flowpathd}
RESPONDER=${RESPONDER:-$BUILD/tests/tools/fp_responder}
RUNS=${RUNS:-3}
TARGETS=${TARGETS:-1000}
WINDOW=${SECONDS_:-60}		# measured seconds per run
WARMUP=${WARMUP:-3}
TOOLS=${TOOLS:-"flowpathd fping"}
OUT=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/fp-probebench.XXXXXX")}
ROOT=.1.3.6.1.4.1.8072.9999.9999.1
PROBE=$ROOT.1.4.1.1
AGENT_PORT=1161
PERIOD_NS=1000000000

# shellcheck source=../tests/integration/netns.sh
. "$SRC/tests/integration/netns.sh" || exit 1
ns_require
ns_trap
for f in "$FLOWPATHD" "$RESPONDER"; do [[ -x "$f" ]] || { echo "not built: $f" >&2; exit 1; }; done
for c in fping snmpbulkwalk snmpget; do command -v "$c" >/dev/null || { echo "'$c' not found" >&2; exit 1; }; done
mkdir -p "$OUT/snmpconf" "$OUT/persist" "$OUT/nomibs"
export SNMPCONFPATH=$OUT/snmpconf SNMP_PERSISTENT_DIR=$OUT/persist MIBDIRS=$OUT/nomibs MIBS=

# mono_ns: CLOCK_MONOTONIC now, as the sniffer's stamps (ktime_get, ns).
mono_ns() {
	local l
	if l=$(grep -m1 '^now at ' /proc/timer_list 2>/dev/null); then
		l=${l#now at }; echo "${l%% nsecs}"
	else	# CLOCK_BOOTTIME, the same clock while the machine does not suspend
		awk '{ printf "%.0f\n", $1 * 1e9 }' /proc/uptime
	fi
}
cpu_ns() { awk '{ print $1 }' "/proc/$1/schedstat"; }
# voluntary context switches: the wake-ups (each sleep in ppoll/select is one)
wakeups() { awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$1/status"; }
# user and sys clock ticks (fields 14 and 15; comm may hold spaces)
cpu_ticks() { sed -E 's/^.*\) //' "/proc/$1/stat" | awk '{ print $12, $13 }'; }

# ------------------------------------------------------------------ rig
ns_new A pa || exit 1
ns_new B pb || exit 1
ns_veth "$A" "10.250.9.1/24" "$B" "10.250.9.2/24" || exit 1
ip -n "$B" route add local 10.252.0.0/22 dev lo || exit 1
ip -n "$A" route add 10.252.0.0/22 via 10.250.9.2 || exit 1
ns_sysctl "$B" net.ipv4.icmp_ratelimit=0 net.ipv4.icmp_msgs_per_sec=100000 || exit 1
awk -v n="$TARGETS" 'BEGIN {
	for (i = 1; c < n && i < 1024; i++) { h = i % 256; if (h == 0 || h == 255) continue
		printf "10.252.%d.%d\n", int(i / 256), h; c++ } }' > "$OUT/targets"
[[ $(wc -l < "$OUT/targets") -eq $TARGETS ]] || { echo "at most 1016 targets in a /22" >&2; exit 1; }
ns_exec "$A" ping -q -c 1 -W 2 10.252.0.1 >/dev/null || { echo "the rig does not answer" >&2; exit 1; }

{
	cat <<EOF
agentx = { socket = "unix:$OUT/agentx.sock"; };
agent = { listen = "udp:127.0.0.1:$AGENT_PORT"; };
daemon = { pidfile = "$OUT/flowpathd.pid"; log_level = "info"; };
probes = (
EOF
	awk '{ printf "%s  { name = \"t%04d\"; type = \"icmp\"; target = \"%s\"; interval = 1.0; timeout = 3.0; window = 60; }", (NR > 1 ? ",\n" : ""), NR, $1 }
	     END { print "" }' "$OUT/targets"
	echo ");"
} > "$OUT/flowpathd.conf"
"$FLOWPATHD" -t -c "$OUT/flowpathd.conf" >/dev/null || { echo "flowpathd -t refused the config" >&2; exit 1; }

# analyze LOG T0 T1: the sniffer's arrivals in [T0, T1) -> key=value words
analyze() {
	local log=$1 t0=$2 t1=$3
	awk -v t0="$t0" -v t1="$t1" -v I="$PERIOD_NS" -v dir="$OUT" '
	!/^#/ && $12 >= t0 && $12 < t1 {
		n++; d = $4; t = $12
		printf "%.0f\n", t > (dir "/times")
		if (d in last) {
			s = int((t - last[d]) / I + 0.5); if (s < 1) s = 1
			k[d] += s; skipped += s - 1
		} else { first[d] = t; k[d] = 0; nt++ }
		e = t - (first[d] + k[d] * I); if (e < 0) e = -e
		printf "%.0f\n", e > (dir "/errs")
		last[d] = t
	}
	END {
		for (d in last) if (k[d] > 0) { per += (last[d] - first[d]) / k[d]; np++ }
		printf "probes=%d targets=%d skipped_slots=%d period_ms=%.3f ", n, nt, skipped, np ? per / np / 1e6 : 0
	}' "$log"
	sort -n "$OUT/errs" | awk '{ v[NR] = $1 } END {
		printf "sched_p50_us=%.1f sched_p99_us=%.1f sched_max_us=%.1f ",
		    v[int(NR * 0.50 + 0.5)] / 1e3, v[int(NR * 0.99 + 0.5)] / 1e3, v[NR] / 1e3 }'
	sort -n "$OUT/times" | awk '
	NR > 1 { g[NR - 1] = $1 - p }
	{ b = int($1 / 1e6); c[b]++; if (c[b] > m) m = c[b]; p = $1 }
	END { n = asort_n(g, NR - 1)
		printf "gap_p50_us=%.1f gap_p99_us=%.1f max_per_ms=%d", g[int(n * 0.5 + 0.5)] / 1e3, g[int(n * 0.99 + 0.5)] / 1e3, m }
	function asort_n(a, n,   i, j, v) {	# insertion sort would be slow: shell sort
		for (h = int(n / 2); h > 0; h = int(h / 2))
			for (i = h + 1; i <= n; i++) { v = a[i]; for (j = i; j > h && a[j - h] > v; j -= h) a[j] = a[j - h]; a[j] = v }
		return n }'
	rm -f "$OUT/errs" "$OUT/times"
}

# measure PID: waits WARMUP, samples, waits WINDOW, samples; sets T0 T1 CPU TICKS
measure() {
	local pid=$1 c0 c1 u0 s0 u1 s1 w0 w1
	sleep "$WARMUP"
	T0=$(mono_ns); c0=$(cpu_ns "$pid"); read -r u0 s0 < <(cpu_ticks "$pid"); w0=$(wakeups "$pid")
	sleep "$WINDOW"
	T1=$(mono_ns); c1=$(cpu_ns "$pid"); read -r u1 s1 < <(cpu_ticks "$pid"); w1=$(wakeups "$pid")
	CPU=$((c1 - c0)); TICKS="user_ticks=$((u1 - u0)) sys_ticks=$((s1 - s0)) wakeups=$((w1 - w0))"
}

snmp_sum() {	# snmp_sum COLUMN: the sum of a fpProbeEntry column over all rows
	ns_exec "$A" snmpbulkwalk -v2c -c public -t 5 -r 1 -Cr50 -On -Oqv "127.0.0.1:$AGENT_PORT" "$PROBE.$1" 2>/dev/null |
		awk '{ s += $1 } END { print s + 0 }'
}

start_sniffer() {
	rm -f "$OUT/sniff.ready"
	ns_spawn SNIFF "$B" "$OUT/sniff.err" "$RESPONDER" sniff --max-requests 10000000 \
		--max-time $((WINDOW + WARMUP + 120)) --log "$OUT/sniff-$1.log" --ready "$OUT/sniff.ready"
	ns_wait_file "$OUT/sniff.ready" 5 || { cat "$OUT/sniff.err" >&2; exit 1; }
}

run_flowpathd() {
	local r=$1 pid i sent missed lost hwm
	start_sniffer "flowpathd-$r"
	ns_spawn pid "$A" "$OUT/flowpathd-$r.log" "$FLOWPATHD" -f -c "$OUT/flowpathd.conf"
	for ((i = 0; i < 50; i++)); do
		ns_exec "$A" snmpget -v2c -c public -t 0.2 -r 0 "127.0.0.1:$AGENT_PORT" .1.3.6.1.2.1.1.3.0 >/dev/null 2>&1 && break
		sleep 0.1
	done
	measure "$pid"
	hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status")
	sent=$(snmp_sum 14); missed=$(snmp_sum 21); lost=$(snmp_sum 16)
	ns_stop "$pid"
	ns_stop "$SNIFF"
	echo "tool=flowpathd run=$r cpu_ns=$CPU $TICKS own_sent=$sent own_missed=$missed own_lost=$lost rss_max_kb=$hwm $(analyze "$OUT/sniff-flowpathd-$r.log" "$T0" "$T1")"
}

run_fping() {
	local r=$1 pid count xmt i
	count=$(( (WARMUP + WINDOW) * 11 / 10 + 5 ))	# still running at the end of the window
	start_sniffer "fping-$r"
	ns_spawn pid "$A" "$OUT/fping-$r.log" fping -c "$count" -p 1000 -i 1 -q -f "$OUT/targets"
	measure "$pid"
	for ((i = 0; i < 600; i++)); do ns__alive "$pid" || break; sleep 0.1; done
	ns_stop "$pid"
	ns_stop "$SNIFF"
	xmt=$(awk -F'[=/ ]+' '/xmt\/rcv/ { for (i = 1; i < NF; i++) if ($i == "%loss") { s += $(i + 1) } } END { print s + 0 }' "$OUT/fping-$r.log")
	echo "tool=fping run=$r cpu_ns=$CPU $TICKS own_sent=$xmt count=$count $(analyze "$OUT/sniff-fping-$r.log" "$T0" "$T1")"
}

echo "# probe_bench $(date -u +%FT%TZ) $(uname -r) nproc=$(nproc) loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
echo "# flowpathd $("$FLOWPATHD" -V 2>&1 | head -1); $(fping -v 2>&1 | head -1); targets=$TARGETS window=${WINDOW}s warmup=${WARMUP}s runs=$RUNS"
for ((r = 1; r <= RUNS; r++)); do
	for t in $TOOLS; do
		"run_$t" "$r" | tee -a "$OUT/results"
	done
done
echo "# loadavg after: $(cut -d' ' -f1-3 /proc/loadavg)"

# Medians per tool; the ratios flowpathd / fping.
awk -v W="$WINDOW" '
function med(a, n,   i, j, v, b) { for (i = 1; i <= n; i++) b[i] = a[i]
	for (i = 2; i <= n; i++) { v = b[i]; for (j = i - 1; j >= 1 && b[j] > v; j--) b[j + 1] = b[j]; b[j + 1] = v }
	return n % 2 ? b[(n + 1) / 2] : (b[n / 2] + b[n / 2 + 1]) / 2 }
{	delete f; for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
	t = f["tool"]; n = ++cnt[t]; tools[t] = 1
	cpp[t, n] = f["cpu_ns"] / f["probes"] / 1e3
	upp[t, n] = f["user_ticks"] * 1e4 / f["probes"]	# 1 tick = 10 ms
	rate[t, n] = f["probes"] / W
	p99[t, n] = f["sched_p99_us"]; p50[t, n] = f["sched_p50_us"]; gap99[t, n] = f["gap_p99_us"]
	mpm[t, n] = f["max_per_ms"]; per[t, n] = f["period_ms"]; wpp[t, n] = f["wakeups"] / f["probes"]
}
END {
	printf "# medians of %s runs\n", cnt["flowpathd"] ? cnt["flowpathd"] : cnt["fping"]
	printf "# %-9s %12s %12s %10s %10s %10s %10s %8s %10s %12s\n", "tool", "cpu/probe_us", "user/probe_us", "probes/s", "period_ms", "sched_p50", "sched_p99", "max/ms", "gap_p99_us", "wakeups/probe"
	for (t in tools) {
		n = cnt[t]
		for (i = 1; i <= n; i++) { a1[i] = cpp[t, i]; a2[i] = upp[t, i]; a3[i] = rate[t, i]; a4[i] = per[t, i]; a5[i] = p50[t, i]; a6[i] = p99[t, i]; a7[i] = mpm[t, i]; a8[i] = gap99[t, i]; a9[i] = wpp[t, i] }
		M[t, 1] = med(a1, n); M[t, 2] = med(a2, n); M[t, 3] = med(a3, n); M[t, 6] = med(a6, n)
		printf "# %-9s %12.2f %12.2f %10.1f %10.3f %10.1f %10.1f %8d %10.1f %12.2f\n", t, M[t, 1], M[t, 2], M[t, 3], med(a4, n), med(a5, n), M[t, 6], med(a7, n), med(a8, n), med(a9, n)
	}
	if (("flowpathd", 1) in M && ("fping", 1) in M)
		printf "# ratio flowpathd/fping: cpu/probe %.2f, user/probe %.2f, rate %.3f, sched p99 %.4f\n",
		    M["flowpathd", 1] / M["fping", 1], (M["fping", 2] > 0 ? M["flowpathd", 2] / M["fping", 2] : 0),
		    M["flowpathd", 3] / M["fping", 3], (M["fping", 6] > 0 ? M["flowpathd", 6] / M["fping", 6] : 0)
}' "$OUT/results"
echo "# raw files in $OUT"
