#!/usr/bin/env bash
# Measure 1: keepalives per hour per session with zero pinhole expiries.
# Conntrack UDP timeouts of 30, 60 and 120 s, scaled down 5x for run time
# (6, 12, 24 s; per-flow nftables "ct timeout" policies, so every case runs
# at once), idle sessions against the project's test server.  dtlskeep in
# bpf and in ctnetlink mode (keepalive just before the kernel's own expiry)
# against the usual fixed intervals of 25 s and 20 s (WireGuard, strongSwan;
# dtlskeep-baseline --keepalive, scaled the same way).  Keepalives are the
# packets each flow sends out of the WAN while idle (tcpdump); a sample is
# one interval between two, as a rate per real hour.  Limit: 3600 / timeout
# (one keepalive per pinhole lifetime).  Expiries: new conntrack entries
# of the flow during the window (conntrack -E).
# shellcheck source=tools/bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_start

k=5
timeouts=$(pick "30" "30 60 120")
window=$(pick 60 240)
variants="bpf ctnetlink fixed25 fixed20"

nft_bench_setup
# port LAYOUT: timeout index i, variant index v -> 58<i><v>
port() { echo $((5800 + $1 * 10 + $2)); }
listens=()
i=0
for t in $timeouts; do
	v=1
	for var in $variants; do
		p=$(port $i $v)
		ct_policy "t$p" $((t / k)) "$p"
		listens+=(-l "$DK_SRV4:$p")
		v=$((v + 1))
	done
	i=$((i + 1))
done
testserver ts -q "${listens[@]}"

for mode in bpf ctnetlink; do
	: >"$WD/$mode.s"
	i=0
	for t in $timeouts; do
		v=1
		[ "$mode" = ctnetlink ] && v=2
		session_conf "$WD/$mode.s" "s$t" "127.0.0.1:$(port $i $v | sed 's/^5/8/')" \
			"$DK_SRV4:$(port $i $v)" 'heartbeat_interval = 3600' 'heartbeat_timeout = "200ms"'
		i=$((i + 1))
	done
	agent_with "a$mode" "$mode" "$WD/$mode.s"
done
i=0
for t in $timeouts; do
	baseline "f25_$t" "$(port $i 3 | sed 's/^5/8/')" "$(port $i 3)" --keepalive $((25000 / k))
	baseline "f20_$t" "$(port $i 4 | sed 's/^5/8/')" "$(port $i 4)" --keepalive $((20000 / k))
	i=$((i + 1))
done
for mode in bpf ctnetlink; do
	n=$(echo "$timeouts" | wc -w)
	wait_log "a$mode" ': up ' 10 "$n" || fail "agent $mode: sessions not up"
	grep -q "kernel assistance: $mode" "$WD/a$mode.log" || fail "agent not in mode $mode"
done

# the first pinhole lifetime of every flow starts now; the window after it
sleep 3
in_cpe tcpdump -i "$DK_WAN_IF" -n -tt -l "udp and dst host $DK_SRV4" >"$WD/wire.txt" 2>/dev/null &
PIDS+=($!)
in_cpe conntrack -E -e NEW -p udp >"$WD/new.txt" 2>/dev/null &
PIDS+=($!)
# pinhole lifetime of the 30 s flows, for the timeline plot
sampler()
{
	local p

	while :; do
		for p in "$(port 0 1)" "$(port 0 3)"; do
			echo "$(epoch) $p $(in_cpe conntrack -L -p udp --dport "$p" 2>/dev/null |
				awk '{ print $3; exit }')"
		done
		sleep 0.25
	done >"$WD/lifetime.txt"
}
sampler &
PIDS+=($!)
t_start=$(epoch)
say "m1: idle window ${window} s (x$k = $((window * k / 60)) real minutes)"
sleep "$window"
t_end=$(epoch)
sleep 0.5

# intervals between a flow's packets inside the window, as rates per hour
rates()
{
	awk -v p="$1" -v a="$t_start" -v b="$t_end" -v k=$k '
		$0 ~ "\\." p ": UDP" && $1 >= a && $1 <= b {
			if (last) printf "%.1f\n", 3600 / (($1 - last) * k)
			last = $1
		}' "$WD/wire.txt"
}
count() { awk -v p="$1" -v a="$t_start" -v b="$t_end" '$0 ~ "\\." p ": UDP" && $1 >= a && $1 <= b' "$WD/wire.txt" | wc -l; }
expiries() { grep -c "dport=$1 " "$WD/new.txt"; }

i=0
for t in $timeouts; do
	v=1
	for var in $variants; do
		p=$(port $i $v)
		c=$(count "$p")
		e=$(expiries "$p")
		per_h=$(awk -v c="$c" -v w="$window" -v k=$k 'BEGIN { printf "%.0f", c * 3600 / (w * k) }')
		case $var in
		fixed*) role=baseline label="fixed ${var#fixed} s interval" ;;
		*) role=dtlskeep label="dtlskeep ($var)" ;;
		esac
		result m1 "timeout ${t} s" "$label" "$role" "keepalives/h" "$(rates "$p")" \
			"limit=$((3600 / t))" "limit_text=\"3600/${t} s\"" \
			"note=\"$c keepalives in the window = $per_h/h, $e pinhole expiries\"" \
			"expiries=$e"
		say "timeout $t s, $label: $per_h keepalives/h (limit $((3600 / t))), $e expiries"
		v=$((v + 1))
	done
	i=$((i + 1))
done

# timeline plot: pinhole lifetime and keepalives, dtlskeep (bpf) against a
# fixed 25 s interval, the 30 s timeout, the first 60 s of the window
awk -v a="$t_start" -v p1="$(port 0 1)" -v p2="$(port 0 3)" '
	$1 >= a && $1 <= a + 60 && $3 != "" { f = ($2 == p1) ? "life_bpf" : "life_fix";
		printf "%.2f %s\n", $1 - a, $3 > (ENVIRON["BENCH_OUT"] "/m1_" f ".dat") }' \
	"$WD/lifetime.txt"
for pv in "$(port 0 1):ka_bpf" "$(port 0 3):ka_fix"; do
	awk -v a="$t_start" -v p="${pv%%:*}" '$0 ~ "\\." p ": UDP" && $1 >= a && $1 <= a + 60 {
		printf "%.2f 1\n", $1 - a }' "$WD/wire.txt" >"$BENCH_OUT/m1_${pv#*:}.dat"
done
cat >"$BENCH_OUT/m1_timeline.gp" <<GP
set terminal png size 900,420
set output "m1_timeline.png"
set title "Pinhole lifetime (conntrack timeout 6 s = 30 s / $k) and keepalives"
set xlabel "seconds into the idle window (scaled)"
set ylabel "remaining pinhole lifetime, s"
set yrange [-0.5:$((30 / k + 1))]
set key outside right
plot "m1_life_bpf.dat" with steps lw 2 title "dtlskeep (bpf): lifetime", \
     "m1_ka_bpf.dat" using 1:(0) with points pt 9 ps 1.5 title "dtlskeep: keepalive", \
     "m1_life_fix.dat" with steps dt 2 title "fixed 25 s: lifetime", \
     "m1_ka_fix.dat" using 1:(0.3) with points pt 7 title "fixed 25 s: keepalive"
GP
exit 0
