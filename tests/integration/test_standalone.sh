#!/bin/bash
#
# Standalone mode: with agent.listen set, flowpathd answers SNMP itself
# (Net-SNMP's master-agent code, no snmpd, no AgentX), read-only, for
# agent.community from agent.allow. Checked with the real net-snmp clients:
#
#  1. flowpathd -t accepts the file; flowpathd starts with no snmpd anywhere,
#     says at start that AgentX is not used, and never touches agentx.socket;
#  2. snmpwalk and snmpbulkwalk of the flowpath subtree straight from
#     flowpathd (the 9 fpSystem scalars; bulkwalk == walk);
#  3. the SNMPv2-MIB system group: sysDescr.0, sysObjectID.0, sysUpTime.0
#     (advancing), sysName.0, sysServices.0;
#  4. refused: a wrong community, SNMPv3, a SET with the right community;
#  5. a second flowpathd on the same port exits non-zero and says why;
#  6. SIGHUP (good, bad, changed community: restart-only) and SIGTERM
#     (exit 0, PID file removed, port closed);
#  7. agent.allow: a source outside the prefixes gets no answer, an allowed
#     one does, with the configured community only; the same over TCP;
#  8. udp6 on ::1 with the default allow list (when the host has ::1);
#  9. nothing left running (fp_finish).
#
# Exit: 0 pass, 1 fail, 77 skip (no net-snmp tools), 99 harness error.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=harness.sh
. "$top_srcdir/tests/integration/harness.sh" || exit 99

# No snmpd needed (fp_require_tools would skip without one).
for c in snmpget snmpset snmpwalk snmpbulkwalk ss setsid pgrep; do
	command -v "$c" >/dev/null 2>&1 || fp_skip "'$c' not found (install snmp / iproute2)"
done
fp_require_flowpathd
fp_setup

S=$FP_OID_SYS
SYS=.1.3.6.1.2.1.1
t0=$SECONDS

# sa_query TOOL COMMUNITY TARGET [options] OID...: one bounded client call,
# values only; options start with "-" and carry their value glued to them.
sa_query() {
	local tool=$1 comm=$2 target=$3 opts=() oids=(); shift 3
	while [[ $# -gt 0 ]]; do
		case $1 in -*) opts+=("$1") ;; *) oids+=("$1") ;; esac
		shift
	done
	"$tool" -v2c -c "$comm" -t 0.5 -r 0 -On -Oqv "${opts[@]}" "$target" "${oids[@]}" 2>&1
}
# shellcheck disable=SC2317  # called through fp_assert
sa_answers() { fp_get "$1" >/dev/null; }

# sa_write_conf FILE LISTEN [agent settings...]
sa_write_conf() {
	local f=$1 listen=$2 extra=${3:-}
	cat > "$f" <<EOF
# flowpathd configuration written by tests/integration/test_standalone.sh
agentx = { socket = "unix:$FP_DIR/agentx.sock"; ping_interval = 1; };
agent = {
  listen = "$listen";
  $extra
};
daemon = {
  pidfile = "$FP_DIR/flowpathd.pid";
  log_level = "debug";
};
EOF
}

# ------------------------------------------------------- 1. start, no snmpd
fp_free_port FP_SNMPD_PORT || fp_bail "no free UDP port"	# fp_snmp/fp_get target it
LISTEN=udp:127.0.0.1:$FP_SNMPD_PORT
CONF=$FP_DIR/fp.conf
sa_write_conf "$CONF" "$LISTEN"
fp_assert "flowpathd -t accepts agent.listen with the default access" \
	"$FP_FLOWPATHD" -t -c "$CONF"
fp_assert "no snmpd started by this test" test -z "$FP_SNMPD_PID"

fp_start_flowpathd "$CONF" || { fp_not_ok "flowpathd starts in standalone mode"; fp_finish; }
if fp_wait_for "fp_get $FP_OID_SYSUPTIME" 5 0.1; then
	fp_ok "flowpathd answers on $LISTEN (within $((SECONDS - t0)) s)"
else
	fp_not_ok "flowpathd answers on $LISTEN within 5 s"
	fp_finish
fi
fp_assert_file_match "start-up log names the transport and says AgentX is not used" \
	"$FP_FLOWPATHD_LOG" "standalone SNMP agent on ${LISTEN//./\\.} .*AgentX is not used"
fp_assert "agentx.socket is never created (no master involved)" test ! -e "$FP_DIR/agentx.sock"
fp_assert "flowpathd holds no AgentX connection" \
	eval "! ss -Hxp 2>/dev/null | grep -q 'pid=$FP_FLOWPATHD_PID,'"

# ---------------------------------------------------------------- 2. walks
walk=$(fp_walk "$FP_OID_ROOT")
bulk=$(fp_bulkwalk "$FP_OID_ROOT")
bulk50=$(fp_snmp snmpbulkwalk -Cr50 -Oqt -Oe "$FP_OID_ROOT" 2>/dev/null)
missing=
for i in 1 2 3 4 5 6 7 8 9; do
	grep -q "^${S//./\\.}\\.$i\\.0 " <<<"$walk" || missing+=" $i"
done
fp_assert_eq "snmpwalk of $FP_OID_ROOT returns the 9 fpSystem scalars (missing:${missing:- none})" \
	"$missing" ""
strip_uptime() { grep -v "^${S//./\\.}\\.3\\.0 "; }
fp_assert_eq "snmpbulkwalk returns what snmpwalk returns" \
	"$(strip_uptime <<<"$bulk")" "$(strip_uptime <<<"$walk")"
fp_assert_eq "snmpbulkwalk -Cr50 returns what snmpwalk returns" \
	"$(strip_uptime <<<"$bulk50")" "$(strip_uptime <<<"$walk")"
fp_assert_eq "walk stays inside the subtree (first line is fpSysVersion)" \
	"$(head -n1 <<<"$walk" | cut -d' ' -f1)" "$S.1.0"
fp_assert_eq "fpSysConfigFile is the configuration path" "$(fp_walk_value "$walk" "$S.4.0")" "$CONF"
fp_assert_eq "fpSysAgentxConnects = 0 (no AgentX in this mode)" "$(fp_walk_value "$walk" "$S.9.0")" 0

# ---------------------------------------------------------- 3. system group
descr=$(fp_get "$SYS.1.0")
fp_assert_match "sysDescr.0 answers (got: $descr)" "$descr" '^[^ ].+'
fp_assert_match "sysObjectID.0 is an OID" "$(fp_snmp snmpget -Oqv "$SYS.2.0" 2>&1)" '^\.1\.3\.6\.1\.4\.1\.'
u1=$(fp_get "$SYS.3.0")
fp_assert_match "sysUpTime.0 is TimeTicks ($u1)" "$u1" '^[0-9]+$'
fp_assert_eq "sysName.0 is the host name" "$(fp_get "$SYS.5.0")" "$(hostname)"
fp_assert_eq "sysServices.0 = 72" "$(fp_get "$SYS.7.0")" 72
syswalk=$(fp_walk "$SYS")
fp_assert_eq "snmpwalk of system returns sysDescr..sysServices (.1-.7)" \
	"$(cut -d' ' -f1 <<<"$syswalk" | sed 's/.*\.\([0-9]*\)\.0$/\1/' | tr '\n' ' ')" "1 2 3 4 5 6 7 "
sleep 1.1
u2=$(fp_get "$SYS.3.0")
fp_assert_gt "sysUpTime.0 advances ($u1 -> $u2)" "$u2" "$u1"

# ------------------------------------------------------------- 4. refusals
out=$(sa_query snmpget private "$LISTEN" "$SYS.3.0"); rc=$?
fp_assert_match "a wrong community gets no answer (rc=$rc: $out)" "rc=$rc $out" '^rc=[1-9][0-9]* .*Timeout'
out=$(snmpget -v3 -u public -l noAuthNoPriv -t 0.5 -r 0 -On "$LISTEN" "$SYS.3.0" 2>&1); rc=$?
fp_assert_ne "SNMPv3 is not answered (rc=$rc: $out)" "$rc" 0
loc=$(fp_get "$SYS.6.0")
out=$(snmpset -v2c -c public -t 0.5 -r 0 -On "$LISTEN" "$SYS.6.0" s "changed-by-test" 2>&1); rc=$?
fp_assert_match "SET with the right community is refused (rc=$rc: $out)" "rc=$rc $out" \
	'^rc=[1-9][0-9]* .*(noAccess|notWritable|readOnly)'
fp_assert_eq "sysLocation.0 unchanged after the refused SET" "$(fp_get "$SYS.6.0")" "$loc"
fp_assert_eq "SNMPv1 with the right community answers" \
	"$(snmpget -v1 -c public -t 0.5 -r 0 -On -Oqv "$LISTEN" "$S.1.0" 2>&1)" \
	"$(fp_snmp snmpget -Oqv "$S.1.0" 2>&1)"

# ----------------------------------------------------- 5. port already taken
CONF_DUP=$FP_DIR/fp-dup.conf
sa_write_conf "$CONF_DUP" "$LISTEN"
sed -i "s|pidfile = .*|pidfile = \"\";|" "$CONF_DUP"
dup_out=$(timeout 10 "$FP_FLOWPATHD" -f -c "$CONF_DUP" 2>&1 </dev/null); dup_rc=$?
fp_assert_eq "a second flowpathd on the same port exits with status 1" "$dup_rc" 1
fp_assert_match "and says which setting failed" "$dup_out" "agent\\.listen: cannot listen on ${LISTEN//./\\.}"
fp_assert "the first flowpathd still answers" sa_answers "$SYS.3.0"

# ---------------------------------------------------------------- 6. signals
sa_write_conf "$CONF" "$LISTEN" '# first reload, still valid'
fp_signal_flowpathd HUP
fp_assert_eventually "good SIGHUP: fpSysConfigReloads becomes 1" "$S.6.0" 1
sa_write_conf "$CONF" "$LISTEN" 'community = "two words";'
fp_signal_flowpathd HUP
fp_assert_eventually "bad SIGHUP: fpSysConfigReloadFailures becomes 1" "$S.7.0" 1
fp_assert_match "fpSysConfigLastError names agent.community" "$(fp_get "$S.8.0")" \
	"^${CONF//./\\.}:5: agent\\.community: "
sa_write_conf "$CONF" "$LISTEN" 'community = "other";'
fp_signal_flowpathd HUP
fp_assert_eventually "SIGHUP with a new community: fpSysConfigReloads becomes 2" "$S.6.0" 2
fp_assert_file_match "a changed community is logged as restart-only" "$FP_FLOWPATHD_LOG" \
	'agent\.community or agent\.allow changed; they take effect when flowpathd restarts'
fp_assert "the running community still answers after the reloads" sa_answers "$SYS.3.0"
fp_assert "flowpathd is still running" fp_flowpathd_alive

fp_stop_flowpathd TERM
fp_assert_eq "SIGTERM: flowpathd exits with status 0" "$?" 0
fp_assert "SIGTERM: PID file removed" test ! -e "$FP_DIR/flowpathd.pid"
fp_assert "SIGTERM: $LISTEN is closed" eval "! ss -Hlnu '( sport = :$FP_SNMPD_PORT )' | grep -q ."

# ------------------------------------------------------ 7. agent.allow
# UDP: net-snmp clients bind --clientaddr for UDP only, not for TCP.
fp_free_port APORT || fp_bail "no free UDP port"
ALISTEN=udp:127.0.0.1:$APORT
CONF_A=$FP_DIR/fp-allow.conf
sa_write_conf "$CONF_A" "$ALISTEN" 'community = "s3cr#t"; allow = [ "127.0.0.2/32", "192.0.2.0/24" ];'
want_version=\"$("$FP_FLOWPATHD" -V | cut -d' ' -f2)\"
if fp_start_flowpathd "$CONF_A" &&
	fp_wait_for "sa_query snmpget 's3cr#t' '$ALISTEN' --clientaddr=127.0.0.2 $FP_OID_SYSUPTIME" 5 0.1; then
	out=$(sa_query snmpget 's3cr#t' "$ALISTEN" --clientaddr=127.0.0.2 "$S.1.0"); rc=$?
	fp_assert_eq "allow: source 127.0.0.2 (allowed) with the community gets fpSysVersion" \
		"rc=$rc $out" "rc=0 $want_version"
	out=$(sa_query snmpget 's3cr#t' "$ALISTEN" --clientaddr=127.0.0.1 "$S.1.0"); rc=$?
	fp_assert_match "allow: source 127.0.0.1 (not in agent.allow) gets no answer (rc=$rc)" \
		"rc=$rc $out" '^rc=[1-9][0-9]* .*Timeout'
	out=$(sa_query snmpget public "$ALISTEN" --clientaddr=127.0.0.2 "$S.1.0"); rc=$?
	fp_assert_match "allow: allowed source with community public (not configured) gets no answer" \
		"rc=$rc $out" '^rc=[1-9][0-9]* .*Timeout'
else
	fp_not_ok "allow: $ALISTEN answers 127.0.0.2 within 5 s"
fi
fp_stop_flowpathd TERM
fp_assert_eq "allow: SIGTERM exit status 0" "$?" 0

# TCP, default allow list (loopback), configured community.
fp_free_port TPORT || fp_bail "no free TCP port"
TLISTEN=tcp:127.0.0.1:$TPORT
CONF_T=$FP_DIR/fp-tcp.conf
sa_write_conf "$CONF_T" "$TLISTEN" 'community = "s3cr#t";'
if fp_start_flowpathd "$CONF_T" &&
	fp_wait_for "[ -n \"\$(ss -Hlnt '( sport = :$TPORT )')\" ]" 5 0.1; then
	out=$(sa_query snmpget 's3cr#t' "$TLISTEN" "$S.1.0"); rc=$?
	fp_assert_eq "tcp: $TLISTEN answers fpSysVersion" "rc=$rc $out" "rc=0 $want_version"
	fp_assert_eq "tcp: snmpbulkwalk of the subtree returns the 9 fpSystem scalars" \
		"$(sa_query snmpbulkwalk 's3cr#t' "$TLISTEN" "$S" | wc -l)" 9
	out=$(sa_query snmpget public "$TLISTEN" "$S.1.0"); rc=$?
	fp_assert_match "tcp: community public (not configured) gets no answer" \
		"rc=$rc $out" '^rc=[1-9][0-9]* .*Timeout'
else
	fp_not_ok "tcp: flowpathd listens on $TLISTEN within 5 s"
fi
fp_stop_flowpathd TERM
fp_assert_eq "tcp: SIGTERM exit status 0" "$?" 0

# ------------------------------------------- 8. udp6 with the default allow
if ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/128'; then
	fp_free_port P6 || fp_bail "no free UDP port"
	L6="udp6:[::1]:$P6"
	CONF_6=$FP_DIR/fp-v6.conf
	sa_write_conf "$CONF_6" "$L6"
	if fp_start_flowpathd "$CONF_6" &&
		fp_wait_for "sa_query snmpget public '$L6' $FP_OID_SYSUPTIME" 5 0.1; then
		fp_ok "udp6: $L6 answers ::1 (default agent.allow includes ::1/128)"
		out=$(sa_query snmpget private "$L6" "$FP_OID_SYSUPTIME"); rc=$?
		fp_assert_match "udp6: a wrong community gets no answer" "rc=$rc $out" \
			'^rc=[1-9][0-9]* .*Timeout'
	else
		fp_not_ok "udp6: $L6 answers within 5 s"
	fi
	fp_stop_flowpathd TERM
	fp_assert_eq "udp6: SIGTERM exit status 0" "$?" 0
else
	fp_log "no ::1 on lo: udp6 case skipped"
fi

fp_assert "no snmpd was ever started" test -z "$FP_SNMPD_PID"
fp_log "elapsed: $((SECONDS - t0)) s"
fp_finish
