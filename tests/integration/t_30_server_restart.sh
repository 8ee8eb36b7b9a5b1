#!/usr/bin/env bash
# The server loses its state; the application's next datagrams are answered
# without restarting the agent:
#  A. gnutls-serv killed and started again (a new process: full handshake);
#  B. the project's test server killed and restarted at once with its
#     persistent ticket key: the recovery is a resumption, seen by both ends;
#  C. the agent itself killed (no close_notify) and restarted: its session
#     comes back by resumption from the state directory.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_testbed

hb='heartbeat_interval = 1'
fast='heartbeat_timeout = "200ms"'
conf=$WD/agent.conf
session_conf "$conf" gs 127.0.0.1:8853 "$DK_SRV4:5684" "$hb" "$fast" 'heartbeat_retries = 2'
session_conf "$conf" ts 127.0.0.1:8854 "$DK_SRV4:5700" "$hb" "$fast" 'heartbeat_retries = 2'
close_conf "$conf"

gnutls_serv gs 5684
testserver ts -l "$DK_SRV4:5700" --ticket-key-file "$WD/ticket.key"
agent agent "$conf"
wait_log agent 'gs: up ' 10 || fail "gs not up"
wait_log agent 'ts: up ' 10 || fail "ts not up"
client -s 127.0.0.1:8853 -n 2 -i 20 >/dev/null || fail "gs echo"
client -s 127.0.0.1:8854 -n 2 -i 20 >/dev/null || fail "ts echo"

# A: gnutls-serv serves one association per process and spins on any stale
# record that reaches a new process before a ClientHello (see design.md),
# so it comes back once the agent has declared it dead.
stop gs KILL
wait_log agent 'gs: peer dead' 10 || fail "gs: death not detected"
gnutls_serv gs 5684
out=$(client -s 127.0.0.1:8853 --until-answered 20000 -i 200) || fail "A: no answer: $out"
note "A gnutls-serv restarted: $(echo "$out" | grep -o 'stall_ms=[0-9-]*')"
wait_log agent 'gs: up resumed=0' 1 || fail "A: expected a full handshake"

# B: restart at once; the application keeps asking meanwhile
before=$(count_log ts 'event=handshake .*resumed=1')
stop ts KILL
testserver ts -l "$DK_SRV4:5700" --ticket-key-file "$WD/ticket.key"
out=$(client -s 127.0.0.1:8854 --until-answered 20000 -i 200) || fail "B: no answer: $out"
note "B test server restarted: $(echo "$out" | grep -o 'stall_ms=[0-9-]*')"
wait_log ts 'event=handshake .*resumed=1' 5 $((before + 1)) ||
	fail "B: the server saw no resumption"
wait_log agent 'ts: up resumed=1' 1 || fail "B: the agent saw no resumption"

# C: the agent crashes and comes back
before=$(count_log ts 'event=handshake .*resumed=1')
stop agent KILL
agent agent "$conf"
wait_log agent 'ts: up resumed=1' 10 || fail "C: restarted agent did not resume"
wait_log ts 'event=handshake .*resumed=1' 5 $((before + 1)) ||
	fail "C: the server saw no resumption"
out=$(client -s 127.0.0.1:8854 -n 3 -i 20) || fail "C: echo after restart: $out"
note "C agent restarted: resumed, $(echo "$out" | tail -n 1)"
exit 0
