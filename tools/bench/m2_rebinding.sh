#!/usr/bin/env bash
# Measure 2: stall after a NAT rebinding.  cpe's masquerade picks random
# ports; the conntrack table is flushed, so every flow's next packet leaves
# with a new source port, and the server (which keys associations by
# address) no longer knows it.  Right after the flush the application sends
# a datagram every 100 ms until one is answered: the stall is the time from
# its first datagram to the first answer.  Round trips of 0, 10 and 50 ms
# added by a delay proxy in front of the project's test server (this
# kernel has no netem).  dtlskeep (bpf mode: conntrack events, resumption
# at once) against a plain DTLS client that keeps its session (no agent)
# and one with a fixed 25 s keepalive scaled 5x (5 s) and dead-peer
# detection (2 retries 1 s apart), both dtlskeep-baseline.  Limit: the
# datagram's own round trip plus one for the resumption, + 5 ms (the test
# server, like most DTLS servers, also asks for a cookie: one more round
# trip that the limit does not count).
# shellcheck source=tools/bench/lib.sh
. "$(dirname "$0")/lib.sh"
export DK_MASQ_FLAGS=random
bench_start

rtts=$(pick "0 50" "0 10 50")
reps=$(pick 3 10)
wait_ms=15000
testserver ts -q -l "$DK_SRV4:5900"
# a delay proxy per variant and round trip, so that each flow has a server
# port of its own on the wire: 6000 + 100 * variant + rtt
pp() { echo $((6000 + 100 * $1 + $2)); }
: >"$WD/s"
for r in $rtts; do
	for v in 0 1 2; do
		delayproxy "dp$v-$r" "$(pp $v "$r")" 5900 "$r"
	done
	session_conf "$WD/s" "r$r" "127.0.0.1:$((7000 + r))" "$DK_SRV4:$(pp 0 "$r")" \
		'heartbeat_interval = 3600' 'heartbeat_timeout = "200ms"'
	baseline "plain$r" $((7100 + r)) "$(pp 1 "$r")"
	baseline "dpd$r" $((7200 + r)) "$(pp 2 "$r")" --keepalive 5000 --dpd-retries 2
done
agent_with a bpf "$WD/s"
wait_log a ': up ' 10 "$(echo "$rtts" | wc -w)" || fail "sessions not up"
grep -q "kernel assistance: bpf" "$WD/a.log" || fail "agent not in bpf mode"

warm()
{
	local r

	for r in $rtts; do
		for lp in $((7000 + r)) $((7100 + r)) $((7200 + r)); do
			client -s "127.0.0.1:$lp" --until-answered "$wait_ms" -i 500 >/dev/null ||
				fail "no answer on $lp before the rebinding"
		done
	done
}

# the first rebinding of the mid round trip, on the wire, for the plot
mid=$(echo "$rtts" | awk '{ print $(NF > 1 ? 2 : 1) }')
for i in $(seq "$reps"); do
	# the plain client never recovers: a fresh one (new session) each time
	if [ "$i" -gt 1 ]; then
		for r in $rtts; do
			stop "plain$r"
			baseline "plain$r" $((7100 + r)) "$(pp 1 "$r")"
		done
	fi
	warm
	sleep 1
	if [ "$i" = 1 ]; then
		in_cpe tcpdump -i "$DK_WAN_IF" -n -tt -l "udp and host $DK_SRV4" \
			>"$WD/wire.txt" 2>/dev/null &
		dump=$!
		PIDS+=("$dump")
		sleep 1
	fi
	t_flush=$(epoch)
	in_cpe conntrack -F 2>/dev/null
	for r in $rtts; do
		stall_start "$WD/dk-$r-$i" $((7000 + r)) "$wait_ms"
		stall_start "$WD/plain-$r-$i" $((7100 + r)) "$wait_ms"
		stall_start "$WD/dpd-$r-$i" $((7200 + r)) "$wait_ms"
	done
	stall_wait
	[ "$i" = 1 ] && { kill "$dump"; echo "$t_flush" >"$WD/t_flush"; }
	say "rebinding $i/$reps: dtlskeep $(for r in $rtts; do printf '%s ' "$(stall_of "$WD/dk-$r-$i")"; done)ms"
done

for r in $rtts; do
	lim="limit=$((2 * r + 5))"
	lt="limit_text=\"2 RTT + 5 ms\""
	stall_result m2 "rtt ${r} ms" "dtlskeep (bpf)" dtlskeep "$WD"/dk-"$r"-* -- "$lim" "$lt"
	stall_result m2 "rtt ${r} ms" "no agent: plain client keeps its session" baseline \
		"$WD"/plain-"$r"-* -- "$lim" "$lt"
	stall_result m2 "rtt ${r} ms" "fixed 25 s keepalive (scaled: 5 s) + DPD" baseline \
		"$WD"/dpd-"$r"-* -- "$lim" "$lt"
done

# timeline of the first rebinding at the mid round trip: each flow's
# packets (out above its line, in below) in ms after the flush
t0=$(cat "$WD/t_flush")
awk -v t0="$t0" -v p0="$(pp 0 "$mid")" -v p1="$(pp 1 "$mid")" -v p2="$(pp 2 "$mid")" '
	{ ms = ($1 - t0) * 1000; if (ms < 0 || ms > 15000) next
	  out = ($3 ~ /^203\.0\.113\.2\./); peer = out ? $5 : $3
	  sub(/:$/, "", peer); n = split(peer, a, "."); port = a[n]
	  v = (port == p0) ? 0 : (port == p1) ? 1 : (port == p2) ? 2 : -1
	  if (v >= 0) print ms + 1, v + (out ? 0.15 : -0.15) }' "$WD/wire.txt" \
	>"$BENCH_OUT/m2_wire.dat"
cat >"$BENCH_OUT/m2_timeline.gp" <<GP
set terminal png size 900,360
set output "m2_timeline.png"
set title "NAT rebinding at t=0 (conntrack flushed, random masquerade), RTT $mid ms"
set xlabel "ms after the flush + 1 (log scale)"
set logscale x
set xrange [0.5:20000]
set ytics ("dtlskeep (bpf)" 0, "no agent" 1, "fixed keepalive + DPD" 2)
set yrange [-0.5:2.5]
set grid xtics
plot "m2_wire.dat" using 1:2 with points pt 7 ps 0.8 \
	title "packets to (above a line) and from (below) the server"
GP
exit 0
