#!/usr/bin/env bash
# Bad input on either side is counted and dropped, and never stops the agent:
#  - application datagrams too large for the session;
#  - malformed records, truncated headers, plaintext alerts, empty and huge
#    datagrams arriving through the pinhole from the server's address;
#  - an upstream nobody answers: retried with growing backoff, logged.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_testbed

conf=$WD/agent.conf
session_conf "$conf" junk 127.0.0.1:8853 "$DK_SRV4:5700" 'heartbeat_interval = 1' \
	'heartbeat_timeout = "200ms"' 'heartbeat_retries = 2'
session_conf "$conf" nowhere 127.0.0.1:8854 "$DK_SRV4:5999" \
	'handshake_timeout = 1' 'retry_max = 2'
close_conf "$conf"

testserver ts -l "$DK_SRV4:5700" --ticket-key-file "$WD/ticket.key"
agent agent "$conf"
wait_log agent 'junk: up ' 10 || fail "not up"
client -s 127.0.0.1:8853 -n 2 -i 20 >/dev/null || fail "echo"

# application side: larger than the DTLS record can carry, and the largest
# UDP datagram there is
client -s 127.0.0.1:8853 --size 3000 -t 300 >/dev/null && fail "3000 bytes were answered?"
client -s 127.0.0.1:8853 --size 65507 -t 300 >/dev/null && fail "65507 bytes were answered?"
client -s 127.0.0.1:8853 -n 3 -i 20 >/dev/null || fail "echo after oversized datagrams"
agent_stats agent
[ "$(agent_stat agent junk oversized)" -ge 2 ] || fail "oversized datagrams not counted"
note "application side: $(agent_stat agent junk oversized) oversized datagrams counted and dropped"

# peer side: the server dies, and crafted datagrams arrive from its address
# and port, which the pinhole lets in
port=$(in_cpe conntrack -L -p udp --dport 5700 2>/dev/null |
	sed -n 's/.*src=203.0.113.1 dst=[0-9.]* sport=5700 dport=\([0-9]*\).*/\1/p' | head -n 1)
[ -n "$port" ] || fail "no conntrack entry for the session"
stop ts KILL
agent_stats agent
before=$(agent_stat agent junk upstream_datagrams)
hdr=17fefd000100000000000a
in_srv "$O/dtlskeep-udpclient" -b "$DK_SRV4:5700" -s "$DK_CPE4:$port" \
	--raw '' --raw 17 --raw 17fefd0001000000000000 \
	--raw 17fefd000100000000000affff \
	--raw "${hdr}0064$(printf '%0200d' 7)" \
	--raw 18fefd0001000000000000ff0003010040 \
	--raw 15fefd00000000000000000002020a \
	--raw 16fefd0000000000000000000c0300000000000000000000 \
	--raw zeros:1500 --raw zeros:65000 \
	--raw "$(head -c 300 /dev/urandom | od -An -tx1 | tr -d ' \n')" >/dev/null ||
	fail "could not send the crafted datagrams"
sleep 0.5
kill -0 "$(pid_of agent)" || fail "the agent died"
agent_stats agent
got=$(($(agent_stat agent junk upstream_datagrams) - before))
[ "$got" -ge 11 ] || fail "only $got of 11 crafted datagrams reached the agent"
note "$got crafted datagrams from the server's address reached the agent: still alive"

testserver ts -l "$DK_SRV4:5700" --ticket-key-file "$WD/ticket.key"
out=$(client -s 127.0.0.1:8853 --until-answered 15000 -i 200) || fail "no recovery: $out"
note "recovered after the server came back: $(echo "$out" | grep -o 'stall_ms=[0-9]*')"

# an upstream nobody answers: backoff 1 s, 2 s, 2 s ..., each attempt logged
wait_log agent 'nowhere: retry in 2000 ms' 10 2 || fail "no backoff for a dead upstream"
grep -q 'nowhere: full handshake failed' "$WD/agent.log" || fail "failure not logged"
client -s 127.0.0.1:8853 -n 2 -i 20 >/dev/null || fail "other sessions disturbed"
note "dead upstream: $(count_log agent 'nowhere: retry in') retries logged, others unaffected"
exit 0
