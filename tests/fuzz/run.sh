#!/bin/sh
# Builds every libFuzzer harness tests/fuzz/fuzz_*.c with clang (ASan +
# UBSan) against the pure modules (engine/, the decoders in collectors/, the
# probe cores in probes/, the configuration loader, the alarm state file's
# lines) and runs each for
# FUZZ_SECONDS (default 30), seeded
# from tests/fuzz/corpus/NAME/. Crashes are kept in FUZZ_CRASHES (default
# tests/fuzz/crashes/); each one becomes a named regression test with its bytes.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${FUZZ_OUT:-$top/_build/fuzz}
secs=${FUZZ_SECONDS:-30}
crashes=${FUZZ_CRASHES:-$top/tests/fuzz/crashes}
mkdir -p "$out" "$crashes"
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I$top"
pure="$top/subagent/config.c $top/subagent/alarm_state.c"
for f in "$top"/engine/*.c; do
	pure="$pure $f"
done
for f in decode netflow_v5 netflow_v9 ipfix ie template exporter collector; do
	pure="$pure $top/collectors/$f.c"
done
for f in pstats psched pmatch pwire; do
	pure="$pure $top/probes/$f.c"
done
export LSAN_OPTIONS="suppressions=$top/tests/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

for src in "$top"/tests/fuzz/fuzz_*.c; do
	t=$(basename "$src" .c)
	# shellcheck disable=SC2086
	clang $flags $(pkg-config --cflags libconfig) -o "$out/$t" "$src" $pure \
	    $(pkg-config --libs libconfig)
	mkdir -p "$out/corpus-$t"
	[ -d "$top/tests/fuzz/corpus/$t" ] && cp "$top/tests/fuzz/corpus/$t"/* "$out/corpus-$t/" 2>/dev/null
	[ "$t" = fuzz_config ] && cp "$top"/conf/*.conf "$top"/tests/unit/conf/*.conf "$out/corpus-$t/" 2>/dev/null
	echo "== $t for ${secs}s"
	"$out/$t" -max_total_time="$secs" -max_len=65535 -timeout=5 -rss_limit_mb=1024 \
	    -artifact_prefix="$crashes/$t-" "$out/corpus-$t" || {
		echo "$t failed: the input is in $crashes/"; exit 1; }
done
