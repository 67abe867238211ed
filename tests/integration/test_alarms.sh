#!/bin/bash
#
# Alarm integration test: flowpathd as a subagent of a real snmpd, whose
# trap2sink is the harness's snmptrapd; flowpath-gen drives the collector.
#
#  1. the rule and built-in rows of fpRuleTable, undecided then ok;
#  2. traffic above a rule's threshold -> fpAlarmRaised with the rule
#     name, instance, severity, value and expression, an fpAlarmTable row;
#  3. flowpathd restarted while the alarm fires -> the same row again
#     (state file), and no second fpAlarmRaised; the restart adds an
#     aggregation A and a wildcard rule over its interval totals;
#  4. the traffic stops -> fpAlarmCleared for the same alarm, the row
#     goes; the built-in exporter-silent alarm fires for the exporter;
#  5. a refused reload names the broken rule in fpRuleError; a good one
#     clears it and keeps the alarms as they are; a UDP probe to a closed
#     loopback port fires the built-in probe-unreachable, and a reload that
#     removes the probe clears that alarm (fpAlarmCleared, the row and the
#     state record go); so does a reload that removes aggregation A for
#     agg-traffic's alarm on instance A;
#  6. a storm of 500 alarms: 500 fpAlarmRaised arrive through the paced
#     queue while snmpget of sysUpTime.0 and fpSysUpTime.0 keeps answering;
#  7. the token bucket: what it holds back is counted and reported by one
#     fpAlarmSummary, and sent + suppressed add up to the events;
#  8. standalone mode (no snmpd): fpAlarmRaised goes to agent.trap_sink.
#
# A second snmptrapd runs conf/flowpath-nagios-trap (the documented
# traphandle) for phases 2-4: the Nagios passive check results it writes
# must say CRITICAL, WARNING and OK for the right services.
#
# Exit: 0 pass, 1 fail, 77 skip (no net-snmp tools), 99 harness error.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=harness.sh
. "$top_srcdir/tests/integration/harness.sh" || exit 99

fp_require_tools
fp_require_flowpathd
fp_require_gen
fp_setup

# shellcheck source=traps.sh
. "$top_srcdir/tests/integration/traps.sh" || exit 99
R=$FP_OID_ROOT
RAISED=$FP_OID_RAISED CLEARED=$FP_OID_CLEARED SUMMARY=$FP_OID_SUMMARY
RULE=$FP_OID_RULE ALARM=$FP_OID_ALARM STATS=$FP_OID_ALSTATS
STORM=500

# ours: notifications of FLOWPATH-MIB in the trap log
ours() { grep -c "= OID: $R\\.0\\.$1"$'\t' "$FP_TRAP_LOG"; }

fp_free_port PORT || fp_bail "no free port"
CONF=$FP_DIR/fp.conf
STATE=$FP_DIR/alarms.state
WHEN='rate(collector.records, 2s) > 500'
CLEAR='rate(collector.records, 2s) < 100'

# write_conf [RULES [ALARMS]]: the base rule plus RULES, alarms settings plus ALARMS;
# $UNREACHABLE sets alarms.probe_unreachable (default false), $PROBES and $AGGS are
# added as they are, $AGG_RULE after the base rule
write_conf() {
	fp_write_conf "$CONF.new" "
collector = { listen = [ \"127.0.0.1:$PORT\" ]; receive_buffer = 4194304; };
alarms = { exporter_silent = \"2s\"; exporter_loss = false; kernel_drops = false;
  probe_unreachable = ${UNREACHABLE:-false}; ${2:-} };
${PROBES:-}
${AGGS:-}
rules = (
  { name = \"traffic-high\"; severity = \"critical\"; description = \"records above 500/s\";
    when = \"$WHEN\"; clear = \"$CLEAR\"; }${AGG_RULE:-}${1:-}
);"
	# The harness writes the daemon group; the state file goes into it.
	sed -i "s|^  log_level = \"debug\";|&\\n  state_file = \"$STATE\";|" "$CONF.new"
	mv "$CONF.new" "$CONF"
}

# storm_rules PREFIX: STORM rules that hold from their first evaluation
storm_rules() {
	local i
	for ((i = 1; i <= STORM; i++)); do
		printf ',\n  { name = "%s-%d"; when = "collector.drops >= 0"; }' "$1" "$i"
	done
}

state_lacks() { ! grep -Eq "$1" "$STATE"; }	# state_lacks ERE: no record matches

reload() {	# reload: SIGHUP and wait until fpSysConfigReloads + fpSysConfigReloadFailures moves
	local before after
	before=$(( $(fp_get $FP_OID_SYS.6.0) + $(fp_get $FP_OID_SYS.7.0) ))
	fp_signal_flowpathd HUP
	fp_wait_for "after=\$(( \$(fp_get $FP_OID_SYS.6.0) + \$(fp_get $FP_OID_SYS.7.0) )); [ \"\$after\" -gt $before ]" 15 0.1 ||
		fp_not_ok "flowpathd handled the reload within 15 s"
}

# The traphandle's snmptrapd, a second trap sink of the master.
fp_free_port NPORT || fp_bail "no free port"
NAGIOS=$FP_DIR/nagios.cmd
cat > "$FP_DIR/snmptrapd-nagios.conf" <<EOF
[snmp] persistentDir $FP_DIR/persist
authCommunity execute public
traphandle default /bin/sh $top_srcdir/conf/flowpath-nagios-trap $NAGIOS site-a
EOF
setsid "$SNMPTRAPD" -f -Lf "$FP_DIR/snmptrapd-nagios.log" -On -C -c "$FP_DIR/snmptrapd-nagios.conf" \
	-p "$FP_DIR/snmptrapd-nagios.pid" "udp:127.0.0.1:$NPORT" </dev/null >/dev/null 2>&1 &
NTRAPD=$!
fp__track "$NTRAPD" snmptrapd-nagios
fp_wait_for "ss -Hlnu '( sport = :$NPORT )' | grep -q ." 10 0.1 || fp_bail "the second snmptrapd did not bind"

fp_start_trapsink
fp_start_snmpd --conf-extra "trap2sink 127.0.0.1:$NPORT public"
write_conf
fp_start_flowpathd "$CONF" || fp_bail "flowpathd did not start"
fp_wait_for "fp_get $FP_OID_SYS.1.0 >/dev/null" 15 || fp_bail "flowpathd did not register"

# ------------------------------------------------------------ 1. the rules
TH=$(fp_name_index traffic-high)
ES=$(fp_name_index exporter-silent)
fp_assert_eq "fpRuleWhen of traffic-high is its when" "$(fp_get "$RULE.2.$TH")" "$WHEN"
fp_assert_eq "fpRuleClear of traffic-high is its clear" "$(fp_get "$RULE.3.$TH")" "$CLEAR"
fp_assert_eq "fpRuleSeverity of traffic-high is critical(2)" "$(fp_get "$RULE.7.$TH")" 2
fp_assert_eq "fpRuleInterval is 1000 ms by default" "$(fp_get "$RULE.6.$TH")" 1000
fp_assert_eq "fpRuleDescription" "$(fp_get "$RULE.8.$TH")" "records above 500/s"
fp_assert_eq "the built-in exporter-silent rule reads alarms.exporter_silent" \
	"$(fp_get "$RULE.2.$ES")" "nodata(exporter.*.records, 2000ms)"
fp_assert "a built-in alarm that is off has no row" absent "$RULE.2.$(fp_name_index kernel-drops)"
fp_assert_eventually "traffic-high is ok(1) once its window has two samples" "$RULE.9.$TH" 1 6
fp_assert_eq "a wildcard rule without instances is unknown(5)" "$(fp_get "$RULE.9.$ES")" 5
fp_assert_eq "fpRuleLastValue is the rate, 0 without traffic" "$(fp_get "$RULE.10.$TH")" 0

# ------------------------------------------------------------ 2. raised
"$GEN" --dest "127.0.0.1:$PORT" --version 5 --rate 2000 --duration 9 --seed 3 \
	>"$FP_DIR/gen.out" 2>&1 &
GEN_PID=$!
fp__track "$GEN_PID" flowpath-gen
if line=$(wait_alarm_trap "$RAISED" traffic-high "" 8); then
	fp_ok "fpAlarmRaised for traffic-high arrives while the generator sends 2000 records/s"
	ID=$(vb_index "$line" "$ALARM.2")
	fp_assert_match "the alarm id is a number" "$ID" '^[0-9]+$'
	fp_assert_eq "varbind fpAlarmRule" "$(vb "$line" "$ALARM.2")" 'STRING: "traffic-high"'
	fp_assert_eq "varbind fpAlarmInstance is empty (no wildcard)" "$(vb "$line" "$ALARM.3")" '""'
	fp_assert_eq "varbind fpAlarmSeverity is critical(2)" "$(vb "$line" "$ALARM.4")" 'INTEGER: 2'
	value=$(vb_string "$line" "$ALARM.7")
	fp_assert "varbind fpAlarmValue is the rate, above 500 ($value)" num_cmp "$value" ">" 500
	fp_assert_eq "varbind fpRuleWhen (indexed by the rule name) is the expression" \
		"$(vb "$line" "$RULE.2.$TH")" "STRING: \"$WHEN\""
else
	fp_not_ok "fpAlarmRaised for traffic-high arrives" "$(tail -5 "$FP_TRAP_LOG")"
	fp_finish
fi
fp_assert_eq "fpAlarmTable has the alarm's row" "$(fp_get "$ALARM.2.$ID")" traffic-high
fp_assert_eq "fpAlarmState is firing(3)" "$(fp_get "$ALARM.5.$ID")" 3
fp_assert_eq "fpRuleState is firing(3)" "$(fp_get "$RULE.9.$TH")" 3
fp_assert_eq "fpRuleFireCount is 1" "$(fp_get "$RULE.12.$TH")" 1
fp_assert_eq "fpRuleFiringInstances is 1" "$(fp_get "$RULE.14.$TH")" 1
fp_assert_eq "fpAlarmActive is 1" "$(fp_get "$STATS.5.0")" 1

# ------------------------------------------------------------ 3. restart
sleep 1.2	# the state file is written at most once a second
fp_stop_flowpathd
before_restart=$(ours '[123]')
fp_assert_file_match "the state file holds the firing alarm" "$STATE" "^a traffic-high [0-9a-f]+ $ID 3 "
# For phase 5: aggregation A (the shortest interval, 10 s, epoch-aligned)
# counts the generator's traffic, so its first close puts agg.A.octets > 0.
# The clear can never hold: only A's removal clears the alarm. A wildcard,
# because a plain agg.A.octets names one instance that stays: without data
# it is UNKNOWN, which holds a raised alarm (docs/rules.md).
AGGS='aggregations = ( { name = "A"; key = [ "dst_port" ]; interval = 10; } );'
AGG_RULE=',
  { name = "agg-traffic"; when = "agg.*.octets > 0"; clear = "agg.*.octets < 0"; }'
write_conf
fp_start_flowpathd "$CONF" || fp_bail "flowpathd did not start again"
fp_wait_for "fp_get $FP_OID_SYS.1.0 >/dev/null" 15 || fp_bail "flowpathd did not register again"
fp_assert_eventually "after the restart, the same alarm row is back" "$ALARM.2.$ID" traffic-high 5
fp_assert_eq "and firing(3)" "$(fp_get "$ALARM.5.$ID")" 3
sleep 3	# the rule is evaluated true again meanwhile
fp_assert_eq "fpRuleState is firing(3) after the restart" "$(fp_get "$RULE.9.$TH")" 3
fp_assert_eq "no second fpAlarmRaised after the restart" "$(count_traps "$RAISED" traffic-high)" 1

# ------------------------------------------------------------ 4. cleared
fp_wait_for "! fp__alive $GEN_PID" 15 0.2 || fp_not_ok "the generator finished"
fp_stop_pid "$GEN_PID" >/dev/null 2>&1
if line=$(wait_alarm_trap "$CLEARED" traffic-high "" 8); then
	fp_ok "fpAlarmCleared for traffic-high arrives once the traffic stops"
	fp_assert_eq "it names the same alarm id" "$(vb_index "$line" "$ALARM.2")" "$ID"
	fp_assert_eq "varbind fpAlarmSeverity" "$(vb "$line" "$ALARM.4")" 'INTEGER: 2'
	value=$(vb_string "$line" "$ALARM.7")
	fp_assert "varbind fpAlarmValue is the rate, below 100 ($value)" num_cmp "$value" "<" 100
	fp_assert_eq "varbind fpRuleWhen" "$(vb "$line" "$RULE.2.$TH")" "STRING: \"$WHEN\""
else
	fp_not_ok "fpAlarmCleared for traffic-high arrives" "$(tail -5 "$FP_TRAP_LOG")"
fi
fp_assert "the fpAlarmTable row is gone" absent "$ALARM.2.$ID"
fp_assert_eq "fpRuleState is ok(1)" "$(fp_get "$RULE.9.$TH")" 1
if line=$(wait_alarm_trap "$RAISED" exporter-silent "" 8); then
	fp_ok "the built-in exporter-silent alarm fires 2 s after the exporter went silent"
	fp_assert_eq "its instance is the exporter's address" "$(vb "$line" "$ALARM.3")" 'STRING: "127.0.0.1"'
	fp_assert_eq "its severity is warning(1)" "$(vb "$line" "$ALARM.4")" 'INTEGER: 1'
	fp_assert_eq "nodata() has no value" "$(vb "$line" "$ALARM.7")" '""'
	fp_assert_eq "fpRuleInstances of exporter-silent is 1" "$(fp_get "$RULE.13.$ES")" 1
else
	fp_not_ok "exporter-silent fires" "$(tail -5 "$FP_TRAP_LOG")"
fi

nagios_line() { fp_wait_for "grep -q -- '$1' '$NAGIOS'" 5 0.1 && grep -m1 -- "$1" "$NAGIOS"; }
fp_assert_match "the traphandle passed CRITICAL for traffic-high to Nagios" \
	"$(nagios_line ';flowpath traffic-high;2;')" \
	"^\[[0-9]+\] PROCESS_SERVICE_CHECK_RESULT;site-a;flowpath traffic-high;2;CRITICAL: rate\(collector.records, 2s\) > 500 value=[0-9.]+\$"
fp_assert_match "and OK when it cleared" "$(nagios_line ';flowpath traffic-high;0;')" \
	";flowpath traffic-high;0;OK: cleared \(rate\(collector.records, 2s\) > 500\) value=[0-9.]+\$"
fp_assert_match "and WARNING for exporter-silent's instance" \
	"$(nagios_line ';flowpath exporter-silent 127.0.0.1;')" \
	";flowpath exporter-silent 127.0.0.1;1;WARNING: nodata\(exporter.\*.records, 2000ms\)\$"
fp_stop_pid "$NTRAPD" >/dev/null 2>&1	# not through the storm: a shell per trap

# ------------------------------------------------------------ 5. reload errors
WHEN_GOOD=$WHEN
WHEN='rate(collector.records, 2s > 500'
write_conf
reload
fp_assert_match "a refused reload names the error in the rule's fpRuleError" \
	"$(fp_get "$RULE.15.$TH")" '^rules\[0\]\.when: column [0-9]+: '
fp_assert_eq "the rule keeps running with its old text" "$(fp_get "$RULE.2.$TH")" "$WHEN_GOOD"
WHEN=$WHEN_GOOD
write_conf
reload
fp_assert_eq "a good reload empties fpRuleError" "$(fp_get "$RULE.15.$TH")" ""
fp_assert_eq "an unchanged rule keeps its alarm: no fpAlarmCleared for exporter-silent" \
	"$(count_traps "$CLEARED" exporter-silent)" 0

# removed_clears WHAT RULE INSTANCE ID: the configuration as it is now (WHAT
# taken out) is loaded, and the alarm ID of RULE on INSTANCE clears and goes
removed_clears() {
	local line
	write_conf
	reload
	if line=$(wait_alarm_trap "$CLEARED" "$2" "$3" 5); then
		fp_ok "the $1 removed by a reload: fpAlarmCleared for its alarm"
		fp_assert_eq "with the same alarm id" "$(vb_index "$line" "$ALARM.2")" "$4"
	else
		fp_not_ok "fpAlarmCleared for the removed $1 arrives" "$(tail -3 "$FP_TRAP_LOG")"
	fi
	fp_assert "its fpAlarmTable row is gone" absent "$ALARM.2.$4"
	fp_assert_eq "fpRuleInstances of $2 is 0" "$(fp_get "$RULE.13.$(fp_name_index "$2")")" 0
}

# A removed probe's alarm: the built-in's window at 1 s keeps this short.
fp_free_port CLOSED || fp_bail "no free port to leave closed"
UNREACHABLE=1
PROBES="probes = ( { name = \"gone\"; type = \"udp\"; target = \"127.0.0.1:$CLOSED\";
  interval = 0.2; timeout = 0.3; } );"
write_conf
reload
if line=$(wait_alarm_trap "$RAISED" probe-unreachable gone 10); then
	fp_ok "fpAlarmRaised for probe-unreachable, instance gone (a closed port)"
	PID_ALARM=$(vb_index "$line" "$ALARM.2")
	fp_assert_eq "its fpAlarmTable row" "$(fp_get "$ALARM.3.$PID_ALARM")" gone
	sleep 1.2	# the state file is written at most once a second
	fp_assert_file_match "the state file holds it" "$STATE" "^a probe-unreachable [0-9a-f]+ $PID_ALARM 3 "
	PROBES=
	removed_clears probe probe-unreachable gone "$PID_ALARM"
	sleep 1.2
	fp_assert "the state file no longer holds it" state_lacks "^a probe-unreachable "
else
	fp_not_ok "fpAlarmRaised for probe-unreachable arrives" "$(tail -3 "$FP_TRAP_LOG")"
fi
UNREACHABLE=false

# A removed aggregation's alarm: A's first close since the restart held traffic.
if line=$(wait_alarm_trap "$RAISED" agg-traffic A 12); then
	fp_ok "fpAlarmRaised for agg-traffic, instance A (agg.A.octets > 0)"
	AGG_ALARM=$(vb_index "$line" "$ALARM.2")
	fp_assert_eq "its fpAlarmTable row" "$(fp_get "$ALARM.3.$AGG_ALARM")" A
	AGGS=
	removed_clears aggregation agg-traffic A "$AGG_ALARM"
else
	fp_not_ok "fpAlarmRaised for agg-traffic arrives" "$(tail -3 "$FP_TRAP_LOG")"
fi

# ------------------------------------------------------------ 6. storm
write_conf "$(storm_rules storm)" "notify_rate = 1000; notify_burst = 1000; queue_size = 1000;"
reload
failures=0 polls=0
for ((i = 0; i < 150; i++)); do	# <= 150 x (0.1 s + two requests of at most 1 s x 2)
	polls=$((polls + 1))
	fp_snmp snmpget -Oqv "$FP_OID_SYSUPTIME" >/dev/null 2>&1 || failures=$((failures + 1))
	fp_get "$FP_OID_SYS.3.0" >/dev/null || failures=$((failures + 1))
	[[ $(traps "$RAISED" | grep -c '"storm-') -ge $STORM && $polls -ge 20 ]] && break
	sleep 0.1
done
fp_assert_eq "sysUpTime.0 and fpSysUpTime.0 answered all $polls polls during the storm" "$failures" 0
fp_assert_eq "all $STORM fpAlarmRaised of the storm arrived" \
	"$(traps "$RAISED" | grep -c '"storm-')" "$STORM"
fp_assert_eq "fpAlarmQueueDrops is 0" "$(fp_get "$STATS.3.0")" 0
fp_assert_eventually "fpAlarmQueueLength drains to 0" "$STATS.4.0" 0 5
fp_assert_eq "fpAlarmActive counts the storm and exporter-silent" "$(fp_get "$STATS.5.0")" $((STORM + 1))
fp_assert_eq "fpAlarmNotificationsSent counts every notification received since the restart" \
	"$(fp_get "$STATS.1.0")" "$(( $(ours '[123]') - before_restart ))"

# ------------------------------------------------------------ 7. token bucket
s0=$(fp_get "$STATS.2.0")
n0=$(ours '[12]')
write_conf "$(storm_rules storm2)" "notify_rate = 1; notify_burst = 10;"
reload
# 500 rules removed (cleared) and 500 new ones raised: 1000 notifications.
fp_wait_for "[ \$(count_traps $SUMMARY) -ge 1 ]" 10 0.2 || fp_not_ok "fpAlarmSummary arrives"
fp_assert_eventually "the 500 new alarms are active" "$STATS.5.0" $((STORM + 1)) 5
sleep 1.5
s1=$(fp_get "$STATS.2.0")
n1=$(ours '[12]')
fp_assert_gt "the bucket held notifications back" "$((s1 - s0))" 0
fp_assert_eq "sent + held back = the 1000 events of the reload" $(( (n1 - n0) + (s1 - s0) )) $((2 * STORM))
line=$(traps "$SUMMARY" | tail -1)
fp_assert_eq "one fpAlarmSummary" "$(count_traps "$SUMMARY")" 1
fp_assert_eq "fpAlarmSuppressedCount in it is what was held back" \
	"$(vb "$line" "$R.1.5.4.1")" "Gauge32: $((s1 - s0))"
fp_assert_eq "fpAlarmActive in it" "$(vb "$line" "$STATS.5")" "Gauge32: $((STORM + 1))"
fp_assert "flowpathd still answers" quiet fp_get "$FP_OID_SYS.3.0"

# ------------------------------------------------------------ 8. standalone
fp_stop_flowpathd
fp_free_port APORT || fp_bail "no free port"
cat > "$FP_DIR/standalone.conf" <<EOF
agent = { listen = "udp:127.0.0.1:$APORT"; trap_sink = [ "127.0.0.1:$FP_TRAP_PORT" ]; };
daemon = { pidfile = ""; state_file = ""; log_level = "debug"; };
alarms = { kernel_drops = false; };
rules = ( { name = "standalone"; when = "collector.drops >= 0"; } );
EOF
fp_start_flowpathd "$FP_DIR/standalone.conf" || fp_bail "standalone flowpathd did not start"
if line=$(wait_alarm_trap "$RAISED" standalone "" 8); then
	fp_ok "standalone: fpAlarmRaised reaches agent.trap_sink without snmpd"
	fp_assert_eq "with the expression" "$(vb_string "$line" "$RULE.2.$(fp_name_index standalone)")" \
		"collector.drops >= 0"
else
	fp_not_ok "standalone: fpAlarmRaised reaches agent.trap_sink" "$(tail -3 "$FP_TRAP_LOG")"
fi

fp_finish
