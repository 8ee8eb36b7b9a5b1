#!/usr/bin/env bash
# Reload (SIGHUP) changes only what changed: an unchanged session keeps its
# association, a changed one restarts by resumption, a removed one stops, a
# new one starts; a broken file changes nothing. SIGUSR2 (the WAN changed,
# as the OpenWrt hotplug script says) resumes every session at once.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_testbed

testserver ts -l "$DK_SRV4:5700" -l "$DK_SRV4:5701" -l "$DK_SRV4:5702" -l "$DK_SRV4:5703"
conf=$WD/agent.conf
write()
{
	: >"$conf"
	for s in "$@"; do
		case $s in
		b2) session_conf "$conf" b 127.0.0.1:8852 "$DK_SRV4:5701" 'heartbeat_interval = 7' ;;
		a) session_conf "$conf" a 127.0.0.1:8851 "$DK_SRV4:5700" ;;
		b) session_conf "$conf" b 127.0.0.1:8852 "$DK_SRV4:5701" ;;
		c) session_conf "$conf" c 127.0.0.1:8853 "$DK_SRV4:5702" ;;
		d) session_conf "$conf" d 127.0.0.1:8854 "$DK_SRV4:5703" ;;
		esac
	done
	close_conf "$conf"
}
echo_ok() { client -s "127.0.0.1:$1" -n 2 -i 20 -t 1000 >/dev/null; }

write a b c
agent agent "$conf"
for s in a b c; do wait_log agent "$s: up " 10 || fail "$s not up"; done
for p in 8851 8852 8853; do echo_ok $p || fail "echo on $p"; done
a_hs=$(count_log agent 'a: handshake start')

write a b2 d
kill -HUP "$(pid_of agent)"
wait_log agent 'reloaded .*: 3 sessions' 5 || fail "no reload"
wait_log agent 'd: up ' 10 || fail "new session d not up"
wait_log agent 'b: up resumed=1' 10 || fail "changed session b did not resume"
echo_ok 8851 || fail "a after reload"
echo_ok 8852 || fail "b after reload"
echo_ok 8854 || fail "d after reload"
echo_ok 8853 && fail "removed session c still answers"
[ "$(count_log agent 'a: handshake start')" -eq "$a_hs" ] || fail "unchanged a was restarted"
note "reload: a kept its association, b resumed, c stopped, d started"

echo 'sessions = { broken' >"$conf"
kill -HUP "$(pid_of agent)"
wait_log agent 'reload refused, configuration kept: .*agent.conf:[0-9]+: syntax error' 5 || fail "bad file not refused"
echo_ok 8851 || fail "a after a refused reload"
note "a broken file is refused with its line; sessions keep serving"

before=$(count_log ts 'event=handshake .*resumed=1')
kill -USR2 "$(pid_of agent)"
wait_log ts 'event=handshake .*resumed=1' 5 $((before + 3)) || fail "SIGUSR2 did not resume all"
for p in 8851 8852 8854; do echo_ok $p || fail "echo on $p after SIGUSR2"; done
note "SIGUSR2: 3 sessions resumed at once"

# The same through the CLI, as the service managers do it: with an answer.
dk() { "$O/dtlskeep" -s "$WD/agent.ctl" "$@"; }
out=$(dk reload 2>&1) && fail "CLI reload of a broken file succeeded"
echo "$out" | grep -qE 'reload refused, configuration kept: .*agent.conf:[0-9]+: syntax error' ||
	fail "CLI reload of a broken file: no reason given: $out"
echo_ok 8851 || fail "a after a refused CLI reload"
write a b2 c
c_up=$(count_log agent 'c: up ')
a_hs=$(count_log agent 'a: handshake start')
dk reload || fail "CLI reload"
wait_log agent 'c: up ' 10 $((c_up + 1)) || fail "CLI reload: session c not started"
echo_ok 8853 || fail "c after the CLI reload"
echo_ok 8854 && fail "removed session d still answers after the CLI reload"
[ "$(count_log agent 'a: handshake start')" -eq "$a_hs" ] || fail "CLI reload restarted unchanged a"
before=$(count_log ts 'event=handshake .*resumed=1')
dk wan-changed || fail "CLI wan-changed"
wait_log ts 'event=handshake .*resumed=1' 5 $((before + 3)) || fail "wan-changed did not resume all"
note "CLI: reload of a broken file refused with its line (exit 1), then applied; wan-changed resumed 3 sessions"
exit 0
