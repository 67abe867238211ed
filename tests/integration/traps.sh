# shellcheck shell=bash
#
# Reading FLOWPATH-MIB notifications from the harness's trap log
# ($FP_TRAP_LOG: one "TRAP <source> <oid> = <value>\t..." line per trap).
# Source after harness.sh.

FP_OID_RAISED=$FP_OID_ROOT.0.1
FP_OID_CLEARED=$FP_OID_ROOT.0.2
FP_OID_SUMMARY=$FP_OID_ROOT.0.3
FP_OID_RULE=$FP_OID_ROOT.1.5.1.1	# fpRuleEntry
FP_OID_ALARM=$FP_OID_ROOT.1.5.2.1	# fpAlarmEntry
FP_OID_ALSTATS=$FP_OID_ROOT.1.5.3	# fpAlarmStats

# traps OID [RULE]: the trap lines of one notification (of one rule)
traps() {
	grep -F "= OID: $1"$'\t' "$FP_TRAP_LOG" |
		{ if [[ -n ${2:-} ]]; then grep -F "= STRING: \"$2\""; else cat; fi; }
}
count_traps() { traps "$@" | wc -l | tr -d ' '; }

# wait_alarm_trap OID RULE [INSTANCE] [TIMEOUT]: waits for the notification
# of RULE (and INSTANCE), prints its line
wait_alarm_trap() {
	local re="= OID: $1"$'\t'".*= STRING: \"$2\""
	[[ -n ${3:-} ]] && re+=$'\t'"[^\t]*= STRING: \"$3\""
	fp_wait_trap "$re" "${4:-10}"
}

# vb LINE OID: the value of the varbind OID, or of the first one under OID.
vb() { printf '%s\n' "$1" | tr '\t' '\n' | awk -v p="$2" '
	index($0, p ".") == 1 || index($0, p " ") == 1 { sub(/^[^=]*= /, ""); print; exit }'; }
# vb_index LINE OID-PREFIX: the instance part of the first varbind under OID-PREFIX
vb_index() { printf '%s\n' "$1" | tr '\t' '\n' | awk -v p="$2." '
	index($0, p) == 1 { s = $1; print substr(s, length(p) + 1); exit }'; }
# vb_string LINE OID: a string varbind's text without the type and quotes
vb_string() { local v; v=$(vb "$1" "$2"); v=${v#STRING: }; v=${v#\"}; echo "${v%\"}"; }

# num_cmp A OP B: A > B or A < B, as floating-point numbers
num_cmp() { awk -v a="$1" -v b="$3" -v op="$2" 'BEGIN {
	if (a !~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/) exit 1
	if (op == ">") exit !(a + 0 > b + 0); exit !(a + 0 < b + 0) }'; }

# absent OID: nothing is served there
absent() { ! fp_get "$1" >/dev/null; }

# quiet CMD...: CMD without its output (for fp_assert)
quiet() { "$@" >/dev/null; }
