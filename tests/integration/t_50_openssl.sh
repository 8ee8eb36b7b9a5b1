#!/usr/bin/env bash
# The OpenSSL engine (engine = "openssl") against peers nobody here wrote and
# against the project's test server, GnuTLS sessions beside it in one agent:
#  A. openssl s_server -dtls1_2: handshake, data both ways (s_server prints
#     what it receives and sends what is written to its stdin; it echoes
#     nothing); one s_server issues tickets (its default), one only session
#     IDs (-no_ticket): the saved resumption data holds what was issued;
#  B. gnutls-serv --udp --echo: echo (datagrams of at most 254 bytes);
#  C. the test server: echo for an OpenSSL and a GnuTLS session in the same
#     agent, the largest datagram the MTU allows and one byte more, a PSK
#     session, a wrong pin refused;
#  D. the agent restarted (close_notify on SIGTERM): every OpenSSL session
#     resumes from the state directory, with tickets and with session IDs,
#     against s_server, gnutls-serv and the test server; handshake times of
#     both engines against each peer are printed;
#  E. the test server killed, crafted datagrams from its address, restarted
#     with the same ticket key while the application keeps sending: the
#     OpenSSL session (no heartbeats) recovers through its resumption probe.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_testbed
command -v openssl >/dev/null || skip "openssl (the command) not installed"
psk_key=00112233445566778899aabbccddeeff

# s_server NAME PORT [ARGS]: s_server quits when its stdin ends and reads
# commands from it, so its stdin is a FIFO held open by a sleeping writer.
# No -quiet: it then prints "Reused session-id" for abbreviated handshakes.
s_server()
{
	local name=$1 port=$2

	shift 2
	mkfifo "$WD/$name.in"
	sleep 600 >"$WD/$name.in" &
	PIDS+=($!)
	# not bg(): that gives the server /dev/null as stdin
	ip netns exec "$DK_NS_SRV" openssl s_server -dtls1_2 -accept "$DK_SRV4:$port" \
		-cert "$WD/certs/server.pem" -key "$WD/certs/server-key.pem" "$@" \
		<"$WD/$name.in" >>"$WD/$name.log" 2>&1 &
	PIDS+=($!)
	wait_for 5 in_srv sh -c "ss -Hlun | grep -q ':$port '" || fail "s_server on $port"
}

# up_line SESSION: the agent's last "up" line for SESSION, its facts only
up_line()
{
	grep -E " $1: up " "$WD/agent.log" | tail -n 1 | sed 's/.* up //'
}

# hs_ms LOG SESSION: the handshake time of SESSION's first "up" line in LOG
hs_ms()
{
	grep -E " $2: up " "$WD/$1.log" | head -n 1 | grep -o 'hs_ms=[0-9]*' | cut -d= -f2
}

# saved_session SESSION: the OpenSSL session in the state directory, as
# OpenSSL prints it (the blob is "DKO2" + DER)
saved_session()
{
	tail -c +5 "$WD/state/$1.resume" | openssl sess_id -inform DER -noout -text
}

conf=$WD/agent.conf
ossl='engine = "openssl"'
badpin=$(printf '%064d' 0)
# s_server answers nothing on its own: no reply timeout, no probes
session_conf "$conf" os 127.0.0.1:8853 "$DK_SRV4:5690" "$ossl" 'probe_timeout = 0'
session_conf "$conf" osid 127.0.0.1:8863 "$DK_SRV4:5691" "$ossl" 'probe_timeout = 0'
session_conf "$conf" osg 127.0.0.1:8864 "$DK_SRV4:5692" 'probe_timeout = 0'
session_conf "$conf" gs 127.0.0.1:8854 "$DK_SRV4:5684" "$ossl"
session_conf "$conf" gsg 127.0.0.1:8865 "$DK_SRV4:5685"
session_conf "$conf" tsg 127.0.0.1:8856 "$DK_SRV4:5700"
{
	echo "  ts = { listen = \"127.0.0.1:8855\"; upstream = \"$DK_SRV4:5700\"; $ossl;"
	echo "    ca_file = \"$WD/certs/ca.pem\"; server_name = \"$DK_SRV_NAME\"; };"
	echo "  badpin = { listen = \"127.0.0.1:8857\"; upstream = \"$DK_SRV4:5700\"; $ossl;"
	echo "    pin_sha256 = \"$badpin\"; };"
	echo "  psk = { listen = \"127.0.0.1:8858\"; upstream = \"$DK_SRV4:5701\"; $ossl;"
	echo "    psk_identity = \"cpe-0042\"; psk_key = \"$psk_key\"; };"
} >>"$conf"
close_conf "$conf"
why=$("$O/dtlskeepd" -t -c "$conf" 2>&1) ||
	case $why in
	*"not built in"*) skip "this dtlskeepd has no OpenSSL engine" ;;
	*) fail "configuration: $why" ;;
	esac

# one association per s_server and per gnutls-serv: one server per session
s_server ss 5690
s_server ssid 5691 -no_ticket
s_server ssg 5692
gnutls_serv gs 5684
gnutls_serv gsg 5685
testserver ts -l "$DK_SRV4:5700" --ticket-key-file "$WD/ticket.key"
testserver tspsk -l "$DK_SRV4:5701" --psk "cpe-0042:$psk_key"
agent agent "$conf" -l debug
sessions="os osid osg gs gsg ts tsg psk"
for s in $sessions; do
	wait_log agent " $s: up " 10 || fail "$s not up"
done
for s in $sessions; do
	grep -qE " $s: up resumed=0 " "$WD/agent.log" || fail "$s: first handshake not full"
done

# A: s_server, data both ways; tickets and session IDs
client -s 127.0.0.1:8853 -n 3 -i 20 -t 100 >/dev/null	# nothing comes back
wait_log ss 'dk 2 ' 5 || fail "A: s_server did not receive the datagrams"
client -s 127.0.0.1:8853 -n 0 --recv-for 3000 >"$WD/push.out" &
pusher=$!
sleep 0.5
echo "from s_server" >"$WD/ss.in"
wait "$pusher"
grep -q 'pushes=1' "$WD/push.out" || fail "A: s_server's line did not arrive: $(cat "$WD/push.out")"
note "A s_server: $(up_line os)"
note "A s_server printed 3 datagrams; its stdin line reached the application"
saved_session os >"$WD/os.sess" || fail "A: the saved session does not parse"
saved_session osid >"$WD/osid.sess" || fail "A: the saved session (IDs) does not parse"
grep -q 'TLS session ticket:' "$WD/os.sess" || fail "A: s_server issued no ticket"
grep -q 'TLS session ticket' "$WD/osid.sess" && fail "A: s_server -no_ticket issued a ticket"
grep -qE 'Session-ID: [0-9A-F]{64}' "$WD/osid.sess" || fail "A: no session ID to resume with"
note "A resumption data: $(wc -c <"$WD/state/os.resume") bytes with a ticket, $(wc -c <"$WD/state/osid.resume") with a session ID only"

# B: gnutls-serv echoes
out=$(client -s 127.0.0.1:8854 -n 10 -i 20 --size 200) || fail "B gnutls-serv echo: $out"
note "B gnutls-serv: $(up_line gs)"
note "B gnutls-serv echo: $(echo "$out" | tail -n 1)"

# C: test server, OpenSSL and GnuTLS sessions side by side, MTU, PSK, pin
out=$(client -s 127.0.0.1:8855 -n 10 -i 20 --size 1000) || fail "C openssl echo: $out"
note "C test server, openssl: $(echo "$out" | tail -n 1)"
out=$(client -s 127.0.0.1:8856 -n 10 -i 20 --size 1000) || fail "C gnutls echo: $out"
note "C test server, gnutls beside it: $(echo "$out" | tail -n 1)"
# mtu 1400 (the default) is the largest UDP payload: 1363 bytes of data
# with AES-256-GCM; one byte more is refused, not fragmented by IP
out=$(client -s 127.0.0.1:8855 -n 1 --size 1363) || fail "C: 1363 bytes not echoed: $out"
agent_stats agent
big=$(agent_stat agent ts oversized)
client -s 127.0.0.1:8855 -n 1 --size 1364 -t 300 >/dev/null && fail "C: 1364 bytes went through"
agent_stats agent
[ "$(agent_stat agent ts oversized)" -eq $((big + 1)) ] || fail "C: 1364 bytes not counted oversized"
note "C mtu 1400: 1363 bytes echoed, 1364 dropped and counted"
out=$(client -s 127.0.0.1:8858 -n 3 -i 20) || fail "C psk echo: $out"
note "C psk: $(up_line psk)"
wait_log agent 'badpin: full handshake failed: certificate rejected: SHA-256 does not match' 10 ||
	fail "C: wrong pin not refused"
note "C wrong pin refused: $(grep -c 'badpin: full handshake failed' "$WD/agent.log") attempts so far"

# D: the agent restarts (close_notify on SIGTERM) and resumes
before=$(count_log ts 'event=handshake .*resumed=1')
stop agent
mv "$WD/agent.log" "$WD/agent-1.log"
agent agent "$conf" -l debug
for s in $sessions; do
	wait_log agent " $s: up resumed=1 " 10 || fail "D: $s did not resume"
done
wait_log ts 'event=handshake .*resumed=1' 5 $((before + 1)) ||
	fail "D: the test server saw no resumption"
out=$(client -s 127.0.0.1:8855 -n 3 -i 20) || fail "D: echo after restart: $out"
out=$(client -s 127.0.0.1:8854 -n 3 -i 20) || fail "D: gnutls-serv echo after restart: $out"
[ "$(grep -c 'Reused session-id' "$WD/ss.log")" -eq 1 ] || fail "D: s_server (tickets) saw no resumption"
[ "$(grep -c 'Reused session-id' "$WD/ssid.log")" -eq 1 ] || fail "D: s_server (IDs) saw no resumption"
for p in "s_server os osg" "s_server-no_ticket osid -" "gnutls-serv gs gsg" "testserver ts tsg"; do
	read -r peer o g <<<"$p"
	line="D $peer: openssl full $(hs_ms agent-1 "$o") ms, resumed $(hs_ms agent "$o") ms"
	[ "$g" = - ] ||
		line="$line; gnutls full $(hs_ms agent-1 "$g") ms, resumed $(hs_ms agent "$g") ms"
	note "$line"
done

# E1: crafted datagrams from the test server's address and port reach the
# OpenSSL session through its pinhole while the server is alive. The server
# holds its port, so they leave srv from another port that srv's own nftables
# rewrites to 5700 on the way out.
lport=$(cat "$WD/state/ts.port")
port=$(in_cpe conntrack -L -p udp --dport 5700 --sport "$lport" 2>/dev/null |
	sed -n "s/.*src=$DK_SRV4 dst=[0-9.]* sport=5700 dport=\([0-9]*\).*/\1/p" |
	head -n 1)
[ -n "$port" ] || fail "E: no conntrack entry for the session (local port $lport)"
in_srv nft -f - <<NFT || fail "E: nft rewrite in srv"
table inet dk_forge {
	chain out {
		type filter hook output priority 0;
		udp sport 5799 udp sport set 5700
	}
}
NFT
rnd() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }
# well-formed records under epochs 0, 1 and 2 with random bodies (data,
# alert, heartbeat), two records and trailing junk, empty, huge and plain
# garbage; no plaintext alert: that would be a hint, and this part is about
# bad input alone. Then 300 records of the association's own epoch with
# random sequence numbers and bodies: each reaches the decryption.
hdr=fefd0001000000000
forged=(--raw "17${hdr}0990040$(rnd 64)" --raw "17${hdr}09a0400$(rnd 1024)"
	--raw "15${hdr}0500020$(rnd 32)" --raw "18${hdr}0510013$(rnd 19)"
	--raw "17fefd0000000000000000000568656c6c6f"
	--raw "17fefd00020000000000010030$(rnd 48)"
	--raw "17${hdr}0600010$(rnd 16)17${hdr}0610010$(rnd 16)ff00"
	--raw '' --raw zeros:65000 --raw "$(rnd 300)")
blob=$(rnd 30000)
# udpclient takes 64 --raw at most: the 300 records go in 5 sends of 60
forge()
{
	in_srv "$O/dtlskeep-udpclient" -b "$DK_SRV4:5799" -s "$DK_CPE4:$port" "$@" \
		>/dev/null 2>&1 || fail "E: could not send crafted datagrams"
}
batch=()
hs=$(count_log ts 'event=handshake ')
agent_stats agent
got=$(agent_stat agent ts upstream_datagrams)
malformed=$(agent_stat agent ts malformed)
forge "${forged[@]}"
for ((i = 0; i < 300; i++)); do
	batch+=(--raw "17fefd0001${blob:i*100:12}0040${blob:i*100+12:128}")
	[ ${#batch[@]} -lt 120 ] && continue
	forge "${batch[@]}"
	batch=()
done
sleep 0.3
kill -0 "$(pid_of agent)" || fail "E: the agent died"
agent_stats agent
got=$(($(agent_stat agent ts upstream_datagrams) - got))
malformed=$(($(agent_stat agent ts malformed) - malformed))
[ "$got" -ge 310 ] || fail "E: only $got of 310 crafted datagrams reached the agent"
grep -q 'ts: association failed' "$WD/agent.log" && fail "E: crafted input ended the association"
out=$(client -s 127.0.0.1:8855 -n 3 -i 20) || fail "E: no echo after the crafted input: $out"
[ "$(count_log ts 'event=handshake ')" -eq "$hs" ] || fail "E: crafted input cost a handshake"
note "E $got crafted datagrams: $((got - malformed)) reached the OpenSSL engine, $malformed dropped before it; association kept, echo $(echo "$out" | tail -n 1)"
in_srv nft delete table inet dk_forge

# E2: the test server dies and comes back with the same ticket key while the
# application keeps sending. Without heartbeats, only the unanswered
# request (a hint) and the resumption probe it starts notice the loss.
before=$(count_log ts 'event=handshake .*resumed=1')
stop ts KILL
testserver ts -l "$DK_SRV4:5700" --ticket-key-file "$WD/ticket.key"
out=$(client -s 127.0.0.1:8855 --until-answered 20000 -i 200) ||
	fail "E: the OpenSSL session did not recover: $out"
wait_log ts 'event=handshake .*resumed=1' 5 $((before + 1)) ||
	fail "E: recovered, but the test server saw no resumption"
wait_log agent 'ts: peer lost state: switched to the probe resumed=1' 1 ||
	fail "E: not recovered by the resumption probe"
note "E test server restarted: recovered by a resumption probe, $(echo "$out" | grep -o 'stall_ms=[0-9-]*')"
out=$(client -s 127.0.0.1:8856 --until-answered 20000 -i 200) ||
	fail "E: the gnutls session beside it did not recover: $out"
note "E the gnutls session beside it: $(echo "$out" | grep -o 'stall_ms=[0-9-]*')"
exit 0
