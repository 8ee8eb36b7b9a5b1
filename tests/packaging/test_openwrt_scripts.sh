#!/bin/sh
# The procd init script and the iface hotplug script, run against stubs of
# what OpenWrt provides (rc.common's start/restart, /lib/functions.sh's
# config_*, network_get_device, procd_*, logger) with the real translator
# and the real `dtlskeepd -t`. Under busybox sh when installed, as on
# OpenWrt.
#   start: registers `dtlskeepd -c CONF -s DIR -S DIR/control`, respawn,
#     stderr to logd, the WAN device in the file for the bpf mode; a bad
#     configuration starts nothing and logs the UCI option at fault
#   reload: `dtlskeep reload` to a running agent, retried while it has
#     not opened its socket, its refusal logged; a bad change keeps it on
#     its last good file; a new state_dir, kernel_mode or WAN device
#     restarts it; a stopped agent is started, never asked or signalled
#   wan_event (the hotplug script's call): `dtlskeep wan-changed` to a
#     running agent for its WAN interfaces only; a restart when the WAN
#     device changed
#   hotplug: which netifd events reach wan_event
set -u

TOP=$(cd "$(dirname "$0")/../.." && pwd)
O=${O:-$TOP/build}
case $O in /*) ;; *) O=$TOP/$O ;; esac
FILES=$TOP/packaging/openwrt/dtlskeep/files
W=$(mktemp -d /tmp/dk-owrt.XXXXXX) || exit 1
trap 'rm -rf "$W"' EXIT
failed=0
cases=0
PIN=ed030ff467b7936424b70f1c5585d5b0b0b8ba6b696a1e45d304a4d90544eec2

[ -x "$O/dtlskeepd" ] || { echo "FAIL: $O/dtlskeepd not built"; exit 1; }

# OpenWrt's shell is busybox ash; bash stands in without busybox
SH="bash --posix"
command -v busybox >/dev/null 2>&1 && SH="busybox sh"

fail()
{
	echo "FAIL: $*"
	failed=$((failed + 1))
}

mkdir -p "$W/root/lib/functions" "$W/root/etc/init.d" "$W/var"

# /lib/functions.sh: configuration from $UCI_SHOW (`uci show` format)
cat >"$W/root/lib/functions.sh" <<'EOF'
# shellcheck shell=sh
_uci_val()
{
	_l=$(grep -F "dtlskeep.$1.$2=" "$UCI_SHOW" | head -n 1)
	[ -n "$_l" ] || return 1
	echo "${_l#*=}" | sed "s/^'//; s/'\$//; s/' '/ /g"
}
config_load() { [ "$1" = dtlskeep ]; }
config_get() { _v=$(_uci_val "$2" "$3") || _v=${4:-}; eval "$1=\$_v"; }
config_get_bool()
{
	config_get "$@"
	eval "_v=\$$1"
	case $_v in 1 | true | yes | on) _v=1 ;; *) _v=0 ;; esac
	eval "$1=\$_v"
}
config_foreach()
{
	for _s in $(sed -n "s/^dtlskeep\.\([^.=]*\)=$2\$/\1/p" "$UCI_SHOW"); do
		"$1" "$_s"
	done
}
list_contains()
{
	eval "_val=\" \${$1} \""
	[ "${_val%% $2 *}" != "$_val" ]
}
EOF
# network.sh: the device of logical interface IFACE is $NETDEV_IFACE
cat >"$W/root/lib/functions/network.sh" <<'EOF'
# shellcheck shell=sh
network_get_device() { eval "$1=\${NETDEV_$2:-}"; eval "[ -n \"\$$1\" ]"; }
EOF
# rc.common and procd.sh: the calls of interest go to $CALLS
cat >"$W/procd.sh" <<'EOF'
# shellcheck shell=sh
uci() { [ "$*" = "-q show dtlskeep" ] && cat "$UCI_SHOW"; }
logger() { echo "logger $*" >>"$CALLS"; }
procd_open_instance() { echo "procd_open_instance" >>"$CALLS"; }
procd_set_param() { echo "procd_set_param $*" >>"$CALLS"; }
procd_close_instance() { echo "procd_close_instance" >>"$CALLS"; }
procd_running() { [ "$RUNNING" = 1 ]; }
procd_send_signal() { echo "procd_send_signal $*" >>"$CALLS"; }
sleep() { echo "sleep $*" >>"$CALLS"; }
start() { echo "start" >>"$CALLS"; start_service; }
restart() { echo "restart" >>"$CALLS"; start_service; }
EOF

# the CLI: records its arguments; fails with $CLI_FAIL, or with "cannot
# connect" for its first $CLI_NO_SOCKET calls (the agent still starting)
cat >"$W/cli" <<'EOF'
#!/bin/sh
echo "cli $*" >>"$CALLS"
n=$(grep -c '^cli ' "$CALLS")
if [ "$n" -le "${CLI_NO_SOCKET:-0}" ]; then
	echo "dtlskeep: cannot connect to $2: No such file or directory (is dtlskeepd running?)" >&2
	exit 1
fi
[ -z "${CLI_FAIL:-}" ] && exit 0
echo "$CLI_FAIL" >&2
exit 1
EOF
chmod +x "$W/cli"

# show LINES...: the `uci show dtlskeep` the scripts see
show() { printf '%s\n' "$@" >"$W/uci"; }

STATE=$W/var/state
agent_good()
{
	show "dtlskeep.agent=agent" "dtlskeep.agent.state_dir='$STATE'" \
		"dtlskeep.dns=session" "dtlskeep.dns.listen='127.0.0.1:8853'" \
		"dtlskeep.dns.upstream='203.0.113.1:853'" "dtlskeep.dns.pin_sha256='$PIN'" "$@"
}

# init RUNNING FUNCTION [ARGS...]: one function of the init script, the
# agent running (1) or not (0) as procd would say; NETDEV_* pass through
init()
{
	running=$1
	shift
	: >"$W/calls"
	# shellcheck disable=SC2086,SC2016 # $SH is two words; $1... are the inner shell's
	UCI_SHOW=$W/uci CALLS=$W/calls RUNNING=$running IPKG_INSTROOT=$W/root $SH -c '
		w=$1 init=$2 prog=$3 tr=$4 cli=$5
		shift 5
		. "$w/root/lib/functions.sh"
		. "$w/procd.sh"
		. "$init"
		PROG=$prog
		CLI=$cli
		UCI2CONF=$tr
		CONF_DIR=$w/var/etc
		CONF=$CONF_DIR/dtlskeepd.conf
		DEFAULT_STATE_DIR=$w/var/run
		"$@"' _ "$W" "$FILES/dtlskeep.init" "$O/dtlskeepd" "$FILES/dtlskeep-uci2conf" "$W/cli" "$@" \
		>"$W/out" 2>&1
	rc=$?
	cases=$((cases + 1))
}

calls_have() { grep -qxF -- "$1" "$W/calls"; }
calls_lack() { ! grep -qF -- "$1" "$W/calls"; }
show_calls() { sed 's/^/    | /' "$W/calls" "$W/out"; }

CONF=$W/var/etc/dtlskeepd.conf
CMD="procd_set_param command $O/dtlskeepd -c $CONF -s $STATE -S $STATE/control"
export NETDEV_wan=eth1

# start: translated with the WAN device, checked, registered
agent_good
init 0 start_service
if [ "$rc" -ne 0 ] || ! calls_have "$CMD" || ! calls_have "procd_set_param respawn" ||
	! calls_have "procd_set_param stderr 1"; then
	fail "start: no instance '$CMD' with respawn and stderr (exit $rc)"
	show_calls
fi
"$FILES/dtlskeep-uci2conf" -w eth1 "$W/uci" | cmp -s - "$CONF" ||
	fail "start: $CONF is not the translation with -w eth1"
[ "$(stat -c %a "$W/var/etc")" = 700 ] || fail "start: $W/var/etc not mode 0700"
[ "$(stat -c %a "$STATE")" = 700 ] || fail "start: state directory not mode 0700"

# ctnetlink needs no WAN device: none looked up, none written
agent_good "dtlskeep.agent.kernel_mode='ctnetlink'"
init 0 start_service
grep -q wan_interface "$CONF" && fail "kernel_mode ctnetlink: a WAN device was written"
grep -q 'kernel_mode = "ctnetlink";' "$CONF" || fail "kernel_mode not written"

# the agent asked nothing, sent no signal
untouched() { calls_lack "procd_send_signal" && calls_lack "cli "; }
RELOAD="cli -s $STATE/control reload"

# reload, agent running, good change: new file, `dtlskeep reload`, no
# restart, never a signal
agent_good
init 0 start_service
agent_good "dtlskeep.dns.mtu='1280'"
init 1 reload_service
if [ "$rc" -ne 0 ] || ! calls_have "$RELOAD" || ! calls_lack start ||
	! calls_lack restart || ! calls_lack procd_send_signal; then
	fail "reload: expected '$RELOAD' and no (re)start, no signal (exit $rc)"
	show_calls
fi
grep -q 'mtu = 1280;' "$CONF" || fail "reload: $CONF not updated"
cp "$CONF" "$W/good.conf"

# reload while the agent has not opened its socket yet: asked again
export CLI_NO_SOCKET=2
init 1 reload_service
if [ "$rc" -ne 0 ] || [ "$(grep -c "^$RELOAD\$" "$W/calls")" -ne 3 ] ||
	[ "$(grep -c '^sleep ' "$W/calls")" -ne 2 ]; then
	fail "reload, socket not there yet: expected 3 tries, 2 pauses, success (exit $rc)"
	show_calls
fi
CLI_NO_SOCKET=9
init 1 reload_service
if [ "$rc" -eq 0 ] || [ "$(grep -c "^$RELOAD\$" "$W/calls")" -ne 5 ] ||
	calls_lack "logger -t dtlskeep -p daemon.err reload: cannot connect"; then
	fail "reload, no socket at all: expected 5 tries, then an error naming it (exit $rc)"
	show_calls
fi
unset CLI_NO_SOCKET
# the agent refuses: the reason is logged, the reload fails
export CLI_FAIL="dtlskeep: reload refused, configuration kept: $CONF:4: mtu: boom (Invalid argument)"
init 1 reload_service
unset CLI_FAIL
if [ "$rc" -eq 0 ] || [ "$(grep -c "^$RELOAD\$" "$W/calls")" -ne 1 ] ||
	calls_lack "daemon.err reload: reload refused, configuration kept: $CONF:4: mtu: boom"; then
	fail "reload refused by the agent: expected its reason logged and a failure (exit $rc)"
	show_calls
fi

# reload, running, bad changes: agent not asked, last good file kept,
# option named
agent_good "dtlskeep.dns.mtu='100'"
init 1 reload_service
if [ "$rc" -eq 0 ] || calls_lack "dtlskeep.dns.mtu: must be 576-9000" || ! untouched; then
	fail "reload of a bad mtu: expected a refusal naming dtlskeep.dns.mtu, agent untouched (exit $rc)"
	show_calls
fi
cmp -s "$CONF" "$W/good.conf" || fail "reload of a bad mtu replaced the running file"
agent_good "dtlskeep.dns.upstraem='x'"
init 1 reload_service
if [ "$rc" -eq 0 ] || calls_lack "dtlskeep.dns.upstraem: unknown option" || ! untouched; then
	fail "reload of an unknown option: expected a refusal naming it, agent untouched (exit $rc)"
	show_calls
fi
cmp -s "$CONF" "$W/good.conf" || fail "reload of an unknown option replaced the running file"

# reload, running: what the agent reads only at start restarts it
for change in "state_dir='$STATE-2'" "kernel_mode='ctnetlink'" "wan_interface='wwan'"; do
	agent_good
	init 0 start_service
	agent_good
	sed -i "/^dtlskeep\.agent\.${change%%=*}=/d" "$W/uci"
	echo "dtlskeep.agent.$change" >>"$W/uci"
	NETDEV_wwan=wwan0 init 1 reload_service
	if ! calls_have restart || ! untouched; then
		fail "reload with $change: expected a restart, agent not asked"
		show_calls
	fi
done
calls_have "$CMD" ||
	fail "restart after a new wan_interface: no instance"
grep -q 'wan_interface = "wwan0";' "$CONF" || fail "restart: WAN device wwan0 not written"

# reload, agent not running: start, the agent never asked or signalled
agent_good
init 0 reload_service
if ! calls_have start || ! untouched; then
	fail "reload while stopped: expected start, agent not asked"
	show_calls
fi

# every session switched off: no instance (procd stops a running agent)
show "dtlskeep.dns=session" "dtlskeep.dns.enabled='0'"
init 1 reload_service
if [ "$rc" -ne 0 ] || ! calls_lack "procd_open_instance" || ! untouched ||
	calls_lack "no enabled session"; then
	fail "no enabled session: expected no instance, agent not asked, a notice (exit $rc)"
	show_calls
fi

# the whole service switched off
agent_good "dtlskeep.agent.enabled='0'"
init 0 start_service
calls_lack "procd_open_instance" || fail "agent enabled=0: an instance was registered"

# a start with a bad file registers nothing and names the option
rm -f "$CONF"
agent_good "dtlskeep.dns.heartbeat='maybe'"
init 0 start_service
if [ "$rc" -eq 0 ] || ! calls_lack "procd_open_instance" || [ -e "$CONF" ] ||
	calls_lack "dtlskeep.dns.heartbeat: 'maybe': must be a boolean"; then
	fail "start with a bad boolean: expected no instance, no file, the option named (exit $rc)"
	show_calls
fi

# wan_event IFACE ACTION
WAN="cli -s $STATE/control wan-changed"
# expect_event RESULT DESCRIPTION RUNNING IFACE ACTION: RESULT is wan
# (`dtlskeep wan-changed`), restart or nothing; never a signal
expect_event()
{
	want=$1
	what=$2
	shift 2
	init "$1" wan_event "$2" "$3"
	case $want in
	wan) calls_have "$WAN" && calls_lack restart && calls_lack procd_send_signal ;;
	restart) calls_have restart && untouched ;;
	nothing) untouched && calls_lack restart ;;
	esac || {
		fail "wan_event $what: expected $want"
		show_calls
	}
}
agent_good
init 0 start_service
expect_event wan "wan ifup, same device" 1 wan ifup
expect_event wan "wan6 ifdown" 1 wan6 ifdown
expect_event wan "wan address change" 1 wan ifupdate
expect_event nothing "lan ifup" 1 lan ifup
expect_event nothing "agent not running" 0 wan ifup
NETDEV_wan=eth2 expect_event restart "wan ifup on another device" 1 wan ifup
agent_good "dtlskeep.agent.wan_interface='pppwan wwan'"
expect_event wan "configured wwan ifdown" 1 wwan ifdown
expect_event nothing "wan not configured" 1 wan ifup
agent_good "dtlskeep.agent.enabled='0'"
expect_event nothing "service switched off" 1 wan ifup

# hotplug: which netifd events become `dtlskeep wan_event IFACE ACTION`
cat >"$W/root/etc/init.d/dtlskeep" <<'EOF'
#!/bin/sh
echo "init.d $*" >>"$CALLS"
EOF
chmod +x "$W/root/etc/init.d/dtlskeep"
# expect_hotplug CALL|- ENV...
expect_hotplug()
{
	want=$1
	shift
	: >"$W/calls"
	# shellcheck disable=SC2086,SC2016 # $SH is two words; $1 is the inner shell's
	env -i PATH="$PATH" IPKG_INSTROOT="$W/root" CALLS="$W/calls" "$@" \
		$SH -c '. "$1"' _ "$FILES/dtlskeep.hotplug" >"$W/out" 2>&1
	cases=$((cases + 1))
	if [ "$want" = - ] && [ -s "$W/calls" ]; then
		fail "hotplug $*: unexpected call"
		show_calls
	elif [ "$want" != - ] && ! calls_have "init.d $want"; then
		fail "hotplug $*: expected init.d $want"
		show_calls
	fi
}
expect_hotplug "wan_event wan ifup" ACTION=ifup INTERFACE=wan DEVICE=eth1
expect_hotplug "wan_event wan6 ifdown" ACTION=ifdown INTERFACE=wan6
expect_hotplug "wan_event wan ifupdate" ACTION=ifupdate INTERFACE=wan IFUPDATE_ADDRESSES=1
expect_hotplug - ACTION=ifupdate INTERFACE=wan IFUPDATE_ROUTES=1
expect_hotplug - ACTION=ifup-failed INTERFACE=wan
expect_hotplug - ACTION=add INTERFACE=wan

[ "$failed" -eq 0 ] || exit 1
echo "  $cases init, wan_event and hotplug cases under $SH"
exit 0
