#!/usr/bin/env bash
# Handshake pacing: with max_handshakes = 2, twelve sessions starting at once
# never have more than two handshakes in flight, all come up in turn, and
# the same holds when the WAN changes (SIGUSR2) and all of them resume.
# In flight, from the agent's log: a "handshake start" opens one, the
# session's next "up" or "handshake failed" closes it.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_testbed

n=12
testserver ts -q -l "$DK_SRV4:5760"
: >"$WD/sessions"
for i in $(seq "$n"); do
	session_conf "$WD/sessions" "p$i" "127.0.0.1:$((8870 + i))" "$DK_SRV4:5760"
done
close_conf "$WD/sessions"
{
	echo 'max_handshakes = 2;'
	cat "$WD/sessions"
} >"$WD/agent.conf"

# most_in_flight FROM_LINE: the peak of handshakes in flight in the agent's
# log from that line on
most_in_flight()
{
	tail -n "+$1" "$WD/agent.log" | awk '
		{ s = ""; for (i = 1; i <= NF; i++) if ($i ~ /^p[0-9]+:$/) { s = $i; break } }
		s == "" { next }
		/ handshake start / { f[s] = 1; n++; if (n > max) max = n }
		/ (up |handshake failed)/ { if (f[s]) { f[s] = 0; n-- } }
		END { print max + 0 }'
}

agent agent "$WD/agent.conf"
wait_log agent ': up ' 20 "$n" || fail "only $(count_log agent ': up ') of $n sessions up"
peak=$(most_in_flight 1)
[ "$peak" -le 2 ] || fail "start: $peak handshakes in flight, the limit is 2"
[ "$peak" -eq 2 ] || fail "start: never 2 handshakes at once (peak $peak): no parallelism"
grep -q 'handshakes paced: 2 in flight' "$WD/agent.log" || fail "no pacing logged"
wait_log agent 'handshake queue drained: 10 handshakes waited' 5 || fail "no drain logged"
for i in $(seq "$n"); do
	client -s "127.0.0.1:$((8870 + i))" -n 1 -t 2000 >/dev/null || fail "no echo through p$i"
done
note "start: $n sessions up, at most $peak handshakes in flight, every one echoes"

from=$(($(wc -l <"$WD/agent.log") + 1))
kill -USR2 "$(pid_of agent)"
wait_log agent ': up resumed=1' 20 "$n" || fail "SIGUSR2: only $(count_log agent ': up resumed=1') resumed"
peak=$(most_in_flight "$from")
[ "$peak" -le 2 ] || fail "WAN change: $peak handshakes in flight, the limit is 2"
for i in $(seq "$n"); do
	client -s "127.0.0.1:$((8870 + i))" -n 1 -t 2000 >/dev/null || fail "no echo through p$i after SIGUSR2"
done
note "WAN change: $n sessions resumed, at most $peak handshakes in flight"
