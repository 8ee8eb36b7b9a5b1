# shellcheck shell=bash
# Helpers for the benchmark measures (tools/bench/m*.sh).  A measure sources
# this file, calls bench_start, and records what it measured with result.
# The test-bed helpers (processes, agents, servers) are the integration
# tests' own (tests/integration/lib.sh): one way to drive the test bed.
#
# Each result is one JSON object per line in $BENCH_OUT/results.jsonl:
#   {"measure":"m2","title":...,"case":"rtt=10ms","variant":"dtlskeep (bpf)",
#    "role":"dtlskeep"|"baseline","unit":"ms","samples":[...],
#    "limit":N|null,"limit_text":...,"goal":...,"note":...}
# report.sh turns them into tables, JSON and Documentation/benchmarks.md.

# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../tests/integration/lib.sh"

BENCH_OUT=${BENCH_OUT:-$O/bench}
QUICK=${BENCH_QUICK:-0}

say() { printf '  %s\n' "$*" >&2; }

bench_start()
{
	mkdir -p "$BENCH_OUT"
	need_testbed
	for b in dtlskeep-baseline dtlskeep-delayproxy; do
		[ -x "$O/$b" ] || fail "$O/$b not built"
	done
}

# pick QUICK_VALUE FULL_VALUE: the smaller value in quick runs
pick() { if [ "$QUICK" = 1 ]; then echo "$1"; else echo "$2"; fi; }

# result MEASURE CASE VARIANT ROLE UNIT SAMPLES [KEY=JSON...]
# SAMPLES: numbers separated by blanks; KEY=JSON adds fields (limit=120,
# note='"text"', ...), each value a JSON value.
result()
{
	local m=$1 c=$2 v=$3 role=$4 unit=$5 samples=$6 extra='{}' kv

	shift 6
	mkdir -p "$BENCH_OUT"
	for kv in "$@"; do
		extra=$(jq -c --arg k "${kv%%=*}" --argjson v "${kv#*=}" '. + {($k): $v}' \
			<<<"$extra") || fail "result: bad field $kv"
	done
	# tens of thousands of samples: jq reads them from its input as
	# numbers, one a line (not an argument: too long for one; its regex
	# split is quadratic on a string that long)
	tr ' ' '\n' <<<"$samples" | sed '/^$/d' |
		jq -sc --arg m "$m" --arg c "$c" --arg v "$v" --arg r "$role" --arg u "$unit" \
			--argjson x "$extra" \
			'{measure: $m, case: $c, variant: $v, role: $r, unit: $u,
			  samples: .} + $x' >>"$BENCH_OUT/results.jsonl" ||
		fail "result: samples of $m/$c/$v are not numbers"
}

# nft_bench_setup: a table of our own in cpe for per-flow conntrack
# timeout policies (kept apart from the fw4-like table)
nft_bench_setup()
{
	in_cpe nft -f - <<'NFT' || fail "nft bench table in cpe"
table inet dk_bench {
	chain out {
		type filter hook output priority filter; policy accept;
	}
}
NFT
}

# ct_policy NAME SECONDS PORT: conntrack UDP timeout SECONDS (unreplied and
# replied alike) for flows towards the server port PORT
ct_policy()
{
	in_cpe nft -f - <<NFT || fail "ct timeout $1"
table inet dk_bench {
	ct timeout $1 { protocol udp; l3proto ip; policy = { unreplied: $2, replied: $2 }; }
}
add rule inet dk_bench out udp dport $3 ct timeout set "$1"
NFT
}

# baseline NAME LISTEN_PORT SERVER_PORT ARGS...: the plain DTLS client in cpe
baseline()
{
	local name=$1 lport=$2 sport=$3

	shift 3
	bg "$name" "$DK_NS_CPE" "$O/dtlskeep-baseline" -l "127.0.0.1:$lport" \
		-u "$DK_SRV4:$sport" --ca "$WD/certs/ca.pem" --name "$DK_SRV_NAME" "$@"
	wait_log "$name" 'event=up' 10 || fail "baseline $name not up"
}

# delayproxy NAME PORT TARGET_PORT RTT_MS: in srv, in front of a server
delayproxy()
{
	bg "$1" "$DK_NS_SRV" "$O/dtlskeep-delayproxy" -l "$DK_SRV4:$2" -t "$DK_SRV4:$3" -d "$4"
	wait_for 5 in_srv sh -c "ss -Hlun | grep -q '$DK_SRV4:$2 '" || fail "delay proxy on $2"
}

# agent_conf FILE MODE: an agent configuration header for kernel MODE
agent_conf()
{
	{
		echo "kernel_mode = \"$2\";"
		echo "wan_interface = \"$DK_WAN_IF\";"
	} >"$1"
}

# start_agent NAME CONF: an agent of its own (state dir and control socket)
start_agent()
{
	bg "$1" "$DK_NS_CPE" "$O/dtlskeepd" -c "$2" -s "$WD/state-$1" -S "$WD/$1.ctl"
}

# agent_with NAME MODE SESSIONS: close the session list SESSIONS (written
# with session_conf), put it under an agent_conf header for kernel MODE in
# $WD/NAME.conf and start that agent
agent_with()
{
	close_conf "$3"
	agent_conf "$WD/$1.conf" "$2"
	cat "$3" >>"$WD/$1.conf"
	start_agent "$1" "$WD/$1.conf"
}

# epoch: wall-clock seconds with microseconds, as tcpdump stamps packets
epoch() { date +%s.%6N; }

# Stall measurement: the application sends a datagram every STALL_IV ms until
# one is answered (or STALL_WAIT ms pass); the stall is the time from its
# first datagram to the first answer (seq * interval + that datagram's rtt).
STALL_IV=100

# stall_start FILE LISTEN_PORT WAIT_MS: one application in the background
stall_start()
{
	client -s "127.0.0.1:$2" --until-answered "$3" -i "$STALL_IV" >"$1" 2>&1 &
	PIDS+=($!)
	STALL_PIDS+=($!)
}

stall_wait()
{
	wait "${STALL_PIDS[@]}" 2>/dev/null
	STALL_PIDS=()
}

# stall_of FILE: the stall in ms, or nothing when never answered
stall_of()
{
	awk -v iv="$STALL_IV" '/^seq=[0-9]+ rtt_ms=/ {
		split($1, s, "="); split($2, r, "=")
		printf "%.2f\n", s[2] * iv + r[2]; exit }' "$1"
}

# stall_result MEASURE CASE VARIANT ROLE FILES... [-- KEY=JSON...]:
# the answered stalls as samples, the unanswered ones counted in the note
stall_result()
{
	local m=$1 c=$2 v=$3 role=$4 samples="" lost=0 n=0 f s

	shift 4
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		s=$(stall_of "$1")
		n=$((n + 1))
		if [ -n "$s" ]; then samples="$samples $s"; else lost=$((lost + 1)); fi
		shift
	done
	[ "${1:-}" = -- ] && shift
	result "$m" "$c" "$v" "$role" ms "$samples" "$@" \
		"note=\"$((n - lost)) of $n answered within the window\"" "unanswered=$lost"
	say "$c, $v: median $(tr ' ' '\n' <<<"$samples" | sed '/^$/d' | sort -n |
		awk '{ a[NR] = $1 } END { print (NR ? a[int((NR + 1) / 2)] " ms" : "-") }'), $((n - lost))/$n answered"
}
STALL_PIDS=()
