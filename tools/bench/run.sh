#!/usr/bin/env bash
# run.sh: the benchmark suite (`make bench`).  Runs each measure
# (tools/bench/m*.sh; BENCH=m1,m5 selects some) in its own process and test
# bed, then writes the tables, $O/bench/results.json, the plots and
# Documentation/benchmarks.md (tools/bench/report.sh).  A measure that
# fails or cannot run is reported and the others still run; the exit status
# is 1 when any failed, 77 when every one skipped itself.  BENCH_QUICK=1:
# tiny sizes, for a smoke run.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
O=${O:-build}
case $O in /*) ;; *) O=$top/$O ;; esac
export O BENCH_OUT=${BENCH_OUT:-$O/bench}
doc=${BENCH_DOC:-$top/Documentation/benchmarks.md}
failed=0
skipped=0

rm -rf "$BENCH_OUT"
mkdir -p "$BENCH_OUT"
for m in "$here"/m[0-9]_*.sh; do
	name=$(basename "$m" .sh)
	if [ -n "${BENCH:-}" ] && ! echo ",$BENCH," | grep -q ",${name%%_*},"; then
		continue
	fi
	echo "== $name"
	start=$SECONDS
	"$m" >"$BENCH_OUT/$name.out" 2>&1
	rc=$?
	grep -E '^  ' "$BENCH_OUT/$name.out"
	case $rc in
	0) echo "   done in $((SECONDS - start)) s" ;;
	77)
		echo "   SKIPPED: $(tail -n 1 "$BENCH_OUT/$name.out")"
		skipped=$((skipped + 1))
		;;
	*)
		echo "   FAILED (exit $rc), last lines of $BENCH_OUT/$name.out:"
		tail -n 15 "$BENCH_OUT/$name.out" | sed 's/^/   | /'
		failed=1
		;;
	esac
done
if [ ! -s "$BENCH_OUT/results.jsonl" ]; then
	echo "bench: no results"
	# every measure skipped itself: nothing failed, nothing measured
	[ $failed = 0 ] && [ $skipped -gt 0 ] && exit 77
	exit 1
fi
if command -v gnuplot >/dev/null; then
	for p in "$BENCH_OUT"/*.gp; do
		[ -f "$p" ] || continue
		(cd "$BENCH_OUT" && gnuplot "$p") || echo "bench: plot $p failed"
	done
fi
BENCH_SECONDS=$SECONDS "$here/report.sh" "$BENCH_OUT/results.jsonl" "$BENCH_OUT" "$doc" ||
	failed=1
exit $failed
