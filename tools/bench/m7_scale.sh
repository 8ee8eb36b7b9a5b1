#!/usr/bin/env bash
# Measure 7: scale.  One agent (bpf mode) with 100, 1000 and 10000 idle
# sessions against one project test server, every flow under a conntrack
# UDP timeout of 20 s (6 s in quick runs; an nftables "ct timeout" policy:
# a carrier NAT's short end), heartbeat_interval 3600 s so that the only
# packets a flow sends while idle are its pinhole keepalives.  Measured
# per size: the time to bring every session up (all full handshakes at
# once, paced by max_handshakes, 64; from 1000 sessions on, beside an
# agent with pacing off, given 30 s + 20 ms a session), the agent's
# resident memory (VmRSS) in steady state, its CPU in steady state
# (/proc/PID/schedstat over the window, % of one core), and the keepalive
# timing error: for every keepalive on the WAN (tcpdump), its time minus
# when it was due, that is the flow's previous packet + the timeout - the
# 2 s margin (the kernel's exact expiry less dtlskeep's margin); late is
# positive.  Pinhole expiries: new conntrack entries of the flows during
# the window (conntrack -E).  Where the hard descriptor limit (2 per
# session) is too small for 10000, the largest size is what it allows.
# Goal: 10k sessions on 2 cores with the p99 timing error within 100 ms.
# shellcheck source=tools/bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_start

sizes=$(pick "100" "100 1000 10000")
window=$(pick 20 60)
# quick runs: a keepalive every 4 s, so that the window holds two a flow
ct_timeout=$(pick 6 20)
margin_ms=2000
sport=5990
m=m7

nft_bench_setup
ct_policy t7 "$ct_timeout" "$sport"
testserver ts -q -l "$DK_SRV4:$sport"
# 2 sockets per session: the agent raises its soft descriptor limit to the
# hard one, which only CAP_SYS_RESOURCE can raise (systemd's default is
# 524288; a sandbox may hold less): past it the largest size is cut down
fd_room=$((($(ulimit -Hn) - 64) / 2))

# conf FILE N [LINE]: an agent with N sessions, local ports 20000 + i, and
# LINE among its top-level settings
conf()
{
	agent_conf "$1" bpf
	[ -z "${3:-}" ] || echo "$3" >>"$1"
	awk -v n="$2" -v up="$DK_SRV4:$sport" -v pin="$PIN" 'BEGIN {
		print "sessions = {"
		for (i = 0; i < n; i++)
			printf "  s%d = { listen = \"127.0.0.1:%d\"; upstream = \"%s\";" \
			       " pin_sha256 = \"%s\"; heartbeat_interval = 3600; };\n",
			       i, 20000 + i, up, pin
		print "};" }' >>"$1"
}

cpu_ns() { awk '{ print $1 }' "/proc/$1/schedstat"; }
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

# timing_errors FILE T0 T1: the error of every keepalive in [T0, T1], in ms
timing_errors()
{
	awk -v a="$2" -v b="$3" -v due=$((ct_timeout * 1000 - margin_ms)) '
		$3 ~ /\.[0-9]+$/ {
			n = split($3, f, "."); p = f[n]
			if (p in last && $1 >= a && $1 <= b)
				printf "%.1f\n", ($1 - last[p]) * 1000 - due
			last[p] = $1
		}' "$1"
}

# unpaced N CASE: the baseline start-up, every handshake at once
# (max_handshakes = 0), given a bounded time
unpaced()
{
	local n=$1 name=u$1 t0 t_up="" up how limit=$((30 + $1 / 50))

	conf "$WD/$name.conf" "$n" 'max_handshakes = 0;'
	t0=$(epoch)
	start_agent "$name" "$WD/$name.conf"
	if wait_log "$name" ': up ' "$limit" "$n"; then
		t_up=$(awk -v a="$t0" -v b="$(epoch)" 'BEGIN { printf "%.0f", (b - a) * 1000 }')
	fi
	up=$(count_log "$name" ': up ')
	if [ -n "$t_up" ]; then
		how="in $t_up ms"
	else
		how="after $limit s, given up"
	fi
	result $m "$2: start-up" "all sessions up, unpaced (max_handshakes 0)" baseline ms "$t_up" \
		"note=\"${up:-0} of $n up $how\""
	say "$n sessions unpaced: ${up:-0} up $how"
	stop "$name"
}

for n in $sizes; do
	cut=""
	if [ "$n" -gt "$fd_room" ]; then
		cut=" (cut from $n: descriptor limit $(ulimit -Hn))"
		n=$fd_room
	fi
	name=a$n
	conf "$WD/$name.conf" "$n"
	t0=$(epoch)
	start_agent "$name" "$WD/$name.conf"
	pid=$(pid_of "$name")
	wait_log "$name" ': up ' $((30 + n / 50)) "$n" ||
		fail "$n sessions: only $(count_log "$name" ': up ') up"
	t_up=$(awk -v a="$t0" -v b="$(epoch)" 'BEGIN { printf "%.0f", (b - a) * 1000 }')
	grep -q "kernel assistance: bpf" "$WD/$name.log" || fail "agent not in bpf mode"
	say "$n sessions up in $t_up ms"

	# one pinhole lifetime to settle after the start-up storm
	sleep $((ct_timeout + 2))
	# not through in_cpe: $! must be the tool's own pid, to stop it
	ip netns exec "$DK_NS_CPE" tcpdump -i "$DK_WAN_IF" -n -tt -l -B 16384 \
		"udp and dst host $DK_SRV4 and dst port $sport" >"$WD/wire$n.txt" 2>"$WD/tcpdump$n.err" &
	td=$!
	PIDS+=("$td")
	ip netns exec "$DK_NS_CPE" conntrack -E -e NEW -p udp --dport "$sport" \
		>"$WD/new$n.txt" 2>/dev/null &
	ce=$!
	PIDS+=("$ce")
	sleep 1
	a=$(epoch)
	c0=$(cpu_ns "$pid")
	slices=""
	for _ in $(seq $((window / 10))); do
		sleep 10
		c1=$(cpu_ns "$pid")
		slices="$slices $(awk -v d=$((c1 - c0)) 'BEGIN { printf "%.2f", d / 1e7 / 10 }')"
		c0=$c1
	done
	b=$(epoch)
	rss=$(status_kb "$pid" VmRSS)
	sleep 1
	kill "$td" "$ce" 2>/dev/null
	wait "$td" "$ce" 2>/dev/null
	up_now=$(count_log "$name" ': up ')
	expired=$(wc -l <"$WD/new$n.txt")
	timing_errors "$WD/wire$n.txt" "$a" "$b" >"$WD/err$n.txt"
	kas=$(wc -l <"$WD/err$n.txt")
	dropped=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$WD/tcpdump$n.err")

	c="$n sessions$cut"
	result $m "$c: start-up" "all sessions up, max_handshakes 64" dtlskeep ms "$t_up"
	# per session: above the smallest agent, where there is one
	per=$(awk -v k="$rss" -v n="$n" -v k0="${rss0:-0}" -v n0="${n0:-0}" 'BEGIN {
		if (n0 && n > n0) printf "%.1f KiB per session above the %d-session agent", (k - k0) / (n - n0), n0
		else printf "%.1f KiB per session, fixed part included", k / n }')
	[ -n "${rss0:-}" ] || { rss0=$rss; n0=$n; }
	result $m "$c" "resident memory (VmRSS)" dtlskeep MiB \
		"$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')" "note=\"$per\""
	result $m "$c" "CPU in steady state (10 s slices)" dtlskeep "% of a core" "$slices"
	result $m "$c" "keepalive timing error (late > 0)" dtlskeep ms "$(cat "$WD/err$n.txt")" \
		'limit=100' 'limit_of="p99"' 'limit_text="goal: p99 within 100 ms"' \
		"note=\"$kas keepalives in ${window} s, $expired pinhole expiries, ${dropped:-0} packets lost by tcpdump, $up_now of $n sessions up\"" \
		"expiries=$expired"
	say "$c: rss ${rss} kB, cpu%:$slices, $kas keepalives, $expired expiries, p99 err $(sort -n "$WD/err$n.txt" |
		awk '{ a[NR] = $1 } END { i = int(NR * 0.99); if (i < 1) i = 1; print a[i] }') ms"
	stop "$name"
	[ "$n" -ge 1000 ] && unpaced "$n" "$c"
done
exit 0
