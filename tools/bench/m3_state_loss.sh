#!/usr/bin/env bash
# Measure 3: stall after real server state loss.  The project's test server
# drops every association at once (SIGUSR1; its ticket key survives, as on
# a server restarted with a persistent key) and answers records it cannot
# place with a plaintext alert, as the seed's servers do.  Then the
# application sends a datagram every 100 ms until one is answered: the stall
# is the time from its first datagram to the first answer.  Round trips of
# 0, 10 and 50 ms added by a delay proxy (no netem here).  dtlskeep (no
# heartbeats in the way: the alert is a hint, verified by a resumption
# probe, then the swallowed datagrams are replayed) against the seed's
# options, each a dtlskeep-baseline: A ignore the alert (keep the session),
# B reset on the alert (fast, but any spoofed alert resets it too),
# C reconnect after a request unanswered for 30 s (measured once per round
# trip: it is slow by construction).  Goal: one probe timeout (2 s) + 1 RTT.
# shellcheck source=tools/bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_start

rtts=$(pick "0 50" "0 10 50")
reps=$(pick 3 10)
wait_ms=15000
c_wait_ms=40000
testserver ts -q -l "$DK_SRV4:5900" --alert-on-unknown --ticket-key-file "$WD/ticket.key"
# a delay proxy per variant and round trip: 6000 + 100 * variant + rtt
pp() { echo $((6000 + 100 * $1 + $2)); }
lp() { echo $((7000 + 100 * $1 + $2)); }
: >"$WD/s"
for r in $rtts; do
	for v in 0 1 2 3; do
		delayproxy "dp$v-$r" "$(pp $v "$r")" 5900 "$r"
	done
	session_conf "$WD/s" "r$r" "127.0.0.1:$(lp 0 "$r")" "$DK_SRV4:$(pp 0 "$r")" \
		'heartbeat_interval = 3600'
	baseline "A$r" "$(lp 1 "$r")" "$(pp 1 "$r")"
	baseline "B$r" "$(lp 2 "$r")" "$(pp 2 "$r")" --reset-on-alert
	baseline "C$r" "$(lp 3 "$r")" "$(pp 3 "$r")" --request-timeout 30000
done
agent_with a none "$WD/s"
wait_log a ': up ' 10 "$(echo "$rtts" | wc -w)" || fail "sessions not up"

# warm VARIANTS: every listed variant answers before the loss
warm()
{
	local r v

	for r in $rtts; do
		for v in "$@"; do
			client -s "127.0.0.1:$(lp "$v" "$r")" --until-answered "$wait_ms" -i 500 \
				>/dev/null || fail "no answer from variant $v, rtt $r before the loss"
		done
	done
}

for i in $(seq "$reps"); do
	if [ "$i" -gt 1 ]; then
		# A never recovers: a fresh client (new session) each time
		for r in $rtts; do
			stop "A$r"
			baseline "A$r" "$(lp 1 "$r")" "$(pp 1 "$r")"
		done
		warm 0 1 2
	else
		warm 0 1 2 3
	fi
	sleep 0.5
	before=$(count_log ts 'event=state_dropped')
	kill -USR1 "$(pid_of ts)"
	wait_log ts 'event=state_dropped' 5 $((before + 1)) || fail "server kept its state"
	for r in $rtts; do
		stall_start "$WD/dk-$r-$i" "$(lp 0 "$r")" "$wait_ms"
		stall_start "$WD/A-$r-$i" "$(lp 1 "$r")" "$wait_ms"
		stall_start "$WD/B-$r-$i" "$(lp 2 "$r")" "$wait_ms"
		[ "$i" = 1 ] && stall_start "$WD/C-$r-$i" "$(lp 3 "$r")" "$c_wait_ms"
	done
	stall_wait
	say "state loss $i/$reps: dtlskeep $(for r in $rtts; do printf '%s ' "$(stall_of "$WD/dk-$r-$i")"; done)ms"
done

for r in $rtts; do
	lim="limit=$((2000 + r))"
	lt="limit_text=\"probe timeout + 1 RTT\""
	stall_result m3 "rtt ${r} ms" "dtlskeep" dtlskeep "$WD"/dk-"$r"-* -- "$lim" "$lt"
	stall_result m3 "rtt ${r} ms" "A: ignore the alert" baseline "$WD"/A-"$r"-* -- "$lim" "$lt"
	stall_result m3 "rtt ${r} ms" "C: reconnect after a 30 s timeout" baseline \
		"$WD"/C-"$r"-* -- "$lim" "$lt"
	stall_result m3 "rtt ${r} ms" "B: reset on the alert (spoofable)" baseline \
		"$WD"/B-"$r"-* -- "$lim" "$lt"
done
exit 0
