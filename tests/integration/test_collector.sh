#!/bin/bash
#
# Collector integration test: flowpath-gen exports NetFlow v5, v9 and IPFIX
# (IPv4 and IPv6, several exporters, announced sampling) to flowpathd over
# loopback; fpExporterTable and fpCollectorStats, read with real snmpget and
# snmpbulkwalk through a private snmpd, must match the generator's own ground
# truth exactly, sampling applied. Then hostile and edge input: a sampling
# override, sources outside the allow list, malformed datagrams, a sequence
# gap, and a reload that moves the listen socket without losing state.
#
# Exit: 0 pass, 1 fail, 77 skip (no net-snmp tools), 99 harness error.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=harness.sh
. "$top_srcdir/tests/integration/harness.sh" || exit 99

fp_require_tools
fp_require_flowpathd
fp_require_gen
fp_setup

COL=$FP_OID_ROOT.1.2.1		# fpCollectorStats
EXP=$FP_OID_ROOT.1.2.2.1	# fpExporterEntry
declare -A C=([datagrams]=5 [bytes]=6 [records]=7 [packets]=8 [octets]=9 [lost]=10
	[resets]=11 [templates]=12 [no_template]=13 [m_short]=14 [m_length]=15
	[m_set]=16 [m_template]=17 [m_record]=18 [sampling]=19 [sampling_source]=20)

# exp_index ADDR VERSION DOMAIN: the row index (InetAddressType, InetAddress, version, domain)
exp_index() {
	local a=$1 idx
	if [[ $a == *:* ]]; then
		idx="2.16.$(python_free_v6 "$a")"
	else
		idx="1.4.$a"
	fi
	echo "$idx.$2.$3"
}
# ::1 only (the test's one IPv6 exporter): 15 zero octets and a one.
python_free_v6() { [[ $1 == ::1 ]] || fp_bail "exp_index: only ::1 supported"; echo "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1"; }

exp_get() { fp_get "$EXP.${C[$1]}.$(exp_index "$2" "$3" "$4")"; }

# gen OUTFILE ARGS...: run flowpath-gen, keep its ground truth
gen() {
	local out=$1; shift
	"$GEN" "$@" >"$out" 2>"$out.err" || fp_bail "flowpath-gen $* failed: $(cat "$out.err")"
}
truth() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }

fp_start_snmpd
fp_free_port PORT || fp_bail "no free port"
fp_free_port PORT6 || fp_bail "no free port"
fp_free_port PORT2 || fp_bail "no free port"
CONF=$FP_DIR/fp.conf
collector_conf() {	# collector_conf PORT
	cat <<CONF
collector = {
  listen = [ "127.0.0.1:$1", "[::1]:$PORT6" ];
  allow = [ "127.0.0.0/29", "::1/128" ];
  receive_buffer = 4194304;
  exporters = ( { address = "127.0.0.3"; sampling = 7; } );
};
CONF
}
fp_write_conf "$CONF" "$(collector_conf "$PORT")"
fp_start_flowpathd "$CONF" || fp_bail "flowpathd did not start"
fp_wait_for "fp_get $FP_OID_SYS.1.0 >/dev/null" 15 || fp_bail "flowpathd did not register"
fp_assert_file_match "flowpathd listens on the configured socket" "$FP_FLOWPATHD_LOG" \
	"listening on 127\\.0\\.0\\.1:$PORT"
rmem_max=$(cat /proc/sys/net/core/rmem_max 2>/dev/null || echo 0)
if [[ $rmem_max -lt 4194304 ]]; then
	fp_assert_file_match "the log says the kernel granted less receive buffer than asked" \
		"$FP_FLOWPATHD_LOG" "granted a receive buffer of [0-9]+ bytes, not the 4194304 asked"
fi

# ----------------------------------------------------------- ground truth
# v5: three exporters 127.0.0.1..3, header sampling 1:10 (127.0.0.3 is
# overridden to 1:7 by the configuration); v9 and IPFIX: two exporters each,
# sampling announced in options data; IPFIX over IPv6 from ::1.
gen "$FP_DIR/v5" --dest "127.0.0.1:$PORT" --version 5 --records 30000 --rate 30000 \
	--exporters 3 --sampling 10 --seed 11 --domain 1
gen "$FP_DIR/v9" --dest "127.0.0.1:$PORT" --version 9 --records 30000 --rate 30000 \
	--exporters 2 --sampling 20 --seed 12 --domain 2 --ipv6-share 0.3
gen "$FP_DIR/ipfix" --dest "127.0.0.1:$PORT" --version 10 --records 30000 --rate 30000 \
	--exporters 2 --sampling 50 --seed 13 --domain 3 --ipv6-share 0.5
gen "$FP_DIR/ipfix6" --dest "[::1]:$PORT6" --version 10 --records 5000 --rate 30000 \
	--exporters 1 --seed 14 --domain 4
records_sent=0
for f in v5 v9 ipfix ipfix6; do
	records_sent=$((records_sent + $(truth "$FP_DIR/$f" total.records)))
done
fp_wait_for "[ \"\$(fp_get $COL.8.0)\" = $records_sent ]" 15
fp_assert_eq "fpColRecords equals the records the generator sent" "$(fp_get "$COL.8.0")" "$records_sent"
fp_assert_eq "no kernel drops" "$(fp_get "$COL.4.0")" 0
sleep 1.2	# the exporter table's snapshot is refreshed every second

# check_exporter FILE ADDR VERSION DOMAIN RATE SOURCE [KEY]: one row against
# the generator's lines KEY.* (default exporter.ADDR)
check_exporter() {
	local f=$1 a=$2 v=$3 d=$4 rate=$5 src=$6 k=${7:-exporter.$2} col want
	for col in datagrams bytes records; do
		want=$(truth "$f" "$k.$col")
		fp_assert_eq "v$v $a: fpExp ${col} = generator's $want" "$(exp_get "$col" "$a" "$v" "$d")" "$want"
	done
	for col in packets octets; do
		want=$(( $(truth "$f" "$k.$col") * rate ))
		fp_assert_eq "v$v $a: fpExp ${col} = generator's raw $col x $rate" \
			"$(exp_get "$col" "$a" "$v" "$d")" "$want"
	done
	fp_assert_eq "v$v $a: no loss" "$(exp_get lost "$a" "$v" "$d")" 0
	fp_assert_eq "v$v $a: sampling interval $rate" "$(exp_get sampling "$a" "$v" "$d")" "$rate"
	fp_assert_eq "v$v $a: sampling source $src" "$(exp_get sampling_source "$a" "$v" "$d")" "$src"
	fp_assert_eq "v$v $a: nothing malformed" \
		"$(exp_get m_short "$a" "$v" "$d")$(exp_get m_length "$a" "$v" "$d")$(exp_get m_set "$a" "$v" "$d")$(exp_get m_template "$a" "$v" "$d")$(exp_get m_record "$a" "$v" "$d")" 00000
}
# fpExpSamplingSource: none(1), header(2), optionsTemplate(3), configuration(4)
check_exporter "$FP_DIR/v5" 127.0.0.1 5 1 10 2
check_exporter "$FP_DIR/v5" 127.0.0.2 5 1 10 2
check_exporter "$FP_DIR/v5" 127.0.0.3 5 1 7 4
check_exporter "$FP_DIR/v9" 127.0.0.1 9 2 20 3
check_exporter "$FP_DIR/v9" 127.0.0.2 9 2 20 3
check_exporter "$FP_DIR/ipfix" 127.0.0.1 10 3 50 3
check_exporter "$FP_DIR/ipfix" 127.0.0.2 10 3 50 3
check_exporter "$FP_DIR/ipfix6" ::1 10 4 1 1 total	# one exporter: its totals
fp_assert_gt "v9 templates are held" "$(exp_get templates 127.0.0.1 9 2)" 0
fp_assert_gt "IPFIX templates are held" "$(exp_get templates 127.0.0.1 10 3)" 0

# collector totals, sampling-corrected, against the sum of the ground truths
want_packets=0 want_octets=0
for f in v9 ipfix ipfix6; do
	want_packets=$((want_packets + $(truth "$FP_DIR/$f" total.packets_scaled)))
	want_octets=$((want_octets + $(truth "$FP_DIR/$f" total.octets_scaled)))
done
for a in 127.0.0.1 127.0.0.2; do
	want_packets=$((want_packets + $(truth "$FP_DIR/v5" "exporter.$a.packets") * 10))
	want_octets=$((want_octets + $(truth "$FP_DIR/v5" "exporter.$a.octets") * 10))
done
want_packets=$((want_packets + $(truth "$FP_DIR/v5" exporter.127.0.0.3.packets) * 7))
want_octets=$((want_octets + $(truth "$FP_DIR/v5" exporter.127.0.0.3.octets) * 7))
fp_assert_eq "fpColPackets = sum of sampling-corrected ground truth" "$(fp_get "$COL.9.0")" "$want_packets"
fp_assert_eq "fpColOctets = sum of sampling-corrected ground truth" "$(fp_get "$COL.10.0")" "$want_octets"
fp_assert_eq "fpColExporters counts the rows" "$(fp_get "$COL.12.0")" 8

# snmpbulkwalk of the table sees the same rows as snmpget
rows=$(fp_bulkwalk "$EXP.${C[records]}" | wc -l)
fp_assert_eq "snmpbulkwalk of fpExpRecords returns one value per exporter" "$rows" 8

# ------------------------------------------------------------ allow list
gen "$FP_DIR/denied" --dest "127.0.0.1:$PORT" --version 5 --records 900 --exporters 9 \
	--seed 15 --domain 9
denied=$(( $(truth "$FP_DIR/denied" exporter.127.0.0.8.datagrams) + $(truth "$FP_DIR/denied" exporter.127.0.0.9.datagrams) ))
fp_wait_for "[ \"\$(fp_get $COL.3.0)\" = $denied ]" 5
fp_assert_eq "datagrams from outside collector.allow are counted as denied" "$(fp_get "$COL.3.0")" "$denied"

# -------------------------------------------------- sequence gap (v5 by hand)
# v5 header: version 5, count 1, uptime, secs, nsecs, sequence, engine 0x42/0x01,
# sampling 0; then one 48-byte record. Sequence 0, then 5: four flows lost.
# send BYTES: one datagram. Every write(2) to /dev/udp is a datagram, and
# bash's printf writes in pieces around NUL bytes, so cat writes a file once.
send() {
	printf '%b' "$1" >"$FP_DIR/dgram"
	cat "$FP_DIR/dgram" >&3
}
v5_by_hand() {
	send "\x00\x05\x00\x01\x00\x01\x00\x00\x65\x00\x00\x00\x00\x00\x00\x00\
\x00\x00\x00\x$1\x42\x01\x00\x00\
\x0a\x00\x00\x01\x0a\x00\x00\x02\x00\x00\x00\x00\x00\x01\x00\x02\
\x00\x00\x00\x03\x00\x00\x01\x2c\x00\x00\xff\x00\x00\x01\x00\x00\
\x04\xd2\x00\x50\x00\x10\x06\x00\x00\x00\x00\x00\x18\x18\x00\x00"
}
exec 3>"/dev/udp/127.0.0.1/$PORT" || fp_bail "cannot open /dev/udp"
v5_by_hand 00
v5_by_hand 05
# ---------------------------------------------------------- malformed input
errors0=$(fp_get "$COL.5.0")
send '\x00\x09\x00\x01'					# v9, short header
send '\x00\x0a\x00\x30\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x63'	# IPFIX length past the datagram
send '\x00\x07garbage'					# unknown version
exec 3>&-
fp_wait_for "[ \"\$(fp_get $COL.5.0)\" = $((errors0 + 3)) ]" 5
fp_assert_eq "three malformed datagrams counted as decode errors" "$(fp_get "$COL.5.0")" "$((errors0 + 3))"
fp_assert_eq "the unknown version is counted" "$(fp_get "$COL.6.0")" 1
sleep 1.2
fp_assert_eq "v5 sequence gap: 4 flows lost (engine 0x42/0x01 = domain 16897)" \
	"$(exp_get lost 127.0.0.1 5 16897)" 4
fp_assert_eq "the short v9 datagram is counted on its exporter" "$(exp_get m_short 127.0.0.1 9 0)" 1
fp_assert_eq "the IPFIX length mismatch is counted on its exporter" "$(exp_get m_length 127.0.0.1 10 99)" 1
fp_assert_file_match "rejections are logged" "$FP_FLOWPATHD_LOG" "rejected a datagram from 127\\.0\\.0\\.1"
fp_assert "flowpathd still answers after hostile input" fp_get "$FP_OID_SYS.1.0"

# ------------------------------------------------ kernel drops are visible
# flowpathd stopped, the generator overfills the socket buffer: every
# datagram sent is then either received or counted as a kernel drop. The
# kernel stamps its drop count (SO_RXQ_OVFL) on each datagram it queues, so
# the drops show with the first datagram queued after them: one more is sent.
dgrams0=$(fp_get "$COL.1.0")
kill -STOP "$FP_FLOWPATHD_PID"
gen "$FP_DIR/flood" --dest "127.0.0.1:$PORT" --version 5 --records 150000 --seed 17 --domain 5
kill -CONT "$FP_FLOWPATHD_PID"
fp_wait_for "a=\$(fp_get $COL.1.0); sleep 0.3; [ \"\$a\" = \"\$(fp_get $COL.1.0)\" ]" 10
gen "$FP_DIR/one" --dest "127.0.0.1:$PORT" --version 5 --records 1 --seed 18 --domain 5
sent=$(( $(truth "$FP_DIR/flood" total.datagrams) + 1 ))
fp_wait_for "[ \$(( \$(fp_get $COL.1.0) - dgrams0 + \$(fp_get $COL.4.0) )) -eq $sent ]" 10
drops=$(fp_get "$COL.4.0")
fp_assert_gt "the kernel dropped datagrams while flowpathd was stopped" "$drops" 0
fp_assert_eq "received + kernel drops (fpColKernelDrops) = datagrams sent" \
	"$(( $(fp_get "$COL.1.0") - dgrams0 + drops ))" "$sent"

# --------------------------------------------- reload moves the listen socket
before=$(fp_get "$COL.8.0")
fp_write_conf "$CONF" "$(collector_conf "$PORT2")"
fp_signal_flowpathd HUP
fp_wait_for "grep -q 'listening on 127.0.0.1:$PORT2' '$FP_FLOWPATHD_LOG'" 5
fp_assert_eq "the reload is applied" "$(fp_get "$FP_OID_SYS.6.0")" 1
gen "$FP_DIR/after" --dest "127.0.0.1:$PORT2" --version 5 --records 300 --seed 16 --domain 1
fp_wait_for "[ \"\$(fp_get $COL.8.0)\" = $((before + 300)) ]" 5
fp_assert_eq "records on the new socket add to the kept totals" "$(fp_get "$COL.8.0")" "$((before + 300))"
fp_assert "the old socket is closed" bash -c "! ss -Hlnu '( sport = :$PORT )' | grep -q ."

# ------------------------------------------------- Nagios: the real check_snmp
CHECK_SNMP=${CHECK_SNMP:-/usr/lib/nagios/plugins/check_snmp}
if [[ -x "$CHECK_SNMP" ]]; then
	snmp_args=(-H 127.0.0.1 -p "$FP_SNMPD_PORT" -P 2c -C public)
	out=$("$CHECK_SNMP" "${snmp_args[@]}" -o "$COL.8.0" -w 1: -c 1: -l records); rc=$?
	fp_assert_eq "check_snmp: records flowing is OK (exit 0)" "$rc" 0
	fp_assert_match "check_snmp: perfdata carries fpColRecords as a counter" "$out" \
		"records=$(fp_get "$COL.8.0")c"
	out=$("$CHECK_SNMP" "${snmp_args[@]}" -o "$COL.4.0" -w 0 -c 10 -l kernel_drops); rc=$?
	fp_assert_eq "check_snmp: kernel drops above 10 are CRITICAL (exit 2)" "$rc" 2
	fp_assert_match "check_snmp: says CRITICAL with the drop count" "$out" "CRITICAL.*$drops"
else
	fp_diag "check_snmp not installed (monitoring-plugins-standard): Nagios checks skipped"
fi

fp_stop_flowpathd
fp_assert_eq "SIGTERM: exit status 0" "$?" 0
fp_stop_snmpd
fp_finish
