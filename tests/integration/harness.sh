# shellcheck shell=bash disable=SC2034,SC2119,SC2120
# (SC2034: variables are for the tests that source this file)
#
# Flowpath integration-test harness (bash library, to be sourced).
#
# Real parts only: a private snmpd master on a loopback UDP port, a private
# snmptrapd, the real net-snmp command-line clients, and the flowpathd binary
# from the build tree. Nothing here reads /etc/snmp, ~/.snmp or
# /var/lib/snmp, and all traffic stays on 127.0.0.1.
#
# Typical test:
#
#   . "$top_srcdir/tests/integration/harness.sh"
#   fp_require_tools          # exit 77 when snmpd & co are missing
#   fp_setup                  # temp dir + cleanup trap
#   fp_start_snmpd            # master on 127.0.0.1:$FP_SNMPD_PORT
#   fp_write_conf "$FP_DIR/fp.conf"
#   fp_start_flowpathd "$FP_DIR/fp.conf"
#   fp_wait_for "fp_get $FP_OID_SYS.1.0" 10 || ...
#   fp_assert_eq "version" "$(fp_get $FP_OID_SYS.1.0)" "$want"
#   fp_finish                 # stops everything, prints "N passed, N failed", exits
#
# Exit codes (automake): 0 pass, 1 fail, 77 skip, 99 hard error (fp_bail).
#
# Variables a test may read:
#   FP_DIR            private temp dir (kept with FP_KEEP=1)
#   FP_SNMPD_PORT     UDP port of the private master
#   FP_AGENTX         AgentX address of the master ("unix:PATH" or "tcp:127.0.0.1:PORT")
#   FP_TRAP_PORT      UDP port of the private snmptrapd (snmpd's trap2sink)
#   FP_TRAP_LOG       one line per received trap: "TRAP <source> <varbinds>"
#   FP_FLOWPATHD      path of the flowpathd binary
#   FP_FLOWPATHD_PID  PID of the running flowpathd (empty when none)
#   FP_FLOWPATHD_LOG  its stderr (flowpathd.log, then flowpathd-2.log ... per start)
#   FP_OID_ROOT       .1.3.6.1.4.1.8072.9999.9999.1 (flowpathMIB)
#   FP_OID_SYS        $FP_OID_ROOT.1.1 (fpSystem scalars)
#
# Tunables: FP_KEEP=1 keeps the temp dir (FP_KEEP_ON_FAIL=1: only when the
# test fails), FP_SNMP_TIMEOUT / FP_SNMP_RETRIES for the clients (1 s, 1),
# FP_FLOWPATHD for another binary, FP_GEN for another flowpath-gen
# (fp_require_gen), FLOWPATH_MIBDIRS for fp_mib_opts.

FP_OID_ROOT=.1.3.6.1.4.1.8072.9999.9999.1
FP_OID_SYS=$FP_OID_ROOT.1.1
FP_OID_SYSUPTIME=.1.3.6.1.2.1.1.3.0

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${SNMPD:=}"
: "${SNMPTRAPD:=}"
FP_FLOWPATHD=${FP_FLOWPATHD:-$top_builddir/flowpathd}

FP_PASS=0
FP_FAIL=0
FP_DIR=
FP_PIDS=()		# every process we started and have not reaped yet
declare -A FP_PIDNAME=()
FP_SNMPD_PID=
FP_SNMPD_PORT=
FP_AGENTX=
FP_TRAPD_PID=
FP_TRAP_PORT=
FP_TRAP_LOG=
FP_FLOWPATHD_PID=
FP_FLOWPATHD_LOG=
FP_FLOWPATHD_STARTS=0
FP_PORTS_USED=" "
FP_CLEANED=0
FP_SNMP_TIMEOUT=${FP_SNMP_TIMEOUT:-1}	# seconds per request, clients
FP_SNMP_RETRIES=${FP_SNMP_RETRIES:-1}

# ---------------------------------------------------------------- output

fp_log() { printf '# %s\n' "$*"; }
fp_diag() { printf '# %s\n' "$*" >&2; }

fp_ok() { FP_PASS=$((FP_PASS + 1)); printf 'ok - %s\n' "$1"; }
fp_not_ok() {
	FP_FAIL=$((FP_FAIL + 1))
	printf 'not ok - %s\n' "$1"
	shift
	local l
	for l in "$@"; do printf '#   %s\n' "$l"; done
}

# fp_skip REASON: exit 77 (automake SKIP).
fp_skip() { printf 'SKIP: %s\n' "$*"; exit 77; }

# fp_bail REASON: the harness itself could not do its job (exit 99, ERROR).
fp_bail() {
	printf 'Bail out! %s\n' "$*"
	fp__dump_logs
	exit 99
}

# ---------------------------------------------------------------- assertions

# fp_assert DESC CMD...: passes when CMD succeeds.
fp_assert() {
	local desc=$1; shift
	if "$@"; then fp_ok "$desc"; return 0; fi
	fp_not_ok "$desc" "command failed: $*"
	return 1
}

# fp_assert_eq DESC GOT WANT
fp_assert_eq() {
	if [[ "$2" == "$3" ]]; then fp_ok "$1"; return 0; fi
	fp_not_ok "$1" "got:  '$2'" "want: '$3'"
	return 1
}

# fp_assert_ne DESC GOT UNWANTED
fp_assert_ne() {
	if [[ "$2" != "$3" ]]; then fp_ok "$1"; return 0; fi
	fp_not_ok "$1" "got '$2', expected anything else"
	return 1
}

# fp_assert_match DESC STRING ERE  (bash =~, extended regex, unanchored)
fp_assert_match() {
	if [[ "$2" =~ $3 ]]; then fp_ok "$1"; return 0; fi
	fp_not_ok "$1" "got:   '$2'" "match: /$3/"
	return 1
}

# fp_assert_gt DESC A B  (integers: A > B)
fp_assert_gt() {
	if [[ "$2" =~ ^-?[0-9]+$ && "$3" =~ ^-?[0-9]+$ ]] && (( $2 > $3 )); then
		fp_ok "$1"; return 0
	fi
	fp_not_ok "$1" "expected '$2' > '$3'"
	return 1
}

# fp_assert_eventually DESC OID WANT [TIMEOUT]: fp_get OID becomes WANT
# within TIMEOUT seconds (default 5).
fp_assert_eventually() {
	if fp_wait_for "[ \"\$(fp_get $2)\" = '$3' ]" "${4:-5}"; then
		fp_ok "$1"; return 0
	fi
	fp_not_ok "$1" "got '$(fp_get "$2")', want '$3' within ${4:-5} s"
	return 1
}

# fp_assert_file_match DESC FILE ERE  (grep -E on FILE)
fp_assert_file_match() {
	if [[ -f "$2" ]] && grep -Eq -- "$3" "$2"; then fp_ok "$1"; return 0; fi
	fp_not_ok "$1" "no line of '$2' matches /$3/"
	return 1
}

# ---------------------------------------------------------------- setup

# fp_require_tools [extra commands...]: skip (77) when a needed tool is missing.
fp_require_tools() {
	local c
	# scripts/check runs the integration tests in `make check`; the second
	# run inside `make distcheck` only proves the tarball builds and tests.
	[[ -z "${FP_SKIP_INTEGRATION:-}" ]] || fp_skip "FP_SKIP_INTEGRATION is set (they ran in make check)"
	for c in snmpget snmpwalk snmpbulkwalk snmptrap ss setsid pgrep "$@"; do
		command -v "$c" >/dev/null 2>&1 || fp_skip "'$c' not found (install snmp / iproute2)"
	done
	if [[ -z "$SNMPD" ]]; then SNMPD=$(command -v snmpd || PATH=$PATH:/usr/sbin:/sbin command -v snmpd || true); fi
	if [[ -z "$SNMPTRAPD" ]]; then SNMPTRAPD=$(command -v snmptrapd || PATH=$PATH:/usr/sbin:/sbin command -v snmptrapd || true); fi
	[[ -n "$SNMPD" && -x "$SNMPD" ]] || fp_skip "snmpd not found (install the Debian package snmpd)"
	[[ -n "$SNMPTRAPD" && -x "$SNMPTRAPD" ]] || fp_skip "snmptrapd not found (install the Debian package snmptrapd)"
}

# fp_require_flowpathd: hard error when the binary under test is missing.
fp_require_flowpathd() {
	[[ -x "$FP_FLOWPATHD" ]] || fp_bail "flowpathd not built: $FP_FLOWPATHD"
}

# fp_require_gen: GEN is the exporter tools/flowpath-gen (FP_GEN for
# another); hard error when it is missing.
fp_require_gen() {
	GEN=${FP_GEN:-$top_builddir/tools/flowpath-gen}
	[[ -x "$GEN" ]] || fp_bail "flowpath-gen not built: $GEN"
}

# fp_setup: private temp dir, isolated net-snmp environment, cleanup trap.
fp_setup() {
	FP_DIR=$(mktemp -d "${TMPDIR:-/tmp}/fp-it.XXXXXX") || fp_bail "mktemp -d failed"
	FP_DIR=$(cd "$FP_DIR" && pwd -P)	# names compare equal to realpath(3) output
	mkdir -p "$FP_DIR/persist" "$FP_DIR/snmpconf" "$FP_DIR/nomibs" || fp_bail "mkdir in $FP_DIR failed"
	chmod 0700 "$FP_DIR"
	# Every net-snmp program we run (snmpd, snmptrapd, the clients, and
	# flowpathd itself) reads its .conf files only from an empty directory,
	# keeps persistent state in the temp dir and loads no MIB files.
	export SNMPCONFPATH=$FP_DIR/snmpconf
	export SNMP_PERSISTENT_DIR=$FP_DIR/persist
	export MIBDIRS=$FP_DIR/nomibs
	export MIBS=
	trap 'fp__on_exit' EXIT
	trap 'fp__on_signal 130' INT
	trap 'fp__on_signal 143' TERM
	fp_free_port FP_TRAP_PORT || fp_bail "no free UDP port for snmptrapd"
	FP_TRAP_LOG=$FP_DIR/traps.log
	fp_log "harness dir: $FP_DIR"
}

fp__on_signal() {
	fp_diag "interrupted"
	exit "$1"	# runs the EXIT trap
}

fp__on_exit() {
	local rc=$?
	trap - EXIT INT TERM
	if [[ $FP_CLEANED -eq 0 ]]; then
		fp_cleanup_processes || { [[ $rc -eq 0 ]] && rc=1; }
	fi
	if [[ -n "$FP_DIR" && -d "$FP_DIR" ]]; then
		if [[ "${FP_KEEP:-0}" == 1 || ( $rc -ne 0 && $rc -ne 77 && "${FP_KEEP_ON_FAIL:-0}" == 1 ) ]]; then
			fp_diag "kept test directory: $FP_DIR"
		else
			rm -rf -- "$FP_DIR"
		fi
	fi
	exit "$rc"
}

# fp_free_port [VAR]: a loopback port in 20000-60000 that is free for both
# UDP and TCP right now (ss) and that this harness has not handed out before.
# With VAR the port is stored in VAR (and remembered, so the next call picks
# another one); without, it is printed (call it in the main shell with VAR
# when you need several distinct ports: $(...) cannot remember).
fp_free_port() {
	local i p
	for ((i = 0; i < 50; i++)); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 40001))
		[[ "$FP_PORTS_USED" == *" $p "* ]] && continue
		if ss -Hlnut "( sport = :$p )" 2>/dev/null | grep -q .; then continue; fi
		FP_PORTS_USED+="$p "
		if [[ $# -gt 0 ]]; then printf -v "$1" '%s' "$p"; else echo "$p"; fi
		return 0
	done
	return 1
}

# ---------------------------------------------------------------- processes

fp__alive() {	# running and not a zombie
	local pid=$1 st
	[[ -n "$pid" && -r /proc/$pid/stat ]] || return 1
	st=$(sed -E 's/^.*\) (.).*$/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
	[[ -n "$st" && "$st" != Z && "$st" != X ]]
}

fp__track() { FP_PIDS+=("$1"); FP_PIDNAME[$1]=$2; }

fp__untrack() {
	local p out=()
	for p in "${FP_PIDS[@]}"; do [[ "$p" != "$1" ]] && out+=("$p"); done
	FP_PIDS=("${out[@]}")
	unset 'FP_PIDNAME[$1]'
}

# fp__wait_exit PID SECONDS: polls (every 0.1 s) until PID is gone or zombie.
fp__wait_exit() {
	local pid=$1 n=$(( $2 * 10 )) i
	for ((i = 0; i < n; i++)); do
		fp__alive "$pid" || return 0
		sleep 0.1
	done
	! fp__alive "$pid"
}

# Each process is started with setsid, so it leads its own process group:
# KILL the group, which also takes any children it forked.
fp__kill_group() {
	local pid=$1
	if [[ "$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')" == "$pid" ]]; then
		kill -s KILL -- "-$pid" 2>/dev/null
	else
		kill -s KILL "$pid" 2>/dev/null
	fi
}

# fp_stop_pid PID [SIGNAL] [SECONDS]: signal (TERM), wait bounded, KILL if
# needed, reap; returns the exit status (or 128+n for a signal).
fp_stop_pid() {
	local pid=$1 sig=${2:-TERM} secs=${3:-5} rc
	[[ -n "$pid" ]] || return 0
	kill -s "$sig" "$pid" 2>/dev/null
	if ! fp__wait_exit "$pid" "$secs"; then
		fp_diag "${FP_PIDNAME[$pid]:-process} $pid ignored SIG$sig for ${secs}s, sending KILL"
		fp__kill_group "$pid"
		fp__wait_exit "$pid" 2
	fi
	if fp__alive "$pid"; then
		fp_diag "${FP_PIDNAME[$pid]:-process} $pid survived SIGKILL"
		return 125
	fi
	wait "$pid" 2>/dev/null	# reaps; cannot block, it has exited
	rc=$?
	# children it left in its process group (started by us, so ours)
	if pgrep -g "$pid" >/dev/null 2>&1; then
		fp_diag "${FP_PIDNAME[$pid]:-process} $pid left children: $(pgrep -g "$pid" | tr '\n' ' ')"
		kill -s KILL -- "-$pid" 2>/dev/null
	fi
	fp__untrack "$pid"
	return "$rc"
}

# fp_cleanup_processes: stop everything we started; assert none is left.
# fp__stop_var VAR SIGNAL: stops the process whose PID is in VAR (bounded
# wait of 5 s, then KILL), clears VAR and returns the process's exit status.
fp__stop_var() {
	local -n pidvar=$1
	local rc
	[[ -n "$pidvar" ]] || return 0
	fp_stop_pid "$pidvar" "$2" 5
	rc=$?
	pidvar=
	return $rc
}

fp_cleanup_processes() {
	local pid left=() ok=0
	FP_CLEANED=1
	for pid in "${FP_PIDS[@]}"; do
		fp_stop_pid "$pid" TERM 5 >/dev/null 2>&1
	done
	for pid in "${!FP_PIDNAME[@]}"; do fp__alive "$pid" && left+=("$pid ${FP_PIDNAME[$pid]}"); done
	# A process we started may have daemonized and left only its PID file;
	# it is ours when its command line names our private directory.
	local f p
	for f in "$FP_DIR"/*.pid; do
		[[ -f "$f" ]] || continue
		p=$(head -n1 "$f" 2>/dev/null | tr -dc 0-9)
		if [[ -z "$p" ]] || ! fp__alive "$p"; then continue; fi
		[[ "$(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null)" == *"$FP_DIR"* ]] || continue
		fp_diag "stopping $p from $f"
		kill -s TERM "$p" 2>/dev/null
		fp__wait_exit "$p" 5 || kill -s KILL "$p" 2>/dev/null
		fp__wait_exit "$p" 2 || left+=("$p (from $f)")
	done
	if [[ ${#left[@]} -gt 0 ]]; then
		printf 'not ok - no process left behind\n'
		printf '#   still running: %s\n' "${left[@]}"
		FP_FAIL=$((FP_FAIL + 1))
		ok=1
	fi
	FP_PIDS=()
	return $ok
}

# fp_finish: stop everything (asserting none is left), print the summary,
# exit 0 when every assertion passed, 1 otherwise.
fp_finish() {
	if fp_cleanup_processes; then fp_ok "no process started by the test is left running"; fi
	printf '%d passed, %d failed\n' "$FP_PASS" "$FP_FAIL"
	if [[ $FP_FAIL -ne 0 ]]; then
		fp__dump_logs
		exit 1
	fi
	exit 0
}

# fp_running_pids: the PIDs the harness started and still tracks.
fp_running_pids() {
	local p
	for p in "${FP_PIDS[@]}"; do fp__alive "$p" && echo "$p ${FP_PIDNAME[$p]}"; done
}

fp__dump_logs() {
	local f
	[[ -n "$FP_DIR" && -d "$FP_DIR" ]] || return 0
	for f in "$FP_DIR"/flowpathd*.log "$FP_DIR"/snmpd.log; do
		[[ -s "$f" ]] || continue
		printf '# ---- last lines of %s\n' "$f"
		grep -v '^Connection from ' "$f" | tail -n 25 | sed 's/^/#   /'
	done
}

# fp_wait_for CMD TIMEOUT [INTERVAL]: runs CMD (a string, eval'd) until it
# succeeds; at most TIMEOUT seconds and TIMEOUT/INTERVAL+1 tries.
fp_wait_for() {
	local cmd=$1 timeout=${2:-10} interval=${3:-0.2} tries i deadline
	tries=$(awk -v t="$timeout" -v i="$interval" 'BEGIN { n = int(t / i) + 1; print (n < 1 ? 1 : n) }')
	deadline=$(( SECONDS + ${timeout%.*} + 1 ))
	for ((i = 0; i < tries; i++)); do
		if eval "$cmd" >/dev/null 2>&1; then return 0; fi
		(( SECONDS >= deadline )) && break
		sleep "$interval"
	done
	return 1
}

# ---------------------------------------------------------------- snmpd

# fp_prepare_snmpd [--agentx unix|tcp] [--conf-extra TEXT]
# Picks a free loopback UDP port ($FP_SNMPD_PORT) and the AgentX address
# ($FP_AGENTX: unix:$FP_DIR/agentx.sock, or tcp:127.0.0.1:<free port>) and
# writes $FP_DIR/snmpd.conf, without starting snmpd: a test can start a
# subagent first. --conf-extra appends snmpd.conf lines.
fp_prepare_snmpd() {
	local mode=unix extra=
	while [[ $# -gt 0 ]]; do
		case $1 in
		--agentx) mode=$2; shift 2 ;;
		--conf-extra) extra=$2; shift 2 ;;
		*) fp_bail "fp_prepare_snmpd: unknown option $1" ;;
		esac
	done
	[[ -n "$FP_DIR" ]] || fp_bail "fp_prepare_snmpd before fp_setup"
	[[ -z "$FP_SNMPD_PID" ]] || fp_bail "fp_prepare_snmpd: snmpd is running ($FP_SNMPD_PID)"
	fp_free_port FP_SNMPD_PORT || fp_bail "no free UDP port for snmpd"
	case $mode in
	unix) FP_AGENTX=unix:$FP_DIR/agentx.sock ;;
	tcp) local ap; fp_free_port ap || fp_bail "no free TCP port for AgentX"
	     FP_AGENTX=tcp:127.0.0.1:$ap ;;
	*) fp_bail "fp_prepare_snmpd: --agentx unix|tcp, not '$mode'" ;;
	esac
	cat > "$FP_DIR/snmpd.conf" <<EOF
# generated by tests/integration/harness.sh
[snmp] persistentDir $FP_DIR/persist
[snmp] noPersistentLoad yes
[snmp] noPersistentSave yes
master agentx
agentXSocket $FP_AGENTX
# socket mode 0600, directories 0700: only our own uid can connect
agentXPerms 0600 0700
# a stuck subagent costs at most 1 s x 2 tries per request
agentXTimeout 1
agentXRetries 2
rocommunity public 127.0.0.1
trap2sink 127.0.0.1:$FP_TRAP_PORT public
sysLocation flowpath integration test
sysContact nobody
dontLogTCPWrappersConnects yes
$extra
EOF
}

# fp_start_snmpd [fp_prepare_snmpd options]
# Starts the private master (-f -C: no system config) and waits (<= 10 s)
# until it answers sysUpTime.0; bails (99) if not. With options, or when
# nothing is prepared yet, calls fp_prepare_snmpd first; without options it
# reuses the prepared port and AgentX address (a restart).
fp_start_snmpd() {
	local try
	[[ -z "$FP_SNMPD_PID" ]] || fp_bail "fp_start_snmpd: snmpd already running ($FP_SNMPD_PID)"
	if [[ $# -eq 0 && -n "$FP_SNMPD_PORT" ]]; then
		# restart: the same port and AgentX address, or nothing
		fp__launch_snmpd || fp_bail "snmpd did not come back on 127.0.0.1:$FP_SNMPD_PORT ($FP_AGENTX)"
		return 0
	fi
	# fresh ports: another program may take a port between our check and
	# snmpd's bind(), so try up to 3 times with new ones.
	for try in 1 2 3; do
		fp_prepare_snmpd "$@"
		fp__launch_snmpd && return 0
		fp_diag "snmpd failed on udp:127.0.0.1:$FP_SNMPD_PORT / $FP_AGENTX (try $try)"
	done
	fp_bail "snmpd did not start (see $FP_DIR/snmpd.log)"
}

# fp__launch_snmpd: start snmpd with the prepared snmpd.conf; wait up to 10 s
# for sysUpTime.0; returns 1 (snmpd stopped) when it does not answer.
fp__launch_snmpd() {
	local i
	rm -f "$FP_DIR/snmpd.pid"
	[[ "$FP_AGENTX" == unix:* ]] && rm -f "${FP_AGENTX#unix:}"
	setsid "$SNMPD" -f -Lf "$FP_DIR/snmpd.log" -C -c "$FP_DIR/snmpd.conf" \
		-p "$FP_DIR/snmpd.pid" "udp:127.0.0.1:$FP_SNMPD_PORT" </dev/null >>"$FP_DIR/snmpd.out" 2>&1 &
	FP_SNMPD_PID=$!
	fp__track "$FP_SNMPD_PID" snmpd
	for ((i = 0; i < 100; i++)); do	# <= 100 x (0.1 s + a 0.1 s query)
		fp__alive "$FP_SNMPD_PID" || break
		if FP_SNMP_TIMEOUT=0.1 FP_SNMP_RETRIES=0 fp_snmpd_up; then
			fp_log "snmpd $FP_SNMPD_PID on udp:127.0.0.1:$FP_SNMPD_PORT, agentx $FP_AGENTX"
			return 0
		fi
		sleep 0.1
	done
	fp__dump_logs >&2
	fp_stop_snmpd >/dev/null 2>&1
	return 1
}

# fp_stop_snmpd: TERM, bounded wait, returns snmpd's exit status.
fp_stop_snmpd() { fp__stop_var FP_SNMPD_PID TERM; }

# fp_restart_snmpd: stop and start again on the same port, same AgentX socket.
fp_restart_snmpd() {
	fp_stop_snmpd
	fp_start_snmpd
}

# fp_snmpd_up: does the master answer right now?
fp_snmpd_up() { fp_snmp snmpget -Oqv "$FP_OID_SYSUPTIME" >/dev/null 2>&1; }

# ---------------------------------------------------------------- clients

# fp_snmp TOOL [options] OID...: any net-snmp client against our master,
# numeric OIDs, no MIBs, bounded timeout/retries. Every argument starting
# with "-" is an option and must carry its value glued to it ("-Cr10",
# "-Ox"); the others are OIDs.
fp_snmp() {
	local tool=$1; shift
	local opts=() oids=()
	while [[ $# -gt 0 ]]; do
		case $1 in -*) opts+=("$1") ;; *) oids+=("$1") ;; esac
		shift
	done
	"$tool" -v2c -c public -t "$FP_SNMP_TIMEOUT" -r "$FP_SNMP_RETRIES" -On "${opts[@]}" \
		"127.0.0.1:$FP_SNMPD_PORT" "${oids[@]}"
}

# fp__unquote: strips net-snmp's quotes from a -Oqv string value.
fp__unquote() {
	local v=$1
	if [[ ${#v} -ge 2 && "$v" == \"*\" ]]; then
		v=${v:1:${#v}-2}
		v=${v//\\\"/\"}
		v=${v//\\\\/\\}
	fi
	printf '%s' "$v"
}

fp__is_error_value() {
	[[ "$1" == "No Such Object available"* || "$1" == "No Such Instance currently exists"* ||
	   "$1" == "No more variables left in this MIB View"* ]]
}

# fp_get OID: prints the bare value (strings unquoted, TimeTicks as a number,
# everything else as net-snmp prints it with -Oqv). Returns 1 (printing
# nothing) on timeout, error, noSuchObject/noSuchInstance.
fp_get() {
	local out
	out=$(fp_snmp snmpget -Oqvt -Oe "$1" 2>/dev/null) || return 1
	fp__is_error_value "$out" && return 1
	fp__unquote "$out"
	echo
}

# fp_walk OID / fp_bulkwalk OID: prints "OID VALUE" lines (numeric OID, value
# as in fp_get but strings keep their quotes). Returns 1 when the subtree is
# empty or the agent does not answer.
fp_walk() { fp__walk snmpwalk "$@"; }
fp_bulkwalk() { fp__walk snmpbulkwalk "$@"; }
fp__walk() {
	local tool=$1 oid=$2 out
	out=$(fp_snmp "$tool" -Oqt -Oe "$oid" 2>/dev/null) || return 1
	[[ -n "$out" ]] || return 1
	[[ "$(head -n1 <<<"$out")" == *" No Such Object available"* ||
	   "$(head -n1 <<<"$out")" == *" No Such Instance currently exists"* ||
	   "$(head -n1 <<<"$out")" == *" No more variables left"* ]] && return 1
	printf '%s\n' "$out"
}

# fp_walk_value WALK_OUTPUT OID: the (unquoted) value of OID in a walk output.
fp_walk_value() {
	local line
	line=$(grep -E -m1 "^${2//./\\.} " <<<"$1") || return 1
	fp__unquote "${line#"$2 "}"
	echo
}

# fp_name_index NAME: the OID index of an SnmpAdminString table key that is
# not IMPLIED (fpAggName, fpProbeName): the length, then each octet.
fp_name_index() {
	local s=$1 i out=${#1}
	for ((i = 0; i < ${#s}; i++)); do out+=".$(printf '%d' "'${s:i:1}")"; done
	echo "$out"
}

# fp_row_gets ENTRY NAME COLUMN...: the columns of one row of a table indexed
# by a name (fp_name_index) in one GET, so that they come from one snapshot;
# the values each followed by a space.
fp_row_gets() {
	local entry=$1 idx c oids=()
	idx=$(fp_name_index "$2")
	shift 2
	for c in "$@"; do oids+=("$entry.$c.$idx"); done
	fp_snmp snmpget -Oqv "${oids[@]}" 2>/dev/null | tr '\n' ' '
}

# fp_subtree_present: is anything served under flowpathMIB?
fp_subtree_present() { fp_walk "$FP_OID_ROOT" >/dev/null; }

# fp_mib_opts: client options to use MIB names (for tests that want them);
# prints nothing when the shared MIB dir (FLOWPATH_MIBDIRS, default
# $top_srcdir/../shared/mibs) is not there.
fp_mib_opts() {
	local d=${FLOWPATH_MIBDIRS:-$top_srcdir/../shared/mibs}
	[[ -d "$d" ]] || return 0
	# -m with the explicit list, not "+FLOWPATH-MIB": "+" also pulls in the
	# default module list, most of which this host does not have.
	# One option per line, value glued (-Mdir): usable with fp_snmp and as
	#   mapfile -t opts < <(fp_mib_opts); snmpwalk "${opts[@]}" ...
	printf '%s\n' "-M$d:/usr/share/snmp/mibs:$top_srcdir/mibs" "-mSNMPv2-MIB:FLOWPATH-MIB"
}

# ---------------------------------------------------------------- snmptrapd

# fp_start_trapsink: snmptrapd on 127.0.0.1:$FP_TRAP_PORT (snmpd's
# trap2sink), one line per trap in $FP_TRAP_LOG:
#   TRAP <source> <oid> = <value>\t<oid> = <value>...
fp_start_trapsink() {
	[[ -n "$FP_DIR" ]] || fp_bail "fp_start_trapsink before fp_setup"
	[[ -n "$FP_TRAPD_PID" ]] && return 0
	cat > "$FP_DIR/snmptrapd.conf" <<EOF
# generated by tests/integration/harness.sh
[snmp] persistentDir $FP_DIR/persist
[snmp] noPersistentLoad yes
[snmp] noPersistentSave yes
authCommunity log public
EOF
	: > "$FP_TRAP_LOG"
	setsid "$SNMPTRAPD" -f -Lf "$FP_TRAP_LOG" -n -On -C -c "$FP_DIR/snmptrapd.conf" -X \
		-p "$FP_DIR/snmptrapd.pid" -F 'TRAP %B %v\n' \
		"udp:127.0.0.1:$FP_TRAP_PORT" </dev/null >>"$FP_DIR/snmptrapd.out" 2>&1 &
	FP_TRAPD_PID=$!
	fp__track "$FP_TRAPD_PID" snmptrapd
	fp_wait_for "fp__alive $FP_TRAPD_PID && ss -Hlnu '( sport = :$FP_TRAP_PORT )' | grep -q ." 10 0.1 ||
		fp_bail "snmptrapd did not bind 127.0.0.1:$FP_TRAP_PORT within 10 s"
	fp_log "snmptrapd $FP_TRAPD_PID on udp:127.0.0.1:$FP_TRAP_PORT, traps in $FP_TRAP_LOG"
}

fp_stop_trapsink() { fp__stop_var FP_TRAPD_PID TERM; }

# fp_wait_trap ERE [TIMEOUT]: waits until a "TRAP ..." line matches ERE;
# prints the line.
fp_wait_trap() {
	local re=$1 timeout=${2:-10}
	if fp_wait_for "grep -E '^TRAP .*$re' \"\$FP_TRAP_LOG\"" "$timeout" 0.1; then
		grep -E -m1 "^TRAP .*$re" "$FP_TRAP_LOG"
		return 0
	fi
	return 1
}

# fp_send_trap [OID [varbind triples...]]: v2c trap straight to our snmptrapd.
fp_send_trap() {
	local oid=${1:-.1.3.6.1.6.3.1.1.5.1}
	shift || true
	snmptrap -v2c -c public -On "127.0.0.1:$FP_TRAP_PORT" '' "$oid" "$@"
}

# ---------------------------------------------------------------- flowpathd

# fp_write_conf FILE [EXTRA]: minimal flowpathd.conf for the harness master,
# EXTRA (libconfig text) appended. The agentx/daemon sections use lines 1-9
# exactly as below, so tests can refer to line numbers after them (>= 10).
fp_write_conf() {
	local f=$1 extra=${2:-}
	cat > "$f" <<EOF
# flowpathd configuration written by tests/integration/harness.sh
agentx = {
  socket = "$FP_AGENTX";
  ping_interval = 1;
};
daemon = {
  pidfile = "$FP_DIR/flowpathd.pid";
  log_level = "debug";
};
EOF
	[[ -n "$extra" ]] && printf '%s\n' "$extra" >> "$f"
	return 0
}

# fp_start_flowpathd CONF [extra args]: flowpathd -f -c CONF in the background,
# stderr to $FP_FLOWPATHD_LOG. Returns 1 if it died within 0.3 s.
fp_start_flowpathd() {
	local conf=$1; shift
	[[ -z "$FP_FLOWPATHD_PID" ]] || fp_bail "fp_start_flowpathd: already running ($FP_FLOWPATHD_PID)"
	FP_FLOWPATHD_STARTS=$((FP_FLOWPATHD_STARTS + 1))
	if [[ $FP_FLOWPATHD_STARTS -eq 1 ]]; then FP_FLOWPATHD_LOG=$FP_DIR/flowpathd.log
	else FP_FLOWPATHD_LOG=$FP_DIR/flowpathd-$FP_FLOWPATHD_STARTS.log; fi
	setsid "$FP_FLOWPATHD" -f -c "$conf" "$@" </dev/null >>"$FP_DIR/flowpathd.out" 2>>"$FP_FLOWPATHD_LOG" &
	FP_FLOWPATHD_PID=$!
	fp__track "$FP_FLOWPATHD_PID" flowpathd
	sleep 0.3
	if ! fp__alive "$FP_FLOWPATHD_PID"; then
		fp_diag "flowpathd exited at start-up:"
		sed 's/^/#   /' "$FP_FLOWPATHD_LOG" >&2
		return 1
	fi
	return 0
}

# fp_stop_flowpathd [SIGNAL]: TERM (or SIGNAL), bounded wait (5 s, then
# KILL); returns flowpathd's exit status.
fp_stop_flowpathd() { fp__stop_var FP_FLOWPATHD_PID "${1:-TERM}"; }

# fp_signal_flowpathd SIGNAL
fp_signal_flowpathd() { kill -s "$1" "$FP_FLOWPATHD_PID"; }

# fp_flowpathd_alive
fp_flowpathd_alive() { fp__alive "$FP_FLOWPATHD_PID"; }
