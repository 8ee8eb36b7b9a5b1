#!/usr/bin/env bash
# report.sh RESULTS.jsonl OUT_DIR DOC: the benchmark tables.
# Prints one table per measure, writes OUT_DIR/results.json (every result
# with its statistics) and the Markdown page DOC (Documentation/benchmarks.md)
# with the tables, the machine, and the plots found in OUT_DIR.
# Every number comes from RESULTS.jsonl: nothing here is typed by hand.
set -eu

in=$1 out=$2 doc=$3
docdir=$(dirname "$doc")
mkdir -p "$docdir"
top=$(cd "$(dirname "$0")/../.." && pwd)

# statistics of each result, and its ratios: to the first baseline of the
# same measure and case, and to the limit
jq -s '
def med: sort | if length == 0 then null
	elif length % 2 == 1 then .[length / 2 | floor]
	else (.[length / 2 - 1] + .[length / 2]) / 2 end;
def p99: sort | if length == 0 then null else .[(length * 0.99 | ceil) - 1] end;
map(. + {n: (.samples | length), median: (.samples | med), p99: (.samples | p99),
	 min: (.samples | min), max: (.samples | max)})
| . as $all
| map(. as $r
	| ($all | map(select(.measure == $r.measure and .case == $r.case
			     and .role == "baseline" and .median != null)) | first) as $b
	| . + {vs_baseline: (if $r.role == "dtlskeep" and $b != null
				and ($b.median // 0) != 0 and $r.median != null
			     then {variant: $b.variant, ratio: ($r.median / $b.median)}
			     else null end),
	       vs_limit: (if (.limit // 0) != 0 and .median != null
			  then (if .limit_of == "p99" then .p99 else .median end) / .limit
			  else null end)})
' "$in" >"$out/results.json"

titles='{
 "m1": "Keepalives per hour per session (zero pinhole expiries)",
 "m2": "Stall after a NAT rebinding",
 "m3": "Stall after real server state loss",
 "m4": "Detection latency: conntrack change to the agent acting",
 "m5": "tc program cost per packet",
 "m6": "Agent CPU against conntrack table size",
 "m7": "Scale: sessions per agent"
}'

# markdown tables, one per measure
tables()
{
	jq -r --argjson t "$titles" '
	def num: if . == null then "-" elif (. | fabs) >= 100 then (. | round | tostring)
		elif (. | fabs) >= 1 or . == 0 then ((. * 10 | round) / 10 | tostring)
		else ((. * 1000 | round) / 1000 | tostring) end;
	def ratio: if . == null then "" elif . < 0.001 then "<0.001x"
		elif . < 0.1 then ((. * 1000 | round) / 1000 | tostring) + "x"
		else ((. * 100 | round) / 100 | tostring) + "x" end;
	group_by(.measure)[] |
	"### \(.[0].measure): \($t[.[0].measure] // .[0].measure)\n",
	"| case | variant | unit | n | median | p99 | min | max | vs baseline | vs limit |",
	"|---|---|---|---|---|---|---|---|---|---|",
	(.[] | "| \(.case) | \(.variant) | \(.unit) | \(.n) | \(.median | num) | \(.p99 | num) | \(.min | num) | \(.max | num) | \(if .vs_baseline then (.vs_baseline.ratio | ratio) + " of " + .vs_baseline.variant else "" end) | \(if .vs_limit then (.vs_limit | ratio) + " of " + (.limit_text // (.limit | tostring)) else "" end) |"),
	(map(select(.note) | "- \(.variant) (\(.case)): \(.note)") | unique | .[]),
	""
	' "$out/results.json"
}

tables
# before the page is rewritten: the page itself would make the tree dirty
commit=$(git -C "$top" describe --always --dirty 2>/dev/null || echo unknown)

{
	echo "# Benchmarks"
	echo
	echo "Written by \`make bench\` (tools/bench/report.sh) from the run's"
	echo "results (\`$out/results.json\`); never edited by hand. Each measure"
	echo "runs dtlskeep and its baselines side by side in the same run, in the"
	echo "test bed of Documentation/testing.md. Samples: n; p99 is the sample"
	echo "at rank ceil(0.99 n) (the maximum for small n). \"vs baseline\" is the"
	echo "ratio of medians to the first baseline of the same case that had an answer; \"vs limit\""
	echo "the ratio of the median (of the p99 where the goal is a p99) to the physical limit or goal named."
	echo
	echo "How to reproduce: \`make bench\` (this run: $(((${BENCH_SECONDS:-0} + 59) / 60)) minutes; \`BENCH_QUICK=1\`"
	echo "for a short run, \`BENCH=m1,m5\` for some measures). What each measure"
	echo "does and its baselines: see tools/bench/m*.sh, whose header comments"
	echo "are the definitions, and the section below."
	echo
	echo "## The run"
	echo
	echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
	echo "- commit: $commit"
	echo "- kernel: $(uname -r), $(nproc) cores ($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
	echo "- quick run: ${BENCH_QUICK:-0}"
	echo
	echo "## Definitions"
	echo
	for f in "$top"/tools/bench/m[0-9]_*.sh; do
		echo "- **$(basename "$f" .sh)**: $(sed -n '2,/^[^#]/p' "$f" | grep -v shellcheck | sed -n 's/^# \{0,1\}//p' | tr '\n' ' ' | sed 's/  */ /g')"
	done
	echo
	echo "## Results"
	echo
	tables
	missing=$(jq -r --argjson t "$titles" -s '($t | keys) - map(.measure) | unique | join(", ")' "$in")
	if [ -n "$missing" ]; then
		echo "Not measured in this run: $missing (not selected, failed, or not built yet)."
		echo
	fi
	for p in "$out"/*.png; do
		[ -f "$p" ] || continue
		mkdir -p "$docdir/bench"
		# the page may be written next to the results themselves
		[ "$p" -ef "$docdir/bench/$(basename "$p")" ] || cp "$p" "$docdir/bench/"
		echo "![$(basename "$p" .png)](bench/$(basename "$p"))"
		echo
	done
} >"$doc"
echo "report: $doc, $out/results.json"
