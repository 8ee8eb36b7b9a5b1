#!/usr/bin/env bash
# Kernel assistance end to end: three agents side by side in cpe, one per
# mode (bpf, ctnetlink, none), conntrack UDP timeouts of 5 s / 10 s and a
# randomizing masquerade.
#  1. pinhole expiry: the sessions idle ~56 s while the server pushes twice;
#     with kernel assistance every push arrives, with no more keepalives than
#     idle / timeout + 1; a fixed interval longer than the timeout (contrast)
#     loses them; mode none with a short nat_timeout keeps its fixed interval;
#  2. rebinding: conntrack flushed: the new mapping is seen, the session
#     resumed, the application's next datagram answered;
#  3. WAN address change on cpe: the same.
# Each agent has a GnuTLS session and, when built with it, an OpenSSL one
# (its name ends in "o", ports +10): without heartbeats its keepalives are
# records the server drops, and the same limits hold.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
export DK_CT_UDP_TIMEOUT=5 DK_CT_UDP_STREAM_TIMEOUT=10 DK_MASQ_FLAGS=random
need_testbed

IDLE_MS=${DK_IDLE_MS:-56000}	# shorter for debugging the later parts
PUSHES=$((IDLE_MS / 25000))
session_conf "$WD/probe.conf" o 127.0.0.1:1 127.0.0.1:1 'engine = "openssl"'
close_conf "$WD/probe.conf"
ossl=
"$O/dtlskeepd" -t -c "$WD/probe.conf" >/dev/null 2>&1 && ossl=o
[ -n "$ossl" ] || note "no OpenSSL engine in this dtlskeepd: GnuTLS sessions only"
testserver ts "${DK_TS_QUIET--q}" --push-interval 25000 -l "$DK_SRV4:5761" -l "$DK_SRV4:5762" \
	-l "$DK_SRV4:5763" -l "$DK_SRV4:5764" -l "$DK_SRV4:5771" -l "$DK_SRV4:5772" \
	-l "$DK_SRV4:5773" -l "$DK_SRV4:5774"
quiet='heartbeat_interval = 600'
fast='heartbeat_timeout = "200ms"'

# agent_mode NAME MODE SESSION LISTEN_PORT SERVER_PORT [KEY=VALUE...]
agent_mode()
{
	local name=$1 mode=$2 sess=$3 lport=$4 sport=$5 conf="$WD/$1.conf"

	shift 5
	session_conf "$conf.s" "$sess" "127.0.0.1:$lport" "$DK_SRV4:$sport" "$quiet" "$fast" "$@"
	[ -z "$ossl" ] || session_conf "$conf.s" "${sess}o" "127.0.0.1:$((lport + 10))" \
		"$DK_SRV4:$((sport + 10))" "$quiet" "$fast" 'engine = "openssl"' "$@"
	close_conf "$conf.s"
	{
		echo "kernel_mode = \"$mode\";"
		echo "wan_interface = \"$DK_WAN_IF\";"
		cat "$conf.s"
	} >"$conf"
	bg "$name" "$DK_NS_CPE" "$O/dtlskeepd" -c "$conf" -s "$WD/state-$name" \
		-S "$WD/$name.ctl" ${DK_AGENT_DEBUG:+-l debug}
	wait_log "$name" "$sess: up " 10 || fail "$name: session not up"
	[ -z "$ossl" ] || wait_log "$name" "${sess}o: up " 10 || fail "$name: ${sess}o not up"
	grep -q "kernel assistance: $mode" "$WD/$name.log" ||
		fail "$name: not in mode $mode: $(grep 'kernel assistance' "$WD/$name.log")"
}

agent_mode abpf bpf pb 8861 5761
agent_mode actn ctnetlink pc 8862 5762
agent_mode anone none pn 8863 5763 'nat_timeout = 30'
agent_mode afix none pf 8864 5764 'nat_timeout = 4'

# 1: idle while the server pushes; each client counts what reaches it
cpids=()
for p in 8861 8862 8863 8864 ${ossl:+8871 8872 8873 8874}; do
	client -s "127.0.0.1:$p" -n 0 --recv-for "$IDLE_MS" >"$WD/push-$p.out" &
	cpids+=($!)
done
wait "${cpids[@]}"
pushes() { grep -o 'pushes=[0-9]*' "$WD/push-$1.out" | cut -d= -f2; }
kept()
{
	agent_stats "$1"
	echo $(($(agent_stat "$1" "$2" heartbeats_sent) + $(agent_stat "$1" "$2" keepalives_sent)))
}
limit=$((IDLE_MS / 10000 + 1))
for m in "abpf pb 8861 bpf" "actn pc 8862 ctnetlink" \
	${ossl:+"abpf pbo 8871 bpf/openssl" "actn pco 8872 ctnetlink/openssl"}; do
	read -r a s p mode <<<"$m"
	n=$(kept "$a" "$s")
	note "$mode: $(pushes "$p") of $PUSHES pushes arrived after ${IDLE_MS} ms idle, $n keepalives (limit $limit)"
	[ "$(pushes "$p")" -ge $PUSHES ] || fail "$mode: pushed datagrams lost"
	[ "$n" -le "$limit" ] || fail "$mode: $n keepalives, more than idle/timeout + 1 = $limit"
	[ "$n" -ge $((IDLE_MS / 10000 - 1)) ] || fail "$mode: too few keepalives"
done
n=$(kept anone pn)
note "contrast, fixed 30 s interval > 10 s timeout: $(pushes 8863) of $PUSHES pushes arrived, $n keepalives"
[ $PUSHES -eq 0 ] || [ "$(pushes 8863)" -lt $PUSHES ] || fail "contrast: a 30 s interval should lose pushes"
for m in "pf 8864 none" ${ossl:+"pfo 8874 none/openssl"}; do
	read -r s p mode <<<"$m"
	n=$(kept afix "$s")
	note "$mode, fixed 4 s nat_timeout: $(pushes "$p") of $PUSHES pushes arrived, $n keepalives (every 3.5 s: $((IDLE_MS / 3500)))"
	[ "$(pushes "$p")" -ge $PUSHES ] || fail "$mode: pushes lost despite a short interval"
	if [ "$n" -lt $((IDLE_MS / 3500 - 2)) ] || [ "$n" -gt $((IDLE_MS / 3500 + 2)) ]; then
		fail "$mode: $n keepalives, not the fixed interval"
	fi
done

# 2: rebinding by a conntrack flush. The application asks until answered:
# a re-handshake whose first flight met the entry while the flush tore it
# down gets no answer, and a waiting application restarts it after 1 s.
in_cpe conntrack -F >/dev/null 2>&1
for m in "abpf pb 8861" "actn pc 8862" ${ossl:+"abpf pbo 8871" "actn pco 8872"}; do
	read -r a s p <<<"$m"
	wait_log "$a" "$s: pinhole destroyed" 5 || fail "$a: flush not seen"
	out=$(client -s "127.0.0.1:$p" --until-answered 8000 -i 100) ||
		fail "$a: next datagram not answered; $(in_cpe conntrack -L -p udp 2>&1)"
	wait_log "$a" "$s: up resumed=1" 1 || fail "$a: not resumed after the flush"
	note "flush: $a $s resumed, the next datagram answered after $(echo "$out" | grep -o 'stall_ms=[0-9]*')"
done

# 3: the WAN address changes, as a new DHCP lease does it
in_cpe ip addr del "$DK_CPE4/24" dev "$DK_WAN_IF"
in_cpe ip addr add 203.0.113.3/24 dev "$DK_WAN_IF"
in_cpe ip route replace default via "$DK_SRV4"
for m in "abpf pb 8861" "actn pc 8862" ${ossl:+"abpf pbo 8871" "actn pco 8872"}; do
	read -r a s p <<<"$m"
	out=$(client -s "127.0.0.1:$p" --until-answered 8000 -i 100) ||
		fail "$a: datagram after the address change"
	wait_log "$a" "$s: up resumed=1" 1 2 || fail "$a: not resumed after the address change"
	note "WAN address change: $a $s resumed, the next datagram answered after $(echo "$out" | grep -o 'stall_ms=[0-9]*')"
done
exit 0
