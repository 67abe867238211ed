#!/bin/bash
# bench/e2e.sh: end-to-end collector benchmark over loopback, flowpathd and
# nfcapd in the same session, each pinned to one core, flowpath-gen on the
# other.
#
#   bench/e2e.sh                     # defaults below, ~9-10 minutes
#   REPEATS=1 RATES="1000000" bench/e2e.sh
#   RATES=0 DURATION=3 bench/e2e.sh  # flat out (rate 0): the generator's ceiling per collector
#
# For each repetition, version (v5, IPFIX) and rate (records/s, ascending),
# flowpath-gen sends for DURATION seconds (sendmmsg, paced) first to one
# collector, then to the other (the order alternates per repetition). Per
# step: loss = the generator's total.records minus what the collector counted
# (flowpathd: fpColRecords through a private snmpd; nfcapd: "Flows" of
# nfdump -I on the file it wrote), the socket's kernel drops (flowpathd:
# fpColKernelDrops; both: the drops column of /proc/net/udp), and the
# collector's CPU (utime+stime from /proc/PID/stat, from just before the
# generator starts until the socket's receive queue is empty), as % of a
# core over the sending time and as ns per received record. A ladder stops
# for a collector after MAX_FAILS consecutive steps at >= 0.1 % loss.
#
# Needs root (net.core.rmem_max is raised to RMEM for both collectors and
# restored at exit), snmpd/snmpget, nfcapd/nfdump, taskset. Loopback only.
# Every process started here is stopped by its PID at exit.
#
# Output: "step ..." lines (also in $OUT/steps.txt), then a summary: medians
# over the repetitions per rate, and the highest rate with median loss
# < 0.1 % with every lower rate also passing.
set -u

BUILD=${BUILD:-/tmp/build-bench}
FLOWPATHD=${FLOWPATHD:-$BUILD/flowpathd}
GEN=${GEN:-$BUILD/tools/flowpath-gen}
NFCAPD=${NFCAPD:-nfcapd}
NFDUMP=${NFDUMP:-nfdump}
DURATION=${DURATION:-5}
RATES=${RATES:-"250000 500000 1000000 1500000 2000000 2500000"}
VERSIONS=${VERSIONS:-"5 10"}
COLLECTORS=${COLLECTORS:-"flowpathd nfcapd"}
REPEATS=${REPEATS:-3}
RMEM=${RMEM:-33554432}
GEN_CPU=${GEN_CPU:-0}
COL_CPU=${COL_CPU:-1}
MAX_FAILS=${MAX_FAILS:-2}
TIME_LIMIT=${TIME_LIMIT:-660}	# seconds; later steps are skipped
BATCH=${BATCH:-32}
OUT=${OUT:-/tmp/fp-e2e.$$}
# Workload as in shared/research/flows.md: 10 000 keys, Zipf 1.0, seed 1;
# v5 one exporter; IPFIX 4 exporters (127.0.0.1-4), 20 % IPv6 keys,
# templates every 20 datagrams; 1472-byte datagrams.
KEYS=${KEYS:-10000}
SKEW=${SKEW:-1.0}

OID=.1.3.6.1.4.1.8072.9999.9999.1.1.2.1
OID_RECORDS=$OID.8.0
OID_KDROPS=$OID.4.0

PIDS=()
OLD_RMEM=
START=$(date +%s)

log() { printf '# %s\n' "$*" >&2; }
die() { log "e2e: $*"; exit 1; }

cleanup() {
	local p i
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		for ((i = 0; i < 25; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
		kill -KILL "$p" 2>/dev/null
	done
	if [[ -n "$OLD_RMEM" ]]; then
		sysctl -q -w net.core.rmem_max="$OLD_RMEM" >/dev/null 2>&1 &&
			log "net.core.rmem_max restored to $OLD_RMEM"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

untrack() {
	local p keep=()
	for p in "${PIDS[@]}"; do [[ "$p" == "$1" ]] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

# stop PID: SIGTERM, wait <= 5 s, then SIGKILL.
stop() {
	local i
	kill -TERM "$1" 2>/dev/null
	for ((i = 0; i < 25; i++)); do kill -0 "$1" 2>/dev/null || break; sleep 0.2; done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	untrack "$1"
}

for t in "$FLOWPATHD" "$GEN"; do [[ -x "$t" ]] || die "$t not built (see docs/performance.md)"; done
for t in snmpd snmpget taskset sysctl "$NFCAPD" "$NFDUMP"; do
	command -v "$t" >/dev/null || die "$t not found"
done
[[ $(id -u) -eq 0 ]] || die "run as root (net.core.rmem_max)"
[[ $(nproc) -ge 2 ]] || die "needs 2 cores"

mkdir -p "$OUT" || die "cannot create $OUT"
: > "$OUT/steps.txt"

# ---------------------------------------------------------------- ports

port_free() {	# UDP port not bound on any address
	local hex
	hex=$(printf '%04X' "$1")
	! awk -v h=":$hex" 'NR > 1 && substr($2, length($2) - 4) == h { f = 1 } END { exit !f }' \
		/proc/net/udp /proc/net/udp6
}
pick_port() {
	local p i
	for ((i = 0; i < 50; i++)); do
		p=$((20000 + RANDOM % 20000))
		port_free "$p" && { echo "$p"; return 0; }
	done
	return 1
}

# udp_field PORT COL: a column of 127.0.0.1:PORT's line in /proc/net/udp
# (COL 5 = tx_queue:rx_queue, COL 13 = drops).
udp_line() {
	local hex
	hex=$(printf '0100007F:%04X' "$1")
	awk -v a="$hex" 'NR > 1 && $2 == a { print; exit }' /proc/net/udp
}
udp_rxq() { udp_line "$1" | awk '{ split($5, q, ":"); printf "%d\n", strtonum("0x" q[2]) }'; }
udp_drops() { udp_line "$1" | awk '{ print $13 }'; }

# Waits (<= 10 s) until the receive queue of PORT is empty.
drain() {
	local i q
	for ((i = 0; i < 100; i++)); do
		q=$(udp_rxq "$1")
		[[ -z "$q" || "$q" == 0 ]] && break
		sleep 0.1
	done
	sleep 0.2
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# Voluntary context switches of all the process's threads: how often it slept (wake-ups).
wakeups() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '$1 == "voluntary_ctxt_switches:" { s += $2 } END { print s + 0 }'; }
TCK=$(getconf CLK_TCK)

softnet_drops() {	# all CPUs: packets dropped before any socket (backlog full)
	awk '{ s += strtonum("0x" $2) } END { print s + 0 }' /proc/net/softnet_stat
}

# ---------------------------------------------------------------- set-up

OLD_RMEM=$(sysctl -n net.core.rmem_max)
sysctl -q -w net.core.rmem_max="$RMEM" >/dev/null || die "cannot set net.core.rmem_max"
log "net.core.rmem_max $OLD_RMEM -> $RMEM (both collectors ask for $RMEM)"

SNMPD_PORT=$(pick_port) || die "no free port"
mkdir -p "$OUT/persist"
chmod 700 "$OUT"
cat > "$OUT/snmpd.conf" <<EOF
[snmp] persistentDir $OUT/persist
[snmp] noPersistentLoad yes
[snmp] noPersistentSave yes
master agentx
agentXSocket unix:$OUT/agentx.sock
agentXPerms 0600 0700
agentXTimeout 1
agentXRetries 2
rocommunity public 127.0.0.1
EOF
setsid snmpd -f -Lf "$OUT/snmpd.log" -C -c "$OUT/snmpd.conf" -p "$OUT/snmpd.pid" \
	"udp:127.0.0.1:$SNMPD_PORT" </dev/null >>"$OUT/snmpd.out" 2>&1 &
SNMPD_PID=$!
PIDS+=("$SNMPD_PID")

sget() {	# value of one OID, empty on failure
	snmpget -v2c -c public -t 1 -r 1 -On -Oqv "127.0.0.1:$SNMPD_PORT" "$1" 2>/dev/null |
		awk 'NR == 1 && /^[0-9]+$/ { print }'
}
for ((i = 0; i < 50; i++)); do
	snmpget -v2c -c public -t 0.2 -r 0 -On -Oqv "127.0.0.1:$SNMPD_PORT" .1.3.6.1.2.1.1.3.0 \
		>/dev/null 2>&1 && break
	kill -0 "$SNMPD_PID" 2>/dev/null || die "snmpd exited (see $OUT/snmpd.log)"
	sleep 0.1
done

FP_PORT=$(pick_port) || die "no free port"
cat > "$OUT/flowpathd.conf" <<EOF
agentx = { socket = "unix:$OUT/agentx.sock"; ping_interval = 1; };
daemon = { pidfile = "$OUT/flowpathd.pid"; log_level = "info"; };
collector = { listen = [ "127.0.0.1:$FP_PORT" ]; receive_buffer = $RMEM; max_exporters = 65536; };
EOF
start_flowpathd() {
	setsid taskset -c "$COL_CPU" "$FLOWPATHD" -f -c "$OUT/flowpathd.conf" \
		</dev/null >>"$OUT/flowpathd.out" 2>>"$OUT/flowpathd.log" &
	FP_PID=$!
	PIDS+=("$FP_PID")
	for ((i = 0; i < 100; i++)); do
		[[ -n "$(sget $OID_RECORDS)" ]] && return 0
		kill -0 "$FP_PID" 2>/dev/null || die "flowpathd exited (see $OUT/flowpathd.log)"
		sleep 0.1
	done
	die "flowpathd did not answer through snmpd"
}
FP_PID=
if [[ " $COLLECTORS " == *" flowpathd "* ]]; then
	start_flowpathd
	log "snmpd $SNMPD_PID on 127.0.0.1:$SNMPD_PORT, flowpathd $FP_PID on 127.0.0.1:$FP_PORT (cpu $COL_CPU)"
fi

# ---------------------------------------------------------------- one step

DOMAIN=0	# a fresh exporter identity per step (see docs/performance.md)

# gen PORT VERSION RATE: runs the generator, leaves its output in $OUT/gen.txt
gen() {
	local exp=1 v6=0
	[[ $2 != 5 ]] && { exp=4; v6=0.2; }
	DOMAIN=$((DOMAIN + 1))
	taskset -c "$GEN_CPU" "$GEN" --dest "127.0.0.1:$1" --version "$2" --rate "$3" \
		--duration "$DURATION" --keys "$KEYS" --skew "$SKEW" --seed 1 --exporters "$exp" \
		--ipv6-share "$v6" --domain "$DOMAIN" --batch="$BATCH" >"$OUT/gen.txt" 2>"$OUT/gen.err"
}
gv() { awk -v k="$1" '$1 == k { print $2; exit }' "$OUT/gen.txt"; }

# step COLLECTOR VERSION RATE REP: prints one "step" line; returns 1 when loss >= 0.1 %.
step() {
	local col=$1 v=$2 rate=$3 rep=$4 port pid dir r0 r1 k0 k1 c0 c1 s0 s1 d0 d1 got kd
	local sent achieved secs nf_pid i w0 w1
	s0=$(softnet_drops)
	case $col in
	flowpathd)
		port=$FP_PORT pid=$FP_PID
		r0=$(sget $OID_RECORDS) k0=$(sget $OID_KDROPS) d0=$(udp_drops "$port")
		c0=$(cpu_ticks "$pid") w0=$(wakeups "$pid")
		gen "$port" "$v" "$rate"
		drain "$port"
		c1=$(cpu_ticks "$pid") w1=$(wakeups "$pid")
		d1=$(udp_drops "$port")
		r1= k1=
		for ((i = 0; i < 10; i++)); do [[ -n "$r1" ]] && break; r1=$(sget $OID_RECORDS); done
		for ((i = 0; i < 10; i++)); do [[ -n "$k1" ]] && break; k1=$(sget $OID_KDROPS); done
		got=$((r1 - r0)) kd=$((k1 - k0))
		;;
	nfcapd)
		port=$(pick_port) || die "no free port"
		dir=$OUT/nfcapd.$rep.$v.$rate
		rm -rf "$dir"
		mkdir -p "$dir"
		setsid taskset -c "$COL_CPU" "$NFCAPD" -w "$dir" -b 127.0.0.1 -p "$port" -t 3600 \
			-B "$RMEM" </dev/null >"$dir.out" 2>"$dir.log" &
		nf_pid=$! pid=$nf_pid
		PIDS+=("$nf_pid")
		for ((i = 0; i < 50; i++)); do [[ -n "$(udp_line "$port")" ]] && break; sleep 0.1; done
		sleep 0.3
		d0=$(udp_drops "$port")
		c0=$(cpu_ticks "$pid") w0=$(wakeups "$pid")
		gen "$port" "$v" "$rate"
		drain "$port"
		c1=$(cpu_ticks "$pid") w1=$(wakeups "$pid")
		d1=$(udp_drops "$port")
		stop "$nf_pid"
		got=$("$NFDUMP" -R "$dir" -I 2>/dev/null | awk '$1 == "Flows:" { s += $2 } END { print s + 0 }')
		kd=$((d1 - d0))
		rm -rf "$dir"	# tens of MB per step on tmpfs
		;;
	esac
	s1=$(softnet_drops)
	sent=$(gv total.records) achieved=$(gv run.records_per_s) secs=$(gv run.seconds)
	[[ -n "$sent" && -n "$secs" ]] || die "generator failed: $(cat "$OUT/gen.err")"
	awk -v col="$col" -v v="$v" -v rate="$rate" -v rep="$rep" -v sent="$sent" -v got="$got" \
	    -v ach="$achieved" -v secs="$secs" -v kd="$kd" -v ud="$((d1 - d0))" \
	    -v cpu="$(( c1 - c0 ))" -v tck="$TCK" -v sn="$((s1 - s0))" -v wk="$((w1 - w0))" 'BEGIN {
		loss = sent > 0 ? 100 * (sent - got) / sent : 0
		cpus = cpu / tck
		printf "step rep=%d collector=%s version=%s rate=%d achieved=%.0f%s sent=%d received=%d " \
		    "loss_pct=%.3f kernel_drops=%d udp_drops=%d softnet_drops=%d cpu_s=%.2f cpu_pct=%.1f ns_per_record=%.0f " \
		    "wakeups_per_s=%.0f\n",
		    rep, col, (v == 5 ? "v5" : "ipfix"), rate, ach, (ach < 0.98 * rate ? "(SHORT)" : ""),
		    sent, got, loss, kd, ud, sn, cpus, 100 * cpus / secs, (got > 0 ? cpus * 1e9 / got : 0), wk / secs
		exit loss >= 0.1 }'
}

# ---------------------------------------------------------------- run

{
	echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), kernel $(uname -r)"
	echo "# flowpathd $($FLOWPATHD -V 2>&1 | head -1) ($FLOWPATHD); $($NFCAPD -V 2>&1 | head -1)"
	echo "# duration ${DURATION}s per step, rates $RATES, repeats $REPEATS, batch $BATCH, rmem_max $RMEM"
	echo "# generator cpu $GEN_CPU, collector cpu $COL_CPU; load: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee -a "$OUT/steps.txt"

read -r -a COLS <<<"$COLLECTORS"
for ((rep = 1; rep <= REPEATS; rep++)); do
	order=("${COLS[@]}")
	if ((rep % 2 == 0)) && ((${#COLS[@]} == 2)); then order=("${COLS[1]}" "${COLS[0]}"); fi
	for v in $VERSIONS; do
		declare -A fails=()
		for rate in $RATES; do
			for col in "${order[@]}"; do
				if (( $(date +%s) - START > TIME_LIMIT )); then
					log "time limit ($TIME_LIMIT s): skipping rep=$rep v=$v rate=$rate $col"
					continue
				fi
				(( ${fails[$col]:-0} >= MAX_FAILS )) && continue
				# not in $(...): DOMAIN and PIDS must persist
				if step "$col" "$v" "$rate" "$rep" >"$OUT/line"; then
					fails[$col]=0
				else
					fails[$col]=$(( ${fails[$col]:-0} + 1 ))
				fi
				tee -a "$OUT/steps.txt" <"$OUT/line"
			done
		done
		unset fails
	done
done

# ---------------------------------------------------------------- summary

awk '
function median(s,   a, n, i, j, t) {
	n = split(s, a, " ")
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
/^step / {
	delete f
	for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
	k = f["collector"] " " f["version"] " " f["rate"]
	keys[k] = 1
	loss[k] = loss[k] " " f["loss_pct"]; cpu[k] = cpu[k] " " f["cpu_pct"]
	ns[k] = ns[k] " " f["ns_per_record"]; ach[k] = ach[k] " " f["achieved"] + 0
	kd[k] = kd[k] " " f["kernel_drops"]; n[k]++
}
END {
	print "summary collector version rate runs median_loss_pct median_kernel_drops median_cpu_pct median_ns_per_record median_achieved"
	cmd = "sort -k2,2 -k3,3 -k4,4n"
	for (k in keys)
		printf "summary %s %d %.3f %d %.1f %.0f %.0f\n", k, n[k], median(loss[k]), median(kd[k]),
		    median(cpu[k]), median(ns[k]), median(ach[k]) | cmd
	close(cmd)
}' "$OUT/steps.txt" | tee "$OUT/summary.txt"

# Highest rate passing (median loss < 0.1 %) with every lower rate passing.
# When the generator fell short of the asked rate there (it shares the
# 2 cores with the loopback softirq work), the figure is the rate it reached
# and only a floor for the collector: "generator-limited".
awk '$1 == "summary" && $2 != "collector" && $4 > 0 {
	k = $2 " " $3
	if (!(k in broken)) broken[k] = 0
	if ($6 < 0.1 && !broken[k]) { best[k] = $4; if ($10 > ach[k]) ach[k] = $10; last[k] = $10 } else broken[k] = 1
} END {
	for (k in broken)
		if (k in best)
			printf "highest %s asked %d achieved %d%s\n", k, best[k], ach[k],
			    last[k] < 0.98 * best[k] ? " generator-limited" : ""
		else
			printf "highest %s none\n", k
}' "$OUT/summary.txt" | sort | tee -a "$OUT/summary.txt"
log "raw lines: $OUT/steps.txt, summary: $OUT/summary.txt"
