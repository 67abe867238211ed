#!/bin/bash
#
# Probe integration test, loopback only: flowpathd probes ICMP echo on
# 127.0.0.1 and ::1, UDP against its own reflector on 127.0.0.1 and [::1],
# UDP to a closed port (ICMP port unreachable), TCP to snmpd's listening
# AgentX port and TCP to a closed port (RST). Read back through a real snmpd
# with snmpget/snmpbulkwalk/snmptable: the rows and their configuration
# columns, counters that grow and add up, status values, plausible RTT
# statistics, the reflector's counters against what the probes sent, a
# SIGHUP that resets a changed probe and keeps an unchanged one, and
# Nagios' check_snmp on fpProbeRttMean.
#
# Exit: 0 pass, 1 fail, 77 skip (no net-snmp tools), 99 harness error.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=harness.sh
. "$top_srcdir/tests/integration/harness.sh" || exit 99

fp_require_tools
fp_require_flowpathd
fp_setup

PROBE=$FP_OID_ROOT.1.4.1.1	# fpProbeEntry
SOCKETS=$FP_OID_ROOT.1.4.2	# fpProbeSockets
REFL=$FP_OID_ROOT.1.4.3		# fpReflector
# Columns of fpProbeEntry
C_TYPE=2 C_ATYPE=3 C_ADDR=4 C_PORT=5 C_INTERVAL=6 C_TIMEOUT=7 C_SIZE=8 C_TOS=9
C_WINDOW=10 C_STATUS=11 C_ERROR=12 C_CHANGE=13 C_SENT=14 C_RECEIVED=15 C_LOST=16
C_LATE=17 C_DUP=18 C_ERRORS=19 C_REFUSED=20 C_FWD=22 C_REV=23 C_LAST_RTT=24
C_MIN=25 C_MEAN=26 C_MAX=27 C_P50=29 C_P95=30 C_P99=31 C_LOSS=34 C_WRECEIVED=35
C_LAST_REPLY=37 C_FOREIGN=39
ST_OK=2 ST_UNREACHABLE=4 ST_ERROR=5
INTERVAL_MS=200
TIMEOUT_MS=2000
# Requests in flight at most: the timeout over the interval, and the one just sent.
IN_FLIGHT_MAX=$((TIMEOUT_MS / INTERVAL_MS + 1))

pget() { fp_get "$PROBE.$2.$(fp_name_index "$1")"; }	# pget PROBE COLUMN
# pgets PROBE COLUMN...: several columns in one request (one consistent row)
pgets() { fp_row_gets "$PROBE" "$@"; }
hex_of() { fp_snmp snmpget -Oqvx "$1" 2>/dev/null | tr -d ' "\n'; }
# dat_year OID: the year of a DateAndTime (RFC 2579: octets 1-2)
dat_year() { local h; h=$(hex_of "$1"); [[ ${#h} -ge 4 ]] && echo $((16#${h:0:4})); }

have_v6=0
if ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/'; then have_v6=1; fi

fp_start_snmpd --agentx tcp
AGENTX_PORT=${FP_AGENTX##*:}
fp_free_port RPORT || fp_bail "no free port for the reflector"
fp_free_port CLOSED || fp_bail "no free port to leave closed"

CONF=$FP_DIR/fp.conf
# probes_conf LO_ICMP_INTERVAL TCP_CLOSED_LINE
probes_conf() {
	local v6=
	if [[ $have_v6 -eq 1 ]]; then
		v6="  { name = \"lo6-icmp\"; type = \"icmp\"; target = \"::1\"; $common },
  { name = \"refl6-udp\"; type = \"udp\"; target = \"[::1]:$RPORT\"; size = 100; $common },"
	fi
	cat <<CONF
probes = (
  { name = "lo-icmp"; type = "icmp"; target = "127.0.0.1"; interval = $1; timeout = 2; window = 60; },
$v6
  { name = "refl-udp"; type = "udp"; target = "127.0.0.1:$RPORT"; size = 100; dscp = 46; $common },
  { name = "closed-udp"; type = "udp"; target = "127.0.0.1:$CLOSED"; $common },
  { name = "open-tcp"; type = "tcp"; target = "127.0.0.1:$AGENTX_PORT"; $common }$2
);
reflector = { listen = [ "127.0.0.1:$RPORT"$([[ $have_v6 -eq 1 ]] && echo ", \"[::1]:$RPORT\"") ]; };
CONF
}
common="interval = 0.2; timeout = 2; window = 60;"
closed_tcp=",
  { name = \"closed-tcp\"; type = \"tcp\"; target = \"127.0.0.1:$CLOSED\"; $common }"
fp_write_conf "$CONF" "$(probes_conf 0.2 "$closed_tcp")"
fp_start_flowpathd "$CONF" || fp_bail "flowpathd did not start"
fp_wait_for "fp_get $FP_OID_SYS.1.0 >/dev/null" 15 || fp_bail "flowpathd did not register"
sleep 3

icmp4_mode=$(fp_get "$SOCKETS.1.0")
icmp6_mode=$(fp_get "$SOCKETS.2.0")
fp_assert_match "fpProbeIcmp4Mode is a socket kind" "$icmp4_mode" '^(datagram|raw|unavailable)$'
fp_assert_match "fpProbeIcmp6Mode is a socket kind" "$icmp6_mode" '^(datagram|raw|unavailable)$'
fp_log "ICMP sockets: IPv4 $icmp4_mode, IPv6 $icmp6_mode"

# ------------------------------------------------ rows and configuration
want_rows="closed-tcp closed-udp lo-icmp open-tcp refl-udp"
[[ $have_v6 -eq 1 ]] && want_rows="closed-tcp closed-udp lo-icmp lo6-icmp open-tcp refl-udp refl6-udp"
rows=$(fp_bulkwalk "$PROBE.$C_TYPE" | wc -l)
fp_assert_eq "one fpProbeTable row per configured probe" "$rows" "$(wc -w <<<"$want_rows")"
if mibopts=$(fp_mib_opts) && [[ -n "$mibopts" ]]; then
	# shellcheck disable=SC2086
	table=$(snmptable -v2c -c public $mibopts -Cf '|' -Ci -Cb "127.0.0.1:$FP_SNMPD_PORT" \
		FLOWPATH-MIB::fpProbeTable 2>&1)
	# after the title, a blank line and the header line "index|Type|..."
	names=$(awk -F'|' 'seen { gsub(/"/, "", $1); print $1 } $1 == "index" { seen = 1 }' <<<"$table" |
		sort | tr '\n' ' ')
	fp_assert_eq "snmptable fpProbeTable lists the probes in index order" "$names" "$want_rows "
	fp_assert_match "snmptable shows the types by name" "$table" '"open-tcp"\|tcp\|'
else
	fp_diag "FLOWPATH_MIBDIRS not available: snmptable with names skipped"
fi

fp_assert_eq "lo-icmp: type icmp(1), ipv4(1), no port" "$(pgets lo-icmp $C_TYPE $C_ATYPE $C_PORT)" "1 1 0 "
fp_assert_eq "lo-icmp: address 127.0.0.1" "$(hex_of "$PROBE.$C_ADDR.$(fp_name_index lo-icmp)")" "7F000001"
fp_assert_eq "refl-udp: type udp(2), port $RPORT" "$(pgets refl-udp $C_TYPE $C_PORT)" "2 $RPORT "
fp_assert_eq "refl-udp: interval, timeout (ms), size, window (s)" \
	"$(pgets refl-udp $C_INTERVAL $C_TIMEOUT $C_SIZE $C_WINDOW)" "$INTERVAL_MS $TIMEOUT_MS 100 60 "
fp_assert_eq "refl-udp: dscp 46 is fpProbeTos 184" "$(pget refl-udp $C_TOS)" 184
fp_assert_eq "open-tcp: type tcp(3), snmpd's AgentX port" "$(pgets open-tcp $C_TYPE $C_PORT)" "3 $AGENTX_PORT "
if [[ $have_v6 -eq 1 ]]; then
	fp_assert_eq "lo6-icmp: ipv6(2), address ::1" \
		"$(pget lo6-icmp $C_ATYPE) $(hex_of "$PROBE.$C_ADDR.$(fp_name_index lo6-icmp)")" \
		"2 00000000000000000000000000000001"
fi

# ------------------------------------------------ counters and status
# check_counts PROBE: one request's view of the row adds up.
# Every request is decided once, received or lost (an errored one at its
# timeout); the rest are in flight.
check_counts() {
	local p=$1 sent received lost open
	read -r sent received lost <<<"$(pgets "$p" $C_SENT $C_RECEIVED $C_LOST)"
	open=$((sent - received - lost))
	# (an unanswered GET leaves them empty, and empty is 0 in $(( )))
	if [[ "$sent $received $lost" =~ ^[0-9]+\ [0-9]+\ [0-9]+$ && $open -ge 0 && $open -le $IN_FLIGHT_MAX ]]; then
		fp_ok "$p: sent $sent = received $received + lost $lost + $open in flight"
	else
		fp_not_ok "$p: counters add up" "sent $sent received $received lost $lost" \
			"in flight $open, expected 0..$IN_FLIGHT_MAX"
	fi
}

# check_rtt PROBE: a reachable loopback target.
check_rtt() {
	local p=$1 status received lost late dup foreign last min mean max p50 p95 p99 loss
	read -r status received lost late dup foreign <<<"$(pgets "$p" $C_STATUS $C_RECEIVED $C_LOST $C_LATE $C_DUP $C_FOREIGN)"
	fp_assert_eq "$p: status ok(2)" "$status" $ST_OK
	fp_assert_gt "$p: replies received" "$received" 5
	fp_assert_eq "$p: nothing lost, late, duplicated or foreign on loopback" "$lost $late $dup $foreign" "0 0 0 0"
	read -r last min mean max p50 p95 p99 loss <<<"$(pgets "$p" $C_LAST_RTT $C_MIN $C_MEAN $C_MAX $C_P50 $C_P95 $C_P99 $C_LOSS)"
	# Loopback: above 0 µs and well below 100 ms, in order.
	if (( min > 0 && min <= p50 && p50 <= p95 && p95 <= p99 && p99 <= max &&
	      min <= mean && mean <= max && max < 100000 && last > 0 && last < 100000 )); then
		fp_ok "$p: RTT µs 0 < min $min <= p50 $p50 <= p95 $p95 <= p99 $p99 <= max $max < 100000, mean $mean, last $last"
	else
		fp_not_ok "$p: RTT statistics plausible" "last $last min $min mean $mean max $max p50 $p50 p95 $p95 p99 $p99"
	fi
	fp_assert_eq "$p: fpProbeLossRatio 0" "$loss" 0
	read -r wreceived received <<<"$(pgets "$p" $C_WRECEIVED $C_RECEIVED)"
	fp_assert_eq "$p: fpProbeWindowReceived = fpProbeReceived (the 60 s window holds them all)" \
		"$wreceived" "$received"
	fp_assert_eq "$p: fpProbeLastReply is a DateAndTime of this year" \
		"$(dat_year "$PROBE.$C_LAST_REPLY.$(fp_name_index "$p")")" "$(date +%Y)"
	fp_assert_eq "$p: fpProbeLastChange too" \
		"$(dat_year "$PROBE.$C_CHANGE.$(fp_name_index "$p")")" "$(date +%Y)"
	check_counts "$p"
}

sent1=$(pget lo-icmp $C_SENT)
sleep 1
sent2=$(pget lo-icmp $C_SENT)
fp_assert_gt "fpProbeSent grows (lo-icmp)" "$sent2" "$sent1"

# check_icmp PROBE MODE
check_icmp() {
	if [[ $2 == unavailable ]]; then
		fp_assert_eq "$1: no ICMP socket: status error(5)" "$(pget "$1" $C_STATUS)" $ST_ERROR
		fp_assert_ne "$1: fpProbeLastError says why" "$(pget "$1" $C_ERROR)" ""
	else
		check_rtt "$1"
	fi
}
check_icmp lo-icmp "$icmp4_mode"
[[ $have_v6 -eq 1 ]] && check_icmp lo6-icmp "$icmp6_mode"
check_rtt refl-udp
[[ $have_v6 -eq 1 ]] && check_rtt refl6-udp
check_rtt open-tcp
for p in refl-udp refl6-udp; do
	[[ $p == refl6-udp && $have_v6 -eq 0 ]] && continue
	fp_assert_eq "$p: no forward or reverse loss" "$(pgets $p $C_FWD $C_REV)" "0 0 "
done

read -r status received errors <<<"$(pgets closed-udp $C_STATUS $C_RECEIVED $C_ERRORS)"
fp_assert_eq "closed-udp: status unreachable(4)" "$status" $ST_UNREACHABLE
fp_assert_eq "closed-udp: no reply" "$received" 0
fp_assert_gt "closed-udp: ICMP port unreachable counted in fpProbeErrors" "$errors" 5
fp_assert_match "closed-udp: fpProbeLastError says so" "$(pget closed-udp $C_ERROR)" "port unreachable"
read -r lost loss <<<"$(pgets closed-udp $C_LOST $C_LOSS)"
fp_assert_gt "closed-udp: the errored requests are lost at their timeout" "$lost" 0
fp_assert_eq "closed-udp: fpProbeLossRatio 1000000 (all decided requests lost)" "$loss" 1000000
check_counts closed-udp

read -r received refused <<<"$(pgets closed-tcp $C_RECEIVED $C_REFUSED)"
fp_assert_gt "closed-tcp: connects refused (RST)" "$refused" 5
fp_assert_eq "closed-tcp: the RST is an RTT sample: received = refused" "$received" "$refused"
fp_assert_gt "closed-tcp: an RTT for the RST" "$(pget closed-tcp $C_MEAN)" 0
check_counts closed-tcp
fp_assert_eq "open-tcp: nothing refused" "$(pget open-tcp $C_REFUSED)" 0

# ------------------------------------------------ the reflector
# In this order: replies (read first) <= reflected <= requests (read last).
refl_received=$(pget refl-udp $C_RECEIVED)
[[ $have_v6 -eq 1 ]] && refl_received=$((refl_received + $(pget refl6-udp $C_RECEIVED)))
read -r r_received r_reflected r_malformed r_errors r_evicted r_senders <<<"$(fp_snmp snmpget -Oqv \
	"$REFL.1.0" "$REFL.2.0" "$REFL.3.0" "$REFL.4.0" "$REFL.5.0" "$REFL.6.0" | tr '\n' ' ')"
sleep 0.2	# a row is served from a copy at most 0.1 s old: take a newer one
refl_sent=$(pget refl-udp $C_SENT)
[[ $have_v6 -eq 1 ]] && refl_sent=$((refl_sent + $(pget refl6-udp $C_SENT)))
fp_assert "fpReflReflected ($r_reflected) >= replies the udp probes got ($refl_received)" \
	test "$r_reflected" -ge "$refl_received"
fp_assert "fpReflReflected ($r_reflected) <= requests the udp probes sent ($refl_sent)" \
	test "$r_reflected" -le "$refl_sent"
fp_assert_eq "fpReflReceived = fpReflReflected: every request answered" "$r_received" "$r_reflected"
fp_assert_eq "no malformed datagrams, send errors or evictions" "$r_malformed $r_errors $r_evicted" "0 0 0"
fp_assert_eq "fpReflSenders: one per udp probe of the reflector (address, port, token)" "$r_senders" $((1 + have_v6))

# ------------------------------------------------ Nagios: the real check_snmp
CHECK_SNMP=${CHECK_SNMP:-/usr/lib/nagios/plugins/check_snmp}
if [[ -x "$CHECK_SNMP" ]]; then
	snmp_args=(-H 127.0.0.1 -p "$FP_SNMPD_PORT" -P 2c -C public -o "$PROBE.$C_MEAN.$(fp_name_index refl-udp)" -l rtt_mean -u us)
	out=$("$CHECK_SNMP" "${snmp_args[@]}" -w 50000 -c 100000); rc=$?
	fp_assert_eq "check_snmp: loopback mean RTT under 50 ms is OK (exit 0)" "$rc" 0
	fp_assert_match "check_snmp: perfdata carries fpProbeRttMean" "$out" "rtt_mean=[0-9]+"
	out=$("$CHECK_SNMP" "${snmp_args[@]}" -w 0 -c 0); rc=$?
	fp_assert_eq "check_snmp: any RTT above a 0 µs threshold is CRITICAL (exit 2)" "$rc" 2
else
	fp_diag "check_snmp not installed (monitoring-plugins-standard): Nagios checks skipped"
fi

# ------------------------------------------------ SIGHUP: changed resets, unchanged keeps
kept_before=$(pget refl-udp $C_SENT)
changed_before=$(pget lo-icmp $C_SENT)
fp_write_conf "$CONF" "$(probes_conf 0.25 "")"
fp_signal_flowpathd HUP
fp_wait_for "[ \"\$(pget lo-icmp $C_INTERVAL)\" = 250 ]" 10 || fp_not_ok "the reload took effect"
fp_assert_eq "reloaded: lo-icmp has its new interval" "$(pget lo-icmp $C_INTERVAL)" 250
changed_after=$(pget lo-icmp $C_SENT)
fp_assert "reloaded: the changed probe started again (sent $changed_after < $changed_before)" \
	test "$changed_after" -lt "$changed_before"
kept_after=$(pget refl-udp $C_SENT)
fp_assert "reloaded: the unchanged probe kept its counters (sent $kept_after >= $kept_before)" \
	test "$kept_after" -ge "$kept_before"
if pget closed-tcp $C_TYPE >/dev/null; then
	fp_not_ok "reloaded: the removed probe closed-tcp has no row" "fpProbeType.closed-tcp still answers"
else
	fp_ok "reloaded: the removed probe closed-tcp has no row"
fi
rows=$(fp_bulkwalk "$PROBE.$C_TYPE" | wc -l)
fp_assert_eq "reloaded: one row fewer" "$rows" "$(( $(wc -w <<<"$want_rows") - 1 ))"
fp_assert_eq "reloaded: fpSysConfigReloads is 1" "$(fp_get "$FP_OID_SYS.6.0")" 1

fp_stop_flowpathd
fp_assert_eq "SIGTERM: exit status 0" "$?" 0
fp_stop_snmpd
fp_finish
