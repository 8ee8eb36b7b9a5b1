#!/usr/bin/env bash
# Measure 5: the tc program's cost per packet, BPF_PROG_TEST_RUN averages
# (1 M runs each) over several rounds: no program (an empty tc program: the
# harness itself), unwatched UDP, not UDP, unwatched on a watched port,
# watched (conntrack lookup included).  Needs no test bed.
# shellcheck source=tools/bench/lib.sh
. "$(dirname "$0")/lib.sh"

rounds=$(pick 3 15)
[ -x "$O/tests/bpf_test" ] || fail "$O/tests/bpf_test not built"
out=$(DK_BPF_COST_ROUNDS=$rounds "$O/tests/bpf_test") ||
	skip "bpf_test cannot run here: $(tail -n 1 <<<"$out")"
col() { sed -n "s/^cost-sample .*$1=\([0-9]*\).*/\1/p" <<<"$out"; }
floor=$(col floor)
# per round: the cost above the empty program, never below 0
above()
{
	paste -d' ' <(col "$1") <(echo "$floor") | awk '{ d = $1 - $2; print (d < 0 ? 0 : d) }'
}
m=m5
result $m "per packet, above the empty program" "unwatched UDP" dtlskeep ns "$(above unwatched)" \
	'limit=20' 'limit_text="goal 20 ns"'
result $m "per packet, above the empty program" "not UDP" dtlskeep ns "$(above not_udp)" \
	'limit=20' 'limit_text="goal 20 ns"'
result $m "per packet, above the empty program" "unwatched, on a watched local port" dtlskeep ns \
	"$(above shared)" 'limit=20' 'limit_text="goal 20 ns"'
result $m "per packet, above the empty program" "watched (conntrack kfunc lookup)" dtlskeep ns \
	"$(above watched)" 'limit=150' 'limit_text="goal 150 ns"'
result $m "no program: the empty tc program, absolute" "BPF_PROG_TEST_RUN floor" baseline ns "$floor" \
	'note="subtracted from the rows above"'
say "m5: $rounds rounds; empty program $(echo "$floor" | sort -n | sed -n 1p)-$(echo "$floor" | sort -n | tail -n 1) ns"
