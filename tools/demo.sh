#!/usr/bin/env bash
# make demo: the main job end to end in the test bed, against the stock
# gnutls-serv. Builds nothing itself (make does); needs root for namespaces.
#
#   1. an application in cpe talks to dtlskeepd, which relays over DTLS
#   2. the session idles: RFC 6520 heartbeats keep it verified
#   3. the server dies and comes back: the agent notices and recovers
#   4. the agent restarts: it resumes its session from the state directory
# and prints a timeline of what happened and what the agent did.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-$TOP/build}
case $O in /*) ;; *) O=$TOP/$O ;; esac
# shellcheck source=tools/testbed/lib.sh
. "$TOP/tools/testbed/lib.sh"

PORT=5684
LISTEN=127.0.0.1:8853
WD=$(mktemp -d /tmp/dtlskeep-demo.XXXXXX)
EVENTS=$WD/events
T0=

die() { echo "demo: $*" >&2; exit 1; }

now_ms() { date +%s%3N; }

# event TEXT: a line of the timeline, stamped relative to the agent's start
event() { echo "$(($(now_ms) - T0)) demo $*" >>"$EVENTS"; }

cleanup()
{
	[ -n "${AGENT:-}" ] && kill "$AGENT" 2>/dev/null
	[ -n "${SERV:-}" ] && kill "$SERV" 2>/dev/null
	wait 2>/dev/null
	"$TOP/tools/testbed/down.sh" >/dev/null 2>&1
	[ -z "${DK_KEEP:-}" ] && rm -rf "$WD"
}

start_server()
{
	ip netns exec "$DK_NS_SRV" gnutls-serv --udp --heartbeat --echo -p "$PORT" \
		--x509certfile "$WD/certs/server.pem" \
		--x509keyfile "$WD/certs/server-key.pem" \
		>>"$WD/gnutls-serv.log" 2>&1 </dev/null &
	SERV=$!
	for _ in $(seq 50); do
		ip netns exec "$DK_NS_SRV" ss -Hlun | grep -q ":$PORT " && return 0
		sleep 0.1
	done
	die "gnutls-serv did not start"
}

# start_agent N: run number N logs to agent-N.log; its clock starts at
# OFFSET_N ms on the demo's timeline
start_agent()
{
	LOG=$WD/agent-$1.log
	eval "OFFSET_$1=$(($(now_ms) - T0))"
	ip netns exec "$DK_NS_CPE" "$O/dtlskeepd" -c "$WD/dtlskeepd.conf" \
		-s "$WD/state" -S "$WD/control" >"$LOG" 2>&1 </dev/null &
	AGENT=$!
}

# wait_agent REGEX: until the running agent's log has a matching line
wait_agent()
{
	for _ in $(seq 200); do
		grep -qE -- "$1" "$LOG" && return 0
		sleep 0.1
	done
	die "agent never logged '$1' (log: $LOG)"
}

# ask N: the application sends N datagrams and reports the answers
ask()
{
	ip netns exec "$DK_NS_CPE" "$O/dtlskeep-udpclient" -s "$LISTEN" -n "$1" -i 100 |
		tail -n 1
}

# ask_until: one datagram every 200 ms until answered; prints the stall
ask_until()
{
	ip netns exec "$DK_NS_CPE" "$O/dtlskeep-udpclient" -s "$LISTEN" \
		--until-answered 30000 -i 200 | grep -o 'stall_ms=[0-9-]*' | cut -d= -f2
}

# the seed mail's attack: plaintext fatal alerts forged with the server's
# address, through the pinhole, while the application keeps asking
spoof_alerts()
{
	local port out

	port=$(ip netns exec "$DK_NS_CPE" conntrack -L -p udp --dport "$PORT" 2>/dev/null |
		sed -n "s/.*src=$DK_SRV4 dst=[0-9.]* sport=$PORT dport=\([0-9]*\).*/\1/p" |
		head -n 1)
	[ -n "$port" ] || return 0
	event "attacker sends 500 forged plaintext alerts while the application asks 50 times"
	ip netns exec "$DK_NS_CPE" "$O/dtlskeep-udpclient" -s "$LISTEN" -n 50 -i 20 \
		>"$WD/spoof-client.out" &
	ip netns exec "$DK_NS_SRV" "$O/dtlskeep-spoof" -s "$DK_SRV4:$PORT" \
		-d "$DK_CPE4:$port" -n 500 -i 2000 >/dev/null
	wait $!
	out=$(tail -n 1 "$WD/spoof-client.out")
	event "application during the attack: $out"
	echo "   500 forged alerts: application $out; the session was never reset"
}

heartbeats_on_wire()
{
	ip netns exec "$DK_NS_SRV" nft list counter inet dk_demo "$1" |
		sed -n 's/.*packets \([0-9]*\) bytes.*/\1/p'
}

count_heartbeats()
{
	ip netns exec "$DK_NS_SRV" nft -f - <<NFT
table inet dk_demo {
	counter hb_in { }
	counter hb_out { }
	chain in { type filter hook input priority 0; udp dport $PORT @th,64,8 0x18 counter name hb_in; }
	chain out { type filter hook output priority 0; udp sport $PORT @th,64,8 0x18 counter name hb_out; }
}
NFT
}

write_config()
{
	cat >"$WD/dtlskeepd.conf" <<CONF
# dtlskeepd demo configuration (libconfig syntax, see dtlskeepd.conf(5))
sessions = {
  dns = {
    listen = "$LISTEN";
    upstream = "$DK_SRV4:$PORT";
    pin_sha256 = "$(cat "$WD/certs/server.pin")";
    heartbeat_interval = 2;        # seconds idle before a heartbeat
    heartbeat_timeout = "300ms";   # first retransmission, doubling
    heartbeat_retries = 2;
  };
};
CONF
}

# agent_rows N: run N's log lines worth a timeline row, as "MS agent TEXT"
agent_rows()
{
	local off="OFFSET_$1"

	sed -n 's/^\[ *\([0-9]*\)\.\([0-9]*\)\] [a-z]* *dns: \(.*\)/\1\2 \3/p' \
		"$WD/agent-$1.log" |
		grep -E '^[0-9]+ (up |peer dead|heartbeat unanswered|handshake start|flushed|.* -> |retry in|.*handshake failed|association failed|resumption data loaded|plaintext alert|probe|false alarm|peer lost state|replayed)' |
		sed 's/ cipher=.*//' |
		while read -r ms text; do
			echo "$((10#$ms + ${!off})) agent $text"
		done
}

print_timeline()
{
	echo
	echo "Timeline (ms since the agent started)"
	printf '  %8s  %-6s %s\n' "time" "who" "event / what dtlskeepd did"
	{ cat "$EVENTS"; agent_rows 1; agent_rows 2; } | sort -n -s -k1,1 |
		while read -r ms who text; do
			printf '  %8d  %-6s %s\n' "$ms" "$who" "$text"
		done
}

main()
{
	[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"
	[ -x "$O/dtlskeepd" ] || die "run 'make' first"
	trap cleanup EXIT
	echo "== dtlskeep demo: test bed srv <-> cpe (fw4-like NAT) <-> lan"
	"$TOP/tools/testbed/up.sh" || die "test bed"
	"$TOP/tools/testbed/mkcerts.sh" "$WD/certs" >/dev/null || die "certificates"
	write_config
	start_server
	count_heartbeats
	echo "== gnutls-serv --udp --heartbeat --echo on $DK_SRV4:$PORT (srv);" \
		"dtlskeepd in cpe, application on $LISTEN"
	T0=$(now_ms)
	start_agent 1
	event "agent started: session dns -> $DK_SRV4:$PORT"
	wait_agent 'dns: up '

	event "application sends 5 datagrams"
	echo "   application: $(ask 5)"
	event "application idle for 5 s"
	sleep 5
	echo "   heartbeats on the wire while idle: $(heartbeats_on_wire hb_in) sent," \
		"$(heartbeats_on_wire hb_out) answered (server-side nftables counters)"

	event "server killed (state lost)"
	kill -9 "$SERV"
	wait "$SERV" 2>/dev/null
	wait_agent 'dns: peer dead'
	sleep 1
	start_server
	event "server started again (new process, no session state)"
	event "application asks, retrying every 200 ms"
	stall=$(ask_until)
	event "application answered after ${stall} ms"
	echo "   server restart: application answered after ${stall} ms"

	spoof_alerts

	event "agent restarted (SIGTERM: close_notify, state kept in $WD/state)"
	kill "$AGENT"
	wait "$AGENT" 2>/dev/null
	start_agent 2
	wait_agent 'dns: up '
	event "application sends 3 datagrams"
	echo "   after agent restart: $(ask 3)"
	grep -q 'dns: up resumed=1' "$LOG" &&
		echo "   the restarted agent resumed its session (abbreviated handshake)"
	print_timeline
	if [ -x "$O/dtlskeep" ]; then
		echo
		echo "== dtlskeep (the management CLI) against the running agent"
		ip netns exec "$DK_NS_CPE" "$O/dtlskeep" -s "$WD/control" | sed 's/^/   /'
	fi
	echo
	echo "== logs in $WD (kept with DK_KEEP=1)"
}

main "$@"
