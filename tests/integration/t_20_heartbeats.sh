#!/usr/bin/env bash
# RFC 6520 heartbeats against gnutls-serv, counted on the server's side of
# the wire (nftables counters on DTLS records of content type 24): sent
# while idle, answered, and still sent and answered after the agent was
# restarted and resumed its session (the heartbeat extension is not
# renegotiated by a resumed handshake: the agent must re-enable it).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_testbed

gnutls_serv srv 5684
hb_count_setup 5684
conf=$WD/agent.conf
session_conf "$conf" hb 127.0.0.1:8853 "$DK_SRV4:5684" 'heartbeat_interval = 1'
close_conf "$conf"

agent agent "$conf"
wait_log agent 'hb: up resumed=0 heartbeat=negotiated' 10 || fail "not up with heartbeats"
client -s 127.0.0.1:8853 -n 1 >/dev/null || fail "echo"
sleep 5
# the agent's counters first: the wire, read later, can only be ahead
agent_stats agent
sent=$(agent_stat agent hb heartbeats_sent)
answered=$(agent_stat agent hb heartbeats_answered)
in1=$(hb_count hb_in)
out1=$(hb_count hb_out)
note "idle 5 s at 1 s interval: server saw $in1 heartbeat records in, sent $out1"
note "agent counted sent=$sent answered=$answered"
[ "$in1" -ge 3 ] || fail "too few heartbeats on the wire: $in1"
[ "$out1" -ge 3 ] || fail "too few heartbeat responses on the wire: $out1"
if [ "$sent" -lt 3 ] || [ "$sent" -gt "$in1" ]; then
	fail "agent claims $sent pings, the wire saw $in1"
fi
if [ "$answered" -lt 3 ] || [ "$answered" -gt "$out1" ]; then
	fail "agent claims $answered answers, the server sent $out1"
fi

# graceful restart: close_notify frees gnutls-serv for the next association
stop agent
agent agent "$conf"
wait_log agent 'hb: up resumed=1 heartbeat=negotiated' 10 || fail "restart did not resume"
in2=$(hb_count hb_in)
out2=$(hb_count hb_out)
sleep 5
in3=$(hb_count hb_in)
out3=$(hb_count hb_out)
note "after resumption: +$((in3 - in2)) heartbeats in, +$((out3 - out2)) answered on the wire"
[ $((in3 - in2)) -ge 3 ] || fail "no heartbeats after a resumed handshake"
[ $((out3 - out2)) -ge 3 ] || fail "heartbeats after resumption not answered"
client -s 127.0.0.1:8853 -n 3 -i 20 >/dev/null || fail "echo after resumption"
exit 0
