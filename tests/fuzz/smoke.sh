#!/bin/sh
# make check: a short fuzzing run of every harness (FUZZ_SECONDS, default 5
# each) so that a parser change that crashes on hostile input fails the suite.
# Longer runs: tests/fuzz/run.sh. Skipped (77) without clang's libFuzzer.
set -u
: "${top_srcdir:?}"
if [ -n "${FP_SKIP_INTEGRATION:-}" ]; then
	echo "SKIP: FP_SKIP_INTEGRATION is set (the fuzz smoke run ran in make check)"
	exit 77
fi
if ! command -v clang >/dev/null 2>&1; then
	echo "SKIP: clang not installed (apt-get install clang) - fuzz smoke run skipped"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' |
    clang -fsanitize=fuzzer -x c -o "$tmp/probe" - 2>/dev/null; then
	echo "SKIP: clang has no libFuzzer runtime here - fuzz smoke run skipped"
	exit 77
fi
FUZZ_OUT=$tmp/out FUZZ_CRASHES=$tmp/crashes FUZZ_SECONDS=${FUZZ_SECONDS:-5} \
    sh "$top_srcdir/tests/fuzz/run.sh" || {
	echo "FAIL: a fuzz target crashed, leaked or hung; reproducer:"
	ls "$tmp/crashes"
	mkdir -p "${top_builddir:-.}/fuzz-crashes" && cp "$tmp/crashes"/* "${top_builddir:-.}/fuzz-crashes/" 2>/dev/null
	exit 1
}
