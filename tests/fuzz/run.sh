#!/bin/sh
# Builds the libFuzzer harnesses with clang (ASan + UBSan) and runs each for
# FUZZ_SECONDS (default 30). Crashes are kept in tests/fuzz/crashes/; each
# one becomes a named regression test with its bytes.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${FUZZ_OUT:-$top/_build/fuzz}
secs=${FUZZ_SECONDS:-30}
crashes=${FUZZ_CRASHES:-$top/tests/fuzz/crashes}
mkdir -p "$out" "$crashes"
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I$top"

clang $flags $(pkg-config --cflags libconfig) -o "$out/fuzz_config" \
    "$top/tests/fuzz/fuzz_config.c" "$top/subagent/config.c" \
    "$top/engine/addr.c" "$top/engine/units.c" $(pkg-config --libs libconfig)
clang $flags -o "$out/fuzz_text" "$top/tests/fuzz/fuzz_text.c" \
    "$top/engine/addr.c" "$top/engine/units.c"

export LSAN_OPTIONS="suppressions=$top/tests/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
for t in fuzz_config fuzz_text; do
	mkdir -p "$out/corpus-$t"
	[ "$t" = fuzz_config ] && cp "$top"/conf/*.conf "$top"/tests/unit/conf/*.conf "$out/corpus-$t/" 2>/dev/null || true
	echo "== $t for ${secs}s"
	"$out/$t" -max_total_time="$secs" -max_len=4096 -timeout=5 \
	    -artifact_prefix="$crashes/$t-" "$out/corpus-$t" || {
		echo "$t failed: the input is in $crashes/"; exit 1; }
done
