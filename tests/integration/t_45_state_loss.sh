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
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_testbed

conf=$WD/agent.conf
session_conf "$conf" a 127.0.0.1:8853 "$DK_SRV4:5701" 'heartbeat_interval = 60' \
	'probe_interval = 2'
session_conf "$conf" b 127.0.0.1:8854 "$DK_SRV4:5702" 'heartbeat_interval = 60'
session_conf "$conf" c 127.0.0.1:8855 "$DK_SRV4:5703" 'probe_timeout = 1'
session_conf "$conf" d 127.0.0.1:8856 "$DK_SRV4:5704" 'peer_idle_timeout = 3'
close_conf "$conf"

testserver tsa -l "$DK_SRV4:5701"
testserver tsb -l "$DK_SRV4:5702" --alert-on-unknown --ticket-key-file "$WD/b.key"
testserver tsc -l "$DK_SRV4:5703" --no-heartbeat --ticket-key-file "$WD/c.key"
testserver tsd -l "$DK_SRV4:5704" --no-heartbeat --idle-timeout 3
agent agent "$conf"
for s in a b c d; do
	wait_log agent "$s: up " 10 || fail "session $s not up"
done

mapped_port()
{
	in_cpe conntrack -L -p udp --dport "$1" 2>/dev/null |
		sed -n "s/.*src=$DK_SRV4 dst=[0-9.]* sport=$1 dport=\([0-9]*\).*/\1/p" |
		head -n 1
}

# A: 3000 spoofed alerts over ~3 s while 150 datagrams go through
client -s 127.0.0.1:8853 -n 1 >/dev/null || fail "A: echo"
port=$(mapped_port 5701)
[ -n "$port" ] || fail "A: no conntrack entry"
hs0=$(count_log tsa 'event=handshake ')
client -s 127.0.0.1:8853 -n 150 -i 20 -t 3000 >"$WD/a-client.out" &
cpid=$!
in_srv "$O/dtlskeep-spoof" -s "$DK_SRV4:5701" -d "$DK_CPE4:$port" -n 3000 -i 1000 \
	>"$WD/spoof.out" || fail "A: spoofer: $(cat "$WD/spoof.out")"
wait $cpid || fail "A: application datagrams lost: $(tail -n 1 "$WD/a-client.out")"
agent_stats agent
hints=$(agent_stat agent a hints)
probes=$(agent_stat agent a probes)
extra=$(($(count_log tsa 'event=handshake ') - hs0))
note "A: $(cat "$WD/spoof.out") spoofed alerts, application $(tail -n 1 "$WD/a-client.out")"
note "A: hints=$hints probes=$probes false_alarms=$(agent_stat agent a false_alarms) server handshakes +$extra"
[ "$hints" -ge 1000 ] || fail "A: the spoofed alerts did not reach the agent ($hints hints)"
[ "$probes" -le 3 ] || fail "A: $probes probes: rate limit (2 s) not kept"
[ "$extra" -le 3 ] || fail "A: $extra extra handshakes at the server"
[ "$(grep -c ' a: .*-> ' "$WD/agent.log")" -eq 1 ] || fail "A: the session changed state"
[ "$(agent_stat agent a heartbeats_sent)" -le 10 ] || fail "A: one ping per spoofed alert"
[ "$(agent_stat agent a peer_deaths)" -eq 0 ] || fail "A: peer declared dead"

# B: state lost while idle; the alert is the hint
client -s 127.0.0.1:8854 -n 1 >/dev/null || fail "B: echo"
kill -USR1 "$(pid_of tsb)"
wait_log tsb 'event=state_dropped' 5 || fail "B: server kept its state"
out=$(client -s 127.0.0.1:8854 -n 1 -t 5000) || fail "B: not answered: $out"
note "B: state lost, datagram answered: $(echo "$out" | head -n 1)"
wait_log tsb 'event=handshake .*resumed=1' 5 || fail "B: no resumption at the server"
agent_stats agent
[ "$(agent_stat agent b real_losses)" -eq 1 ] || fail "B: real loss not counted"
[ "$(agent_stat agent b replayed)" -ge 1 ] || fail "B: nothing replayed"
grep -q 'b: plaintext alert level=2 desc=10: hint' "$WD/agent.log" || fail "B: alert not seen"

# C: no heartbeats, no alerts: the unanswered request decides (1 s)
client -s 127.0.0.1:8855 -n 1 >/dev/null || fail "C: echo"
stop tsc KILL
testserver tsc -l "$DK_SRV4:5703" --no-heartbeat --ticket-key-file "$WD/c.key"
out=$(client -s 127.0.0.1:8855 -n 1 -t 5000) || fail "C: not answered: $out"
note "C: no heartbeats, server restarted: $(echo "$out" | head -n 1) (probe_timeout 1 s)"
wait_log tsc 'event=handshake .*resumed=1' 5 || fail "C: recovery was not a resumption"
wait_log agent 'c: no answer for 1000 ms: hint' 1 || fail "C: no unanswered-request hint"

# D: the server forgets clients idle for 3 s; the agent resumes ahead
client -s 127.0.0.1:8856 -n 1 >/dev/null || fail "D: echo"
sleep 4.5
out=$(client -s 127.0.0.1:8856 -n 1 -t 5000) || fail "D: not answered: $out"
note "D: after 4.5 s idle (server forgets at 3 s): $(echo "$out" | head -n 1)"
wait_log agent 'd: resumed ahead of the peer.s idle timeout' 1 || fail "D: no anticipation"
grep -qE 'd: (no answer|plaintext alert)' "$WD/agent.log" &&
	fail "D: the datagram stalled on a hint"
exit 0
