#!/usr/bin/env bash
# Measure 4: detection latency, from a conntrack change to the agent acting
# on it.  The change: cpe's conntrack table flushed (as a WAN address change
# or an operator does).  The action: the first packet of the flow on the WAN
# afterwards (tcpdump), which for dtlskeep is its resumption's ClientHello.
# Measured from just before `conntrack -F` runs (the tool's own start-up,
# a few ms, is included alike for all).  dtlskeep in bpf mode and in
# ctnetlink mode (both learn of destroyed entries from ctnetlink events)
# against a poller that lists the flow's entry once per second
# (`conntrack -L`) and sends a datagram when it is gone.
# shellcheck source=tools/bench/lib.sh
. "$(dirname "$0")/lib.sh"
export DK_MASQ_FLAGS=random
bench_start

reps=$(pick 3 20)
testserver ts -q -l "$DK_SRV4:5981" -l "$DK_SRV4:5982" -l "$DK_SRV4:5983"
for m in bpf:5981 ctnetlink:5982; do
	: >"$WD/${m%%:*}.s"
	session_conf "$WD/${m%%:*}.s" "s${m#*:}" "127.0.0.1:$((${m#*:} + 2000))" \
		"$DK_SRV4:${m#*:}" 'heartbeat_interval = 3600'
	agent_with "a${m%%:*}" "${m%%:*}" "$WD/${m%%:*}.s"
	wait_log "a${m%%:*}" ': up ' 10 || fail "agent ${m%%:*} not up"
done

# the poller's flow: datagrams from a fixed local port, which it watches
poll_send() { client -b 0.0.0.0:7983 -s "$DK_SRV4:5983" --raw 00 -n 1 -t 1 >/dev/null 2>&1; }
poller()
{
	while :; do
		if ! in_cpe conntrack -L -p udp --dport 5983 2>/dev/null | grep -q sport=7983; then
			poll_send
		fi
		sleep 1
	done
}
poll_send
poller &
PIDS+=($!)

in_cpe tcpdump -i "$DK_WAN_IF" -n -tt -l "udp and dst host $DK_SRV4" >"$WD/wire.txt" 2>/dev/null &
PIDS+=($!)
sleep 1
: >"$WD/flushes"
for i in $(seq "$reps"); do
	# every flow has its entry again before the next flush
	client -s 127.0.0.1:7981 -n 1 -t 3000 >/dev/null
	client -s 127.0.0.1:7982 -n 1 -t 3000 >/dev/null
	sleep "$(awk -v i="$i" 'BEGIN { srand(i); printf "%.2f", 1.5 + rand() }')"
	epoch >>"$WD/flushes"
	in_cpe conntrack -F 2>/dev/null
	sleep 1.5
done
sleep 0.5

# latency PORT: for each flush, the first packet to PORT after it, in ms
latency()
{
	awk -v port="$1" 'FNR == NR { f[++n] = $1; next }
		$0 ~ "\\." port ": UDP" { t[++m] = $1 }
		END { for (i = 1; i <= n; i++) for (j = 1; j <= m; j++)
			if (t[j] >= f[i]) { if (i == n || t[j] < f[i + 1])
				printf "%.3f\n", (t[j] - f[i]) * 1000; break } }' \
		"$WD/flushes" "$WD/wire.txt"
}
result m4 "conntrack flushed" "dtlskeep (bpf)" dtlskeep ms "$(latency 5981)"
result m4 "conntrack flushed" "dtlskeep (ctnetlink)" dtlskeep ms "$(latency 5982)"
result m4 "conntrack flushed" "poll a conntrack listing once per second" baseline ms \
	"$(latency 5983)" 'note="the poller acts within one period: uniform over 0-1 s"'
for p in 5981 5982 5983; do
	say "port $p: $(latency $p | sort -n | awk '{ a[NR] = $1 } END { print "median " a[int((NR + 1) / 2)] " ms, n=" NR }')"
done
exit 0
