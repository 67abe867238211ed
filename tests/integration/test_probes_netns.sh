#!/bin/bash
#
# Probes against ground truth, in two network namespaces this test creates:
# flowpathd runs in A (its AgentX unix socket reaches the private snmpd in
# the test's own namespace through the file system); B holds the targets,
# each answered by tests/tools/fp_responder with a scripted impairment and
# a log of what it did to every request. B's kernel is told to ignore echo
# requests, so every ICMP reply is the responder's. All probes run at once,
# 10-20 ms apart, each to its own address of B:
#
#   base   ICMP, no delay                       the path's own RTT
#   delay  ICMP, 20 ms, every 10th of 200 dropped
#   late   ICMP, timeout 200 ms, request 20 held 400 ms
#   dup    ICMP, request 20 answered twice
#   v6     ICMPv6, 5 ms, every 5th of 50 dropped
#   udp    UDP echo (RFC 862), 10 ms +- 2 ms uniform, seeded
#   tcp-open / tcp-closed   TCP connect to a listener and to a closed port
#
# The drop/late/dup rules cover the first N requests; later requests are
# answered with the scripted delay. Phase 1, once request N + (timeout +
# 0.3 s) / interval has arrived: every scripted loss is decided and nothing
# else can be lost, so fpProbeLost, fpProbeLate and fpProbeDuplicates must
# equal the log's counts exactly. Then the targets are made unreachable in A
# (sends fail at once, counted as errors) and, when the responders have sent
# all they hold, phase 2: fpProbeReceived equals the replies the log says
# were sent, fpProbeSent minus the failed sends equals the requests B saw,
# and the RTT statistics are checked against the logged holds (the hold is
# measured by the responder from its kernel receive stamp to its send):
# mean RTT - mean hold is small and positive, the same within 100 us with
# and without delay, and jitter (RFC 3550) and mean |IPDV| (RFC 3393) are
# within 15 % of what this test computes from the holds.
#
# The SYN/ACK comes from B's kernel, so TCP has no scripted delay: the test
# checks that connects succeed with an RTT near the path's and that a closed
# port is refused (an RTT sample, fpProbeRefused).
#
# Exit: 0 pass, 1 fail, 77 skip (not root, no namespaces, no net-snmp
# tools), 99 harness error.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=harness.sh
. "$top_srcdir/tests/integration/harness.sh" || exit 99
# shellcheck source=netns.sh
. "$top_srcdir/tests/integration/netns.sh" || exit 99

ns_fp_setup

PROBE=$FP_OID_ROOT.1.4.1.1	# fpProbeEntry
C_STATUS=11 C_SENT=14 C_RECEIVED=15 C_LOST=16 C_LATE=17 C_DUP=18 C_ERRORS=19
C_REFUSED=20 C_MEAN=26 C_P50=29 C_JITTER=32 C_IPDV=33 C_WRECEIVED=35

# --------------------------------------------------------------- namespaces
ns_new NS_A a
ns_new NS_B b
NET=10.250.1
NET6=fd00:250:1
b_addrs="$NET.2/24 $NET6::2/64"
for h in 11 12 13 14 15 16; do b_addrs+=" $NET.$h/24"; done
ns_veth "$NS_A" "$NET.1/24 $NET6::1/64" "$NS_B" "$b_addrs" || fp_bail "veth pair"
# Replies from a target made unreachable in A must still be taken in.
ns_sysctl "$NS_A" net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
	"net.ipv4.conf.$NS_VETH1.rp_filter=0" || fp_bail "rp_filter"
# Neighbours resolved while B's kernel still answers, so the first probes
# do not wait for ARP/ND; then the kernel goes silent.
for h in 11 12 13 14 15 16; do ns_exec "$NS_A" ping -q -c 1 -W 2 "$NET.$h" >/dev/null 2>&1; done
ns_exec "$NS_A" ping -6 -q -c 1 -W 2 "$NET6::2" >/dev/null 2>&1
ns_sysctl "$NS_B" net.ipv4.icmp_echo_ignore_all=1 net.ipv6.icmp.echo_ignore_all=1 ||
	fp_bail "icmp_echo_ignore_all"
fp_log "namespaces $NS_A (flowpathd) and $NS_B (targets)"

# --------------------------------------------------------------- scenarios
# name type target interval_ms timeout_ms N responder-args...
SCEN=(
	"base icmp $NET.11 10 500 100 icmp --dst $NET.11"
	"delay icmp $NET.12 10 500 200 icmp --dst $NET.12 --delay 20000 --drop-every 10"
	"late icmp $NET.13 10 200 60 icmp --dst $NET.13 --delay 1000 --late 20 --late-hold 400000"
	"dup icmp $NET.14 10 500 60 icmp --dst $NET.14 --delay 1000 --dup 20 --dup-gap 2000"
	"v6 icmp $NET6::2 10 500 50 icmp -6 --dst $NET6::2 --delay 5000 --drop-every 5"
	"udp udp $NET.15:7007 10 500 200 udp 7007 --bind $NET.15 --delay 10000 --jitter 2000 --seed 42"
	"tcp-open tcp $NET.16:7008 20 500 50 tcp 7008 --bind $NET.16"
	"tcp-closed tcp $NET.16:7009 20 500 50 -"
)
declare -A S_TYPE S_TARGET S_IV S_TO S_N S_PID S_LOG S_ADDR S_ARGS
NAMES=()
for line in "${SCEN[@]}"; do
	read -r name type target iv to n args <<<"$line"
	NAMES+=("$name")
	S_TYPE[$name]=$type S_TARGET[$name]=$target S_IV[$name]=$iv S_TO[$name]=$to S_N[$name]=$n
	S_ARGS[$name]=$args
	addr=${target%:[0-9]*}
	[[ $type == icmp ]] && addr=$target
	S_ADDR[$name]=$addr
	[[ "$args" == - ]] && continue
	S_LOG[$name]=$FP_DIR/resp-$name.log
	# shellcheck disable=SC2086  # args are words
	ns_spawn "S_PID[$name]" "$NS_B" "$FP_DIR/resp-$name.err" "$RESPONDER" $args \
		--script-until "$n" --max-requests $((n + 2000)) --max-time 60 \
		--log "${S_LOG[$name]}" --ready "$FP_DIR/resp-$name.ready"
done
for name in "${NAMES[@]}"; do
	[[ -n "${S_LOG[$name]:-}" ]] || continue
	ns_wait_file "$FP_DIR/resp-$name.ready" 5 || {
		cat "$FP_DIR/resp-$name.err" >&2
		fp_bail "responder $name did not start"
	}
done

# --------------------------------------------------------------- flowpathd
fp_start_snmpd
probes=
for name in "${NAMES[@]}"; do
	probes+="  { name = \"$name\"; type = \"${S_TYPE[$name]}\"; target = \"${S_TARGET[$name]}\";"
	probes+=" interval = $(awk -v m="${S_IV[$name]}" 'BEGIN { print m / 1000 }');"
	probes+=" timeout = $(awk -v m="${S_TO[$name]}" 'BEGIN { print m / 1000 }'); window = 60; },"$'\n'
done
fp_write_conf "$FP_DIR/fp.conf" "probes = (
${probes%,$'\n'}
);"
ns_fp_flowpathd_in "$NS_A" || fp_bail "flowpathd wrapper"
fp_assert "flowpathd -t accepts the probe configuration" "$FP_FLOWPATHD" -t -c "$FP_DIR/fp.conf"
fp_start_flowpathd "$FP_DIR/fp.conf" || fp_bail "flowpathd did not start"
t_start=$SECONDS

# pgets NAME COLUMN...: the columns of one row in one request (one snapshot)
pgets() { fp_row_gets "$PROBE" "$@"; }
fp_wait_for "fp_get $PROBE.$C_SENT.$(fp_name_index base)" 10 ||
	fp_bail "no fpProbeTable row for 'base' within 10 s"

# log_max_idx LOG: the highest request index logged so far
log_max_idx() { awk '!/^#/ && $1 > m { m = $1 } END { print m + 0 }' "$1"; }

# --------------------------------------------------------------- phase 1
declare -A P1
for name in "${NAMES[@]}"; do
	[[ -n "${S_LOG[$name]:-}" ]] || continue
	margin=$(( (S_TO[$name] + 300 + S_IV[$name] - 1) / S_IV[$name] ))
	want=$((S_N[$name] + margin))
	limit=$(( want * S_IV[$name] / 1000 + 10 ))
	if ! fp_wait_for "[ \$(log_max_idx '${S_LOG[$name]}') -ge $want ]" "$limit" 0.05; then
		fp_not_ok "$name: the responder saw $want requests within $limit s" \
			"it saw $(log_max_idx "${S_LOG[$name]}")"
		continue
	fi
	# sent received lost late dup errors
	P1[$name]=$(pgets "$name" $C_SENT $C_RECEIVED $C_LOST $C_LATE $C_DUP $C_ERRORS)
done
t_phase1=$SECONDS
# tcp-closed has no responder: by now it has run as long as tcp-open
P1[tcp-closed]=$(pgets tcp-closed $C_SENT $C_RECEIVED $C_LOST $C_LATE $C_DUP $C_ERRORS)

# Stop the probes' traffic: sends to an unreachable route fail at once.
for name in "${NAMES[@]}"; do
	fam=; [[ "${S_ADDR[$name]}" == *:* ]] && fam=-6
	ip -n "$NS_A" $fam route replace unreachable "${S_ADDR[$name]}" 2>/dev/null ||
		fp_bail "unreachable route for ${S_ADDR[$name]}"
done

# The responders finish what they hold (a log line per request when done).
log_complete() { awk '!/^#/ { n++; if ($1 > m) m = $1 } END { exit !(n == m) }' "$1"; }
for name in "${NAMES[@]}"; do
	[[ -n "${S_LOG[$name]:-}" ]] || continue
	fp_wait_for "log_complete '${S_LOG[$name]}'" 5 0.05 ||
		fp_not_ok "$name: the responder sent everything it held within 5 s"
done
sleep 0.1	# the last replies' way back

# --------------------------------------------------------------- phase 2
declare -A P2
for name in "${NAMES[@]}"; do
	# sent received errors mean p50 jitter ipdv wreceived refused status
	P2[$name]=$(pgets "$name" $C_SENT $C_RECEIVED $C_ERRORS $C_MEAN $C_P50 $C_JITTER $C_IPDV \
		$C_WRECEIVED $C_REFUSED $C_STATUS)
done
for name in "${NAMES[@]}"; do
	[[ -n "${S_PID[$name]:-}" ]] && ns_stop "${S_PID[$name]}"
done
fp_log "probing took $((t_phase1 - t_start)) s to phase 1"

# truth LOG: from the responder's log, in request order:
#   requests answered dropped late dup mean_hold_us p50_hold_us jitter_us ipdv_us
# A sample is a request that got its reply in time (answered, or the first
# copy of a dup); its transit is its hold. jitter: RFC 3550 6.4.1 over the
# samples in order, J += (|D| - J) / 16; ipdv: mean |hold(i) - hold(i-1)|
# over consecutive requests that are both samples (RFC 3393).
truth() {
	grep -v '^#' "$1" | sort -n -k1,1 | awk '
	{ n++; a[$8]++ }
	$8 == "answered" || $8 == "dup" {
		h = $10 / 1000; s[++ns] = h; sum += h
		if (ns > 1) { d = h - prev; if (d < 0) d = -d; j += (d - j) / 16 }
		if (pidx == $1 - 1 && ns > 1) { d = h - prev; ipdv += (d < 0 ? -d : d); np++ }
		prev = h; pidx = $1
	}
	END {
		# nearest-rank median of the holds
		for (i = 2; i <= ns; i++) { v = s[i]; for (k = i - 1; k >= 1 && s[k] > v; k--) s[k + 1] = s[k]; s[k + 1] = v }
		r = int((ns + 1) / 2); if (r < 1) r = 1
		printf "%d %d %d %d %d %.3f %.3f %.3f %.3f\n", n, a["answered"] + a["dup"], a["dropped"],
		    a["late"], a["dup"], ns ? sum / ns : 0, ns ? s[r] : 0, j, np ? ipdv / np : 0
	}'
}
# scripted_ipdv LOG: mean |script(i) - script(i-1)| of the delays the
# responder drew (its script_ns column), in request order: what the seeded
# +-2 ms jitter is, whatever the responder's own timer adds under load.
scripted_ipdv() {
	grep -v '^#' "$1" | sort -n -k1,1 | awk '
	NR > 1 { d = $9 - prev; sum += (d < 0 ? -d : d); n++ }
	{ prev = $9 }
	END { printf "%.3f\n", n ? sum / n / 1000 : 0 }'
}
# scripted NAME: "drops lates dups" as the scenario's arguments ask for them
# (--drop-every D over the first N requests: N / D of them)
scripted() {
	local -a a
	local i d=0 l=0 u=0
	read -r -a a <<<"${S_ARGS[$1]}"
	for ((i = 0; i + 1 < ${#a[@]}; i++)); do
		case ${a[i]} in
		--drop-every) d=$((S_N[$1] / a[i + 1])) ;;
		--late) l=$(tr ',' '\n' <<<"${a[i + 1]}" | wc -l) ;;
		--dup) u=$(tr ',' '\n' <<<"${a[i + 1]}" | wc -l) ;;
		esac
	done
	echo "$d $l $u"
}
# within A B PCT: |A - B| <= PCT % of B
within() { awk -v a="$1" -v b="$2" -v p="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(b > 0 && d <= b * p / 100) }'; }
# between X LO HI: LO < X < HI (decimals)
between() { awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(x > lo && x < hi) }'; }

declare -A BASE_US
check_exact() {	# name: the counters against the log
	local name=$1 req ans drop late dup mh mp50 j ipdv
	local s1 r1 l1 la1 d1 e1 s2 r2 e2 mean p50 jit ipd wr
	read -r req ans drop late dup mh mp50 j ipdv < <(truth "${S_LOG[$name]}")
	read -r s1 r1 l1 la1 d1 e1 <<<"${P1[$name]}"
	read -r s2 r2 e2 mean p50 jit ipd wr _ <<<"${P2[$name]}"
	fp_log "$name: log requests=$req replies=$ans dropped=$drop late=$late dup=$dup mean_hold=${mh}us;" \
		"phase 1 sent=$s1 received=$r1 lost=$l1 late=$la1 dup=$d1 errors=$e1;" \
		"phase 2 sent=$s2 received=$r2 errors=$e2 mean=${mean}us p50=${p50}us jitter=${jit}us ipdv=${ipd}us"
	fp_assert_eq "$name: the responder dropped, held late and doubled what was scripted" \
		"$drop $late $dup" "$(scripted "$name")"
	fp_assert_eq "$name: fpProbeLost = the requests dropped or held past the timeout" "$l1" "$((drop + late))"
	fp_assert_eq "$name: fpProbeLate = the replies held past the timeout" "$la1" "$late"
	fp_assert_eq "$name: fpProbeDuplicates = the requests answered twice" "$d1" "$dup"
	fp_assert_eq "$name: no errors before the cut" "$e1" 0
	fp_assert_eq "$name: fpProbeReceived = the replies sent in time (late and duplicate ones are no samples)" \
		"$r2" "$ans"
	fp_assert_eq "$name: fpProbeSent - failed sends = the requests the target saw" \
		"$((s2 - (e2 - e1)))" "$req"
	fp_assert_eq "$name: fpProbeWindowReceived = fpProbeReceived (the window covers the run)" "$wr" "$r2"
	fp_assert "$name: 0 < mean RTT - mean hold < 300 us (mean ${mean}us, hold ${mh}us)" \
		between "$(awk -v a="$mean" -v b="$mh" 'BEGIN { print a - b }')" 0 300
	BASE_US[$name]=$(awk -v a="$mean" -v b="$mh" 'BEGIN { print a - b }')
	S_JIT[$name]="$j $ipdv $mp50"
}
declare -A S_JIT
for name in base delay late dup v6 udp; do
	[[ -n "${P1[$name]:-}" && -n "${P2[$name]:-}" ]] || { fp_not_ok "$name: counters read"; continue; }
	check_exact "$name"
done

# (1) the scripted 20 ms come out as 20 ms: what is not hold is the path, the same as without delay
if [[ -n "${BASE_US[base]:-}" && -n "${BASE_US[delay]:-}" ]]; then
	fp_assert "delay: mean RTT - 20 ms scripted is the base RTT within 100 us (base ${BASE_US[base]}us, with delay ${BASE_US[delay]}us beyond the holds)" \
		between "$(awk -v a="${BASE_US[delay]}" -v b="${BASE_US[base]}" 'BEGIN { print a - b }')" -100 100
	read -r _ _ _ _ _ mh _ <<<"$(truth "${S_LOG[delay]}")"
	fp_assert "delay: the responder held 20 ms and a little (mean hold ${mh}us)" between "$mh" 20000 21000
fi

# (2) jitter and IPDV against the holds
if [[ -n "${S_JIT[udp]:-}" ]]; then
	read -r j ipdv mp50 <<<"${S_JIT[udp]}"
	read -r _ _ _ _ p50 jit ipd _ <<<"${P2[udp]}"
	fp_assert "udp: fpProbeJitter ${jit}us within 15 % of RFC 3550 J of the holds (${j}us)" within "$jit" "$j" 15
	fp_assert "udp: fpProbeIpdv ${ipd}us within 15 % of the holds' mean |IPDV| (${ipdv}us)" within "$ipd" "$ipdv" 15
	sipdv=$(scripted_ipdv "${S_LOG[udp]}")
	fp_assert "udp: the scripted +-2 ms: mean |IPDV| of the drawn delays near 4/3 ms (${sipdv}us)" between "$sipdv" 1000 1700
	fp_assert "udp: the holds carry that jitter: their mean |IPDV| (${ipdv}us) is at least 90 % of the drawn delays'" \
		between "$ipdv" "$(awk -v a="$sipdv" 'BEGIN { print a * 0.9 }')" 100000
	fp_assert "udp: 0 < fpProbeRttP50 - median hold < 300 us (${p50}us, ${mp50}us)" \
		between "$(awk -v a="$p50" -v b="$mp50" 'BEGIN { print a - b }')" 0 300
fi

# (6) TCP: connects to the listener; the closed port refuses, an RTT sample all the same
read -r s1 r1 l1 _ _ e1 <<<"${P1[tcp-open]:-}"
read -r s2 r2 e2 mean _ _ _ _ ref st <<<"${P2[tcp-open]:-}"
accepted=$(grep -vc '^#' "${S_LOG[tcp-open]}")
fp_log "tcp-open: phase 1 sent=$s1 received=$r1 lost=$l1 errors=$e1; phase 2 received=$r2 mean=${mean}us refused=$ref; accepted=$accepted"
fp_assert "tcp-open: connects succeed (received $r1 of $s1 sent, none lost)" \
	test "${r1:-0}" -ge "${S_N[tcp-open]}" -a "${l1:-1}" -eq 0 -a "${e1:-1}" -eq 0
fp_assert_eq "tcp-open: none refused" "$ref" 0
fp_assert_eq "tcp-open: the listener accepted every connection that was made" "$accepted" "$r2"
fp_assert "tcp-open: connect RTT ${mean}us within 1 ms of the path's ${BASE_US[base]:-?}us" \
	between "$mean" 0 "$(awk -v b="${BASE_US[base]:-0}" 'BEGIN { print b + 1000 }')"
read -r s1 r1 l1 _ _ e1 <<<"${P1[tcp-closed]:-}"
read -r s2 r2 e2 mean _ _ _ _ ref st <<<"${P2[tcp-closed]:-}"
fp_log "tcp-closed: phase 1 sent=$s1 received=$r1 lost=$l1 errors=$e1; phase 2 received=$r2 refused=$ref mean=${mean}us status=$st"
fp_assert "tcp-closed: refused connects are answered, none lost ($r1 of $s1)" \
	test "${r1:-0}" -ge "${S_N[tcp-closed]}" -a "${l1:-1}" -eq 0 -a "${e1:-1}" -eq 0
fp_assert "tcp-closed: fpProbeRefused = fpProbeReceived >= phase 1's (every reply an RST; $ref, $r2)" \
	test "${ref:-x}" = "${r2:-y}" -a "${r2:-0}" -ge "${r1:-1}"
fp_assert "tcp-closed: the RST gives an RTT (${mean}us)" between "$mean" 0 \
	"$(awk -v b="${BASE_US[base]:-0}" 'BEGIN { print b + 1000 }')"

# The table as an operator reads it, through the master, with MIB names.
mapfile -t mibopts < <(fp_mib_opts)
if [[ ${#mibopts[@]} -gt 0 ]]; then
	tbl=$(snmptable -v2c -c public -t 2 -r 1 "${mibopts[@]}" -Cf '|' -Cb -Ci \
		"127.0.0.1:$FP_SNMPD_PORT" FLOWPATH-MIB::fpProbeTable 2>&1)
	rows=$(grep -Ec '^"?(base|delay|late|dup|v6|udp|tcp-open|tcp-closed)"?\|' <<<"$tbl")
	fp_assert_eq "snmptable shows the 8 probe rows" "$rows" 8 || printf '%s\n' "$tbl" | head -5 | sed 's/^/#   /'
else
	fp_log "no MIB directory: snmptable not tried"
fi

fp_assert "flowpathd still answers" fp_get "$FP_OID_SYS.1.0"
fp_stop_flowpathd
fp_assert "namespaces and their processes removed" ns_cleanup
fp_finish
