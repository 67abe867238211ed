#!/bin/bash
# flowpathd's command line: exact exit codes and messages, -t, the pid file,
# detaching, and SIGTERM. Needs no snmpd: a missing AgentX master is normal.
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
fpd=$top_builddir/flowpathd
dir=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	rm -rf "$dir"
}
trap cleanup EXIT

pass=0 fail=0
check() {	# check DESCRIPTION EXPECTED ACTUAL
	if [ "$2" == "$3" ]; then
		echo "ok - $1"; pass=$((pass + 1))
	else
		echo "not ok - $1"; echo "  expected: $2"; echo "  actual:   $3"; fail=$((fail + 1))
	fi
}
run() {		# run ARGS...: sets out, err, rc
	out=$("$fpd" "$@" 2>"$dir/stderr"); rc=$?; err=$(cat "$dir/stderr")
}
wait_gone() {	# wait_gone PID: up to 5 s
	for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
	return 1
}

version=$(sed -n 's/^AC_INIT(\[flowpath\], \[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac")
run -V
check "-V prints the version" "0 flowpathd $version" "$rc $out"
run -h
check "-h exits 0" 0 "$rc"
check "-h prints usage on stdout" "usage: flowpathd [-fht] [-c file]" "$(echo "$out" | head -n1)"
run -x
check "an unknown option exits 2 with usage on stderr" "2 yes" "$rc $(echo "$err" | grep -q '^usage: flowpathd' && echo yes)"
run -c a.conf extra
check "a stray argument exits 2" 2 "$rc"

run -t -c "$top_srcdir/conf/flowpathd.conf"
check "-t accepts the annotated example" "0 $top_srcdir/conf/flowpathd.conf: configuration OK" "$rc $out"
sed -e "s|@STATEDIR@|$dir|g" -e "s|@PORT@|10161|g" "$top_srcdir/conf/flowpathd-demo.conf" > "$dir/demo.conf"
run -t -c "$dir/demo.conf"
check "-t accepts the demo configuration" 0 "$rc"

cat > "$dir/bad.conf" <<'CONF'
agentx = { socket = "tcp:127.0.0.1:705"; ping_intervall = 5; };
probes = (
  { name = "a"; type = "icmp"; target = "127.0.0.1"; interval = 0; },
  { name = "a"; type = "ping"; target = "127.0.0.1"; }
);
CONF
run -t -c "$dir/bad.conf"
check "-t exits 1 on errors" 1 "$rc"
check "-t prints nothing on stdout for a bad file" "" "$out"
check "-t lists every error with file:line" "$dir/bad.conf:1: agentx.ping_intervall: unknown setting
$dir/bad.conf:3: probes[0].interval: must be between 0.01 and 86400 seconds (got 0)
$dir/bad.conf:4: probes[1].name: duplicate name \"a\" (first at line 3)
$dir/bad.conf:4: probes[1].type: must be one of icmp, udp, tcp (got \"ping\")" "$err"

run -t -c "$dir/missing.conf"
check "-t on a missing file exits 1 and says why" "1 $dir/missing.conf: cannot open: No such file or directory" "$rc $err"

printf 'agentx = { socket = "unix:%s/none.sock"; };\ndaemon = { pidfile = "%s/fp.pid"; };\n' "$dir" "$dir" > "$dir/run.conf"
"$fpd" -f -c "$dir/run.conf" 2>"$dir/fg.log" & fg=$!; pids+=("$fg")
for _ in $(seq 50); do [ -s "$dir/fp.pid" ] && break; sleep 0.1; done
check "-f writes its pid to the pid file" "$fg" "$(cat "$dir/fp.pid" 2>/dev/null)"
run -f -c "$dir/run.conf"
check "a second instance is refused while the first runs" "1 flowpathd: already running (pid $fg, pid file $dir/fp.pid)" "$rc $err"
kill -TERM "$fg"; wait "$fg"; rc=$?
check "SIGTERM stops the foreground daemon with status 0" 0 "$rc"
check "the pid file is removed on exit" no "$( [ -e "$dir/fp.pid" ] && echo yes || echo no)"
check "the foreground log says it could not reach the master yet" yes "$(grep -q "AgentX master unix:$dir/none.sock not reachable yet" "$dir/fg.log" && echo yes || echo no)"

"$fpd" -c "$dir/run.conf"; rc=$?
check "without -f it detaches and the parent exits 0" 0 "$rc"
for _ in $(seq 50); do [ -s "$dir/fp.pid" ] && break; sleep 0.1; done
bg=$(cat "$dir/fp.pid" 2>/dev/null)
if [ -n "$bg" ]; then pids+=("$bg"); fi
check "the detached daemon runs under the pid in its pid file" yes "$( [ -n "$bg" ] && kill -0 "$bg" 2>/dev/null && echo yes || echo no)"
check "the detached daemon has no controlling terminal and is its own session's child" "?" "$(ps -o tty= -p "${bg:-1}" | tr -d ' ')"
kill -INT "${bg:-0}" 2>/dev/null
check "SIGINT stops the detached daemon" yes "$(wait_gone "${bg:-0}" && echo yes || echo no)"
check "the detached daemon removed its pid file" no "$( [ -e "$dir/fp.pid" ] && echo yes || echo no)"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
