#!/usr/bin/env bash
# The kernel-assistance module on its own (tools/pinholewatch; the agent's
# policy is not involved), in bpf and in ctnetlink mode, on a UDP flow from
# cpe's own socket to srv through the masquerade:
#   - the expiry it reports matches `conntrack -L` within a second, also
#     after later packets moved it, and the entry's end is reported;
#   - a conntrack flush with a randomizing masquerade gives "destroy", then
#     a new mapping with another port when traffic goes on (IPv4 and IPv6);
#   - a WAN address change (new address on wan0, old one removed) gives a
#     new mapping on the new address;
#   - the kernel-side event filter keeps unrelated flows' events out, and an
#     overrun event socket (ENOBUFS) resyncs instead of failing.
# Detection latency = time from sending the first datagram after the change
# to the report (since_send_us).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

PW=$O/dtlskeep-pinholewatch
[ -x "$PW" ] || fail "$PW not built"
why=$(testbed_can_run) || skip "$why"
command -v conntrack >/dev/null || skip "conntrack (conntrack-tools) not installed"
WD=$(mktemp -d /tmp/dk-it.XXXXXX)
trap cleanup EXIT

# bed MASQ_FLAGS UDP_TIMEOUT STREAM_TIMEOUT: a fresh test bed
bed()
{
	DK_MASQ_FLAGS=$1 DK_CT_UDP_TIMEOUT=$2 DK_CT_UDP_STREAM_TIMEOUT=$3 \
		"$TOP/tools/testbed/up.sh" >>"$WD/testbed.log" 2>&1 ||
		fail "test bed setup"
}

# pw NAME MODE ARGS...: pinholewatch in cpe, forced into MODE
pw()
{
	local name=$1 mode=$2

	shift 2
	: >"$WD/$name.log"
	bg "$name" "$DK_NS_CPE" "$PW" -i "$DK_WAN_IF" -m "$mode" "$@"
	wait_log "$name" '^t=[0-9]+ mode=' 5 || fail "$name: no mode line"
	grep -q "mode=$mode " "$WD/$name.log" ||
		fail "$name: $(grep -m1 'mode=' "$WD/$name.log")"
}

# field NAME REGEX KEY [N]: KEY's value on the Nth (default last) line matching
field()
{
	local line

	if [ -n "${4:-}" ]; then
		line=$(grep -E -- "$2" "$WD/$1.log" | sed -n "${4}p")
	else
		line=$(grep -E -- "$2" "$WD/$1.log" | tail -n 1)
	fi
	printf '%s\n' "$line" | tr ' ' '\n' | sed -n "s/^$3=//p" | head -n 1
}

# the remaining timeout conntrack -L shows for the flow from local port $1
ct_left()
{
	in_cpe conntrack -L -p udp --orig-port-src "$1" 2>/dev/null |
		awk '$1 == "udp" { print $3; exit }'
}

abs() { echo "${1#-}"; }

# Expiry: datagrams at 0, 2 and 4 s (UDP timeout 10 s), then silence.
check_expiry()
{
	local mode=$1 name=exp_$1 port=40000 te xe tq xq ct d

	bed "" 10 20
	pw "$name" "$mode" -l "0.0.0.0:$port" -r "$DK_SRV4:5684" -s 2000 -n 3 --lead 3000
	wait_log "$name" 'event=mapping' 5 || fail "$mode: no mapping"
	# ctnetlink: the pre-expiry GET (at expiry - lead) sees the later packets
	sleep 8
	kill -USR1 "$(pid_of "$name")"
	ct=$(ct_left "$port")
	wait_log "$name" 'event=query' 3 || fail "$mode: no query answer"
	te=$(field "$name" 'event=expiry' t)
	xe=$(field "$name" 'event=expiry' in_ms)
	tq=$(field "$name" 'event=query' t)
	xq=$(field "$name" 'event=query' in_ms)
	if [ -z "$ct" ] || [ -z "$xe" ] || [ -z "$xq" ]; then
		fail "$mode: missing numbers: ct='$ct' event='$xe' query='$xq'"
	fi
	# where the last report puts the expiry, seen from the query's time
	d=$((te + xe - tq))
	note "$mode: expiry reported ${d} ms ahead (last of" \
		"$(count_log "$name" 'event=expiry') reports for 3 datagrams 2 s apart)," \
		"GET/query ${xq} ms, conntrack -L ${ct} s"
	[ "$(abs $((d - ct * 1000)))" -le 1200 ] ||
		fail "$mode: reported expiry ${d} ms vs conntrack -L ${ct} s"
	[ "$(abs $((xq - ct * 1000)))" -le 1200 ] ||
		fail "$mode: query ${xq} ms vs conntrack -L ${ct} s"
	# nothing more is sent: the entry ends when reported
	wait_log "$name" 'event=destroy' $((d / 1000 + 5)) ||
		fail "$mode: the entry's end was not reported"
	note "$mode: destroy reported $(($(field "$name" 'event=destroy' t) - te - xe)) ms" \
		"after the reported expiry"
	stop "$name"
}

# Flush with "masquerade random": destroy, then a new port. Noise flows
# before it must not reach the module (kernel-side filter).
check_flush()
{
	local mode=$1 fam=$2 local=$3 remote=$4 name=fl_$1_$2 p1 p2 lat

	pw "$name" "$mode" -l "$local" -r "$remote" -s 200
	wait_log "$name" 'event=mapping' 5 || fail "$mode $fam: no mapping"
	p1=$(field "$name" 'event=mapping' port)
	noise 60
	in_cpe conntrack -F >/dev/null 2>&1
	wait_log "$name" 'event=destroy' 3 || fail "$mode $fam: flush: no destroy"
	wait_log "$name" 'event=mapping' 3 2 || fail "$mode $fam: flush: no new mapping"
	p2=$(field "$name" 'event=mapping' port 2)
	lat=$(field "$name" 'event=mapping' since_send_us 2)
	grep -nE 'event=(destroy|mapping)' "$WD/$name.log" | sed -n 2p |
		grep -q 'event=destroy' || fail "$mode $fam: mapping before destroy"
	[ "$p1" != "$p2" ] || fail "$mode $fam: same port $p1 after flush (random)"
	note "$mode $fam: flush: port $p1 -> $p2, new mapping ${lat} us after the first datagram"
	stop "$name"
	[ "$(field "$name" 'event=stats' ct_unmatched)" = 0 ] ||
		fail "$mode $fam: unrelated events passed the kernel filter"
}

# New WAN address, old one removed, traffic goes on: a new mapping.
check_wan_change()
{
	local mode=$1 name=wan_$1 addr lat

	in_cpe sysctl -qw "net.ipv4.conf.$DK_WAN_IF.promote_secondaries=1"
	pw "$name" "$mode" -l 0.0.0.0:40020 -r "$DK_SRV4:5684" -s 200
	wait_log "$name" 'event=mapping' 5 || fail "$mode: no mapping"
	ip -n "$DK_NS_CPE" addr add 203.0.113.3/24 dev "$DK_WAN_IF"
	ip -n "$DK_NS_CPE" addr del "$DK_CPE4/24" dev "$DK_WAN_IF"
	wait_log "$name" 'event=mapping' 3 2 || fail "$mode: WAN change: no new mapping"
	addr=$(field "$name" 'event=mapping' addr 2)
	lat=$(field "$name" 'event=mapping' since_send_us 2)
	[ "$addr" = 203.0.113.3 ] || fail "$mode: WAN change: mapping on $addr"
	note "$mode: WAN address change: mapping $DK_CPE4 -> $addr" \
		"($(count_log "$name" 'event=destroy') destroy)," \
		"${lat} us after the first datagram"
	stop "$name"
}

# noise N: N datagrams from N fresh sockets (N conntrack entries)
noise()
{
	# shellcheck disable=SC2016 # expanded by the inner bash
	in_cpe bash -c 'for i in $(seq "$1"); do printf x >"/dev/udp/$2/$((7000 + i))"; done' \
		_ "$1" "$DK_SRV4" 2>/dev/null
}

# A tiny event socket without the filter overruns under a burst of new
# flows: the module resyncs (GET per watched flow) and keeps reporting.
check_overrun()
{
	local name=ovr en

	pw "$name" ctnetlink -l 0.0.0.0:40030 -r "$DK_SRV4:5684" -s 200 \
		--no-ct-filter --rcvbuf 1
	wait_log "$name" 'event=mapping' 5 || fail "overrun: no mapping"
	noise 400
	sleep 0.5
	in_cpe conntrack -F >/dev/null 2>&1
	noise 400
	wait_log "$name" 'event=mapping' 3 2 || fail "overrun: no mapping after the flush"
	stop "$name"
	en=$(field "$name" 'event=stats' ct_enobufs)
	note "ctnetlink without filter, 1-byte buffer: $en overruns, resynced;" \
		"$(field "$name" 'event=stats' ct_unmatched) unrelated events read"
	[ "${en:-0}" -ge 1 ] || note "(no overrun happened this time)"
}

for mode in bpf ctnetlink; do
	check_expiry "$mode"
	bed random 30 120
	check_flush "$mode" ipv4 0.0.0.0:40010 "$DK_SRV4:5684"
	check_flush "$mode" ipv6 "[::]:40011" "[$DK_SRV6]:5684"
	check_wan_change "$mode"
done
bed "" 30 120
check_overrun
exit 0
