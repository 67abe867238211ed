#!/bin/bash
# configure stops on a missing dependency with a message that names the
# Debian package to install. Each dependency is hidden in turn: pkg-config
# through a wrapper that denies knowing one module, net-snmp-config through
# its cache variable.
set -u
: "${top_srcdir:?}"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
real_pkg_config=$(command -v pkg-config) || { echo "SKIP: no pkg-config"; exit 77; }

pass=0 fail=0
expect_stop() {	# expect_stop DESCRIPTION PACKAGE [VAR=VALUE...]
	local desc=$1 pkg=$2; shift 2
	mkdir -p "$dir/b" && rm -rf "${dir:?}/b/"*
	(cd "$dir/b" && env "$@" "$top_srcdir/configure" -q >"$dir/out" 2>&1)
	local rc=$?
	if [ "$rc" != 0 ] && grep -q "install the Debian package $pkg" "$dir/out"; then
		echo "ok - $desc"; pass=$((pass + 1))
	else
		echo "not ok - $desc (exit $rc)"; tail -n 5 "$dir/out" | sed 's/^/  /'; fail=$((fail + 1))
	fi
}

for m in libconfig:libconfig-dev libpcap:libpcap-dev librrd:librrd-dev cmocka:libcmocka-dev; do
	mod=${m%%:*} pkg=${m#*:}
	cat > "$dir/pkg-config-no-$mod" <<WRAP
#!/bin/sh
for a in "\$@"; do case "\$a" in $mod|$mod\ *) exit 1 ;; esac; done
exec "$real_pkg_config" "\$@"
WRAP
	chmod +x "$dir/pkg-config-no-$mod"
	expect_stop "a missing $mod names $pkg" "$pkg" PKG_CONFIG="$dir/pkg-config-no-$mod"
done
expect_stop "a missing net-snmp-config names libsnmp-dev" libsnmp-dev ac_cv_path_NET_SNMP_CONFIG=no

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
