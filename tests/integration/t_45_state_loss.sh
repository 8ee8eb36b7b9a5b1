#!/usr/bin/env bash
# Peer state loss and unauthenticated alerts (the seed mail's fourth answer):
#  A. spoofed plaintext alerts with the server's address flood the pinhole
#     while the application keeps sending: no reset, nothing lost, extra
#     handshakes within the probe rate limit;
#  B. the server loses its state while idle and answers the next datagram
#     with a plaintext alert: verified, resumed (persistent ticket key), the
#     swallowed datagram replayed and answered;
#  C. a peer without heartbeats that says nothing: the unanswered request
#     is the hint, the resumption probe alone decides;
#  D. a peer that forgets idle clients: the agent resumes ahead of its idle
#     timeout, so the next datagram does not stall.
# Each scenario runs with a GnuTLS session (ga, gb, gc, gd) and, when the
# agent has the OpenSSL engine, an OpenSSL one beside it (oa, ob, oc, od):
# without heartbeats the resumption probe alone verifies the peer.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_testbed

# sessions PREFIX LISTEN_BASE SERVER_BASE [EXTRA]: the four sessions
sessions()
{
	local p=$1 l=$2 v=$3

	shift 3
	session_conf "$conf" "${p}a" "127.0.0.1:$((l + 3))" "$DK_SRV4:$((v + 1))" \
		'heartbeat_interval = 60' 'probe_interval = 2' "$@"
	session_conf "$conf" "${p}b" "127.0.0.1:$((l + 4))" "$DK_SRV4:$((v + 2))" \
		'heartbeat_interval = 60' "$@"
	session_conf "$conf" "${p}c" "127.0.0.1:$((l + 5))" "$DK_SRV4:$((v + 3))" \
		'probe_timeout = 1' "$@"
	session_conf "$conf" "${p}d" "127.0.0.1:$((l + 6))" "$DK_SRV4:$((v + 4))" \
		'peer_idle_timeout = 3' "$@"
}

# servers PREFIX SERVER_BASE: their servers
servers()
{
	local p=$1 v=$2

	testserver "ts${p}a" -l "$DK_SRV4:$((v + 1))"
	testserver "ts${p}b" -l "$DK_SRV4:$((v + 2))" --alert-on-unknown \
		--ticket-key-file "$WD/${p}b.key"
	testserver "ts${p}c" -l "$DK_SRV4:$((v + 3))" --no-heartbeat \
		--ticket-key-file "$WD/${p}c.key"
	testserver "ts${p}d" -l "$DK_SRV4:$((v + 4))" --no-heartbeat --idle-timeout 3
}

conf=$WD/agent.conf
# PREFIX LISTEN_BASE SERVER_BASE per engine
engines=("g 8850 5700")
session_conf "$WD/probe.conf" o 127.0.0.1:1 127.0.0.1:1 'engine = "openssl"'
close_conf "$WD/probe.conf"
if "$O/dtlskeepd" -t -c "$WD/probe.conf" >/dev/null 2>&1; then
	engines+=("o 8860 5710")
else
	note "no OpenSSL engine in this dtlskeepd: GnuTLS sessions only"
fi
for e in "${engines[@]}"; do
	read -r p l v <<<"$e"
	if [ "$p" = o ]; then
		sessions "$p" "$l" "$v" 'engine = "openssl"'
	else
		sessions "$p" "$l" "$v"
	fi
	servers "$p" "$v"
done
close_conf "$conf"
agent agent "$conf"
for e in "${engines[@]}"; do
	for s in a b c d; do
		wait_log agent " ${e%% *}$s: up " 10 || fail "session ${e%% *}$s not up"
	done
done

mapped_port()
{
	in_cpe conntrack -L -p udp --dport "$1" 2>/dev/null |
		sed -n "s/.*src=$DK_SRV4 dst=[0-9.]* sport=$1 dport=\([0-9]*\).*/\1/p" |
		head -n 1
}

# A: 3000 spoofed alerts over ~3 s while 150 datagrams go through
scenario_a()
{
	local s=$1a l=$2 v=$3 port hs0 cpid hints probes extra

	client -s "127.0.0.1:$l" -n 1 >/dev/null || fail "$s: echo"
	port=$(mapped_port "$v")
	[ -n "$port" ] || fail "$s: no conntrack entry"
	hs0=$(count_log "ts$s" 'event=handshake ')
	client -s "127.0.0.1:$l" -n 150 -i 20 -t 3000 >"$WD/$s-client.out" &
	cpid=$!
	in_srv "$O/dtlskeep-spoof" -s "$DK_SRV4:$v" -d "$DK_CPE4:$port" -n 3000 -i 1000 \
		>"$WD/spoof.out" || fail "$s: spoofer: $(cat "$WD/spoof.out")"
	wait $cpid || fail "$s: application datagrams lost: $(tail -n 1 "$WD/$s-client.out")"
	agent_stats agent
	hints=$(agent_stat agent "$s" hints)
	probes=$(agent_stat agent "$s" probes)
	extra=$(($(count_log "ts$s" 'event=handshake ') - hs0))
	note "A $s: $(cat "$WD/spoof.out") spoofed alerts, application $(tail -n 1 "$WD/$s-client.out")"
	note "A $s: hints=$hints probes=$probes false_alarms=$(agent_stat agent "$s" false_alarms) server handshakes +$extra"
	[ "$hints" -ge 1000 ] || fail "$s: the spoofed alerts did not reach the agent ($hints hints)"
	[ "$probes" -le 3 ] || fail "$s: $probes probes: rate limit (2 s) not kept"
	[ "$extra" -le 3 ] || fail "$s: $extra extra handshakes at the server"
	[ "$(grep -c " $s: .*-> " "$WD/agent.log")" -eq 1 ] || fail "$s: the session changed state"
	[ "$(agent_stat agent "$s" heartbeats_sent)" -le 10 ] || fail "$s: one ping per spoofed alert"
	[ "$(agent_stat agent "$s" peer_deaths)" -eq 0 ] || fail "$s: peer declared dead"
}

# B: state lost while idle; the alert is the hint
scenario_b()
{
	local s=$1b l=$2 out

	client -s "127.0.0.1:$l" -n 1 >/dev/null || fail "$s: echo"
	kill -USR1 "$(pid_of "ts$s")"
	wait_log "ts$s" 'event=state_dropped' 5 || fail "$s: server kept its state"
	out=$(client -s "127.0.0.1:$l" -n 1 -t 5000) || fail "$s: not answered: $out"
	note "B $s: state lost, datagram answered: $(echo "$out" | head -n 1)"
	wait_log "ts$s" 'event=handshake .*resumed=1' 5 || fail "$s: no resumption at the server"
	agent_stats agent
	[ "$(agent_stat agent "$s" real_losses)" -eq 1 ] || fail "$s: real loss not counted"
	[ "$(agent_stat agent "$s" replayed)" -ge 1 ] || fail "$s: nothing replayed"
	grep -q "$s: plaintext alert level=2 desc=10: hint" "$WD/agent.log" || fail "$s: alert not seen"
}

# C: no heartbeats, no alerts: the unanswered request decides (1 s)
scenario_c()
{
	local s=$1c l=$2 v=$3 out

	client -s "127.0.0.1:$l" -n 1 >/dev/null || fail "$s: echo"
	stop "ts$s" KILL
	testserver "ts$s" -l "$DK_SRV4:$v" --no-heartbeat --ticket-key-file "$WD/$s.key"
	out=$(client -s "127.0.0.1:$l" -n 1 -t 5000) || fail "$s: not answered: $out"
	note "C $s: no heartbeats, server restarted: $(echo "$out" | head -n 1) (probe_timeout 1 s)"
	wait_log "ts$s" 'event=handshake .*resumed=1' 5 || fail "$s: recovery was not a resumption"
	wait_log agent "$s: no answer for 1000 ms: hint" 1 || fail "$s: no unanswered-request hint"
}

# D: the server forgets clients idle for 3 s; the agent resumes ahead
scenario_d()
{
	local s=$1d l=$2 out n

	# the session idled since the start: this one may stall on the loss
	# (anticipation runs once per idle period, then the peer forgot us)
	client -s "127.0.0.1:$l" -n 1 -t 5000 >/dev/null || fail "$s: echo"
	n=$(wc -l <"$WD/agent.log")
	sleep 4.5
	out=$(client -s "127.0.0.1:$l" -n 1 -t 5000) || fail "$s: not answered: $out"
	note "D $s: after 4.5 s idle (server forgets at 3 s): $(echo "$out" | head -n 1)"
	tail -n +$((n + 1)) "$WD/agent.log" >"$WD/$s.tail"
	grep -q "$s: resumed ahead of the peer.s idle timeout" "$WD/$s.tail" ||
		fail "$s: no anticipation"
	if grep -qE "$s: (no answer|plaintext alert)" "$WD/$s.tail"; then
		fail "$s: the datagram stalled on a hint"
	fi
}

for e in "${engines[@]}"; do
	read -r p l v <<<"$e"
	scenario_a "$p" $((l + 3)) $((v + 1))
	scenario_b "$p" $((l + 4))
	scenario_c "$p" $((l + 5)) $((v + 3))
done
# D idles 4.5 s: both engines' sessions at once
dpids=()
for e in "${engines[@]}"; do
	read -r p l v <<<"$e"
	scenario_d "$p" $((l + 6)) >"$WD/d-$p.out" &
	dpids+=($!)
done
for pid in "${dpids[@]}"; do
	wait "$pid" || { cat "$WD"/d-*.out; fail "D"; }
done
cat "$WD"/d-*.out
exit 0
