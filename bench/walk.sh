#!/bin/bash
# bench/walk.sh: time to walk a 10 000-row fpTopTable with snmpbulkwalk,
# through AgentX (a private snmpd master + flowpathd as subagent) and with
# flowpathd standalone (agent.listen), in the same session.
#
#   bench/walk.sh                      # BUILD=_build (of the source tree)
#   BUILD=/tmp/build-aggbench bench/walk.sh
#   MODES=standalone REPEATS=5 bench/walk.sh
#
# Builds nothing: uses $BUILD/flowpathd and $BUILD/tools/flowpath-gen. For
# each mode: flowpathd with one collector socket and one aggregation
#   { name = "big"; key = [ "src_addr" ]; interval = 10; top = 10000; capacity = 20000; }
# For each repetition: early in a 10 s interval flowpath-gen sends FEEDS x
# RECORDS v5 records (GEN_KEYS keys, skew GEN_SKEW, paced at GEN_RATE), the
# script waits for the close (fpAggIntervalEnd changes), then times
#   1. snmpbulkwalk -v2c -c public -Cr$REPS of fpTopOctets (one column), and
#   2. a 4-column walk: snmpbulkwalk -Cr$REPS of fpTopKey, fpTopFlows,
#      fpTopPackets and fpTopOctets one after the other (snmpbulkwalk has no
#      end OID, and the whole fpTopEntry, 19 columns, 190 000 values, takes
#      longer than the 10 s interval through AgentX: TABLE=1 adds that walk,
#      reported as a third figure, and may then span a close),
# all inside the same interval (checked: fpAggIntervalEnd is the same
# before and after the walks), and counts the rows (values of the octets
# column) and values. Wall time of the clients (date +%s.%N around them,
# so it includes starting snmpbulkwalk: ~10-20 ms each); values/s = values
# returned / seconds. Median of REPEATS per mode and walk, and the ratio
# standalone / AgentX.
#
# Why GEN_KEYS=160000 and GEN_SKEW=0 (not 20 000 keys): flowpath-gen draws
# source addresses from a pool of keys/8 hosts (tools/gen_traffic.c), so
# 20 000 keys give at most 2 500 distinct src_addr and a 2 500-row table;
# 160 000 uniform keys give ~20 000 hosts, enough for a full top 10 000.
#
# Loopback only; snmpd and flowpathd are started with setsid and stopped by
# their PIDs at exit; every wait is bounded. Net-SNMP reads no system or
# user configuration (SNMPCONFPATH etc. point into the private directory).
set -u

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRC/_build}
FLOWPATHD=${FLOWPATHD:-$BUILD/flowpathd}
GEN=${GEN:-$BUILD/tools/flowpath-gen}
MODES=${MODES:-"agentx standalone"}
REPEATS=${REPEATS:-3}
REPS=${REPS:-50}			# GETBULK max-repetitions (-Cr)
ROWS=${ROWS:-10000}		# top = rows expected
CAPACITY=${CAPACITY:-20000}
FEEDS=${FEEDS:-3}
RECORDS=${RECORDS:-200000}
GEN_KEYS=${GEN_KEYS:-160000}
GEN_SKEW=${GEN_SKEW:-0}
GEN_RATE=${GEN_RATE:-1000000}
TIMEOUT=${TIMEOUT:-5}		# seconds per SNMP request (client)
OUT=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/fp-walk.XXXXXX")}

ROOT=.1.3.6.1.4.1.8072.9999.9999.1
TOP=$ROOT.1.3.2.1		# fpTopEntry
AGG=$ROOT.1.3.1.1		# fpAggEntry
IDX=.3.98.105.103		# "big" as an index: length, then octets
COL_OCTETS=$TOP.5
OID_END=$AGG.8$IDX		# fpAggIntervalEnd."big"
OID_KEYS=$AGG.9$IDX		# fpAggKeys."big"
OID_EVICT=$AGG.11$IDX		# fpAggEvictions."big"
OID_FLOWS=$AGG.12$IDX		# fpAggFlows."big"

PIDS=()
log() { printf '# %s\n' "$*" >&2; }
die() { log "walk: $*"; exit 1; }

stop() {	# PID: TERM, <= 5 s, then KILL
	local i
	kill -TERM "$1" 2>/dev/null
	for ((i = 0; i < 50; i++)); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
cleanup() {
	local p
	for p in "${PIDS[@]}"; do stop "$p"; done
	PIDS=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for t in "$FLOWPATHD" "$GEN"; do [[ -x "$t" ]] || die "$t not built (BUILD=$BUILD)"; done
SNMPD=$(command -v snmpd || PATH=$PATH:/usr/sbin:/sbin command -v snmpd) || die "snmpd not found"
for t in snmpget snmpbulkwalk ss setsid; do command -v "$t" >/dev/null || die "$t not found"; done

mkdir -p "$OUT/persist" "$OUT/snmpconf" "$OUT/nomibs" || die "cannot create $OUT"
chmod 700 "$OUT"
export SNMPCONFPATH=$OUT/snmpconf SNMP_PERSISTENT_DIR=$OUT/persist MIBDIRS=$OUT/nomibs MIBS=

USED=" "
free_port() {	# a loopback port free for UDP and TCP, not handed out before
	local i p
	for ((i = 0; i < 50; i++)); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 40001))
		[[ "$USED" == *" $p "* ]] && continue
		ss -Hlnut "( sport = :$p )" 2>/dev/null | grep -q . && continue
		USED+="$p "
		echo "$p"
		return 0
	done
	return 1
}

SNMP_PORT=
get() {	# bare value of one OID, empty on failure
	snmpget -v2c -c public -t 1 -r 1 -On -Oqv "127.0.0.1:$SNMP_PORT" "$1" 2>/dev/null |
		awk 'NR == 1 && !/^No Such/ { print }'
}
wait_for() {	# CMD TRIES: eval CMD every 0.1 s, at most TRIES times
	local i
	for ((i = 0; i < $2; i++)); do eval "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done
	return 1
}

aggregation_conf() {
	cat <<EOF
collector = { listen = [ "127.0.0.1:$FP_PORT" ]; receive_buffer = 33554432; };
aggregations = (
  { name = "big"; key = [ "src_addr" ]; interval = 10; top = $ROWS; capacity = $CAPACITY; }
);
EOF
}

# start_mode MODE: snmpd (agentx mode) and flowpathd; sets SNMP_PORT, FP_PORT.
start_mode() {
	local mode=$1 conf=$OUT/$1.conf
	SNMP_PORT=$(free_port) && FP_PORT=$(free_port) || die "no free port"
	case $mode in
	agentx)
		rm -f "$OUT/agentx.sock"
		cat > "$OUT/snmpd.conf" <<EOF
[snmp] persistentDir $OUT/persist
[snmp] noPersistentLoad yes
[snmp] noPersistentSave yes
master agentx
agentXSocket unix:$OUT/agentx.sock
agentXPerms 0600 0700
agentXTimeout 5
agentXRetries 1
rocommunity public 127.0.0.1
dontLogTCPWrappersConnects yes
EOF
		setsid "$SNMPD" -f -Lf "$OUT/snmpd.log" -C -c "$OUT/snmpd.conf" -p "$OUT/snmpd.pid" \
			"udp:127.0.0.1:$SNMP_PORT" </dev/null >>"$OUT/snmpd.out" 2>&1 &
		PIDS+=("$!")
		wait_for "[[ -n \"\$(get .1.3.6.1.2.1.1.3.0)\" ]]" 100 || die "snmpd did not answer"
		{
			echo "agentx = { socket = \"unix:$OUT/agentx.sock\"; ping_interval = 1; };"
			echo "daemon = { pidfile = \"$OUT/flowpathd.$mode.pid\"; log_level = \"info\"; };"
			aggregation_conf
		} > "$conf"
		;;
	standalone)
		{
			echo "agent = { listen = \"udp:127.0.0.1:$SNMP_PORT\"; community = \"public\"; };"
			echo "daemon = { pidfile = \"$OUT/flowpathd.$mode.pid\"; log_level = \"info\"; };"
			aggregation_conf
		} > "$conf"
		;;
	*) die "unknown mode $mode" ;;
	esac
	setsid "$FLOWPATHD" -f -c "$conf" </dev/null >>"$OUT/flowpathd.$mode.out" 2>>"$OUT/flowpathd.$mode.log" &
	FP_PID=$!
	PIDS+=("$FP_PID")
	wait_for "[[ -n \"\$(get $OID_KEYS)\" ]]" 150 || die "flowpathd ($mode) did not answer (see $OUT/flowpathd.$mode.log)"
	log "$mode: flowpathd $FP_PID, SNMP on udp:127.0.0.1:$SNMP_PORT, collector 127.0.0.1:$FP_PORT"
}

# phase: seconds into the current 10 s interval (wall clock, as flowpathd aligns them)
phase() { echo $(( $(date +%s) % 10 )); }
wait_phase_below() {	# S: until the phase is in [1, S)
	local i p
	for ((i = 0; i < 150; i++)); do
		p=$(phase)
		(( p >= 1 && p < $1 )) && return 0
		sleep 0.1
	done
	return 1
}

# feed: FEEDS x RECORDS records, v5, one exporter
feed() {
	local i
	for ((i = 1; i <= FEEDS; i++)); do
		"$GEN" --dest "127.0.0.1:$FP_PORT" --version 5 --keys "$GEN_KEYS" --skew "$GEN_SKEW" \
			--records "$RECORDS" --rate "$GEN_RATE" --seed "$i" --batch \
			>"$OUT/gen.$i.txt" 2>"$OUT/gen.$i.err" || die "flowpath-gen failed: $(cat "$OUT/gen.$i.err")"
	done
}

# timed_walk NAME OID...: one snmpbulkwalk per OID, in turn; prints "seconds values rows"
timed_walk() {
	local t0 t1 f=$OUT/walk.$1.txt name=$1 oid
	shift
	: >"$f"
	t0=$(date +%s.%N)
	for oid in "$@"; do
		snmpbulkwalk -v2c -c public -t "$TIMEOUT" -r 0 -On -Oq -Cr"$REPS" "127.0.0.1:$SNMP_PORT" "$oid" >>"$f" 2>>"$f.err"
	done
	t1=$(date +%s.%N)
	awk -v t0="$t0" -v t1="$t1" -v col="$COL_OCTETS." '
		/^\./ { v++ }
		index($1, col) == 1 { r++ }
		END { printf "%.3f %d %d\n", t1 - t0, v, r }' "$f"
}

RESULTS=$OUT/results.txt
: > "$RESULTS"
{
	echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(grep -c ^processor /proc/cpuinfo) cpus, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), kernel $(uname -r)"
	echo "# flowpathd $("$FLOWPATHD" -V 2>&1 | head -1) ($FLOWPATHD), source $(git -C "$SRC" rev-parse --short HEAD 2>/dev/null)"
	echo "# $("$SNMPD" -v 2>&1 | grep -m1 -i 'version'); -Cr$REPS; top $ROWS capacity $CAPACITY; feed ${FEEDS}x$RECORDS v5 records, $GEN_KEYS keys, skew $GEN_SKEW"
	echo "# load: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee -a "$RESULTS"

for mode in $MODES; do
	start_mode "$mode"
	for ((rep = 1; rep <= REPEATS; rep++)); do
		wait_phase_below 4 || die "clock phase not reached"
		end0=$(get "$OID_END")
		feed
		wait_for "[[ \"\$(get $OID_END)\" != '$end0' && -n \"\$(get $OID_END)\" ]]" 150 ||
			die "the interval did not close"
		end1=$(get "$OID_END")
		keys=$(get "$OID_KEYS") ev=$(get "$OID_EVICT") flows=$(get "$OID_FLOWS")
		read -r s1 v1 r1 <<<"$(timed_walk "$mode.column.$rep" "$COL_OCTETS")"
		read -r s2 v2 r2 <<<"$(timed_walk "$mode.4col.$rep" "$TOP.2" "$TOP.3" "$TOP.4" "$COL_OCTETS")"
		end2=$(get "$OID_END")
		s3=0 v3=0 r3=0
		if [[ "${TABLE:-0}" == 1 ]]; then
			read -r s3 v3 r3 <<<"$(timed_walk "$mode.table.$rep" "$TOP")"
		fi
		same=yes
		[[ "$end1" == "$end2" ]] || same=no
		awk -v m="$mode" -v rep="$rep" -v s1="$s1" -v v1="$v1" -v r1="$r1" -v s2="$s2" \
		    -v v2="$v2" -v r2="$r2" -v keys="$keys" -v ev="$ev" -v flows="$flows" \
		    -v same="$same" -v want="$ROWS" -v s3="$s3" -v v3="$v3" -v r3="$r3" 'BEGIN {
			printf "walk mode=%s rep=%d interval_flows=%s interval_keys=%s evictions=%s " \
			    "column_s=%.3f column_values=%d column_rows=%d column_values_per_s=%.0f " \
			    "table_s=%.3f table_values=%d table_rows=%d table_values_per_s=%.0f " \
			    "same_interval=%s rows_ok=%s",
			    m, rep, flows, keys, ev, s1, v1, r1, (s1 > 0 ? v1 / s1 : 0),
			    s2, v2, r2, (s2 > 0 ? v2 / s2 : 0), same,
			    (r1 == want && r2 == want && v2 == 4 * want && same == "yes") ? "yes" : "NO"
			if (s3 > 0)
				printf " whole_s=%.3f whole_values=%d whole_rows=%d whole_values_per_s=%.0f",
				    s3, v3, r3, v3 / s3
			printf "\n" }' | tee -a "$RESULTS"
	done
	cleanup
done

awk '
function median(s,   a, n, i, j, t) {
	n = split(s, a, " ")
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
/^walk / {
	delete f
	for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
	m = f["mode"]; modes[m] = 1
	cs[m] = cs[m] " " f["column_s"]; cv[m] = cv[m] " " f["column_values_per_s"]
	ts[m] = ts[m] " " f["table_s"]; tv[m] = tv[m] " " f["table_values_per_s"]
	tval[m] = f["table_values"]; n[m]++; if (f["rows_ok"] != "yes") bad[m]++
}
END {
	for (m in modes) {
		printf "summary mode=%s runs=%d column_s=%.3f column_values_per_s=%.0f table_s=%.3f table_values=%d table_values_per_s=%.0f bad_runs=%d\n",
		    m, n[m], median(cs[m]), median(cv[m]), median(ts[m]), tval[m], median(tv[m]), bad[m] + 0
		mc[m] = median(cv[m]); mt[m] = median(tv[m])
	}
	if (("agentx" in modes) && ("standalone" in modes) && mc["agentx"] > 0 && mt["agentx"] > 0)
		printf "ratio standalone/agentx column %.1f table %.1f\n",
		    mc["standalone"] / mc["agentx"], mt["standalone"] / mt["agentx"]
}' "$RESULTS" | tee -a "$RESULTS"
log "raw: $RESULTS (walk outputs in $OUT)"
