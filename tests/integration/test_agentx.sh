#!/bin/bash
#
# Foundation integration test: flowpathd as an AgentX subagent of a real,
# private snmpd on loopback, checked with real snmpwalk/snmpbulkwalk/snmpget,
# plus the harness's own snmptrapd self-check.
#
#  1. flowpathd started before the master keeps running and registers once
#     the master appears;
#  2. the 9 fpSystem scalars, their values and types; bulkwalk == walk;
#  3. SIGHUP with a good file: reload counted, load time set, no error;
#  4. SIGHUP with a bad file: refused, counted, error "FILE:LINE: ..."
#     published and logged, old configuration kept, still answering;
#  5. master restarted (unix socket, then a TCP AgentX case): re-registration
#     by the same process, connects counted, no state lost;
#  6. fpSysUpTime advances;
#  7. SIGTERM: exit 0, PID file removed, nothing left running;
#  8. a trap sent with snmptrap reaches the harness's snmptrapd.
#
# Exit: 0 pass, 1 fail, 77 skip (no net-snmp tools), 99 harness error.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=harness.sh
. "$top_srcdir/tests/integration/harness.sh" || exit 99

fp_require_tools
fp_require_flowpathd
fp_setup

S=$FP_OID_SYS
OID_VERSION=$S.1.0
OID_START=$S.2.0
OID_UPTIME=$S.3.0
OID_CONFFILE=$S.4.0
OID_LOADTIME=$S.5.0
OID_RELOADS=$S.6.0
OID_RELOADFAIL=$S.7.0
OID_LASTERR=$S.8.0
OID_CONNECTS=$S.9.0

t0=$SECONDS

# ---------------------------------------------------------------- 8. traps
fp_start_trapsink
token="fp-selfcheck-$$-$RANDOM"
fp_send_trap .1.3.6.1.6.3.1.1.5.1 .1.3.6.1.2.1.1.5.0 s "$token" ||
	fp_not_ok "snmptrap sent the self-check trap"
if line=$(fp_wait_trap "$token" 5); then
	fp_assert_match "harness snmptrapd received the snmptrap self-check trap" \
		"$line" '\.1\.3\.6\.1\.6\.3\.1\.1\.4\.1\.0 = OID: \.1\.3\.6\.1\.6\.3\.1\.1\.5\.1'
else
	fp_not_ok "harness snmptrapd received the snmptrap self-check trap" "nothing in $FP_TRAP_LOG"
fi

# ------------------------------------------------------- 1. master absent
fp_prepare_snmpd --agentx unix
CONF=$FP_DIR/fp.conf
fp_write_conf "$CONF"

want_version=$("$FP_FLOWPATHD" -V 2>&1)
fp_assert_match "flowpathd -V prints 'flowpathd VERSION'" "$want_version" '^flowpathd [^ ]+$'
want_version=${want_version#flowpathd }

if ! fp_start_flowpathd "$CONF"; then
	fp_not_ok "flowpathd starts while no master is running"
	fp_finish
fi
sleep 1.5
fp_assert "flowpathd keeps running while the master is absent" fp_flowpathd_alive

fp_start_snmpd
if fp_wait_for fp_subtree_present 10; then
	fp_ok "subtree $FP_OID_ROOT appears after the master starts (within $((SECONDS - t0))s of test start)"
else
	fp_not_ok "subtree $FP_OID_ROOT appears within 10 s after the master starts"
	fp_finish
fi
pid1=$FP_FLOWPATHD_PID

# ---------------------------------------------------------------- 2. walk
walk=$(fp_walk "$FP_OID_ROOT")
bulk=$(fp_bulkwalk "$FP_OID_ROOT")
missing=
for i in 1 2 3 4 5 6 7 8 9; do
	grep -q "^${S//./\\.}\\.$i\\.0 " <<<"$walk" || missing+=" $i"
done
fp_assert_eq "snmpwalk returns all 9 fpSystem scalars (missing:${missing:- none})" "$missing" ""
fp_assert_eq "fpSysVersion equals flowpathd -V" "$(fp_walk_value "$walk" "$OID_VERSION")" "$want_version"
fp_assert_eq "fpSysConfigFile is the configuration path" "$(fp_walk_value "$walk" "$OID_CONFFILE")" "$CONF"
fp_assert_eq "fpSysAgentxConnects = 1" "$(fp_walk_value "$walk" "$OID_CONNECTS")" 1
fp_assert_eq "fpSysConfigReloads = 0 at start" "$(fp_walk_value "$walk" "$OID_RELOADS")" 0
fp_assert_eq "fpSysConfigReloadFailures = 0 at start" "$(fp_walk_value "$walk" "$OID_RELOADFAIL")" 0
fp_assert_eq "fpSysConfigLastError is empty at start" "$(fp_walk_value "$walk" "$OID_LASTERR")" ""
# fpSysUpTime moves between the two walks; everything else must be equal.
strip_uptime() { grep -v "^${OID_UPTIME//./\\.} "; }
fp_assert_eq "snmpbulkwalk returns what snmpwalk returns" \
	"$(strip_uptime <<<"$bulk")" "$(strip_uptime <<<"$walk")"

# Types, as the master reports them (no MIB loaded: base SMI types).
typed=$(fp_snmp snmpwalk "$FP_OID_ROOT" 2>&1)
typeok=1
for spec in "1:STRING" "2:Hex-STRING" "3:Timeticks" "4:STRING" "5:Hex-STRING" \
	"6:Counter32" "7:Counter32" "8:STRING" "9:Counter32"; do
	n=${spec%%:*} ty=${spec#*:}
	if ! grep -Eq "^${S//./\\.}\\.$n\\.0 = $ty: " <<<"$typed"; then
		# an empty string is printed as 'STRING: ' or '""'
		[[ $ty == STRING ]] && grep -Eq "^${S//./\\.}\\.$n\\.0 = \"\"$" <<<"$typed" && continue
		typeok=0
		fp_diag "type of $S.$n.0: want $ty, got: $(grep "^$S.$n.0 " <<<"$typed")"
	fi
done
fp_assert_eq "fpSystem scalars have the MIB's types (DateAndTime as 8/11 octets)" "$typeok" 1
for o in "$OID_START" "$OID_LOADTIME"; do
	v=$(fp_walk_value "$walk" "$o")
	fp_assert_match "$o is a DateAndTime (8 or 11 octets)" "$v" \
		'^([0-9A-F]{2} ){7}[0-9A-F]{2}( ([0-9A-F]{2} ){2}[0-9A-F]{2})? ?$'
done

# The daemon's OIDs are the MIB's: walk with FLOWPATH-MIB loaded, expect names.
mapfile -t mibopts < <(fp_mib_opts)
if [[ ${#mibopts[@]} -gt 0 && -s "$top_srcdir/mibs/FLOWPATH-MIB.txt" ]]; then
	named=$(fp_snmp snmpwalk -Os "${mibopts[@]}" "$FP_OID_ROOT" 2>/dev/null)
	absent=
	for name in fpSysVersion fpSysStartTime fpSysUpTime fpSysConfigFile fpSysConfigLoadTime \
		fpSysConfigReloads fpSysConfigReloadFailures fpSysConfigLastError fpSysAgentxConnects; do
		grep -q "^$name\\.0 = " <<<"$named" || absent+=" $name"
	done
	fp_assert_eq "walk with FLOWPATH-MIB names all 9 scalars (absent:${absent:- none})" "$absent" ""
else
	fp_log "FLOWPATH-MIB or the shared MIB dir not available: name check skipped"
fi

fp_assert "PID file holds flowpathd's PID" \
	test "$(tr -dc 0-9 < "$FP_DIR/flowpathd.pid" 2>/dev/null)" = "$FP_FLOWPATHD_PID"

# ---------------------------------------------------------------- 6. uptime
u1=$(fp_get "$OID_UPTIME")
sleep 1.1
u2=$(fp_get "$OID_UPTIME")
fp_assert_gt "fpSysUpTime increases ($u1 -> $u2)" "$u2" "$u1"

# ------------------------------------------------------ 3. good SIGHUP
load0=$(fp_get "$OID_LOADTIME")
sleep 1.1	# DateAndTime resolution is 0.1 s; make the change visible
fp_write_conf "$CONF" '# modified for the first reload
# (still valid)'
fp_signal_flowpathd HUP
fp_assert_eventually "good SIGHUP: fpSysConfigReloads becomes 1" "$OID_RELOADS" 1
load1=$(fp_get "$OID_LOADTIME")
fp_assert_match "fpSysConfigLoadTime is set after the reload" "$load1" '^[0-9A-F]{2}( [0-9A-F]{2}){7}'
fp_assert_ne "fpSysConfigLoadTime changes with the reload" "$load1" "$load0"
le=$(fp_get "$OID_LASTERR"); le_rc=$?
fp_assert_eq "fpSysConfigLastError is \"\" after a good reload" "rc=$le_rc '$le'" "rc=0 ''"
fp_assert_eq "fpSysConfigReloadFailures still 0" "$(fp_get "$OID_RELOADFAIL")" 0

# ------------------------------------------------------ 4. bad SIGHUP
# Line 10 (first line after the harness's 9 lines) holds an unknown setting.
fp_write_conf "$CONF" 'no_such_setting = 42;'
badline=$(grep -n '^no_such_setting' "$CONF" | cut -d: -f1)
check_out=$("$FP_FLOWPATHD" -t -c "$CONF" 2>&1)
check_rc=$?
fp_signal_flowpathd HUP
fp_assert_eventually "bad SIGHUP: fpSysConfigReloadFailures becomes 1" "$OID_RELOADFAIL" 1
lasterr=$(fp_get "$OID_LASTERR")
fp_assert_match "fpSysConfigLastError names $CONF:$badline: (got: $lasterr)" "$lasterr" \
	"^${CONF//./\\.}:$badline: "
fp_assert_match "fpSysConfigLastError names the setting" "$lasterr" 'no_such_setting'
fp_assert_file_match "flowpathd logged the refused reload's error" "$FP_FLOWPATHD_LOG" \
	"${CONF//./\\.}:$badline: .*no_such_setting"
fp_assert_eq "flowpathd -t on the same file exits 1" "$check_rc" 1
fp_assert_eq "fpSysConfigLastError is the first error flowpathd -t reports" \
	"$lasterr" "$(head -n1 <<<"$check_out")"
fp_assert "flowpathd survives the bad reload" fp_flowpathd_alive
fp_assert_eq "flowpathd still answers (fpSysVersion)" "$(fp_get "$OID_VERSION")" "$want_version"
fp_assert_eq "fpSysConfigReloads still 1" "$(fp_get "$OID_RELOADS")" 1
fp_assert_eq "fpSysConfigLoadTime unchanged (old configuration kept)" "$(fp_get "$OID_LOADTIME")" "$load1"

# ------------------------------------------ 5. master restart, unix socket
fp_stop_snmpd
fp_assert "master is down" eval '! fp_snmpd_up'
sleep 1.5	# a few ping intervals without a master
fp_assert "flowpathd keeps running while the master is down" fp_flowpathd_alive
fp_start_snmpd	# same port, same socket
if fp_wait_for fp_subtree_present 10; then
	fp_ok "subtree re-registered after the master restart (unix socket)"
else
	fp_not_ok "subtree re-registered within 10 s after the master restart (unix socket)"
fi
fp_assert_eq "same flowpathd process (no restart)" "$FP_FLOWPATHD_PID" "$pid1"
fp_assert "flowpathd is still running" fp_flowpathd_alive
fp_assert_eq "fpSysAgentxConnects = 2" "$(fp_get "$OID_CONNECTS")" 2
fp_assert_eq "fpSysConfigReloads kept (1)" "$(fp_get "$OID_RELOADS")" 1
fp_assert_eq "fpSysConfigReloadFailures kept (1)" "$(fp_get "$OID_RELOADFAIL")" 1
fp_assert_eq "fpSysConfigLastError kept" "$(fp_get "$OID_LASTERR")" "$lasterr"

# ---------------------------------------------------------------- 7. SIGTERM
fp_stop_flowpathd TERM
rc=$?
fp_assert_eq "SIGTERM: flowpathd exits with status 0" "$rc" 0
fp_assert "SIGTERM: PID file removed" test ! -e "$FP_DIR/flowpathd.pid"
fp_assert_eq "subtree gone once flowpathd has exited" "$(fp_subtree_present && echo present || echo gone)" gone

# --------------------------------------------- 5b. AgentX over TCP, restart
fp_stop_snmpd
fp_start_snmpd --agentx tcp
CONF_TCP=$FP_DIR/fp-tcp.conf
fp_write_conf "$CONF_TCP"
if fp_start_flowpathd "$CONF_TCP" && fp_wait_for fp_subtree_present 10; then
	fp_ok "tcp: subtree registered over $FP_AGENTX"
	pid2=$FP_FLOWPATHD_PID
	fp_assert_eq "tcp: fpSysAgentxConnects = 1" "$(fp_get "$OID_CONNECTS")" 1
	fp_restart_snmpd
	if fp_wait_for "fp_subtree_present && [ \"\$(fp_get $OID_CONNECTS)\" = 2 ]" 10; then
		fp_ok "tcp: re-registered after the master restart, fpSysAgentxConnects = 2"
	else
		fp_not_ok "tcp: re-registered within 10 s after the master restart" \
			"fpSysAgentxConnects='$(fp_get "$OID_CONNECTS")'"
	fi
	fp_assert_eq "tcp: same flowpathd process" "$FP_FLOWPATHD_PID" "$pid2"
	fp_stop_flowpathd TERM
	fp_assert_eq "tcp: SIGTERM exit status 0" "$?" 0
else
	fp_not_ok "tcp: subtree registered over $FP_AGENTX within 10 s"
fi

fp_log "elapsed: $((SECONDS - t0)) s"
fp_finish
