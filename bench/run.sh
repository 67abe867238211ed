#!/bin/sh
# bench/run.sh: build and run the in-process decode benchmark (decode_bench).
#
#   bench/run.sh [decode_bench options]      e.g. bench/run.sh --version 5 --runs 5
#   bench/run.sh --aggregations 5            the sink feeds 5 aggregations (engine/agg)
#   CALLGRIND=1 bench/run.sh                 instructions per record (valgrind)
#   CALLGRIND=1 CG_VERSIONS="5 10" bench/run.sh --aggregations 5
#
# Options are passed through to decode_bench, also under CALLGRIND=1 (where
# the versions come from CG_VERSIONS, default "5 9 10").
#
# Builds with cc -O2 straight from the sources (no configure needed) into
# $OUT (default /tmp/fp-bench). The figure is records per CPU-second
# (CLOCK_PROCESS_CPUTIME_ID), median of --runs runs (default 5).
set -eu

SRC=${SRC:-$(cd "$(dirname "$0")/.." && pwd)}
OUT=${OUT:-/tmp/fp-bench}
CC=${CC:-cc}
CFLAGS=${CFLAGS:--O2 -g}
mkdir -p "$OUT"

cd "$SRC"
$CC $CFLAGS -std=gnu11 -I"$SRC" -o "$OUT/decode_bench" \
	bench/decode_bench.c \
	collectors/decode.c collectors/netflow_v5.c collectors/netflow_v9.c \
	collectors/ipfix.c collectors/ie.c collectors/template.c \
	collectors/exporter.c collectors/collector.c \
	engine/addr.c engine/units.c engine/key.c engine/agg.c engine/filter.c engine/prefix.c \
	tools/gen_encode.c tools/gen_traffic.c -lm

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
echo "# source $(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$SRC" diff --quiet HEAD -- collectors engine tools 2>/dev/null || echo ' (+ uncommitted changes)')"
echo "# $CC $CFLAGS; load: $(cut -d' ' -f1-3 /proc/loadavg)"

if [ "${CALLGRIND:-0}" = 1 ]; then
	# Instruction counts of the timed function only: exact and repeatable,
	# unlike the timings on a shared 2-core machine.
	for v in ${CG_VERSIONS:-5 9 10}; do
		f=$OUT/callgrind.$v.out
		valgrind --tool=callgrind --callgrind-out-file="$f" --toggle-collect=bench_run \
			"$OUT/decode_bench" --version "$v" --runs 1 --records "${CG_RECORDS:-2000000}" "$@" \
			>"$OUT/callgrind.$v.txt" 2>"$OUT/callgrind.$v.err"
		ir=$(callgrind_annotate "$f" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }')
		# records decoded inside bench_run: warm-up pass + the run
		name=$(case $v in 5) echo v5;; 9) echo v9;; *) echo ipfix;; esac)
		recs=$(awk -v n="$name" '$1 == n".records_per_datagram" { rpd = $2 }
			$1 == n".datagrams" { d = $2 }
			$1 == n".run.1" { r = $3 }
			END { printf "%.0f", r + rpd * d }' "$OUT/callgrind.$v.txt")
		echo "$name.callgrind.instructions $ir"
		echo "$name.callgrind.records $recs"
		awk -v i="$ir" -v r="$recs" -v n="$name" 'BEGIN { printf "%s.callgrind.instructions_per_record %.1f\n", n, i / r }'
	done
	exit 0
fi

# Pinned when possible: one core, like the collector in bench/e2e.sh.
if command -v taskset >/dev/null 2>&1; then
	exec taskset -c "${CPU:-1}" "$OUT/decode_bench" "$@"
fi
exec "$OUT/decode_bench" "$@"
