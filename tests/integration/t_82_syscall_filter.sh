#!/usr/bin/env bash
# The systemd unit's SystemCallFilter= allows every system call the agent
# makes. The unit answers a filtered call with EPERM
# (SystemCallErrorNumber=), so a missing one would not kill the agent but
# quietly cost it a feature (the bpf mode, say). Traced with strace: the
# agent in the bpf mode with ctnetlink events relays, reloads a changed
# file (`dtlskeep reload`, the unit's ExecReload=), hears of WAN changes
# (SIGUSR2, `dtlskeep wan-changed`), writes its state, dumps counters
# (SIGUSR1), answers the CLI (status, session show, monitor) and stops. Needs strace and systemd-analyze (to expand @groups).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
command -v strace >/dev/null || skip "strace not installed"
command -v systemd-analyze >/dev/null || skip "systemd-analyze not installed (Debian: systemd)"
need_testbed

UNIT=$TOP/packaging/systemd/dtlskeepd.service
mapfile -t filters < <(sed -n 's/^SystemCallFilter=//p' "$UNIT")
[ "${#filters[@]}" -gt 0 ] || fail "no SystemCallFilter= in $UNIT"

# expand ITEM...: the system calls a filter list names, @groups resolved
# (systemd-analyze lists a group's members indented, comments after "#")
expand()
{
	local item

	for item in "$@"; do
		case $item in
		~*) fail "SystemCallFilter=$item: only allow lists are checked here" ;;
		@*)
			# shellcheck disable=SC2046 # one name per word
			expand $(systemd-analyze syscall-filter "$item" |
				sed -n 's/^    \([^# ][^ ]*\).*/\1/p') ;;
		*) echo "$item" ;;
		esac
	done
}
# shellcheck disable=SC2086,SC2048 # the unit's lists, one item per word
expand ${filters[*]} | sort -u >"$WD/allowed"
[ "$(wc -l <"$WD/allowed")" -gt 100 ] || fail "expanding '${filters[*]}' gave $(wc -l <"$WD/allowed") calls"

testserver ts -q -l "$DK_SRV4:5720" -l "$DK_SRV4:5721"
conf=$WD/agent.conf
ctl=$WD/agent.ctl
write()
{
	{
		echo "kernel_mode = \"bpf\";"
		echo "wan_interface = \"$DK_WAN_IF\";"
	} >"$conf"
	session_conf "$conf.s" a 127.0.0.1:8871 "$DK_SRV4:5720"
	[ "$1" = 2 ] && session_conf "$conf.s" b 127.0.0.1:8872 "$DK_SRV4:5721"
	close_conf "$conf.s"
	cat "$conf.s" >>"$conf"
	rm -f "$conf.s"
}
write 1
bg strace "$DK_NS_CPE" strace -f -qq -o "$WD/trace" "$O/dtlskeepd" -c "$conf" \
	-s "$WD/state" -S "$ctl"
wait_for 5 pgrep -P "$(pid_of strace)" -x dtlskeepd >/dev/null || fail "the agent did not start"
AGENT=$(pgrep -P "$(pid_of strace)" -x dtlskeepd)
wait_log strace 'a: up ' 10 || fail "session a not up"
grep -q 'kernel assistance: bpf .*ctnetlink events' "$WD/strace.log" ||
	fail "not in the bpf mode with ctnetlink events: $(grep 'kernel assistance' "$WD/strace.log")"

client -s 127.0.0.1:8871 -n 3 -i 20 >/dev/null || fail "echo on a"
bg monitor "$DK_NS_CPE" "$O/dtlskeep" -s "$ctl" monitor
"$O/dtlskeep" -s "$ctl" status >/dev/null || fail "dtlskeep status"
"$O/dtlskeep" -s "$ctl" -j session show a >/dev/null || fail "dtlskeep session show"
write 2
"$O/dtlskeep" -s "$ctl" reload || fail "dtlskeep reload"
wait_log strace 'b: up ' 10 || fail "reload: session b not up"
kill -USR2 "$AGENT"
wait_log strace 'a: up resumed=1' 10 || fail "SIGUSR2: a did not resume"
"$O/dtlskeep" -s "$ctl" wan-changed || fail "dtlskeep wan-changed"
wait_log strace 'a: up resumed=1' 10 2 || fail "wan-changed: a did not resume"
client -s 127.0.0.1:8872 -n 3 -i 20 >/dev/null || fail "echo on b"
kill -USR1 "$AGENT"
wait_log strace ' stats ' 5 || fail "no stats"
stop monitor
kill -TERM "$AGENT"
wait "$(pid_of strace)" 2>/dev/null
eval "PID_strace="
grep -q 'signal 15: exiting' "$WD/strace.log" || fail "the agent did not stop on SIGTERM"

# "PID name(args" and "PID <... name resumed>": the calls made; the first
# execve is strace's own, made before the unit's filter would apply
sed -n -e 's/^[0-9]\{1,\} \{1,\}\([a-z0-9_]\{1,\}\)(.*/\1/p' "$WD/trace" | sort -u >"$WD/used"
[ -s "$WD/used" ] || fail "no system calls traced"
denied=$(comm -23 "$WD/used" "$WD/allowed" | tr '\n' ' ')
[ -z "$denied" ] || fail "SystemCallFilter=${filters[*]} refuses what the agent calls: $denied"
note "$(wc -l <"$WD/used") distinct system calls, all allowed by SystemCallFilter=${filters[*]}"

# the same for the socket families: RestrictAddressFamilies=
families=$(sed -n 's/^RestrictAddressFamilies=//p' "$UNIT")
used=$(sed -n 's/^[0-9]\{1,\} \{1,\}socket(\(AF_[A-Z0-9]*\),.*/\1/p' "$WD/trace" | sort -u | tr '\n' ' ')
for f in $used; do
	case " $families " in
	*" $f "*) ;;
	*) fail "RestrictAddressFamilies=$families refuses $f, which the agent opens" ;;
	esac
done
note "socket families used: ${used% }, all in RestrictAddressFamilies="
exit 0
