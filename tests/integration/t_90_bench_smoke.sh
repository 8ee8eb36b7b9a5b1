#!/usr/bin/env bash
# The benchmark suite still runs: `make bench` with tiny sizes
# (BENCH_QUICK=1), its output kept apart from Documentation/. Every measure
# must finish, and each must leave results with samples in results.json
# and a table in the page it writes. Nothing here judges the numbers:
# benchmarks measure, `make bench` reports (Documentation/benchmarks.md).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

why=$(testbed_can_run) || skip "$why"
measures=${DK_BENCH_SMOKE:-m1,m2,m3,m4,m5,m6,m7}
out=$(mktemp -d /tmp/dk-bench-smoke.XXXXXX)
trap 'rm -rf "$out"' EXIT
doc=$TOP/Documentation/benchmarks.md
before=$(cksum <"$doc")

BENCH_QUICK=1 BENCH="$measures" BENCH_OUT="$out/bench" BENCH_DOC="$out/doc/benchmarks.md" \
	"$TOP/tools/bench/run.sh" >"$out/run.log" 2>&1
rc=$?
[ $rc -eq 77 ] && skip "every measure skipped itself: $(grep -h '   SKIPPED:' "$out/run.log" | head -n 1)"
if [ $rc -ne 0 ]; then
	tail -n 40 "$out/run.log"
	fail "make bench (quick) exited $rc"
fi
[ "$(cksum <"$doc")" = "$before" ] || fail "the smoke run rewrote $doc"
# a measure that cannot run here says so (run.sh prints SKIPPED after its
# "== mN_name" line): named in the note, never counted as run
skipped=$(awk '/^== m[0-9]_/ { m = substr($2, 1, 2) } /^   SKIPPED:/ { printf "%s ", m }' \
	"$out/run.log")
ran=""
for m in ${measures//,/ }; do
	case " $skipped" in *" $m "*) continue ;; esac
	ran="$ran $m"
done
[ -n "$ran" ] || skip "every measure skipped itself: $(grep -h '   SKIPPED:' "$out/run.log" | head -n 1)"
for m in $ran; do
	rows=$(jq --arg m "$m" '[.[] | select(.measure == $m)] | length' "$out/bench/results.json")
	empty=$(jq -r --arg m "$m" '[.[] | select(.measure == $m and .role == "dtlskeep"
		and .n == 0) | .variant] | join(", ")' "$out/bench/results.json")
	[ "$rows" -gt 0 ] || fail "$m: no results"
	[ -z "$empty" ] || fail "$m: no samples for $empty"
	grep -q "^### $m: " "$out/doc/benchmarks.md" || fail "$m: no table in the page"
done
note "measures$ran ran quick: $(jq length "$out/bench/results.json") results, every dtlskeep row with samples"
[ -z "$skipped" ] || note "skipped here, not run: $skipped"
