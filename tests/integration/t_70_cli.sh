#!/usr/bin/env bash
# dtlskeep(8) against a running agent: status and session list in text and
# JSON; a session added at run time carries traffic, takes a timer change
# in place and a listen change by rebuild (resuming), and is deleted;
# monitor shows its events; bad keys and values are named; usage errors
# exit 2; an unprivileged user may read but not change anything.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_testbed
[ -x "$O/dtlskeep" ] || fail "$O/dtlskeep not built"
command -v setpriv >/dev/null || skip "setpriv not installed"

# a directory "nobody" may search, so that the socket's own mode decides
ctldir=$(mktemp -d /tmp/dk-ctl.XXXXXX) || fail "mktemp"
chmod 0755 "$ctldir"
trap 'rm -rf "$ctldir"; cleanup' EXIT
ctl=$ctldir/control
dk() { "$O/dtlskeep" -s "$ctl" "$@"; }
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$O/dtlskeep" -s "$ctl" "$@"; }

# plain -j output has no spaces: "key":value is one string to look for
has() { grep -qE -- "\"$2\":$3" <<<"$1"; }
need() { has "$1" "$2" "$3" || fail "$4: no \"$2\":$3 in: $1"; }
valid_json()
{
	command -v jq >/dev/null || return 0
	jq -e . >/dev/null <<<"$1" || fail "not JSON: $1"
}
up_within() { wait_for "$2" sh -c "'$O/dtlskeep' -s '$ctl' -j session show $1 | grep -q '\"state\":\"up\"'"; }
echo_ok() { client -s "127.0.0.1:$1" -n 3 -i 20 -t 1000 >/dev/null; }

conf=$WD/agent.conf
session_conf "$conf" a 127.0.0.1:8871 "$DK_SRV4:5771" 'heartbeat_interval = 1'
close_conf "$conf"
testserver ts -l "$DK_SRV4:5771"
agent agent "$conf" -S "$ctl"
wait_log agent 'a: up ' 10 || fail "a not up"
wait_for 5 test -S "$ctl" || fail "no control socket"

# --- status and list, text and JSON ----------------------------------
out=$(dk status) || fail "status: $out"
grep -q '^kernel assistance: ' <<<"$out" || fail "status text: $out"
grep -q 'sessions: 1,' <<<"$out" || fail "status text: $out"
js=$(dk -j status) || fail "status -j"
valid_json "$js"
need "$js" version '"[^"]+"' "status"
need "$js" mode '"(bpf|ctnetlink|none)"' "status"
need "$js" mode_reason '"[^"]*"' "status"
need "$js" uptime_ms '[0-9]+' "status"
need "$js" sessions 1 "status"
mode=$(grep -oE '"mode":"[a-z]+"' <<<"$js" | cut -d'"' -f4)
note "status: mode=$mode sessions=1"

out=$(dk session list) || fail "list"
grep -qE '^a +up +negotiated ' <<<"$out" || fail "list text: $out"
js=$(dk -j session list) || fail "list -j"
valid_json "$js"
grep -q '^\[{"name":"a","state":"up",' <<<"$js" || fail "list -j: $js"

js=$(dk -j session show a) || fail "show -j"
valid_json "$js"
need "$js" name '"a"' "show"
need "$js" state '"up"' "show"
need "$js" engine '"gnutls"' "show"
need "$js" listen '"127.0.0.1:8871"' "show"
need "$js" upstream "\"$DK_SRV4:5771\"" "show"
need "$js" heartbeat '"negotiated"' "show"
need "$js" mapping '(null|\{"address":"[^"]+","port":[0-9]+\})' "show"
need "$js" pinhole '(null|\{"expires_in_ms":[0-9]+\})' "show"
for c in heartbeats_sent heartbeats_answered keepalives_sent resumptions \
	full_handshakes hints datagrams_in datagrams_out datagrams_dropped; do
	need "$js" "$c" '[0-9]+' "show counters"
done
dk -p session show a | grep -q '^  "name": *"a",$' || fail "-p is not indented"

out=$(dk) || fail "no arguments"
grep -q '^kernel assistance' <<<"$out" || fail "no arguments: no status: $out"
grep -q '^NAME ' <<<"$out" || fail "no arguments: no list: $out"
js=$(dk -j) || fail "-j alone"
grep -q '^{"status":{.*},"sessions":\[{"name":"a"' <<<"$js" || fail "-j alone: $js"
dk sess sh a | grep -q '^session a: up' || fail "prefixes: sess sh"
note "status, list, show, overview: text and JSON fields present; prefixes work"

# --- run time: add, traffic, set, delete, watched by monitor ---------
bg monitor "$DK_NS_CPE" "$O/dtlskeep" -s "$ctl" monitor
wait_for 5 sh -c "'$O/dtlskeep' -s '$ctl' -j status | grep -q '\"control_clients\":2'" ||
	fail "monitor did not connect"

t0=$(date +%s%N)
dk session add b listen 127.0.0.1:8872 upstream "$DK_SRV4:5771" pin_sha256 "$PIN" \
	heartbeat_interval 1 heartbeat_timeout=200ms || fail "add b"
up_within b 10 || fail "b not up"
t1=$(date +%s%N)
echo_ok 8872 || fail "no echo through the added session"
note "added b: up after $(((t1 - t0) / 1000000)) ms, echo through it"
wait_log monitor 'b: heartbeat_answered' 5 || fail "monitor: no heartbeat of b"

out=$(dk session set b heartbeat_interval 2) || fail "set in place"
grep -q '^b: applied in place$' <<<"$out" || fail "set: $out"
js=$(dk -j session show b)
need "$js" heartbeat_interval_ms 2000 "set in place"
js=$(dk -j session set b heartbeat_timeout 300ms) || fail "set -j"
need "$js" applied '"in_place"' "set -j"

in=$(grep -oE '"datagrams_in":[0-9]+' <<<"$(dk -j session show b)")
out=$(dk session set b listen=127.0.0.1:8873) || fail "set listen"
grep -q "^b: rebuilt: 'listen'" <<<"$out" || fail "set listen: $out"
up_within b 10 || fail "b not up after the rebuild"
echo_ok 8873 || fail "no echo on the new listen port"
echo_ok 8872 && fail "the old listen port still answers"
wait_log monitor 'b: resumed' 5 || fail "the rebuilt session did not resume"
js=$(dk -j session show b)
[ "${in#*:}" -le "$(grep -oE '"datagrams_in":[0-9]+' <<<"$js" | cut -d: -f2)" ] ||
	fail "counters lost in the rebuild: $in, then $js"
note "set: heartbeat_interval in place; listen rebuilt, resumed, counters kept"

dk stats reset b || fail "stats reset"
need "$(dk -j session show b)" datagrams_in 0 "stats reset"

# --- refusals: bad keys, values, credentials; usage ------------------
err=$(dk session set b upstraem 192.0.2.9:1 2>&1) && fail "unknown key accepted"
grep -q 'upstraem: unknown key' <<<"$err" || fail "unknown key not named: $err"
note "refused, key named: ${err#dtlskeep: }"
err=$(dk session set b heartbeat_interval 0 2>&1) && fail "bad value accepted"
grep -q 'heartbeat_interval: must be' <<<"$err" || fail "bad value not named: $err"
err=$(dk session add c listen 127.0.0.1:8874 upstream "$DK_SRV4:5771" 2>&1) &&
	fail "add without credentials accepted"
grep -q 'c: no credentials' <<<"$err" || fail "credentials: $err"
err=$(dk session add c listen 127.0.0.1:8871 upstream "$DK_SRV4:5771" pin_sha256 "$PIN" 2>&1) &&
	fail "a listen address in use accepted"
grep -q 'Address already in use' <<<"$err" || fail "address in use: $err"
err=$(dk session show nosuch 2>&1)
rc=$?
[ $rc -eq 1 ] || fail "show nosuch: exit $rc, want 1"
grep -q "no session 'nosuch'" <<<"$err" || fail "show nosuch: $err"
for args in "frobnicate" "st" "session add" "session add c listen" "session show" \
	"stats" "status extra"; do
	# shellcheck disable=SC2086 # one word per argument
	dk $args >/dev/null 2>&1
	rc=$?
	[ $rc -eq 2 ] || fail "'dtlskeep $args': exit $rc, want 2"
done

# --- who may do what -------------------------------------------------
err=$(as_nobody status 2>&1) && fail "nobody reached a 0660 socket"
grep -q 'Permission denied' <<<"$err" || fail "nobody: $err"
chmod 0666 "$ctl"
as_nobody status >/dev/null || fail "nobody may read once the socket allows"
as_nobody -j session show b >/dev/null || fail "nobody: show"
for args in "session add n listen 127.0.0.1:8875" "session del b" \
	"session set b mtu 1300" "stats reset" reload wan-changed; do
	# shellcheck disable=SC2086
	err=$(as_nobody $args 2>&1)
	rc=$?
	[ $rc -eq 1 ] || fail "nobody: '$args': exit $rc, want 1"
	grep -q 'permission denied.*(Operation not permitted)' <<<"$err" ||
		fail "nobody: '$args': $err"
done
up_within b 1 || fail "b disturbed by refused requests"
note "nobody: status and show allowed; add, del, set, stats reset, reload, wan-changed refused (EPERM)"

# --- delete ----------------------------------------------------------
dk session del b || fail "del b"
err=$(dk session show b 2>&1) && fail "b still there"
dk session list | grep -q '^b ' && fail "b still listed"
echo_ok 8873 && fail "deleted session still answers"
wait_log monitor 'b: session_deleted' 5 || fail "monitor: no session_deleted"
echo_ok 8871 || fail "session a stopped serving"
need "$(dk -j status)" malformed_requests 0 "status"

stop monitor
events=$(sed -n 's/^\[ *[0-9.]*\] b: \([a-z_]*\).*/\1/p' "$WD/monitor.log" | sort -u |
	paste -sd' ')
for e in session_added handshake_start full_handshake heartbeat_sent heartbeat_answered \
	session_changed resumed session_deleted; do
	grep -qw "$e" <<<"$events" || fail "monitor: no $e for b (saw: $events)"
done
note "monitor saw for b: $events"
exit 0
