# shellcheck shell=bash disable=SC2034
# (SC2034: NS_VETH1/NS_VETH2 and the namerefs are for the callers)
#
# Network namespaces for tests and benchmarks (bash library, to be sourced;
# works with or without harness.sh).
#
#   . "$top_srcdir/tests/integration/netns.sh"
#   ns_require                    # exit 77 unless root with iproute2
#   ns_trap                       # EXIT/INT/TERM: ns_cleanup, then the trap already set
#   ns_new A; ns_new B            # A=fpt-<pid>-<n>-<random>, loopback up
#   ns_veth "$A" 10.250.1.1/24 fd00:250:1::1/64 "$B" 10.250.1.2/24 fd00:250:1::2/64
#   ns_sysctl "$B" net.ipv4.icmp_echo_ignore_all=1
#   ns_spawn PID "$B" "$FP_DIR/resp.err" fp_responder icmp ...
#   ns_exec "$A" ping -c 1 10.250.1.2
#   ns_cleanup                    # also run by the trap; safe to call twice
#
# With harness.sh (sourced first), for flowpathd tests:
#   ns_fp_setup                   # tools, root, flowpathd, RESPONDER; fp_setup; ns_trap
#   ns_fp_flowpathd_in "$A"       # fp_start_flowpathd runs flowpathd inside A
#
# Everything here touches only what it created: namespaces with names it
# made up and recorded, veth pairs inside them (deleted with them), and the
# processes it started or that live in those namespaces. A namespace is
# only ever deleted by the name recorded at its creation.
#
# Exit code 77 (automake SKIP) with a message when not root, when `ip` is
# missing or when the kernel refuses `ip netns add`.

NS_LIST=()		# namespaces created here, in creation order
NS_PIDS=()		# processes started with ns_spawn
NS_SEQ=0
NS_VETH_SEQ=0
NS_CLEANED=0
NS_CHAINED_EXIT=

ns__skip() {
	if declare -F fp_skip >/dev/null; then fp_skip "$*"; fi
	printf 'SKIP: %s\n' "$*"
	exit 77
}

ns__say() { printf '# %s\n' "$*" >&2; }

# ns_require: root and iproute2, or exit 77.
ns_require() {
	[[ $(id -u) -eq 0 ]] || ns__skip "network namespaces need root (ip netns add)"
	command -v ip >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin
	command -v ip >/dev/null 2>&1 || ns__skip "'ip' not found (install iproute2)"
}

# ns_trap: EXIT runs ns_cleanup and then whatever EXIT trap was set before
# (harness.sh's fp__on_exit, which stops its processes and exits with the
# test's status). INT and TERM exit (and so run EXIT) unless already trapped.
# shellcheck disable=SC2120  # its $3 is the old trap's command, after set --
ns_trap() {
	local prev
	prev=$(trap -p EXIT)
	if [[ -n "$prev" ]]; then
		eval "set -- $prev"
		NS_CHAINED_EXIT=$3
	fi
	trap 'ns__on_exit' EXIT
	[[ -n "$(trap -p INT)" ]] || trap 'exit 130' INT
	[[ -n "$(trap -p TERM)" ]] || trap 'exit 143' TERM
}

ns__on_exit() {
	local rc=$?
	# harness.sh's processes (flowpathd in a namespace) stop the gentle way first
	if declare -F fp_cleanup_processes >/dev/null && [[ ${FP_CLEANED:-1} -eq 0 ]]; then
		fp_cleanup_processes >/dev/null 2>&1 || { [[ $rc -eq 0 ]] && rc=1; }
	fi
	ns_cleanup || { [[ $rc -eq 0 ]] && rc=1; }
	if [[ -n "$NS_CHAINED_EXIT" ]]; then
		(exit "$rc")
		eval "$NS_CHAINED_EXIT"
	fi
	exit "$rc"
}

# ns_new VAR [TAG]: a new namespace (name stored in VAR) with lo up.
ns_new() {
	local -n nsvar=$1
	local name
	NS_SEQ=$((NS_SEQ + 1))
	name=fpt-$$-$NS_SEQ-$RANDOM${2:+-$2}
	if ! ip netns add "$name" 2>/dev/null; then
		[[ ${#NS_LIST[@]} -eq 0 ]] && ns__skip "'ip netns add' failed: no network namespaces here"
		ns__say "ip netns add $name failed"
		return 1
	fi
	NS_LIST+=("$name")
	ip -n "$name" link set lo up || return 1
	nsvar=$name
}

# ns_exec NS CMD...: CMD inside NS (ip netns exec execs, so $! of a
# backgrounded ns_exec is CMD's PID).
ns_exec() {
	local ns=$1; shift
	ip netns exec "$ns" "$@"
}

# ns_sysctl NS KEY=VALUE...
ns_sysctl() {
	local ns=$1 kv; shift
	for kv in "$@"; do
		ip netns exec "$ns" sysctl -q -w "$kv" >/dev/null || { ns__say "sysctl $kv in $ns failed"; return 1; }
	done
}

# ns_forwarding NS: route between the namespace's links (v4 and v6).
ns_forwarding() {
	ns_sysctl "$1" net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}

# ns_veth NS1 ADDRS1 NS2 ADDRS2: a veth pair between two namespaces, both ends
# up; ADDRS are space-separated "addr/len" (v4 and/or v6; v6 without DAD so
# that it is usable at once). Sets NS_VETH1/NS_VETH2 to the device names.
# The pair goes away with either namespace.
ns_veth() {
	local ns1=$1 a1=$2 ns2=$3 a2=$4 d1 d2 a
	NS_VETH_SEQ=$((NS_VETH_SEQ + 1))
	d1=fpv$$a$NS_VETH_SEQ
	d2=fpv$$b$NS_VETH_SEQ
	ip link add "$d1" netns "$ns1" type veth peer name "$d2" netns "$ns2" || return 1
	for a in $a1; do ns__addr "$ns1" "$d1" "$a" || return 1; done
	for a in $a2; do ns__addr "$ns2" "$d2" "$a" || return 1; done
	ip -n "$ns1" link set "$d1" up && ip -n "$ns2" link set "$d2" up || return 1
	NS_VETH1=$d1
	NS_VETH2=$d2
}

ns__addr() {
	if [[ "$3" == *:* ]]; then
		ip -n "$1" -6 addr add "$3" dev "$2" nodad
	else
		ip -n "$1" addr add "$3" dev "$2"
	fi
}

# ns_spawn VAR NS ERRFILE CMD...: CMD in NS in the background, in its own
# session, stdin from /dev/null, stdout and stderr to ERRFILE; PID in VAR.
ns_spawn() {
	local -n pidvar=$1
	local ns=$2 err=$3; shift 3
	setsid ip netns exec "$ns" "$@" </dev/null >>"$err" 2>&1 &
	pidvar=$!
	NS_PIDS+=("$pidvar")
}

ns__alive() {
	local st
	[[ -r /proc/$1/stat ]] || return 1
	st=$(sed -E 's/^.*\) (.).*$/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ -n "$st" && "$st" != Z && "$st" != X ]]
}

# ns_stop PID [SIGNAL] [SECONDS]: signal (TERM), wait (5 s) then KILL, reap;
# returns the exit status. Only for PIDs from ns_spawn.
ns_stop() {
	local pid=$1 sig=${2:-TERM} secs=${3:-5} i rc p out=()
	[[ -n "$pid" ]] || return 0
	kill -s "$sig" "$pid" 2>/dev/null
	for ((i = 0; i < secs * 20; i++)); do ns__alive "$pid" || break; sleep 0.05; done
	if ns__alive "$pid"; then
		ns__say "process $pid ignored SIG$sig for ${secs}s, sending KILL"
		kill -s KILL "$pid" 2>/dev/null
		for ((i = 0; i < 40; i++)); do ns__alive "$pid" || break; sleep 0.05; done
	fi
	wait "$pid" 2>/dev/null
	rc=$?
	for p in "${NS_PIDS[@]}"; do [[ "$p" != "$pid" ]] && out+=("$p"); done
	NS_PIDS=("${out[@]}")
	return $rc
}

# ns_wait_file FILE SECONDS: until FILE exists (bounded).
ns_wait_file() {
	local i
	for ((i = 0; i < $2 * 20; i++)); do [[ -s "$1" ]] && return 0; sleep 0.05; done
	[[ -s "$1" ]]
}

# ns_fp_setup (with harness.sh): the start of a flowpathd test in namespaces.
# Skips without the net-snmp tools or root, bails without flowpathd or
# tests/tools/fp_responder (its path in RESPONDER); then fp_setup, and
# ns_trap chained to the harness's trap.
# shellcheck disable=SC2119,SC2154  # ns_trap takes no arguments; top_builddir is harness.sh's
ns_fp_setup() {
	RESPONDER=$top_builddir/tests/tools/fp_responder
	fp_require_tools
	ns_require
	fp_require_flowpathd
	[[ -x "$RESPONDER" ]] || fp_bail "fp_responder not built: $RESPONDER"
	fp_setup
	ns_trap
}

# ns_fp_flowpathd_in NS (with harness.sh, after fp_setup): from now on the
# harness starts flowpathd inside NS, through a wrapper in FP_DIR; ip netns
# exec execs, so the PID the harness tracks is flowpathd's.
ns_fp_flowpathd_in() {
	local w=$FP_DIR/flowpathd-in-$1
	cat >"$w" <<EOF || return 1
#!/bin/sh
exec ip netns exec '$1' '$FP_FLOWPATHD' "\$@"
EOF
	chmod 0755 "$w" || return 1
	FP_FLOWPATHD=$w
}

# ns_cleanup: stop what ns_spawn started, kill whatever else still runs in
# our namespaces (only ours: they were created here), delete the namespaces.
# Returns 1 when something could not be removed.
ns_cleanup() {
	local pid ns ok=0 i left
	[[ $NS_CLEANED -eq 1 ]] && return 0
	NS_CLEANED=1
	for pid in "${NS_PIDS[@]}"; do ns_stop "$pid" TERM 3 >/dev/null 2>&1; done
	for ns in "${NS_LIST[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			ns__say "killing $pid left in $ns"
			kill -s KILL "$pid" 2>/dev/null
		done
	done
	for ns in "${NS_LIST[@]}"; do
		for ((i = 0; i < 20; i++)); do
			[[ -z "$(ip netns pids "$ns" 2>/dev/null)" ]] && break
			sleep 0.1
		done
		ip netns del "$ns" 2>/dev/null
		if [[ -e /run/netns/$ns ]]; then
			ns__say "namespace $ns could not be deleted"
			ok=1
		fi
	done
	left=$(ip netns list 2>/dev/null | awk -v p="fpt-$$-" 'index($1, p) == 1 { print $1 }')
	if [[ -n "$left" ]]; then
		ns__say "namespaces left: $left"
		ok=1
	fi
	NS_LIST=()
	return $ok
}
