#!/bin/sh
# check-mib.sh: lint FLOWPATH-MIB and check that the C side agrees with it.
#
# Automake test: exit 0 pass, 77 skip, 1 fail.
#
# Environment (set by "make check"; all optional when run by hand):
#   top_srcdir        source tree (default: two levels above this script)
#   top_builddir      build tree holding fp_root.h (default: none; the
#                     header is then generated into a temp dir)
#   SMILINT           path of smilint (default: smilint from PATH)
#   SNMPTRANSLATE     path of snmptranslate (default: from PATH)
#   FLOWPATH_MIBDIRS  colon-separated directories holding the IETF modules
#                     FLOWPATH-MIB imports (default: $top_srcdir/../shared/mibs)
#   FLOWPATH_NETSNMP_MIBDIR  directory holding NET-SNMP-MIB.txt (default:
#                     /usr/share/snmp/mibs or /usr/local/share/snmp/mibs)
#   FLOWPATH_MIB      the module file to check (default:
#                     $top_srcdir/mibs/FLOWPATH-MIB.txt); point it at a
#                     modified copy to see what the checks say about it
#   FLOWPATH_MIB_SELFTEST=no  skip the negative self-tests
#
# Checks:
#   a. smilint -l 6 prints nothing at all for the module;
#   b. snmptranslate -m FLOWPATH-MIB -PW resolves every descriptor the module
#      defines, with no error or warning about the module;
#   c. the numeric OID of FLOWPATH-MIB::flowpathMIB equals FP_ROOT_OID in
#      $top_builddir/fp_root.h (C and MIB cannot drift), and equals what
#      mibs/root-oid.awk derives from the module;
#   d. every fpSys* object has the OID, MAX-ACCESS and SYNTAX the C code
#      (subagent/mib_system.c) implements, and no fpSys* object is missing
#      or unknown to this script;
#   self-test: deliberately broken copies of the module must make a, b, c
#      and d fail, so the checks above are known to have teeth.

set -u

me=check-mib.sh
say() { printf '%s: %s\n' "$me" "$*"; }
skip() { say "SKIP: $*"; exit 77; }

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-}
mib=${FLOWPATH_MIB:-$top_srcdir/mibs/FLOWPATH-MIB.txt}
mibdirs=${FLOWPATH_MIBDIRS:-$top_srcdir/../shared/mibs}
rootawk=$top_srcdir/mibs/root-oid.awk
awk=${AWK:-awk}

# ---- preconditions: anything missing that is not ours means "skip" ----

SMILINT=${SMILINT:-$(command -v smilint 2>/dev/null || true)}
SNMPTRANSLATE=${SNMPTRANSLATE:-$(command -v snmptranslate 2>/dev/null || true)}
[ -n "$SMILINT" ] && [ -x "$SMILINT" ] ||
	skip "smilint (libsmi, Debian package smitools) not found; MIB lint not run. Install it or set SMILINT=/path/to/smilint."
[ -n "$SNMPTRANSLATE" ] && [ -x "$SNMPTRANSLATE" ] ||
	skip "snmptranslate (Net-SNMP, Debian package snmp) not found; MIB checks not run. Install it or set SNMPTRANSLATE=/path/to/snmptranslate."

old_ifs=$IFS; IFS=:
for d in $mibdirs; do
	if [ ! -d "$d" ]; then
		IFS=$old_ifs
		skip "MIB directory '$d' does not exist. FLOWPATH-MIB imports IETF modules (SNMPv2-SMI, SNMPv2-TC, SNMPv2-CONF) that Debian does not ship, so FLOWPATH-MIB cannot be linted or loaded without them; all MIB checks skipped. Set FLOWPATH_MIBDIRS to a directory (or colon-separated list) holding those modules, e.g. FLOWPATH_MIBDIRS=/path/to/ietf-mibs make check."
	fi
done
IFS=$old_ifs

# FLOWPATH-MIB imports only IETF modules; Net-SNMP's own directory is on the
# path for snmptranslate's sake, whether or not it exists.
netsnmp_mibdir=${FLOWPATH_NETSNMP_MIBDIR:-/usr/share/snmp/mibs}

if [ ! -f "$mib" ]; then say "FAIL: module file '$mib' not found"; exit 1; fi
if [ ! -f "$rootawk" ]; then say "FAIL: '$rootawk' not found"; exit 1; fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-mib.XXXXXX") || { say "FAIL: mktemp"; exit 1; }
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

# Keep the user's and the system's tool configuration out of the checks:
# no snmp.conf (it may say "mibs +ALL"), no persistent dir, no smi.conf.
mkdir "$tmp/snmpconf" "$tmp/persist" "$tmp/persist/cert_indexes" "$tmp/run"
: > "$tmp/smi.conf"
SNMPCONFPATH=$tmp/snmpconf
SNMP_PERSISTENT_DIR=$tmp/persist
export SNMPCONFPATH SNMP_PERSISTENT_DIR
unset MIBS MIBDIRS SMIPATH 2>/dev/null || true

# Expected fpSys* objects: descriptor, OID below flowpathMIB, MAX-ACCESS,
# SYNTAX as "snmptranslate -Td" shows it (TC name first when there is one).
# These are what subagent/mib_system.c serves; keep them in step with it.
expected_sys() {
	cat <<'EOF'
fpSysVersion              1.1.1 read-only DisplayString OCTET STRING (0..32)
fpSysStartTime            1.1.2 read-only DateAndTime OCTET STRING (8 | 11)
fpSysUpTime               1.1.3 read-only TimeTicks
fpSysConfigFile           1.1.4 read-only DisplayString OCTET STRING (0..255)
fpSysConfigLoadTime       1.1.5 read-only DateAndTime OCTET STRING (8 | 11)
fpSysConfigReloads        1.1.6 read-only Counter32
fpSysConfigReloadFailures 1.1.7 read-only Counter32
fpSysConfigLastError      1.1.8 read-only DisplayString OCTET STRING (0..255)
fpSysAgentxConnects       1.1.9 read-only Counter32
EOF
}

# Expected structure nodes: descriptor, OID below flowpathMIB ("-" = root).
expected_nodes() {
	cat <<'EOF'
flowpathMIB     -
fpNotifications 0
fpObjects       1
fpConformance   2
fpSystem        1.1
fpCompliances   2.1
fpGroups        2.2
fpCompliance    2.1.1
fpSystemGroup   2.2.1
EOF
}

# Descriptors defined by a module file (definitions start in column 0).
descriptors() {
	"$awk" '/^[a-z][A-Za-z0-9-]*[ \t]+(OBJECT-TYPE|OBJECT IDENTIFIER|MODULE-IDENTITY|OBJECT-IDENTITY|OBJECT-GROUP|NOTIFICATION-TYPE|NOTIFICATION-GROUP|MODULE-COMPLIANCE|AGENT-CAPABILITIES)/ { print $1 }' "$1"
}

# ---- check a: smilint ----
# check_smilint FILE: smilint at level 6 must print nothing.
check_smilint() {
	(cd "$tmp/run" && SMIPATH="$mibdirs:$netsnmp_mibdir:$(dirname "$1")" \
		"$SMILINT" -c "$tmp/smi.conf" -l 6 -s "$1") > "$tmp/smilint.out" 2>&1
	if [ -s "$tmp/smilint.out" ]; then
		say "FAIL: smilint -l 6 reports on $1:"
		sed 's/^/    /' "$tmp/smilint.out"
		return 1
	fi
	return 0
}

# ---- snmptranslate wrapper ----
# xlate FILE ARGS...: run snmptranslate with FLOWPATH-MIB from FILE's
# directory; stdout in $tmp/xl.out; returns 1 (and prints why) on a
# non-zero exit, on any stderr line that is not known noise from the IETF
# modules, or on an error pattern anywhere.
xlate() {
	xl_file=$1; shift
	(cd "$tmp/run" && "$SNMPTRANSLATE" \
		-M "$mibdirs:$netsnmp_mibdir:$(dirname "$xl_file")" \
		-m FLOWPATH-MIB -PW "$@") > "$tmp/xl.out" 2> "$tmp/xl.err"
	xl_rc=$?
	# Known noise under -PW: the MACRO notices of SNMPv2-SMI/SNMPv2-TC,
	# Net-SNMP's "string too long" warning about the long DESCRIPTIONs of
	# SNMPv2-TC (RowStatus), i.e. warnings located in files not ours, and
	# "No known translation for type" for a table's conceptual-row SEQUENCE
	# type (Net-SNMP says it of every table, IF-MIB's IfEntry too) when that
	# type is a SEQUENCE defined in the module.
	seqtypes=$(sed -n 's/^\([A-Z][A-Za-z0-9]*\) *::= *SEQUENCE.*/\1/p' "$xl_file" | tr '\n' ' ')
	"$awk" -v ours="$(basename "$xl_file")" -v pdir="$SNMP_PERSISTENT_DIR" -v seqtypes=" $seqtypes" '
		index($0, "Created directory: " pdir) == 1 { next }
		/^Warning: No known translation for type \([A-Za-z0-9]+\): / {
			t = $0
			sub(/^Warning: No known translation for type \(/, "", t)
			sub(/\).*$/, "", t)
			if (index(seqtypes, " " t " ") > 0)
				next
		}
		/^[A-Z][A-Z0-9-]* MACRO \(lines [0-9]+\.\.[0-9]+ parsed and ignored\)\.$/ { next }
		/^Warning: string too long \(/ && match($0, / At line [0-9]+ in [^ ]+$/) {
			f = substr($0, RSTART)
			sub(/^ At line [0-9]+ in /, "", f)
			sub(/^.*\//, "", f)
			if (f != ours)
				next
		}
		{ print }' "$tmp/xl.err" > "$tmp/xl.bad"
	# -On prints only an OID; anything else there is a message too.
	if [ "$1" = -On ]; then
		grep -E 'Cannot find module|Undefined identifier|Unlinked OID|Did not find|Bad parse|Expected|Warning|[Ee]rror|Unknown Object Identifier' \
			"$tmp/xl.out" >> "$tmp/xl.bad"
	fi
	if [ "$xl_rc" -ne 0 ] || [ -s "$tmp/xl.bad" ]; then
		say "FAIL: snmptranslate $* (exit $xl_rc):"
		sed 's/^/    /' "$tmp/xl.bad"
		return 1
	fi
	return 0
}

# ---- check b: every descriptor resolves cleanly ----
check_translate() {
	ct_rc=0
	ct_n=0
	for obj in $(descriptors "$1"); do
		ct_n=$((ct_n + 1))
		xlate "$1" -On "FLOWPATH-MIB::$obj" || { ct_rc=1; continue; }
		if ! grep -Eq '^(\.[0-9]+)+$' "$tmp/xl.out"; then
			say "FAIL: snmptranslate -On FLOWPATH-MIB::$obj gave '$(cat "$tmp/xl.out")'"
			ct_rc=1
		fi
	done
	if [ "$ct_n" -eq 0 ]; then
		say "FAIL: no descriptors found in $1"
		ct_rc=1
	fi
	return $ct_rc
}

# ---- check c: root OID of the MIB == FP_ROOT_OID of the C header ----
# check_root FILE HEADER
check_root() {
	xlate "$1" -On FLOWPATH-MIB::flowpathMIB || return 1
	cr_mib=$(cat "$tmp/xl.out")
	cr_hdr=$(sed -n 's/^#define FP_ROOT_OID[ \t][ \t]*\([0-9][0-9,]*\)[ \t]*$/\1/p' "$2" | tr , .)
	if [ -z "$cr_hdr" ]; then
		say "FAIL: no '#define FP_ROOT_OID n,n,...' in $2"
		return 1
	fi
	if [ "$cr_mib" != ".$cr_hdr" ]; then
		say "FAIL: flowpathMIB is $cr_mib in the MIB but FP_ROOT_OID is .$cr_hdr in $2"
		return 1
	fi
	if ! "$awk" -f "$rootawk" "$1" > "$tmp/fresh.h"; then
		say "FAIL: mibs/root-oid.awk cannot read the root of $1"
		return 1
	fi
	cr_fresh=$(sed -n 's/^#define FP_ROOT_OID[ \t][ \t]*\([0-9][0-9,]*\)[ \t]*$/\1/p' "$tmp/fresh.h" | tr , .)
	if [ "$cr_mib" != ".$cr_fresh" ]; then
		say "FAIL: snmptranslate says flowpathMIB is $cr_mib, mibs/root-oid.awk derives .$cr_fresh"
		return 1
	fi
	root=$cr_mib
	return 0
}

# ---- check d: fpSys* objects and structure nodes where the C code expects ----
check_objects() {
	co_rc=0
	xlate "$1" -On FLOWPATH-MIB::flowpathMIB || return 1
	co_root=$(cat "$tmp/xl.out")
	while read -r name sfx; do
		xlate "$1" -On "FLOWPATH-MIB::$name" || { co_rc=1; continue; }
		if [ "$sfx" = - ]; then want=$co_root; else want=$co_root.$sfx; fi
		got=$(cat "$tmp/xl.out")
		if [ "$got" != "$want" ]; then
			say "FAIL: $name is $got, expected $want"
			co_rc=1
		fi
	done <<EOF
$(expected_nodes)
EOF
	while read -r name sfx access syntax; do
		xlate "$1" -On "FLOWPATH-MIB::$name" || { co_rc=1; continue; }
		got=$(cat "$tmp/xl.out")
		if [ "$got" != "$co_root.$sfx" ]; then
			say "FAIL: $name is $got, expected $co_root.$sfx (flowpathMIB.$sfx)"
			co_rc=1
		fi
		xlate "$1" -Td "FLOWPATH-MIB::$name" || { co_rc=1; continue; }
		got=$("$awk" '
			/^  -- TEXTUAL CONVENTION / { tc = $4 }
			/^  SYNTAX[ \t]/ { s = $0; sub(/^  SYNTAX[ \t]+/, "", s); sub(/[ \t]+$/, "", s) }
			/^  MAX-ACCESS[ \t]/ { a = $2 }
			END { print a " " (tc != "" ? tc " " : "") s }' "$tmp/xl.out")
		if [ "$got" != "$access $syntax" ]; then
			say "FAIL: $name is '$got', expected '$access $syntax'"
			co_rc=1
		fi
	done <<EOF
$(expected_sys)
EOF
	# fpSys* in the module and in the list above must be the same set.
	descriptors "$1" | grep '^fpSys[A-Z]' | sort > "$tmp/sys.mib"
	expected_sys | "$awk" '{ print $1 }' | sort > "$tmp/sys.want"
	if ! cmp -s "$tmp/sys.mib" "$tmp/sys.want"; then
		say "FAIL: fpSys* objects differ from the list in tests/mib/check-mib.sh (< module, > expected):"
		diff "$tmp/sys.mib" "$tmp/sys.want" | grep '^[<>]' | sed 's/^/    /'
		co_rc=1
	fi
	return $co_rc
}

# ---- run the checks on the module ----

fails=0
say "module:    $mib"
say "MIB path:  $mibdirs:$netsnmp_mibdir:$(dirname "$mib")"
say "smilint:   $SMILINT; snmptranslate: $SNMPTRANSLATE"

if check_smilint "$mib"; then
	say "ok: smilint -l 6 -s: no output"
else
	fails=$((fails + 1))
fi

if check_translate "$mib"; then
	say "ok: snmptranslate -m FLOWPATH-MIB -PW -On resolves all $(descriptors "$mib" | wc -l | tr -d ' ') descriptors without errors or warnings about FLOWPATH-MIB (ignored: MACRO notices and \"string too long\" warnings located in the IETF modules)"
else
	fails=$((fails + 1))
fi

if [ -n "$top_builddir" ]; then
	header=$top_builddir/fp_root.h
	if [ ! -f "$header" ]; then
		say "FAIL: $header not found (the build generates it from the MIB with mibs/root-oid.awk)"
		fails=$((fails + 1))
		header=
	fi
else
	header=$tmp/fp_root.h
	say "note: top_builddir not set; checking a header generated now from $mib"
	"$awk" -f "$rootawk" "$mib" > "$header" ||
		{ say "FAIL: mibs/root-oid.awk failed"; fails=$((fails + 1)); header=; }
fi
root=
if [ -n "$header" ]; then
	if check_root "$mib" "$header"; then
		say "ok: flowpathMIB = $root = FP_ROOT_OID in $header = mibs/root-oid.awk"
	else
		fails=$((fails + 1))
	fi
fi

if check_objects "$mib"; then
	say "ok: structure nodes and $(expected_sys | wc -l | tr -d ' ') fpSys* objects have the expected OIDs, MAX-ACCESS and SYNTAX:"
	xlate "$mib" -On FLOWPATH-MIB::flowpathMIB && r=$(cat "$tmp/xl.out")
	expected_sys | while read -r name sfx access syntax; do
		printf '    %-26s %s.%s %s %s\n' "$name" "$r" "$sfx" "$access" "$syntax"
	done
else
	fails=$((fails + 1))
fi

# ---- self-test: broken copies must be caught ----
# neg NAME STAGE FILTER...: copy the module through FILTER (a command
# reading stdin, e.g. sed 's/a/b/'), and require that STAGE (a shell
# function taking the copy's path) fails on the copy.

neg() {
	neg_name=$1 neg_stage=$2
	shift 2
	neg_dir=$tmp/neg/$(printf '%s' "$neg_name" | tr -c 'A-Za-z0-9' _)
	mkdir -p "$neg_dir"
	"$@" < "$mib" > "$neg_dir/FLOWPATH-MIB.txt"
	if cmp -s "$mib" "$neg_dir/FLOWPATH-MIB.txt"; then
		say "FAIL: self-test '$neg_name': the edit did not apply to the module; update the self-test"
		return 1
	fi
	if $neg_stage "$neg_dir/FLOWPATH-MIB.txt" > "$neg_dir/log" 2>&1; then
		say "FAIL: self-test '$neg_name': $neg_stage accepted a broken module"
		return 1
	fi
	say "ok: self-test '$neg_name' caught by $neg_stage: $("$awk" '
		NR == 1 { sub(/^check-mib.sh: FAIL: /, ""); if ($0 !~ /:$/) { print; exit } }
		NR == 2 { sub(/^ +/, ""); print; exit }' "$neg_dir/log" | cut -c1-160)"
	return 0
}

if [ "${FLOWPATH_MIB_SELFTEST:-yes}" = no ]; then
	say "note: self-tests skipped (FLOWPATH_MIB_SELFTEST=no)"
elif [ -z "$header" ]; then
	say "note: self-tests skipped (no header to compare with)"
else
	check_root_hdr() { check_root "$1" "$header"; }
	neg "unused import" check_smilint \
		sed 's/^\([ \t]*MODULE-IDENTITY, OBJECT-TYPE\),/\1, Gauge32,/' || fails=$((fails + 1))
	neg "decorative comment" check_smilint \
		sed 's/^-- fpSystem: .*/----- fpSystem -----/' || fails=$((fails + 1))
	neg "undefined parent" check_translate \
		sed 's/::= { fpSystem 9 }/::= { fpSystm 9 }/' || fails=$((fails + 1))
	neg "over-long DESCRIPTION (Net-SNMP warning)" check_translate \
		"$awk" '/^ *"Initial revision/ { s = ""; for (i = 0; i < 500; i++) s = s "long text "; print "        \"" s "\""; next } { print }' || fails=$((fails + 1))
	neg "wrong type" check_objects \
		sed '/^fpSysUpTime OBJECT-TYPE/,/::=/s/SYNTAX      TimeTicks/SYNTAX      Counter32/' || fails=$((fails + 1))
	neg "renumbered object" check_objects \
		sed 's/::= { fpSystem 3 }/::= { fpSystem 13 }/' || fails=$((fails + 1))
	neg "moved root" check_root_hdr \
		sed -e 's/::= { fpNetSnmpPlaypen \([0-9]*\) }/::= { fpNetSnmpPlaypen 9\1 }/' \
		    -e 's/::= { enterprises \([0-9]*\) }/::= { enterprises 9\1 }/' || fails=$((fails + 1))
fi

if [ "$fails" -ne 0 ]; then
	say "FAIL: $fails check(s) failed"
	exit 1
fi
say "PASS"
exit 0
