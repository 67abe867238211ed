#!/bin/bash
#
# Alarms over probes, in two network namespaces this test creates:
# flowpathd runs in A and probes three addresses of B by ICMP, each
# answered by tests/tools/fp_responder with a delay the test scripts (B's
# kernel ignores echo requests, so every reply is the responder's):
#
#   ac  the direct path A -> C     30 ms, later 2 ms
#   ab  A -> B                      5 ms, later no answer at all
#   bc  B -> C                      5 ms
#
#  1. the detour rule, avg RTT(ac) > avg RTT(ab) + avg RTT(bc) for 1 s,
#     fires (fpAlarmRaised with its expression), and the wildcard rule
#     "slow" fires for the instance ac only, with its RTT as the value;
#  2. ac becomes fast: both clear (fpAlarmCleared, rows gone);
#  3. ab stops answering: the built-in probe-unreachable fires for ab.
#
# Exit: 0 pass, 1 fail, 77 skip (not root, no namespaces, no net-snmp
# tools), 99 harness error.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=harness.sh
. "$top_srcdir/tests/integration/harness.sh" || exit 99
# shellcheck source=netns.sh
. "$top_srcdir/tests/integration/netns.sh" || exit 99

ns_fp_setup
# shellcheck source=traps.sh
. "$top_srcdir/tests/integration/traps.sh" || exit 99

# --------------------------------------------------------------- namespaces
ns_new NS_A a
ns_new NS_B b
NET=10.250.2
ns_veth "$NS_A" "$NET.1/24" "$NS_B" "$NET.21/24 $NET.22/24 $NET.23/24" || fp_bail "veth pair"
for h in 21 22 23; do ns_exec "$NS_A" ping -q -c 1 -W 2 "$NET.$h" >/dev/null 2>&1; done
ns_sysctl "$NS_B" net.ipv4.icmp_echo_ignore_all=1 || fp_bail "icmp_echo_ignore_all"
declare -A ADDR=([ac]=$NET.21 [ab]=$NET.22 [bc]=$NET.23) PID=()

# respond NAME DELAY_US: (re)start the responder of one path
respond() {
	[[ -n "${PID[$1]:-}" ]] && ns_stop "${PID[$1]}"
	rm -f "$FP_DIR/resp-$1.ready"
	ns_spawn "PID[$1]" "$NS_B" "$FP_DIR/resp-$1.err" "$RESPONDER" icmp --dst "${ADDR[$1]}" \
		--delay "$2" --max-requests 5000 --max-time 60 --log "$FP_DIR/resp-$1.log" \
		--ready "$FP_DIR/resp-$1.ready"
	ns_wait_file "$FP_DIR/resp-$1.ready" 5 || fp_bail "responder $1 did not start: $(cat "$FP_DIR/resp-$1.err")"
}
respond ac 30000
respond ab 5000
respond bc 5000

# --------------------------------------------------------------- flowpathd
DETOUR='avg(probe.ac.rtt, 1s) > avg(probe.ab.rtt, 1s) + avg(probe.bc.rtt, 1s)'
SLOW='avg(probe.*.rtt, 1s) > 20ms'
fp_start_trapsink
fp_start_snmpd
probes=
for p in ac ab bc; do
	probes+="  { name = \"$p\"; type = \"icmp\"; target = \"${ADDR[$p]}\"; interval = 0.1; timeout = 0.5; window = 2; },"$'\n'
done
fp_write_conf "$FP_DIR/fp.conf" "probes = (
${probes%,$'\n'}
);
alarms = { exporter_silent = false; exporter_loss = false; kernel_drops = false;
  probe_unreachable = \"1s\"; };
rules = (
  { name = \"detour\"; for = \"1s\"; when = \"$DETOUR\"; },
  { name = \"slow\"; when = \"$SLOW\"; clear = \"avg(probe.*.rtt, 1s) < 10ms\"; }
);"
sed -i "s|^  log_level = \"debug\";|&\\n  state_file = \"\";|" "$FP_DIR/fp.conf"
ns_fp_flowpathd_in "$NS_A" || fp_bail "flowpathd wrapper"
fp_start_flowpathd "$FP_DIR/fp.conf" || fp_bail "flowpathd did not start"
fp_wait_for "fp_get $FP_OID_SYS.1.0 >/dev/null" 15 || fp_bail "flowpathd did not register"

# ------------------------------------------------------ 1. detour and slow
if line=$(wait_alarm_trap "$FP_OID_RAISED" detour "" 10); then
	fp_ok "fpAlarmRaised for detour: the direct path is slower than the detour through B"
	id=$(vb_index "$line" "$FP_OID_ALARM.2")
	fp_assert_eq "its fpRuleWhen is the rule" "$(vb_string "$line" "$FP_OID_RULE.2.$(fp_name_index detour)")" "$DETOUR"
	value=$(vb_string "$line" "$FP_OID_ALARM.7")
	fp_assert "its value is the direct path's mean RTT, 30 ms and more ($value)" num_cmp "$value" ">" 0.030
	fp_assert "and below 40 ms" num_cmp "$value" "<" 0.040
	fp_assert_eq "the alarm row is firing(3)" "$(fp_get "$FP_OID_ALARM.5.$id")" 3
else
	fp_not_ok "fpAlarmRaised for detour" "$(tail -3 "$FP_TRAP_LOG")"
fi
if line=$(wait_alarm_trap "$FP_OID_RAISED" slow ac 5); then
	fp_ok "the wildcard rule slow fires for the instance ac"
	slow_id=$(vb_index "$line" "$FP_OID_ALARM.2")
	fp_assert "with ac's RTT as its value" num_cmp "$(vb_string "$line" "$FP_OID_ALARM.7")" ">" 0.030
else
	fp_not_ok "slow fires for ac" "$(tail -3 "$FP_TRAP_LOG")"
fi
fp_assert_eq "fpRuleInstances of slow: one per probe" "$(fp_get "$FP_OID_RULE.13.$(fp_name_index slow)")" 3
fp_assert_eq "fpRuleFiringInstances of slow: ac only" "$(fp_get "$FP_OID_RULE.14.$(fp_name_index slow)")" 1
fp_assert_eq "no other instance of slow was raised" "$(count_traps "$FP_OID_RAISED" slow)" 1

# ------------------------------------------------------ 2. ac becomes fast
respond ac 2000
if line=$(wait_alarm_trap "$FP_OID_CLEARED" detour "" 8); then
	fp_ok "fpAlarmCleared for detour once the direct path is fast"
	fp_assert_eq "for the same alarm" "$(vb_index "$line" "$FP_OID_ALARM.2")" "${id:-unknown}"
	fp_assert "its value is below 10 ms" num_cmp "$(vb_string "$line" "$FP_OID_ALARM.7")" "<" 0.010
else
	fp_not_ok "fpAlarmCleared for detour" "$(tail -3 "$FP_TRAP_LOG")"
fi
fp_assert "slow clears for ac" quiet wait_alarm_trap "$FP_OID_CLEARED" slow ac 5
fp_assert "the detour row is gone" absent "$FP_OID_ALARM.2.${id:-0}"
fp_assert "the slow row is gone" absent "$FP_OID_ALARM.2.${slow_id:-0}"
fp_assert_eq "fpRuleState of detour is ok(1)" "$(fp_get "$FP_OID_RULE.9.$(fp_name_index detour)")" 1

# ------------------------------------------------------ 3. ab stops answering
ns_stop "${PID[ab]}"
PID[ab]=
if line=$(wait_alarm_trap "$FP_OID_RAISED" probe-unreachable ab 6); then
	fp_ok "the built-in probe-unreachable fires for ab"
	fp_assert_eq "with the value max(up) = 0" "$(vb_string "$line" "$FP_OID_ALARM.7")" 0
else
	fp_not_ok "probe-unreachable fires for ab" "$(tail -3 "$FP_TRAP_LOG")"
fi
fp_assert_eq "and for no other probe" "$(count_traps "$FP_OID_RAISED" probe-unreachable)" 1
fp_assert "flowpathd still answers" quiet fp_get "$FP_OID_SYS.3.0"

fp_finish
