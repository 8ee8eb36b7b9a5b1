#!/usr/bin/env bash
# Measure 6: the agent's CPU time against the size of the gateway's
# conntrack table.  cpe's table holds 1k, 10k and 100k unrelated entries:
# real UDP flows from lan to srv (dtlskeep-ctflows: one datagram per flow,
# forwarded and masqueraded by cpe, dropped by srv before its own
# conntrack), kept for 1200 s by an nftables "ct timeout" policy; the table
# grows from one size to the next.  Each size is measured static, then with
# churn: N/100 new flows per second from a second lan address with a 5 s
# timeout, so NEW and DESTROY events of unrelated flows all along (expired
# entries stay until conntrack's garbage collector reaps them: the table
# holds more than N, conntrack -C before and after each window is in the
# notes).  dtlskeep in bpf mode and in ctnetlink mode, each watching 3 idle
# sessions against the project's test server (their pinholes 10 s, so each
# window holds the agents' routine work, keepalives and conntrack GETs,
# several times over), against the dump-polling approach (dtlskeep-ctpoll:
# once per second a ctnetlink dump of the whole table, every entry parsed,
# the 3 watched flows' CTA_TIMEOUT kept); all three run through every
# window.  CPU: each process's time on CPU, user and kernel, from
# /proc/PID/task/*/schedstat (a dump's kernel side runs in the poller's
# context) over a 30 s window read every 10 s; a sample is one slice, in CPU
# ms per minute (600 = 1% of one core).  The notes add the window's mean and
# wakeups (voluntary context switches) per minute.  Not counted: work done
# for the agent in other contexts (its event filter runs where the kernel
# raises the event, its tc program per packet: m5).  Goal: the agent's cost
# stays flat across table sizes.
# shellcheck source=tools/bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_start
for b in dtlskeep-ctpoll dtlskeep-ctflows; do
	[ -x "$O/$b" ] || fail "$O/$b not built"
done

sizes=$(pick "1000 10000" "1000 10000 100000")
window=$(pick 6 30)
slice=$(pick 2 10)
settle=$(pick 2 3)
long=1200
short=5
session_timeout=10
# the unrelated flows: static ones from lan's own address, the churn from a
# second one; source ports below the ephemeral range (the agent's), server
# ports 20000-20999, which srv drops in its raw table
churn4=192.0.2.3
sport=10000
csport=30000
dport=20000
span=1000

in_cpe sysctl -n net.netfilter.nf_conntrack_max >"$WD/ct_max" 2>/dev/null
[ "$(cat "$WD/ct_max")" -gt $((2 * ${sizes##* })) ] ||
	skip "nf_conntrack_max $(cat "$WD/ct_max") is too small for ${sizes##* } entries"
ip -n "$DK_NS_LAN" addr add "$churn4/24" dev "$DK_PEER_IF" || fail "second lan address"
in_cpe nft -f - <<NFT || fail "nft timeouts in cpe"
table inet dk_m6 {
	ct timeout long { protocol udp; l3proto ip; policy = { unreplied: $long, replied: $long }; }
	ct timeout short { protocol udp; l3proto ip; policy = { unreplied: $short, replied: $short }; }
	chain pre {
		type filter hook prerouting priority filter; policy accept;
		iifname "$DK_LAN_IF" ip saddr $DK_LAN4 udp dport $dport-$((dport + span - 1)) ct timeout set "long"
		iifname "$DK_LAN_IF" ip saddr $churn4 udp dport $dport-$((dport + span - 1)) ct timeout set "short"
	}
}
NFT
in_srv nft -f - <<NFT || fail "nft drop in srv"
table inet dk_m6 {
	chain pre {
		type filter hook prerouting priority raw; policy accept;
		udp dport $dport-$((dport + span - 1)) drop
	}
}
NFT

# the sessions' own pinholes: 10 s, so that every window holds the agents'
# routine work (keepalives, GETs) several times over, not only their sleep
nft_bench_setup
for p in 5961 5962 5963 5964 5965 5966; do
	ct_policy "s$p" "$session_timeout" "$p"
done
testserver ts -q -l "$DK_SRV4:5961" -l "$DK_SRV4:5962" -l "$DK_SRV4:5963" \
	-l "$DK_SRV4:5964" -l "$DK_SRV4:5965" -l "$DK_SRV4:5966"
for m in bpf:5961 ctnetlink:5964; do
	mode=${m%%:*}
	: >"$WD/$mode.s"
	for p in $((${m#*:})) $((${m#*:} + 1)) $((${m#*:} + 2)); do
		session_conf "$WD/$mode.s" "s$p" "127.0.0.1:$((p + 2000))" "$DK_SRV4:$p" \
			'heartbeat_interval = 3600'
	done
	agent_with "a$mode" "$mode" "$WD/$mode.s"
done
for mode in bpf ctnetlink; do
	wait_log "a$mode" ': up ' 10 3 || fail "agent $mode: sessions not up"
	grep -q "kernel assistance: $mode" "$WD/a$mode.log" || fail "agent not in mode $mode"
done
# the baseline watches the bpf agent's three flows
bg poll "$DK_NS_CPE" "$O/dtlskeep-ctpoll" -w "$DK_SRV4:5961" -w "$DK_SRV4:5962" \
	-w "$DK_SRV4:5963"
wait_log poll 'found=3/3' 5 || fail "the poller does not find the sessions' flows"
# a dump's floor: srv's table holds a handful of entries, but a dump walks
# every bucket of the kernel's hash table, which all namespaces share
floor_ms=$(in_srv "$O/dtlskeep-ctpoll" -w "$DK_SRV4:1" -n 5 -i 100 |
	sed -n 's/.* us=\([0-9]*\) .*/\1/p' | sort -n | sed -n 3p | awk '{ printf "%.1f", $1 / 1000 }')
buckets=$(in_cpe sysctl -n net.netfilter.nf_conntrack_buckets 2>/dev/null)
say "a dump of an almost empty table: $floor_ms ms ($buckets hash buckets)"

ct_count() { in_cpe conntrack -C 2>/dev/null; }
# cpu_ns PID: time on CPU of all the process's threads, in ns
cpu_ns()
{
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f\n", s }'
}
wakeups()
{
	cat /proc/"$1"/task/*/status 2>/dev/null |
		awk '/^voluntary_ctxt_switches/ { s += $2 } END { print s + 0 }'
}
procs="abpf actnetlink poll"

# window TAG: per process, one CPU ms/min sample per slice into
# $WD/TAG.NAME, and the wakeups per minute of the whole window into
# $WD/TAG.NAME.wake; the poller's dump lines of the window into $WD/TAG.dumps
window()
{
	local tag=$1 p t0 t1 start lines s n
	local -A ns wk

	for p in $procs; do
		kill -0 "$(pid_of "$p")" 2>/dev/null || fail "$p is not running"
		ns[$p]=$(cpu_ns "$(pid_of "$p")")
		wk[$p]=$(wakeups "$(pid_of "$p")")
		: >"$WD/$tag.$p"
	done
	lines=$(wc -l <"$WD/poll.log")
	start=$(date +%s%N)
	t0=$start
	for ((s = 0; s < window / slice; s++)); do
		sleep "$slice"
		t1=$(date +%s%N)
		for p in $procs; do
			kill -0 "$(pid_of "$p")" 2>/dev/null || fail "$p ended during the window"
			n=$(cpu_ns "$(pid_of "$p")")
			awk -v a="${ns[$p]}" -v b="$n" -v dt=$((t1 - t0)) \
				'BEGIN { printf "%.3f\n", (b - a) / 1e6 * 60e9 / dt }' >>"$WD/$tag.$p"
			ns[$p]=$n
		done
		t0=$t1
	done
	for p in $procs; do
		awk -v a="${wk[$p]}" -v b="$(wakeups "$(pid_of "$p")")" -v dt=$((t0 - start)) \
			'BEGIN { printf "%.0f\n", (b - a) * 60e9 / dt }' >"$WD/$tag.$p.wake"
	done
	tail -n +$((lines + 1)) "$WD/poll.log" | grep '^dump=' >"$WD/$tag.dumps"
}

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR ? a[int((NR + 1) / 2)] : "-") }'; }
mean() { awk '{ s += $1 } END { printf "%.2f\n", NR ? s / NR : 0 }'; }

# report TAG CASE TABLE_BEFORE TABLE_AFTER
report()
{
	local tag=$1 c=$2 t="table $3 -> $4 entries (conntrack -C)" d found dms

	for m in bpf ctnetlink; do
		result m6 "$c" "dtlskeep ($m)" dtlskeep "CPU ms/min" "$(cat "$WD/$tag.a$m")" \
			"note=\"$t; window mean $(mean <"$WD/$tag.a$m") ms/min, $(cat "$WD/$tag.a$m.wake") wakeups/min\"" \
			"table=[$3,$4]" "wakeups_per_min=$(cat "$WD/$tag.a$m.wake")"
	done
	d=$(wc -l <"$WD/$tag.dumps")
	found=$(grep -c 'found=3/3' "$WD/$tag.dumps")
	dms=$(sed -n 's/.* us=\([0-9]*\) .*/\1/p' "$WD/$tag.dumps" | median |
		awk '{ printf "%.1f", $1 / 1000 }')
	result m6 "$c" "poll: dump the table once per second" baseline "CPU ms/min" \
		"$(cat "$WD/$tag.poll")" \
		"note=\"$t; window mean $(mean <"$WD/$tag.poll") ms/min, $(cat "$WD/$tag.poll.wake") wakeups/min; a dump takes $dms ms ($floor_ms ms with an empty table: $buckets buckets), found the 3 flows in $found of $d\"" \
		"table=[$3,$4]" "wakeups_per_min=$(cat "$WD/$tag.poll.wake")" "dump_ms=$dms"
	say "$c: CPU ms/min, median: bpf $(median <"$WD/$tag.abpf")," \
		"ctnetlink $(median <"$WD/$tag.actnetlink"), poller $(median <"$WD/$tag.poll")" \
		"(dump $dms ms); $t"
}

# fill N: flows 0 .. N-1 of the static set are in cpe's table
have=0
fill()
{
	local n=$1 c

	in_lan "$O/dtlskeep-ctflows" -d "$DK_SRV4" -s $sport -p $dport -w $span \
		-f "$have" -n $((n - have)) >>"$WD/ctflows.log" 2>&1 || fail "ctflows"
	c=$(ct_count)
	if [ "${c:-0}" -lt "$n" ]; then
		# a datagram lost on the way: send them all again, which only
		# refreshes the entries that are there
		in_lan "$O/dtlskeep-ctflows" -d "$DK_SRV4" -s $sport -p $dport -w $span \
			-n "$n" >>"$WD/ctflows.log" 2>&1 || fail "ctflows"
		c=$(ct_count)
		[ "${c:-0}" -ge "$n" ] || fail "conntrack table: $c entries, $n wanted"
	fi
	have=$n
}

label() { if [ "$1" -ge 1000 ]; then echo "$(($1 / 1000))k"; else echo "$1"; fi; }
: >"$BENCH_OUT/m6_static.dat"
: >"$BENCH_OUT/m6_churn.dat"
for n in $sizes; do
	fill "$n"
	sleep "$settle"
	c0=$(ct_count)
	window "s$n"
	c1=$(ct_count)
	report "s$n" "$(label "$n") entries" "$c0" "$c1"
	echo "$n $(median <"$WD/s$n.abpf") $(median <"$WD/s$n.actnetlink") $(median <"$WD/s$n.poll")" \
		>>"$BENCH_OUT/m6_static.dat"

	rate=$((n / 100))
	bg "churn$n" "$DK_NS_LAN" "$O/dtlskeep-ctflows" -d "$DK_SRV4" -b "$churn4" \
		-s $csport -p $dport -w $span -c $((rate * 30)) -r "$rate"
	# the first churn entries expire and are reaped before the window
	sleep $((short + settle * 2))
	c0=$(ct_count)
	window "c$n"
	c1=$(ct_count)
	stop "churn$n"
	say "churn: $(sed -n 's/^ctflows: sent=\([0-9]*\) .* seconds=\([0-9.]*\)/\1 \2/p' \
		"$WD/churn$n.log" | awk '{ printf "%.0f", $1 / $2 }') new flows/s sent"
	report "c$n" "$(label "$n") entries + $rate new/s" "$c0" "$c1"
	echo "$n $(median <"$WD/c$n.abpf") $(median <"$WD/c$n.actnetlink") $(median <"$WD/c$n.poll")" \
		>>"$BENCH_OUT/m6_churn.dat"
	# the churn's entries go before the next size
	in_cpe conntrack -D -s "$churn4" >/dev/null 2>&1
done

# the sessions kept their pinholes all along
for m in bpf ctnetlink; do
	agent_stats "a$m"
done
say "the agents' 6 sessions: $(grep -h ' stats ' "$WD/abpf.log" "$WD/actnetlink.log" |
	sed -n 's/.* pinholes_destroyed=\([0-9]*\).*/\1/p' | awk '{ s += $1 } END { print s + 0 }') pinholes destroyed in the run"

cat >"$BENCH_OUT/m6_cpu.gp" <<GP
set terminal png size 900,480
set output "m6_cpu.png"
set title "CPU against conntrack table size (medians; 3 watched sessions each)"
set xlabel "unrelated conntrack entries in cpe's table"
set ylabel "CPU ms per minute (600 = 1% of a core)"
set logscale xy
set xrange [500:200000]
set yrange [0.1:*]
set grid
set key below
clamp(v) = v < 0.1 ? 0.1 : v
plot "m6_static.dat" using 1:(clamp(\$2)) with linespoints lw 2 lc 1 pt 7 title "dtlskeep (bpf)", \
     "m6_static.dat" using 1:(clamp(\$3)) with linespoints lw 2 lc 2 pt 5 title "dtlskeep (ctnetlink)", \
     "m6_static.dat" using 1:(clamp(\$4)) with linespoints lw 2 lc 3 pt 9 title "poll: dump once per second", \
     "m6_churn.dat" using 1:(clamp(\$2)) with linespoints dt 2 lc 1 pt 6 title "bpf, churn", \
     "m6_churn.dat" using 1:(clamp(\$3)) with linespoints dt 2 lc 2 pt 4 title "ctnetlink, churn", \
     "m6_churn.dat" using 1:(clamp(\$4)) with linespoints dt 2 lc 3 pt 8 title "poll, churn"
GP
exit 0
