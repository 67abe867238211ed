#!/bin/bash
#
# Aggregation integration test: flowpath-gen sends a known mix (IPFIX, a
# third of the keys IPv6, sampling 1:10 announced in options data); after the
# 10-second interval closes, fpTopTable read with snmpbulkwalk and snmptable
# must match the generator's top 10 destination ports and source addresses to
# the byte (sampling applied); a filtered aggregation, the traffic matrix
# between named networks, fpAggTable totals and fpKeyTable's stable rows with
# cumulative counters over two intervals are checked too.
#
# Exit: 0 pass, 1 fail, 77 skip (no net-snmp tools), 99 harness error.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=harness.sh
. "$top_srcdir/tests/integration/harness.sh" || exit 99

fp_require_tools
fp_require_flowpathd
fp_require_gen
fp_setup

AGG=$FP_OID_ROOT.1.3.1.1	# fpAggEntry
TOP=$FP_OID_ROOT.1.3.2.1	# fpTopEntry
KEY=$FP_OID_ROOT.1.3.3.1	# fpKeyEntry
RATE=10

top_get() { fp_get "$TOP.$2.$(fp_name_index "$1").$3"; }	# top_get AGG COLUMN RANK
agg_get() { fp_get "$AGG.$2.$(fp_name_index "$1")"; }	# agg_get AGG COLUMN
truth() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }
gen() {
	local out=$1; shift
	"$GEN" "$@" >"$out" 2>"$out.err" || fp_bail "flowpath-gen $* failed: $(cat "$out.err")"
}

# wait_phase S: until the wall clock is S seconds into a 10-second interval
wait_phase() {
	local i
	for ((i = 0; i < 120; i++)); do
		(( $(date +%s) % 10 == $1 )) && return 0
		sleep 0.1
	done
	fp_bail "clock phase $1 not reached"
}

fp_start_snmpd
fp_free_port PORT || fp_bail "no free port"
CONF=$FP_DIR/fp.conf
# agg_conf CAMPUS_V4_PREFIX: the configuration (a reload test changes the prefix)
agg_conf() {
	cat <<CONF
collector = { listen = [ "127.0.0.1:$PORT" ]; receive_buffer = 8388608; };
networks = (
  { name = "campus"; prefixes = [ "$1", "2001:db8:0:1::/64" ]; },
  { name = "transit"; prefixes = [ "198.18.0.0/15" ]; }
);
aggregations = (
  { name = "dst-port"; key = [ "dst_port" ]; interval = 10; top = 10; },
  { name = "src-addr"; key = [ "src_addr" ]; interval = 10; top = 10; retention = 60; },
  { name = "matrix";   key = [ "src_network", "dst_network" ]; interval = 10; top = 10; },
  { name = "web-dns";  key = [ "dst_port" ]; interval = 10; top = 5;
    filter = "dst port 22 or proto udp and dst port 123"; }
);
CONF
}
fp_write_conf "$CONF" "$(agg_conf 10.0.0.0/8)"
fp_start_flowpathd "$CONF" || fp_bail "flowpathd did not start"
fp_wait_for "fp_get $FP_OID_SYS.1.0 >/dev/null" 15 || fp_bail "flowpathd did not register"

# ------------------------------------------------ interval 1: ground truth
wait_phase 1
gen "$FP_DIR/g1" --dest "127.0.0.1:$PORT" --version 10 --records 20000 --rate 20000 \
	--keys 2000 --ipv6-share 0.3 --sampling $RATE --seed 21
end1=$(agg_get dst-port 8)
fp_wait_for "[ \"\$(agg_get dst-port 8)\" != '$end1' ]" 15 || fp_bail "the interval did not close"
sleep 0.3

records=$(truth "$FP_DIR/g1" total.records)
# Exact figures need every datagram: a kernel drop would explain a mismatch.
fp_assert_eq "no kernel drops (fpColKernelDrops)" "$(fp_get "$FP_OID_ROOT.1.2.1.4.0")" 0
fp_assert_eq "fpAggFlows = the records sent" "$(agg_get dst-port 12)" "$records"
fp_assert_eq "fpAggPackets = the generator's packets x $RATE" "$(agg_get dst-port 13)" \
	"$(truth "$FP_DIR/g1" total.packets_scaled)"
fp_assert_eq "fpAggOctets = the generator's octets x $RATE" "$(agg_get dst-port 14)" \
	"$(truth "$FP_DIR/g1" total.octets_scaled)"
fp_assert_eq "the interval is exact" "$(agg_get dst-port 10)" 1

# check_top AGG KIND FIELD: ranks 1..10 against top.KIND.I.*
check_top() {
	local agg=$1 kind=$2 field=$3 i
	for ((i = 1; i <= 10; i++)); do
		local k=top.$kind.$i
		fp_assert_eq "$agg rank $i: key ${field} $(truth "$FP_DIR/g1" "$k.$field")" \
			"$(top_get "$agg" 2 "$i")" "$(truth "$FP_DIR/g1" "$k.$field")"
		fp_assert_eq "$agg rank $i: flows" "$(top_get "$agg" 3 "$i")" "$(truth "$FP_DIR/g1" "$k.records")"
		fp_assert_eq "$agg rank $i: packets x $RATE" "$(top_get "$agg" 4 "$i")" \
			"$(( $(truth "$FP_DIR/g1" "$k.packets") * RATE ))"
		fp_assert_eq "$agg rank $i: octets x $RATE" "$(top_get "$agg" 5 "$i")" \
			"$(( $(truth "$FP_DIR/g1" "$k.octets") * RATE ))"
	done
}
check_top dst-port dst_port port
check_top src-addr src_addr addr
fp_assert_eq "typed column fpTopPort of rank 1" "$(top_get dst-port 11 1)" "$(truth "$FP_DIR/g1" top.dst_port.1.port)"
if ! grep -q '^top.src_addr.[0-9]*.addr .*:' "$FP_DIR/g1"; then
	fp_diag "no IPv6 source in the generator's top 10 this run"
fi

# snmpbulkwalk gives the same ranking as snmpget
walked=$(fp_bulkwalk "$TOP.5.$(fp_name_index dst-port)" | awk '{ print $2 }' | head -n 10 | tr '\n' ' ')
want=""
for ((i = 1; i <= 10; i++)); do want+="$(( $(truth "$FP_DIR/g1" top.dst_port.$i.octets) * RATE )) "; done
fp_assert_eq "snmpbulkwalk of fpTopOctets (dst-port) is the ranking" "$walked" "$want"

# snmptable with the MIB, for people
if mibopts=$(fp_mib_opts); then
	# shellcheck disable=SC2086
	table=$(snmptable -v2c -c public $mibopts -Cf '|' -Ci "127.0.0.1:$FP_SNMPD_PORT" FLOWPATH-MIB::fpTopTable 2>&1)
	fp_assert_match "snmptable shows rank 1 of dst-port with its port" "$table" \
		"\"dst-port\"\\.1\\|$(truth "$FP_DIR/g1" top.dst_port.1.port)\\|"
else
	fp_diag "FLOWPATH_MIBDIRS not available: snmptable with names skipped"
fi

# the filter: port 22 (tcp) or udp port 123 (and binds tighter than or)
for port in 22 123; do
	for ((i = 1; i <= 10; i++)); do
		[[ "$(truth "$FP_DIR/g1" top.dst_port.$i.port)" == "$port" ]] && break
	done
	[[ $i -le 10 ]] || fp_bail "port $port not in the generator's top 10"
	eval "octets_$port=\$(( \$(truth \"\$FP_DIR/g1\" top.dst_port.$i.octets) * RATE ))"
done
fp_assert_eq "filtered aggregation: fpAggOctets = ports 22 + 123" "$(agg_get web-dns 14)" "$((octets_22 + octets_123))"
fp_assert_eq "filtered aggregation has exactly two keys" "$(agg_get web-dns 9)" 2

# the traffic matrix: v4 campus -> transit, v6 campus -> other
m=$(fp_bulkwalk "$TOP.2.$(fp_name_index matrix)" | cut -d' ' -f2- | tr -d '"' | sort | tr '\n' ';')
fp_assert_eq "traffic matrix rows by network name" "$m" "campus other;campus transit;"
sum=0
for ((i = 1; i <= 2; i++)); do sum=$((sum + $(top_get matrix 5 $i))); done
fp_assert_eq "traffic matrix rows add up to the interval's octets" "$sum" "$(agg_get matrix 14)"
fp_assert_eq "traffic matrix: nothing left in other" "$(agg_get matrix 17)" 0

# ---------------------------------- fpKeyTable: stable rows, cumulative
keyrows=$(fp_bulkwalk "$KEY.5.$(fp_name_index src-addr)" | wc -l)
fp_assert_eq "fpKeyTable holds the 10 top source addresses" "$keyrows" 10
first_key_oid=$(fp_bulkwalk "$KEY.5.$(fp_name_index src-addr)" | head -n 1 | cut -d' ' -f1)
first_key_octets=$(fp_get "$first_key_oid")
key_suffix=${first_key_oid#"$KEY.5."}
key_text=$(fp_get "$KEY.2.$key_suffix")

# interval 2: the same mix again; the key keeps its row and adds its counts
wait_phase 1
gen "$FP_DIR/g2" --dest "127.0.0.1:$PORT" --version 10 --records 20000 --rate 20000 \
	--keys 2000 --ipv6-share 0.3 --sampling $RATE --seed 21
end2=$(agg_get src-addr 8)
fp_wait_for "[ \"\$(agg_get src-addr 8)\" != '$end2' ]" 15 || fp_bail "the second interval did not close"
sleep 0.3
fp_assert_eq "the key keeps its row (same index, same text)" "$(fp_get "$KEY.2.$key_suffix")" "$key_text"
fp_assert_eq "its counter doubled: the same traffic twice" "$(fp_get "$KEY.5.$key_suffix")" "$((first_key_octets * 2))"

# ------------------------------------------------------------- reloads
# The same configuration again keeps every aggregation's open interval; a
# changed network prefix rebuilds the aggregations that use networks only.
# All of it within one interval: start early in one.
(( $(date +%s) % 10 <= 5 )) || wait_phase 1
gen "$FP_DIR/g3" --dest "127.0.0.1:$PORT" --version 10 --records 2000 --rate 100000 \
	--keys 2000 --seed 22
fp_wait_for "[ \"\$(agg_get matrix 18)\" -ge 2000 ]" 5
run_matrix=$(agg_get matrix 18) run_port=$(agg_get dst-port 18)
fp_signal_flowpathd HUP
fp_wait_for "[ \"\$(fp_get $FP_OID_SYS.6.0)\" = 1 ]" 5
fp_assert_eq "identical reload: the matrix keeps its open interval" "$(agg_get matrix 18)" "$run_matrix"
fp_write_conf "$CONF" "$(agg_conf 10.0.0.0/9)"
fp_signal_flowpathd HUP
fp_wait_for "[ \"\$(fp_get $FP_OID_SYS.6.0)\" = 2 ]" 5
fp_assert_eq "a changed network prefix restarts the matrix" "$(agg_get matrix 18)" 0
fp_assert_eq "and leaves the aggregations without networks alone" "$(agg_get dst-port 18)" "$run_port"

fp_stop_flowpathd
fp_assert_eq "SIGTERM: exit status 0" "$?" 0
fp_stop_snmpd
fp_finish
